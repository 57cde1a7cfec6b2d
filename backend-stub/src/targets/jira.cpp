// Jira Cloud request builders and answer parsers.
#include "targets/jira.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "targets/detail/adf.hpp"
#include "targets/detail/http_text.hpp"
#include "targets/detail/named_project_tracker.hpp"

namespace warden::sink {
namespace {

using detail::json_text;
using detail::json_writer;
using detail::string_member;
using detail::write_member;
using detail::write_string;

constexpr std::string_view kTracker = "Jira";

// The longest summary Jira takes, in characters (we count bytes: never more).
constexpr std::size_t kMaxJiraSummaryBytes = 255;

// The fields a create request sets itself, which config fields may not name.
constexpr std::array<std::string_view, 4> kBuiltInFields{"project", "issuetype", "summary",
                                                         "description"};

// The label that marks the ticket of `incident_key`: the key with its colons as dashes,
// "wd-" in front unless it starts so.
std::string incident_label(std::string_view incident_key) {
  std::string label(incident_key);
  std::replace(label.begin(), label.end(), ':', '-');
  return label.rfind("wd-", 0) == 0 ? label : "wd-" + label;
}

// Writes `name`: {`key`: value}.
void write_reference(json_writer& out, std::string_view name, std::string_view key,
                     std::string_view value) {
  write_string(out, name);
  out.StartObject();
  write_member(out, key, value);
  out.EndObject();
}

void write_adf(json_writer& out, std::string_view key, std::string_view markdown) {
  write_string(out, key);
  const std::string adf = detail::markdown_to_adf(markdown);
  out.RawValue(adf.data(), adf.size(), rapidjson::kObjectType);
}

// Writes the field `field` with the non-empty value `value` the way its type says;
// InvalidArgument for an unknown type or a number that is none.
absl::Status write_field(json_writer& out, const custom_field_config& field,
                         const std::string& value) {
  const std::string_view type = field.type;
  if (type == "string") {
    write_member(out, field.name, value);
  } else if (type == "number") {
    const absl::string_view text(value.data(), value.size());
    std::int64_t integer = 0;
    double number = 0;
    if (absl::SimpleAtoi(text, &integer)) {
      write_string(out, field.name);
      out.Int64(integer);
    } else if (absl::SimpleAtod(text, &number) && std::isfinite(number)) {
      write_string(out, field.name);
      out.Double(number);
    } else {
      return absl::InvalidArgumentError(
          fmt::format("custom field \"{}\": \"{}\" is not a number", field.name, value));
    }
  } else if (type == "option" || type == "name" || type == "id" || type == "user") {
    const std::string_view key = type == "option" ? "value" : type == "user" ? "accountId" : type;
    write_reference(out, field.name, key, value);
  } else if (type == "labels" || type == "components") {
    const std::vector<std::string> items = detail::split_list(value);
    if (items.empty()) return absl::OkStatus();
    if (type == "labels") {
      detail::write_string_array(out, field.name, items);
      return absl::OkStatus();
    }
    write_string(out, field.name);
    out.StartArray();
    for (const std::string& item : items) {
      out.StartObject();
      write_member(out, "name", item);
      out.EndObject();
    }
    out.EndArray();
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "custom field \"{}\" has the type \"{}\", which Jira fields do not have (string, "
        "number, option, name, id, user, labels, components)",
        field.name, field.type));
  }
  return absl::OkStatus();
}

// The tracker's fields with the owner's merged in: the same name replaces, a new one is
// appended.
std::vector<custom_field_config> merged_fields(const jira_config& config,
                                               const std::vector<custom_field_config>& owner) {
  std::vector<custom_field_config> fields = config.fields;
  for (const custom_field_config& field : owner) {
    const auto same =
        std::find_if(fields.begin(), fields.end(),
                     [&](const custom_field_config& each) { return each.name == field.name; });
    if (same == fields.end()) {
      fields.push_back(field);
    } else {
      *same = field;
    }
  }
  return fields;
}

class jira_api final : public detail::named_project_tracker {
 public:
  explicit jira_api(jira_config config) : config_(std::move(config)) {}

  const std::vector<std::string>& priorities() const override { return config_.priority; }

  absl::StatusOr<http_request> create_ticket(const tracker_call& /*call*/, std::string_view project,
                                             const std::vector<custom_field_config>& owner_fields,
                                             const ticket_content& content,
                                             const template_values& values) const override {
    std::vector<std::string> labels{"warden", incident_label(content.incident_key)};
    rapidjson::StringBuffer buffer;
    json_writer out(buffer);
    out.StartObject();
    write_string(out, "fields");
    out.StartObject();
    write_reference(out, "project", "key", project);
    write_reference(out, "issuetype", "name", config_.issue_type);
    write_member(out, "summary", truncate_utf8(content.summary, kMaxJiraSummaryBytes));
    write_adf(out, "description", content.description);
    for (const custom_field_config& field : merged_fields(config_, owner_fields)) {
      if (std::find(kBuiltInFields.begin(), kBuiltInFields.end(), field.name) !=
          kBuiltInFields.end()) {
        return absl::InvalidArgumentError(
            fmt::format("custom field \"{}\": Warden sets that field itself", field.name));
      }
      absl::StatusOr<std::string> value = detail::expand_field(field, values);
      if (!value.ok()) return value.status();
      if (field.name == "labels") {
        for (std::string& label : detail::split_list(*value)) {
          detail::add_unique(labels, std::move(label));
        }
      } else if (!value->empty()) {
        if (absl::Status written = write_field(out, field, *value); !written.ok()) return written;
      }
    }
    detail::write_string_array(out, "labels", labels);
    out.EndObject();
    out.EndObject();
    return request("POST", "/rest/api/3/issue", json_text(buffer));
  }

  absl::StatusOr<created_ticket> parse_created(const ticket_content& /*content*/,
                                               const http_response& response) const override {
    return detail::created_ticket_in(
        response.body, kTracker, "id and key",
        [this](const rapidjson::Value& issue) { return ticket_of(issue); });
  }

  std::optional<http_request> search_ticket(std::string_view project,
                                            const ticket_content& content) const override {
    const std::string jql = fmt::format("project = \"{}\" AND labels = \"{}\"", project,
                                        incident_label(content.incident_key));
    return request("GET",
                   fmt::format("/rest/api/3/search/jql?jql={}&fields=summary,labels&maxResults=5",
                               detail::url_encode(jql)),
                   "");
  }

  absl::StatusOr<std::optional<created_ticket>> parse_search(
      std::string_view body, const ticket_content& content) const override {
    const std::string label = incident_label(content.incident_key);
    return detail::first_search_hit(
        body, "issues", kTracker,
        [&](const rapidjson::Value& issue) -> std::optional<created_ticket> {
          if (!has_label(issue, label)) return std::nullopt;
          return ticket_of(issue);
        });
  }

  std::vector<http_request> resolve(const tracker_call& call, const created_ticket& ticket,
                                    std::string_view comment_text) const override {
    return transition(call, ticket, config_.resolve_transition, comment_text);
  }

  std::vector<http_request> reopen(const tracker_call& call, const created_ticket& ticket,
                                   std::string_view comment_text) const override {
    return transition(call, ticket, config_.reopen_transition, comment_text);
  }

  http_request comment(const tracker_call& /*call*/, const created_ticket& ticket,
                       std::string_view text) const override {
    return request("POST", issue_path(ticket) + "/comment",
                   detail::json_object([&](json_writer& out) { write_adf(out, "body", text); }));
  }

  std::string error_message(const http_response& response) const override {
    rapidjson::Document error;
    error.Parse(response.body.data(), response.body.size());
    std::vector<std::string> details;
    if (error.IsObject()) {
      const auto messages = error.FindMember("errorMessages");
      if (messages != error.MemberEnd() && messages->value.IsArray()) {
        for (const rapidjson::Value& message : messages->value.GetArray()) {
          if (message.IsString())
            details.emplace_back(message.GetString(), message.GetStringLength());
        }
      }
      const auto fields = error.FindMember("errors");
      if (fields != error.MemberEnd() && fields->value.IsObject()) {
        for (const auto& field : fields->value.GetObject()) {
          if (!field.value.IsString()) continue;
          details.push_back(fmt::format("{}: {}", field.name.GetString(), field.value.GetString()));
        }
      }
    }
    if (response.status == 0 || details.empty()) {
      return detail::generic_error_message(response, kTracker);
    }
    return detail::excerpt(fmt::format("HTTP {}: {}", response.status, fmt::join(details, "; ")),
                           1000);
  }

 private:
  http_request request(std::string method, std::string_view path_and_query,
                       std::string body) const {
    const std::string authorization =
        config_.email.empty()
            ? "Bearer " + config_.token.reveal()
            : "Basic " + absl::Base64Escape(config_.email + ":" + config_.token.reveal());
    return detail::json_request(
        std::move(method), detail::base_url(config_.url) + std::string(path_and_query),
        {{"Authorization", authorization}, {"Accept", "application/json"}}, std::move(body));
  }

  static std::string issue_path(const created_ticket& ticket) {
    return "/rest/api/3/issue/" + detail::url_encode(ticket.key);
  }

  // The ticket of an issue object: id, key, url {url}/browse/{key}; nullopt without id
  // or key.
  std::optional<created_ticket> ticket_of(const rapidjson::Value& issue) const {
    const std::string_view id = string_member(issue, "id");
    const std::string_view key = string_member(issue, "key");
    if (id.empty() || key.empty()) return std::nullopt;
    return created_ticket{std::string(id), std::string(key),
                          fmt::format("{}/browse/{}", detail::base_url(config_.url), key)};
  }

  // Whether the search answer's `issue` has `label` in fields.labels.
  static bool has_label(const rapidjson::Value& issue, std::string_view label) {
    if (!issue.IsObject()) return false;
    const auto fields = issue.FindMember("fields");
    if (fields == issue.MemberEnd() || !fields->value.IsObject()) return false;
    const auto labels = fields->value.FindMember("labels");
    if (labels == fields->value.MemberEnd() || !labels->value.IsArray()) return false;
    return std::any_of(labels->value.Begin(), labels->value.End(),
                       [&](const rapidjson::Value& each) {
                         return each.IsString() &&
                                std::string_view(each.GetString(), each.GetStringLength()) == label;
                       });
  }

  // The transition `transition_id` with `comment_text` as one request (a comment alone
  // without a transition; nothing when both are empty).
  std::vector<http_request> transition(const tracker_call& call, const created_ticket& ticket,
                                       std::string_view transition_id,
                                       std::string_view comment_text) const {
    if (transition_id.empty()) {
      if (comment_text.empty()) return {};
      return {comment(call, ticket, comment_text)};
    }
    std::string body = detail::json_object([&](json_writer& out) {
      write_reference(out, "transition", "id", transition_id);
      if (comment_text.empty()) return;
      write_string(out, "update");
      out.StartObject();
      write_string(out, "comment");
      out.StartArray();
      out.StartObject();
      write_string(out, "add");
      out.StartObject();
      write_adf(out, "body", comment_text);
      out.EndObject();
      out.EndObject();
      out.EndArray();
      out.EndObject();
    });
    return {request("POST", issue_path(ticket) + "/transitions", std::move(body))};
  }

  const jira_config config_;
};

}  // namespace

std::unique_ptr<tracker_api> jira_tracker_api(const jira_config& config) {
  return std::make_unique<jira_api>(config);
}

}  // namespace warden::sink

// GitHub Issues request builders and answer parsers.
#include "targets/github.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "targets/detail/http_text.hpp"
#include "targets/detail/named_project_tracker.hpp"

namespace warden::sink {
namespace {

using detail::json_writer;
using detail::string_member;

constexpr std::string_view kTracker = "GitHub";

// The longest issue body GitHub takes, in characters (we count bytes: never more).
constexpr std::size_t kMaxBodyBytes = 65536;

// The hidden line of a ticket's body that the reconcile search looks for.
std::string incident_marker(std::string_view incident_key) {
  return fmt::format("<!-- warden-incident-key: {} -->", incident_key);
}

// Whether `body` has `marker` as a line of its own.
bool has_marker_line(std::string_view body, std::string_view marker) {
  for (std::size_t at = body.find(marker); at != std::string_view::npos;
       at = body.find(marker, at + 1)) {
    const std::size_t end = at + marker.size();
    const bool starts_line = at == 0 || body[at - 1] == '\n';
    const bool ends_line = end == body.size() || body[end] == '\n' || body[end] == '\r';
    if (starts_line && ends_line) return true;
  }
  return false;
}

// "owner/repo" as a URL path, each part percent-encoded; "" when `repo` is not of that form.
std::string repo_path(std::string_view repo) {
  const std::size_t slash = repo.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == repo.size() ||
      repo.find('/', slash + 1) != std::string_view::npos) {
    return {};
  }
  return detail::url_encode(repo.substr(0, slash)) + "/" +
         detail::url_encode(repo.substr(slash + 1));
}

// The ticket of an issue object (a create answer, a search item): id "<number>", key
// "owner/repo#<number>" (the repository from repository_url, ".../repos/owner/repo"),
// url html_url; nullopt when one of them is missing.
std::optional<created_ticket> ticket_of(const rapidjson::Value& issue) {
  if (!issue.IsObject()) return std::nullopt;
  const auto number = issue.FindMember("number");
  if (number == issue.MemberEnd() || !number->value.IsUint64()) return std::nullopt;
  const std::string_view html_url = string_member(issue, "html_url");
  const std::string_view repository_url = string_member(issue, "repository_url");
  constexpr std::string_view kRepos = "/repos/";
  const std::size_t repos = repository_url.rfind(kRepos);
  if (html_url.empty() || repos == std::string_view::npos) return std::nullopt;
  const std::string_view repo = repository_url.substr(repos + kRepos.size());
  if (repo_path(repo).empty()) return std::nullopt;
  const std::string id = std::to_string(number->value.GetUint64());
  return created_ticket{id, fmt::format("{}#{}", repo, id), std::string(html_url)};
}

// What a create request sets besides title and body.
struct issue_fields {
  std::vector<std::string> labels;
  std::vector<std::string> assignees;
  std::optional<std::int64_t> milestone;
};

class github_api final : public detail::named_project_tracker {
 public:
  explicit github_api(github_config config) : config_(std::move(config)) {}

  const std::vector<std::string>& priorities() const override { return no_priorities_; }

  absl::StatusOr<http_request> create_ticket(const tracker_call& /*call*/, std::string_view project,
                                             const std::vector<custom_field_config>& owner_fields,
                                             const ticket_content& content,
                                             const template_values& values) const override {
    const std::string path = repo_path(project);
    if (path.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("GitHub project \"{}\" is not a repository, owner/name", project));
    }
    absl::StatusOr<issue_fields> fields = fields_of(owner_fields, values);
    if (!fields.ok()) return fields.status();
    const std::string marker = "\n\n" + incident_marker(content.incident_key);

    std::string body = detail::json_object([&](json_writer& out) {
      detail::write_member(out, "title", content.summary);
      detail::write_member(
          out, "body", truncate_utf8(content.description, kMaxBodyBytes - marker.size()) + marker);
      if (!fields->labels.empty()) detail::write_string_array(out, "labels", fields->labels);
      if (!fields->assignees.empty()) {
        detail::write_string_array(out, "assignees", fields->assignees);
      }
      if (fields->milestone) {
        detail::write_string(out, "milestone");
        out.Int64(*fields->milestone);
      }
    });
    return request("POST", fmt::format("/repos/{}/issues", path), std::move(body));
  }

  absl::StatusOr<created_ticket> parse_created(const ticket_content& /*content*/,
                                               const http_response& response) const override {
    return detail::created_ticket_in(response.body, kTracker, "number, html_url and repository_url",
                                     ticket_of);
  }

  std::optional<http_request> search_ticket(std::string_view project,
                                            const ticket_content& content) const override {
    const std::string query =
        fmt::format("repo:{} is:issue in:body \"{}\"", project, content.incident_key);
    return request("GET", "/search/issues?q=" + detail::url_encode(query), "");
  }

  absl::StatusOr<std::optional<created_ticket>> parse_search(
      std::string_view body, const ticket_content& content) const override {
    const std::string marker = incident_marker(content.incident_key);
    return detail::first_search_hit(
        body, "items", kTracker,
        [&](const rapidjson::Value& item) -> std::optional<created_ticket> {
          if (!has_marker_line(string_member(item, "body"), marker)) return std::nullopt;
          return ticket_of(item);
        });
  }

  std::vector<http_request> resolve(const tracker_call& call, const created_ticket& ticket,
                                    std::string_view comment_text) const override {
    return change_state(call, ticket, R"({"state":"closed","state_reason":"completed"})",
                        comment_text);
  }

  std::vector<http_request> reopen(const tracker_call& call, const created_ticket& ticket,
                                   std::string_view comment_text) const override {
    return change_state(call, ticket, R"({"state":"open"})", comment_text);
  }

  http_request comment(const tracker_call& /*call*/, const created_ticket& ticket,
                       std::string_view text) const override {
    return request(
        "POST", issue_path(ticket) + "/comments",
        detail::json_object([&](json_writer& out) { detail::write_member(out, "body", text); }));
  }

  std::string error_message(const http_response& response) const override {
    rapidjson::Document error;
    error.Parse(response.body.data(), response.body.size());
    const std::string_view message = string_member(error, "message");
    if (response.status == 0 || message.empty()) {
      return detail::generic_error_message(response, kTracker);
    }
    std::vector<std::string> details;
    const auto errors = error.FindMember("errors");
    if (errors != error.MemberEnd() && errors->value.IsArray()) {
      for (const rapidjson::Value& each : errors->value.GetArray()) {
        if (each.IsString()) {
          details.emplace_back(each.GetString(), each.GetStringLength());
        } else if (const std::string_view text = string_member(each, "message"); !text.empty()) {
          details.emplace_back(text);
        } else {
          details.push_back(
              fmt::format("{} {}", string_member(each, "field"), string_member(each, "code")));
        }
      }
    }
    std::string line = fmt::format("HTTP {} {}", response.status, message);
    if (!details.empty()) line += fmt::format(": {}", fmt::join(details, "; "));
    return detail::excerpt(line, 1000);
  }

 private:
  http_request request(std::string method, std::string_view path_and_query,
                       std::string body) const {
    return detail::json_request(std::move(method),
                                detail::base_url(config_.url) + std::string(path_and_query),
                                {{"Authorization", "Bearer " + config_.token.reveal()},
                                 {"Accept", "application/vnd.github+json"},
                                 {"X-GitHub-Api-Version", "2022-11-28"}},
                                std::move(body));
  }

  // "/repos/owner/repo/issues/N" of a ticket this API created: the repository from its
  // key "owner/repo#N", the number from its id.
  static std::string issue_path(const created_ticket& ticket) {
    const std::string_view key = ticket.key;
    const std::string_view repo = key.substr(0, key.rfind('#'));
    return fmt::format("/repos/{}/issues/{}", repo_path(repo), detail::url_encode(ticket.id));
  }

  // PATCH the issue's state with `state_json`, then say `comment_text` (when there is
  // one): a repeated PATCH changes nothing, a repeated comment would show twice.
  std::vector<http_request> change_state(const tracker_call& call, const created_ticket& ticket,
                                         std::string state_json,
                                         std::string_view comment_text) const {
    std::vector<http_request> requests{request("PATCH", issue_path(ticket), std::move(state_json))};
    if (!comment_text.empty()) requests.push_back(comment(call, ticket, comment_text));
    return requests;
  }

  // config.labels then the owner's fields, expanded: labels and assignees without
  // duplicates or empty ones, the milestone's number.
  absl::StatusOr<issue_fields> fields_of(const std::vector<custom_field_config>& owner_fields,
                                         const template_values& values) const {
    issue_fields fields;
    for (const std::string& label : config_.labels) {
      absl::StatusOr<std::string> value = expand_template(label, values);
      if (!value.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("label \"{}\": {}", label, std::string(value.status().message())));
      }
      detail::add_unique(fields.labels, *std::move(value));
    }
    for (const custom_field_config& field : owner_fields) {
      absl::StatusOr<std::string> value = detail::expand_field(field, values);
      if (!value.ok()) return value.status();
      if (field.type == "label") {
        detail::add_unique(fields.labels, *std::move(value));
      } else if (field.type == "assignee") {
        for (std::string& login : detail::split_list(*value)) {
          detail::add_unique(fields.assignees, std::move(login));
        }
      } else if (field.type == "milestone") {
        if (value->empty()) continue;
        std::int64_t number = 0;
        if (!absl::SimpleAtoi(absl::string_view(value->data(), value->size()), &number) ||
            number <= 0) {
          return absl::InvalidArgumentError(fmt::format(
              "custom field \"{}\": the milestone \"{}\" is not a number", field.name, *value));
        }
        fields.milestone = number;
      } else {
        return absl::InvalidArgumentError(
            fmt::format("custom field \"{}\" has the type \"{}\", which GitHub does not know "
                        "(label, assignee, milestone)",
                        field.name, field.type));
      }
    }
    return fields;
  }

  const github_config config_;
  const std::vector<std::string> no_priorities_;
};

}  // namespace

std::unique_ptr<tracker_api> github_tracker_api(const github_config& config) {
  return std::make_unique<github_api>(config);
}

}  // namespace warden::sink

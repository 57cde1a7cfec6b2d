// Webhook tracker events, signed the Standard Webhooks way.
#include "targets/webhook_tracker.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "targets/detail/http_text.hpp"
#include "targets/detail/named_project_tracker.hpp"
#include "targets/detail/standard_webhook.hpp"

namespace warden::sink {
namespace {

using detail::json_writer;
using detail::string_member;
using detail::write_member;
using detail::write_string;

void write_ticket(json_writer& out, const created_ticket& ticket) {
  write_string(out, "ticket");
  out.StartObject();
  write_member(out, "id", ticket.id);
  write_member(out, "key", ticket.key);
  write_member(out, "url", ticket.url);
  out.EndObject();
}

class webhook_tracker final : public detail::named_project_tracker {
 public:
  explicit webhook_tracker(webhook_tracker_config config) : config_(std::move(config)) {}

  const std::vector<std::string>& priorities() const override { return no_priorities_; }

  absl::StatusOr<http_request> create_ticket(const tracker_call& call, std::string_view project,
                                             const std::vector<custom_field_config>& owner_fields,
                                             const ticket_content& content,
                                             const template_values& values) const override {
    std::vector<std::pair<std::string, std::string>> custom_fields;
    for (const custom_field_config& field : owner_fields) {
      absl::StatusOr<std::string> value = detail::expand_field(field, values);
      if (!value.ok()) return value.status();
      if (!value->empty()) custom_fields.emplace_back(field.name, *std::move(value));
    }
    std::string body =
        detail::standard_webhook_body("ticket.create", call.unix_seconds, [&](json_writer& out) {
          out.StartObject();
          write_member(out, "project", project);
          write_member(out, "incident_key", content.incident_key);
          write_member(out, "summary", content.summary);
          write_member(out, "description", content.description);
          write_string(out, "fields");
          out.StartObject();
          for (const std::string_view name : kTemplateVariables) {
            // incident_key and project are the event's own members.
            if (name == "incident_key" || name == "project") continue;
            write_member(out, name, *expand_template(fmt::format("{{{}}}", name), values));
          }
          out.EndObject();
          write_string(out, "custom_fields");
          out.StartObject();
          for (const auto& [name, value] : custom_fields) write_member(out, name, value);
          out.EndObject();
          out.EndObject();
        });
    return detail::standard_webhook_request(config_.url, config_.secrets, call.idempotency_key,
                                            call.unix_seconds, std::move(body));
  }

  absl::StatusOr<created_ticket> parse_created(const ticket_content& content,
                                               const http_response& response) const override {
    rapidjson::Document answer;
    answer.Parse(response.body.data(), response.body.size());
    const std::string_view key = answer.HasParseError() ? "" : string_member(answer, "key");
    if (key.empty()) return created_ticket{content.incident_key, content.incident_key, ""};
    const std::string_view id = string_member(answer, "id");
    return created_ticket{std::string(id.empty() ? key : id), std::string(key),
                          std::string(string_member(answer, "url"))};
  }

  std::optional<http_request> search_ticket(std::string_view /*project*/,
                                            const ticket_content& /*content*/) const override {
    return std::nullopt;
  }

  absl::StatusOr<std::optional<created_ticket>> parse_search(
      std::string_view /*body*/, const ticket_content& /*content*/) const override {
    return std::nullopt;
  }

  std::vector<http_request> resolve(const tracker_call& call, const created_ticket& ticket,
                                    std::string_view comment_text) const override {
    return {follow_up(call, "ticket.resolve", ticket, "comment", comment_text)};
  }

  std::vector<http_request> reopen(const tracker_call& call, const created_ticket& ticket,
                                   std::string_view comment_text) const override {
    return {follow_up(call, "ticket.reopen", ticket, "comment", comment_text)};
  }

  http_request comment(const tracker_call& call, const created_ticket& ticket,
                       std::string_view text) const override {
    return follow_up(call, "ticket.comment", ticket, "text", text);
  }

  std::string error_message(const http_response& response) const override {
    return detail::generic_error_message(response, "the webhook");
  }

 private:
  // The `type` event about `ticket` with `text` as `text_key` (left out when empty).
  // Should signing fail (the config check refuses unusable secrets), the event goes
  // unsigned, for the receiver to refuse and the delivery log to show.
  http_request follow_up(const tracker_call& call, std::string_view type,
                         const created_ticket& ticket, std::string_view text_key,
                         std::string_view text) const {
    std::string body =
        detail::standard_webhook_body(type, call.unix_seconds, [&](json_writer& out) {
          out.StartObject();
          write_ticket(out, ticket);
          if (!text.empty()) write_member(out, text_key, text);
          out.EndObject();
        });
    absl::StatusOr<http_request> request = detail::standard_webhook_request(
        config_.url, config_.secrets, call.idempotency_key, call.unix_seconds, body);
    if (request.ok()) return *std::move(request);
    return detail::json_request("POST", config_.url, {}, std::move(body));
  }

  const webhook_tracker_config config_;
  const std::vector<std::string> no_priorities_;
};

}  // namespace

std::unique_ptr<tracker_api> webhook_tracker_api(const webhook_tracker_config& config) {
  return std::make_unique<webhook_tracker>(config);
}

}  // namespace warden::sink

// A tracker's REST API as the outbox uses it, whatever the tracker: the requests that
// create a ticket (after looking its project up, where the tracker needs that), search
// for one whose creation answer was lost, comment on it, resolve and reopen it, and the
// readers of the answers. Implementations are pure builders and parsers (youtrack.hpp,
// github.hpp, jira.hpp, webhook_tracker.hpp); the delivery worker sends the requests,
// logs each exchange and keeps the outcome in SQLite.
//
//   std::unique_ptr<tracker_api> api = make_tracker_api(config);
//   std::string project = "PAY";
//   if (std::optional<http_request> lookup = api->project_lookup("PAY")) {
//     project = *api->parse_project_lookup(client.send(*lookup).body, "PAY");  // "0-12"
//   }
//   tracker_call call{"ticket:42", unix_now};
//   absl::StatusOr<http_request> create = api->create_ticket(call, project, owner_fields,
//                                                            content, values);
//   absl::StatusOr<created_ticket> ticket = api->parse_created(client.send(*create));
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/alerting_config.hpp"
#include "targets/http.hpp"
#include "targets/ticket.hpp"
#include "targets/ticket_text.hpp"

namespace warden::sink {

/// What every request of one delivery attempt shares.
struct tracker_call {
  /// The outbox row's idempotency key ("ticket:42", "resolve:42:3"): the same on every
  /// attempt, so that a receiver able to deduplicate (a generic webhook) can.
  std::string idempotency_key;
  std::int64_t unix_seconds = 0;  ///< This attempt's time (signatures, timestamps).
};

/// One tracker's requests and answers. Every method is const and thread-safe.
class tracker_api {
 public:
  virtual ~tracker_api() = default;

  /// The tracker's priority name per level (index: event_level), the "{priority}" of
  /// templates; empty when it has none.
  [[nodiscard]] virtual const std::vector<std::string>& priorities() const = 0;

  /// The request that turns a project as the config names it ("PAY") into what
  /// create_ticket() needs (YouTrack's entity id "0-12"), or nullopt when the name is
  /// used as it is. The worker caches the answer per tracker and project.
  [[nodiscard]] virtual std::optional<http_request> project_lookup(
      std::string_view project) const = 0;
  /// The project reference in the answer to project_lookup(); NotFound when the answer
  /// does not list it.
  [[nodiscard]] virtual absl::StatusOr<std::string> parse_project_lookup(
      std::string_view body, std::string_view project) const = 0;

  /// The request creating a ticket with `content` in `project` (the reference
  /// project_lookup() gave, else the config's name), with the tracker's fields, then
  /// `owner_fields` (the escalation owner's; one of the same name replaces the
  /// tracker's), expanded with `values`. InvalidArgument for a field or template the
  /// tracker cannot write.
  [[nodiscard]] virtual absl::StatusOr<http_request> create_ticket(
      const tracker_call& call, std::string_view project,
      const std::vector<custom_field_config>& owner_fields, const ticket_content& content,
      const template_values& values) const = 0;
  /// The ticket in a 2xx answer to create_ticket(); InvalidArgument when the answer
  /// cannot be read (it may have been created: the worker searches before retrying).
  [[nodiscard]] virtual absl::StatusOr<created_ticket> parse_created(
      const ticket_content& content, const http_response& response) const = 0;

  /// The request looking for a ticket of `content` created before in `project` (the
  /// config's name), or nullopt when the tracker cannot be searched (the receiver then
  /// deduplicates by the idempotency key).
  [[nodiscard]] virtual std::optional<http_request> search_ticket(
      std::string_view project, const ticket_content& content) const = 0;
  /// The ticket of `content` in the answer to search_ticket(), if any; InvalidArgument
  /// when the answer cannot be read.
  [[nodiscard]] virtual absl::StatusOr<std::optional<created_ticket>> parse_search(
      std::string_view body, const ticket_content& content) const = 0;

  /// The requests, in order, that resolve the ticket and say `comment`; those that can be
  /// repeated harmlessly come first, so that a retry after a failed step repeats no
  /// comment that was posted.
  [[nodiscard]] virtual std::vector<http_request> resolve(const tracker_call& call,
                                                          const created_ticket& ticket,
                                                          std::string_view comment) const = 0;
  /// The same for reopening the ticket.
  [[nodiscard]] virtual std::vector<http_request> reopen(const tracker_call& call,
                                                         const created_ticket& ticket,
                                                         std::string_view comment) const = 0;
  /// The request adding the Markdown comment `text` to the ticket.
  [[nodiscard]] virtual http_request comment(const tracker_call& call, const created_ticket& ticket,
                                             std::string_view text) const = 0;

  /// One readable line saying why the tracker refused a request, for the delivery log:
  /// its error body summarised, else the status and the first 200 bytes of the body, or
  /// the transport error when there was no answer.
  [[nodiscard]] virtual std::string error_message(const http_response& response) const = 0;
};

/// The API of the tracker `config` describes (of its type).
[[nodiscard]] std::unique_ptr<tracker_api> make_tracker_api(const tracker_config& config);

}  // namespace warden::sink

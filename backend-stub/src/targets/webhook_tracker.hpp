// A generic JSON webhook standing in for a tracker: Warden posts ticket.create,
// ticket.comment, ticket.resolve and ticket.reopen events, signed the Standard Webhooks
// way as webhook.hpp's notifications are, to one URL. Pure builders and parsers behind
// tracker.hpp's interface; the delivery worker sends the requests.
//
//   std::unique_ptr<tracker_api> hook = webhook_tracker_api(tracker.webhook);
//   absl::StatusOr<http_request> create =
//       hook->create_ticket({"ticket:42", unix_now}, "payments", owner.fields, content, values);
//   absl::StatusOr<created_ticket> ticket = hook->parse_created(content, answer);
//
// The body, {"type", "timestamp" (UTC ISO-8601 of the call's time), "data"}:
//
//   ticket.create   data: {"project", "incident_key", "summary", "description" (Markdown),
//                          "fields": {"team", "function", "product", "level", "severity",
//                                     "priority", "environment", "release", "issue_id",
//                                     "title", "culprit", "rule"},
//                          "custom_fields": {<owner field name>: <expanded value>}}
//   ticket.comment  data: {"ticket": {"id", "key", "url"}, "text"}
//   ticket.resolve, ticket.reopen
//                   data: {"ticket": {"id", "key", "url"}, "comment" (when there is one)}
//
// Headers: webhook-id and Idempotency-Key (the call's idempotency key, the same on every
// attempt: the receiver drops duplicates, there being no search), webhook-timestamp,
// webhook-signature, Content-Type: application/json, User-Agent: warden-sink. A create
// answered with a JSON object holding a string "key" (and optionally "id" and "url") has
// made that ticket; any other 2xx answer one whose id and key are the incident key.
#pragma once

#include <memory>

#include "server/alerting_config.hpp"
#include "targets/tracker.hpp"

namespace warden::sink {

/// The webhook tracker of `config`; the API keeps a copy of the config.
[[nodiscard]] std::unique_ptr<tracker_api> webhook_tracker_api(
    const webhook_tracker_config& config);

}  // namespace warden::sink

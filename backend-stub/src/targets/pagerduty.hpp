// PagerDuty's Events API v2 as the outbox uses it: one trigger per issue under a dedup
// key that is the issue's for good, the resolve of that key, and what PagerDuty's
// answers mean. Pure: the delivery worker sends the http_request. Shapes follow
// tests/fixtures/webhooks/outbound/pagerduty_*.json (docs/ALERTING-PLAN.md §4.5).
//
//   const std::string dedup_key = pagerduty_dedup_key(issue.issue);  // kept with the alert
//   absl::StatusOr<http_request> trigger = pagerduty_trigger(receiver.pagerduty, issue);
//   receiver_verdict verdict = pagerduty_answer(client.send(*trigger));
//   ...
//   http_request resolve = pagerduty_resolve(receiver.pagerduty, dedup_key);
//
// No auth header: the routing key is in the body, the only place it appears. Requests
// carry `Content-Type: application/json` and `User-Agent: warden-sink`.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/alerting_config.hpp"
#include "targets/http.hpp"
#include "targets/notification.hpp"
#include "targets/ticket.hpp"

namespace warden::sink {

/// PagerDuty's longest dedup key.
inline constexpr std::size_t kPagerdutyMaxDedupKeyBytes = 255;

/// "warden:<team>:<incident_key>": the same for every event of the issue, so that a
/// second trigger joins the open alert and a resolve finds it. A team long enough to
/// push the key past kPagerdutyMaxDedupKeyBytes is cut.
[[nodiscard]] std::string pagerduty_dedup_key(const ticket_snapshot& issue);

/// `POST receiver.url` with a trigger event for `notified`: routing_key, dedup_key
/// (pagerduty_dedup_key), payload {summary (ticket_summary), source (receiver.source
/// expanded, without the separators that empty variables leave at its ends, "warden"
/// when nothing is left), severity (receiver.severity by level),
/// timestamp (first seen, UTC with milliseconds), component (product), group (team),
/// class (culprit, else title), custom_details {function, tracker_issue, first_seen,
/// occurrences, release, environment, warden_issue}}, client "warden-sink", client_url
/// (the ticket, else the issue in the sink) and links to both. Empty values are left
/// out. InvalidArgument when the source template does not expand or the configured
/// severity is not one of critical, error, warning, info.
[[nodiscard]] absl::StatusOr<http_request> pagerduty_trigger(const pagerduty_receiver& receiver,
                                                             const notified_issue& notified);

/// `POST receiver.url` with {routing_key, event_action: "resolve", dedup_key}.
[[nodiscard]] http_request pagerduty_resolve(const pagerduty_receiver& receiver,
                                             std::string_view dedup_key);

/// What PagerDuty's answer means: 2xx (202 {"status":"success", ...}) delivered; 400
/// (an invalid event: {status, message, errors[]}) permanent, with PagerDuty's message
/// and errors; anything else is left to the retry policy (429, 5xx, no answer).
[[nodiscard]] receiver_verdict pagerduty_answer(const http_response& response);

}  // namespace warden::sink

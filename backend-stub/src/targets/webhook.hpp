// Generic webhook receivers: a notification as a JSON event, signed the Standard
// Webhooks way (docs/ALERTING-PLAN.md §4.6), so that any HTTP endpoint can take Warden's
// alerts and check that they come from Warden. Pure: the delivery worker sends the
// http_request; any 2xx answer means delivered (the retry policy's reading).
//
//   absl::StatusOr<http_request> event =
//       webhook_event(receiver.webhook, message, "webhook:ops-hook:42:3", unix_now);
//
// The body:
//
//   {"type": "issue.alert" | "issue.resolved", "timestamp": "2025-03-14T09:12:41Z",
//    "data": {"receiver", "group_key", "labels": {...}, "link",
//             "issues": [{"id", "title", "culprit", "owner": {"team", "function",
//                         "product"}, "level", "environment", "counts": {"events",
//                         "users"}, "first_seen", "last_seen", "incident_key",
//                         "ticket": {"key", "url"} | null, "rule", "reason", "link"}]}}
//
// Headers: webhook-id and Idempotency-Key (the message id: the same across retries, so
// the receiver can drop duplicates), webhook-timestamp, webhook-signature,
// Content-Type: application/json, User-Agent: warden-sink. The secrets appear nowhere.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/alerting_config.hpp"
#include "targets/http.hpp"
#include "targets/notification.hpp"

namespace warden::sink {

/// `POST receiver.url` with `message` as the event above, its timestamp and
/// webhook-timestamp `unix_seconds` (this attempt's time), signed with every secret of
/// `receiver` over the exact body (signing.hpp's standard_webhook_signature).
/// InvalidArgument when the receiver has no usable secret.
[[nodiscard]] absl::StatusOr<http_request> webhook_event(const webhook_receiver& receiver,
                                                         const notification& message,
                                                         std::string_view message_id,
                                                         std::int64_t unix_seconds);

}  // namespace warden::sink

// The Standard Webhooks envelope that generic webhooks get, whether they stand in for a
// notification receiver (webhook.cpp) or for a tracker (webhook_tracker.cpp): the event
// body {"type", "timestamp", "data"} and the signed POST that carries it. Internal to
// warden_sink_targets.
//
//   std::string body = detail::standard_webhook_body("ticket.comment", unix_now,
//       [&](detail::json_writer& out) { detail::write_member(out, "text", text); });
//   absl::StatusOr<http_request> request = detail::standard_webhook_request(
//       config.url, config.secrets, "comment:42:7", unix_now, std::move(body));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/secret.hpp"
#include "targets/detail/http_text.hpp"
#include "targets/http.hpp"

namespace warden::sink::detail {

/// {"type": `type`, "timestamp": "<UTC ISO-8601 of unix_seconds>", "data": <what
/// `write_data` writes: one JSON value>} as compact JSON.
[[nodiscard]] std::string standard_webhook_body(
    std::string_view type, std::int64_t unix_seconds,
    const std::function<void(json_writer&)>& write_data);

/// `POST url` with `body`, signed with every one of `secrets` over the exact body:
/// Content-Type: application/json, User-Agent: warden-sink, webhook-id and
/// Idempotency-Key `message_id` (the same across retries, so that the receiver can drop
/// duplicates), webhook-timestamp `unix_seconds`, webhook-signature. InvalidArgument when
/// no secret is usable (signing.hpp's standard_webhook_signature).
[[nodiscard]] absl::StatusOr<http_request> standard_webhook_request(
    std::string url, const std::vector<secret>& secrets, std::string_view message_id,
    std::int64_t unix_seconds, std::string body);

}  // namespace warden::sink::detail

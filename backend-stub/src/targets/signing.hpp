// Webhook signatures: the Standard Webhooks `webhook-signature` header the sink puts on
// what it sends to generic webhooks, the GitHub `X-Hub-Signature-256` check of what
// GitHub sends to the sink, and a constant-time comparison for bearer secrets. HMAC-SHA256
// from OpenSSL; comparisons never stop at the first differing byte.
//
//   absl::StatusOr<std::string> signature =
//       standard_webhook_signature({receiver.secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek",
//                                  1614265330, body);   // "v1,g0hM9SsE+OTPJTGt/..."
//   if (!verify_github_signature(hook_secret.reveal(),
//                                request.header("x-hub-signature-256"), raw_body)) {
//     answer(401);
//   }
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/secret.hpp"

namespace warden::sink {

/// The value of the Standard Webhooks `webhook-signature` header for a message:
/// "v1,<base64 HMAC-SHA256(key, "<message_id>.<unix_seconds>.<body>")>", one entry per
/// secret separated by spaces (several during a rotation), where key is the base64
/// decoding of the secret without its "whsec_" prefix. InvalidArgument when there is no
/// secret, or one is not base64 or decodes to fewer than 24 bytes (the message names the
/// secret's position, never its value).
[[nodiscard]] absl::StatusOr<std::string> standard_webhook_signature(
    const std::vector<secret>& secrets, std::string_view message_id, std::int64_t unix_seconds,
    std::string_view body);

/// Whether `header` ("sha256=<64 hex digits>", GitHub's X-Hub-Signature-256) is the
/// HMAC-SHA256 of `raw_body` (the bytes received, before any parsing) with `secret`.
/// False for an empty secret, a missing "sha256=" prefix or a malformed digest; the
/// digests are compared in constant time.
[[nodiscard]] bool verify_github_signature(std::string_view secret, std::string_view header,
                                           std::string_view raw_body);

/// Whether `a` and `b` are equal, in a time that depends on their lengths only (for
/// comparing a presented secret with the configured one).
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace warden::sink

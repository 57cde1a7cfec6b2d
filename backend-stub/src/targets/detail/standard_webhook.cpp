// The Standard Webhooks envelope and its signed request.
#include "targets/detail/standard_webhook.hpp"

#include <utility>

#include "absl/time/time.h"
#include "targets/signing.hpp"

namespace warden::sink::detail {

std::string standard_webhook_body(std::string_view type, std::int64_t unix_seconds,
                                  const std::function<void(json_writer&)>& write_data) {
  return json_object([&](json_writer& out) {
    write_member(out, "type", type);
    write_member(out, "timestamp",
                 absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                                  absl::UTCTimeZone()));
    write_string(out, "data");
    write_data(out);
  });
}

absl::StatusOr<http_request> standard_webhook_request(std::string url,
                                                      const std::vector<secret>& secrets,
                                                      std::string_view message_id,
                                                      std::int64_t unix_seconds, std::string body) {
  absl::StatusOr<std::string> signature =
      standard_webhook_signature(secrets, message_id, unix_seconds, body);
  if (!signature.ok()) return signature.status();
  http_request request;
  request.method = "POST";
  request.url = std::move(url);
  request.body = std::move(body);
  request.headers = {{"Content-Type", "application/json"},
                     {"User-Agent", "warden-sink"},
                     {"webhook-id", std::string(message_id)},
                     {"webhook-timestamp", std::to_string(unix_seconds)},
                     {"webhook-signature", *std::move(signature)},
                     {"Idempotency-Key", std::string(message_id)}};
  return request;
}

}  // namespace warden::sink::detail

// How the outbox reads an answer (delivered, worth another attempt, or failed for good)
// and how long it waits before the next attempt: the target's Retry-After when it gave
// one, else exponential backoff with equal jitter. Pure functions of their arguments, so
// the policy is tested without sockets, clocks or randomness.
//
//   retry_verdict verdict = classify(answer, absl::Now());
//   if (verdict.outcome == retry_outcome::retry) {
//     const double fraction = absl::Uniform(bitgen, 0.0, 1.0);
//     next_attempt = now + verdict.retry_after.value_or(
//         backoff_delay(attempts, config.backoff_initial, config.backoff_max, fraction));
//   }
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "targets/http.hpp"

namespace warden::sink {

/// What an answer means for its delivery.
enum class retry_outcome {
  delivered,  ///< 2xx.
  retry,      ///< No answer, 408, 429, 5xx, a rate-limited GitHub 403: try again later.
  failed,     ///< 3xx (redirects are not followed), other 4xx: the same request fails again.
};

/// An answer, classified.
struct retry_verdict {
  retry_outcome outcome = retry_outcome::failed;
  /// The target may have acted on the request although it did not say so: no answer
  /// after the request was sent (timeout, reset), or a 500/502/504, which a server or
  /// gateway can give after the work was done. The next attempt of a create checks
  /// whether the ticket exists first.
  bool uncertain = false;
  /// How long the target asked us to wait (Retry-After, GitHub's rate-limit reset),
  /// within [0, kMaxRetryAfter]; only with `retry`.
  std::optional<std::chrono::milliseconds> retry_after;
  std::string reason;  ///< For people: "HTTP 503: server error", "not sent: <curl's error>".
};

/// The longest wait a target may ask for; a longer one is cut to this.
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours{1};

/// Classifies `response`; `now` turns an HTTP-date Retry-After into a wait.
[[nodiscard]] retry_verdict classify(const http_response& response, absl::Time now);

/// The wait a Retry-After header value asks for: delta-seconds ("120") or an HTTP-date
/// (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", or the obsolete RFC 850 and asctime
/// forms), clamped to [0, kMaxRetryAfter]; a date in the past is 0. nullopt for anything
/// else (garbage, a negative or fractional number).
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                                         absl::Time now);

/// The wait before attempt `attempt` + 1 after attempt `attempt` (1-based) failed:
/// d = min(max, initial * 2^(attempt - 1)), then equal jitter, d/2 + fraction * d/2, so it
/// is never below d/2. `fraction` is a uniform random number in [0, 1), passed in to keep
/// this deterministic; values outside are clamped. No overflow for any attempt.
[[nodiscard]] std::chrono::milliseconds backoff_delay(int attempt,
                                                      std::chrono::milliseconds initial,
                                                      std::chrono::milliseconds max,
                                                      double fraction) noexcept;

}  // namespace warden::sink

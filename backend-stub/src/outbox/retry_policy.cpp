#include "outbox/retry_policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"

namespace warden::sink {
namespace {

using std::chrono::milliseconds;

// RFC 9110 §5.6.7: senders use IMF-fixdate; recipients also accept RFC 850 and asctime.
constexpr const char* kHttpDateFormats[] = {
    "%a, %d %b %Y %H:%M:%S GMT",  // Sun, 06 Nov 1994 08:49:37 GMT
    "%A, %d-%b-%y %H:%M:%S GMT",  // Sunday, 06-Nov-94 08:49:37 GMT
    "%a %b %d %H:%M:%S %Y",       // Sun Nov  6 08:49:37 1994
};

// GitHub's advice for a secondary rate limit that names no time: wait at least a minute.
constexpr milliseconds kGithubSecondaryWait = std::chrono::minutes{1};

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

absl::string_view to_absl(std::string_view text) { return {text.data(), text.size()}; }

// `wait` within [0, kMaxRetryAfter].
milliseconds clamp_wait(absl::Duration wait) {
  if (wait <= absl::ZeroDuration()) return milliseconds{0};
  if (wait >= absl::FromChrono(kMaxRetryAfter)) return kMaxRetryAfter;
  return milliseconds{absl::ToInt64Milliseconds(wait)};
}

bool contains_ignoring_case(std::string_view text, std::string_view lowercase_needle) {
  const auto found =
      std::search(text.begin(), text.end(), lowercase_needle.begin(), lowercase_needle.end(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return found != text.end();
}

// GitHub's primary (x-ratelimit-remaining: 0) or secondary rate limit, which it answers
// with 403 or 429.
bool github_rate_limited(const http_response& response) {
  if (response.status != 403 && response.status != 429) return false;
  return trim(response.header("x-ratelimit-remaining")) == "0" ||
         contains_ignoring_case(response.body, "secondary rate limit");
}

// The wait GitHub asks for when rate limited without a Retry-After: until
// x-ratelimit-reset (epoch seconds) when no request is left, else a minute.
std::optional<milliseconds> github_wait(const http_response& response, absl::Time now) {
  if (trim(response.header("x-ratelimit-remaining")) == "0") {
    std::int64_t reset_seconds = 0;
    if (absl::SimpleAtoi(to_absl(response.header("x-ratelimit-reset")), &reset_seconds)) {
      return clamp_wait(absl::FromUnixSeconds(reset_seconds) - now);
    }
    return std::nullopt;
  }
  return kGithubSecondaryWait;
}

std::string_view retry_reason(int status) {
  if (status == 408) return "request timeout";
  if (status == 429) return "rate limited";
  return "server error";
}

}  // namespace

retry_verdict classify(const http_response& response, absl::Time now) {
  retry_verdict verdict;
  const int status = response.status;
  if (status == 0) {
    verdict.outcome = retry_outcome::retry;
    verdict.uncertain = response.request_sent;
    verdict.reason = response.request_sent
                         ? fmt::format("no answer after the request was sent: {}", response.error)
                         : fmt::format("not sent: {}", response.error);
    return verdict;
  }
  if (status >= 200 && status <= 299) {
    verdict.outcome = retry_outcome::delivered;
    verdict.reason = fmt::format("HTTP {}", status);
    return verdict;
  }
  const bool github_limit = github_rate_limited(response);
  if (status == 408 || status == 429 || (status >= 500 && status <= 599) || github_limit) {
    verdict.outcome = retry_outcome::retry;
    verdict.uncertain = status == 500 || status == 502 || status == 504;
    if (const std::string value = response.header("retry-after"); !value.empty()) {
      verdict.retry_after = parse_retry_after(value, now);
    }
    if (!verdict.retry_after && github_limit) verdict.retry_after = github_wait(response, now);
    verdict.reason = fmt::format("HTTP {}: {}", status,
                                 github_limit ? "rate limit exceeded" : retry_reason(status));
    return verdict;
  }
  verdict.outcome = retry_outcome::failed;
  if (status >= 300 && status <= 399) {
    verdict.reason = fmt::format("HTTP {}: redirect not followed", status);
  } else if (status >= 400 && status <= 499) {
    verdict.reason = fmt::format("HTTP {}: rejected", status);
  } else {
    verdict.reason = fmt::format("HTTP {}: unexpected status", status);
  }
  return verdict;
}

std::optional<milliseconds> parse_retry_after(std::string_view value, absl::Time now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    // Digit by digit, stopping at the cap: any length of digits is safe.
    constexpr std::int64_t kMaxSeconds =
        std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryAfter).count();
    std::int64_t seconds = 0;
    for (const char digit : value) {
      seconds = seconds * 10 + (digit - '0');
      if (seconds >= kMaxSeconds) return kMaxRetryAfter;
    }
    return std::chrono::seconds{seconds};
  }
  for (const char* format : kHttpDateFormats) {
    absl::Time when;
    std::string ignored;
    if (absl::ParseTime(format, to_absl(value), &when, &ignored)) return clamp_wait(when - now);
  }
  return std::nullopt;
}

milliseconds backoff_delay(int attempt, milliseconds initial, milliseconds max,
                           double fraction) noexcept {
  const milliseconds ceiling = std::max(max, milliseconds{0});
  milliseconds delay = std::clamp(initial, milliseconds{0}, ceiling);
  // Doubling stops at the ceiling (at once for 0): at most ~63 rounds whatever `attempt` is.
  for (int doubled = 1; doubled < attempt && delay.count() > 0 && delay < ceiling; ++doubled) {
    delay = delay > ceiling / 2 ? ceiling : delay * 2;
  }
  if (!(fraction >= 0.0)) fraction = 0.0;  // also NaN
  fraction = std::min(fraction, 1.0);
  const milliseconds half = delay / 2;
  const milliseconds span = delay - half;
  const double jitter = std::floor(fraction * static_cast<double>(span.count()));
  // The comparison guards the conversion where a double cannot hold `span` exactly.
  return half + (jitter >= static_cast<double>(span.count())
                     ? span
                     : milliseconds{static_cast<milliseconds::rep>(jitter)});
}

}  // namespace warden::sink

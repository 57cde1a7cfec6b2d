// The outbox's retry policy, without sockets or clocks: which answers are delivered,
// retried (and when the target may have acted already) or failed; Retry-After in both
// forms, clamped, garbage ignored; GitHub's rate limits; backoff with equal jitter for
// every attempt, at both ends of the jitter, without overflow.
#include <doctest/doctest.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "outbox/retry_policy.hpp"

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using warden::sink::backoff_delay;
using warden::sink::classify;
using warden::sink::http_response;
using warden::sink::kMaxRetryAfter;
using warden::sink::parse_retry_after;
using warden::sink::retry_outcome;

// 1994-11-06 08:48:07 UTC: "Sun, 06 Nov 1994 08:49:37 GMT" is 90 s later.
const absl::Time kNow = absl::FromUnixSeconds(784111777 - 90);

http_response answer(int status, std::vector<std::pair<std::string, std::string>> headers = {},
                     std::string body = {}) {
  http_response response;
  response.status = status;
  response.headers = std::move(headers);
  response.body = std::move(body);
  response.request_sent = true;
  return response;
}

TEST_CASE("each status is delivered, retried or failed as the table says") {
  struct row {
    int status;
    retry_outcome outcome;
    bool uncertain;
  };
  const row table[] = {
      {200, retry_outcome::delivered, false}, {201, retry_outcome::delivered, false},
      {202, retry_outcome::delivered, false}, {204, retry_outcome::delivered, false},
      {299, retry_outcome::delivered, false}, {101, retry_outcome::failed, false},
      {301, retry_outcome::failed, false},    {302, retry_outcome::failed, false},
      {304, retry_outcome::failed, false},    {307, retry_outcome::failed, false},
      {308, retry_outcome::failed, false},    {400, retry_outcome::failed, false},
      {401, retry_outcome::failed, false},    {403, retry_outcome::failed, false},
      {404, retry_outcome::failed, false},    {409, retry_outcome::failed, false},
      {410, retry_outcome::failed, false},    {413, retry_outcome::failed, false},
      {422, retry_outcome::failed, false},    {408, retry_outcome::retry, false},
      {429, retry_outcome::retry, false},     {500, retry_outcome::retry, true},
      {501, retry_outcome::retry, false},     {502, retry_outcome::retry, true},
      {503, retry_outcome::retry, false},     {504, retry_outcome::retry, true},
      {599, retry_outcome::retry, false},     {600, retry_outcome::failed, false},
  };
  for (const row& expected : table) {
    CAPTURE(expected.status);
    const auto verdict = classify(answer(expected.status), kNow);
    CHECK(verdict.outcome == expected.outcome);
    CHECK(verdict.uncertain == expected.uncertain);
    CHECK_FALSE(verdict.retry_after.has_value());
    CHECK(verdict.reason.find(std::to_string(expected.status)) != std::string::npos);
  }
}

TEST_CASE("no answer is retried and uncertain only when the request went out") {
  http_response refused;
  refused.error = "Failed to connect to 127.0.0.1 port 9: Couldn't connect to server";
  const auto not_sent = classify(refused, kNow);
  CHECK(not_sent.outcome == retry_outcome::retry);
  CHECK_FALSE(not_sent.uncertain);
  CHECK(not_sent.reason.find("Couldn't connect") != std::string::npos);

  http_response timed_out;
  timed_out.error = "Operation timed out after 15000 milliseconds with 0 bytes received";
  timed_out.request_sent = true;
  const auto sent = classify(timed_out, kNow);
  CHECK(sent.outcome == retry_outcome::retry);
  CHECK(sent.uncertain);
  CHECK(sent.reason.find("timed out") != std::string::npos);
}

TEST_CASE("Retry-After comes with retried answers only") {
  const auto limited = classify(answer(429, {{"retry-after", "1"}}), kNow);
  CHECK(limited.outcome == retry_outcome::retry);
  CHECK(limited.retry_after == milliseconds{1000});

  const auto unavailable =
      classify(answer(503, {{"retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"}}), kNow);
  CHECK(unavailable.retry_after == seconds{90});

  const auto garbage = classify(answer(503, {{"retry-after", "later, please"}}), kNow);
  CHECK(garbage.outcome == retry_outcome::retry);
  CHECK_FALSE(garbage.retry_after.has_value());

  const auto moved = classify(answer(301, {{"retry-after", "5"}}), kNow);
  CHECK(moved.outcome == retry_outcome::failed);
  CHECK_FALSE(moved.retry_after.has_value());
}

TEST_CASE("GitHub's rate-limited 403 is retried, a plain 403 is not") {
  const std::string reset = std::to_string(absl::ToUnixSeconds(kNow) + 30);
  const auto primary =
      classify(answer(403, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", reset}},
                      R"({"message":"API rate limit exceeded for user ID 1."})"),
               kNow);
  CHECK(primary.outcome == retry_outcome::retry);
  CHECK_FALSE(primary.uncertain);
  CHECK(primary.retry_after == seconds{30});

  const auto primary_with_retry_after = classify(
      answer(403,
             {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", reset}, {"retry-after", "7"}}),
      kNow);
  CHECK(primary_with_retry_after.retry_after == seconds{7});

  const auto secondary =
      classify(answer(403, {{"x-ratelimit-remaining", "4999"}},
                      R"({"message":"You have exceeded a Secondary Rate Limit. Please wait."})"),
               kNow);
  CHECK(secondary.outcome == retry_outcome::retry);
  CHECK(secondary.retry_after == minutes{1});

  const auto forbidden = classify(
      answer(403, {{"x-ratelimit-remaining", "4999"}}, R"({"message":"Resource not accessible"})"),
      kNow);
  CHECK(forbidden.outcome == retry_outcome::failed);
  CHECK_FALSE(forbidden.retry_after.has_value());
}

TEST_CASE("Retry-After in delta seconds") {
  CHECK(parse_retry_after("0", kNow) == milliseconds{0});
  CHECK(parse_retry_after("1", kNow) == seconds{1});
  CHECK(parse_retry_after("120", kNow) == seconds{120});
  CHECK(parse_retry_after(" 7 \t", kNow) == seconds{7});
  CHECK(parse_retry_after("0003", kNow) == seconds{3});
  CHECK(parse_retry_after("3599", kNow) == seconds{3599});
  CHECK(parse_retry_after("3600", kNow) == kMaxRetryAfter);
  CHECK(parse_retry_after("86400", kNow) == kMaxRetryAfter);
  CHECK(parse_retry_after("99999999999999999999999999999999999999", kNow) == kMaxRetryAfter);
  CHECK(kMaxRetryAfter == hours{1});
}

TEST_CASE("Retry-After as an HTTP date") {
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow) == seconds{90});
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", kNow) == seconds{90});
  CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994", kNow) == seconds{90});
  // Sub-second precision of `now` is kept.
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow + absl::Milliseconds(250)) ==
        milliseconds{89750});
  // In the past: now. Far ahead: the cap.
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", kNow) == milliseconds{0});
  CHECK(parse_retry_after("Sun, 06 Nov 1994 10:48:07 GMT", kNow) == kMaxRetryAfter);
  CHECK(parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", kNow) == kMaxRetryAfter);
}

TEST_CASE("Retry-After garbage and negative values are ignored") {
  for (const char* value :
       {"", "   ", "-5", "-0", "+5", "1.5", "1e3", "5s", "soon", "0x10", "Sun, 06 Nov 1994",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994 08:49:37 GMT trailing"}) {
    CAPTURE(value);
    CHECK_FALSE(parse_retry_after(value, kNow).has_value());
  }
}

TEST_CASE("backoff doubles up to the maximum and never falls below half") {
  const milliseconds initial = seconds{5};
  const milliseconds max = minutes{15};
  milliseconds previous_low{0};
  for (int attempt = 1; attempt <= 40; ++attempt) {
    CAPTURE(attempt);
    // d = min(max, initial * 2^(attempt - 1)), computed here without overflow.
    const double doubled = 5000.0 * std::pow(2.0, attempt - 1);
    const auto d = milliseconds{
        static_cast<milliseconds::rep>(std::min(doubled, static_cast<double>(max.count())))};
    const milliseconds low = backoff_delay(attempt, initial, max, 0.0);
    const milliseconds high = backoff_delay(attempt, initial, max, 0.999999);
    CHECK(low == d / 2);
    CHECK(high <= d);
    CHECK(high >= d - milliseconds{1});
    CHECK(backoff_delay(attempt, initial, max, 0.5) >= low);
    CHECK(backoff_delay(attempt, initial, max, 0.5) <= high);
    CHECK(low >= previous_low);
    previous_low = low;
  }
  CHECK(backoff_delay(1, initial, max, 0.0) == milliseconds{2500});
  CHECK(backoff_delay(2, initial, max, 0.0) == milliseconds{5000});
  CHECK(backoff_delay(9, initial, max, 0.0) == milliseconds{450000});  // 1280 s, capped at 900
}

TEST_CASE("backoff has no overflow and clamps its inputs") {
  const milliseconds huge = milliseconds::max();
  for (const int attempt : {1, 2, 62, 63, 64, 65, 1000, INT_MAX}) {
    CAPTURE(attempt);
    const milliseconds low = backoff_delay(attempt, seconds{1}, huge, 0.0);
    const milliseconds high = backoff_delay(attempt, seconds{1}, huge, 0.999999);
    CHECK(low.count() > 0);
    CHECK(high >= low);
    CHECK(high <= huge);
    CHECK(backoff_delay(attempt, huge, huge, 1.0) == huge);
    CHECK(backoff_delay(attempt, huge, huge, 0.0) == huge / 2);
  }
  CHECK(backoff_delay(INT_MAX, seconds{5}, minutes{15}, 0.0) == milliseconds{450000});
  // Attempt numbers below 1 count as the first attempt.
  CHECK(backoff_delay(0, seconds{4}, minutes{1}, 0.0) == seconds{2});
  CHECK(backoff_delay(-3, seconds{4}, minutes{1}, 0.0) == seconds{2});
  // An initial delay above the maximum starts at the maximum.
  CHECK(backoff_delay(1, hours{2}, hours{1}, 0.0) == minutes{30});
  // Nothing to wait: zero, for any attempt (and quickly).
  CHECK(backoff_delay(INT_MAX, milliseconds{0}, minutes{15}, 0.7) == milliseconds{0});
  CHECK(backoff_delay(3, seconds{1}, milliseconds{-5}, 0.7) == milliseconds{0});
  // Fractions outside [0, 1), and NaN, are clamped.
  CHECK(backoff_delay(1, seconds{4}, minutes{1}, -1.0) == seconds{2});
  CHECK(backoff_delay(1, seconds{4}, minutes{1}, 7.0) == seconds{4});
  CHECK(backoff_delay(1, seconds{4}, minutes{1}, std::numeric_limits<double>::quiet_NaN()) ==
        seconds{2});
}

}  // namespace

// Client-side rate limits from response headers, as Sentry's SDKs apply them.
#include <chrono>

#include <doctest/doctest.h>

#include "absl/time/civil_time.h"
#include "rate_limits.hpp"

using namespace std::chrono_literals;
using warden::sdk::detail::category_for_item;
using warden::sdk::detail::data_category;
using warden::sdk::detail::parse_retry_after;
using warden::sdk::detail::rate_limits;

namespace {

const rate_limits::clock::time_point kNow = rate_limits::clock::time_point{} + 1000h;
const absl::Time kWallNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 24, 12, 0, 0), absl::UTCTimeZone());

}  // namespace

TEST_CASE("X-Sentry-Rate-Limits limits the listed categories only") {
  rate_limits limits;
  // The header the fixture's listener sent (shared/fixtures/sentry-node-client/ratelimit).
  limits.update(429, "60", "60:error:organization", kNow, kWallNow);
  CHECK(limits.is_limited(data_category::error, kNow));
  CHECK(limits.is_limited(data_category::error, kNow + 59s));
  CHECK_FALSE(limits.is_limited(data_category::error, kNow + 60s));
  CHECK_FALSE(limits.is_limited(data_category::transaction, kNow));
  CHECK_FALSE(limits.is_limited(data_category::internal, kNow));
}

TEST_CASE("several limits, spaces, unknown categories and extra fields") {
  rate_limits limits;
  limits.update(200, "",
                "60:transaction:key, 2700:default;error;security:organization:quota, "
                "10:profile:project, 30:span;session:key:reason:ns:future",
                kNow, kWallNow);
  CHECK(limits.limited_until(data_category::transaction) == kNow + 60s);
  CHECK(limits.limited_until(data_category::error) == kNow + 2700s);
  CHECK(limits.limited_until(data_category::span) == kNow + 30s);
  CHECK(limits.limited_until(data_category::session) == kNow + 30s);
  CHECK_FALSE(limits.is_limited(data_category::attachment, kNow));  // "profile" is unknown
}

TEST_CASE("an empty category list limits everything, including client reports") {
  rate_limits limits;
  limits.update(429, "", "60::organization", kNow, kWallNow);
  for (const auto category : {data_category::error, data_category::transaction,
                              data_category::session, data_category::internal}) {
    CHECK(limits.is_limited(category, kNow + 30s));
  }
}

TEST_CASE("a 429 without X-Sentry-Rate-Limits uses Retry-After for all categories") {
  rate_limits limits;
  limits.update(429, "120", "", kNow, kWallNow);
  CHECK(limits.limited_until(data_category::error) == kNow + 120s);
  CHECK(limits.limited_until(data_category::internal) == kNow + 120s);

  rate_limits dated;
  dated.update(429, "Tue, 24 Nov 2026 12:05:00 GMT", "", kNow, kWallNow);
  CHECK(dated.limited_until(data_category::session) == kNow + 300s);

  rate_limits bare;
  bare.update(429, "", "", kNow, kWallNow);
  CHECK(bare.limited_until(data_category::error) == kNow + 60s);

  rate_limits garbage;
  garbage.update(429, "soon", "", kNow, kWallNow);
  CHECK(garbage.limited_until(data_category::error) == kNow + 60s);
}

TEST_CASE("Retry-After without a 429 changes nothing, the longest limit wins") {
  rate_limits limits;
  limits.update(503, "100", "", kNow, kWallNow);
  CHECK_FALSE(limits.is_limited(data_category::error, kNow));
  limits.update(429, "", "100:error", kNow, kWallNow);
  limits.update(429, "", "10:error", kNow, kWallNow);
  CHECK(limits.limited_until(data_category::error) == kNow + 100s);
}

TEST_CASE("Retry-After accepts seconds and all three HTTP-date forms") {
  CHECK(parse_retry_after("30", kWallNow) == 30'000ms);
  CHECK(parse_retry_after(" 1.5 ", kWallNow) == 1'500ms);
  CHECK(parse_retry_after("Tue, 24 Nov 2026 12:01:00 GMT", kWallNow) == 60'000ms);
  CHECK(parse_retry_after("Tuesday, 24-Nov-26 12:01:00 GMT", kWallNow) == 60'000ms);
  CHECK(parse_retry_after("Tue Nov 24 12:01:00 2026", kWallNow) == 60'000ms);
  CHECK(parse_retry_after("Tue, 24 Nov 2026 11:00:00 GMT", kWallNow) == 0ms);  // in the past
  CHECK_FALSE(parse_retry_after("", kWallNow));
  CHECK_FALSE(parse_retry_after("-5", kWallNow));
  CHECK_FALSE(parse_retry_after("nan", kWallNow));
  CHECK_FALSE(parse_retry_after("tomorrow", kWallNow));
  // Absurd values are capped instead of overflowing.
  CHECK(parse_retry_after("1e300", kWallNow) == std::chrono::milliseconds{rate_limits::kMaxLimit});
}

TEST_CASE("envelope items map to their categories") {
  CHECK(category_for_item("event") == data_category::error);
  CHECK(category_for_item("transaction") == data_category::transaction);
  CHECK(category_for_item("span") == data_category::span);
  CHECK(category_for_item("session") == data_category::session);
  CHECK(category_for_item("sessions") == data_category::session);
  CHECK(category_for_item("attachment") == data_category::attachment);
  CHECK(category_for_item("client_report") == data_category::internal);
  CHECK_FALSE(category_for_item("profile"));
}

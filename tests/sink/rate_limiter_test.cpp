// Quotas per project and per owner, and spike protection, with time under the test's
// control.
#include <doctest/doctest.h>

#include <chrono>

#include "server/rate_limiter.hpp"

namespace {

using namespace std::chrono_literals;
using warden::sink::project_config;
using warden::sink::rate_limiter;
using warden::sink::rate_limits_config;

const rate_limiter::clock::time_point kStart{std::chrono::hours{24 * 1000}};

project_config project_with_quota(std::uint64_t per_minute) {
  project_config project;
  project.id = 7;
  project.events_per_minute = per_minute;
  return project;
}

// How many of `count` events at `at` are admitted.
int admitted(rate_limiter& limiter, const project_config& project, const std::string& owner,
             int count, rate_limiter::clock::time_point at) {
  int taken = 0;
  for (int i = 0; i < count; ++i) taken += limiter.admit(project, owner, at).allowed ? 1 : 0;
  return taken;
}

}  // namespace

TEST_CASE("without quotas everything is admitted") {
  rate_limiter limiter{rate_limits_config{}};
  CHECK(admitted(limiter, project_with_quota(0), "a", 10000, kStart) == 10000);
}

TEST_CASE("a project quota admits a minute's worth at once, then refills steadily") {
  rate_limiter limiter{rate_limits_config{}};
  const auto project = project_with_quota(60);  // one per second
  CHECK(admitted(limiter, project, "a", 100, kStart) == 60);
  const auto refused = limiter.admit(project, "a", kStart);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.reason == "project_quota");
  CHECK(refused.scope == "project");
  CHECK(refused.retry_after == 1s);
  CHECK(admitted(limiter, project, "a", 100, kStart + 10s) == 10);
  // Another project has its own bucket.
  auto other = project;
  other.id = 8;
  CHECK(admitted(limiter, other, "a", 100, kStart) == 60);
}

TEST_CASE("an owner quota holds back one team and not the others") {
  rate_limits_config config;
  config.events_per_minute_per_owner = 30;
  rate_limiter limiter{config};
  const auto project = project_with_quota(0);
  CHECK(admitted(limiter, project, "payments/backend/", 100, kStart) == 30);
  const auto refused = limiter.admit(project, "payments/backend/", kStart);
  CHECK(refused.reason == "owner_quota");
  CHECK(refused.retry_after == 2s);  // one token every two seconds
  CHECK(admitted(limiter, project, "search/backend/", 100, kStart) == 30);
}

TEST_CASE("spike protection caps a minute at a multiple of the recent average") {
  rate_limits_config config;
  config.spike_factor = 10;
  config.spike_floor = 100;
  rate_limiter limiter{config};
  const auto project = project_with_quota(0);
  // A quiet project: the floor applies.
  CHECK(admitted(limiter, project, "a", 500, kStart) == 100);
  const auto refused = limiter.admit(project, "a", kStart + 5s);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.reason == "spike_protection");
  CHECK(refused.retry_after == 55s);  // until the next minute
  // An hour of 590 events per minute (under a floor of 600): 59 earlier minutes average
  // 590, so ten times that is allowed in the next one.
  config.spike_floor = 600;
  rate_limiter busy{config};
  for (int minute = 0; minute < 59; ++minute) {
    CHECK(admitted(busy, project, "a", 590, kStart + std::chrono::minutes{minute}) == 590);
  }
  CHECK(admitted(busy, project, "a", 7000, kStart + 59min) == 5900);
}

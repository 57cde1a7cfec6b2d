#include "server/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace warden::sink {

bool rate_limiter::take(bucket& tokens, std::uint64_t per_minute, clock::time_point now,
                        std::chrono::seconds& retry_after) {
  const double capacity = static_cast<double>(per_minute);
  const double per_second = capacity / 60.0;
  if (!tokens.started) {
    tokens = {capacity, now, true};
  } else {
    const double elapsed = std::chrono::duration<double>(now - tokens.updated).count();
    tokens.tokens = std::min(capacity, tokens.tokens + elapsed * per_second);
    tokens.updated = now;
  }
  if (tokens.tokens >= 1.0) {
    tokens.tokens -= 1.0;
    return true;
  }
  // Until one token is back, at least a second.
  retry_after = std::chrono::seconds{std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil((1.0 - tokens.tokens) / per_second)))};
  return false;
}

bool rate_limiter::spiking(history& counts, clock::time_point now,
                           std::chrono::seconds& retry_after) const {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  const std::int64_t minute = since_epoch.count() / 60;
  if (counts.current_minute < 0) counts.current_minute = minute;
  // Minutes that passed without events count as zero.
  for (std::int64_t m = counts.current_minute + 1; m <= minute && m <= counts.current_minute + 60;
       ++m) {
    counts.minutes[m % 60] = 0;
  }
  counts.current_minute = std::max(counts.current_minute, minute);
  std::int64_t earlier = 0;
  for (std::int64_t m = 0; m < 60; ++m) {
    if (m != minute % 60) earlier += counts.minutes[m];
  }
  const double average = static_cast<double>(earlier) / 59.0;
  const double allowed =
      std::max(static_cast<double>(config_.spike_floor), config_.spike_factor * average);
  std::int64_t& now_count = counts.minutes[minute % 60];
  if (static_cast<double>(now_count) >= allowed) {
    retry_after = std::chrono::seconds{60 - since_epoch.count() % 60};
    return true;
  }
  ++now_count;
  return false;
}

rate_decision rate_limiter::admit(const project_config& project, const std::string& owner_key,
                                  clock::time_point now) {
  rate_decision decision;
  decision.scope = "project";
  const std::lock_guard<std::mutex> lock{mu_};
  if (project.events_per_minute > 0 &&
      !take(projects_[project.id], project.events_per_minute, now, decision.retry_after)) {
    decision.allowed = false;
    decision.reason = "project_quota";
    return decision;
  }
  if (config_.events_per_minute_per_owner > 0 &&
      !take(owners_[owner_key], config_.events_per_minute_per_owner, now, decision.retry_after)) {
    decision.allowed = false;
    decision.reason = "owner_quota";
    return decision;
  }
  if (config_.spike_factor > 0 && spiking(history_[project.id], now, decision.retry_after)) {
    decision.allowed = false;
    decision.reason = "spike_protection";
  }
  return decision;
}

}  // namespace warden::sink

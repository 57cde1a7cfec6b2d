// Flood protection for ingest: quotas per project and per owner (events per minute, as
// token buckets) and spike protection (a project may not exceed a multiple of its own
// recent average). A refused event is answered 429 with Retry-After and
// X-Sentry-Rate-Limits, so Sentry SDKs back off for that long and count what they drop.
//
//   rate_limiter limiter{config.rate_limits};
//   rate_decision verdict = limiter.admit(project, "payments/backend/", clock::now());
//   if (!verdict.allowed) answer_429(verdict.retry_after, verdict.reason);
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "server/config.hpp"

namespace warden::sink {

/// Whether one event may be stored now; when not, for how long and why.
struct rate_decision {
  bool allowed = true;
  std::chrono::seconds retry_after{0};  ///< How long the sender should wait.
  std::string scope;                    ///< "project" (X-Sentry-Rate-Limits scope).
  std::string reason;                   ///< project_quota, owner_quota, spike_protection.
};

/// Thread-safe; time is passed in, so tests control it.
class rate_limiter final {
 public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(rate_limits_config config) : config_(config) {}

  /// Takes one event of `project` owned by `owner_key` (team/function/product) at `now`.
  rate_decision admit(const project_config& project, const std::string& owner_key,
                      clock::time_point now);

 private:
  // Tokens refill continuously at per_minute / 60 per second, up to per_minute.
  struct bucket {
    double tokens = 0;
    clock::time_point updated{};
    bool started = false;
  };
  // Events per minute over the last hour, for spike protection.
  struct history {
    std::int64_t minutes[60] = {};
    std::int64_t current_minute = -1;
  };
  static bool take(bucket& tokens, std::uint64_t per_minute, clock::time_point now,
                   std::chrono::seconds& retry_after);
  bool spiking(history& counts, clock::time_point now, std::chrono::seconds& retry_after) const;

  const rate_limits_config config_;
  std::mutex mu_;
  absl::flat_hash_map<std::uint64_t, bucket> projects_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, bucket> owners_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::uint64_t, history> history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace warden::sink

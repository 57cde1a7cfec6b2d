// Recent counts of each issue for frequency conditions ("seen more than 10 times in an
// hour", "by more than 50 users in a day"): events per issue, environment and time
// bucket, kept in SQLite and updated in each event's own transaction, so they are exact
// and survive a crash without a recount. Kept only while a rule has such a condition,
// and only as long as its longest interval.
//
// Buckets are a minute wide for intervals up to a day and an hour wide beyond; an
// interval counts the buckets that end inside it, so a count may include up to one
// bucket width of older events (Sentry's own counts are bucketed too).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "alerting/rule_set.hpp"
#include "store/sqlite.hpp"

namespace warden::sink {

class issue_windows final {
 public:
  /// Windows for intervals up to `longest`; users are counted when `users` is set.
  issue_windows(std::chrono::milliseconds longest, bool users);

  /// Counts an event of `issue_id` (writer connection, in the event's transaction), and
  /// now and then forgets buckets older than the longest interval.
  absl::Status record(sqlite_db& db, std::int64_t issue_id, const std::string& environment,
                      const std::string& user_key, std::int64_t received_ms);

  /// The counts of one issue and environment as of an event, for rule evaluation.
  class view final : public window_counts {
   public:
    view(sqlite_db& db, const issue_windows& windows, std::int64_t issue_id,
         const std::string& environment, std::int64_t now_ms)
        : db_{db},
          windows_{windows},
          issue_id_{issue_id},
          environment_{environment},
          now_ms_{now_ms} {}
    std::int64_t events_within(std::chrono::milliseconds interval) const override;
    std::int64_t users_within(std::chrono::milliseconds interval) const override;

   private:
    sqlite_db& db_;
    const issue_windows& windows_;
    std::int64_t issue_id_;
    const std::string& environment_;
    std::int64_t now_ms_;
  };

 private:
  // The bucket width used for `interval`.
  static std::int64_t width_for(std::chrono::milliseconds interval);
  absl::Status forget_old(sqlite_db& db, std::int64_t now_ms);

  std::chrono::milliseconds longest_;
  bool users_;
  std::int64_t next_forget_ms_ = 0;  // writer thread only
};

}  // namespace warden::sink

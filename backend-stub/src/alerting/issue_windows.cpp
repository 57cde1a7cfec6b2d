#include "alerting/issue_windows.hpp"

#include <algorithm>

namespace warden::sink {
namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

}  // namespace

issue_windows::issue_windows(std::chrono::milliseconds longest, bool users)
    : longest_{longest}, users_{users} {}

std::int64_t issue_windows::width_for(std::chrono::milliseconds interval) {
  return interval.count() <= kDayMs ? kMinuteMs : kHourMs;
}

absl::Status issue_windows::record(sqlite_db& db, std::int64_t issue_id,
                                   const std::string& environment, const std::string& user_key,
                                   std::int64_t received_ms) {
  // Minute buckets serve intervals up to a day; hour buckets the longer ones.
  std::int64_t widths[2] = {kMinuteMs, 0};
  if (longest_.count() > kDayMs) widths[1] = kHourMs;
  for (const std::int64_t width : widths) {
    if (width == 0) continue;
    absl::StatusOr<sqlite_statement*> count = db.cached(
        "INSERT INTO issue_windows (issue_id, environment, width, bucket, events) "
        "VALUES (?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET events = events + 1");
    if (!count.ok()) return count.status();
    (*count)->bind(1, issue_id).bind(2, environment).bind(3, width).bind(4, received_ms / width);
    WARDEN_RETURN_IF_ERROR((*count)->run());
    if (!users_ || user_key.empty()) continue;
    absl::StatusOr<sqlite_statement*> user = db.cached(
        "INSERT OR IGNORE INTO issue_window_users (issue_id, environment, width, bucket, "
        "user_key) VALUES (?, ?, ?, ?, ?)");
    if (!user.ok()) return user.status();
    (*user)
        ->bind(1, issue_id)
        .bind(2, environment)
        .bind(3, width)
        .bind(4, received_ms / width)
        .bind(5, user_key);
    WARDEN_RETURN_IF_ERROR((*user)->run());
  }
  if (received_ms < next_forget_ms_) return absl::OkStatus();
  next_forget_ms_ = received_ms + kMinuteMs;
  return forget_old(db, received_ms);
}

absl::Status issue_windows::forget_old(sqlite_db& db, std::int64_t now_ms) {
  for (const char* table : {"issue_windows", "issue_window_users"}) {
    for (const std::int64_t width : {kMinuteMs, kHourMs}) {
      const std::int64_t kept =
          width == kMinuteMs ? std::min(longest_.count(), kDayMs) : longest_.count();
      absl::StatusOr<sqlite_statement*> forget =
          db.cached(std::string{"DELETE FROM "} + table + " WHERE width = ? AND bucket < ?");
      if (!forget.ok()) return forget.status();
      (*forget)->bind(1, width).bind(2, (now_ms - kept) / width - 1);
      WARDEN_RETURN_IF_ERROR((*forget)->run());
    }
  }
  return absl::OkStatus();
}

std::int64_t issue_windows::view::events_within(std::chrono::milliseconds interval) const {
  const std::int64_t width = width_for(interval);
  absl::StatusOr<sqlite_statement*> sum = db_.cached(
      "SELECT coalesce(sum(events), 0) FROM issue_windows WHERE issue_id = ? AND "
      "environment = ? AND width = ? AND bucket >= ?");
  if (!sum.ok()) return 0;
  (*sum)
      ->bind(1, issue_id_)
      .bind(2, environment_)
      .bind(3, width)
      .bind(4, (now_ms_ - interval.count()) / width);
  return (*sum)->single_int().value_or(0);
}

std::int64_t issue_windows::view::users_within(std::chrono::milliseconds interval) const {
  if (!windows_.users_) return 0;
  const std::int64_t width = width_for(interval);
  absl::StatusOr<sqlite_statement*> distinct = db_.cached(
      "SELECT count(DISTINCT user_key) FROM issue_window_users WHERE issue_id = ? AND "
      "environment = ? AND width = ? AND bucket >= ?");
  if (!distinct.ok()) return 0;
  (*distinct)
      ->bind(1, issue_id_)
      .bind(2, environment_)
      .bind(3, width)
      .bind(4, (now_ms_ - interval.count()) / width);
  return (*distinct)->single_int().value_or(0);
}

}  // namespace warden::sink

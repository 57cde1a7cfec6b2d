// Notifications (issue #5): a rule's `notify` action, on the store's writer, adds an
// item to the group of every route the notification matches (Alertmanager's groups:
// one receiver, one group key); flush_due() — run by the dispatcher as a writer job —
// turns the groups that are due into outbox rows: one Slack message or webhook event per
// group flush, one PagerDuty trigger per issue and service (its dedup key is the
// issue's). Resolving an issue resolves its PagerDuty alerts and tells the groups that
// notified it. Everything is in SQLite, in the transaction of what caused it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alerting/route_tree.hpp"
#include "server/alerting_config.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace warden::sink {

class notifier final {
 public:
  /// Compiles the routing tree of `config`; InvalidArgument when it does not compile.
  [[nodiscard]] static absl::StatusOr<notifier> create(const alerting_config& config);

  /// Adds `event`'s issue to the groups of the routes its labels match (`rule` fired
  /// for `reason`). Returns whether anything was added.
  absl::StatusOr<bool> notify(sqlite_db& db, const event_record& event, const write_result& result,
                              std::string_view rule, std::string_view reason);
  /// The issue was resolved: its PagerDuty alerts are resolved (or their unsent
  /// triggers superseded) and the groups that notified it get a resolved item.
  /// `change_id` tells this resolution from others. Returns whether rows were queued.
  absl::StatusOr<bool> resolved(sqlite_db& db, std::int64_t issue_id, std::int64_t change_id,
                                std::int64_t now_ms);
  /// Flushes the groups due at `now_ms` into outbox rows; returns how many rows.
  absl::StatusOr<std::int64_t> flush_due(sqlite_db& db, std::int64_t now_ms);
  /// When the next group is due, if any.
  static absl::StatusOr<std::optional<std::int64_t>> next_due_ms(sqlite_db& db);

 private:
  notifier(const alerting_config& config, std::optional<route_tree> routes);
  const receiver_config* receiver(std::string_view name) const;

  std::vector<receiver_config> receivers_;
  std::optional<route_tree> routes_;  // none without a route: notify() does nothing
  notification_labels labels_;        // writer thread: reused by notify()
  std::vector<route_match> matched_;  // writer thread: reused by notify()
};

}  // namespace warden::sink

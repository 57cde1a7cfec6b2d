// Alerting on the store's writer (issue #5): after each stored event the alert rules are
// evaluated; a rule that fires (at most once per action_interval per issue) records
// itself in the issue's history and asks for a ticket, which becomes a row of the
// outbox in the event's own transaction. Exactly one ticket per issue: the tickets
// table's key is the issue. Regressions and resolutions of an issue with a ticket queue
// a reopen, comment or resolve of that ticket. The delivery worker sends what is queued.
//
//   auto engine = alert_engine::create(config.alerting);
//   (*engine)->on_queued([&] { worker.wake(); });
//   store_options options;
//   options.hooks = *engine;
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "alerting/issue_windows.hpp"
#include "alerting/notifier.hpp"
#include "alerting/rule_set.hpp"
#include "server/alerting_config.hpp"
#include "store/store.hpp"
#include "store/write_hooks.hpp"

namespace warden::sink {

/// The store's write hooks for alerting. Its methods run on the writer thread only.
class alert_engine final : public write_hooks {
 public:
  /// Compiles the rules of `config`; InvalidArgument when one does not compile.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<alert_engine>> create(alerting_config config);

  /// Called after a commit that queued deliveries (on the writer thread): wakes the
  /// delivery worker. Set before the store opens.
  void on_queued(std::function<void()> wake) { wake_ = std::move(wake); }
  /// Called after a commit that added notifications to groups: wakes the dispatcher,
  /// which flushes them when due (flush_due()). Set before the store opens.
  void on_grouped(std::function<void()> wake) { wake_dispatcher_ = std::move(wake); }
  /// Turns the notification groups due at `now_ms` into outbox rows (a writer job).
  absl::StatusOr<std::int64_t> flush_due(sqlite_db& db, std::int64_t now_ms) {
    return notifier_.flush_due(db, now_ms);
  }

  absl::Status after_event(sqlite_db& db, const event_record& event,
                           const write_result& result) override;
  absl::Status after_status_change(sqlite_db& db, const issue_row& issue,
                                   const status_change& change) override;
  void after_commit() noexcept override;

 private:
  alert_engine(alerting_config config, rule_set rules, notifier notifications);
  // Records that `rule` fired for the issue unless it did within its action interval;
  // false when it is still quiet.
  absl::StatusOr<bool> record_fire(sqlite_db& db, const alert_rule_config& rule,
                                   const event_record& event, const write_result& result,
                                   std::string_view reason);
  // Opens the issue's ticket unless it has one: the tracker and project of `action`, else
  // of the first matching escalation.owners entry.
  absl::Status open_ticket(sqlite_db& db, const event_record& event, const write_result& result,
                           const rule_action& action, const alert_rule_config& rule,
                           std::string_view reason);
  // The digest ticket that issues of `team` past the hourly cap are listed in (opened
  // with a digest.create when none is open; else a debounced digest.update). Returns
  // its id.
  absl::StatusOr<std::int64_t> join_digest(sqlite_db& db, const std::string& team,
                                           const std::string& tracker, const std::string& project,
                                           std::int64_t now_ms);
  // Queues `kind` for the issue's created ticket (reopen, comment, resolve), if it has one.
  absl::Status follow_up(sqlite_db& db, std::int64_t issue_id, std::string_view kind,
                         std::string_view idempotency_suffix, std::string intent,
                         std::int64_t now_ms);

  alerting_config config_;
  rule_set rules_;
  std::optional<issue_windows> windows_;  // when a rule has a frequency condition
  notifier notifier_;
  std::vector<std::size_t> fired_;  // writer thread: reused by each evaluation
  bool queued_ = false;             // writer thread: rows queued since the last commit
  bool grouped_ = false;            // writer thread: notifications added since then
  std::function<void()> wake_;
  std::function<void()> wake_dispatcher_;
};

}  // namespace warden::sink

// What the store's writer calls while it writes, so that alerting can add its rows (alert
// state, tickets, outbox deliveries) in the same transaction as the event that caused
// them: they commit together or not at all. The store knows nothing about alerting.
#pragma once

#include "absl/status/status.h"

namespace warden::sink {

class sqlite_db;
struct event_record;
struct write_result;
struct issue_row;
struct status_change;

/// Called on the writer thread; every write through `db` belongs to the current job
/// (its savepoint, or the batch's transaction).
class write_hooks {
 public:
  virtual ~write_hooks() = default;
  /// After `event` was stored (not for duplicates), with what it did to its issue. An
  /// error undoes the event too. Must be cheap when nothing fires (~1 µs).
  virtual absl::Status after_event(sqlite_db& db, const event_record& event,
                                   const write_result& result) = 0;
  /// After an issue's status was changed through the store (API, tracker); `issue` is
  /// the row as it is now.
  virtual absl::Status after_status_change(sqlite_db& db, const issue_row& issue,
                                           const status_change& change) = 0;
  /// After a batch committed: wake whoever delivers what the hooks wrote.
  virtual void after_commit() noexcept = 0;
};

}  // namespace warden::sink

// A thin RAII layer over SQLite's C API: a connection and prepared statements whose
// errors come back as absl::Status with SQLite's message. Internal to warden-sink.
//
//   auto db = sqlite_db::open(path);
//   auto insert = db->prepare("INSERT INTO t(a, b) VALUES (?, ?)");
//   insert->bind(1, 42).bind(2, "text");
//   absl::Status done = insert->run();
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace warden::sink {

#define WARDEN_DETAIL_CONCAT_INNER(a, b) a##b
#define WARDEN_DETAIL_CONCAT(a, b) WARDEN_DETAIL_CONCAT_INNER(a, b)

/// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define WARDEN_RETURN_IF_ERROR(expr) \
  WARDEN_DETAIL_RETURN_IF_ERROR(expr, WARDEN_DETAIL_CONCAT(warden_detail_status_, __LINE__))
#define WARDEN_DETAIL_RETURN_IF_ERROR(expr, status)          \
  switch (0)                                                 \
  case 0:                                                    \
  default:                                                   \
    if (const ::absl::Status status = (expr); status.ok()) { \
    } else /* abseil's dangling-else guard */                \
      return status

/// A prepared statement; reset and rebound for each use. One thread at a time.
class sqlite_statement final {
 public:
  sqlite_statement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;
  ~sqlite_statement() { sqlite3_finalize(statement_); }

  /// Binds parameter `index` (1-based). Text is copied by SQLite.
  sqlite_statement& bind(int index, std::int64_t value);
  sqlite_statement& bind(int index, std::string_view value);
  sqlite_statement& bind(int index, const char* value) {
    return bind(index, std::string_view{value});
  }
  /// Binds text that SQLite reads in place instead of copying (a payload of kilobytes):
  /// `value` must stay unchanged until the statement is reset (run() resets it).
  sqlite_statement& bind_unowned(int index, std::string_view value);
  /// Binds NULL.
  sqlite_statement& bind_null(int index);
  /// Binds bytes as a BLOB (copied).
  sqlite_statement& bind_blob(int index, std::string_view bytes);
  /// Binds bytes as a BLOB read in place, under bind_unowned's condition.
  sqlite_statement& bind_blob_unowned(int index, std::string_view bytes);
  /// Binds `value`, or NULL when it is empty.
  sqlite_statement& bind_optional(int index, const std::optional<std::int64_t>& value);
  sqlite_statement& bind_optional(int index, const std::optional<std::string>& value);

  /// Steps once: true when a row is ready, false when done.
  absl::StatusOr<bool> step();
  /// Steps to the end (a statement without rows), then resets for the next use.
  absl::Status run();
  /// Resets and clears bindings, ready for the next use.
  void reset();
  /// Every row, each read by `read(*this)`, then resets (also on an error).
  template <typename Read>
  auto collect(Read read) -> absl::StatusOr<std::vector<decltype(read(*this))>> {
    std::vector<decltype(read(*this))> rows;
    for (;;) {
      absl::StatusOr<bool> row = step();
      if (!row.ok()) {
        reset();
        return row.status();
      }
      if (!*row) break;
      rows.push_back(read(*this));
    }
    reset();
    return rows;
  }
  /// Steps once and returns the first column as an integer (0 without a row, e.g. a
  /// count), then resets: for queries of one number.
  absl::StatusOr<std::int64_t> single_int();

  std::int64_t column_int(int index) const { return sqlite3_column_int64(statement_, index); }
  std::string column_text(int index) const;
  /// A BLOB (or text) column's bytes.
  std::string column_blob(int index) const;
  bool column_null(int index) const {
    return sqlite3_column_type(statement_, index) == SQLITE_NULL;
  }
  /// An integer column, or nullopt when it is NULL.
  std::optional<std::int64_t> column_optional_int(int index) const {
    if (column_null(index)) return std::nullopt;
    return column_int(index);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
};

/// One connection. Not thread-safe: each thread uses its own.
class sqlite_db final {
 public:
  /// Opens (creating when missing) the database at `path`.
  static absl::StatusOr<std::unique_ptr<sqlite_db>> open(const std::string& path);
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;
  ~sqlite_db() {
    statements_.clear();  // finalized before the connection closes
    sqlite3_close_v2(db_);
  }

  /// Runs one or more statements without parameters.
  absl::Status exec(const std::string& sql);
  /// Compiles `sql` into a statement.
  absl::StatusOr<std::unique_ptr<sqlite_statement>> prepare(std::string_view sql);
  /// The statement for `sql`, compiled on first use and kept with the connection, reset
  /// and ready to bind: for code that runs the same few statements often on a connection
  /// it does not own (alerting on the writer's).
  absl::StatusOr<sqlite_statement*> cached(std::string_view sql);
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  /// The rowid of the last INSERT.
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  /// The single integer a query like "PRAGMA user_version" returns.
  absl::StatusOr<std::int64_t> query_int(std::string_view sql);

  /// Calls `committed` with the number of frames in the write-ahead log after each commit
  /// of this connection, on the committing thread. This replaces SQLite's automatic
  /// checkpoints (wal_autocheckpoint): the caller checkpoints instead.
  void on_wal_commit(std::function<void(int frames)> committed);

  /// What a checkpoint did, in write-ahead log frames (pages).
  struct checkpoint_result {
    int log_frames = 0;           ///< Frames in the log.
    int checkpointed_frames = 0;  ///< Of those, copied into the database file.
  };
  /// Copies the write-ahead log into the database file. `mode` is SQLITE_CHECKPOINT_PASSIVE
  /// (copies what it can without waiting for anyone) or SQLITE_CHECKPOINT_RESTART (waits
  /// for the writer through the busy timeout and makes the next commit start a new log).
  absl::StatusOr<checkpoint_result> checkpoint(int mode);

 private:
  explicit sqlite_db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::function<void(int)> wal_committed_;
  absl::flat_hash_map<std::string, std::unique_ptr<sqlite_statement>> statements_;  // cached()
};

/// The status for SQLite result `code` on `db` (nullptr: from the code alone):
/// Unavailable for a full disk or a busy, locked or unopenable database (worth retrying
/// later; answered 503), Internal otherwise.
absl::Status sqlite_error(sqlite3* db, int code, std::string_view context);

}  // namespace warden::sink

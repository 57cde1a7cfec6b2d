#include "store/sqlite.hpp"

#include <fmt/format.h>

#include <utility>

namespace warden::sink {

namespace {

// A full disk or a busy database may pass; anything else is a bug or corruption.
absl::StatusCode code_for(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status sqlite_error(sqlite3* db, int code, std::string_view context) {
  return absl::Status{
      code_for(code),
      fmt::format("{}: {}", context, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code))};
}

sqlite_statement& sqlite_statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_, index, value);
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::string_view value) {
  sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

sqlite_statement& sqlite_statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

sqlite_statement& sqlite_statement::bind_unowned(int index, std::string_view value) {
  sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}

sqlite_statement& sqlite_statement::bind_blob_unowned(int index, std::string_view bytes) {
  sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
  return *this;
}

sqlite_statement& sqlite_statement::bind_null(int index) {
  sqlite3_bind_null(statement_, index);
  return *this;
}

sqlite_statement& sqlite_statement::bind_optional(int index,
                                                  const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

sqlite_statement& sqlite_statement::bind_optional(int index,
                                                  const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view{*value}) : bind_null(index);
}

absl::StatusOr<bool> sqlite_statement::step() {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  const absl::Status error = sqlite_error(db_, code, sqlite3_sql(statement_));
  sqlite3_reset(statement_);
  return error;
}

absl::Status sqlite_statement::run() {
  absl::StatusOr<bool> row = step();
  while (row.ok() && *row) row = step();
  reset();
  return row.status();
}

void sqlite_statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::string sqlite_statement::column_blob(int index) const {
  const void* bytes = sqlite3_column_blob(statement_, index);
  if (bytes == nullptr) return {};
  return {static_cast<const char*>(bytes),
          static_cast<std::size_t>(sqlite3_column_bytes(statement_, index))};
}

std::string sqlite_statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(statement_, index);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(statement_, index))};
}

absl::StatusOr<std::unique_ptr<sqlite_db>> sqlite_db::open(const std::string& path) {
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    absl::Status error = sqlite_error(db, code, fmt::format("cannot open database {}", path));
    sqlite3_close_v2(db);
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<sqlite_db>{new sqlite_db{db}};
}

absl::Status sqlite_db::exec(const std::string& sql) {
  char* message = nullptr;
  const int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (code == SQLITE_OK) return absl::OkStatus();
  const std::string text = message != nullptr ? message : sqlite3_errstr(code);
  sqlite3_free(message);
  return absl::Status{code_for(code), fmt::format("{} (in: {})", text, sql.substr(0, 80))};
}

absl::StatusOr<std::unique_ptr<sqlite_statement>> sqlite_db::prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  const int code = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (code != SQLITE_OK) return sqlite_error(db_, code, fmt::format("preparing {}", sql));
  return std::make_unique<sqlite_statement>(db_, statement);
}

absl::StatusOr<std::int64_t> sqlite_statement::single_int() {
  absl::StatusOr<bool> row = step();
  if (!row.ok()) {
    reset();
    return row.status();
  }
  const std::int64_t value = *row ? column_int(0) : 0;
  reset();
  return value;
}

absl::StatusOr<sqlite_statement*> sqlite_db::cached(std::string_view sql) {
  auto found = statements_.find(absl::string_view{sql.data(), sql.size()});
  if (found == statements_.end()) {
    absl::StatusOr<std::unique_ptr<sqlite_statement>> prepared = prepare(sql);
    if (!prepared.ok()) return prepared.status();
    found = statements_.emplace(std::string{sql}, *std::move(prepared)).first;
  }
  found->second->reset();
  return found->second.get();
}

absl::StatusOr<std::int64_t> sqlite_db::query_int(std::string_view sql) {
  absl::StatusOr<std::unique_ptr<sqlite_statement>> statement = prepare(sql);
  if (!statement.ok()) return statement.status();
  absl::StatusOr<bool> row = (*statement)->step();
  if (!row.ok()) return row.status();
  return *row ? (*statement)->column_int(0) : 0;
}

void sqlite_db::on_wal_commit(std::function<void(int frames)> committed) {
  wal_committed_ = std::move(committed);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int frames) {
        static_cast<sqlite_db*>(self)->wal_committed_(frames);
        return SQLITE_OK;
      },
      this);
}

absl::StatusOr<sqlite_db::checkpoint_result> sqlite_db::checkpoint(int mode) {
  checkpoint_result result;
  const int code =
      sqlite3_wal_checkpoint_v2(db_, "main", mode, &result.log_frames, &result.checkpointed_frames);
  // BUSY: a RESTART did copy, but a reader or the writer kept it from restarting the log.
  if (code != SQLITE_OK && code != SQLITE_BUSY) return sqlite_error(db_, code, "checkpoint");
  return result;
}

}  // namespace warden::sink

// The trackers' webhook log in SQLite.
#include "outbox/inbound_store.hpp"

#include "fmt/format.h"

namespace warden::sink {
namespace {

constexpr std::string_view kInboundColumns =
    "id, received, tracker, source, delivery_key, event, ticket, issue_id, status, outcome, "
    "message, headers, body";

inbound_delivery read_inbound(const sqlite_statement& row) {
  inbound_delivery read;
  read.id = row.column_int(0);
  read.received_ms = row.column_int(1);
  read.tracker = row.column_text(2);
  read.source = row.column_text(3);
  read.delivery_key = row.column_null(4) ? "" : row.column_text(4);
  read.event = row.column_text(5);
  read.ticket = row.column_null(6) ? "" : row.column_text(6);
  read.issue_id = row.column_optional_int(7);
  read.status = static_cast<int>(row.column_int(8));
  read.outcome = row.column_text(9);
  read.message = row.column_text(10);
  read.headers = row.column_text(11);
  read.body = row.column_text(12);
  return read;
}

std::optional<std::string> unless_empty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

absl::StatusOr<std::int64_t> record_inbound(sqlite_db& db, const inbound_delivery& delivery) {
  absl::StatusOr<sqlite_statement*> insert = db.cached(fmt::format(
      "INSERT INTO inbound_deliveries ({}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      kInboundColumns));
  if (!insert.ok()) return insert.status();
  (*insert)
      ->bind(1, delivery.received_ms)
      .bind(2, delivery.tracker)
      .bind(3, delivery.source)
      .bind_optional(4, unless_empty(delivery.delivery_key))
      .bind(5, delivery.event)
      .bind_optional(6, unless_empty(delivery.ticket))
      .bind_optional(7, delivery.issue_id)
      .bind(8, std::int64_t{delivery.status})
      .bind(9, delivery.outcome)
      .bind(10, delivery.message)
      .bind(11, delivery.headers)
      .bind(12, delivery.body);
  if (absl::Status inserted = (*insert)->run(); !inserted.ok()) return inserted;
  return db.last_insert_id();
}

absl::StatusOr<bool> inbound_seen(sqlite_db& db, const std::string& tracker,
                                  const std::string& delivery_key) {
  absl::StatusOr<sqlite_statement*> query = db.cached(
      "SELECT count(*) FROM inbound_deliveries WHERE tracker = ? AND delivery_key = ? "
      "AND outcome NOT IN ('duplicate', 'rejected')");
  if (!query.ok()) return query.status();
  (*query)->bind(1, tracker).bind(2, delivery_key);
  absl::StatusOr<std::int64_t> count = (*query)->single_int();
  if (!count.ok()) return count.status();
  return *count > 0;
}

absl::StatusOr<std::vector<inbound_delivery>> list_inbound(sqlite_db& db,
                                                           const inbound_filter& filter) {
  absl::StatusOr<sqlite_statement*> query = db.cached(fmt::format(
      "SELECT {} FROM inbound_deliveries WHERE (?1 = '' OR tracker = ?1) AND "
      "(?2 = '' OR outcome = ?2) AND (?3 IS NULL OR issue_id = ?3) AND (?4 IS NULL OR id < ?4) "
      "ORDER BY id DESC LIMIT ?5",
      kInboundColumns));
  if (!query.ok()) return query.status();
  (*query)
      ->bind(1, filter.tracker)
      .bind(2, filter.outcome)
      .bind_optional(3, filter.issue_id)
      .bind_optional(4, filter.before_id)
      .bind(5, std::int64_t{filter.limit});
  return (*query)->collect(read_inbound);
}

absl::StatusOr<std::int64_t> prune_inbound(sqlite_db& db, std::int64_t before_ms) {
  absl::StatusOr<sqlite_statement*> prune =
      db.cached("DELETE FROM inbound_deliveries WHERE received < ?");
  if (!prune.ok()) return prune.status();
  (*prune)->bind(1, before_ms);
  if (absl::Status pruned = (*prune)->run(); !pruned.ok()) return pruned;
  return db.changes();
}

}  // namespace warden::sink

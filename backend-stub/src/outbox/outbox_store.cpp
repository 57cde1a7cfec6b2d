#include "outbox/outbox_store.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

#include "fmt/format.h"

namespace warden::sink {
namespace {

constexpr const char* kDeliveryColumns =
    "id, created, kind, target, issue_id, idempotency_key, ordering_key, intent, state, "
    "uncertain, attempts, next_attempt, last_attempt, last_status, last_error, finished, "
    "replay_of, actor";

delivery_row read_delivery(const sqlite_statement& row) {
  delivery_row read;
  read.id = row.column_int(0);
  read.what.created_ms = row.column_int(1);
  read.what.kind = row.column_text(2);
  read.what.target = row.column_text(3);
  read.what.issue_id = row.column_null(4) ? 0 : row.column_int(4);
  read.what.idempotency_key = row.column_text(5);
  read.what.ordering_key = row.column_null(6) ? "" : row.column_text(6);
  read.what.intent = row.column_text(7);
  read.state = row.column_text(8);
  read.uncertain = row.column_int(9) != 0;
  read.attempts = row.column_int(10);
  read.next_attempt_ms = row.column_int(11);
  read.last_attempt_ms = row.column_optional_int(12);
  read.last_status = row.column_optional_int(13);
  read.last_error = row.column_null(14) ? "" : row.column_text(14);
  read.finished_ms = row.column_optional_int(15);
  read.what.replay_of = row.column_null(16) ? 0 : row.column_int(16);
  read.what.actor = row.column_null(17) ? "" : row.column_text(17);
  return read;
}

// Binds `value` at `index`, or NULL when it is 0 / empty.
void bind_or_null(sqlite_statement& statement, int index, std::int64_t value) {
  if (value == 0) {
    statement.bind_null(index);
  } else {
    statement.bind(index, value);
  }
}
void bind_or_null(sqlite_statement& statement, int index, const std::string& value) {
  if (value.empty()) {
    statement.bind_null(index);
  } else {
    statement.bind(index, value);
  }
}

// The rows `query` selects (bound by `bind`), read as deliveries.
absl::StatusOr<std::vector<delivery_row>> select_deliveries(sqlite_statement& query) {
  return query.collect(read_delivery);
}

}  // namespace

std::string incident_key(std::int64_t project_id, std::string_view group_hash) {
  return fmt::format("wd:{}:{}", project_id, group_hash.substr(0, 16));
}

absl::StatusOr<std::optional<ticket_record>> find_ticket(sqlite_db& db, std::int64_t issue_id) {
  absl::StatusOr<sqlite_statement*> query = db.cached(
      "SELECT t.issue_id, t.tracker, t.project, t.team, t.incident_key, t.state, t.external_id, "
      "t.external_key, t.url, t.remote_state, t.created, t.opened, d.external_key, d.url "
      "FROM tickets t LEFT JOIN digests d ON d.id = t.digest_id WHERE t.issue_id = ?");
  if (!query.ok()) return query.status();
  sqlite_statement& row = **query;
  row.bind(1, issue_id);
  absl::StatusOr<bool> found = row.step();
  if (!found.ok()) return found.status();
  if (!*found) {
    row.reset();
    return std::optional<ticket_record>{};
  }
  const auto text = [&](int column) {
    return row.column_null(column) ? "" : row.column_text(column);
  };
  ticket_record ticket;
  ticket.issue_id = row.column_int(0);
  ticket.tracker = text(1);
  ticket.project = text(2);
  ticket.team = text(3);
  ticket.incident_key = text(4);
  ticket.state = text(5);
  ticket.external_id = text(6);
  ticket.external_key = text(7);
  ticket.url = text(8);
  ticket.remote_state = text(9);
  ticket.created_ms = row.column_int(10);
  ticket.opened_ms = row.column_optional_int(11);
  ticket.digest_key = text(12);
  ticket.digest_url = text(13);
  row.reset();
  return std::optional<ticket_record>{std::move(ticket)};
}

absl::Status mark_ticket_created(sqlite_db& db, std::int64_t issue_id, const std::string& id,
                                 const std::string& key, const std::string& url,
                                 std::int64_t now_ms) {
  absl::StatusOr<sqlite_statement*> update = db.cached(
      "UPDATE tickets SET state = 'created', external_id = ?2, external_key = ?3, url = ?4, "
      "remote_state = 'open', opened = ?5 WHERE issue_id = ?1");
  if (!update.ok()) return update.status();
  (*update)->bind(1, issue_id).bind(2, id).bind(3, key).bind(4, url).bind(5, now_ms);
  return (*update)->run();
}

absl::Status mark_digest_created(sqlite_db& db, std::int64_t digest_id, const std::string& id,
                                 const std::string& key, const std::string& url) {
  absl::StatusOr<sqlite_statement*> update = db.cached(
      "UPDATE digests SET state = 'created', external_id = ?2, external_key = ?3, url = ?4 "
      "WHERE id = ?1");
  if (!update.ok()) return update.status();
  (*update)->bind(1, digest_id).bind(2, id).bind(3, key).bind(4, url);
  return (*update)->run();
}

absl::Status set_ticket_state(sqlite_db& db, std::int64_t issue_id, const std::string& state) {
  absl::StatusOr<sqlite_statement*> update =
      db.cached("UPDATE tickets SET state = ?2 WHERE issue_id = ?1");
  if (!update.ok()) return update.status();
  (*update)->bind(1, issue_id).bind(2, state);
  return (*update)->run();
}

absl::StatusOr<std::optional<std::int64_t>> find_ticket_issue(sqlite_db& db,
                                                              const std::string& tracker,
                                                              const std::string& external_key) {
  absl::StatusOr<sqlite_statement*> query =
      db.cached("SELECT issue_id FROM tickets WHERE tracker = ? AND external_key = ?");
  if (!query.ok()) return query.status();
  sqlite_statement& row = **query;
  row.bind(1, tracker).bind(2, external_key);
  absl::StatusOr<bool> found = row.step();
  std::optional<std::int64_t> issue;
  if (found.ok() && *found) issue = row.column_int(0);
  row.reset();
  if (!found.ok()) return found.status();
  return issue;
}

absl::Status set_ticket_remote_state(sqlite_db& db, std::int64_t issue_id,
                                     const std::string& remote_state) {
  absl::StatusOr<sqlite_statement*> update =
      db.cached("UPDATE tickets SET remote_state = ?2 WHERE issue_id = ?1");
  if (!update.ok()) return update.status();
  (*update)->bind(1, issue_id).bind(2, remote_state);
  return (*update)->run();
}

absl::StatusOr<std::int64_t> enqueue_delivery(sqlite_db& db, const outbox_intent& intent) {
  absl::StatusOr<sqlite_statement*> insert = db.cached(
      "INSERT OR IGNORE INTO outbox (created, kind, target, issue_id, idempotency_key, "
      "ordering_key, intent, state, next_attempt, replay_of, actor) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', max(?1, ?10), ?8, ?9)");
  if (!insert.ok()) return insert.status();
  sqlite_statement& row = **insert;
  row.bind(1, intent.created_ms).bind(2, intent.kind).bind(3, intent.target);
  bind_or_null(row, 4, intent.issue_id);
  row.bind(5, intent.idempotency_key);
  bind_or_null(row, 6, intent.ordering_key);
  row.bind(7, intent.intent);
  bind_or_null(row, 8, intent.replay_of);
  bind_or_null(row, 9, intent.actor);
  row.bind(10, intent.due_ms);
  WARDEN_RETURN_IF_ERROR(row.run());
  return db.changes() == 1 ? db.last_insert_id() : 0;
}

absl::Status recover_interrupted_deliveries(sqlite_db& db, std::int64_t now_ms) {
  absl::StatusOr<sqlite_statement*> rows = db.cached(
      "UPDATE outbox SET state = 'retrying', uncertain = 1, next_attempt = ?1 "
      "WHERE state = 'in_flight'");
  if (!rows.ok()) return rows.status();
  (*rows)->bind(1, now_ms);
  WARDEN_RETURN_IF_ERROR((*rows)->run());
  absl::StatusOr<sqlite_statement*> attempts = db.cached(
      "UPDATE delivery_attempts SET outcome = 'interrupted', "
      "error = 'interrupted: the sink stopped before the answer came' WHERE outcome = 'unknown'");
  if (!attempts.ok()) return attempts.status();
  return (*attempts)->run();
}

absl::StatusOr<std::optional<delivery_row>> claim_due_delivery(
    sqlite_db& db, std::int64_t now_ms, const std::vector<std::string>& paused_targets) {
  absl::StatusOr<sqlite_statement*> due = db.cached(fmt::format(
      "SELECT {} FROM outbox o WHERE state IN ('pending', 'retrying') AND next_attempt <= ?1 "
      "AND target NOT IN (SELECT value FROM json_each(?2)) "
      "AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE "
      "p.ordering_key = o.ordering_key AND p.id <> o.id AND (p.state = 'in_flight' OR "
      "(p.id < o.id AND p.state IN ('pending', 'retrying'))))) "
      "ORDER BY next_attempt, id LIMIT 1",
      kDeliveryColumns));
  if (!due.ok()) return due.status();
  rapidjson::StringBuffer paused;
  rapidjson::Writer<rapidjson::StringBuffer> names{paused};
  names.StartArray();
  for (const std::string& target : paused_targets) {
    names.String(target.data(), static_cast<rapidjson::SizeType>(target.size()));
  }
  names.EndArray();
  (*due)->bind(1, now_ms).bind(2, std::string_view{paused.GetString(), paused.GetSize()});
  absl::StatusOr<std::vector<delivery_row>> found = select_deliveries(**due);
  if (!found.ok()) return found.status();
  if (found->empty()) return std::optional<delivery_row>{};
  delivery_row claimed = std::move(found->front());
  absl::StatusOr<sqlite_statement*> take = db.cached(
      "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, last_attempt = ?2 "
      "WHERE id = ?1");
  if (!take.ok()) return take.status();
  (*take)->bind(1, claimed.id).bind(2, now_ms);
  WARDEN_RETURN_IF_ERROR((*take)->run());
  claimed.state = "in_flight";
  ++claimed.attempts;
  claimed.last_attempt_ms = now_ms;
  return std::optional<delivery_row>{std::move(claimed)};
}

absl::StatusOr<std::optional<std::int64_t>> next_due_ms(sqlite_db& db) {
  absl::StatusOr<sqlite_statement*> next =
      db.cached("SELECT min(next_attempt) FROM outbox WHERE state IN ('pending', 'retrying')");
  if (!next.ok()) return next.status();
  absl::StatusOr<bool> row = (*next)->step();
  if (!row.ok()) return row.status();
  std::optional<std::int64_t> due = (*next)->column_optional_int(0);
  (*next)->reset();
  return due;
}

absl::StatusOr<std::int64_t> begin_attempt(sqlite_db& db, std::int64_t delivery_id,
                                           const delivery_attempt& attempt) {
  absl::StatusOr<sqlite_statement*> insert = db.cached(
      "INSERT INTO delivery_attempts (delivery_id, attempt, step, started, request, outcome) "
      "VALUES (?, ?, ?, ?, ?, 'unknown')");
  if (!insert.ok()) return insert.status();
  (*insert)
      ->bind(1, delivery_id)
      .bind(2, attempt.attempt)
      .bind(3, attempt.step)
      .bind(4, attempt.started_ms)
      .bind(5, attempt.request);
  WARDEN_RETURN_IF_ERROR((*insert)->run());
  return db.last_insert_id();
}

absl::Status finish_attempt(sqlite_db& db, const delivery_attempt& attempt) {
  absl::StatusOr<sqlite_statement*> update = db.cached(
      "UPDATE delivery_attempts SET duration_ms = ?2, status = ?3, response_headers = ?4, "
      "response_body = ?5, error = ?6, outcome = ?7 WHERE id = ?1");
  if (!update.ok()) return update.status();
  sqlite_statement& row = **update;
  row.bind(1, attempt.id).bind_optional(2, attempt.duration_ms).bind_optional(3, attempt.status);
  row.bind(4, attempt.response_headers).bind(5, attempt.response_body);
  bind_or_null(row, 6, attempt.error);
  row.bind(7, attempt.outcome);
  return row.run();
}

absl::Status update_delivery(sqlite_db& db, const delivery_row& row) {
  absl::StatusOr<sqlite_statement*> update = db.cached(
      "UPDATE outbox SET state = ?2, uncertain = ?3, next_attempt = ?4, last_status = ?5, "
      "last_error = ?6, finished = ?7 WHERE id = ?1");
  if (!update.ok()) return update.status();
  sqlite_statement& statement = **update;
  statement.bind(1, row.id)
      .bind(2, row.state)
      .bind(3, std::int64_t{row.uncertain ? 1 : 0})
      .bind(4, row.next_attempt_ms)
      .bind_optional(5, row.last_status);
  bind_or_null(statement, 6, row.last_error);
  statement.bind_optional(7, row.finished_ms);
  return statement.run();
}

absl::StatusOr<std::int64_t> replay_delivery(sqlite_db& db, std::int64_t id,
                                             const std::string& actor, std::int64_t now_ms) {
  absl::StatusOr<std::optional<delivery_row>> found = find_delivery(db, id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return absl::NotFoundError(fmt::format("no delivery {}", id));
  const delivery_row& original = **found;
  if (original.state != "failed" && original.state != "exhausted") {
    return absl::FailedPreconditionError(fmt::format(
        "delivery {} is {}; only failed or exhausted deliveries are replayed", id, original.state));
  }
  absl::StatusOr<sqlite_statement*> replays =
      db.cached("SELECT count(*) FROM outbox WHERE replay_of = ?");
  if (!replays.ok()) return replays.status();
  (*replays)->bind(1, id);
  absl::StatusOr<bool> counted = (*replays)->step();
  if (!counted.ok()) return counted.status();
  const std::int64_t earlier = (*replays)->column_int(0);
  (*replays)->reset();
  outbox_intent again = original.what;
  again.idempotency_key = fmt::format("{}:replay:{}", original.what.idempotency_key, earlier + 1);
  again.created_ms = now_ms;
  again.actor = actor;
  again.replay_of = id;
  return enqueue_delivery(db, again);
}

absl::StatusOr<std::int64_t> prune_deliveries(sqlite_db& db, std::int64_t delivered_before_ms,
                                              std::int64_t failed_before_ms) {
  absl::StatusOr<sqlite_statement*> prune = db.cached(
      "DELETE FROM outbox WHERE finished IS NOT NULL AND ((state IN ('delivered', 'superseded') "
      "AND finished < ?1) OR (state IN ('failed', 'exhausted') AND finished < ?2))");
  if (!prune.ok()) return prune.status();
  (*prune)->bind(1, delivered_before_ms).bind(2, failed_before_ms);
  WARDEN_RETURN_IF_ERROR((*prune)->run());
  return db.changes();
}

absl::StatusOr<std::vector<delivery_row>> waiting_deliveries(sqlite_db& db,
                                                             const std::string& target,
                                                             const std::string& kind,
                                                             std::int64_t except_id, int limit) {
  absl::StatusOr<sqlite_statement*> query = db.cached(
      fmt::format("SELECT {} FROM outbox WHERE target = ?1 AND kind = ?2 AND state IN ('pending', "
                  "'retrying') AND id != ?3 ORDER BY id LIMIT ?4",
                  kDeliveryColumns));
  if (!query.ok()) return query.status();
  (*query)->bind(1, target).bind(2, kind).bind(3, except_id).bind(4, std::int64_t{limit});
  return select_deliveries(**query);
}

absl::Status supersede_deliveries(sqlite_db& db, const std::vector<std::int64_t>& ids,
                                  const std::string& reason, std::int64_t now_ms) {
  absl::StatusOr<sqlite_statement*> update = db.cached(
      "UPDATE outbox SET state = 'superseded', last_error = ?2, finished = ?3 WHERE id = ?1 AND "
      "state IN ('pending', 'retrying')");
  if (!update.ok()) return update.status();
  for (const std::int64_t id : ids) {
    (*update)->bind(1, id).bind(2, reason).bind(3, now_ms);
    WARDEN_RETURN_IF_ERROR((*update)->run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, target_backlog>>> target_backlogs(sqlite_db& db) {
  absl::StatusOr<sqlite_statement*> query = db.cached(
      "SELECT target, sum(state IN ('pending', 'retrying', 'in_flight')), "
      "sum(state = 'retrying'), sum(state IN ('failed', 'exhausted')), "
      "min(CASE WHEN state IN ('pending', 'retrying', 'in_flight') THEN created END), "
      "min(CASE WHEN state IN ('pending', 'retrying') THEN next_attempt END), "
      "(SELECT last_error FROM outbox e WHERE e.target = o.target AND e.last_error != '' ORDER "
      "BY e.id DESC LIMIT 1) FROM outbox o GROUP BY target ORDER BY target");
  if (!query.ok()) return query.status();
  return (*query)->collect([](const sqlite_statement& row) {
    target_backlog backlog;
    backlog.waiting = row.column_int(1);
    backlog.retrying = row.column_int(2);
    backlog.failed = row.column_int(3);
    backlog.oldest_waiting_ms = row.column_optional_int(4);
    backlog.next_attempt_ms = row.column_optional_int(5);
    backlog.last_error = row.column_null(6) ? "" : row.column_text(6);
    return std::pair{row.column_text(0), std::move(backlog)};
  });
}

absl::StatusOr<std::vector<delivery_row>> list_deliveries(sqlite_db& db,
                                                          const delivery_filter& filter) {
  absl::StatusOr<sqlite_statement*> query = db.cached(fmt::format(
      "SELECT {} FROM outbox WHERE (?1 = '' OR target = ?1) AND (?2 = '' OR kind = ?2) AND "
      "(?3 = '' OR state = ?3) AND (?4 IS NULL OR issue_id = ?4) AND (?5 IS NULL OR id < ?5) "
      "ORDER BY id DESC LIMIT ?6",
      kDeliveryColumns));
  if (!query.ok()) return query.status();
  (*query)
      ->bind(1, filter.target)
      .bind(2, filter.kind)
      .bind(3, filter.state)
      .bind_optional(4, filter.issue_id)
      .bind_optional(5, filter.before_id)
      .bind(6, std::int64_t{filter.limit});
  return select_deliveries(**query);
}

absl::StatusOr<std::optional<delivery_row>> find_delivery(sqlite_db& db, std::int64_t id) {
  absl::StatusOr<sqlite_statement*> query =
      db.cached(fmt::format("SELECT {} FROM outbox WHERE id = ?", kDeliveryColumns));
  if (!query.ok()) return query.status();
  (*query)->bind(1, id);
  absl::StatusOr<std::vector<delivery_row>> rows = select_deliveries(**query);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<delivery_row>{};
  return std::optional<delivery_row>{std::move(rows->front())};
}

absl::StatusOr<std::vector<delivery_attempt>> delivery_attempts(sqlite_db& db,
                                                                std::int64_t delivery_id) {
  absl::StatusOr<sqlite_statement*> query = db.cached(
      "SELECT id, attempt, step, started, duration_ms, request, status, response_headers, "
      "response_body, error, outcome FROM delivery_attempts WHERE delivery_id = ? ORDER BY id");
  if (!query.ok()) return query.status();
  sqlite_statement& rows = **query;
  rows.bind(1, delivery_id);
  std::vector<delivery_attempt> attempts;
  for (;;) {
    absl::StatusOr<bool> row = rows.step();
    if (!row.ok()) {
      rows.reset();
      return row.status();
    }
    if (!*row) break;
    delivery_attempt& read = attempts.emplace_back();
    read.id = rows.column_int(0);
    read.attempt = rows.column_int(1);
    read.step = rows.column_text(2);
    read.started_ms = rows.column_int(3);
    read.duration_ms = rows.column_optional_int(4);
    read.request = rows.column_text(5);
    read.status = rows.column_optional_int(6);
    read.response_headers = rows.column_null(7) ? "" : rows.column_text(7);
    read.response_body = rows.column_null(8) ? "" : rows.column_text(8);
    read.error = rows.column_null(9) ? "" : rows.column_text(9);
    read.outcome = rows.column_text(10);
  }
  rows.reset();
  return attempts;
}

absl::StatusOr<delivery_counts> issue_delivery_counts(sqlite_db& db, std::int64_t issue_id) {
  absl::StatusOr<sqlite_statement*> query = db.cached(
      "SELECT coalesce(sum(state IN ('pending', 'in_flight', 'retrying')), 0), "
      "coalesce(sum(state IN ('failed', 'exhausted')), 0) FROM outbox WHERE issue_id = ?");
  if (!query.ok()) return query.status();
  (*query)->bind(1, issue_id);
  absl::StatusOr<bool> row = (*query)->step();
  if (!row.ok()) return row.status();
  delivery_counts counts{(*query)->column_int(0), (*query)->column_int(1)};
  (*query)->reset();
  return counts;
}

}  // namespace warden::sink

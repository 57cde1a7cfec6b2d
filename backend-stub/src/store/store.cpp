#include "store/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "store/pending_counts.hpp"
#include "store/schema.hpp"

namespace warden::sink {
namespace {

constexpr const char* kIssueColumns =
    "id, project_id, group_hash, grouping_version, grouping_kind, grouping_components, title, "
    "culprit, team, function, product, owner_source, level, status, substatus, "
    "resolved_in_release, muted_until, muted_remaining, event_count, user_count, "
    "stored_events, first_seen, last_seen, first_release, last_release, latest_event_id";

issue_row read_issue(const sqlite_statement& row) {
  issue_row issue;
  issue.id = row.column_int(0);
  issue.project_id = row.column_int(1);
  issue.group_hash = row.column_text(2);
  issue.grouping_version = static_cast<int>(row.column_int(3));
  issue.grouping_kind = row.column_text(4);
  issue.grouping_components = row.column_text(5);
  issue.title = row.column_text(6);
  issue.culprit = row.column_text(7);
  issue.team = row.column_text(8);
  issue.function = row.column_text(9);
  issue.product = row.column_text(10);
  issue.owner_source = row.column_text(11);
  issue.level = row.column_text(12);
  issue.status = row.column_text(13);
  issue.substatus = row.column_text(14);
  if (!row.column_null(15)) issue.resolved_in_release = row.column_text(15);
  if (!row.column_null(16)) issue.muted_until_ms = row.column_int(16);
  if (!row.column_null(17)) issue.muted_remaining = row.column_int(17);
  issue.event_count = row.column_int(18);
  issue.user_count = row.column_int(19);
  issue.stored_events = row.column_int(20);
  issue.first_seen_ms = row.column_int(21);
  issue.last_seen_ms = row.column_int(22);
  issue.first_release = row.column_text(23);
  issue.last_release = row.column_text(24);
  issue.latest_event_id = row.column_text(25);
  return issue;
}

}  // namespace

// The writer's prepared statements, compiled once.
struct store::statements {
  statements(sqlite_db& database, const store_options& options)
      : db(database),
        max_events_per_issue(options.max_events_per_issue),
        max_recent_event_ids(options.max_recent_event_ids),
        id_index_run(options.id_index_run),
        fold_interval(options.fold_interval) {}

  sqlite_db& db;
  std::int64_t max_events_per_issue;
  std::int64_t max_recent_event_ids;
  std::size_t id_index_run;
  std::chrono::milliseconds fold_interval;
  std::int64_t recent_event_ids = 0;  // rows in recent_event_ids
  // Counts of the events after counted.through_event, not yet in their issues' rows.
  pending_counts pending;
  std::int64_t last_event = 0;       // rowid of the newest event stored
  std::int64_t counted_through = 0;  // counted.through_event as written
  // The events after counted.ids_through, not yet in event_ids (index_ids()).
  using event_key = std::pair<std::int64_t, std::string>;  // project, event id
  struct unindexed_event {
    std::int64_t issue_id;
    std::int64_t event;  // events.id
  };
  absl::flat_hash_map<event_key, unindexed_event> unindexed;
  // The run being written (index_run()): keys of `unindexed` in order, the next to write,
  // and the newest event when it began (counted.ids_through once it is written).
  std::vector<event_key> run;
  std::size_t run_next = 0;
  std::int64_t run_through = 0;
  absl::flat_hash_set<std::int64_t> at_cap;  // issues with max_events_per_issue waiting
  bool counts_stale = false;  // a failed commit left `pending` counting uncommitted events
  // The batch's transaction and each job's savepoint.
  std::unique_ptr<sqlite_statement> begin, commit, rollback, savepoint, release, rollback_to;
  std::unique_ptr<sqlite_statement> find_event_id, find_issue, insert_issue, fold_issue,
      insert_event, count_facet, add_user, count_users, trim_events, record_activity, count_owner,
      set_counted, read_counted, uncounted_events, select_issue, set_status, delete_old_events,
      recount_stored, cap_stored, upsert_setting, find_recent, remember_recent, forget_recent,
      insert_attachment, trim_attachments, delete_old_attachments, index_event_id, set_ids_through,
      unindexed_events, oldest_of_issue, forget_event_id, delete_old_event_ids, add_issue_event,
      trim_issue_events, delete_old_issue_events;

  static absl::StatusOr<std::unique_ptr<statements>> prepare(sqlite_db& db,
                                                             const store_options& options) {
    auto prepared = std::make_unique<statements>(db, options);
    const std::pair<std::unique_ptr<sqlite_statement>*, std::string> all[] = {
        {&prepared->begin, "BEGIN IMMEDIATE"},
        {&prepared->commit, "COMMIT"},
        {&prepared->rollback, "ROLLBACK"},
        {&prepared->savepoint, "SAVEPOINT job"},
        {&prepared->release, "RELEASE job"},
        {&prepared->rollback_to, "ROLLBACK TO job"},
        {&prepared->find_event_id,
         "SELECT issue_id FROM event_ids WHERE project_id = ? AND event_id = ?"},
        // OR IGNORE: an id indexed twice is the same row; failing the batch for it
        // would refuse every later event.
        {&prepared->index_event_id, "INSERT OR IGNORE INTO event_ids VALUES (?, ?, ?, ?)"},
        {&prepared->set_ids_through, "UPDATE counted SET ids_through = ?1"},
        {&prepared->unindexed_events,
         "SELECT id, project_id, event_id, issue_id FROM events WHERE id > ?1"},
        {&prepared->oldest_of_issue,
         "SELECT e.project_id, e.event_id FROM issue_events x JOIN events e ON e.id = x.event "
         "WHERE x.issue_id = ?1 ORDER BY x.event LIMIT ?2"},
        {&prepared->add_issue_event, "INSERT OR IGNORE INTO issue_events VALUES (?1, ?2)"},
        // After trim_events, which deletes the same events.
        {&prepared->trim_issue_events,
         "DELETE FROM issue_events WHERE issue_id = ?1 AND event IN (SELECT event FROM "
         "issue_events WHERE issue_id = ?1 ORDER BY event LIMIT ?2)"},
        {&prepared->delete_old_issue_events,
         "DELETE FROM issue_events WHERE (issue_id, event) IN (SELECT issue_id, id FROM events "
         "WHERE received < ? ORDER BY received, id LIMIT 10000)"},
        {&prepared->forget_event_id,
         "DELETE FROM event_ids WHERE project_id = ?1 AND event_id = ?2"},
        // The same chunk as delete_old_events, which follows it.
        {&prepared->delete_old_event_ids,
         "DELETE FROM event_ids WHERE (project_id, event_id) IN (SELECT project_id, event_id "
         "FROM events WHERE received < ? ORDER BY received, id LIMIT 10000)"},
        {&prepared->find_issue,
         "SELECT id, status, resolved_in_release, muted_until, muted_remaining, substatus, "
         "event_count, first_seen FROM issues WHERE project_id = ? AND group_hash = ?"},
        {&prepared->insert_issue,
         "INSERT INTO issues (project_id, group_hash, grouping_version, grouping_kind, "
         "grouping_components, title, culprit, team, function, product, owner_source, level, "
         "event_count, first_seen, last_seen, first_release, last_release, latest_event_id) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)"},
        {&prepared->fold_issue,
         "UPDATE issues SET event_count = event_count + ?2, level = ?3, "
         "last_seen = max(last_seen, ?4), latest_event_id = ?5, "
         "last_release = CASE WHEN ?6 = '' THEN last_release ELSE ?6 END, "
         "stored_events = stored_events + ?2, counted_through = ?7 WHERE id = ?1 "
         "RETURNING stored_events"},
        {&prepared->insert_event,
         "INSERT INTO events (project_id, event_id, issue_id, received, timestamp, level, "
         "environment, release, user_key, payload, owner_source) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
        {&prepared->count_facet,
         "INSERT INTO issue_facets VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET "
         "count = count + excluded.count, last_seen = max(last_seen, excluded.last_seen)"},
        {&prepared->add_user, "INSERT OR IGNORE INTO issue_users VALUES (?, ?)"},
        {&prepared->count_users, "UPDATE issues SET user_count = user_count + ?2 WHERE id = ?1"},
        {&prepared->set_counted, "UPDATE counted SET through_event = ?1"},
        {&prepared->read_counted, "SELECT through_event, ids_through FROM counted"},
        {&prepared->uncounted_events,
         "SELECT e.id, e.issue_id, e.project_id, e.event_id, e.received, e.level, "
         "e.environment, e.release, e.user_key, e.owner_source, i.team, i.function, i.product "
         "FROM events e JOIN issues i ON i.id = e.issue_id "
         "WHERE e.id > ?1 AND e.id > i.counted_through ORDER BY e.id"},
        {&prepared->trim_events,
         "DELETE FROM events WHERE id IN (SELECT event FROM issue_events WHERE issue_id = ?1 "
         "ORDER BY event LIMIT ?2)"},
        {&prepared->record_activity,
         "INSERT INTO issue_activity (issue_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)"},
        {&prepared->count_owner,
         "INSERT INTO owner_counts VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET "
         "events = events + excluded.events"},
        {&prepared->select_issue, fmt::format("SELECT {} FROM issues WHERE id = ?", kIssueColumns)},
        {&prepared->set_status,
         "UPDATE issues SET status = ?2, substatus = ?3, resolved_in_release = ?4, "
         "muted_until = ?5, muted_remaining = ?6 WHERE id = ?1"},
        {&prepared->delete_old_events,
         "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received < ? "
         "ORDER BY received, id LIMIT 10000)"},
        {&prepared->cap_stored, "UPDATE issues SET stored_events = ?2 WHERE id = ?1"},
        {&prepared->find_recent,
         "SELECT issue_id FROM recent_event_ids WHERE project_id = ? AND event_id = ?"},
        {&prepared->remember_recent,
         "INSERT OR IGNORE INTO recent_event_ids SELECT e.project_id, e.event_id, e.issue_id, "
         "e.received FROM issue_events x JOIN events e ON e.id = x.event WHERE x.issue_id = ?1 "
         "ORDER BY x.event LIMIT ?2"},
        {&prepared->forget_recent,
         "DELETE FROM recent_event_ids WHERE (project_id, event_id) IN (SELECT project_id, "
         "event_id FROM recent_event_ids ORDER BY received LIMIT ?)"},
        {&prepared->insert_attachment,
         "INSERT INTO attachments (project_id, event_id, filename, content_type, "
         "attachment_type, received, data) VALUES (?, ?, ?, ?, ?, ?, ?)"},
        {&prepared->trim_attachments,
         "DELETE FROM attachments WHERE project_id = ?1 AND event_id IN (SELECT e.event_id FROM "
         "issue_events x JOIN events e ON e.id = x.event WHERE x.issue_id = ?2 "
         "ORDER BY x.event LIMIT ?3)"},
        {&prepared->delete_old_attachments,
         "DELETE FROM attachments WHERE id IN (SELECT id FROM attachments WHERE received < ? "
         "LIMIT 10000)"},
        {&prepared->upsert_setting,
         "INSERT INTO settings VALUES (?1, ?2) ON CONFLICT DO UPDATE SET value = ?2"},
        {&prepared->recount_stored,
         "UPDATE issues SET stored_events = (SELECT count(*) FROM issue_events WHERE issue_id = "
         "issues.id) WHERE stored_events > 0"},
    };
    for (const auto& [target, sql] : all) {
      absl::StatusOr<std::unique_ptr<sqlite_statement>> statement = db.prepare(sql);
      if (!statement.ok()) return statement.status();
      *target = *std::move(statement);
    }
    // Events a crash left out of the counts or out of event_ids (and the ids remembered).
    WARDEN_RETURN_IF_ERROR(prepared->recount());
    if (!prepared->pending.empty() || !prepared->unindexed.empty()) {
      WARDEN_RETURN_IF_ERROR(prepared->begin->run());
      absl::Status folded = prepared->fold();
      if (folded.ok()) folded = prepared->commit->run();
      if (!folded.ok()) static_cast<void>(prepared->rollback->run());
      WARDEN_RETURN_IF_ERROR(folded);
    }
    return prepared;
  }

  // Counts again what the issue rows miss: the events after counted.through_event
  // that are also after their issue's counted_through; lists again the events after
  // counted.ids_through, whose ids event_ids misses.
  absl::Status recount() {
    pending.clear();
    at_cap.clear();
    unindexed.clear();
    run.clear();
    run_next = 0;
    // A rolled-back job may have remembered or forgotten ids.
    absl::StatusOr<std::int64_t> remembered = db.query_int("SELECT count(*) FROM recent_event_ids");
    if (!remembered.ok()) return remembered.status();
    recent_event_ids = *remembered;
    absl::StatusOr<bool> counted = read_counted->step();
    if (!counted.ok()) return counted.status();
    counted_through = *counted ? read_counted->column_int(0) : 0;
    const std::int64_t ids_through = *counted ? read_counted->column_int(1) : 0;
    read_counted->reset();
    last_event = counted_through;
    unindexed_events->bind(1, ids_through);
    for (;;) {
      absl::StatusOr<bool> row = unindexed_events->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      last_event = std::max(last_event, unindexed_events->column_int(0));
      unindexed.insert_or_assign(
          event_key{unindexed_events->column_int(1), unindexed_events->column_text(2)},
          unindexed_event{unindexed_events->column_int(3), unindexed_events->column_int(0)});
    }
    unindexed_events->reset();
    sqlite_statement& each = *uncounted_events;
    each.bind(1, counted_through);
    const auto now = pending_counts::clock::now();
    for (;;) {
      absl::StatusOr<bool> row = each.step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      last_event = std::max(last_event, each.column_int(0));
      const counted_event event{each.column_int(0),   each.column_int(1),   each.column_int(2),
                                each.column_text(3),  each.column_int(4),   each.column_text(5),
                                each.column_text(6),  each.column_text(7),  each.column_text(8),
                                each.column_text(10), each.column_text(11), each.column_text(12),
                                each.column_text(9)};
      count(event, now);
    }
    each.reset();
    return absl::OkStatus();
  }

  // Adds a stored event to the pending counts.
  void count(const counted_event& event, pending_counts::clock::time_point now) {
    pending.add(event, now);
    if (pending.events_of(event.issue_id) >= max_events_per_issue) at_cap.insert(event.issue_id);
  }

  // Folds the issues whose counts waited fold_interval, and those with as many events
  // waiting as they may keep; the caller holds the transaction.
  absl::Status fold_due() {
    if (run_next < run.size() || unindexed.size() >= id_index_run) {
      WARDEN_RETURN_IF_ERROR(index_run(kIdsPerBatch));
    }
    if (pending.empty()) return absl::OkStatus();
    std::vector<std::int64_t> due =
        pending.waiting_since(pending_counts::clock::now() - fold_interval);
    for (const std::int64_t issue_id : at_cap) {
      if (std::find(due.begin(), due.end(), issue_id) == due.end()) due.push_back(issue_id);
    }
    return fold(due);
  }

  // Folds every pending count and indexes every id; the caller holds the transaction.
  absl::Status fold() {
    WARDEN_RETURN_IF_ERROR(index_ids());
    return fold(pending.all());
  }

  // Ids written into event_ids per batch while a run is under way: writing a whole run
  // of 4096 at once held its batch up for 6-10 ms.
  static constexpr std::size_t kIdsPerBatch = 512;

  // Writes the ids of every unindexed event into event_ids: the rest of a run under way,
  // then a run of the ids that came after it began.
  absl::Status index_ids() {
    while (run_next < run.size() || !unindexed.empty()) {
      WARDEN_RETURN_IF_ERROR(index_run(std::numeric_limits<std::size_t>::max()));
    }
    return absl::OkStatus();
  }

  // Writes up to `limit` ids of the run under way, in key order, or of a new one if none
  // is: each page of the index then changes once per run, not once per event; slices of
  // a run cover neighbouring keys, so spreading it over batches changes no more pages.
  // Moves counted.ids_through when a run is written.
  absl::Status index_run(std::size_t limit) {
    if (run_next == run.size()) {
      if (unindexed.empty()) return absl::OkStatus();
      run.clear();
      run.reserve(unindexed.size());
      for (const auto& entry : unindexed) run.push_back(entry.first);
      std::sort(run.begin(), run.end());
      run_next = 0;
      run_through = last_event;
    }
    const std::size_t end = run_next + std::min(limit, run.size() - run_next);
    for (; run_next < end; ++run_next) {
      const auto waiting = unindexed.find(run[run_next]);
      if (waiting == unindexed.end()) continue;  // dropped by the cap meanwhile
      index_event_id->bind(1, waiting->first.first)
          .bind(2, waiting->first.second)
          .bind(3, waiting->second.issue_id)
          .bind(4, waiting->second.event);
      WARDEN_RETURN_IF_ERROR(index_event_id->run());
      unindexed.erase(waiting);
    }
    if (run_next < run.size()) return absl::OkStatus();
    run.clear();
    run_next = 0;
    set_ids_through->bind(1, run_through);
    return set_ids_through->run();
  }

  // Writes the pending counts of `issues` into their rows, facets, users and owner
  // counts, drops the events past each one's cap, and moves counted.through_event.
  absl::Status fold(const std::vector<std::int64_t>& issues) {
    for (const std::int64_t issue_id : issues) {
      WARDEN_RETURN_IF_ERROR(fold_issue_counts(issue_id, pending.of(issue_id)));
      pending.erase(issue_id);
      at_cap.erase(issue_id);
    }
    const std::int64_t through = pending.folded_below().value_or(last_event + 1) - 1;
    if (through == counted_through) return absl::OkStatus();
    set_counted->bind(1, through);
    WARDEN_RETURN_IF_ERROR(set_counted->run());
    counted_through = through;
    return absl::OkStatus();
  }

  absl::Status fold_issue_counts(std::int64_t issue_id, const issue_delta& delta) {
    fold_issue->bind(1, issue_id)
        .bind(2, delta.events)
        .bind(3, delta.level)
        .bind(4, delta.last_seen_ms)
        .bind(5, delta.latest_event_id)
        .bind(6, delta.last_release)
        .bind(7, delta.last_rowid);
    absl::StatusOr<bool> found = fold_issue->step();
    if (!found.ok()) return found.status();
    const std::int64_t stored = *found ? fold_issue->column_int(0) : 0;
    fold_issue->reset();
    for (const std::int64_t event : delta.rowids) {
      add_issue_event->bind(1, issue_id).bind(2, event);
      WARDEN_RETURN_IF_ERROR(add_issue_event->run());
    }
    if (stored > max_events_per_issue) {
      WARDEN_RETURN_IF_ERROR(drop_oldest(delta.project_id, issue_id, stored));
    }
    for (const auto& [facet, seen] : delta.facets) {
      count_facet->bind(1, issue_id)
          .bind(2, facet.first)
          .bind(3, facet.second)
          .bind(4, seen.count)
          .bind(5, seen.first_seen_ms)
          .bind(6, seen.last_seen_ms);
      WARDEN_RETURN_IF_ERROR(count_facet->run());
    }
    std::int64_t new_users = 0;
    for (const std::string& user : delta.users) {
      add_user->bind(1, issue_id).bind(2, user);
      WARDEN_RETURN_IF_ERROR(add_user->run());
      new_users += db.changes();
    }
    if (new_users > 0) {
      count_users->bind(1, issue_id).bind(2, new_users);
      WARDEN_RETURN_IF_ERROR(count_users->run());
    }
    for (const auto& [source, events] : delta.owner_sources) {
      count_owner->bind(1, delta.project_id)
          .bind(2, delta.team)
          .bind(3, delta.function)
          .bind(4, delta.product)
          .bind(5, source)
          .bind(6, events);
      WARDEN_RETURN_IF_ERROR(count_owner->run());
    }
    return absl::OkStatus();
  }

  // Drops the oldest events of an issue that has `stored` of them, keeping
  // max_events_per_issue, with their attachments; their ids are remembered.
  absl::Status drop_oldest(std::int64_t project_id, std::int64_t issue_id, std::int64_t stored) {
    const std::int64_t excess = stored - max_events_per_issue;
    WARDEN_RETURN_IF_ERROR(remember_oldest(issue_id, excess));
    WARDEN_RETURN_IF_ERROR(forget_ids_of_oldest(issue_id, excess));
    trim_attachments->bind(1, project_id).bind(2, issue_id).bind(3, excess);
    WARDEN_RETURN_IF_ERROR(trim_attachments->run());
    trim_events->bind(1, issue_id).bind(2, excess);
    WARDEN_RETURN_IF_ERROR(trim_events->run());
    trim_issue_events->bind(1, issue_id).bind(2, excess);
    WARDEN_RETURN_IF_ERROR(trim_issue_events->run());
    cap_stored->bind(1, issue_id).bind(2, max_events_per_issue);
    return cap_stored->run();
  }

  // Takes the ids of the `count` oldest events of an issue out of event_ids, or out of
  // those waiting to go there.
  absl::Status forget_ids_of_oldest(std::int64_t issue_id, std::int64_t count) {
    std::vector<event_key> indexed;
    oldest_of_issue->bind(1, issue_id).bind(2, count);
    for (;;) {
      absl::StatusOr<bool> row = oldest_of_issue->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      event_key key{oldest_of_issue->column_int(0), oldest_of_issue->column_text(1)};
      if (unindexed.erase(key) == 0) indexed.push_back(std::move(key));
    }
    oldest_of_issue->reset();
    for (const event_key& key : indexed) {
      forget_event_id->bind(1, key.first).bind(2, key.second);
      WARDEN_RETURN_IF_ERROR(forget_event_id->run());
    }
    return absl::OkStatus();
  }

  absl::Status activity(std::int64_t issue_id, std::int64_t at, std::string_view actor,
                        std::string_view action, std::string_view detail) {
    record_activity->bind(1, issue_id).bind(2, at).bind(3, actor).bind(4, action).bind(5, detail);
    return record_activity->run();
  }

  // The issue of the event `event_id` if it was stored before (recently, or still kept).
  absl::StatusOr<std::optional<std::int64_t>> stored_before(std::int64_t project_id,
                                                            const std::string& event_id) {
    if (const auto waiting = unindexed.find(event_key{project_id, event_id});
        waiting != unindexed.end()) {
      return std::optional<std::int64_t>{waiting->second.issue_id};
    }
    for (sqlite_statement* lookup : {find_recent.get(), find_event_id.get()}) {
      if (lookup == find_recent.get() && recent_event_ids == 0) continue;  // none dropped yet
      lookup->bind(1, project_id).bind(2, event_id);
      absl::StatusOr<bool> found = lookup->step();
      if (!found.ok()) return found.status();
      const std::optional<std::int64_t> issue =
          *found ? std::optional<std::int64_t>{lookup->column_int(0)} : std::nullopt;
      lookup->reset();
      if (issue) return issue;
    }
    return std::optional<std::int64_t>{};
  }

  // Remembers the ids of the `count` oldest events of an issue, which the cap is about to
  // drop (an event still kept is found in `events`); forgets the oldest past the bound.
  absl::Status remember_oldest(std::int64_t issue_id, std::int64_t count) {
    remember_recent->bind(1, issue_id).bind(2, count);
    WARDEN_RETURN_IF_ERROR(remember_recent->run());
    recent_event_ids += db.changes();
    if (recent_event_ids <= max_recent_event_ids) return absl::OkStatus();
    // Forgets a tenth at a time, so that deleting is rare.
    forget_recent->bind(1, recent_event_ids - max_recent_event_ids * 9 / 10);
    WARDEN_RETURN_IF_ERROR(forget_recent->run());
    recent_event_ids -= db.changes();
    return absl::OkStatus();
  }

  // Stores `event` and updates its issue; the caller holds the transaction.
  absl::Status store_event(const event_record& event, write_result& result) {
    result = write_result{};  // a batch may run again (store::run_batch)
    absl::StatusOr<std::optional<std::int64_t>> before =
        stored_before(event.project_id, event.event_id);
    if (!before.ok()) return before.status();
    if (before->has_value()) {
      result.issue_id = **before;
      result.duplicate = true;
      return absl::OkStatus();
    }

    // The issue's state before this event.
    std::string status = "unresolved";
    std::string substatus = "new";
    std::optional<std::string> resolved_in_release;
    std::optional<std::int64_t> muted_until;
    std::optional<std::int64_t> muted_remaining;
    std::int64_t counted_events = 0;  // in the issue's row
    find_issue->bind(1, event.project_id).bind(2, event.group_hash);
    absl::StatusOr<bool> found = find_issue->step();
    if (!found.ok()) return found.status();
    if (*found) {
      result.issue_id = find_issue->column_int(0);
      status = find_issue->column_text(1);
      if (!find_issue->column_null(2)) resolved_in_release = find_issue->column_text(2);
      if (!find_issue->column_null(3)) muted_until = find_issue->column_int(3);
      if (!find_issue->column_null(4)) muted_remaining = find_issue->column_int(4);
      substatus = find_issue->column_text(5);
      counted_events = find_issue->column_int(6);
      result.issue_first_seen_ms = find_issue->column_int(7);
    }
    find_issue->reset();

    bool state_changed = false;
    if (result.issue_id == 0) {
      insert_issue->bind(1, event.project_id)
          .bind(2, event.group_hash)
          .bind(3, std::int64_t{event.grouping_version})
          .bind(4, event.grouping_kind)
          .bind(5, event.grouping_components)
          .bind(6, event.title)
          .bind(7, event.culprit)
          .bind(8, event.team)
          .bind(9, event.function)
          .bind(10, event.product)
          .bind(11, event.owner_source)
          .bind(12, event.level)
          .bind(13, event.received_ms)
          .bind(14, event.received_ms)
          .bind(15, event.release)
          .bind(16, event.release)
          .bind(17, event.event_id);
      WARDEN_RETURN_IF_ERROR(insert_issue->run());
      result.issue_id = db.last_insert_id();
      result.first_seen = true;
      result.issue_first_seen_ms = event.received_ms;
      WARDEN_RETURN_IF_ERROR(activity(result.issue_id, event.received_ms, "warden-sink",
                                      "first_seen", event.event_id));
    } else if (status == "resolved") {
      // Resolved in the next release: events of the release it was resolved in, or of
      // none, are the old code still running.
      const bool old_code = resolved_in_release.has_value() &&
                            (event.release.empty() || event.release == *resolved_in_release);
      if (!old_code) {
        status = "unresolved";
        substatus = "regressed";
        resolved_in_release.reset();
        result.regressed = true;
        state_changed = true;
        WARDEN_RETURN_IF_ERROR(activity(result.issue_id, event.received_ms, "warden-sink",
                                        "regressed", event.release));
      }
    } else if (status == "muted") {
      if (muted_remaining) {
        --*muted_remaining;
        state_changed = true;
      }
      const bool time_up = muted_until.has_value() && event.received_ms >= *muted_until;
      const bool count_up = muted_remaining.has_value() && *muted_remaining <= 0;
      if (time_up || count_up) {
        status = "unresolved";
        substatus = "unmuted";
        muted_until.reset();
        muted_remaining.reset();
        result.unmuted = true;
        state_changed = true;
        WARDEN_RETURN_IF_ERROR(activity(result.issue_id, event.received_ms, "warden-sink",
                                        "unmuted", time_up ? "time" : "count"));
      }
    }

    if (state_changed) {
      set_status->bind(1, result.issue_id).bind(2, status).bind(3, substatus);
      set_status->bind_optional(4, resolved_in_release)
          .bind_optional(5, muted_until)
          .bind_optional(6, muted_remaining);
      WARDEN_RETURN_IF_ERROR(set_status->run());
    }

    insert_event->bind(1, event.project_id)
        .bind(2, event.event_id)
        .bind(3, result.issue_id)
        .bind(4, event.received_ms)
        .bind(5, event.timestamp_ms)
        .bind(6, event.level)
        .bind(7, event.environment)
        .bind(8, event.release)
        .bind(9, event.user_key)
        .bind_unowned(10, event.payload)
        .bind(11, event.owner_source);
    WARDEN_RETURN_IF_ERROR(insert_event->run());
    last_event = db.last_insert_id();
    unindexed.insert_or_assign(event_key{event.project_id, event.event_id},
                               unindexed_event{result.issue_id, last_event});

    // The issue's counts follow when the writer folds them in (fold()).
    count(counted_event{last_event, result.issue_id, event.project_id, event.event_id,
                        event.received_ms, event.level, event.environment, event.release,
                        event.user_key, event.team, event.function, event.product,
                        event.owner_source},
          pending_counts::clock::now());
    const std::int64_t waiting = pending.events_of(result.issue_id);
    result.event_count = counted_events + waiting;
    result.issue_open = status == "unresolved";
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<store>> store::open(store_options options) {
  absl::StatusOr<std::unique_ptr<sqlite_db>> writer = sqlite_db::open(options.path);
  if (!writer.ok()) return writer.status();
  sqlite_db& db = **writer;
  // WAL: readers never block the writer; FULL syncs each commit (one per batch).
  WARDEN_RETURN_IF_ERROR(db.exec("PRAGMA journal_mode = WAL"));
  WARDEN_RETURN_IF_ERROR(
      db.exec(options.durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  WARDEN_RETURN_IF_ERROR(db.exec("PRAGMA foreign_keys = ON"));
  // The writer touches the indexes of every recent event; SQLite's default cache (2 MB)
  // would re-read their pages from the file.
  WARDEN_RETURN_IF_ERROR(db.exec("PRAGMA cache_size = -32768"));
  WARDEN_RETURN_IF_ERROR(db.exec("PRAGMA busy_timeout = 5000"));
  WARDEN_RETURN_IF_ERROR(migrate(db));
  absl::StatusOr<std::unique_ptr<sqlite_db>> reader = sqlite_db::open(options.path);
  if (!reader.ok()) return reader.status();
  WARDEN_RETURN_IF_ERROR((*reader)->exec("PRAGMA busy_timeout = 5000"));
  absl::StatusOr<std::unique_ptr<sqlite_db>> checkpointer = sqlite_db::open(options.path);
  if (!checkpointer.ok()) return checkpointer.status();
  WARDEN_RETURN_IF_ERROR((*checkpointer)->exec("PRAGMA busy_timeout = 5000"));
  // Reads the header, so that the connection knows the log is there to copy.
  WARDEN_RETURN_IF_ERROR((*checkpointer)->exec("PRAGMA journal_mode = WAL"));
  auto opened =
      std::unique_ptr<store>{new store{std::move(options), *std::move(writer), *std::move(reader)}};
  opened->checkpoint_db_ = *std::move(checkpointer);
  absl::StatusOr<std::unique_ptr<statements>> prepared =
      statements::prepare(*opened->writer_db_, opened->options_);
  if (!prepared.ok()) return prepared.status();
  opened->statements_ = *std::move(prepared);
  opened->writer_db_->on_wal_commit([raw = opened.get()](int frames) {
    raw->writer_wal_frames_ = frames;
    {
      const std::lock_guard<std::mutex> lock{raw->checkpoint_mu_};
      if (frames < raw->checkpointed_log_) {  // the log started over
        raw->checkpointed_log_ = 0;
        raw->last_checkpoint_log_ = 0;
      }
      raw->wal_frames_ = frames;
    }
    raw->checkpoint_wanted_.notify_one();
  });
  opened->checkpointer_ = std::thread{[raw = opened.get()] { raw->run_checkpointer(); }};
  opened->writer_ = std::thread{[raw = opened.get()] { raw->run_writer(); }};
  return opened;
}

store::store(store_options options, std::unique_ptr<sqlite_db> writer,
             std::unique_ptr<sqlite_db> reader)
    : options_(std::move(options)), writer_db_(std::move(writer)), reader_db_(std::move(reader)) {}

store::~store() {
  {
    const std::lock_guard<std::mutex> lock{mu_};
    stopping_ = true;
  }
  work_ready_.notify_one();
  if (writer_.joinable()) writer_.join();
  stop_checkpointer();
}

void store::stop_checkpointer() {
  {
    const std::lock_guard<std::mutex> lock{checkpoint_mu_};
    checkpoint_stopping_ = true;
  }
  checkpoint_wanted_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void store::run_checkpointer() {
  const int every = options_.checkpoint_frames;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{checkpoint_mu_};
      checkpoint_wanted_.wait(lock, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_) {
        const int behind = wal_frames_ - checkpointed_log_;
        // A long log is followed closely, so that restarting it has little to copy; but
        // not again before a commit when a reader kept the last run from copying it all.
        return checkpoint_stopping_ || (wal_frames_ != last_checkpoint_log_ &&
                                        (behind >= every || (wal_frames_ >= kRestartAfter * every &&
                                                             behind >= std::max(1, every / 16))));
      });
      if (checkpoint_stopping_) return;  // closing the last connection checkpoints
      last_checkpoint_log_ = wal_frames_;
    }
    // PASSIVE: copies what the log holds without holding the writer back.
    absl::StatusOr<sqlite_db::checkpoint_result> done;
    {
      const std::lock_guard<std::mutex> one_at_a_time{checkpointing_};
      done = checkpoint_db_->checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    }
    const std::lock_guard<std::mutex> lock{checkpoint_mu_};
    // After a failure (a full disk, say) the next checkpoint_frames frames try again.
    checkpointed_log_ = done.ok() ? done->checkpointed_frames : wal_frames_;
  }
}

void store::restart_long_log() {
  // The log starts over only when a writer finds it copied entirely; under continuous
  // load the passive checkpoints never find such a moment, so the writer makes one once
  // they copied nearly all of it (the restart copies the rest while the writer waits).
  // Past twice that length it restarts whatever it costs, so that the log stays bounded.
  const int every = options_.checkpoint_frames;
  if (writer_wal_frames_ < kRestartAfter * every) return;
  int copied = 0;
  {
    const std::lock_guard<std::mutex> lock{checkpoint_mu_};
    copied = checkpointed_log_;
  }
  const bool overdue = writer_wal_frames_ >= 2 * kRestartAfter * every;
  if (!overdue) {
    if (writer_wal_frames_ - copied > every / 16) return;
    // The restart syncs the database file (10-20 ms on a busy disk): in a pause, when no
    // write is waiting for it.
    const std::lock_guard<std::mutex> lock{mu_};
    if (!queue_.empty()) return;
  }
  // SQLite runs one checkpoint at a time and fails the others at once; the writer does
  // not wait for a passive one unless overdue.
  std::unique_lock<std::mutex> one_at_a_time{checkpointing_, std::defer_lock};
  if (overdue) {
    one_at_a_time.lock();
  } else if (!one_at_a_time.try_lock()) {
    return;
  }
  // Best effort: a reader in the way (BUSY after the busy timeout) or a full disk leaves
  // the log as it is; the next batch tries again.
  static_cast<void>(writer_db_->checkpoint(SQLITE_CHECKPOINT_RESTART));
}

std::size_t store::queue_depth() const {
  const std::lock_guard<std::mutex> lock{mu_};
  return queue_.size();
}

absl::Status store::submit(std::function<absl::Status(statements&)> work,
                           std::optional<std::chrono::milliseconds> timeout) {
  auto queued = std::make_shared<job>();
  queued->run = std::move(work);
  std::unique_lock<std::mutex> lock{mu_};
  if (stopping_) return absl::UnavailableError("the store is shutting down");
  queue_.push_back(queued);
  work_ready_.notify_one();
  const auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queued->done; };
  if (!timeout) {
    queued->committed.wait(lock, done);
  } else if (!queued->committed.wait_for(lock, *timeout, done)) {
    return absl::UnavailableError(
        fmt::format("the store did not commit within {} ms; retry later", timeout->count()));
  }
  return queued->status;
}

void store::run_writer() {
  std::vector<std::shared_ptr<job>> batch;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock{mu_};
      const auto ready = [this] { return stopping_ || !queue_.empty(); };
      if (counts_pending_) {
        work_ready_.wait_for(lock, options_.fold_interval, ready);
      } else {
        work_ready_.wait(lock, ready);
      }
      stopping = stopping_;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) {  // idle for fold_interval, or closing: the counts go in now
      if (counts_pending_) commit_batch(batch, true);
      if (stopping) return;
      continue;
    }
    commit_batch(batch, false);
    {
      const std::lock_guard<std::mutex> lock{mu_};
      for (const auto& finished : batch) finished->done = true;
    }
    // Each waiter alone: waking all of them for every commit cost a futex storm.
    for (const auto& finished : batch) finished->committed.notify_one();
    batch.clear();
    restart_long_log();
  }
}

absl::Status store::sync_counts() {
  if (!counts_pending_) return absl::OkStatus();
  // Bounded: a stalled disk leaves the read with counts a little behind, not stuck.
  return submit([](statements& writer) { return writer.fold(); }, options_.write_timeout);
}

void store::commit_batch(std::vector<std::shared_ptr<job>>& batch, bool fold) {
  // The jobs run straight in one transaction; only when one fails, again with a savepoint
  // each, so that it fails alone (two more statements per job, 2-3% of an event's cost).
  if (!run_batch(batch, fold, false)) run_batch(batch, fold, true);
  counts_pending_ =
      !statements_->pending.empty() || !statements_->unindexed.empty() || statements_->counts_stale;
}

bool store::run_batch(std::vector<std::shared_ptr<job>>& batch, bool fold, bool isolated) {
  statements& writer = *statements_;
  for (const auto& each : batch) each->status = absl::OkStatus();
  absl::Status begun = writer.begin->run();
  if (!begun.ok()) {
    for (const auto& each : batch) each->status = begun;
    return true;
  }
  // A failed batch leaves the pending counts including events it did not commit.
  const auto abandon = [&](const absl::Status& error) {
    static_cast<void>(writer.rollback->run());
    writer.counts_stale = true;
    for (const auto& each : batch) {
      if (each->status.ok()) each->status = error;
    }
    return true;
  };
  if (writer.counts_stale) {
    if (absl::Status recounted = writer.recount(); !recounted.ok()) return abandon(recounted);
    writer.counts_stale = false;
  }
  bool recount = false;
  for (const auto& each : batch) {
    if (!isolated) {
      each->status = each->run(writer);
      if (each->status.ok()) continue;
      // Undone with all the others; the counts they added in memory are recounted.
      static_cast<void>(writer.rollback->run());
      writer.counts_stale = !writer.recount().ok();
      return false;
    }
    const std::uint64_t counted = writer.pending.generation();
    absl::Status saved = writer.savepoint->run();
    if (saved.ok()) saved = each->run(writer);
    if (saved.ok()) {
      saved = writer.release->run();
    } else {
      static_cast<void>(writer.rollback_to->run());
      static_cast<void>(writer.release->run());
      recount = recount || writer.pending.generation() != counted;
    }
    each->status = saved;
  }
  if (recount) {
    if (absl::Status recounted = writer.recount(); !recounted.ok()) return abandon(recounted);
  }
  if (absl::Status folded = fold ? writer.fold() : writer.fold_due(); !folded.ok()) {
    return abandon(folded);
  }
  if (absl::Status committed = writer.commit->run(); !committed.ok()) return abandon(committed);
  if (options_.hooks) options_.hooks->after_commit();
  return true;
}

absl::StatusOr<write_result> store::write(event_record event) {
  // Owned by the job, which may outlive this call (write_timeout).
  auto state =
      std::make_shared<std::pair<event_record, write_result>>(std::move(event), write_result{});
  write_hooks* hooks = options_.hooks.get();  // outlives every job: the writer drains first
  const absl::Status stored = submit(
      [state, hooks](statements& writer) {
        WARDEN_RETURN_IF_ERROR(writer.store_event(state->first, state->second));
        if (hooks == nullptr || state->second.duplicate) return absl::OkStatus();
        return hooks->after_event(writer.db, state->first, state->second);
      },
      options_.write_timeout);
  if (!stored.ok()) return stored;
  return state->second;
}

absl::Status store::write_attachment(attachment_record attachment) {
  auto owned = std::make_shared<attachment_record>(std::move(attachment));
  return submit(
      [owned](statements& writer) {
        writer.insert_attachment->bind(1, owned->project_id)
            .bind(2, owned->event_id)
            .bind(3, owned->filename)
            .bind(4, owned->content_type)
            .bind(5, owned->attachment_type)
            .bind(6, owned->received_ms)
            .bind_blob_unowned(7, owned->data);
        return writer.insert_attachment->run();
      },
      options_.write_timeout);
}

absl::StatusOr<issue_row> store::change_status(std::int64_t issue_id, status_change change) {
  issue_row changed;
  const absl::Status done = submit([&](statements& writer) -> absl::Status {
    WARDEN_RETURN_IF_ERROR(writer.fold());  // the row it answers has every event counted
    writer.select_issue->bind(1, issue_id);
    absl::StatusOr<bool> found = writer.select_issue->step();
    if (!found.ok()) return found.status();
    if (!*found) {
      writer.select_issue->reset();
      return absl::NotFoundError(fmt::format("no issue {}", issue_id));
    }
    changed = read_issue(*writer.select_issue);
    writer.select_issue->reset();
    std::string_view action;
    std::string detail;
    changed.resolved_in_release.reset();
    changed.muted_until_ms.reset();
    changed.muted_remaining.reset();
    switch (change.what) {
      case status_change::action::resolve:
        changed.status = "resolved";
        changed.substatus = "now";
        action = "resolved";
        break;
      case status_change::action::resolve_in_next_release:
        changed.status = "resolved";
        changed.substatus = "next_release";
        changed.resolved_in_release = changed.last_release;
        action = "resolved_in_next_release";
        detail = changed.last_release;
        break;
      case status_change::action::unresolve:
      case status_change::action::unmute:
        changed.status = "unresolved";
        changed.substatus = "ongoing";
        action = change.what == status_change::action::unmute ? "unmuted" : "unresolved";
        break;
      case status_change::action::mute:
        changed.status = "muted";
        changed.substatus = change.mute_until_ms || change.mute_events ? "until" : "forever";
        changed.muted_until_ms = change.mute_until_ms;
        changed.muted_remaining = change.mute_events;
        action = "muted";
        if (change.mute_until_ms) detail = fmt::format("until {}", *change.mute_until_ms);
        if (change.mute_events) detail += fmt::format(" for {} events", *change.mute_events);
        break;
    }
    writer.set_status->bind(1, issue_id).bind(2, changed.status).bind(3, changed.substatus);
    writer.set_status->bind_optional(4, changed.resolved_in_release)
        .bind_optional(5, changed.muted_until_ms)
        .bind_optional(6, changed.muted_remaining);
    WARDEN_RETURN_IF_ERROR(writer.set_status->run());
    WARDEN_RETURN_IF_ERROR(writer.activity(issue_id, change.at_ms, change.actor, action, detail));
    if (!options_.hooks) return absl::OkStatus();
    return options_.hooks->after_status_change(writer.db, changed, change);
  });
  if (!done.ok()) return done;
  return changed;
}

absl::Status store::run_in_writer(std::function<absl::Status(sqlite_db&)> work) {
  return submit([work = std::move(work)](statements& writer) { return work(writer.db); });
}

absl::Status store::read(const std::function<absl::Status(sqlite_db&)>& work) {
  const std::lock_guard<std::mutex> lock{read_mu_};
  return work(*reader_db_);
}

absl::StatusOr<std::int64_t> store::apply_retention(std::int64_t now_ms) {
  const std::int64_t cutoff =
      now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count();
  std::int64_t deleted = 0;
  // In chunks, so one huge deletion does not hold the writer for long.
  for (;;) {
    std::int64_t chunk = 0;
    WARDEN_RETURN_IF_ERROR(submit([&](statements& writer) -> absl::Status {
      // Counted first: an event is deleted only once its issue's counts include it.
      WARDEN_RETURN_IF_ERROR(writer.fold());
      writer.delete_old_attachments->bind(1, cutoff);
      WARDEN_RETURN_IF_ERROR(writer.delete_old_attachments->run());
      const std::int64_t attachments = writer.db.changes();
      writer.delete_old_event_ids->bind(1, cutoff);
      WARDEN_RETURN_IF_ERROR(writer.delete_old_event_ids->run());
      writer.delete_old_issue_events->bind(1, cutoff);
      WARDEN_RETURN_IF_ERROR(writer.delete_old_issue_events->run());
      writer.delete_old_events->bind(1, cutoff);
      WARDEN_RETURN_IF_ERROR(writer.delete_old_events->run());
      chunk = writer.db.changes() + attachments;
      return chunk > 0 ? writer.recount_stored->run() : absl::OkStatus();
    }));
    deleted += chunk;
    if (chunk == 0) return deleted;
  }
}

absl::StatusOr<std::optional<issue_row>> store::issue(std::int64_t id) {
  sync_counts().IgnoreError();  // on failure the counts are a little behind, no worse
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query =
      reader_db_->prepare(fmt::format("SELECT {} FROM issues WHERE id = ?", kIssueColumns));
  if (!query.ok()) return query.status();
  (*query)->bind(1, id);
  absl::StatusOr<bool> found = (*query)->step();
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<issue_row>{};
  return std::optional<issue_row>{read_issue(**query)};
}

absl::StatusOr<std::vector<issue_row>> store::issues(const issue_filter& filter) {
  sync_counts().IgnoreError();  // on failure the counts are a little behind, no worse
  std::string sql = fmt::format("SELECT {} FROM issues WHERE 1", kIssueColumns);
  // Values are bound in order, never spliced into the SQL.
  std::vector<std::variant<std::int64_t, std::string>> values;
  const auto where = [&](std::string_view clause, std::variant<std::int64_t, std::string> value) {
    sql += clause;
    values.push_back(std::move(value));
  };
  if (filter.project_id) where(" AND project_id = ?", *filter.project_id);
  for (const auto& [column, value] :
       {std::pair<std::string_view, const std::string*>{"team", &filter.team},
        {"function", &filter.function},
        {"product", &filter.product},
        {"status", &filter.status}}) {
    if (!value->empty()) where(fmt::format(" AND {} = ?", column), *value);
  }
  for (const auto& [facet, value] :
       {std::pair<std::string_view, const std::string*>{"level", &filter.level},
        {"environment", &filter.environment},
        {"release", &filter.release}}) {
    if (value->empty()) continue;
    where(fmt::format(" AND EXISTS (SELECT 1 FROM issue_facets f WHERE f.issue_id = issues.id "
                      "AND f.facet = '{}' AND f.value = ?)",
                      facet),
          *value);
  }
  if (filter.seen_since_ms) where(" AND last_seen >= ?", *filter.seen_since_ms);
  if (filter.seen_before_ms) where(" AND last_seen < ?", *filter.seen_before_ms);
  if (filter.after) {
    const auto [last_seen, id] = *filter.after;
    where(" AND (last_seen < ?", last_seen);
    where(" OR (last_seen = ?", last_seen);
    where(" AND id < ?))", id);
  }
  where(" ORDER BY last_seen DESC, id DESC LIMIT ?", std::int64_t{filter.limit});

  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query = reader_db_->prepare(sql);
  if (!query.ok()) return query.status();
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::visit([&](const auto& value) { (*query)->bind(static_cast<int>(i + 1), value); },
               values[i]);
  }
  std::vector<issue_row> found;
  for (;;) {
    absl::StatusOr<bool> row = (*query)->step();
    if (!row.ok()) return row.status();
    if (!*row) return found;
    found.push_back(read_issue(**query));
  }
}

absl::StatusOr<std::vector<facet_count>> store::issue_facets(std::int64_t issue_id) {
  sync_counts().IgnoreError();  // on failure the counts are a little behind, no worse
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query = reader_db_->prepare(
      "SELECT facet, value, count, first_seen, last_seen FROM issue_facets WHERE issue_id = ? "
      "ORDER BY facet, count DESC, value");
  if (!query.ok()) return query.status();
  (*query)->bind(1, issue_id);
  std::vector<facet_count> facets;
  for (;;) {
    absl::StatusOr<bool> row = (*query)->step();
    if (!row.ok()) return row.status();
    if (!*row) return facets;
    facets.push_back({(*query)->column_text(0), (*query)->column_text(1), (*query)->column_int(2),
                      (*query)->column_int(3), (*query)->column_int(4)});
  }
}

absl::StatusOr<std::vector<issue_activity>> store::issue_history(std::int64_t issue_id) {
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query = reader_db_->prepare(
      "SELECT at, actor, action, detail FROM issue_activity WHERE issue_id = ? ORDER BY id");
  if (!query.ok()) return query.status();
  (*query)->bind(1, issue_id);
  std::vector<issue_activity> history;
  for (;;) {
    absl::StatusOr<bool> row = (*query)->step();
    if (!row.ok()) return row.status();
    if (!*row) return history;
    history.push_back({(*query)->column_int(0), (*query)->column_text(1), (*query)->column_text(2),
                       (*query)->column_text(3)});
  }
}

absl::StatusOr<std::vector<owner_count>> store::owner_counts() {
  sync_counts().IgnoreError();  // on failure the counts are a little behind, no worse
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query = reader_db_->prepare(
      "SELECT project_id, team, function, product, owner_source, events FROM owner_counts "
      "ORDER BY events DESC");
  if (!query.ok()) return query.status();
  std::vector<owner_count> counts;
  for (;;) {
    absl::StatusOr<bool> row = (*query)->step();
    if (!row.ok()) return row.status();
    if (!*row) return counts;
    counts.push_back({(*query)->column_int(0), (*query)->column_text(1), (*query)->column_text(2),
                      (*query)->column_text(3), (*query)->column_text(4), (*query)->column_int(5)});
  }
}

absl::StatusOr<std::optional<std::string>> store::setting(const std::string& name) {
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query =
      reader_db_->prepare("SELECT value FROM settings WHERE name = ?");
  if (!query.ok()) return query.status();
  (*query)->bind(1, name);
  absl::StatusOr<bool> found = (*query)->step();
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<std::string>{};
  return std::optional<std::string>{(*query)->column_text(0)};
}

absl::Status store::put_setting(const std::string& name, const std::string& value) {
  return submit([&](statements& writer) {
    writer.upsert_setting->bind(1, name).bind(2, value);
    return writer.upsert_setting->run();
  });
}

absl::StatusOr<std::optional<event_detail>> store::event(std::int64_t project_id,
                                                         const std::string& event_id) {
  sync_counts().IgnoreError();  // the cap drops events when the counts are folded
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query = reader_db_->prepare(
      "SELECT e.issue_id, e.payload FROM event_ids i JOIN events e ON e.id = i.event "
      "WHERE i.project_id = ? AND i.event_id = ?");
  if (!query.ok()) return query.status();
  (*query)->bind(1, project_id).bind(2, event_id);
  absl::StatusOr<bool> found = (*query)->step();
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<event_detail>{};
  event_detail detail;
  detail.issue_id = (*query)->column_int(0);
  detail.payload = (*query)->column_text(1);
  absl::StatusOr<std::unique_ptr<sqlite_statement>> listed = reader_db_->prepare(
      "SELECT id, filename, content_type, attachment_type, length(data) FROM attachments "
      "WHERE project_id = ? AND event_id = ? ORDER BY id");
  if (!listed.ok()) return listed.status();
  (*listed)->bind(1, project_id).bind(2, event_id);
  for (;;) {
    absl::StatusOr<bool> row = (*listed)->step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<event_detail>{std::move(detail)};
    detail.attachments.push_back({(*listed)->column_int(0), (*listed)->column_text(1),
                                  (*listed)->column_text(2), (*listed)->column_text(3),
                                  (*listed)->column_int(4)});
  }
}

absl::StatusOr<std::optional<attachment_record>> store::attachment(std::int64_t project_id,
                                                                   const std::string& event_id,
                                                                   std::int64_t id) {
  sync_counts().IgnoreError();  // the cap drops events when the counts are folded
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query = reader_db_->prepare(
      "SELECT filename, content_type, attachment_type, received, data FROM attachments "
      "WHERE project_id = ? AND event_id = ? AND id = ?");
  if (!query.ok()) return query.status();
  (*query)->bind(1, project_id).bind(2, event_id).bind(3, id);
  absl::StatusOr<bool> found = (*query)->step();
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<attachment_record>{};
  attachment_record record;
  record.project_id = project_id;
  record.event_id = event_id;
  record.filename = (*query)->column_text(0);
  record.content_type = (*query)->column_text(1);
  record.attachment_type = (*query)->column_text(2);
  record.received_ms = (*query)->column_int(3);
  record.data = (*query)->column_blob(4);
  return std::optional<attachment_record>{std::move(record)};
}

absl::StatusOr<std::vector<std::string>> store::issue_events(std::int64_t issue_id, int limit) {
  sync_counts().IgnoreError();  // the cap drops events when the counts are folded
  const std::lock_guard<std::mutex> lock{read_mu_};
  absl::StatusOr<std::unique_ptr<sqlite_statement>> query = reader_db_->prepare(
      "SELECT e.payload FROM issue_events x JOIN events e ON e.id = x.event "
      "WHERE x.issue_id = ? ORDER BY x.event DESC LIMIT ?");
  if (!query.ok()) return query.status();
  (*query)->bind(1, issue_id).bind(2, std::int64_t{limit});
  std::vector<std::string> payloads;
  for (;;) {
    absl::StatusOr<bool> row = (*query)->step();
    if (!row.ok()) return row.status();
    if (!*row) return payloads;
    payloads.push_back((*query)->column_text(0));
  }
}

}  // namespace warden::sink

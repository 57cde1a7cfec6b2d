// The outbox's rows in SQLite (schema migration 6): every call to a tracker or receiver
// is first a row here, written in the same transaction as the event or change that
// caused it, and each HTTP exchange is logged before it is sent. The functions that
// write take the store's writer connection (inside a store job or write hook); the
// others read through any connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/sqlite.hpp"

namespace warden::sink {

/// What one outbox row asks for: call `target` about `issue_id`.
struct outbox_intent {
  std::string kind;             ///< ticket.create, ticket.reopen, ticket.comment, ticket.resolve.
  std::string target;           ///< A tracker's (or receiver's) name.
  std::int64_t issue_id = 0;    ///< 0: none.
  std::string idempotency_key;  ///< One row per key, however often it is asked for.
  std::string ordering_key;     ///< Rows with one key go one at a time, oldest first.
  std::string intent;           ///< JSON: the rule, reason, level, actor... of the call.
  std::int64_t created_ms = 0;
  std::string actor;           ///< Who asked (replays), empty for the sink itself.
  std::int64_t replay_of = 0;  ///< The row this one replays; 0: none.
  std::int64_t due_ms = 0;     ///< Not sent before this time; 0: at once (debounced updates).
};

/// An outbox row.
struct delivery_row {
  std::int64_t id = 0;
  outbox_intent what;
  std::string state;  ///< pending, in_flight, retrying, delivered, failed, exhausted, superseded.
  bool uncertain = false;  ///< An earlier attempt may have reached the target.
  std::int64_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::optional<std::int64_t> last_attempt_ms;
  std::optional<std::int64_t> last_status;  ///< HTTP status of the last answer; 0: none.
  std::string last_error;
  std::optional<std::int64_t> finished_ms;
};

/// One HTTP exchange of a delivery, as logged (secrets masked).
struct delivery_attempt {
  std::int64_t id = 0;
  std::int64_t attempt = 0;  ///< The delivery's attempt it belongs to (1-based).
  std::string step;          ///< send, lookup_project, search.
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> duration_ms;
  std::string request;  ///< "METHOD URL", the headers and the body.
  std::optional<std::int64_t> status;
  std::string response_headers;
  std::string response_body;
  std::string error;
  std::string outcome;  ///< unknown (not answered yet), delivered, retry, failed, interrupted.
};

/// The incident key of an issue: "wd:<project id>:<first 16 hex digits of its group
/// hash>", stable across restarts: what trackers are searched by, and PagerDuty's dedup
/// keys are made of.
[[nodiscard]] std::string incident_key(std::int64_t project_id, std::string_view group_hash);

/// An issue's ticket as the tickets table keeps it.
struct ticket_record {
  std::int64_t issue_id = 0;
  std::string tracker;  ///< The tracker's name in the config.
  std::string project;  ///< The tracker's project (YouTrack short name).
  std::string team;
  std::string incident_key;  ///< What the tracker can be searched by.
  std::string state;         ///< pending, created, failed, digested.
  std::string external_id;   ///< The tracker's id, e.g. YouTrack's 2-4711.
  std::string external_key;  ///< What people read, e.g. OPS-1532.
  std::string url;
  std::string remote_state;  ///< open or resolved, as last set by the sink.
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> opened_ms;
  std::string digest_key;  ///< digested: the digest ticket it is listed in, once created.
  std::string digest_url;
};

/// The ticket of `issue_id`, if one was asked for.
absl::StatusOr<std::optional<ticket_record>> find_ticket(sqlite_db& db, std::int64_t issue_id);
/// The issue whose ticket in `tracker` has the key `external_key` ("OPS-1532"), if any.
absl::StatusOr<std::optional<std::int64_t>> find_ticket_issue(sqlite_db& db,
                                                              const std::string& tracker,
                                                              const std::string& external_key);
/// Records the tracker's answer to a creation: state created, its id, key and link.
absl::Status mark_ticket_created(sqlite_db& db, std::int64_t issue_id, const std::string& id,
                                 const std::string& key, const std::string& url,
                                 std::int64_t now_ms);
/// Records the tracker's answer to a digest ticket's creation.
absl::Status mark_digest_created(sqlite_db& db, std::int64_t digest_id, const std::string& id,
                                 const std::string& key, const std::string& url);
/// Sets the ticket's state (failed) or the state the sink last gave it (remote_state).
absl::Status set_ticket_state(sqlite_db& db, std::int64_t issue_id, const std::string& state);
absl::Status set_ticket_remote_state(sqlite_db& db, std::int64_t issue_id,
                                     const std::string& remote_state);

/// Adds `intent` as a pending row due at once, unless a row with its idempotency key
/// exists. Returns the new row's id, or 0 when it existed.
absl::StatusOr<std::int64_t> enqueue_delivery(sqlite_db& db, const outbox_intent& intent);

/// At start: rows left in flight by a stopped process are due again and marked
/// uncertain (the target may have acted on them); their unanswered exchanges are marked
/// interrupted.
absl::Status recover_interrupted_deliveries(sqlite_db& db, std::int64_t now_ms);

/// Takes the oldest due row whose ordering key has no earlier unfinished row and none in
/// flight, and whose target is not in `paused_targets` (rate limited, or asked to wait),
/// marks it in flight and counts the attempt. nullopt when none is due.
absl::StatusOr<std::optional<delivery_row>> claim_due_delivery(
    sqlite_db& db, std::int64_t now_ms, const std::vector<std::string>& paused_targets = {});

/// When the next row becomes due (its next_attempt), if any is waiting.
absl::StatusOr<std::optional<std::int64_t>> next_due_ms(sqlite_db& db);

/// Logs an exchange before it is sent (outcome "unknown"); returns its id.
absl::StatusOr<std::int64_t> begin_attempt(sqlite_db& db, std::int64_t delivery_id,
                                           const delivery_attempt& attempt);
/// Records what came back for the exchange `attempt.id`.
absl::Status finish_attempt(sqlite_db& db, const delivery_attempt& attempt);

/// Records a delivery's outcome: `row.state` with its last status, error, next attempt,
/// uncertainty and finish time.
absl::Status update_delivery(sqlite_db& db, const delivery_row& row);

/// Queues `id` again as a new row (replay_of = id) for `actor`: only a row that failed
/// or was exhausted (FailedPrecondition otherwise; NotFound for an unknown id). Returns
/// the new row's id.
absl::StatusOr<std::int64_t> replay_delivery(sqlite_db& db, std::int64_t id,
                                             const std::string& actor, std::int64_t now_ms);

/// Deletes finished rows and their exchanges: delivered or superseded ones that finished
/// before `delivered_before_ms`, failed or exhausted ones before `failed_before_ms`.
/// Returns how many rows were deleted.
absl::StatusOr<std::int64_t> prune_deliveries(sqlite_db& db, std::int64_t delivered_before_ms,
                                              std::int64_t failed_before_ms);

/// Rows of `kind` for `target` still waiting to be sent (pending or retrying, due or
/// not), oldest first, at most `limit`; not `except_id`.
absl::StatusOr<std::vector<delivery_row>> waiting_deliveries(sqlite_db& db,
                                                             const std::string& target,
                                                             const std::string& kind,
                                                             std::int64_t except_id, int limit);
/// Marks those of `ids` still waiting as superseded by `reason` (sent with another row).
absl::Status supersede_deliveries(sqlite_db& db, const std::vector<std::int64_t>& ids,
                                  const std::string& reason, std::int64_t now_ms);

/// What the outbox holds for one target.
struct target_backlog {
  std::int64_t waiting = 0;                       ///< pending, retrying or in flight.
  std::int64_t retrying = 0;                      ///< ... of which failed at least once.
  std::int64_t failed = 0;                        ///< failed or exhausted (replayable).
  std::optional<std::int64_t> oldest_waiting_ms;  ///< When the oldest waiting row was queued.
  std::optional<std::int64_t> next_attempt_ms;    ///< The earliest next attempt.
  std::string last_error;                         ///< Of the newest row that has one.
};
/// The backlog of every target that has rows, by target name.
absl::StatusOr<std::vector<std::pair<std::string, target_backlog>>> target_backlogs(sqlite_db& db);

/// Which rows to list; empty fields do not filter. Newest first.
struct delivery_filter {
  std::string target;
  std::string kind;
  std::string state;
  std::optional<std::int64_t> issue_id;
  std::optional<std::int64_t> before_id;  ///< Pagination: rows older than this one.
  int limit = 100;
};
/// Rows matching `filter`, newest first.
absl::StatusOr<std::vector<delivery_row>> list_deliveries(sqlite_db& db,
                                                          const delivery_filter& filter);
/// The row `id`, if any.
absl::StatusOr<std::optional<delivery_row>> find_delivery(sqlite_db& db, std::int64_t id);
/// The row's logged exchanges, oldest first.
absl::StatusOr<std::vector<delivery_attempt>> delivery_attempts(sqlite_db& db,
                                                                std::int64_t delivery_id);
/// Rows of an issue still to be delivered, and those that failed for good.
struct delivery_counts {
  std::int64_t pending = 0;  ///< pending, in flight or retrying.
  std::int64_t failed = 0;   ///< failed or exhausted.
};
absl::StatusOr<delivery_counts> issue_delivery_counts(sqlite_db& db, std::int64_t issue_id);

}  // namespace warden::sink

// The sink's storage: issues, their events and state, in one SQLite file (WAL mode).
//
// Every write goes through one writer thread, which commits whatever is queued in one
// transaction (a batch), so many concurrent requests cost one commit. write() returns
// only after its batch committed: an event acknowledged with 200 survives `kill -9`
// (and, with `durable`, a power loss). Reads use their own connection and never wait
// for the writer (WAL).
//
//   store_options options;
//   options.path = "warden.db";
//   auto db = store::open(options);                    // applies migrations
//   event_record event = ...;                          // grouped and owned already
//   absl::StatusOr<write_result> stored = (*db)->write(std::move(event));
//   if (stored.ok() && stored->first_seen) alert(stored->issue_id);
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/sqlite.hpp"
#include "store/write_hooks.hpp"

namespace warden::sink {

/// Where and how the store keeps its data.
struct store_options {
  std::string path = "warden-sink.db";  ///< The SQLite file; created when missing.
  /// synchronous=FULL: a committed batch survives a power loss. Off: NORMAL, which
  /// survives a crash of the process but not of the machine; commits are cheaper.
  bool durable = true;
  std::size_t max_batch = 1024;             ///< Writes committed in one transaction at most.
  std::int64_t max_events_per_issue = 100;  ///< Newest events kept per issue; counts stay exact.
  std::chrono::hours retention{24 * 90};    ///< Events older than this are deleted.
  /// Ids of events the per-issue cap dropped, remembered to recognise retries (kept
  /// events are found among the events); the newest this many (about 60 bytes each).
  std::int64_t max_recent_event_ids = 100'000;
  /// Event ids written to their index (event_ids) in one sorted run at least, unless the
  /// store is idle for fold_interval or a read needs them. Ids are random: written one
  /// by one, each changed a page of the index somewhere (a sixth of the store's work).
  std::size_t id_index_run = 4096;
  /// A write not committed by then is answered Unavailable (503: the disk stalls or the
  /// writer is overloaded). It still commits later; the sender's retry is a duplicate.
  std::chrono::milliseconds write_timeout{10'000};
  /// Write-ahead log frames (pages) past which a background thread copies the log into
  /// the database (SQLite's own default, 1000, would checkpoint inside the writer's
  /// commits). A larger log copies a page changed by many commits once.
  int checkpoint_frames = 4096;
  /// Issue counts (event and user counts, last seen, facets, counts per owner) reach the
  /// issue rows this long after their events at most, in one write per issue for all
  /// its events (the reads of this class fold them first, so they see every committed
  /// event). A crash loses nothing: the events after the last fold are recounted when
  /// the store opens. Each fold of an issue changes four pages (its row, events, facets,
  /// users) at the issue's place: 1 s instead of 250 ms wrote 25% less per event.
  std::chrono::milliseconds fold_interval{1000};
  /// Called by the writer as it stores events and changes issues (alerting); none: null.
  std::shared_ptr<write_hooks> hooks;
};

/// One event, already grouped and owned, as the store keeps it. Times in Unix ms.
struct event_record {
  std::int64_t project_id = 0;
  std::string event_id;  ///< 32 lowercase hex digits; unique per project.
  std::int64_t received_ms = 0;
  std::int64_t timestamp_ms = 0;
  std::string level = "error";
  std::string environment;
  std::string release;
  std::string user_key;  ///< Who was affected (user id, email, IP); empty: unknown.
  std::string group_hash;
  int grouping_version = 1;
  std::string grouping_kind;        ///< fingerprint, exception, template, message.
  std::string grouping_components;  ///< JSON array of what was hashed.
  std::string title;
  std::string culprit;
  std::string team;
  std::string function;
  std::string product;
  std::string owner_source;  ///< sdk, rules, fallback.
  std::string payload;       ///< The event JSON as stored and served by the API.
  /// The event's tags (for alert rules; they stay in the payload, not stored apart).
  std::vector<std::pair<std::string, std::string>> tags;
};

/// An attachment of an event, stored as sent.
struct attachment_record {
  std::int64_t project_id = 0;
  std::string event_id;
  std::string filename;
  std::string content_type;
  std::string attachment_type;  ///< e.g. event.attachment, event.minidump.
  std::int64_t received_ms = 0;
  std::string data;
};

/// An attachment as listed with its event (without its bytes).
struct attachment_info {
  std::int64_t id = 0;
  std::string filename;
  std::string content_type;
  std::string attachment_type;
  std::int64_t size = 0;
};

/// One stored event with its issue and attachments.
struct event_detail {
  std::int64_t issue_id = 0;
  std::string payload;
  std::vector<attachment_info> attachments;
};

/// What storing an event did to its issue: the facts alert rules act on.
struct write_result {
  std::int64_t issue_id = 0;
  bool duplicate = false;   ///< The event id was stored before; nothing changed.
  bool first_seen = false;  ///< The event opened a new issue.
  bool regressed = false;   ///< The issue was resolved and is open again.
  bool unmuted = false;     ///< The issue was muted until a time or a count, now reached.
  std::int64_t event_count = 0;
  bool issue_open = true;                ///< Unresolved after this event (not muted or resolved).
  std::int64_t issue_first_seen_ms = 0;  ///< When the issue was first seen.
};

/// An issue as stored.
struct issue_row {
  std::int64_t id = 0;
  std::int64_t project_id = 0;
  std::string group_hash;
  int grouping_version = 0;
  std::string grouping_kind;
  std::string grouping_components;
  std::string title;
  std::string culprit;
  std::string team;
  std::string function;
  std::string product;
  std::string owner_source;
  std::string level;
  std::string status;     ///< unresolved, resolved, muted.
  std::string substatus;  ///< new, ongoing, regressed, unmuted; for resolved: now, next_release.
  std::optional<std::string> resolved_in_release;
  std::optional<std::int64_t> muted_until_ms;
  std::optional<std::int64_t> muted_remaining;
  std::int64_t event_count = 0;
  std::int64_t user_count = 0;
  std::int64_t stored_events = 0;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::string first_release;
  std::string last_release;
  std::string latest_event_id;
};

/// One value an issue has seen for a facet (level, environment, release).
struct facet_count {
  std::string facet;
  std::string value;
  std::int64_t count = 0;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
};

/// One recorded change of an issue: who did what, when.
struct issue_activity {
  std::int64_t at_ms = 0;
  std::string actor;   ///< "warden-sink" for automatic changes.
  std::string action;  ///< first_seen, regressed, unmuted, resolved, muted, ...
  std::string detail;
};

/// Which issues to list; empty fields do not filter. Newest activity first.
struct issue_filter {
  std::optional<std::int64_t> project_id;
  std::string team;
  std::string function;
  std::string product;
  std::string status;                          ///< unresolved, resolved, muted.
  std::string level;                           ///< Issues that saw an event of this level.
  std::string environment;                     ///< Issues that saw an event in this environment.
  std::string release;                         ///< Issues that saw an event of this release.
  std::optional<std::int64_t> seen_since_ms;   ///< Last seen at or after.
  std::optional<std::int64_t> seen_before_ms;  ///< Last seen before.
  /// Pagination: only issues after this one in the order (last_seen, id) descending.
  std::optional<std::pair<std::int64_t, std::int64_t>> after;
  int limit = 100;
};

/// Events per owner, unowned ones included, for coverage and team reports.
struct owner_count {
  std::int64_t project_id = 0;
  std::string team;
  std::string function;
  std::string product;
  std::string owner_source;
  std::int64_t events = 0;
};

/// A state change asked for through the API.
struct status_change {
  enum class action { resolve, resolve_in_next_release, unresolve, mute, unmute };
  action what = action::resolve;
  std::optional<std::int64_t> mute_until_ms;  ///< mute: until this time.
  std::optional<std::int64_t> mute_events;    ///< mute: for this many more events.
  std::string actor;                          ///< Who asked, recorded with the change.
  std::int64_t at_ms = 0;                     ///< When.
  /// The tracker whose ticket changed first (its webhook asked for this change); empty
  /// when the change began in Warden. Nothing is sent back to that ticket.
  std::string origin_tracker;
};

class store final {
 public:
  /// Opens or creates the database, applies migrations and starts the writer.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<store>> open(store_options options);
  /// Commits what is queued, then stops the writer.
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Stores an event and updates its issue; returns once committed. Any thread.
  /// Unavailable (a full disk, say) leaves nothing half-written.
  absl::StatusOr<write_result> write(event_record event);
  /// Stores an attachment; returns once committed. Any thread.
  absl::Status write_attachment(attachment_record attachment);
  /// Resolves, mutes or reopens an issue, recorded with actor and time. NotFound for an
  /// unknown issue.
  absl::StatusOr<issue_row> change_status(std::int64_t issue_id, status_change change);
  /// Deletes events received before `now_ms` minus the retention; issues and counts
  /// stay. Returns how many were deleted.
  absl::StatusOr<std::int64_t> apply_retention(std::int64_t now_ms);

  /// The issue `id`, if any. Any thread.
  absl::StatusOr<std::optional<issue_row>> issue(std::int64_t id);
  /// Issues matching `filter`, by last seen, newest first.
  absl::StatusOr<std::vector<issue_row>> issues(const issue_filter& filter);
  /// The levels, environments and releases the issue has seen, with counts.
  absl::StatusOr<std::vector<facet_count>> issue_facets(std::int64_t issue_id);
  /// The issue's recorded changes, oldest first.
  absl::StatusOr<std::vector<issue_activity>> issue_history(std::int64_t issue_id);
  /// Events per owner and owner source.
  absl::StatusOr<std::vector<owner_count>> owner_counts();
  /// The event `event_id` of `project_id`, if still stored.
  absl::StatusOr<std::optional<event_detail>> event(std::int64_t project_id,
                                                    const std::string& event_id);
  /// The attachment `id` of an event: its record with the bytes; nullopt if unknown.
  absl::StatusOr<std::optional<attachment_record>> attachment(std::int64_t project_id,
                                                              const std::string& event_id,
                                                              std::int64_t id);
  /// The stored events of an issue, newest first, as JSON payloads.
  absl::StatusOr<std::vector<std::string>> issue_events(std::int64_t issue_id, int limit);
  /// A value the sink keeps for itself (e.g. the generated key of the default project);
  /// nullopt when never set.
  absl::StatusOr<std::optional<std::string>> setting(const std::string& name);
  /// Sets a value kept by setting().
  absl::Status put_setting(const std::string& name, const std::string& value);

  /// Runs `work` on the writer in its own savepoint and returns once committed: for
  /// other modules' tables (the outbox), with every write serialized through one writer.
  absl::Status run_in_writer(std::function<absl::Status(sqlite_db&)> work);
  /// Runs `work` on the reading connection (it sees committed data; issue counts may lag
  /// by fold_interval, unlike issue()). Any thread; reads are serialized.
  absl::Status read(const std::function<absl::Status(sqlite_db&)>& work);

  /// Writes waiting for the writer, for /metrics.
  std::size_t queue_depth() const;

 private:
  struct statements;
  struct job {
    std::function<absl::Status(statements&)> run;
    absl::Status status;                // set by the writer before `done`
    bool done = false;                  // guarded by mu_: its batch committed (or failed)
    std::condition_variable committed;  // signalled once `done`
  };

  store(store_options options, std::unique_ptr<sqlite_db> writer,
        std::unique_ptr<sqlite_db> reader);
  // Queues `work` for the writer and waits until its batch committed, or until `timeout`
  // (Unavailable; the work still runs later, so it must own what it uses).
  absl::Status submit(std::function<absl::Status(statements&)> work,
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  void run_writer();
  // Commits `batch` in one transaction, with the pending issue counts when `fold` or
  // when they are due.
  void commit_batch(std::vector<std::shared_ptr<job>>& batch, bool fold);
  // One attempt of commit_batch: `isolated` runs each job in a savepoint, so that one
  // that fails leaves the others. False when, not isolated, a job failed and everything
  // was rolled back.
  bool run_batch(std::vector<std::shared_ptr<job>>& batch, bool fold, bool isolated);
  // Folds pending issue counts in before a read, so that it sees every committed event.
  absl::Status sync_counts();
  // Checkpoints the write-ahead log each time it grew by options_.checkpoint_frames,
  // until stop_checkpointer().
  void run_checkpointer();
  // On the writer, between batches: restarts a log kRestartAfter times checkpoint_frames
  // long once the checkpoints copied nearly all of it.
  void restart_long_log();
  // A log of 4096 frames (16 MB) rather than 4 times that: p99 at half the maximum rate
  // 12-22 ms against 17-33 ms (16 times: 37-83 ms), the maximum rate within noise.
  static constexpr int kRestartAfter = 1;
  void stop_checkpointer();

  store_options options_;
  std::unique_ptr<sqlite_db> writer_db_;    // writer thread only
  std::unique_ptr<statements> statements_;  // writer thread only

  std::mutex read_mu_;
  std::unique_ptr<sqlite_db> reader_db_ ABSL_GUARDED_BY(read_mu_);

  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::deque<std::shared_ptr<job>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
  // The writer holds counts not folded yet, or ids not in event_ids yet.
  std::atomic<bool> counts_pending_{false};

  int writer_wal_frames_ = 0;                 // writer thread only
  std::unique_ptr<sqlite_db> checkpoint_db_;  // checkpointer thread only
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees only the former here
  // (Debian's Abseil is not instrumented).
  std::mutex checkpointing_;  // held while either thread checkpoints
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_wanted_;
  int wal_frames_ ABSL_GUARDED_BY(checkpoint_mu_) = 0;           // after the last commit
  int checkpointed_log_ ABSL_GUARDED_BY(checkpoint_mu_) = 0;     // log frames copied
  int last_checkpoint_log_ ABSL_GUARDED_BY(checkpoint_mu_) = 0;  // log length at the last run
  bool checkpoint_stopping_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  std::thread checkpointer_;
};

}  // namespace warden::sink

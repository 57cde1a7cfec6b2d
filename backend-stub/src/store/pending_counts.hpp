// What stored events add to their issues' counts before the writer folds it into the
// issue rows (store.cpp). Updating an issue's row, facets, users and owner counts for
// every event rewrote a few pages of the database per event; collected here, an issue
// busy with a hundred events in the fold interval is updated once. Each issue is folded
// on its own once its oldest waiting event is fold_interval old, so the work is spread
// over the batches instead of stalling one. Internal to the store: the writer thread
// alone uses it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace warden::sink {

/// One stored event, as far as the counts of its issue are concerned.
struct counted_event {
  std::int64_t rowid = 0;  ///< The event's row: events are counted in rowid order.
  std::int64_t issue_id = 0;
  std::int64_t project_id = 0;
  std::string event_id;
  std::int64_t received_ms = 0;
  std::string level;
  std::string environment;
  std::string release;
  std::string user_key;
  std::string team;
  std::string function;
  std::string product;
  std::string owner_source;
};

/// A level, environment or release an issue saw, with how often and when.
struct facet_delta {
  std::int64_t count = 0;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
};

/// What an issue's row, facets, users and owner counts are still missing.
struct issue_delta {
  std::int64_t project_id = 0;
  std::int64_t events = 0;
  std::int64_t first_rowid = 0;  ///< Its oldest waiting event.
  std::int64_t last_rowid = 0;   ///< Its newest waiting event: the row counts up to here.
  /// Its waiting events, oldest first: they join the issue's events (issue_events) when
  /// the counts are folded.
  std::vector<std::int64_t> rowids;
  std::int64_t last_seen_ms = 0;
  std::string level;            ///< Of the latest event.
  std::string latest_event_id;  ///< The latest event.
  std::string last_release;     ///< The latest non-empty release; empty: unchanged.
  /// Keyed by (facet, value): ("level", "error"), ("release", "shop@1.2"), ...
  absl::flat_hash_map<std::pair<std::string, std::string>, facet_delta> facets;
  absl::flat_hash_set<std::string> users;  ///< Possibly seen before: inserted if new.
  std::string team, function, product;     ///< The issue's owner.
  /// Events per owner source (sdk, rules, project, fallback) for the counts per owner.
  absl::flat_hash_map<std::string, std::int64_t> owner_sources;
};

/// Counts not yet folded into the database, per issue, oldest first.
class pending_counts {
 public:
  using clock = std::chrono::steady_clock;

  /// Adds `event`, stored at `now`, to its issue's counts.
  void add(const counted_event& event, clock::time_point now);
  /// Events of `issue_id` not folded yet.
  std::int64_t events_of(std::int64_t issue_id) const;
  /// True when nothing is pending.
  bool empty() const { return issues_.empty(); }
  /// The issues whose oldest waiting event was added at or before `deadline`, oldest
  /// first.
  std::vector<std::int64_t> waiting_since(clock::time_point deadline) const;
  /// Every issue with counts waiting.
  std::vector<std::int64_t> all() const;
  /// The counts of `issue_id` (which has some).
  const issue_delta& of(std::int64_t issue_id) const { return issues_.at(issue_id).second; }
  /// Forgets the counts of `issue_id`, once they are in its row.
  void erase(std::int64_t issue_id);
  /// Every event up to this rowid is folded (nullopt: every event so far).
  std::optional<std::int64_t> folded_below() const;
  /// Forgets everything (to recount from the database).
  void clear();
  /// Changes with every change: a job that changed it and then failed leaves counts of
  /// events its rollback removed.
  std::uint64_t generation() const { return generation_; }

 private:
  struct entry {
    std::uint64_t sequence;  // of the delta it was queued for
    std::int64_t issue_id;
    clock::time_point added;
  };
  // True when `queued` still describes the waiting counts of its issue.
  bool current(const entry& queued) const;

  absl::flat_hash_map<std::int64_t, std::pair<std::uint64_t, issue_delta>> issues_;
  std::deque<entry> order_;  // by first waiting event; entries of folded deltas skipped
  std::uint64_t generation_ = 0;
};

}  // namespace warden::sink

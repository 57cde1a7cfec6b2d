// What stored events add to their issues' counts before the writer folds it into the
// issue rows (store.cpp). Updating an issue's row, facets and users for every event
// rewrote a few pages of the database per event; collected here, an issue busy with a
// hundred events in the fold interval is updated once. Internal to the store: the writer
// thread alone uses it.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace warden::sink {

/// One stored event, as far as the counts of its issue are concerned.
struct counted_event {
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

/// What an issue's row, facets and users are still missing.
struct issue_delta {
  std::int64_t project_id = 0;
  std::int64_t events = 0;
  std::int64_t last_seen_ms = 0;
  std::string level;            ///< Of the latest event.
  std::string latest_event_id;  ///< The latest event.
  std::string last_release;     ///< The latest non-empty release; empty: unchanged.
  /// Keyed by (facet, value): ("level", "error"), ("release", "shop@1.2"), ...
  absl::flat_hash_map<std::pair<std::string, std::string>, facet_delta> facets;
  absl::flat_hash_set<std::string> users;  ///< Possibly seen before: inserted if new.
};

/// Events per owner and owner source: (project, team, function, product, source).
using owner_key = std::tuple<std::int64_t, std::string, std::string, std::string, std::string>;

/// Counts not yet folded into the database, per issue and per owner.
class pending_counts {
 public:
  /// Adds `event` to its issue's and owner's counts.
  void add(const counted_event& event);
  /// Events of `issue_id` not folded yet.
  std::int64_t events_of(std::int64_t issue_id) const;
  /// True when nothing is pending.
  bool empty() const { return issues_.empty() && owners_.empty(); }
  /// Forgets everything (after folding it, or to recount from the database).
  void clear();
  /// Changes with every add() and clear(): a job that changed it and then failed leaves
  /// counts of events its rollback removed.
  std::uint64_t generation() const { return generation_; }

  /// Per issue.
  const absl::flat_hash_map<std::int64_t, issue_delta>& issues() const { return issues_; }
  /// Per owner.
  const absl::flat_hash_map<owner_key, std::int64_t>& owners() const { return owners_; }

 private:
  absl::flat_hash_map<std::int64_t, issue_delta> issues_;
  absl::flat_hash_map<owner_key, std::int64_t> owners_;
  std::uint64_t generation_ = 0;
};

}  // namespace warden::sink

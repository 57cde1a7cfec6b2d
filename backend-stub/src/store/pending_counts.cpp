#include "store/pending_counts.hpp"

#include <algorithm>

namespace warden::sink {

void pending_counts::add(const counted_event& event, clock::time_point now) {
  ++generation_;
  auto [found, created] = issues_.try_emplace(event.issue_id);
  auto& [sequence, issue] = found->second;
  if (created) {
    sequence = generation_;
    order_.push_back({sequence, event.issue_id, now});
    issue.project_id = event.project_id;
    issue.first_rowid = event.rowid;
    issue.team = event.team;
    issue.function = event.function;
    issue.product = event.product;
  }
  ++issue.events;
  issue.last_rowid = std::max(issue.last_rowid, event.rowid);
  issue.rowids.push_back(event.rowid);
  issue.last_seen_ms = std::max(issue.last_seen_ms, event.received_ms);
  issue.level = event.level;
  issue.latest_event_id = event.event_id;
  if (!event.release.empty()) issue.last_release = event.release;
  for (const auto& [facet, value] :
       {std::pair<const char*, const std::string&>{"level", event.level},
        {"environment", event.environment},
        {"release", event.release}}) {
    if (value.empty()) continue;
    facet_delta& seen = issue.facets[{facet, value}];
    if (seen.count++ == 0) seen.first_seen_ms = event.received_ms;
    seen.last_seen_ms = std::max(seen.last_seen_ms, event.received_ms);
  }
  if (!event.user_key.empty()) issue.users.insert(event.user_key);
  ++issue.owner_sources[event.owner_source];
}

std::int64_t pending_counts::events_of(std::int64_t issue_id) const {
  const auto found = issues_.find(issue_id);
  return found == issues_.end() ? 0 : found->second.second.events;
}

bool pending_counts::current(const entry& queued) const {
  const auto found = issues_.find(queued.issue_id);
  return found != issues_.end() && found->second.first == queued.sequence;
}

std::vector<std::int64_t> pending_counts::waiting_since(clock::time_point deadline) const {
  std::vector<std::int64_t> due;
  for (const entry& queued : order_) {
    if (queued.added > deadline) break;
    if (current(queued)) due.push_back(queued.issue_id);
  }
  return due;
}

std::vector<std::int64_t> pending_counts::all() const {
  std::vector<std::int64_t> every;
  every.reserve(issues_.size());
  for (const entry& queued : order_) {
    if (current(queued)) every.push_back(queued.issue_id);
  }
  return every;
}

void pending_counts::erase(std::int64_t issue_id) {
  ++generation_;
  issues_.erase(issue_id);
  while (!order_.empty() && !current(order_.front())) order_.pop_front();
}

std::optional<std::int64_t> pending_counts::folded_below() const {
  // Deltas are created in rowid order, so the oldest current entry has the lowest rowid.
  for (const entry& queued : order_) {
    if (current(queued)) return issues_.at(queued.issue_id).second.first_rowid;
  }
  return std::nullopt;
}

void pending_counts::clear() {
  ++generation_;
  issues_.clear();
  order_.clear();
}

}  // namespace warden::sink

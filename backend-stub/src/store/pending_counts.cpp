#include "store/pending_counts.hpp"

#include <algorithm>
#include <utility>

namespace warden::sink {

void pending_counts::add(const counted_event& event) {
  ++generation_;
  issue_delta& issue = issues_[event.issue_id];
  issue.project_id = event.project_id;
  ++issue.events;
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
  ++owners_[owner_key{event.project_id, event.team, event.function, event.product,
                      event.owner_source}];
}

std::int64_t pending_counts::events_of(std::int64_t issue_id) const {
  const auto found = issues_.find(issue_id);
  return found == issues_.end() ? 0 : found->second.events;
}

void pending_counts::clear() {
  ++generation_;
  issues_.clear();
  owners_.clear();
}

}  // namespace warden::sink

// What a ticket says about a Warden issue, independent of the tracker: the snapshot the
// outbox renders when it sends (counts are read then, not when the rule fired).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace warden::sink {

/// An issue as a ticket describes it.
struct ticket_snapshot {
  std::int64_t issue_id = 0;
  std::string incident_key;  ///< "wd:<project id>:<first 16 hex of the group hash>".
  std::string title;
  std::string culprit;
  std::string team;
  std::string function;
  std::string product;
  std::string owner_source;  ///< sdk, rules, fallback.
  std::string level;         ///< Of the event that fired: fatal, error, ...
  std::string environment;
  std::string first_release;
  std::string last_release;
  std::int64_t event_count = 0;
  std::int64_t user_count = 0;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::vector<std::string> frames;  ///< Innermost in-app frames of the latest event, ≤ 5.
  std::string rule;                 ///< The rule that fired and why, e.g. "prod-errors".
  std::string reason;               ///< first_seen, regressed, unmuted, seen_more_than, ...
  std::string link;                 ///< The issue in the sink: public_url/api/0/issues/<id>.
};

/// What a new ticket says: its summary, Markdown description and incident key.
struct ticket_content {
  std::string summary;
  std::string description;
  std::string incident_key;
};

/// One issue listed in a digest ticket (issues past a team's hourly cap).
struct digest_entry {
  std::string title;
  std::string level;
  std::int64_t event_count = 0;
  std::string link;  ///< The issue in the sink.
};

/// A ticket as the tracker answered its creation.
struct created_ticket {
  std::string id;   ///< The tracker's internal id, e.g. YouTrack's "2-4711".
  std::string key;  ///< What people read, e.g. "OPS-1532".
  std::string url;  ///< Link to it.
};

}  // namespace warden::sink

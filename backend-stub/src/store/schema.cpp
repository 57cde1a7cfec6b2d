#include "store/schema.hpp"

#include <fmt/format.h>

#include <array>
#include <string>

namespace warden::sink {
namespace {

// Append only: a released migration never changes. Times are Unix milliseconds.
constexpr std::array<const char*, 10> kMigrations = {
    // 1: issues, their events, facets (levels, environments, releases), distinct users,
    // state changes, event counts per owner, and settings the sink generated.
    R"sql(
CREATE TABLE issues (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL,
  group_hash TEXT NOT NULL,
  grouping_version INTEGER NOT NULL,
  grouping_kind TEXT NOT NULL,
  grouping_components TEXT NOT NULL,   -- JSON array of what was hashed
  title TEXT NOT NULL,
  culprit TEXT NOT NULL,
  team TEXT NOT NULL,
  function TEXT NOT NULL,
  product TEXT NOT NULL,
  owner_source TEXT NOT NULL,           -- sdk, rules, fallback
  level TEXT NOT NULL,                  -- of the latest event
  status TEXT NOT NULL DEFAULT 'unresolved',    -- unresolved, resolved, muted
  substatus TEXT NOT NULL DEFAULT 'new',        -- new, ongoing, regressed, unmuted, ...
  resolved_in_release TEXT,             -- resolved in the release after this one
  muted_until INTEGER,                  -- muted until this time
  muted_remaining INTEGER,              -- muted for this many more events
  event_count INTEGER NOT NULL,
  user_count INTEGER NOT NULL DEFAULT 0,
  stored_events INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  first_release TEXT NOT NULL,
  last_release TEXT NOT NULL,
  latest_event_id TEXT NOT NULL,
  UNIQUE (project_id, group_hash)
);
CREATE INDEX issues_by_owner ON issues (team, function, product, last_seen);
CREATE INDEX issues_by_last_seen ON issues (last_seen);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  issue_id INTEGER NOT NULL REFERENCES issues (id),
  received INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  level TEXT NOT NULL,
  environment TEXT NOT NULL,
  release TEXT NOT NULL,
  user_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  UNIQUE (project_id, event_id)
);
CREATE INDEX events_by_issue ON events (issue_id, id);
CREATE INDEX events_by_received ON events (received);

-- Ids of recent events, so a retried envelope is not counted twice even when its event
-- was no longer kept; bounded in number (store_options::max_recent_event_ids).
CREATE TABLE recent_event_ids (
  project_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  issue_id INTEGER NOT NULL,
  received INTEGER NOT NULL,
  PRIMARY KEY (project_id, event_id)
) WITHOUT ROWID;
CREATE INDEX recent_event_ids_by_received ON recent_event_ids (received);

CREATE TABLE issue_facets (
  issue_id INTEGER NOT NULL REFERENCES issues (id),
  facet TEXT NOT NULL,                  -- level, environment, release
  value TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (issue_id, facet, value)
) WITHOUT ROWID;

CREATE TABLE issue_users (
  issue_id INTEGER NOT NULL REFERENCES issues (id),
  user_key TEXT NOT NULL,
  PRIMARY KEY (issue_id, user_key)
) WITHOUT ROWID;

CREATE TABLE issue_activity (
  id INTEGER PRIMARY KEY,
  issue_id INTEGER NOT NULL REFERENCES issues (id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,                  -- "warden-sink" for automatic changes
  action TEXT NOT NULL,                 -- first_seen, regressed, resolved, muted, ...
  detail TEXT NOT NULL
);
CREATE INDEX issue_activity_by_issue ON issue_activity (issue_id, id);

CREATE TABLE settings (
  name TEXT PRIMARY KEY,                -- e.g. the generated key of the default project
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE owner_counts (
  project_id INTEGER NOT NULL,
  team TEXT NOT NULL,
  function TEXT NOT NULL,
  product TEXT NOT NULL,
  owner_source TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (project_id, team, function, product, owner_source)
) WITHOUT ROWID;
)sql",
    // 2: attachments of events (stored when the config says so).
    R"sql(
CREATE TABLE attachments (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  attachment_type TEXT NOT NULL,
  received INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX attachments_by_event ON attachments (project_id, event_id);
CREATE INDEX attachments_by_received ON attachments (received);
)sql",
    // 3: no per-event index churn: last_seen changes with every event, so indexes on it
    // were rewritten each time (issues are listed with a sort over the matching rows).
    R"sql(
DROP INDEX IF EXISTS issues_by_owner;
DROP INDEX IF EXISTS issues_by_last_seen;
CREATE INDEX issues_by_owner ON issues (team, function, product);
)sql",
    // 4: issue counts are folded in after their events (store.cpp): the events up to
    // counted.through_event are in them, later ones are recounted when the store opens.
    // Each event keeps its owner source for that.
    R"sql(
ALTER TABLE events ADD COLUMN owner_source TEXT NOT NULL DEFAULT '';
CREATE TABLE counted (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  through_event INTEGER NOT NULL
);
INSERT INTO counted VALUES (1, (SELECT coalesce(max(id), 0) FROM events));
)sql",
    // 5: issues are folded one by one (spread over the batches): each row counts its
    // events up to counted_through; counted.through_event is the lowest such mark.
    R"sql(
ALTER TABLE issues ADD COLUMN counted_through INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6: alerting (issue #5). Every call to a tracker or receiver is first a row of the
    // outbox, written in the transaction of the event or change that caused it; each HTTP
    // exchange is logged in delivery_attempts before it is sent. One ticket per issue:
    // tickets' primary key is the issue.
    R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  created INTEGER NOT NULL,
  kind TEXT NOT NULL,                   -- ticket.create, ticket.reopen, ticket.comment, ticket.resolve
  target TEXT NOT NULL,                 -- a tracker's or receiver's name, never a URL or secret
  issue_id INTEGER REFERENCES issues (id),
  idempotency_key TEXT NOT NULL UNIQUE, -- one row per intent, however often it is asked for
  ordering_key TEXT,                    -- rows with one key are delivered one at a time, in order
  intent TEXT NOT NULL,                 -- JSON: rule, reason, level...; the request is built when sent
  state TEXT NOT NULL,                  -- pending, in_flight, retrying, delivered, failed,
                                        -- exhausted, superseded
  uncertain INTEGER NOT NULL DEFAULT 0, -- an earlier attempt may have reached the target
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  last_attempt INTEGER,
  last_status INTEGER,                  -- HTTP status of the last answer; 0: none
  last_error TEXT,
  finished INTEGER,
  replay_of INTEGER,                    -- the row this one replays (which may be pruned)
  actor TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt) WHERE state IN ('pending', 'retrying');
CREATE INDEX outbox_by_issue ON outbox (issue_id, id);
CREATE INDEX outbox_by_target ON outbox (target, state, id);
CREATE INDEX outbox_by_ordering ON outbox (ordering_key, id) WHERE ordering_key IS NOT NULL;
CREATE INDEX outbox_by_finished ON outbox (finished) WHERE finished IS NOT NULL;
CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  step TEXT NOT NULL,                   -- send, lookup_project, search
  started INTEGER NOT NULL,
  duration_ms INTEGER,
  request TEXT NOT NULL,                -- method, URL, headers and body, secrets masked
  status INTEGER,                       -- NULL: not answered yet (the process stopped)
  response_headers TEXT,
  response_body TEXT,
  error TEXT,
  outcome TEXT NOT NULL                 -- unknown, delivered, retry, failed
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, id);
CREATE TABLE tickets (
  issue_id INTEGER PRIMARY KEY REFERENCES issues (id),
  tracker TEXT NOT NULL,
  project TEXT NOT NULL,
  team TEXT NOT NULL,
  incident_key TEXT NOT NULL,
  state TEXT NOT NULL,                  -- pending, created, failed, digested
  external_id TEXT,                     -- the tracker's id (YouTrack 2-4711)
  external_key TEXT,                    -- what people read (OPS-1532)
  url TEXT,
  remote_state TEXT,                    -- open or resolved, as last set by us
  created INTEGER NOT NULL,
  opened INTEGER,
  create_delivery INTEGER               -- the outbox row of its creation (which may be pruned)
);
CREATE UNIQUE INDEX tickets_by_external ON tickets (tracker, external_key)
  WHERE external_key IS NOT NULL;
CREATE INDEX tickets_by_team_created ON tickets (team, created);
-- Recent events per issue and environment in minute (or hour) buckets, for frequency
-- conditions; kept only as long as the longest interval of a rule.
CREATE TABLE issue_windows (
  issue_id INTEGER NOT NULL,
  environment TEXT NOT NULL,
  width INTEGER NOT NULL,               -- bucket width, ms
  bucket INTEGER NOT NULL,              -- received / width
  events INTEGER NOT NULL,
  PRIMARY KEY (issue_id, environment, width, bucket)
) WITHOUT ROWID;
CREATE TABLE issue_window_users (
  issue_id INTEGER NOT NULL,
  environment TEXT NOT NULL,
  width INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  user_key TEXT NOT NULL,
  PRIMARY KEY (issue_id, environment, width, bucket, user_key)
) WITHOUT ROWID;
CREATE TABLE alert_rule_state (
  rule_id TEXT NOT NULL,
  issue_id INTEGER NOT NULL REFERENCES issues (id),
  last_fired INTEGER NOT NULL,
  fires INTEGER NOT NULL,
  PRIMARY KEY (rule_id, issue_id)
) WITHOUT ROWID;
)sql",
    // 7: notifications (issue #5). A rule's notify action adds an item to the group of
    // each route it matches (Alertmanager's groups: one message per receiver and group
    // key); the dispatcher turns due groups into outbox rows. PagerDuty alerts are
    // remembered per receiver and issue (their dedup key), and tickets past a team's
    // hourly cap are listed in a digest ticket.
    R"sql(
CREATE TABLE notification_groups (
  id INTEGER PRIMARY KEY,
  receiver TEXT NOT NULL,
  group_key TEXT NOT NULL,              -- {}/{team="payments"}:{issue="42"}
  labels TEXT NOT NULL,                 -- JSON object of the group's labels
  created INTEGER NOT NULL,
  group_wait INTEGER NOT NULL,          -- the route's timers when the group was made, ms
  group_interval INTEGER NOT NULL,
  repeat_interval INTEGER NOT NULL,     -- -1: never
  next_flush INTEGER,                   -- NULL: nothing due until an item arrives
  last_flush INTEGER,
  last_sent INTEGER,
  last_sent_firing INTEGER NOT NULL DEFAULT 0,
  flushes INTEGER NOT NULL DEFAULT 0,
  UNIQUE (receiver, group_key)
);
CREATE INDEX notification_groups_due ON notification_groups (next_flush)
  WHERE next_flush IS NOT NULL;
CREATE TABLE notification_items (
  id INTEGER PRIMARY KEY,
  group_id INTEGER NOT NULL REFERENCES notification_groups (id),
  issue_id INTEGER NOT NULL,
  reason TEXT NOT NULL,                 -- first_seen, regressed, ..., resolved
  rule TEXT NOT NULL,
  level TEXT NOT NULL,
  environment TEXT NOT NULL,
  added INTEGER NOT NULL,
  sent_in INTEGER                       -- the outbox row that carried it; NULL: not yet
);
CREATE INDEX notification_items_unsent ON notification_items (group_id) WHERE sent_in IS NULL;
CREATE INDEX notification_items_by_issue ON notification_items (issue_id);
CREATE TABLE pagerduty_alerts (
  receiver TEXT NOT NULL,
  issue_id INTEGER NOT NULL,
  dedup_key TEXT NOT NULL,
  state TEXT NOT NULL,                  -- triggered, resolved
  triggered INTEGER,
  resolved INTEGER,
  PRIMARY KEY (receiver, issue_id)
) WITHOUT ROWID;
CREATE TABLE digests (
  id INTEGER PRIMARY KEY,
  team TEXT NOT NULL,
  tracker TEXT NOT NULL,
  project TEXT NOT NULL,
  opened INTEGER NOT NULL,
  closes INTEGER NOT NULL,              -- issues past the cap until then join this digest
  issue_count INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,                  -- pending, created, failed
  external_id TEXT,
  external_key TEXT,
  url TEXT
);
CREATE INDEX digests_open ON digests (team, tracker, project, closes);
ALTER TABLE tickets ADD COLUMN digest_id INTEGER;
)sql",
    // 8: the trackers' webhooks (two-way state): every request received, what it said
    // and what the sink did with it.
    R"sql(
CREATE TABLE inbound_deliveries (
  id INTEGER PRIMARY KEY,
  received INTEGER NOT NULL,
  tracker TEXT NOT NULL,
  source TEXT NOT NULL,                 -- youtrack, github
  delivery_key TEXT,                    -- the sender's delivery id (X-GitHub-Delivery)
  event TEXT NOT NULL,                  -- e.g. issues.closed, resolved
  ticket TEXT,                          -- the ticket's key as the tracker names it
  issue_id INTEGER,                     -- the Warden issue it concerned
  status INTEGER NOT NULL,              -- what the sink answered
  outcome TEXT NOT NULL,                -- resolved, reopened, unchanged, ignored, duplicate,
                                        -- unknown_ticket, rejected, malformed
  message TEXT NOT NULL,
  headers TEXT NOT NULL,                -- secrets masked
  body TEXT NOT NULL                    -- empty when the request was not authenticated
);
CREATE UNIQUE INDEX inbound_by_delivery ON inbound_deliveries (tracker, delivery_key)
  WHERE delivery_key IS NOT NULL AND outcome NOT IN ('duplicate', 'rejected');
CREATE INDEX inbound_by_received ON inbound_deliveries (received);
)sql",
    // 9: event ids leave the events table for event_ids, which the writer fills in
    // sorted runs (store.cpp): a unique index on random ids was written at a random
    // page for every event. counted.ids_through: the events up to it are in event_ids
    // (unless dropped), later ones are added when the store opens. SQLite drops a
    // UNIQUE constraint only with its table, so the events move to a new table.
    R"sql(
CREATE TABLE events_new (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  issue_id INTEGER NOT NULL REFERENCES issues (id),
  received INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  level TEXT NOT NULL,
  environment TEXT NOT NULL,
  release TEXT NOT NULL,
  user_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  owner_source TEXT NOT NULL DEFAULT ''
);
INSERT INTO events_new SELECT id, project_id, event_id, issue_id, received, timestamp, level,
  environment, release, user_key, payload, owner_source FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_issue ON events (issue_id, id);
CREATE INDEX events_by_received ON events (received);
CREATE TABLE event_ids (
  project_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  issue_id INTEGER NOT NULL,
  event INTEGER NOT NULL,               -- events.id
  PRIMARY KEY (project_id, event_id)
) WITHOUT ROWID;
INSERT INTO event_ids SELECT project_id, event_id, issue_id, id FROM events;
ALTER TABLE counted ADD COLUMN ids_through INTEGER NOT NULL DEFAULT 0;
UPDATE counted SET ids_through = (SELECT coalesce(max(id), 0) FROM events);
)sql",
    // 10: an issue's events are listed in issue_events, written when the issue's counts
    // are folded (all its waiting events at its end of the index), instead of an index
    // of events written at the issue's place for every event (a page per event with many
    // busy issues). An event is in issue_events once its issue's row counts it: up to
    // the issue's counted_through or counted.through_event.
    R"sql(
CREATE TABLE issue_events (
  issue_id INTEGER NOT NULL,
  event INTEGER NOT NULL,               -- events.id
  PRIMARY KEY (issue_id, event)
) WITHOUT ROWID;
INSERT INTO issue_events SELECT e.issue_id, e.id FROM events e JOIN issues i ON i.id = e.issue_id
  WHERE e.id <= max(i.counted_through, (SELECT through_event FROM counted))
  ORDER BY e.issue_id, e.id;
DROP INDEX events_by_issue;
)sql",
};

}  // namespace

int current_schema_version() { return static_cast<int>(kMigrations.size()); }

absl::Status migrate(sqlite_db& db) {
  absl::StatusOr<std::int64_t> version = db.query_int("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version > current_schema_version()) {
    return absl::FailedPreconditionError(
        fmt::format("the database has schema version {}, newer than this warden-sink's {}; "
                    "use a newer warden-sink",
                    *version, current_schema_version()));
  }
  for (auto next = static_cast<std::size_t>(*version); next < kMigrations.size(); ++next) {
    WARDEN_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
    absl::Status applied = db.exec(kMigrations[next]);
    if (applied.ok()) applied = db.exec(fmt::format("PRAGMA user_version = {}", next + 1));
    if (!applied.ok()) {
      static_cast<void>(db.exec("ROLLBACK"));
      return absl::Status{applied.code(), fmt::format("schema migration {} failed: {}", next + 1,
                                                      std::string{applied.message()})};
    }
    WARDEN_RETURN_IF_ERROR(db.exec("COMMIT"));
  }
  return absl::OkStatus();
}

}  // namespace warden::sink

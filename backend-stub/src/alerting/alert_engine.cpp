#include "alerting/alert_engine.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include "fmt/format.h"
#include "outbox/outbox_store.hpp"

namespace warden::sink {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;

// A JSON object of string fields, for an outbox row's intent.
std::string intent_json(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> out{buffer};
  out.StartObject();
  for (const auto& [name, value] : fields) {
    out.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    out.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  out.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// Why `rule` fired for this event: the state change it saw, else its frequency condition.
std::string_view fire_reason(const alert_rule_config& rule, const write_result& result) {
  if (result.first_seen) return "first_seen";
  if (result.regressed) return "regressed";
  if (result.unmuted) return "unmuted";
  for (const rule_condition& condition : rule.conditions) {
    if (condition.what == rule_condition::kind::seen_more_than) return "seen_more_than";
    if (condition.what == rule_condition::kind::users_more_than) return "users_more_than";
  }
  return "filters";
}

bool matches(const owner_match& match, const event_record& event) {
  return (match.team.empty() || match.team == event.team) &&
         (match.function.empty() || match.function == event.function) &&
         (match.product.empty() || match.product == event.product);
}

absl::Status record_activity(sqlite_db& db, std::int64_t issue_id, std::int64_t at_ms,
                             std::string_view action, std::string_view detail) {
  absl::StatusOr<sqlite_statement*> insert = db.cached(
      "INSERT INTO issue_activity (issue_id, at, actor, action, detail) "
      "VALUES (?, ?, 'warden-sink', ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)->bind(1, issue_id).bind(2, at_ms).bind(3, action).bind(4, detail);
  return (*insert)->run();
}

// The state of the issue's ticket, if it has a tickets row.
absl::StatusOr<std::optional<std::string>> ticket_state(sqlite_db& db, std::int64_t issue_id) {
  absl::StatusOr<sqlite_statement*> query =
      db.cached("SELECT state FROM tickets WHERE issue_id = ?");
  if (!query.ok()) return query.status();
  (*query)->bind(1, issue_id);
  absl::StatusOr<bool> found = (*query)->step();
  if (!found.ok()) return found.status();
  std::optional<std::string> state;
  if (*found) state = (*query)->column_text(0);
  (*query)->reset();
  return state;
}

}  // namespace

absl::StatusOr<std::shared_ptr<alert_engine>> alert_engine::create(alerting_config config) {
  absl::StatusOr<rule_set> rules = rule_set::compile(config.alert_rules);
  if (!rules.ok()) return rules.status();
  absl::StatusOr<notifier> notifications = notifier::create(config);
  if (!notifications.ok()) return notifications.status();
  return std::shared_ptr<alert_engine>{
      new alert_engine{std::move(config), *std::move(rules), *std::move(notifications)}};
}

alert_engine::alert_engine(alerting_config config, rule_set rules, notifier notifications)
    : config_{std::move(config)}, rules_{std::move(rules)}, notifier_{std::move(notifications)} {
  if (rules_.uses_windows()) windows_.emplace(rules_.longest_window(), rules_.uses_users());
}

absl::Status alert_engine::after_event(sqlite_db& db, const event_record& event,
                                       const write_result& result) {
  if (result.regressed && config_.escalation &&
      config_.escalation->on_regression != regression_action::none) {
    const bool reopen = config_.escalation->on_regression == regression_action::reopen;
    WARDEN_RETURN_IF_ERROR(follow_up(db, result.issue_id,
                                     reopen ? "ticket.reopen" : "ticket.comment", event.event_id,
                                     intent_json({{"reason", "regressed"},
                                                  {"release", event.release},
                                                  {"environment", event.environment},
                                                  {"level", event.level},
                                                  {"event_id", event.event_id}}),
                                     event.received_ms));
  }
  if (windows_) {  // counted whether or not the issue is open: it may reopen
    WARDEN_RETURN_IF_ERROR(windows_->record(db, result.issue_id, event.environment, event.user_key,
                                            event.received_ms));
  }
  if (!result.issue_open || rules_.rules().empty()) return absl::OkStatus();

  rule_facts facts;
  facts.team = event.team;
  facts.function = event.function;
  facts.product = event.product;
  facts.environment = event.environment;
  facts.release = event.release;
  facts.level = parse_event_level(event.level).value_or(event_level::error);
  facts.tags = &event.tags;
  facts.first_seen = result.first_seen;
  facts.regressed = result.regressed;
  facts.unmuted = result.unmuted;
  facts.issue_open = result.issue_open;
  facts.issue_age = std::chrono::milliseconds{
      std::max<std::int64_t>(0, event.received_ms - result.issue_first_seen_ms)};
  std::optional<issue_windows::view> counts;
  if (windows_) {
    facts.windows =
        &counts.emplace(db, *windows_, result.issue_id, event.environment, event.received_ms);
  }
  fired_.clear();
  rules_.evaluate(facts, fired_);

  bool ticket_asked = false;
  for (const std::size_t index : fired_) {
    const alert_rule_config& rule = rules_.rules()[index];
    const std::string_view reason = fire_reason(rule, result);
    absl::StatusOr<bool> fires = record_fire(db, rule, event, result, reason);
    if (!fires.ok()) return fires.status();
    if (!*fires) continue;
    for (const rule_action& action : rule.actions) {
      if (action.what == rule_action::kind::notify) {
        absl::StatusOr<bool> grouped = notifier_.notify(db, event, result, rule.id, reason);
        if (!grouped.ok()) return grouped.status();
        grouped_ = grouped_ || *grouped;
        continue;
      }
      if (ticket_asked) continue;
      ticket_asked = true;
      WARDEN_RETURN_IF_ERROR(open_ticket(db, event, result, action, rule, reason));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> alert_engine::record_fire(sqlite_db& db, const alert_rule_config& rule,
                                               const event_record& event,
                                               const write_result& result,
                                               std::string_view reason) {
  absl::StatusOr<sqlite_statement*> last =
      db.cached("SELECT last_fired FROM alert_rule_state WHERE rule_id = ? AND issue_id = ?");
  if (!last.ok()) return last.status();
  (*last)->bind(1, rule.id).bind(2, result.issue_id);
  absl::StatusOr<bool> found = (*last)->step();
  if (!found.ok()) return found.status();
  const std::optional<std::int64_t> last_fired =
      *found ? std::optional<std::int64_t>{(*last)->column_int(0)} : std::nullopt;
  (*last)->reset();
  if (last_fired && event.received_ms - *last_fired < rule.action_interval.count()) return false;

  absl::StatusOr<sqlite_statement*> fire = db.cached(
      "INSERT INTO alert_rule_state (rule_id, issue_id, last_fired, fires) VALUES (?1, ?2, ?3, 1) "
      "ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired = ?3, fires = fires + 1");
  if (!fire.ok()) return fire.status();
  (*fire)->bind(1, rule.id).bind(2, result.issue_id).bind(3, event.received_ms);
  WARDEN_RETURN_IF_ERROR((*fire)->run());
  WARDEN_RETURN_IF_ERROR(record_activity(db, result.issue_id, event.received_ms, "alert",
                                         fmt::format("{} {}", rule.id, reason)));
  return true;
}

absl::Status alert_engine::open_ticket(sqlite_db& db, const event_record& event,
                                       const write_result& result, const rule_action& action,
                                       const alert_rule_config& rule, std::string_view reason) {
  if (!config_.escalation) return absl::OkStatus();
  absl::StatusOr<std::optional<std::string>> existing = ticket_state(db, result.issue_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return absl::OkStatus();  // one ticket per issue

  std::string tracker = action.tracker;
  std::string project = action.project;
  if (tracker.empty()) {
    const auto& owners = config_.escalation->owners;
    const auto entry = std::find_if(owners.begin(), owners.end(), [&](const escalation_target& t) {
      return matches(t.match, event);
    });
    if (entry == owners.end()) return absl::OkStatus();  // the config requires a catch-all
    tracker = entry->tracker;
    project = entry->project;
  }

  absl::StatusOr<sqlite_statement*> recent = db.cached(
      "SELECT count(*) FROM tickets WHERE team = ? AND created > ? AND state <> 'digested'");
  if (!recent.ok()) return recent.status();
  (*recent)->bind(1, event.team).bind(2, event.received_ms - kHourMs);
  absl::StatusOr<std::int64_t> opened_last_hour = (*recent)->single_int();
  if (!opened_last_hour.ok()) return opened_last_hour.status();
  const bool capped = static_cast<std::uint64_t>(*opened_last_hour) >=
                      config_.escalation->tickets_per_team_per_hour;

  std::int64_t delivery = 0;
  std::int64_t digest = 0;
  if (!capped) {
    outbox_intent create;
    create.kind = "ticket.create";
    create.target = tracker;
    create.issue_id = result.issue_id;
    create.idempotency_key = fmt::format("ticket.create:{}", result.issue_id);
    create.ordering_key = fmt::format("ticket:{}", result.issue_id);
    create.intent = intent_json({{"rule", rule.id},
                                 {"reason", reason},
                                 {"level", event.level},
                                 {"environment", event.environment},
                                 {"release", event.release},
                                 {"event_id", event.event_id}});
    create.created_ms = event.received_ms;
    absl::StatusOr<std::int64_t> queued = enqueue_delivery(db, create);
    if (!queued.ok()) return queued.status();
    delivery = *queued;
    queued_ = true;
  } else {
    absl::StatusOr<std::int64_t> joined =
        join_digest(db, event.team, tracker, project, event.received_ms);
    if (!joined.ok()) return joined.status();
    digest = *joined;
  }
  absl::StatusOr<sqlite_statement*> insert = db.cached(
      "INSERT INTO tickets (issue_id, tracker, project, team, incident_key, state, created, "
      "create_delivery, digest_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  (*insert)
      ->bind(1, result.issue_id)
      .bind(2, tracker)
      .bind(3, project)
      .bind(4, event.team)
      .bind(5, incident_key(event.project_id, event.group_hash))
      .bind(6, capped ? "digested" : "pending")
      .bind(7, event.received_ms);
  for (const auto& [column, value] : {std::pair{8, delivery}, std::pair{9, digest}}) {
    if (value == 0) {
      (*insert)->bind_null(column);
    } else {
      (*insert)->bind(column, value);
    }
  }
  WARDEN_RETURN_IF_ERROR((*insert)->run());
  return record_activity(
      db, result.issue_id, event.received_ms, capped ? "ticket_digested" : "ticket_requested",
      capped ? fmt::format("{} tickets for team {} in the last hour (the cap): listed in digest {}",
                           *opened_last_hour, event.team, digest)
             : fmt::format("{} {}", tracker, project));
}

absl::StatusOr<std::int64_t> alert_engine::join_digest(sqlite_db& db, const std::string& team,
                                                       const std::string& tracker,
                                                       const std::string& project,
                                                       std::int64_t now_ms) {
  absl::StatusOr<sqlite_statement*> open = db.cached(
      "SELECT max(id) FROM digests WHERE team = ? AND tracker = ? AND project = ? AND closes > ?");
  if (!open.ok()) return open.status();
  (*open)->bind(1, team).bind(2, tracker).bind(3, project).bind(4, now_ms);
  absl::StatusOr<std::int64_t> digest = (*open)->single_int();
  if (!digest.ok()) return digest.status();
  const std::string ordering = fmt::format("digest:{}", *digest);
  if (*digest == 0) {
    absl::StatusOr<sqlite_statement*> opened = db.cached(
        "INSERT INTO digests (team, tracker, project, opened, closes, state) "
        "VALUES (?, ?, ?, ?, ?, 'pending')");
    if (!opened.ok()) return opened.status();
    (*opened)
        ->bind(1, team)
        .bind(2, tracker)
        .bind(3, project)
        .bind(4, now_ms)
        .bind(5, now_ms + config_.escalation->digest_window.count());
    WARDEN_RETURN_IF_ERROR((*opened)->run());
    *digest = db.last_insert_id();
    outbox_intent create;
    create.kind = "digest.create";
    create.target = tracker;
    create.idempotency_key = fmt::format("digest.create:{}", *digest);
    create.ordering_key = fmt::format("digest:{}", *digest);
    create.intent = fmt::format(R"({{"digest":{}}})", *digest);
    create.created_ms = now_ms;
    WARDEN_RETURN_IF_ERROR(enqueue_delivery(db, create).status());
  } else {
    // Later issues are added to its description at most once per update interval.
    const std::int64_t interval = config_.escalation->digest_update_interval.count();
    const std::int64_t window = now_ms / interval;
    outbox_intent update;
    update.kind = "digest.update";
    update.target = tracker;
    update.idempotency_key = fmt::format("digest.update:{}:{}", *digest, window);
    update.ordering_key = fmt::format("digest:{}", *digest);
    update.intent = fmt::format(R"({{"digest":{}}})", *digest);
    update.created_ms = now_ms;
    update.due_ms = (window + 1) * interval;
    WARDEN_RETURN_IF_ERROR(enqueue_delivery(db, update).status());
  }
  absl::StatusOr<sqlite_statement*> count =
      db.cached("UPDATE digests SET issue_count = issue_count + 1 WHERE id = ?");
  if (!count.ok()) return count.status();
  (*count)->bind(1, *digest);
  WARDEN_RETURN_IF_ERROR((*count)->run());
  queued_ = true;
  return *digest;
}

absl::Status alert_engine::follow_up(sqlite_db& db, std::int64_t issue_id, std::string_view kind,
                                     std::string_view idempotency_suffix, std::string intent,
                                     std::int64_t now_ms) {
  absl::StatusOr<sqlite_statement*> query =
      db.cached("SELECT state, tracker FROM tickets WHERE issue_id = ?");
  if (!query.ok()) return query.status();
  (*query)->bind(1, issue_id);
  absl::StatusOr<bool> found = (*query)->step();
  if (!found.ok()) return found.status();
  const std::string state = *found ? (*query)->column_text(0) : "";
  const std::string tracker = *found ? (*query)->column_text(1) : "";
  (*query)->reset();
  // A ticket still being created gets its follow-up after the creation (same ordering key).
  if (state != "created" && state != "pending") return absl::OkStatus();
  outbox_intent next;
  next.kind = kind;
  next.target = tracker;
  next.issue_id = issue_id;
  next.idempotency_key = fmt::format("{}:{}:{}", kind, issue_id, idempotency_suffix);
  next.ordering_key = fmt::format("ticket:{}", issue_id);
  next.intent = std::move(intent);
  next.created_ms = now_ms;
  absl::StatusOr<std::int64_t> queued = enqueue_delivery(db, next);
  if (!queued.ok()) return queued.status();
  queued_ = queued_ || *queued != 0;
  return absl::OkStatus();
}

absl::Status alert_engine::after_status_change(sqlite_db& db, const issue_row& issue,
                                               const status_change& change) {
  const bool resolving = change.what == status_change::action::resolve ||
                         change.what == status_change::action::resolve_in_next_release;
  // The change's own history row tells this change from any other.
  absl::StatusOr<sqlite_statement*> latest =
      db.cached("SELECT max(id) FROM issue_activity WHERE issue_id = ?");
  if (!latest.ok()) return latest.status();
  (*latest)->bind(1, issue.id);
  absl::StatusOr<std::int64_t> activity = (*latest)->single_int();
  if (!activity.ok()) return activity.status();
  if (resolving) {
    absl::StatusOr<bool> resolved = notifier_.resolved(db, issue.id, *activity, change.at_ms);
    if (!resolved.ok()) return resolved.status();
    queued_ = queued_ || *resolved;
    grouped_ = true;
  }
  if (!config_.escalation) return absl::OkStatus();
  if (!change.origin_tracker.empty()) {
    // The ticket changed first: it already is what the change makes it.
    absl::StatusOr<std::optional<ticket_record>> ticket = find_ticket(db, issue.id);
    if (!ticket.ok()) return ticket.status();
    if (ticket->has_value() && (*ticket)->tracker == change.origin_tracker &&
        change.what != status_change::action::mute &&
        change.what != status_change::action::unmute) {
      return set_ticket_remote_state(db, issue.id, resolving ? "resolved" : "open");
    }
  }
  std::string_view kind;
  std::string_view reason;
  switch (change.what) {
    case status_change::action::resolve:
    case status_change::action::resolve_in_next_release:
      if (config_.escalation->on_resolve == resolve_action::none) return absl::OkStatus();
      kind = config_.escalation->on_resolve == resolve_action::resolve ? "ticket.resolve"
                                                                       : "ticket.comment";
      reason = "resolved";
      break;
    case status_change::action::unresolve:
      kind = "ticket.reopen";
      reason = "unresolved";
      break;
    case status_change::action::mute:
    case status_change::action::unmute:
      return absl::OkStatus();  // as Sentry's tracker sync: muting leaves the ticket alone
  }
  return follow_up(db, issue.id, kind, fmt::format("{}", *activity),
                   intent_json({{"reason", reason}, {"actor", change.actor}}), change.at_ms);
}

void alert_engine::after_commit() noexcept {
  if (grouped_ && wake_dispatcher_) wake_dispatcher_();
  if (queued_ && wake_) wake_();
  grouped_ = false;
  queued_ = false;
}

}  // namespace warden::sink

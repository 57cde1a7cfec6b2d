#include "alerting/notifier.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <utility>

#include "alerting/notify_policy.hpp"
#include "fmt/format.h"
#include "outbox/outbox_store.hpp"
#include "targets/pagerduty.hpp"
#include "targets/ticket_text.hpp"

namespace warden::sink {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_key(json_writer& out, std::string_view key) {
  out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
void write_text(json_writer& out, std::string_view text) {
  out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

std::string labels_json(const std::vector<std::pair<std::string, std::string>>& labels) {
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  for (const auto& [label, value] : labels) {
    write_key(out, label);
    write_text(out, value);
  }
  out.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// The intent of a group's message: which items it carries.
std::string items_intent(std::int64_t group_id, const std::vector<std::int64_t>& items,
                         bool resolved) {
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  write_key(out, "group");
  out.Int64(group_id);
  write_key(out, "items");
  out.StartArray();
  for (const std::int64_t item : items) out.Int64(item);
  out.EndArray();
  write_key(out, "resolved");
  out.Bool(resolved);
  out.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// One unsent item of a group.
struct group_item {
  std::int64_t id = 0;
  std::int64_t issue_id = 0;
  bool resolved = false;
};

// A group as stored.
struct group_row {
  std::int64_t id = 0;
  std::string receiver;
  std::string group_key;
  std::int64_t created = 0;
  route_timers timers;
  std::optional<std::int64_t> last_flush;
  std::optional<std::int64_t> last_sent;
  bool last_sent_firing = false;
  std::int64_t flushes = 0;
};

// PagerDuty's dedup key of an issue (targets/pagerduty.hpp).
absl::StatusOr<std::string> pagerduty_key_of(sqlite_db& db, std::int64_t issue_id) {
  absl::StatusOr<sqlite_statement*> issue =
      db.cached("SELECT team, project_id, group_hash FROM issues WHERE id = ?");
  if (!issue.ok()) return issue.status();
  (*issue)->bind(1, issue_id);
  absl::StatusOr<bool> found = (*issue)->step();
  if (!found.ok()) return found.status();
  ticket_snapshot shot;
  if (*found) {
    shot.team = (*issue)->column_text(0);
    shot.incident_key = incident_key((*issue)->column_int(1), (*issue)->column_text(2));
  }
  (*issue)->reset();
  return pagerduty_dedup_key(shot);
}

}  // namespace

absl::StatusOr<notifier> notifier::create(const alerting_config& config) {
  if (!config.route) return notifier{config, std::nullopt};
  absl::StatusOr<route_tree> routes = route_tree::compile(*config.route);
  if (!routes.ok()) return routes.status();
  return notifier{config, *std::move(routes)};
}

notifier::notifier(const alerting_config& config, std::optional<route_tree> routes)
    : receivers_{config.receivers}, routes_{std::move(routes)} {}

const receiver_config* notifier::receiver(std::string_view name) const {
  const auto found = std::find_if(receivers_.begin(), receivers_.end(),
                                  [&](const receiver_config& r) { return r.name == name; });
  return found == receivers_.end() ? nullptr : &*found;
}

absl::StatusOr<bool> notifier::notify(sqlite_db& db, const event_record& event,
                                      const write_result& result, std::string_view rule,
                                      std::string_view reason) {
  if (!routes_) return false;
  notification_labels& labels = labels_;
  labels.set("team", event.team);
  labels.set("function", event.function);
  labels.set("product", event.product);
  labels.set("level", event.level);
  labels.set("severity", severity_of_level(event.level));
  labels.set("environment", event.environment);
  labels.set("release", event.release);
  labels.set("project", fmt::format("{}", event.project_id));
  labels.set("owner_source", event.owner_source);
  labels.set("reason", reason);
  labels.set("rule", rule);
  labels.set("issue", fmt::format("{}", result.issue_id));
  for (const auto& [key, value] : event.tags) labels.set("tags." + key, value);
  matched_.clear();
  routes_->match(labels, matched_);

  for (const route_match& route : matched_) {
    absl::StatusOr<sqlite_statement*> group = db.cached(
        "INSERT INTO notification_groups (receiver, group_key, labels, created, group_wait, "
        "group_interval, repeat_interval, next_flush) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4 + ?5) "
        "ON CONFLICT (receiver, group_key) DO UPDATE SET next_flush = coalesce(next_flush, "
        "max(?4, coalesce(last_flush + group_interval, ?4))) RETURNING id");
    if (!group.ok()) return group.status();
    const std::int64_t repeat =
        route.repeat_interval == kNever ? -1 : route.repeat_interval.count();
    (*group)
        ->bind(1, route.receiver)
        .bind(2, route.group_key)
        .bind(3, labels_json(route.group_labels))
        .bind(4, event.received_ms)
        .bind(5, static_cast<std::int64_t>(route.group_wait.count()))
        .bind(6, static_cast<std::int64_t>(route.group_interval.count()))
        .bind(7, repeat);
    absl::StatusOr<std::int64_t> group_id = (*group)->single_int();
    if (!group_id.ok()) return group_id.status();
    absl::StatusOr<sqlite_statement*> item = db.cached(
        "INSERT INTO notification_items (group_id, issue_id, reason, rule, level, environment, "
        "added) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!item.ok()) return item.status();
    (*item)
        ->bind(1, *group_id)
        .bind(2, result.issue_id)
        .bind(3, reason)
        .bind(4, rule)
        .bind(5, event.level)
        .bind(6, event.environment)
        .bind(7, event.received_ms);
    WARDEN_RETURN_IF_ERROR((*item)->run());
  }
  return !matched_.empty();
}

absl::StatusOr<bool> notifier::resolved(sqlite_db& db, std::int64_t issue_id,
                                        std::int64_t change_id, std::int64_t now_ms) {
  bool queued = false;
  // PagerDuty: resolve what was triggered; a trigger not sent yet is not sent at all.
  absl::StatusOr<sqlite_statement*> alerts = db.cached(
      "SELECT receiver, dedup_key FROM pagerduty_alerts WHERE issue_id = ? AND state = "
      "'triggered'");
  if (!alerts.ok()) return alerts.status();
  (*alerts)->bind(1, issue_id);
  std::vector<std::pair<std::string, std::string>> triggered;
  for (;;) {
    absl::StatusOr<bool> row = (*alerts)->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    triggered.emplace_back((*alerts)->column_text(0), (*alerts)->column_text(1));
  }
  (*alerts)->reset();
  for (const auto& [name, dedup_key] : triggered) {
    absl::StatusOr<sqlite_statement*> unsent = db.cached(
        "UPDATE outbox SET state = 'superseded', finished = ?3, last_error = 'the issue was "
        "resolved before the trigger was sent' WHERE kind = 'pagerduty.trigger' AND target = ?1 "
        "AND issue_id = ?2 AND state IN ('pending', 'retrying') AND uncertain = 0");
    if (!unsent.ok()) return unsent.status();
    (*unsent)->bind(1, name).bind(2, issue_id).bind(3, now_ms);
    WARDEN_RETURN_IF_ERROR((*unsent)->run());
    const bool never_sent = db.changes() > 0;
    absl::StatusOr<sqlite_statement*> mark = db.cached(
        "UPDATE pagerduty_alerts SET state = 'resolved', resolved = ?3 WHERE receiver = ?1 AND "
        "issue_id = ?2");
    if (!mark.ok()) return mark.status();
    (*mark)->bind(1, name).bind(2, issue_id).bind(3, now_ms);
    WARDEN_RETURN_IF_ERROR((*mark)->run());
    const receiver_config* target = receiver(name);
    if (never_sent || target == nullptr || !target->pagerduty.send_resolved) continue;
    outbox_intent resolve;
    resolve.kind = "pagerduty.resolve";
    resolve.target = name;
    resolve.issue_id = issue_id;
    resolve.idempotency_key = fmt::format("pd.resolve:{}:{}:{}", name, issue_id, change_id);
    resolve.ordering_key = fmt::format("pd:{}:{}", name, issue_id);
    resolve.intent = fmt::format(R"({{"dedup_key":"{}"}})", dedup_key);
    resolve.created_ms = now_ms;
    absl::StatusOr<std::int64_t> row = enqueue_delivery(db, resolve);
    if (!row.ok()) return row.status();
    queued = queued || *row != 0;
  }

  // Items not sent yet are dropped (Alertmanager: resolved before group_wait, nothing
  // is said); the groups that told about the issue get a resolved item.
  absl::StatusOr<sqlite_statement*> drop =
      db.cached("UPDATE notification_items SET sent_in = 0 WHERE issue_id = ? AND sent_in IS NULL");
  if (!drop.ok()) return drop.status();
  (*drop)->bind(1, issue_id);
  WARDEN_RETURN_IF_ERROR((*drop)->run());
  absl::StatusOr<sqlite_statement*> told = db.cached(
      "INSERT INTO notification_items (group_id, issue_id, reason, rule, level, environment, "
      "added) SELECT DISTINCT group_id, issue_id, 'resolved', '', '', '', ?2 FROM "
      "notification_items WHERE issue_id = ?1 AND sent_in > 0 AND reason <> 'resolved'");
  if (!told.ok()) return told.status();
  (*told)->bind(1, issue_id).bind(2, now_ms);
  WARDEN_RETURN_IF_ERROR((*told)->run());
  absl::StatusOr<sqlite_statement*> wake = db.cached(
      "UPDATE notification_groups SET next_flush = max(?2, coalesce(last_flush + group_interval, "
      "?2)) WHERE next_flush IS NULL AND id IN (SELECT group_id FROM notification_items WHERE "
      "issue_id = ?1 AND sent_in IS NULL)");
  if (!wake.ok()) return wake.status();
  (*wake)->bind(1, issue_id).bind(2, now_ms);
  WARDEN_RETURN_IF_ERROR((*wake)->run());
  return queued;
}

absl::StatusOr<std::optional<std::int64_t>> notifier::next_due_ms(sqlite_db& db) {
  absl::StatusOr<sqlite_statement*> next =
      db.cached("SELECT min(next_flush) FROM notification_groups WHERE next_flush IS NOT NULL");
  if (!next.ok()) return next.status();
  absl::StatusOr<bool> row = (*next)->step();
  if (!row.ok()) return row.status();
  std::optional<std::int64_t> due;
  if (*row && !(*next)->column_null(0)) due = (*next)->column_int(0);
  (*next)->reset();
  return due;
}

absl::StatusOr<std::int64_t> notifier::flush_due(sqlite_db& db, std::int64_t now_ms) {
  absl::StatusOr<sqlite_statement*> due = db.cached(
      "SELECT id, receiver, group_key, created, group_wait, group_interval, repeat_interval, "
      "last_flush, last_sent, last_sent_firing, flushes FROM notification_groups "
      "WHERE next_flush <= ? ORDER BY next_flush LIMIT 64");
  if (!due.ok()) return due.status();
  (*due)->bind(1, now_ms);
  std::vector<group_row> groups;
  for (;;) {
    absl::StatusOr<bool> row = (*due)->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const sqlite_statement& read = **due;
    group_row& group = groups.emplace_back();
    group.id = read.column_int(0);
    group.receiver = read.column_text(1);
    group.group_key = read.column_text(2);
    group.created = read.column_int(3);
    group.timers.group_wait = std::chrono::milliseconds{read.column_int(4)};
    group.timers.group_interval = std::chrono::milliseconds{read.column_int(5)};
    group.timers.repeat_interval =
        read.column_int(6) < 0 ? kNever : std::chrono::milliseconds{read.column_int(6)};
    if (!read.column_null(7)) group.last_flush = read.column_int(7);
    if (!read.column_null(8)) group.last_sent = read.column_int(8);
    group.last_sent_firing = read.column_int(9) != 0;
    group.flushes = read.column_int(10);
  }
  (*due)->reset();

  std::int64_t queued = 0;
  for (const group_row& group : groups) {
    absl::StatusOr<sqlite_statement*> unsent = db.cached(
        "SELECT id, issue_id, reason = 'resolved' FROM notification_items WHERE group_id = ? AND "
        "sent_in IS NULL ORDER BY id");
    if (!unsent.ok()) return unsent.status();
    (*unsent)->bind(1, group.id);
    std::vector<group_item> items;
    for (;;) {
      absl::StatusOr<bool> row = (*unsent)->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      items.push_back(
          {(*unsent)->column_int(0), (*unsent)->column_int(1), (*unsent)->column_int(2) != 0});
    }
    (*unsent)->reset();
    absl::StatusOr<sqlite_statement*> open = db.cached(
        "SELECT count(DISTINCT i.issue_id) FROM notification_items i JOIN issues s ON s.id = "
        "i.issue_id WHERE i.group_id = ? AND i.reason <> 'resolved' AND s.status = 'unresolved'");
    if (!open.ok()) return open.status();
    (*open)->bind(1, group.id);
    absl::StatusOr<std::int64_t> open_issues = (*open)->single_int();
    if (!open_issues.ok()) return open_issues.status();

    const receiver_config* target = receiver(group.receiver);
    group_state state;
    state.created_ms = group.created;
    state.last_flush_ms = group.last_flush;
    state.last_sent_ms = group.last_sent;
    state.last_sent_had_firing = group.last_sent_firing;
    pending_items pending;
    for (const group_item& item : items) {
      (item.resolved ? pending.resolved_unsent : pending.firing_unsent) += 1;
    }
    pending.firing_open = static_cast<std::size_t>(*open_issues);
    const bool send_resolved =
        target != nullptr && (target->type == "slack"     ? target->slack.send_resolved
                              : target->type == "webhook" ? target->webhook.send_resolved
                                                          : false);  // PagerDuty resolves per issue
    const flush_decision decision =
        target == nullptr ? flush_decision{flush_action::nothing, std::nullopt}
                          : decide_flush(state, pending, group.timers, now_ms, send_resolved);

    // The items this flush carries.
    std::vector<std::int64_t> carried;
    std::vector<std::int64_t> issues;
    bool resolved_message = false;
    switch (decision.action) {
      case flush_action::send_firing:
        for (const group_item& item : items) carried.push_back(item.id);
        for (const group_item& item : items) {
          if (!item.resolved) issues.push_back(item.issue_id);
        }
        break;
      case flush_action::send_resolved:
        resolved_message = true;
        for (const group_item& item : items) carried.push_back(item.id);
        break;
      case flush_action::repeat: {
        // The latest item of each issue of the group that is still open.
        absl::StatusOr<sqlite_statement*> latest = db.cached(
            "SELECT max(i.id) FROM notification_items i JOIN issues s ON s.id = i.issue_id "
            "WHERE i.group_id = ? AND i.reason <> 'resolved' AND s.status = 'unresolved' "
            "GROUP BY i.issue_id");
        if (!latest.ok()) return latest.status();
        (*latest)->bind(1, group.id);
        for (;;) {
          absl::StatusOr<bool> row = (*latest)->step();
          if (!row.ok()) return row.status();
          if (!*row) break;
          carried.push_back((*latest)->column_int(0));
        }
        (*latest)->reset();
        break;
      }
      case flush_action::wait:
      case flush_action::nothing:
        break;
    }

    std::int64_t row_id = 0;
    if (!carried.empty() && target != nullptr) {
      if (target->type == "pagerduty") {
        // One trigger per issue not already triggered; its dedup key is the issue's.
        std::sort(issues.begin(), issues.end());
        issues.erase(std::unique(issues.begin(), issues.end()), issues.end());
        for (const std::int64_t issue : issues) {
          absl::StatusOr<std::string> dedup_key = pagerduty_key_of(db, issue);
          if (!dedup_key.ok()) return dedup_key.status();
          absl::StatusOr<sqlite_statement*> alert = db.cached(
              "INSERT INTO pagerduty_alerts (receiver, issue_id, dedup_key, state, triggered) "
              "VALUES (?1, ?2, ?4, 'triggered', ?3) ON CONFLICT (receiver, issue_id) DO UPDATE "
              "SET state = 'triggered', triggered = ?3 WHERE state <> 'triggered'");
          if (!alert.ok()) return alert.status();
          (*alert)->bind(1, group.receiver).bind(2, issue).bind(3, now_ms).bind(4, *dedup_key);
          WARDEN_RETURN_IF_ERROR((*alert)->run());
          if (db.changes() == 0) continue;  // paged already and not resolved since
          outbox_intent trigger;
          trigger.kind = "pagerduty.trigger";
          trigger.target = group.receiver;
          trigger.issue_id = issue;
          trigger.idempotency_key = fmt::format("pd.trigger:{}:{}:{}:{}", group.receiver, issue,
                                                group.id, group.flushes + 1);
          trigger.ordering_key = fmt::format("pd:{}:{}", group.receiver, issue);
          trigger.intent = items_intent(group.id, carried, false);
          trigger.created_ms = now_ms;
          absl::StatusOr<std::int64_t> made = enqueue_delivery(db, trigger);
          if (!made.ok()) return made.status();
          if (*made != 0) {
            ++queued;
            row_id = *made;
          }
        }
      } else {
        outbox_intent message;
        message.kind = target->type == "slack" ? "slack.message" : "webhook.event";
        message.target = group.receiver;
        message.idempotency_key =
            fmt::format("{}:{}:{}:{}", target->type, group.receiver, group.id, group.flushes + 1);
        message.ordering_key = fmt::format("receiver:{}", group.receiver);
        message.intent = items_intent(group.id, carried, resolved_message);
        message.created_ms = now_ms;
        absl::StatusOr<std::int64_t> made = enqueue_delivery(db, message);
        if (!made.ok()) return made.status();
        row_id = *made;
        if (*made != 0) ++queued;
      }
    }
    const bool sent = decision.action == flush_action::send_firing ||
                      decision.action == flush_action::send_resolved ||
                      decision.action == flush_action::repeat;
    if (sent || target == nullptr) {
      // Carried (or, for a receiver no longer configured, dropped: 0).
      absl::StatusOr<sqlite_statement*> mark = db.cached(
          "UPDATE notification_items SET sent_in = ?2 WHERE group_id = ?1 AND sent_in IS NULL");
      if (!mark.ok()) return mark.status();
      (*mark)->bind(1, group.id).bind(2, std::max<std::int64_t>(row_id, 0));
      WARDEN_RETURN_IF_ERROR((*mark)->run());
    }
    absl::StatusOr<sqlite_statement*> update = db.cached(
        "UPDATE notification_groups SET next_flush = ?2, last_flush = CASE WHEN ?3 THEN ?4 ELSE "
        "last_flush END, last_sent = CASE WHEN ?3 THEN ?4 ELSE last_sent END, last_sent_firing = "
        "CASE WHEN ?3 THEN ?5 ELSE last_sent_firing END, flushes = flushes + ?3 WHERE id = ?1");
    if (!update.ok()) return update.status();
    (*update)->bind(1, group.id).bind_optional(2, decision.next_flush_ms);
    (*update)
        ->bind(3, std::int64_t{sent ? 1 : 0})
        .bind(4, now_ms)
        .bind(5, std::int64_t{decision.action == flush_action::send_resolved ? 0 : 1});
    WARDEN_RETURN_IF_ERROR((*update)->run());
  }
  return queued;
}

}  // namespace warden::sink

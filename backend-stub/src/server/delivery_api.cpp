// The delivery log's endpoints (issue #5): what the sink said to which tracker or
// receiver, each exchange with its request, answer and timing, and replays of failed
// deliveries. Secrets were masked before the exchanges were logged.
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "fmt/format.h"
#include "outbox/outbox_store.hpp"
#include "server/api_json.hpp"
#include "server/sink_server.hpp"
#include "store/clock.hpp"

namespace warden::sink {
namespace {

void write_delivery(json_writer& out, const delivery_row& row) {
  out.StartObject();
  write_int(out, "id", row.id);
  write_string(out, "kind", row.what.kind);
  write_string(out, "target", row.what.target);
  write_optional_int(out, "issue",
                     row.what.issue_id == 0 ? std::nullopt : std::optional{row.what.issue_id});
  write_string(out, "state", row.state);
  out.Key("uncertain");
  out.Bool(row.uncertain);
  write_int(out, "attempts", row.attempts);
  write_int(out, "created", row.what.created_ms);
  write_optional_int(out, "last_attempt", row.last_attempt_ms);
  write_int(out, "next_attempt", row.next_attempt_ms);
  write_optional_int(out, "last_status", row.last_status);
  write_string(out, "last_error", row.last_error);
  write_optional_int(out, "finished", row.finished_ms);
  write_string(out, "idempotency_key", row.what.idempotency_key);
  write_optional_int(out, "replay_of",
                     row.what.replay_of == 0 ? std::nullopt : std::optional{row.what.replay_of});
  if (!row.what.actor.empty()) write_string(out, "actor", row.what.actor);
  out.EndObject();
}

std::int64_t id_in_path(const httplib::Request& request) {
  std::int64_t id = 0;
  static_cast<void>(absl::SimpleAtoi(request.matches[1].str(), &id));
  return id;
}

}  // namespace

void sink_server::list_deliveries(const httplib::Request& request, httplib::Response& response) {
  delivery_filter filter;
  filter.target = request.get_param_value("target");
  filter.kind = request.get_param_value("kind");
  filter.state = request.get_param_value("status");
  absl::StatusOr<log_page> page = log_page_params(request);
  if (!page.ok()) return answer_error(response, page.status());
  filter.issue_id = page->issue_id;
  filter.before_id = page->before_id;
  filter.limit = page->limit;
  std::vector<delivery_row> rows;
  const absl::Status read = db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::vector<delivery_row>> found = sink::list_deliveries(db, filter);
    if (!found.ok()) return found.status();
    rows = *std::move(found);
    return absl::OkStatus();
  });
  if (!read.ok()) return answer_error(response, read);
  answer_log_page(response, rows, filter.limit, write_delivery);
}

void sink_server::show_delivery(const httplib::Request& request, httplib::Response& response) {
  const std::int64_t id = id_in_path(request);
  std::optional<delivery_row> row;
  std::vector<delivery_attempt> attempts;
  const absl::Status read = db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::optional<delivery_row>> found = find_delivery(db, id);
    if (!found.ok()) return found.status();
    row = *std::move(found);
    if (!row) return absl::OkStatus();
    absl::StatusOr<std::vector<delivery_attempt>> logged = delivery_attempts(db, id);
    if (!logged.ok()) return logged.status();
    attempts = *std::move(logged);
    return absl::OkStatus();
  });
  if (!read.ok()) return answer_error(response, read);
  if (!row) return answer_error(response, 404, fmt::format("no delivery {}", id));
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  out.Key("delivery");
  write_delivery(out, *row);
  out.Key("intent");
  out.RawValue(row->what.intent.data(), row->what.intent.size(), rapidjson::kObjectType);
  out.Key("attempts");
  out.StartArray();
  for (const delivery_attempt& attempt : attempts) {
    out.StartObject();
    write_int(out, "attempt", attempt.attempt);
    write_string(out, "step", attempt.step);
    write_int(out, "started", attempt.started_ms);
    write_optional_int(out, "duration_ms", attempt.duration_ms);
    write_string(out, "request", attempt.request);
    write_optional_int(out, "status", attempt.status);
    write_string(out, "response_headers", attempt.response_headers);
    write_string(out, "response_body", attempt.response_body);
    write_string(out, "error", attempt.error);
    write_string(out, "outcome", attempt.outcome);
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  response.set_content(buffer.GetString(), "application/json");
}

void sink_server::replay(const httplib::Request& request, httplib::Response& response) {
  const std::int64_t id = id_in_path(request);
  std::string actor = "api";
  if (!request.body.empty()) {
    rapidjson::Document body;
    if (body.Parse(request.body.data(), request.body.size()).HasParseError() || !body.IsObject()) {
      return answer_error(response, 400, "the body must be a JSON object such as {\"actor\": …}");
    }
    if (const auto given = body.FindMember("actor");
        given != body.MemberEnd() && given->value.IsString()) {
      actor = given->value.GetString();
    }
  }
  const std::int64_t now = unix_now_ms();
  std::int64_t replayed = 0;
  const absl::Status queued = db_.run_in_writer([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::int64_t> row = replay_delivery(db, id, actor, now);
    if (!row.ok()) return row.status();
    replayed = *row;
    return absl::OkStatus();
  });
  if (!queued.ok()) return answer_error(response, queued);
  if (on_replay_) on_replay_();
  response.status = 202;
  response.set_content(fmt::format(R"({{"id":{},"replay_of":{}}})", replayed, id),
                       "application/json");
}

void sink_server::list_targets(const httplib::Request& /*request*/, httplib::Response& response) {
  std::vector<std::pair<std::string, target_backlog>> backlogs;
  const absl::Status read = db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::vector<std::pair<std::string, target_backlog>>> found = target_backlogs(db);
    if (!found.ok()) return found.status();
    backlogs = *std::move(found);
    return absl::OkStatus();
  });
  if (!read.ok()) return answer_error(response, read);
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  const auto write_target = [&](std::string_view name, std::string_view kind,
                                std::string_view type) {
    const auto found = std::find_if(backlogs.begin(), backlogs.end(),
                                    [&](const auto& each) { return each.first == name; });
    const target_backlog backlog = found == backlogs.end() ? target_backlog{} : found->second;
    out.StartObject();
    write_string(out, "name", name);
    write_string(out, "kind", kind);
    write_string(out, "type", type);
    write_int(out, "waiting", backlog.waiting);
    write_int(out, "retrying", backlog.retrying);
    write_int(out, "failed", backlog.failed);
    write_optional_int(out, "oldest_waiting", backlog.oldest_waiting_ms);
    write_optional_int(out, "next_attempt", backlog.next_attempt_ms);
    write_string(out, "last_error", backlog.last_error);
    out.EndObject();
  };
  out.StartObject();
  out.Key("targets");
  out.StartArray();
  for (const tracker_config& tracker : config_.alerting.trackers) {
    write_target(tracker.name, "tracker", tracker_type_name(tracker.type));
  }
  for (const receiver_config& receiver : config_.alerting.receivers) {
    write_target(receiver.name, "receiver", receiver.type);
  }
  out.EndArray();
  out.EndObject();
  response.set_content(buffer.GetString(), "application/json");
}

std::string sink_server::alerting_metrics() {
  std::string text;
  const absl::Status read = db_.read([&](sqlite_db& db) -> absl::Status {
    // Each query: label values, then the number.
    const auto family = [&](std::string_view help, std::string_view name, std::string_view type,
                            std::string_view sql,
                            std::initializer_list<std::string_view> labels) -> absl::Status {
      absl::StatusOr<sqlite_statement*> query = db.cached(sql);
      if (!query.ok()) return query.status();
      text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
      for (;;) {
        absl::StatusOr<bool> row = (*query)->step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        std::string pairs;
        int column = 0;
        for (const std::string_view label : labels) {
          pairs +=
              fmt::format("{}{}=\"{}\"", pairs.empty() ? "" : ",", label,
                          absl::StrReplaceAll((*query)->column_text(column++),
                                              {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}}));
        }
        text += fmt::format("{}{{{}}} {}\n", name, pairs, (*query)->column_int(column));
      }
      (*query)->reset();
      return absl::OkStatus();
    };
    WARDEN_RETURN_IF_ERROR(family(
        "Outbox rows in the delivery log, by target, kind and state.", "warden_sink_deliveries",
        "gauge", "SELECT target, kind, state, count(*) FROM outbox GROUP BY target, kind, state",
        {"target", "kind", "state"}));
    WARDEN_RETURN_IF_ERROR(family(
        "Age of the oldest delivery still to be made, by target.",
        "warden_sink_delivery_oldest_pending_seconds", "gauge",
        "SELECT target, (CAST(strftime('%s', 'now') AS INTEGER) * 1000 - min(created)) / 1000 "
        "FROM outbox WHERE state IN ('pending', 'in_flight', 'retrying') GROUP BY target",
        {"target"}));
    WARDEN_RETURN_IF_ERROR(
        family("Tickets asked for, by tracker and state (created, pending, "
               "failed, digested: past the hourly cap, listed in a digest).",
               "warden_sink_tickets", "gauge",
               "SELECT tracker, state, count(*) FROM tickets "
               "GROUP BY tracker, state",
               {"tracker", "state"}));
    return family("Times each alert rule fired (once per issue per action interval at most).",
                  "warden_sink_alert_fires_total", "counter",
                  "SELECT rule_id, sum(fires) FROM alert_rule_state GROUP BY rule_id", {"rule"});
  });
  return read.ok() ? text : "";
}

void sink_server::write_ticket(json_writer& out, std::int64_t issue_id) {
  std::optional<ticket_record> ticket;
  delivery_counts deliveries;
  const absl::Status read = db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::optional<ticket_record>> found = find_ticket(db, issue_id);
    if (!found.ok()) return found.status();
    ticket = *std::move(found);
    absl::StatusOr<delivery_counts> counted = issue_delivery_counts(db, issue_id);
    if (!counted.ok()) return counted.status();
    deliveries = *counted;
    return absl::OkStatus();
  });
  out.Key("ticket");
  if (!read.ok() || !ticket) {
    out.Null();
  } else {
    out.StartObject();
    write_string(out, "tracker", ticket->tracker);
    write_string(out, "project", ticket->project);
    write_string(out, "state", ticket->state);
    write_string(out, "incident_key", ticket->incident_key);
    write_string(out, "id", ticket->external_id);
    write_string(out, "key", ticket->external_key);
    write_string(out, "url", ticket->url);
    write_string(out, "remote_state", ticket->remote_state);
    write_int(out, "requested", ticket->created_ms);
    write_optional_int(out, "opened", ticket->opened_ms);
    out.Key("digest");
    if (ticket->digest_key.empty()) {
      out.Null();
    } else {
      out.StartObject();
      write_string(out, "key", ticket->digest_key);
      write_string(out, "url", ticket->digest_url);
      out.EndObject();
    }
    out.EndObject();
  }
  out.Key("deliveries");
  out.StartObject();
  write_int(out, "pending", deliveries.pending);
  write_int(out, "failed", deliveries.failed);
  out.EndObject();
}

}  // namespace warden::sink

// The trackers' webhooks (issue #5, two-way state): a ticket resolved or reopened in
// YouTrack (through the workflow in docs/youtrack-workflow.js) or GitHub resolves or
// reopens its Warden issue, which resolves PagerDuty and tells Slack as a change made in
// Warden would, without a command back to the ticket. Each request is authenticated
// (a bearer secret, or GitHub's HMAC over the raw body) before it is read, and logged in
// inbound_deliveries whatever became of it; GET /api/0/hooks/deliveries lists the log.
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "fmt/format.h"
#include "outbox/inbound_store.hpp"
#include "outbox/outbox_store.hpp"
#include "server/api_json.hpp"
#include "server/sink_server.hpp"
#include "store/clock.hpp"
#include "targets/signing.hpp"
#include "targets/tracker_hooks.hpp"

namespace warden::sink {
namespace {

/// The largest webhook body read; GitHub caps its payloads at 25 MB, but an `issues`
/// event is a few kB.
constexpr std::size_t kMaxHookBody = 1 << 20;

// The request's headers, one per line, credentials masked.
std::string logged_headers(const httplib::Request& request) {
  std::string text;
  for (const auto& [name, value] : request.headers) {
    const bool credential = absl::EqualsIgnoreCase(name, "authorization");
    text += fmt::format("{}: {}\n", name, credential ? "***" : value);
  }
  return text;
}

void write_inbound(json_writer& out, const inbound_delivery& row) {
  out.StartObject();
  write_int(out, "id", row.id);
  write_int(out, "received", row.received_ms);
  write_string(out, "tracker", row.tracker);
  write_string(out, "source", row.source);
  write_string(out, "delivery", row.delivery_key);
  write_string(out, "event", row.event);
  write_string(out, "ticket", row.ticket);
  write_optional_int(out, "issue", row.issue_id);
  write_int(out, "status", row.status);
  write_string(out, "outcome", row.outcome);
  write_string(out, "message", row.message);
  write_string(out, "headers", row.headers);
  write_string(out, "body", row.body);
  out.EndObject();
}

}  // namespace

void sink_server::tracker_hook(const httplib::Request& request, httplib::Response& response) {
  const std::string source = request.matches[1].str();
  const std::string name = request.matches[2].str();
  const auto& trackers = config_.alerting.trackers;
  const auto tracker = std::find_if(trackers.begin(), trackers.end(), [&](const auto& each) {
    return each.name == name && tracker_type_name(each.type) == source;
  });
  const secret* hook_secret = nullptr;
  if (tracker != trackers.end()) {
    hook_secret = tracker->type == tracker_type::github ? &tracker->github.webhook_secret
                                                        : &tracker->youtrack.inbound_secret;
  }
  if (hook_secret == nullptr || hook_secret->reveal().empty()) {
    // Not configured: as if the path did not exist (nothing logged for strangers).
    return answer_error(response, 404, fmt::format("no {} webhook named '{}'", source, name));
  }

  inbound_delivery logged;
  logged.received_ms = unix_now_ms();
  logged.tracker = name;
  logged.source = source;
  logged.headers = logged_headers(request);
  logged.event = source == "github" ? request.get_header_value("X-GitHub-Event") : "report";
  logged.delivery_key = request.get_header_value("X-GitHub-Delivery");
  // Logs the request with `outcome`, then answers {"outcome", "detail", "issue"}; 503
  // when the log cannot be written (the sender retries, or shows the failure).
  const auto finish = [&](int status, std::string outcome, std::string message) {
    logged.status = status;
    logged.outcome = std::move(outcome);
    logged.message = std::move(message);
    const absl::Status recorded =
        db_.run_in_writer([&](sqlite_db& db) { return record_inbound(db, logged).status(); });
    if (!recorded.ok()) {
      return answer_error(
          response, 503,
          fmt::format("could not log the webhook: {}", std::string{recorded.message()}));
    }
    rapidjson::StringBuffer buffer;
    json_writer out{buffer};
    out.StartObject();
    write_string(out, "outcome", logged.outcome);
    write_string(out, "detail", logged.message);
    write_optional_int(out, "issue", logged.issue_id);
    out.EndObject();
    response.status = status;
    response.set_content(buffer.GetString(), "application/json");
  };

  if (request.body.size() > kMaxHookBody) {
    return finish(413, "rejected", fmt::format("body exceeds {} bytes", kMaxHookBody));
  }
  const bool authentic =
      source == "github"
          ? verify_github_signature(hook_secret->reveal(),
                                    request.get_header_value("X-Hub-Signature-256"), request.body)
          : constant_time_equal(request.get_header_value("Authorization"),
                                "Bearer " + hook_secret->reveal());
  if (!authentic) {
    return finish(401, "rejected",
                  source == "github" ? "missing or wrong X-Hub-Signature-256"
                                     : "missing or wrong Authorization: Bearer secret");
  }
  logged.body = request.body;

  absl::StatusOr<ticket_change> change =
      source == "github"
          ? parse_github_hook(logged.event, request.body, tracker->github.resolve_not_planned)
          : parse_youtrack_hook(request.body);
  if (!change.ok()) return finish(400, "malformed", std::string{change.status().message()});
  logged.event = change->event;
  logged.ticket = change->ticket;
  if (!logged.delivery_key.empty()) {
    absl::StatusOr<bool> seen = false;
    static_cast<void>(db_.read([&](sqlite_db& db) {
      seen = inbound_seen(db, name, logged.delivery_key);
      return seen.status();
    }));
    if (!seen.ok()) return answer_error(response, 503, std::string{seen.status().message()});
    if (*seen) {
      return finish(200, "duplicate",
                    fmt::format("delivery {} was received before", logged.delivery_key));
    }
  }
  if (change->what == ticket_change::kind::ignored) return finish(200, "ignored", change->note);

  absl::StatusOr<std::optional<std::int64_t>> issue_id = std::nullopt;
  static_cast<void>(db_.read([&](sqlite_db& db) {
    issue_id = find_ticket_issue(db, name, change->ticket);
    return issue_id.status();
  }));
  if (!issue_id.ok()) return answer_error(response, 503, std::string{issue_id.status().message()});
  if (!issue_id->has_value()) {
    return finish(200, "unknown_ticket",
                  fmt::format("no Warden issue has the ticket {} in '{}'", change->ticket, name));
  }
  logged.issue_id = **issue_id;
  absl::StatusOr<std::optional<issue_row>> issue = db_.issue(**issue_id);
  if (!issue.ok()) return answer_error(response, 503, std::string{issue.status().message()});
  if (!issue->has_value()) return finish(200, "unknown_ticket", "the issue no longer exists");

  const bool resolve = change->what == ticket_change::kind::resolved;
  if (((*issue)->status == "resolved") == resolve) {
    // Already so (often the echo of the sink's own command): only remember the state.
    const absl::Status noted = db_.run_in_writer([&](sqlite_db& db) {
      return set_ticket_remote_state(db, **issue_id, resolve ? "resolved" : "open");
    });
    if (!noted.ok()) return answer_error(response, 503, std::string{noted.message()});
    return finish(200, "unchanged",
                  fmt::format("issue {} is {} already", **issue_id, (*issue)->status));
  }
  status_change applied;
  applied.what = resolve ? status_change::action::resolve : status_change::action::unresolve;
  applied.actor = change->actor.empty() ? fmt::format("{}:{}", source, name) : change->actor;
  applied.at_ms = logged.received_ms;
  applied.origin_tracker = name;
  absl::StatusOr<issue_row> changed = db_.change_status(**issue_id, applied);
  if (!changed.ok()) return answer_error(response, 503, std::string{changed.status().message()});
  finish(200, resolve ? "resolved" : "reopened",
         fmt::format("issue {} {} by {}", **issue_id, resolve ? "resolved" : "reopened",
                     applied.actor));
}

void sink_server::list_tracker_hooks(const httplib::Request& request, httplib::Response& response) {
  inbound_filter filter;
  filter.tracker = request.get_param_value("tracker");
  filter.outcome = request.get_param_value("outcome");
  absl::StatusOr<log_page> page = log_page_params(request);
  if (!page.ok()) return answer_error(response, page.status());
  filter.issue_id = page->issue_id;
  filter.before_id = page->before_id;
  filter.limit = page->limit;
  std::vector<inbound_delivery> rows;
  const absl::Status read = db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::vector<inbound_delivery>> found = list_inbound(db, filter);
    if (!found.ok()) return found.status();
    rows = *std::move(found);
    return absl::OkStatus();
  });
  if (!read.ok()) return answer_error(response, read);
  answer_log_page(response, rows, filter.limit, write_inbound);
}

}  // namespace warden::sink

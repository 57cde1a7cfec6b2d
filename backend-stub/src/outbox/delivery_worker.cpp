#include "outbox/delivery_worker.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "fmt/format.h"
#include "outbox/retry_policy.hpp"
#include "targets/ticket_text.hpp"
#include "targets/youtrack.hpp"

namespace warden::sink {

/// How one delivery (or one of its steps) went.
struct delivery_worker::verdict {
  enum class outcome { delivered, retry, failed, superseded };
  outcome result = outcome::delivered;
  std::string error;                   ///< For the row's last_error.
  std::optional<std::int64_t> status;  ///< The last HTTP status, if answered.
  std::optional<std::chrono::milliseconds> retry_after;
  bool uncertain = false;                 ///< The target may have acted on it.
  std::optional<created_ticket> created;  ///< ticket.create: the ticket.
  std::string remote_state;               ///< Follow-ups: the state the ticket now has.

  static verdict failed(std::string why) {
    verdict v;
    v.result = outcome::failed;
    v.error = std::move(why);
    return v;
  }
  static verdict later(std::string why) {
    verdict v;
    v.result = outcome::retry;
    v.error = std::move(why);
    return v;
  }
  static verdict superseded(std::string why) {
    verdict v;
    v.result = outcome::superseded;
    v.error = std::move(why);
    return v;
  }
};

namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A string member of a JSON object, or "".
std::string string_field(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  const auto found = object.FindMember(name);
  if (found == object.MemberEnd() || !found->value.IsString()) return {};
  return {found->value.GetString(), found->value.GetStringLength()};
}

// The innermost in-app frames of an event's newest exception ("function (module)"), at
// most `limit`: what a ticket shows of where it broke.
std::vector<std::string> top_frames(const std::string& payload, std::size_t limit) {
  std::vector<std::string> frames;
  rapidjson::Document event;
  if (event.Parse(payload.data(), payload.size()).HasParseError() || !event.IsObject()) {
    return frames;
  }
  const auto exception = event.FindMember("exception");
  if (exception == event.MemberEnd()) return frames;
  const rapidjson::Value* values = &exception->value;
  if (values->IsObject()) {
    const auto listed = values->FindMember("values");
    if (listed == values->MemberEnd()) return frames;
    values = &listed->value;
  }
  if (!values->IsArray() || values->Empty()) return frames;
  const rapidjson::Value& newest = (*values)[values->Size() - 1];
  if (!newest.IsObject()) return frames;
  const auto stacktrace = newest.FindMember("stacktrace");
  if (stacktrace == newest.MemberEnd() || !stacktrace->value.IsObject()) return frames;
  const auto listed = stacktrace->value.FindMember("frames");
  if (listed == stacktrace->value.MemberEnd() || !listed->value.IsArray()) return frames;
  const auto all = listed->value.GetArray();
  for (auto frame = all.end(); frame != all.begin() && frames.size() < limit;) {
    --frame;  // innermost last, as Sentry sends them
    const auto in_app = frame->IsObject() ? frame->FindMember("in_app") : frame->MemberEnd();
    if (!frame->IsObject() || in_app == frame->MemberEnd() || !in_app->value.IsTrue()) continue;
    std::string where = string_field(*frame, "module");
    if (where.empty()) where = string_field(*frame, "filename");
    const std::string function = string_field(*frame, "function");
    frames.push_back(where.empty() ? function : fmt::format("{} ({})", function, where));
  }
  return frames;
}

// "METHOD URL", the headers and the body, with the Authorization header masked.
std::string request_text(const http_request& request) {
  std::string text = fmt::format("{} {}\n", request.method, request.url);
  for (const auto& [name, value] : request.headers) {
    const bool credential = absl::AsciiStrToLower(name) == "authorization";
    const std::size_t scheme = value.find(' ');
    const std::string shown =
        !credential ? value
                    : (scheme == std::string::npos ? "***" : value.substr(0, scheme) + " ***");
    text += fmt::format("{}: {}\n", name, shown);
  }
  return text + "\n" + request.body;
}

std::string headers_text(const http_response& response) {
  std::string text;
  for (const auto& [name, value] : response.headers) text += fmt::format("{}: {}\n", name, value);
  return text;
}

std::string_view outcome_name(retry_outcome outcome) {
  switch (outcome) {
    case retry_outcome::delivered:
      return "delivered";
    case retry_outcome::retry:
      return "retry";
    case retry_outcome::failed:
      return "failed";
  }
  return "failed";
}

const tracker_config* find_tracker(const alerting_config& config, const std::string& name) {
  const auto found = std::find_if(config.trackers.begin(), config.trackers.end(),
                                  [&](const tracker_config& t) { return t.name == name; });
  return found == config.trackers.end() ? nullptr : &*found;
}

}  // namespace

delivery_worker::delivery_worker(store& db, http_client& client, delivery_worker_options options)
    : db_{db}, client_{client}, options_{std::move(options)} {
  if (!options_.now_ms) options_.now_ms = system_now_ms;
  for (const tracker_config& tracker : options_.alerting.trackers) {
    if (!tracker.youtrack.token.empty()) secrets_.push_back(tracker.youtrack.token.reveal());
  }
}

delivery_worker::~delivery_worker() { stop(); }

std::int64_t delivery_worker::now() const { return options_.now_ms(); }

absl::Status delivery_worker::start() {
  const std::int64_t at = now();
  WARDEN_RETURN_IF_ERROR(
      db_.run_in_writer([at](sqlite_db& db) { return recover_interrupted_deliveries(db, at); }));
  const std::size_t threads = std::max<std::size_t>(1, options_.alerting.delivery.concurrency);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  return absl::OkStatus();
}

void delivery_worker::wake() {
  {
    const std::lock_guard<std::mutex> lock{mu_};
    woken_ = true;
  }
  wanted_.notify_one();
}

void delivery_worker::stop() {
  {
    const std::lock_guard<std::mutex> lock{mu_};
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wanted_.notify_all();
  client_.cancel_all();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void delivery_worker::run() {
  for (;;) {
    {
      const std::lock_guard<std::mutex> lock{mu_};
      if (stopping_) return;
    }
    if (deliver_next()) {
      wanted_.notify_one();  // there may be more: let another thread look too
      continue;
    }
    // Nothing due: sleep until the next row is, a wake-up, or a second at most.
    std::optional<std::int64_t> due;
    static_cast<void>(db_.read([&](sqlite_db& db) {
      absl::StatusOr<std::optional<std::int64_t>> next = next_due_ms(db);
      if (next.ok()) due = *next;
      return next.status();
    }));
    const std::int64_t wait_ms = std::clamp<std::int64_t>(due ? *due - now() : 1000, 1, 1000);
    std::unique_lock<std::mutex> lock{mu_};
    wanted_.wait_for(lock, std::chrono::milliseconds{wait_ms},
                     [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

bool delivery_worker::deliver_next() {
  std::optional<delivery_row> claimed;
  const std::int64_t at = now();
  const absl::Status taken = db_.run_in_writer([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::optional<delivery_row>> row = claim_due_delivery(db, at);
    if (!row.ok()) return row.status();
    claimed = *std::move(row);
    return absl::OkStatus();
  });
  if (!taken.ok() || !claimed) return false;
  complete(*claimed, deliver(*claimed));
  return true;
}

delivery_worker::verdict delivery_worker::deliver(const delivery_row& row) {
  const tracker_config* tracker = find_tracker(options_.alerting, row.what.target);
  if (tracker == nullptr) {
    return verdict::failed(fmt::format("target '{}' is no longer configured", row.what.target));
  }
  if (row.what.kind == "ticket.create") return deliver_ticket_create(row, *tracker);
  if (row.what.kind == "ticket.reopen" || row.what.kind == "ticket.comment" ||
      row.what.kind == "ticket.resolve") {
    return deliver_ticket_follow_up(row, *tracker);
  }
  return verdict::failed(fmt::format("unknown delivery kind '{}'", row.what.kind));
}

absl::StatusOr<std::optional<ticket_record>> delivery_worker::read_ticket(std::int64_t issue_id) {
  std::optional<ticket_record> ticket;
  WARDEN_RETURN_IF_ERROR(db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::optional<ticket_record>> found = find_ticket(db, issue_id);
    if (!found.ok()) return found.status();
    ticket = *std::move(found);
    return absl::OkStatus();
  }));
  return ticket;
}

absl::StatusOr<ticket_snapshot> delivery_worker::snapshot(const delivery_row& row) {
  absl::StatusOr<std::optional<issue_row>> issue = db_.issue(row.what.issue_id);
  if (!issue.ok()) return issue.status();
  if (!issue->has_value()) {
    return absl::NotFoundError(fmt::format("issue {} no longer exists", row.what.issue_id));
  }
  const issue_row& found = **issue;
  rapidjson::Document intent;
  if (intent.Parse(row.what.intent.data(), row.what.intent.size()).HasParseError()) {
    intent.SetObject();
  }
  const rapidjson::Value& why = intent;

  ticket_snapshot shot;
  shot.issue_id = found.id;
  shot.incident_key = fmt::format("wd:{}:{}", found.project_id, found.group_hash.substr(0, 16));
  shot.title = found.title;
  shot.culprit = found.culprit;
  shot.team = found.team;
  shot.function = found.function;
  shot.product = found.product;
  shot.owner_source = found.owner_source;
  shot.level = string_field(why, "level");
  if (shot.level.empty()) shot.level = found.level;
  shot.environment = string_field(why, "environment");
  shot.first_release = found.first_release;
  shot.last_release = found.last_release;
  shot.event_count = found.event_count;
  shot.user_count = found.user_count;
  shot.first_seen_ms = found.first_seen_ms;
  shot.last_seen_ms = found.last_seen_ms;
  shot.rule = string_field(why, "rule");
  shot.reason = string_field(why, "reason");
  shot.link = fmt::format("{}/api/0/issues/{}", options_.public_url, found.id);
  absl::StatusOr<std::optional<event_detail>> latest =
      db_.event(found.project_id, found.latest_event_id);
  if (latest.ok() && latest->has_value()) shot.frames = top_frames((*latest)->payload, 5);
  return shot;
}

delivery_worker::verdict delivery_worker::exchange(const delivery_row& row, std::string_view step,
                                                   const http_request& request,
                                                   http_response& response) {
  delivery_attempt logged;
  logged.attempt = row.attempts;
  logged.step = std::string{step};
  logged.started_ms = now();
  logged.request = masked(request_text(request));
  const absl::Status begun = db_.run_in_writer([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::int64_t> id = begin_attempt(db, row.id, logged);
    if (!id.ok()) return id.status();
    logged.id = *id;
    return absl::OkStatus();
  });
  if (!begun.ok()) {
    verdict unlogged;
    unlogged.result = verdict::outcome::retry;
    unlogged.error = fmt::format("could not log the attempt: {}", std::string{begun.message()});
    return unlogged;
  }

  response = client_.send(request);
  const retry_verdict classified = classify(response, absl::FromUnixMillis(now()));
  verdict result;
  result.result = classified.outcome == retry_outcome::delivered ? verdict::outcome::delivered
                  : classified.outcome == retry_outcome::retry   ? verdict::outcome::retry
                                                                 : verdict::outcome::failed;
  result.uncertain = classified.uncertain;
  result.retry_after = classified.retry_after;
  if (response.status != 0) result.status = response.status;
  if (result.result != verdict::outcome::delivered) {
    result.error = response.status == 0
                       ? masked(response.error)
                       : masked(fmt::format("{} ({}): {}", response.status, classified.reason,
                                            youtrack_error_message(response)));
  }

  logged.duration_ms = response.duration.count();
  if (response.status != 0) logged.status = response.status;
  logged.response_headers = masked(headers_text(response));
  logged.response_body = masked(response.body);
  logged.error = masked(response.error);
  logged.outcome = std::string{outcome_name(classified.outcome)};
  static_cast<void>(
      db_.run_in_writer([&logged](sqlite_db& db) { return finish_attempt(db, logged); }));
  return result;
}

delivery_worker::verdict delivery_worker::youtrack_project_id(const delivery_row& row,
                                                              const tracker_config& tracker,
                                                              const std::string& short_name,
                                                              std::string& id) {
  const std::string cache_key = fmt::format("{}/{}", tracker.name, short_name);
  {
    const std::lock_guard<std::mutex> lock{projects_mu_};
    if (const auto found = project_ids_.find(cache_key); found != project_ids_.end()) {
      id = found->second;
      return verdict{};
    }
  }
  http_response response;
  verdict looked_up = exchange(row, "lookup_project",
                               youtrack_project_lookup(tracker.youtrack, short_name), response);
  if (looked_up.result != verdict::outcome::delivered) return looked_up;
  absl::StatusOr<std::string> parsed = parse_youtrack_project_id(response.body, short_name);
  if (!parsed.ok()) return verdict::failed(std::string{parsed.status().message()});
  id = *parsed;
  const std::lock_guard<std::mutex> lock{projects_mu_};
  project_ids_[cache_key] = id;
  return verdict{};
}

delivery_worker::verdict delivery_worker::deliver_ticket_create(const delivery_row& row,
                                                                const tracker_config& tracker) {
  absl::StatusOr<std::optional<ticket_record>> ticket = read_ticket(row.what.issue_id);
  if (!ticket.ok()) return verdict::later(std::string{ticket.status().message()});
  if (!ticket->has_value()) return verdict::failed("the issue has no ticket row");
  const ticket_record& wanted = **ticket;
  if (wanted.state == "created") {
    return verdict::superseded(fmt::format("ticket {} exists already", wanted.external_key));
  }
  absl::StatusOr<ticket_snapshot> shot = snapshot(row);
  if (!shot.ok()) return verdict::failed(std::string{shot.status().message()});

  std::string project_id;
  if (verdict found = youtrack_project_id(row, tracker, wanted.project, project_id);
      found.result != verdict::outcome::delivered) {
    return found;
  }
  // An earlier attempt may have created it (the answer was lost): search before creating.
  if (row.uncertain) {
    http_response response;
    verdict searched = exchange(
        row, "search", youtrack_search_issue(tracker.youtrack, wanted.project, *shot), response);
    if (searched.result != verdict::outcome::delivered) return searched;
    absl::StatusOr<std::optional<created_ticket>> found =
        parse_youtrack_search(tracker.youtrack, response.body, *shot);
    if (!found.ok()) return verdict::failed(std::string{found.status().message()});
    if (found->has_value()) {
      searched.created = **found;
      return searched;
    }
  }
  std::vector<custom_field_config> extra_fields;
  if (options_.alerting.escalation) {
    for (const escalation_target& entry : options_.alerting.escalation->owners) {
      const owner_match& match = entry.match;
      if ((match.team.empty() || match.team == shot->team) &&
          (match.function.empty() || match.function == shot->function) &&
          (match.product.empty() || match.product == shot->product)) {
        if (entry.tracker == tracker.name && entry.project == wanted.project) {
          extra_fields = entry.fields;
        }
        break;
      }
    }
  }
  absl::StatusOr<http_request> request = youtrack_create_issue(
      tracker.youtrack, project_id, extra_fields, *shot,
      ticket_template_values(*shot, tracker.youtrack.priority, wanted.project));
  if (!request.ok()) return verdict::failed(std::string{request.status().message()});
  http_response response;
  verdict created = exchange(row, "send", *request, response);
  if (created.result != verdict::outcome::delivered) return created;
  absl::StatusOr<created_ticket> parsed =
      parse_youtrack_created_issue(tracker.youtrack, response.body);
  if (!parsed.ok()) {
    // Created, but the answer cannot be read: search for it on the next attempt.
    verdict unread;
    unread.result = verdict::outcome::retry;
    unread.uncertain = true;
    unread.status = response.status;
    unread.error = std::string{parsed.status().message()};
    return unread;
  }
  created.created = *std::move(parsed);
  return created;
}

delivery_worker::verdict delivery_worker::deliver_ticket_follow_up(const delivery_row& row,
                                                                   const tracker_config& tracker) {
  absl::StatusOr<std::optional<ticket_record>> ticket = read_ticket(row.what.issue_id);
  if (!ticket.ok()) return verdict::later(std::string{ticket.status().message()});
  // Ordered after the creation: a ticket that is still not created never will be.
  if (!ticket->has_value() || (*ticket)->state != "created") {
    return verdict::superseded("the issue's ticket was not created");
  }
  const ticket_record& existing = **ticket;
  absl::StatusOr<ticket_snapshot> shot = snapshot(row);
  if (!shot.ok()) return verdict::failed(std::string{shot.status().message()});
  rapidjson::Document intent;
  if (intent.Parse(row.what.intent.data(), row.what.intent.size()).HasParseError()) {
    intent.SetObject();
  }
  const rapidjson::Value& why = intent;
  const std::string actor = string_field(why, "actor");
  if (const std::string release = string_field(why, "release"); !release.empty()) {
    shot->last_release = release;  // the release it regressed in
  }

  http_request request;
  std::string remote_state = existing.remote_state;
  if (row.what.kind == "ticket.resolve") {
    request = youtrack_command(tracker.youtrack, existing.external_key,
                               tracker.youtrack.resolve_command, resolve_comment(actor));
    remote_state = "resolved";
  } else if (row.what.kind == "ticket.reopen" && existing.remote_state == "resolved") {
    const std::string text =
        actor.empty() ? regression_comment(*shot) : fmt::format("Reopened in Warden by {}.", actor);
    request = youtrack_command(tracker.youtrack, existing.external_key,
                               tracker.youtrack.reopen_command, text);
    remote_state = "open";
  } else {
    // A regression of a ticket nobody closed, or on_regression: comment.
    request = youtrack_comment(tracker.youtrack, existing.external_key,
                               actor.empty() ? regression_comment(*shot)
                                             : fmt::format("Reopened in Warden by {}.", actor));
  }
  http_response response;
  verdict sent = exchange(row, "send", request, response);
  sent.remote_state = remote_state;
  return sent;
}

void delivery_worker::complete(const delivery_row& row, const verdict& outcome) {
  const std::int64_t at = now();
  delivery_row done = row;
  done.last_status = outcome.status;
  done.last_error = outcome.error;
  done.uncertain = row.uncertain || outcome.uncertain;
  const delivery_config& delivery = options_.alerting.delivery;
  switch (outcome.result) {
    case verdict::outcome::delivered:
      done.state = "delivered";
      done.finished_ms = at;
      break;
    case verdict::outcome::superseded:
      done.state = "superseded";
      done.finished_ms = at;
      break;
    case verdict::outcome::failed:
      done.state = "failed";
      done.finished_ms = at;
      break;
    case verdict::outcome::retry:
      if (at - row.what.created_ms >= delivery.give_up_after.count()) {
        done.state = "exhausted";
        done.finished_ms = at;
        break;
      }
      done.state = "retrying";
      if (outcome.retry_after) {
        done.next_attempt_ms = at + outcome.retry_after->count();
      } else {
        thread_local absl::BitGen random;
        done.next_attempt_ms =
            at + backoff_delay(static_cast<int>(row.attempts), delivery.backoff_initial,
                               delivery.backoff_max, absl::Uniform(random, 0.0, 1.0))
                     .count();
      }
      break;
  }
  const bool is_create = row.what.kind == "ticket.create";
  const absl::Status recorded = db_.run_in_writer([&](sqlite_db& db) -> absl::Status {
    WARDEN_RETURN_IF_ERROR(update_delivery(db, done));
    if (row.what.issue_id == 0) return absl::OkStatus();
    if (is_create && outcome.created) {
      return mark_ticket_created(db, row.what.issue_id, outcome.created->id, outcome.created->key,
                                 outcome.created->url, at);
    }
    if (is_create && (done.state == "failed" || done.state == "exhausted")) {
      return set_ticket_state(db, row.what.issue_id, "failed");
    }
    if (!is_create && done.state == "delivered" && !outcome.remote_state.empty()) {
      return set_ticket_remote_state(db, row.what.issue_id, outcome.remote_state);
    }
    return absl::OkStatus();
  });
  static_cast<void>(recorded);  // on failure the row stays in flight: retried after a restart
}

std::string delivery_worker::masked(std::string text) const {
  for (const std::string& value : secrets_) {
    if (!value.empty()) absl::StrReplaceAll({{value, "***"}}, &text);
  }
  return text;
}

}  // namespace warden::sink

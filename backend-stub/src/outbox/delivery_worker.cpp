#include "outbox/delivery_worker.hpp"
#include "store/clock.hpp"

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
#include "targets/pagerduty.hpp"
#include "targets/slack.hpp"
#include "targets/ticket_text.hpp"
#include "targets/webhook.hpp"

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
  bool nothing_sent = false;              ///< deferred(): no request went out.

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
  // Not sent yet, on purpose: try again after `delay`, without pausing the target.
  static verdict deferred(std::string why, std::chrono::milliseconds delay) {
    verdict v;
    v.result = outcome::retry;
    v.error = std::move(why);
    v.retry_after = delay;
    v.nothing_sent = true;
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

// The first 200 bytes of an answer's body on one line, for a receiver's error.
std::string answer_excerpt(const http_response& response) {
  std::string text = truncate_utf8(response.body, 200);
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text.empty() ? "(empty body)" : text;
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

// The tracker or receiver called `name` among `all`, if any.
template <typename Config>
const Config* find_named(const std::vector<Config>& all, const std::string& name) {
  const auto found =
      std::find_if(all.begin(), all.end(), [&](const Config& each) { return each.name == name; });
  return found == all.end() ? nullptr : &*found;
}

// A row's intent as JSON (an empty object when it is not).
rapidjson::Document intent_of(const delivery_row& row) {
  rapidjson::Document intent;
  if (intent.Parse(row.what.intent.data(), row.what.intent.size()).HasParseError() ||
      !intent.IsObject()) {
    intent.SetObject();
  }
  return intent;
}

}  // namespace

delivery_worker::delivery_worker(store& db, http_client& client, delivery_worker_options options)
    : db_{db}, client_{client}, options_{std::move(options)} {
  if (!options_.now_ms) options_.now_ms = unix_now_ms;
  for (const tracker_config& tracker : options_.alerting.trackers) {
    trackers_.emplace(tracker.name, make_tracker_api(tracker));
    for (const secret* each :
         {&tracker.youtrack.token, &tracker.youtrack.inbound_secret, &tracker.github.token,
          &tracker.github.webhook_secret, &tracker.jira.token}) {
      secrets_.push_back(each->reveal());
    }
    for (const secret& key : tracker.webhook.secrets) secrets_.push_back(key.reveal());
  }
  for (const receiver_config& receiver : options_.alerting.receivers) {
    secrets_.push_back(receiver.slack.webhook_url.reveal());
    secrets_.push_back(receiver.pagerduty.routing_key.reveal());
    for (const secret& key : receiver.webhook.secrets) secrets_.push_back(key.reveal());
  }
  secrets_.erase(std::remove(secrets_.begin(), secrets_.end(), std::string{}), secrets_.end());
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

const rate_config* delivery_worker::rate_of(const std::string& target) const {
  const receiver_config* receiver = find_named(options_.alerting.receivers, target);
  if (receiver == nullptr) return nullptr;
  if (receiver->type == "slack") return &options_.alerting.flood.slack_per_webhook;
  if (receiver->type == "pagerduty") return &options_.alerting.flood.pagerduty_per_routing_key;
  return nullptr;
}

std::vector<std::string> delivery_worker::paused_targets(std::int64_t at) {
  std::vector<std::string> paused;
  for (auto& [target, bucket] : paces_) {
    if (const rate_config* rate = rate_of(target)) {
      if (at > bucket.refilled_ms) {  // refills start after the last send's margin
        bucket.tokens = std::min(static_cast<double>(rate->burst),
                                 bucket.tokens + static_cast<double>(at - bucket.refilled_ms) /
                                                     1000.0 * rate->per_second);
        bucket.refilled_ms = at;
      }
      if (bucket.tokens < 1) {
        paused.push_back(target);
        continue;
      }
    }
    if (bucket.paused_until_ms > at) paused.push_back(target);
  }
  return paused;
}

bool delivery_worker::deliver_next() {
  std::optional<delivery_row> claimed;
  {
    // Claims are serialized through the writer anyway; holding the pacing lock across
    // one keeps a target's tokens exact.
    const std::lock_guard<std::mutex> lock{pace_mu_};
    const std::int64_t at = now();
    const std::vector<std::string> paused = paused_targets(at);
    const absl::Status taken = db_.run_in_writer([&](sqlite_db& db) -> absl::Status {
      absl::StatusOr<std::optional<delivery_row>> row = claim_due_delivery(db, at, paused);
      if (!row.ok()) return row.status();
      claimed = *std::move(row);
      return absl::OkStatus();
    });
    if (!taken.ok() || !claimed) return false;
    if (const auto open = paces_.find(claimed->what.target);
        open != paces_.end() &&
        open->second.failures >= options_.alerting.delivery.circuit_failures) {
      // A probe of an open circuit: the others wait for its outcome.
      open->second.paused_until_ms = at + options_.alerting.delivery.timeout.count() +
                                     options_.alerting.delivery.connect_timeout.count();
    }
    if (const rate_config* rate = rate_of(claimed->what.target)) {
      const auto [entry, fresh] = paces_.try_emplace(claimed->what.target);
      if (fresh) {
        entry->second.tokens = static_cast<double>(rate->burst);
        entry->second.refilled_ms = at;
      }
      entry->second.tokens -= 1;
    }
  }
  complete(*claimed, deliver(*claimed));
  return true;
}

delivery_worker::verdict delivery_worker::deliver(const delivery_row& row) {
  const std::string& kind = row.what.kind;
  if (kind.rfind("ticket.", 0) == 0 || kind.rfind("digest.", 0) == 0) {
    const auto tracker = trackers_.find(row.what.target);
    if (tracker == trackers_.end() || tracker->second == nullptr) {
      return verdict::failed(fmt::format("target '{}' is no longer configured", row.what.target));
    }
    const tracker_target target{row.what.target, *tracker->second};
    if (kind == "ticket.create") return deliver_ticket_create(row, target);
    if (kind.rfind("digest.", 0) == 0) return deliver_digest(row, target);
    return deliver_ticket_follow_up(row, target);
  }
  const receiver_config* receiver = find_named(options_.alerting.receivers, row.what.target);
  if (receiver == nullptr) {
    return verdict::failed(fmt::format("target '{}' is no longer configured", row.what.target));
  }
  return deliver_notification(row, *receiver);
}

absl::StatusOr<notification> delivery_worker::notification_of(const delivery_row& row,
                                                              const rapidjson::Value& why) {
  notification told;
  told.receiver = row.what.target;
  const auto resolved = why.FindMember("resolved");
  told.resolved = resolved != why.MemberEnd() && resolved->value.IsTrue();
  const auto group = why.FindMember("group");
  const auto items = why.FindMember("items");
  if (group == why.MemberEnd() || !group->value.IsInt64() || items == why.MemberEnd() ||
      !items->value.IsArray()) {
    return absl::InvalidArgumentError("the delivery's intent names no notification group");
  }
  // The group, then its carried items: the latest of each issue.
  struct carried {
    std::int64_t issue_id;
    std::string reason, rule, level, environment;
  };
  std::vector<carried> issues;
  WARDEN_RETURN_IF_ERROR(db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<sqlite_statement*> named =
        db.cached("SELECT group_key, labels FROM notification_groups WHERE id = ?");
    if (!named.ok()) return named.status();
    (*named)->bind(1, group->value.GetInt64());
    absl::StatusOr<bool> found = (*named)->step();
    if (!found.ok()) return found.status();
    if (*found) {
      told.group_key = (*named)->column_text(0);
      rapidjson::Document labels;
      const std::string text = (*named)->column_text(1);
      if (!labels.Parse(text.data(), text.size()).HasParseError() && labels.IsObject()) {
        for (const auto& label : labels.GetObject()) {
          if (label.value.IsString()) {
            told.group_labels.emplace_back(label.name.GetString(), label.value.GetString());
          }
        }
      }
    }
    (*named)->reset();
    absl::StatusOr<sqlite_statement*> item = db.cached(
        "SELECT issue_id, reason, rule, level, environment FROM notification_items WHERE id = ?");
    if (!item.ok()) return item.status();
    for (const auto& id : items->value.GetArray()) {
      if (!id.IsInt64()) continue;
      (*item)->bind(1, id.GetInt64());
      absl::StatusOr<bool> row_found = (*item)->step();
      if (!row_found.ok()) return row_found.status();
      if (*row_found) {
        carried read{(*item)->column_int(0), (*item)->column_text(1), (*item)->column_text(2),
                     (*item)->column_text(3), (*item)->column_text(4)};
        const auto same = std::find_if(issues.begin(), issues.end(), [&](const carried& c) {
          return c.issue_id == read.issue_id;
        });
        if (same == issues.end()) {
          issues.push_back(std::move(read));
        } else if (read.reason != "resolved" || same->reason == "resolved") {
          *same = std::move(read);  // the latest says why
        }
      }
      (*item)->reset();
    }
    return absl::OkStatus();
  }));
  for (const carried& each : issues) {
    rapidjson::Document facts;
    facts.SetObject();
    auto& allocator = facts.GetAllocator();
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"rule", &each.rule},
          {"reason", &each.reason},
          {"level", &each.level},
          {"environment", &each.environment}}) {
      facts.AddMember(rapidjson::StringRef(name), rapidjson::Value{value->c_str(), allocator},
                      allocator);
    }
    absl::StatusOr<ticket_snapshot> shot = snapshot(each.issue_id, facts);
    if (!shot.ok()) continue;  // deleted since: nothing to say about it
    notified_issue& issue = told.issues.emplace_back();
    issue.issue = *std::move(shot);
    issue.reason = each.reason;
    absl::StatusOr<std::optional<ticket_record>> ticket = read_ticket(each.issue_id);
    if (ticket.ok() && ticket->has_value() && (*ticket)->state == "created") {
      issue.ticket_key = (*ticket)->external_key;
      issue.ticket_url = (*ticket)->url;
    }
  }
  if (told.issues.empty()) return absl::NotFoundError("the notification's issues are gone");
  told.link = fmt::format("{}/api/0/issues", options_.public_url);
  return told;
}

delivery_worker::verdict delivery_worker::deliver_notification(const delivery_row& row,
                                                               const receiver_config& receiver) {
  const rapidjson::Document why = intent_of(row);
  http_request request;
  if (row.what.kind == "pagerduty.resolve") {
    request = pagerduty_resolve(receiver.pagerduty, string_field(why, "dedup_key"));
  } else {
    absl::StatusOr<notification> told = notification_of(row, why);
    if (!told.ok()) return verdict::superseded(std::string{told.status().message()});
    if (row.what.kind != "pagerduty.trigger") {
      if (const std::string creating = ticket_being_created(*told); !creating.empty()) {
        return verdict::deferred(
            fmt::format("waiting for the ticket of issue {} (its link goes in the message)",
                        creating),
            kTicketRecheck);
      }
    }
    if (row.what.kind == "slack.message") {
      std::vector<std::int64_t> merged;
      request = slack_request(row, receiver, *std::move(told), merged);
      if (!merged.empty()) return deliver_summary(row, receiver, request, merged);
    } else if (row.what.kind == "pagerduty.trigger") {
      const auto issue = std::find_if(
          told->issues.begin(), told->issues.end(),
          [&](const notified_issue& each) { return each.issue.issue_id == row.what.issue_id; });
      if (issue == told->issues.end()) return verdict::superseded("the issue is gone");
      absl::StatusOr<http_request> trigger = pagerduty_trigger(receiver.pagerduty, *issue);
      if (!trigger.ok()) return verdict::failed(std::string{trigger.status().message()});
      request = *std::move(trigger);
    } else if (row.what.kind == "webhook.event") {
      absl::StatusOr<http_request> event =
          webhook_event(receiver.webhook, *told, row.what.idempotency_key, now() / 1000);
      if (!event.ok()) return verdict::failed(std::string{event.status().message()});
      request = *std::move(event);
    } else {
      return verdict::failed(fmt::format("unknown delivery kind '{}'", row.what.kind));
    }
  }
  http_response response;
  verdict sent = exchange(row, "send", request, response);
  if (sent.result == verdict::outcome::retry || response.status == 0) return sent;
  // The receiver's own reading of its answer: Slack says "ok", PagerDuty 202.
  const receiver_verdict read = receiver.type == "slack"       ? slack_answer(response)
                                : receiver.type == "pagerduty" ? pagerduty_answer(response)
                                                               : receiver_verdict{};
  if (receiver.type == "webhook" || read.ok) return sent;
  if (read.permanent) {
    verdict failed = verdict::failed(masked(read.error));
    failed.status = sent.status;
    if (read.broken) {
      failed.error = fmt::format("receiver broken: {}", failed.error);
    }
    return failed;
  }
  return sent;
}

std::string delivery_worker::ticket_being_created(const notification& told) {
  for (const notified_issue& each : told.issues) {
    if (!each.ticket_key.empty()) continue;
    // Waiting makes sense while the creation is on its first try: a tracker that failed
    // once may be down for long, and the message must not wait for it.
    bool first_try = false;
    static_cast<void>(db_.read([&](sqlite_db& db) -> absl::Status {
      absl::StatusOr<sqlite_statement*> query = db.cached(
          "SELECT count(*) FROM tickets t JOIN outbox o ON o.id = t.create_delivery WHERE "
          "t.issue_id = ? AND t.state = 'pending' AND t.created > ? AND o.state IN ('pending', "
          "'in_flight') AND o.attempts <= 1");
      if (!query.ok()) return query.status();
      (*query)->bind(1, each.issue.issue_id).bind(2, now() - kTicketWait.count());
      absl::StatusOr<std::int64_t> found = (*query)->single_int();
      if (!found.ok()) return found.status();
      first_try = *found > 0;
      return absl::OkStatus();
    }));
    if (first_try) return std::to_string(each.issue.issue_id);
  }
  return {};
}

http_request delivery_worker::slack_request(const delivery_row& row,
                                            const receiver_config& receiver, notification told,
                                            std::vector<std::int64_t>& merged) {
  // Slack takes about a message a second: past flood.slack_coalesce_above messages
  // waiting for this webhook, they go as one summary rather than minutes late.
  const std::size_t threshold = options_.alerting.flood.slack_coalesce_above;
  std::vector<delivery_row> waiting;
  static_cast<void>(db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::vector<delivery_row>> found =
        waiting_deliveries(db, row.what.target, row.what.kind, row.id, kMaxSummarised);
    if (found.ok()) waiting = *std::move(found);
    return found.status();
  }));
  if (waiting.size() < threshold) return slack_message(receiver.slack, told);
  std::vector<notification> held_back{std::move(told)};
  for (const delivery_row& other : waiting) {
    absl::StatusOr<notification> each = notification_of(other, intent_of(other));
    if (!each.ok()) continue;  // its own delivery will say why
    held_back.push_back(*std::move(each));
    merged.push_back(other.id);
  }
  return slack_summary(receiver.slack, held_back);
}

delivery_worker::verdict delivery_worker::deliver_summary(const delivery_row& row,
                                                          const receiver_config& receiver,
                                                          const http_request& request,
                                                          const std::vector<std::int64_t>& merged) {
  http_response response;
  verdict sent = exchange(row, "send_summary", request, response);
  if (sent.result != verdict::outcome::delivered) return sent;
  if (const receiver_verdict read = slack_answer(response); !read.ok) {
    return read.permanent ? verdict::failed(masked(read.error)) : verdict::later(read.error);
  }
  const std::string reason = fmt::format("sent in the summary of delivery {}", row.id);
  const std::int64_t at = now();
  static_cast<void>(db_.run_in_writer(
      [&](sqlite_db& db) { return supersede_deliveries(db, merged, reason, at); }));
  sent.error = fmt::format("a summary of {} messages for {}", merged.size() + 1, receiver.name);
  return sent;
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

absl::StatusOr<ticket_snapshot> delivery_worker::snapshot(std::int64_t issue_id,
                                                          const rapidjson::Value& why) {
  absl::StatusOr<std::optional<issue_row>> issue = db_.issue(issue_id);
  if (!issue.ok()) return issue.status();
  if (!issue->has_value()) {
    return absl::NotFoundError(fmt::format("issue {} no longer exists", issue_id));
  }
  const issue_row& found = **issue;

  ticket_snapshot shot;
  shot.issue_id = found.id;
  shot.incident_key = incident_key(found.project_id, found.group_hash);
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
                                                   http_response& response,
                                                   const tracker_api* tracker) {
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
                                            tracker != nullptr ? tracker->error_message(response)
                                                               : answer_excerpt(response)));
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

delivery_worker::verdict delivery_worker::project_reference(const delivery_row& row,
                                                            const tracker_target& tracker,
                                                            const std::string& project,
                                                            std::string& reference) {
  std::optional<http_request> lookup = tracker.api.project_lookup(project);
  if (!lookup) {
    reference = project;
    return verdict{};
  }
  const std::string cache_key = fmt::format("{}/{}", tracker.name, project);
  {
    const std::lock_guard<std::mutex> lock{projects_mu_};
    if (const auto found = project_ids_.find(cache_key); found != project_ids_.end()) {
      reference = found->second;
      return verdict{};
    }
  }
  http_response response;
  verdict looked_up = exchange(row, "lookup_project", *lookup, response, &tracker.api);
  if (looked_up.result != verdict::outcome::delivered) return looked_up;
  absl::StatusOr<std::string> parsed = tracker.api.parse_project_lookup(response.body, project);
  if (!parsed.ok()) return verdict::failed(std::string{parsed.status().message()});
  reference = *parsed;
  const std::lock_guard<std::mutex> lock{projects_mu_};
  project_ids_[cache_key] = reference;
  return verdict{};
}

delivery_worker::verdict delivery_worker::create_ticket(
    const delivery_row& row, const tracker_target& tracker, const std::string& project,
    const std::vector<custom_field_config>& fields, const ticket_content& content,
    const template_values& values) {
  std::string reference;
  if (verdict found = project_reference(row, tracker, project, reference);
      found.result != verdict::outcome::delivered) {
    return found;
  }
  // An earlier attempt may have created it (the answer was lost): search before creating.
  if (row.uncertain) {
    if (std::optional<http_request> search = tracker.api.search_ticket(project, content)) {
      http_response response;
      verdict searched = exchange(row, "search", *search, response, &tracker.api);
      if (searched.result != verdict::outcome::delivered) return searched;
      absl::StatusOr<std::optional<created_ticket>> found =
          tracker.api.parse_search(response.body, content);
      if (!found.ok()) return verdict::failed(std::string{found.status().message()});
      if (found->has_value()) {
        searched.created = **found;
        return searched;
      }
    }
  }
  absl::StatusOr<http_request> request =
      tracker.api.create_ticket(call_of(row), reference, fields, content, values);
  if (!request.ok()) return verdict::failed(std::string{request.status().message()});
  http_response response;
  verdict created = exchange(row, "send", *request, response, &tracker.api);
  if (created.result != verdict::outcome::delivered) return created;
  absl::StatusOr<created_ticket> parsed = tracker.api.parse_created(content, response);
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

delivery_worker::verdict delivery_worker::deliver_ticket_create(const delivery_row& row,
                                                                const tracker_target& tracker) {
  absl::StatusOr<std::optional<ticket_record>> ticket = read_ticket(row.what.issue_id);
  if (!ticket.ok()) return verdict::later(std::string{ticket.status().message()});
  if (!ticket->has_value()) return verdict::failed("the issue has no ticket row");
  const ticket_record& wanted = **ticket;
  if (wanted.state == "created") {
    return verdict::superseded(fmt::format("ticket {} exists already", wanted.external_key));
  }
  const rapidjson::Document why = intent_of(row);
  absl::StatusOr<ticket_snapshot> shot = snapshot(row.what.issue_id, why);
  if (!shot.ok()) return verdict::failed(std::string{shot.status().message()});
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
  return create_ticket(row, tracker, wanted.project, extra_fields, ticket_content_of(*shot),
                       ticket_template_values(*shot, tracker.api.priorities(), wanted.project));
}

delivery_worker::verdict delivery_worker::deliver_digest(const delivery_row& row,
                                                         const tracker_target& tracker) {
  const rapidjson::Document why = intent_of(row);
  const auto named = why.FindMember("digest");
  if (named == why.MemberEnd() || !named->value.IsInt64()) {
    return verdict::failed("the delivery's intent names no digest");
  }
  const std::int64_t digest = named->value.GetInt64();
  std::string team, project, state;
  created_ticket existing;
  std::vector<digest_entry> issues;
  const absl::Status read = db_.read([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<sqlite_statement*> row_of = db.cached(
        "SELECT team, project, state, coalesce(external_id, ''), "
        "coalesce(external_key, ''), coalesce(url, '') FROM digests WHERE id = ?");
    if (!row_of.ok()) return row_of.status();
    (*row_of)->bind(1, digest);
    absl::StatusOr<bool> found = (*row_of)->step();
    if (!found.ok()) return found.status();
    if (*found) {
      team = (*row_of)->column_text(0);
      project = (*row_of)->column_text(1);
      state = (*row_of)->column_text(2);
      existing = {(*row_of)->column_text(3), (*row_of)->column_text(4), (*row_of)->column_text(5)};
    }
    (*row_of)->reset();
    absl::StatusOr<sqlite_statement*> listed = db.cached(
        "SELECT i.id, i.title, i.level, i.event_count FROM tickets t JOIN issues i ON i.id = "
        "t.issue_id WHERE t.digest_id = ? ORDER BY t.created, t.issue_id LIMIT 500");
    if (!listed.ok()) return listed.status();
    (*listed)->bind(1, digest);
    for (;;) {
      absl::StatusOr<bool> next = (*listed)->step();
      if (!next.ok()) return next.status();
      if (!*next) break;
      issues.push_back(
          {(*listed)->column_text(1), (*listed)->column_text(2), (*listed)->column_int(3),
           fmt::format("{}/api/0/issues/{}", options_.public_url, (*listed)->column_int(0))});
    }
    (*listed)->reset();
    return absl::OkStatus();
  });
  if (!read.ok()) return verdict::later(std::string{read.message()});
  if (state.empty()) return verdict::failed(fmt::format("no digest {}", digest));
  if (row.what.kind == "digest.update") {
    if (state != "created") return verdict::superseded("the digest ticket was not created");
    http_response response;
    return exchange(row, "send",
                    tracker.api.comment(call_of(row), existing, digest_comment(issues)), response,
                    &tracker.api);
  }
  if (state == "created") {
    return verdict::superseded(fmt::format("digest {} exists already", existing.key));
  }
  ticket_snapshot owner;
  owner.team = team;
  owner.level = "error";
  return create_ticket(row, tracker, project, {},
                       digest_ticket(team, fmt::format("wd-digest:{}", digest), issues),
                       ticket_template_values(owner, tracker.api.priorities(), project));
}

delivery_worker::verdict delivery_worker::deliver_ticket_follow_up(const delivery_row& row,
                                                                   const tracker_target& tracker) {
  absl::StatusOr<std::optional<ticket_record>> ticket = read_ticket(row.what.issue_id);
  if (!ticket.ok()) return verdict::later(std::string{ticket.status().message()});
  // Ordered after the creation: a ticket that is still not created never will be.
  if (!ticket->has_value() || (*ticket)->state != "created") {
    return verdict::superseded("the issue's ticket was not created");
  }
  const ticket_record& existing = **ticket;
  const created_ticket remote{existing.external_id, existing.external_key, existing.url};
  const rapidjson::Document why = intent_of(row);
  absl::StatusOr<ticket_snapshot> shot = snapshot(row.what.issue_id, why);
  if (!shot.ok()) return verdict::failed(std::string{shot.status().message()});
  const std::string actor = string_field(why, "actor");
  if (const std::string release = string_field(why, "release"); !release.empty()) {
    shot->last_release = release;  // the release it regressed in
  }

  const tracker_call call = call_of(row);
  std::vector<http_request> requests;
  std::string remote_state = existing.remote_state;
  if (row.what.kind == "ticket.resolve") {
    requests = tracker.api.resolve(call, remote, resolve_comment(actor));
    remote_state = "resolved";
  } else if (row.what.kind == "ticket.reopen" && existing.remote_state == "resolved") {
    requests = tracker.api.reopen(call, remote,
                                  actor.empty() ? regression_comment(*shot)
                                                : fmt::format("Reopened in Warden by {}.", actor));
    remote_state = "open";
  } else {
    // A regression of a ticket nobody closed, or on_regression: comment.
    requests.push_back(tracker.api.comment(call, remote,
                                           actor.empty()
                                               ? regression_comment(*shot)
                                               : fmt::format("Reopened in Warden by {}.", actor)));
  }
  verdict sent;
  for (std::size_t step = 0; step < requests.size(); ++step) {
    http_response response;
    sent = exchange(row, requests.size() == 1 ? "send" : fmt::format("send.{}", step + 1),
                    requests[step], response, &tracker.api);
    if (sent.result != verdict::outcome::delivered) return sent;
  }
  sent.remote_state = remote_state;
  return sent;
}

tracker_call delivery_worker::call_of(const delivery_row& row) const {
  return {row.what.idempotency_key, now() / 1000};
}

void delivery_worker::pace_after(const std::string& target, const verdict& outcome,
                                 std::int64_t at) {
  const rate_config* rate = rate_of(target);
  const std::lock_guard<std::mutex> lock{pace_mu_};
  pace& paced = paces_[target];  // a new entry refills to a full bucket
  if (outcome.nothing_sent) {
    if (rate != nullptr)
      paced.tokens = std::min(static_cast<double>(rate->burst), paced.tokens + 1);
    return;
  }
  if (rate != nullptr) {
    // Tokens come back from the end of a send, not its start: a slow answer does not let
    // the next message arrive sooner than the receiver's rate after this one. The clock
    // here counts whole milliseconds: a few more keep the next one clear of the limit.
    constexpr std::int64_t kMarginMs = 10;
    paced.tokens = std::min(paced.tokens, static_cast<double>(rate->burst) - 1);
    paced.refilled_ms = std::max(paced.refilled_ms, at + kMarginMs);
    // A rate-limited receiver (Slack, PagerDuty) waits as a whole, not row by row.
    if (outcome.retry_after) {
      paced.paused_until_ms = std::max(paced.paused_until_ms, at + outcome.retry_after->count());
    }
  }
  // The circuit: after delivery.circuit_failures deliveries in a row found the target down
  // (no answer, 5xx), nothing is sent to it for circuit_probe_after; then one probe.
  const delivery_config& delivery = options_.alerting.delivery;
  const bool down = outcome.result == verdict::outcome::retry &&
                    (!outcome.status || *outcome.status == 0 || *outcome.status >= 500);
  if (!down) {
    if (outcome.result != verdict::outcome::retry) {                               // it answers
      if (paced.failures >= delivery.circuit_failures) paced.paused_until_ms = 0;  // probe ok
      paced.failures = 0;
    }
    return;
  }
  if (++paced.failures >= delivery.circuit_failures) {
    paced.paused_until_ms =
        std::max(paced.paused_until_ms, at + delivery.circuit_probe_after.count());
  }
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
  pace_after(row.what.target, outcome, at);
  const bool is_create = row.what.kind == "ticket.create";
  const absl::Status recorded = db_.run_in_writer([&](sqlite_db& db) -> absl::Status {
    WARDEN_RETURN_IF_ERROR(update_delivery(db, done));
    if (row.what.kind == "digest.create" && outcome.created) {
      return mark_digest_created(db, intent_of(row)["digest"].GetInt64(), outcome.created->id,
                                 outcome.created->key, outcome.created->url);
    }
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

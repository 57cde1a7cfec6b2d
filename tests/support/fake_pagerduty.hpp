// A fake PagerDuty for tests of warden-sink's notifications: the Events API v2 on a
// recording_server at 127.0.0.1, with PagerDuty's dedup semantics, its validation and
// its rate limit, and faults on demand. Thread-safe; every request is recorded, refused
// ones too.
//
//   POST /v2/enqueue   an event: 202 {"status":"success","message":"Event processed",
//                      "dedup_key":...}
//
// Alerts are kept by (routing_key, dedup_key), as PagerDuty does: a trigger opens an
// alert, or joins the open one with its key (no second alert); acknowledge and resolve
// apply to the open alert and are dropped (still 202) when there is none, or when they
// come with another routing key; a trigger after a resolve opens a new alert. A trigger
// without a dedup_key gets a new one.
//
// Refused with 400 and PagerDuty's error JSON {"status":"invalid event","message":"Event
// object is invalid","errors":[...]}: a body that is not a JSON object, a routing_key
// that is not 32 characters, an event_action other than trigger, acknowledge, resolve,
// a missing dedup_key on acknowledge/resolve or one over 255 characters, and a trigger
// without payload.summary (at most 1024), payload.source, or a payload.severity other
// than critical, error, warning, info. Other paths are 404. With a rate limit, the
// events beyond N in the last second for one routing key get 429.
//
// Example:
//
//   fake_pagerduty pagerduty({/*events_per_second=*/2});
//   receiver.url = pagerduty.enqueue_url();
//   ... the sink triggers and resolves ...
//   REQUIRE(pagerduty.wait_for_events(2, 10s));
//   CHECK(pagerduty.open_alerts().empty());
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recording_fake.hpp"

namespace warden::testing {

/// How a fake_pagerduty is set up.
struct fake_pagerduty_options {
  /// Events accepted per routing key in any second; more get 429. 0: no limit.
  std::size_t events_per_second = 0;
  int port = 0;  ///< 0: a port the system picks.
};

/// PagerDuty's Events API v2, faked; see the file comment.
class fake_pagerduty final : public recording_fake {
 public:
  using reply = recording_server::reply;
  using clock = std::chrono::steady_clock;

  /// An event PagerDuty accepted (202), in the order they came.
  struct event {
    std::string routing_key;
    std::string event_action;  ///< trigger, acknowledge, resolve.
    std::string dedup_key;     ///< As sent, or the one generated for a trigger without.
    std::string summary;       ///< payload.summary of a trigger.
    std::string severity;      ///< payload.severity of a trigger.
    std::string source;        ///< payload.source of a trigger.
    std::string body;          ///< The JSON as sent.
    clock::time_point arrived;
  };

  /// An alert, as PagerDuty keeps it.
  struct alert {
    std::string routing_key;
    std::string dedup_key;
    std::string summary;               ///< The first trigger's.
    std::string severity;              ///< The first trigger's.
    std::string status = "triggered";  ///< triggered, acknowledged, resolved.
    int triggers = 1;                  ///< Trigger events it took (deduplicated ones too).
  };

  explicit fake_pagerduty(fake_pagerduty_options options = {})
      : recording_fake{options.port}, options_(options) {
    serve([this](const recording_server::request& in) { return handle(in); });
  }
  ~fake_pagerduty() { stop_serving(); }  // before the state goes

  /// The receiver's `url`: base_url() + "/v2/enqueue".
  std::string enqueue_url() const { return base_url() + "/v2/enqueue"; }

  /// Answers `count` requests, whatever they are, with `status`, `headers` and an error
  /// body, and does nothing else for them. Failures queue up.
  void fail_next(int count, int status, std::map<std::string, std::string> headers = {}) {
    const std::lock_guard<std::mutex> lock{mutex_};
    for (int i = 0; i < count; ++i) {
      failures_.push_back(reply{
          status, headers, R"({"status":"error","message":"failure injected by fake_pagerduty"})",
          std::chrono::milliseconds{0}});
    }
  }

  /// The events accepted, in order.
  std::vector<event> events() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return events_;
  }
  /// Every alert ever created, in order, resolved ones too.
  std::vector<alert> alerts() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return alerts_;
  }
  /// The alerts not resolved (triggered or acknowledged), in order.
  std::vector<alert> open_alerts() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    std::vector<alert> open;
    std::copy_if(alerts_.begin(), alerts_.end(), std::back_inserter(open),
                 [](const alert& each) { return each.status != "resolved"; });
    return open;
  }
  /// How many requests got 429 from the rate limit (not from fail_next).
  std::size_t rate_limited() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return rate_limited_;
  }
  /// Waits until at least `count` events were accepted; false on timeout.
  bool wait_for_events(std::size_t count, std::chrono::milliseconds timeout) {
    return wait_until(timeout, [&] { return events_.size() >= count; });
  }

 private:
  using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

  static constexpr std::size_t kRoutingKeyChars = 32;
  static constexpr std::size_t kMaxDedupKeyChars = 255;
  static constexpr std::size_t kMaxSummaryChars = 1024;

  static void put(json_writer& out, std::string_view text) {
    out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  }

  // {"status": status, "message": message, "dedup_key"/"errors": ...}
  static reply json_reply(int status, std::string_view state, std::string_view message,
                          const std::string* dedup_key, const std::vector<std::string>& errors) {
    rapidjson::StringBuffer buffer;
    json_writer out{buffer};
    out.StartObject();
    out.Key("status");
    put(out, state);
    out.Key("message");
    put(out, message);
    if (dedup_key != nullptr) {
      out.Key("dedup_key");
      put(out, *dedup_key);
    }
    if (!errors.empty()) {
      out.Key("errors");
      out.StartArray();
      for (const std::string& error : errors) put(out, error);
      out.EndArray();
    }
    out.EndObject();
    return reply{status, {}, {buffer.GetString(), buffer.GetSize()}, std::chrono::milliseconds{0}};
  }

  static reply invalid(std::vector<std::string> errors) {
    return json_reply(400, "invalid event", "Event object is invalid", nullptr, errors);
  }

  static std::size_t characters(std::string_view text) {
    std::size_t count = 0;
    for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return count;
  }

  // The string member `name` of `object`, or "" when absent or not a string.
  static std::string string_member(const rapidjson::Value& object, const char* name) {
    if (!object.IsObject()) return {};
    const auto found = object.FindMember(name);
    if (found == object.MemberEnd() || !found->value.IsString()) return {};
    return {found->value.GetString(), found->value.GetStringLength()};
  }

  // The errors PagerDuty would list for `body`, none when it is a valid event.
  static std::vector<std::string> validate(const rapidjson::Document& body, const event& in) {
    std::vector<std::string> errors;
    if (in.routing_key.empty()) {
      errors.emplace_back("'routing_key' is missing or blank");
    } else if (characters(in.routing_key) != kRoutingKeyChars) {
      errors.emplace_back("'routing_key' must be 32 characters");
    }
    const bool trigger = in.event_action == "trigger";
    if (!trigger && in.event_action != "acknowledge" && in.event_action != "resolve") {
      errors.emplace_back(
          "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    }
    if (!trigger && in.dedup_key.empty()) errors.emplace_back("'dedup_key' is missing or blank");
    if (characters(in.dedup_key) > kMaxDedupKeyChars) {
      errors.emplace_back("'dedup_key' is too long (must be at most 255 characters)");
    }
    if (!trigger) return errors;
    const auto payload = body.FindMember("payload");
    if (payload == body.MemberEnd() || !payload->value.IsObject()) {
      errors.emplace_back("'payload' is missing or blank");
      return errors;
    }
    if (in.summary.empty()) errors.emplace_back("'payload.summary' is missing or blank");
    if (characters(in.summary) > kMaxSummaryChars) {
      errors.emplace_back("'payload.summary' is too long (must be at most 1024 characters)");
    }
    if (in.source.empty()) errors.emplace_back("'payload.source' is missing or blank");
    constexpr std::string_view kSeverities[] = {"critical", "error", "warning", "info"};
    if (std::find(std::begin(kSeverities), std::end(kSeverities), in.severity) ==
        std::end(kSeverities)) {
      errors.emplace_back(
          "'payload.severity' is invalid (must be one of: critical, error, warning, info)");
    }
    return errors;
  }

  // Whether one more event for `routing_key` at `now` is over the limit; counts it if not.
  bool over_limit(const std::string& routing_key, clock::time_point now) {
    if (options_.events_per_second == 0) return false;
    std::deque<clock::time_point>& recent = recent_[routing_key];
    while (!recent.empty() && now - recent.front() >= std::chrono::seconds{1}) recent.pop_front();
    if (recent.size() >= options_.events_per_second) return true;
    recent.push_back(now);
    return false;
  }

  alert* open_alert(const std::string& routing_key, const std::string& dedup_key) {
    for (alert& each : alerts_) {
      if (each.routing_key == routing_key && each.dedup_key == dedup_key &&
          each.status != "resolved") {
        return &each;
      }
    }
    return nullptr;
  }

  // Applies an accepted event to the alerts.
  void apply(const event& in) {
    alert* open = open_alert(in.routing_key, in.dedup_key);
    if (in.event_action == "trigger") {
      if (open != nullptr) {
        ++open->triggers;
      } else {
        alerts_.push_back(alert{in.routing_key, in.dedup_key, in.summary, in.severity});
      }
    } else if (open != nullptr) {
      open->status = in.event_action == "resolve" ? "resolved" : "acknowledged";
    }
  }

  // Runs on the server's threads.
  reply handle(const recording_server::request& in) {
    const std::lock_guard<std::mutex> lock{mutex_};
    if (!failures_.empty()) {
      reply failure = std::move(failures_.front());
      failures_.pop_front();
      return failure;
    }
    if (in.method != "POST" || in.path != "/v2/enqueue") {
      return json_reply(404, "not found", "No such endpoint: " + in.method + " " + in.path, nullptr,
                        {});
    }
    rapidjson::Document body;
    body.Parse(in.body.data(), in.body.size());
    if (body.HasParseError() || !body.IsObject()) return invalid({"The body is not a JSON object"});

    event received;
    received.routing_key = string_member(body, "routing_key");
    received.event_action = string_member(body, "event_action");
    received.dedup_key = string_member(body, "dedup_key");
    if (const auto payload = body.FindMember("payload"); payload != body.MemberEnd()) {
      received.summary = string_member(payload->value, "summary");
      received.severity = string_member(payload->value, "severity");
      received.source = string_member(payload->value, "source");
    }
    received.body = in.body;
    received.arrived = clock::now();
    if (std::vector<std::string> errors = validate(body, received); !errors.empty()) {
      return invalid(std::move(errors));
    }
    if (over_limit(received.routing_key, received.arrived)) {
      ++rate_limited_;
      return json_reply(429, "throttle event",
                        "Requests for this service are arriving too quickly. Please retry later.",
                        nullptr, {});
    }
    if (received.dedup_key.empty()) {
      received.dedup_key = "fake-pagerduty-" + std::to_string(++generated_keys_);
    }
    apply(received);
    events_.push_back(received);
    changed_.notify_all();
    return json_reply(202, "success", "Event processed", &received.dedup_key, {});
  }

  const fake_pagerduty_options options_;
  std::vector<event> events_;
  std::vector<alert> alerts_;
  std::map<std::string, std::deque<clock::time_point>> recent_;  // by routing key
  std::deque<reply> failures_;
  std::size_t rate_limited_ = 0;
  int generated_keys_ = 0;
};

}  // namespace warden::testing

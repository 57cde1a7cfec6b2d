// Delivery at scale and through faults (issue #5's proof): the real warden-sink with a
// fake YouTrack, fake Slack webhooks and a fake PagerDuty on 127.0.0.1 (tests/support).
// 10,000 events of one issue are still one ticket, one message and one page; 500 new
// issues of one team in a minute are the hourly cap of tickets plus one digest listing
// the rest, with Slack kept within its rate; a tracker that answers 503 for ten seconds
// gets every ticket once when it is back, without a restart; kill -9 while Slack and
// PagerDuty hold their answers loses nothing after a restart (what was in flight may be
// repeated, PagerDuty's with the same dedup key); and a PagerDuty 429 whose Retry-After
// is an HTTP date holds the next attempt until that date.
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../support/fake_pagerduty.hpp"
#include "../support/fake_slack.hpp"
#include "../support/fake_youtrack.hpp"
#include "sink_client.hpp"

namespace {

using namespace warden::testing;  // NOLINT(google-build-using-namespace): the test's kit
using namespace std::chrono_literals;

constexpr const char* kToken = "perm:delivery-test-81c3";
constexpr const char* kRoutingKey = "DEL1VERYR0UT1NGKEYDEL1VERYR0UT12";
constexpr const char* kEnvelopePath = "/api/7/envelope/?sentry_key=pubkey&sentry_version=7";
constexpr const char* kTeamChannel = "T0/B0/payments";

// What a scenario changes in the sink's config.
struct sink_setup {
  std::string tracker_url;  ///< "" : no tracker, rules only notify.
  std::string pagerduty_url;
  std::string group_by = "[issue]";
  std::string group_interval = "1s";
  std::string escalation;  ///< Extra keys under `escalation:`, each "  key: value\n".
  std::string delivery = "{timeout: 2s, connect_timeout: 1s, backoff: {initial: 50ms, max: 200ms}}";
};

// Production errors and fatals of project 7 open a ticket (with a tracker) and notify:
// every notification goes to the team's channel, production fatals page as well.
std::string sink_config(const sink_setup& setup) {
  const bool tickets = !setup.tracker_url.empty();
  std::string config = R"(
projects:
  - id: 7
    keys: [{public_key: pubkey}]
storage: {durable: false}
)";
  if (tickets) {
    config += "trackers:\n  - {name: youtrack, type: youtrack, url: " + setup.tracker_url +
              ", token: {env: WARDEN_TEST_YOUTRACK_TOKEN},\n     incident_key_field: Incident "
              "key}\nescalation:\n" +
              setup.escalation + "  owners: [{match: {}, tracker: youtrack, project: OPS}]\n";
  }
  config += R"(alert_rules:
  - id: prod
    conditions: [first_seen, regressed]
    conditions_match: any
    filters: {environment: production, level: {at_least: error}}
    actions: )" +
            std::string{tickets ? "[ticket, notify]" : "[notify]"} + R"(
route:
  receiver: team-slack
  group_by: )" +
            setup.group_by +
            R"(
  group_wait: 0s
  group_interval: )" +
            setup.group_interval + R"(
  routes:
    - {matchers: ['severity="critical"', 'environment="production"'], receiver: pagerduty-main,
       continue: true}
    - {matchers: ['team="payments"'], receiver: team-slack}
receivers:
  - {name: team-slack, slack: {webhook_url: {env: WARDEN_TEST_SLACK_TEAM}}}
  - name: pagerduty-main
    pagerduty: {routing_key: {env: WARDEN_TEST_PD_KEY}, url: )" +
            setup.pagerduty_url + R"(}
delivery: )" +
            setup.delivery + "\n";
  return config;
}

// The fakes a scenario's sink talks to (YouTrack with project OPS, Slack, PagerDuty),
// and the directory of its config and database.
struct scenario {
  explicit scenario(fake_slack_options slack_options = {}) : slack{slack_options} {
    tracker.add_project("OPS");
  }

  /// The sink's setup: PagerDuty, and tickets in the fake YouTrack unless `tickets` is
  /// false.
  sink_setup setup(bool tickets = true) const {
    sink_setup made;
    if (tickets) made.tracker_url = tracker.base_url();
    made.pagerduty_url = pagerduty.enqueue_url();
    return made;
  }
  /// Starts the sink (again) with `with`, on the same database.
  sink_process start(const sink_setup& with) const {
    ::setenv("WARDEN_TEST_YOUTRACK_TOKEN", kToken, 1);
    ::setenv("WARDEN_TEST_SLACK_TEAM", slack.webhook_url(kTeamChannel).c_str(), 1);
    ::setenv("WARDEN_TEST_PD_KEY", kRoutingKey, 1);
    return sink_process{WARDEN_SINK_BINARY,
                        {"--config=" + directory.write("sink.yaml", sink_config(with)),
                         "--database=" + directory.file("sink.db")}};
  }

  fake_youtrack tracker{{kToken}};
  fake_slack slack;
  fake_pagerduty pagerduty;
  temp_directory directory;
};

// One production event of team payments whose exception `type` makes the issue.
std::string production_envelope(int id, const std::string& type, const std::string& level) {
  return R"({"event_id":")" + event_id(id) + "\"}\n{\"type\":\"event\"}\n" + R"({"level":")" +
         level +
         R"(","environment":"production","tags":{"team":"payments","function":"backend","product":"checkout"},"exception":{"values":[{"type":")" +
         type + R"(","value":"boom"}]}})" + "\n";
}

// A client for many requests: one connection, each request sent at once (without
// TCP_NODELAY, Nagle's algorithm holds a body until the headers are acknowledged).
httplib::Client sender_for(const sink_process& sink) {
  auto client = client_for(sink);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  return client;
}

// Sends it; whether the sink took it.
bool send_event(httplib::Client& client, int id, const std::string& type,
                const std::string& level = "fatal") {
  const auto answer = client.Post(kEnvelopePath, production_envelope(id, type, level), "");
  return answer && answer->status == 200;
}

// The delivery log's rows for `query` (e.g. "status=failed&kind=ticket.create").
rapidjson::Document deliveries(httplib::Client& client, const std::string& query) {
  return get_json(client, "/api/0/deliveries?limit=1000&" + query);
}

// Deliveries still to be made: pending, in flight or waiting to retry.
std::size_t outstanding(httplib::Client& client) {
  std::size_t count = 0;
  for (const char* state : {"pending", "in_flight", "retrying"}) {
    count += deliveries(client, std::string{"status="} + state)["deliveries"].Size();
  }
  return count;
}

// Whether /metrics has the line `series value`.
bool has_metric(httplib::Client& client, const std::string& series, long long value) {
  const auto metrics = client.Get("/metrics");
  return metrics &&
         metrics->body.find(series + " " + std::to_string(value) + "\n") != std::string::npos;
}

// How many issues a Slack message speaks of: "ERROR: 37 issues for payments" is 37, a
// message about one issue has its title in the header.
long issues_in(const fake_slack::message& message) {
  const std::size_t colon = message.header.find(": ");
  if (colon == std::string::npos) return 1;
  const char* count = message.header.c_str() + colon + 2;
  char* end = nullptr;
  const long issues = std::strtol(count, &end, 10);
  return end != count && std::string{end}.rfind(" issues", 0) == 0 ? issues : 1;
}

// How many of `messages` mention `text`.
std::size_t mentioning(const std::vector<fake_slack::message>& messages, const std::string& text) {
  return static_cast<std::size_t>(std::count_if(
      messages.begin(), messages.end(),
      [&](const fake_slack::message& each) { return each.body.find(text) != std::string::npos; }));
}

// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for `at`.
std::string http_date(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return text;
}

// "Flood0042": fixed width, so no name is a prefix of another.
std::string numbered(const std::string& stem, int n) {
  char text[32];
  std::snprintf(text, sizeof text, "%s%04d", stem.c_str(), n);
  return text;
}

}  // namespace

TEST_CASE("10,000 events of one issue are one ticket, one Slack message and one page") {
  // At full scale under ASan+UBSan and ThreadSanitizer too: ingest takes a few seconds.
  constexpr int kEvents = 10000;
  constexpr int kSenders = 4;
  scenario world;
  auto& tracker = world.tracker;
  auto& slack = world.slack;
  auto& pagerduty = world.pagerduty;
  auto sink = world.start(world.setup());
  REQUIRE(sink.port() > 0);

  // An envelope carries at most one event: one request each, from several connections.
  std::atomic<int> accepted{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      auto client = sender_for(sink);
      for (int i = s; i < kEvents; i += kSenders) {
        if (send_event(client, i + 1, "Avalanche")) ++accepted;
      }
    });
  }
  for (auto& sender : senders) sender.join();
  REQUIRE(accepted == kEvents);

  auto client = client_for(sink);
  CHECK(
      eventually([&] { return get_json(client, "/api/0/issues/1")["issue"]["count"] == kEvents; }));
  REQUIRE(tracker.wait_for_issues(1, 30s));
  REQUIRE(slack.wait_for_messages(1, 30s));
  REQUIRE(pagerduty.wait_for_events(1, 30s));
  REQUIRE(eventually([&] { return outstanding(client) == 0; }));
  // The rule fired once, so the outbox holds three intents, all made.
  CHECK(has_metric(client, R"(warden_sink_alert_fires_total{rule="prod"})", 1));
  const auto log = deliveries(client, "");
  CHECK(log["deliveries"].Size() == 3);
  for (const auto& row : log["deliveries"].GetArray()) CHECK(row["state"] == "delivered");
  CHECK(tracker.creates() == 1);
  CHECK(slack.messages().size() == 1);
  CHECK(pagerduty.events().size() == 1);
  CHECK(pagerduty.alerts().size() == 1);
  const auto issue = get_json(client, "/api/0/issues/1");
  CHECK(issue["issue"]["count"] == kEvents);
  CHECK(issue["ticket"]["key"] == tracker.issues().front().id_readable.c_str());
  CHECK(get_json(client, "/api/0/issues?limit=10")["issues"].Size() == 1);
}

TEST_CASE("500 new issues of one team in a minute: the hourly cap, one digest, Slack in its rate") {
  constexpr int kIssues = 500;
  constexpr int kCap = 20;
  fake_slack_options strict;
  strict.strict = true;
  scenario world{strict};
  auto& tracker = world.tracker;
  auto& slack = world.slack;
  auto& pagerduty = world.pagerduty;
  sink_setup setup = world.setup();
  setup.escalation =
      "  tickets_per_team_per_hour: " + std::to_string(kCap) + "\n  digest_update_interval: 1s\n";
  // One group for the team, flushed every half second: more often than Slack's one
  // message a second, so the sink's own pacing has to keep the rate.
  setup.group_by = "[team]";
  setup.group_interval = "500ms";
  auto sink = world.start(setup);
  REQUIRE(sink.port() > 0);
  auto client = sender_for(sink);

  // Spread over about five seconds, so that the group flushes about ten times.
  const auto started = std::chrono::steady_clock::now();
  for (int i = 1; i <= kIssues; ++i) {
    REQUIRE(send_event(client, i, numbered("Flood", i), "error"));
    std::this_thread::sleep_until(started + i * 10ms);
  }
  CHECK(std::chrono::steady_clock::now() - started < 1min);

  // Held back, not dropped: every issue past the cap is visible as digested.
  REQUIRE(eventually([&] {
    return has_metric(client, R"(warden_sink_tickets{tracker="youtrack",state="digested"})",
                      kIssues - kCap);
  }));
  REQUIRE(eventually([&] {
    return has_metric(client, R"(warden_sink_tickets{tracker="youtrack",state="created"})", kCap);
  }));
  // The cap's tickets plus one digest; the digest lists (in its text or its latest
  // comment) every issue it took.
  REQUIRE(tracker.wait_for_issues(kCap + 1, 30s));
  const auto digest_key = [&] {
    for (const auto& created : tracker.issues()) {
      if (created.summary.find("issues past the hourly ticket cap") != std::string::npos) {
        return created.id_readable;
      }
    }
    return std::string{};
  }();
  REQUIRE_FALSE(digest_key.empty());
  const auto digest_text = [&] {
    const auto digest = tracker.find_issue(digest_key);
    return digest->description + (digest->comments.empty() ? "" : digest->comments.back());
  };
  CHECK(eventually([&] {
    const std::string text = digest_text();
    for (int i = kCap + 1; i <= kIssues; ++i) {
      if (text.find(numbered("Flood", i)) == std::string::npos) return false;
    }
    return true;
  }));
  REQUIRE(eventually([&] { return outstanding(client) == 0; }));
  CHECK(tracker.creates() == kCap + 1);
  std::set<std::string> ticketed;
  for (const auto& created : tracker.issues()) {
    if (created.id_readable != digest_key) ticketed.insert(created.summary);
  }
  for (int i = 1; i <= kCap; ++i) {
    CHECK(std::count_if(ticketed.begin(), ticketed.end(), [&](const std::string& summary) {
            return summary.find(numbered("Flood", i)) != std::string::npos;
          }) == 1);
  }
  CHECK(tracker.find_issue(digest_key)->comments.size() < 30);  // debounced, not one per issue
  const auto last = get_json(client, "/api/0/issues/" + std::to_string(kIssues));
  CHECK(last["ticket"]["state"] == "digested");
  CHECK(last["ticket"]["digest"]["key"] == digest_key.c_str());

  // Slack: every issue told once, in messages at least a second apart, never a 429.
  CHECK(eventually([&] {
    long told = 0;
    for (const auto& message : slack.messages()) told += issues_in(message);
    return told == kIssues;
  }));
  CHECK(slack.rate_limited() == 0);
  const auto arrivals = slack.arrival_times(fake_slack::path_of(kTeamChannel));
  REQUIRE(arrivals.size() >= 2);
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    CHECK(arrivals[i] - arrivals[i - 1] >= 950ms);
  }
  CHECK(pagerduty.events().empty());  // errors, not fatals: nobody is paged
}

TEST_CASE("a tracker that answers 503 for ten seconds gets every ticket once it is back") {
  // Its circuit opens after 3 failures in a row: a probe every 2 s, not a retry per row.
  constexpr int kIssues = 5;
  constexpr auto kOutage = 10s;
  scenario world;
  auto& tracker = world.tracker;
  auto& slack = world.slack;
  auto& pagerduty = world.pagerduty;
  sink_setup setup = world.setup();
  setup.delivery =
      "{timeout: 2s, connect_timeout: 1s, backoff: {initial: 100ms, max: 1500ms}, "
      "circuit: {failures: 3, probe_after: 2s}}";
  recording_server::reply unavailable;
  unavailable.status = 503;
  unavailable.body = R"({"error":"unavailable","error_description":"down for maintenance"})";
  tracker.server().begin_outage(unavailable);
  const auto outage_began = std::chrono::steady_clock::now();
  auto sink = world.start(setup);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  for (int i = 1; i <= kIssues; ++i) REQUIRE(send_event(client, i, numbered("Outage", i)));

  // Meanwhile Slack and PagerDuty are told; the creates wait and retry.
  CHECK(slack.wait_for_messages(kIssues, 30s));
  CHECK(pagerduty.wait_for_events(kIssues, 30s));
  REQUIRE(eventually([&] {
    return deliveries(client, "status=retrying&kind=ticket.create")["deliveries"].Size() == kIssues;
  }));
  std::this_thread::sleep_until(outage_began + kOutage);
  CHECK(tracker.creates() == 0);
  tracker.server().end_outage();

  REQUIRE(tracker.wait_for_issues(kIssues, 30s));
  REQUIRE(eventually([&] { return outstanding(client) == 0; }));
  CHECK(sink.running());  // no restart was needed
  CHECK(tracker.creates() == kIssues);
  std::set<std::string> keys;
  for (const auto& created : tracker.issues()) keys.insert(created.incident_key);
  CHECK(keys.size() == kIssues);
  CHECK(slack.messages().size() == kIssues);
  CHECK(pagerduty.alerts().size() == kIssues);

  // The log shows each create's failed attempts before the one that made it.
  const auto creates = deliveries(client, "kind=ticket.create");
  REQUIRE(creates["deliveries"].Size() == kIssues);
  std::int64_t attempts_made = 0;
  for (const auto& row : creates["deliveries"].GetArray())
    attempts_made += row["attempts"].GetInt64();
  // Without the circuit each row retries every 1.5 s at most: some 40 attempts in 10 s.
  CHECK(attempts_made <= 25);  // opening it, those in flight, a probe each 2 s, success
  for (const auto& row : creates["deliveries"].GetArray()) {
    CHECK(row["state"] == "delivered");
    CHECK(row["attempts"].GetInt64() >= 2);
    const auto detail =
        get_json(client, "/api/0/deliveries/" + std::to_string(row["id"].GetInt64()));
    const auto& attempts = detail["attempts"];
    REQUIRE(attempts.Size() >= 2);
    CHECK(attempts[0]["status"] == 503);
    CHECK(attempts[0]["outcome"] == "retry");
    CHECK(attempts[attempts.Size() - 1]["status"] == 200);
  }
}

TEST_CASE("kill -9 while Slack and PagerDuty hold their answers: after a restart all arrive") {
  constexpr int kIssues = 3;
  scenario world;
  auto& slack = world.slack;
  auto& pagerduty = world.pagerduty;
  // No tickets: their crash safety is escalation_process_test's.
  sink_setup setup = world.setup(false);
  // Long enough that nothing times out before the kill.
  setup.delivery = "{timeout: 30s, connect_timeout: 1s, backoff: {initial: 50ms, max: 200ms}}";
  slack.server().hold_answers();
  pagerduty.server().hold_answers();
  {
    auto sink = world.start(setup);
    REQUIRE(sink.port() > 0);
    auto client = client_for(sink);
    for (int i = 1; i <= kIssues; ++i) REQUIRE(send_event(client, i, numbered("Killed", i)));
    // A webhook takes one message at a time: one is in flight, the others wait their
    // turn. Each issue's trigger is in flight at once.
    REQUIRE(slack.server().wait_for_requests(1, 30s));
    REQUIRE(pagerduty.server().wait_for_requests(kIssues, 30s));
    sink.kill(SIGKILL);
  }
  // Slack and PagerDuty acted on what reached them; the sink never heard back.
  slack.server().release_answers();
  pagerduty.server().release_answers();
  const auto before = slack.messages();
  REQUIRE(before.size() == 1);
  REQUIRE(pagerduty.events().size() == kIssues);

  auto sink = world.start(setup);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  REQUIRE(eventually([&] {
    const auto messages = slack.messages();
    for (int i = 1; i <= kIssues; ++i) {
      if (mentioning(messages, numbered("Killed", i)) == 0) return false;
    }
    return true;
  }));
  REQUIRE(eventually([&] { return outstanding(client) == 0; }));

  // Slack is at least once: the message in flight may come twice, the rest exactly once.
  const auto messages = slack.messages();
  for (int i = 1; i <= kIssues; ++i) {
    const std::string name = numbered("Killed", i);
    const bool was_in_flight = before[0].body.find(name) != std::string::npos;
    CAPTURE(name);
    if (was_in_flight) {
      CHECK(mentioning(messages, name) >= 1);
      CHECK(mentioning(messages, name) <= 2);
    } else {
      CHECK(mentioning(messages, name) == 1);
    }
  }
  // PagerDuty: a trigger in flight may be repeated, always with its issue's dedup key,
  // so there is one alert per issue.
  std::map<std::string, std::set<std::string>> keys_of_issue;
  for (const auto& event : pagerduty.events()) {
    CHECK(event.event_action == "trigger");
    for (int i = 1; i <= kIssues; ++i) {
      if (event.summary.find(numbered("Killed", i)) != std::string::npos) {
        keys_of_issue[numbered("Killed", i)].insert(event.dedup_key);
      }
    }
  }
  CHECK(keys_of_issue.size() == kIssues);
  for (const auto& issue_keys : keys_of_issue) {
    CAPTURE(issue_keys.first);
    CHECK(issue_keys.second.size() == 1);
  }
  CHECK(pagerduty.alerts().size() == kIssues);
  CHECK(pagerduty.open_alerts().size() == kIssues);
  CHECK(pagerduty.events().size() <= 2 * kIssues);

  // The log: each delivery made once, those in flight at the kill marked uncertain,
  // with the interrupted attempt kept.
  const auto log = deliveries(client, "");
  std::size_t uncertain = 0;
  for (const auto& row : log["deliveries"].GetArray()) {
    CHECK(row["state"] == "delivered");
    if (!row["uncertain"].GetBool()) continue;
    ++uncertain;
    const auto detail =
        get_json(client, "/api/0/deliveries/" + std::to_string(row["id"].GetInt64()));
    CHECK(detail["attempts"][0]["outcome"] == "interrupted");
  }
  CHECK(uncertain == 1 + kIssues);  // the Slack message and every trigger
  CHECK(deliveries(client, "kind=slack.message")["deliveries"].Size() == kIssues);
  CHECK(deliveries(client, "kind=pagerduty.trigger")["deliveries"].Size() == kIssues);
}

TEST_CASE("a PagerDuty 429 whose Retry-After is an HTTP date holds the next attempt until then") {
  scenario world;
  auto& slack = world.slack;
  auto& pagerduty = world.pagerduty;
  const sink_setup setup = world.setup(false);
  auto sink = world.start(setup);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  // A date five to six seconds ahead, in whole seconds as HTTP dates are; were it not
  // honoured, the retry would come within the 200 ms backoff.
  const auto now = std::chrono::system_clock::now();
  const auto steady_now = std::chrono::steady_clock::now();
  const auto date = std::chrono::time_point_cast<std::chrono::seconds>(now) + 6s;
  const auto date_steady = steady_now + (date - now);
  pagerduty.fail_next(1, 429, {{"Retry-After", http_date(date)}});
  REQUIRE(send_event(client, 1, "Throttled"));

  REQUIRE(pagerduty.wait_for_events(1, 30s));
  const auto requests = pagerduty.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].arrived < date_steady - 1s);
  // The clocks are read in whole milliseconds: a little slack below the date.
  CHECK(requests[1].arrived >= date_steady - 100ms);
  CHECK(requests[1].arrived < date_steady + 10s);
  // Slack, another target, was not held meanwhile.
  REQUIRE(slack.wait_for_messages(1, 30s));
  CHECK(slack.messages().front().arrived < date_steady);

  REQUIRE(eventually([&] { return outstanding(client) == 0; }));
  const auto triggers = deliveries(client, "kind=pagerduty.trigger");
  REQUIRE(triggers["deliveries"].Size() == 1);
  const auto& row = triggers["deliveries"][0];
  CHECK(row["state"] == "delivered");
  CHECK(row["attempts"].GetInt64() == 2);
  const auto detail = get_json(client, "/api/0/deliveries/" + std::to_string(row["id"].GetInt64()));
  CHECK(detail["attempts"][0]["status"] == 429);
  CHECK(std::string{detail["attempts"][0]["response_headers"].GetString()}.find("GMT") !=
        std::string::npos);
}

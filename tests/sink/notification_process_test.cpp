// Notifications end to end (issue #5): the real warden-sink with a routing tree, fake
// Slack webhooks and a fake PagerDuty on 127.0.0.1 (tests/support). A production fatal
// reaches the owning team's channel and pages once, however many events follow;
// resolving the issue resolves the page with the same dedup key, and so does resolving
// its ticket in YouTrack (the workflow's webhook); Slack's one message a second per
// webhook is kept without a single 429.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../support/fake_pagerduty.hpp"
#include "../support/fake_slack.hpp"
#include "../support/fake_youtrack.hpp"
#include "sink_client.hpp"

namespace {

using warden::testing::client_for;
using warden::testing::event_id;
using warden::testing::fake_pagerduty;
using warden::testing::fake_slack;
using warden::testing::fake_slack_options;
using warden::testing::fake_youtrack;
using warden::testing::json_of;
using warden::testing::sink_process;
using warden::testing::temp_directory;

constexpr const char* kToken = "perm:notification-test-4e1b";
constexpr const char* kRoutingKey = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY42";
constexpr const char* kHookSecret = "hook-secret-for-the-workflow-7c1d";
constexpr const char* kEnvelopePath = "/api/7/envelope/?sentry_key=pubkey&sentry_version=7";

// Everything escalates and notifies: payments' issues go to its channel, others to the
// general one, production fatals page as well.
std::string sink_config(const fake_youtrack& tracker, const fake_pagerduty& pagerduty) {
  return R"(
projects:
  - id: 7
    keys: [{public_key: pubkey}]
storage: {durable: false}
trackers:
  - {name: youtrack, type: youtrack, url: )" +
         tracker.base_url() + R"(, token: {env: WARDEN_TEST_YOUTRACK_TOKEN},
     inbound_secret: {env: WARDEN_TEST_HOOK_SECRET}}
escalation:
  owners: [{match: {}, tracker: youtrack, project: OPS}]
alert_rules:
  - id: prod
    conditions: [first_seen, regressed]
    conditions_match: any
    filters: {environment: production}
    actions: [ticket, notify]
route:
  receiver: general-slack
  group_by: [issue]
  group_wait: 0s
  group_interval: 1s
  routes:
    - {matchers: ['severity="critical"', 'environment="production"'], receiver: pagerduty-main,
       continue: true}
    - {matchers: ['team="payments"'], receiver: payments-slack}
receivers:
  - {name: payments-slack, slack: {webhook_url: {env: WARDEN_TEST_SLACK_PAYMENTS}}}
  - {name: general-slack, slack: {webhook_url: {env: WARDEN_TEST_SLACK_GENERAL}}}
  - name: pagerduty-main
    pagerduty: {routing_key: {env: WARDEN_TEST_PD_KEY}, url: )" +
         pagerduty.enqueue_url() + R"(, send_resolved: true}
delivery: {timeout: 1s, connect_timeout: 1s, backoff: {initial: 50ms, max: 200ms}}
)";
}

sink_process start_sink(const temp_directory& directory, const std::string& config,
                        const fake_slack& slack) {
  ::setenv("WARDEN_TEST_YOUTRACK_TOKEN", kToken, 1);
  ::setenv("WARDEN_TEST_SLACK_PAYMENTS", slack.webhook_url("T0/B0/payments").c_str(), 1);
  ::setenv("WARDEN_TEST_SLACK_GENERAL", slack.webhook_url("T0/B0/general").c_str(), 1);
  ::setenv("WARDEN_TEST_PD_KEY", kRoutingKey, 1);
  ::setenv("WARDEN_TEST_HOOK_SECRET", kHookSecret, 1);
  return sink_process{WARDEN_SINK_BINARY,
                      {"--config=" + directory.write("sink.yaml", config),
                       "--database=" + directory.file("sink.db")}};
}

std::string error_envelope(const std::string& id, const std::string& type, const std::string& team,
                           const std::string& level) {
  return R"({"event_id":")" + id + "\"}\n{\"type\":\"event\"}\n" + R"({"level":")" + level +
         R"(","environment":"production","tags":{"team":")" + team +
         R"(","function":"backend","product":"checkout"},"exception":{"values":[{"type":")" + type +
         R"(","value":"boom"}]}})" + "\n";
}

// A sink that escalates to a fake YouTrack (project OPS) and notifies a fake Slack and a
// fake PagerDuty, configured by sink_config() and `extra`: the tests' fixture.
struct notifying_sink {
  explicit notifying_sink(bool strict_slack = false, const std::string& extra = "")
      : slack{slack_options(strict_slack)},
        sink{start_sink(directory, sink_config(tracker, pagerduty) + extra, slack)},
        client{client_for(sink)} {
    tracker.add_project("OPS");
    REQUIRE(sink.port() > 0);
  }
  static fake_slack_options slack_options(bool strict) {
    fake_slack_options options;
    options.strict = strict;
    return options;
  }

  fake_youtrack tracker{{kToken}};
  fake_slack slack;
  fake_pagerduty pagerduty;
  temp_directory directory;
  sink_process sink;
  httplib::Client client;
};

// The same with a Slack that answers 429 to a second message within a second.
struct strict_slack_sink : notifying_sink {
  strict_slack_sink() : notifying_sink{true} {}
};

// The same, where more than 5 messages waiting for a webhook go as one summary.
struct coalescing_sink : notifying_sink {
  coalescing_sink()
      : notifying_sink{true,
                       "flood: {slack_per_webhook: {rate: 1/s, burst: 1, coalesce_above: 5}}\n"} {}
};

}  // namespace

TEST_CASE_FIXTURE(
    notifying_sink,
    "a production fatal reaches its team's channel and pages once, however many events") {
  for (int i = 1; i <= 300; ++i) {
    REQUIRE(
        client.Post(kEnvelopePath, error_envelope(event_id(i), "Fatal", "payments", "fatal"), "")
            ->status == 200);
  }
  REQUIRE(pagerduty.wait_for_events(1, std::chrono::seconds{10}));
  REQUIRE(slack.wait_for_messages(1, std::chrono::seconds{10}));
  std::this_thread::sleep_for(std::chrono::milliseconds{1500});  // past group_interval
  CHECK(tracker.creates() == 1);
  const auto messages = slack.messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].path == fake_slack::path_of("T0/B0/payments"));
  CHECK(messages[0].text.find("Fatal") != std::string::npos);
  const auto events = pagerduty.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].event_action == "trigger");
  CHECK(events[0].severity == "critical");
  CHECK(events[0].dedup_key.rfind("warden:payments:wd:7:", 0) == 0);

  // An error (not fatal) of another team goes to the general channel and does not page.
  REQUIRE(
      client.Post(kEnvelopePath, error_envelope(event_id(1000), "Minor", "search", "error"), "")
          ->status == 200);
  REQUIRE(slack.wait_for_messages(2, std::chrono::seconds{10}));
  CHECK(slack.messages().back().path == fake_slack::path_of("T0/B0/general"));
  CHECK(pagerduty.events().size() == 1);

  // Resolving the fatal resolves the page, with the same dedup key.
  REQUIRE(
      client.Put("/api/0/issues/1", R"({"status":"resolved","actor":"ann"})", "application/json")
          ->status == 200);
  REQUIRE(pagerduty.wait_for_events(2, std::chrono::seconds{10}));
  const auto resolved = pagerduty.events().back();
  CHECK(resolved.event_action == "resolve");
  CHECK(resolved.dedup_key == events[0].dedup_key);
  CHECK(pagerduty.open_alerts().empty());

  // The log shows each delivery; no secret appears in it.
  const auto log = client.Get("/api/0/deliveries?limit=50");
  REQUIRE(log);
  CHECK(log->body.find(kRoutingKey) == std::string::npos);
  CHECK(log->body.find("T0/B0/payments") == std::string::npos);
  const auto detail = json_of(log->body);
  CHECK(detail["deliveries"].Size() >= 5);  // create, 2 messages, trigger, resolve, resolve
}

TEST_CASE_FIXTURE(notifying_sink,
                  "a ticket resolved in YouTrack resolves its issue and the page, no echo") {
  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "Fatal", "payments", "fatal"), "")
              ->status == 200);
  REQUIRE(tracker.wait_for_issues(1, std::chrono::seconds{10}));
  REQUIRE(pagerduty.wait_for_events(1, std::chrono::seconds{10}));
  const std::string ticket = tracker.issues().front().id_readable;
  const std::string hook = "/api/0/hooks/youtrack/youtrack";
  const auto report = [&](bool resolved) {
    return std::string{R"({"idReadable":")"} + ticket + R"(","resolved":)" +
           (resolved ? "true" : "false") + R"(,"state":"Fixed","updatedBy":"jdoe"})";
  };
  const auto status_of = [this] {
    return std::string{json_of(client.Get("/api/0/issues/1")->body)["issue"]["status"].GetString()};
  };
  const auto outcome_of = [](const httplib::Result& answer) {
    return std::string{json_of(answer->body)["outcome"].GetString()};
  };
  const httplib::Headers bearer{{"Authorization", std::string{"Bearer "} + kHookSecret}};

  // Without the secret, or with a wrong one: 401, and nothing changes.
  CHECK(client.Post(hook, report(true), "application/json")->status == 401);
  CHECK(client.Post(hook, {{"Authorization", "Bearer wrong"}}, report(true), "application/json")
            ->status == 401);
  CHECK(client.Post("/api/0/hooks/youtrack/other", bearer, report(true), "application/json")
            ->status == 404);
  CHECK(client.Post(hook, bearer, "{not json", "application/json")->status == 400);
  CHECK(status_of() == "unresolved");

  const auto resolved = client.Post(hook, bearer, report(true), "application/json");
  REQUIRE(resolved);
  CHECK(resolved->status == 200);
  CHECK(outcome_of(resolved) == "resolved");
  CHECK(status_of() == "resolved");
  REQUIRE(pagerduty.wait_for_events(2, std::chrono::seconds{10}));
  CHECK(pagerduty.events().back().event_action == "resolve");
  CHECK(pagerduty.open_alerts().empty());
  // The report again (a retry, or the echo of a command): nothing more to do.
  const auto again = client.Post(hook, bearer, report(true), "application/json");
  CHECK(outcome_of(again) == "unchanged");

  // Reopened in YouTrack: the issue reopens; a regression later comments, not reopens.
  const auto reopened = client.Post(hook, bearer, report(false), "application/json");
  CHECK(outcome_of(reopened) == "reopened");
  CHECK(status_of() == "unresolved");

  // No command went back to YouTrack: the ticket changed there first.
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  CHECK(tracker.commands().empty());
  CHECK(tracker.creates() == 1);

  // The log has every request, the rejected ones without their body, and no secret.
  const auto log = client.Get("/api/0/hooks/deliveries?tracker=youtrack");
  REQUIRE(log);
  CHECK(log->body.find(kHookSecret) == std::string::npos);
  const auto listed = json_of(log->body);
  REQUIRE(listed["deliveries"].Size() == 6);  // 404s are not logged
  const auto& newest = listed["deliveries"][0];
  CHECK(newest["outcome"].GetString() == std::string{"reopened"});
  CHECK(newest["ticket"].GetString() == ticket);
  CHECK(newest["issue"].GetInt64() == 1);
  const auto& first = listed["deliveries"][5];
  CHECK(first["outcome"].GetString() == std::string{"rejected"});
  CHECK(first["status"].GetInt() == 401);
  CHECK(std::string{first["body"].GetString()}.empty());
  CHECK(listed["deliveries"][4]["status"].GetInt() == 401);
  CHECK(listed["deliveries"][3]["outcome"].GetString() == std::string{"malformed"});
}

TEST_CASE_FIXTURE(strict_slack_sink,
                  "Slack's one message a second per webhook is kept: no 429, nothing lost") {
  for (int i = 1; i <= 4; ++i) {
    REQUIRE(
        client
            .Post(kEnvelopePath,
                  error_envelope(event_id(i), "Distinct" + std::to_string(i), "payments", "error"),
                  "")
            ->status == 200);
  }
  REQUIRE(slack.wait_for_messages(4, std::chrono::seconds{15}));
  CHECK(slack.rate_limited() == 0);
  const auto arrivals = slack.arrival_times(fake_slack::path_of("T0/B0/payments"));
  REQUIRE(arrivals.size() == 4);
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    CHECK(arrivals[i] - arrivals[i - 1] >= std::chrono::milliseconds{950});
  }
}

TEST_CASE_FIXTURE(
    coalescing_sink,
    "a flood for one Slack webhook goes as a summary, within its rate, nothing lost") {
  constexpr int kIssues = 30;
  for (int i = 1; i <= kIssues; ++i) {
    REQUIRE(client
                .Post(kEnvelopePath,
                      error_envelope(event_id(i), "Flood" + std::to_string(i), "payments", "error"),
                      "")
                ->status == 200);
  }
  // Every issue is told, in far fewer messages than issues, and Slack never said 429.
  const auto told = [&] {
    std::string all;
    for (const auto& message : slack.messages()) all += message.body;
    for (int i = 1; i <= kIssues; ++i) {
      if (all.find("Flood" + std::to_string(i) + "\"") == std::string::npos &&
          all.find("Flood" + std::to_string(i) + ":") == std::string::npos &&
          all.find("Flood" + std::to_string(i) + " ") == std::string::npos) {
        return false;
      }
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (!told() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  CHECK(told());
  CHECK(slack.rate_limited() == 0);
  const auto messages = slack.messages();
  CHECK(messages.size() < kIssues / 2);
  CHECK(std::any_of(messages.begin(), messages.end(), [](const auto& message) {
    return message.text.find("held back") != std::string::npos;
  }));
  // The merged deliveries are superseded by the summary's, visibly.
  const auto log = json_of(client.Get("/api/0/deliveries?status=superseded&limit=100")->body);
  CHECK(log["deliveries"].Size() > 0);
  CHECK(std::string{log["deliveries"][0]["last_error"].GetString()}.find("summary") !=
        std::string::npos);
}

TEST_CASE_FIXTURE(notifying_sink,
                  "a message waits for its issue's ticket being created, to link to it") {
  tracker.hang_next_create(std::chrono::milliseconds{800});  // slower than group_wait: 0s
  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "Slow", "payments", "error"), "")
              ->status == 200);
  REQUIRE(slack.wait_for_messages(1, std::chrono::seconds{15}));
  REQUIRE(tracker.issues().size() == 1);
  const std::string key = tracker.issues().front().id_readable;
  const auto messages = slack.messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].body.find(key) != std::string::npos);
}

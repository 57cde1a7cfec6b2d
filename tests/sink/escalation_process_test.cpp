// Escalation end to end (issue #5): the real warden-sink process with alert rules and a
// fake YouTrack on 127.0.0.1 (tests/support/fake_youtrack.hpp). An issue that matters
// becomes exactly one ticket — across concurrent events, retries, lost answers and
// kill -9 — regressions and resolutions follow on that ticket, 4xx answers are not
// retried but can be replayed, and the tracker's token never shows.
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "../support/fake_youtrack.hpp"
#include "sink_client.hpp"

namespace {

using warden::testing::client_for;
using warden::testing::event_id;
using warden::testing::eventually;
using warden::testing::fake_youtrack;
using warden::testing::fake_youtrack_options;
using warden::testing::get_json;
using warden::testing::json_of;
using warden::testing::read_file;
using warden::testing::run_command;
using warden::testing::sink_process;
using warden::testing::temp_directory;

constexpr const char* kToken = "perm:escalation-test-6f1d2c9a";
constexpr const char* kEnvelopePath = "/api/7/envelope/?sentry_key=pubkey&sentry_version=7";

// The sink's config: project 7, every owner escalates to YouTrack project OPS, errors
// and fatals in production open a ticket on first seen, regression or unmute. Short
// timers so that retries happen within the test.
std::string sink_config(const std::string& tracker_url, const std::string& extra = "") {
  return R"(
projects:
  - id: 7
    name: shop
    keys: [{public_key: pubkey}]
storage: {durable: false}
trackers:
  - name: youtrack
    type: youtrack
    url: )" +
         tracker_url +
         R"(
    token: {env: WARDEN_TEST_YOUTRACK_TOKEN}
    incident_key_field: Incident key
    fields:
      - {name: Priority, type: enum, value: "{priority}"}
      - {name: Team, type: enum, value: "{team}"}
escalation:
  owners:
    - {match: {}, tracker: youtrack, project: OPS}
alert_rules:
  - id: prod-errors
    conditions: [first_seen, regressed, unmuted]
    conditions_match: any
    filters: {environment: production, level: {at_least: error}}
    actions: [ticket]
delivery: {timeout: 1s, connect_timeout: 1s, backoff: {initial: 50ms, max: 200ms}}
)" + extra;
}

sink_process start_sink(const temp_directory& directory, const std::string& config) {
  ::setenv("WARDEN_TEST_YOUTRACK_TOKEN", kToken, 1);
  return sink_process{WARDEN_SINK_BINARY,
                      {"--config=" + directory.write("sink.yaml", config),
                       "--database=" + directory.file("sink.db")}};
}

// An envelope with one exception event of `type` (the group), owned by team payments.
std::string error_envelope(const std::string& id, const std::string& type,
                           const std::string& environment = "production",
                           const std::string& level = "error") {
  return R"({"event_id":")" + id + "\"}\n{\"type\":\"event\"}\n" + R"({"level":")" + level +
         R"(","environment":")" + environment +
         R"(","release":"shop@1.4.2","tags":{"team":"payments","function":"backend","product":"checkout"},)" +
         R"("exception":{"values":[{"type":")" + type +
         R"(","value":"card declined","stacktrace":{"frames":[{"function":"charge","module":"payments.card","in_app":true}]}}]}})" +
         "\n";
}

// The ticket state the issue detail shows ("" without a ticket).
std::string ticket_state(httplib::Client& client, int issue) {
  const auto detail = get_json(client, "/api/0/issues/" + std::to_string(issue));
  return detail["ticket"].IsObject() ? detail["ticket"]["state"].GetString() : "";
}

// The deliveries the log lists, newest first.
rapidjson::Document deliveries(httplib::Client& client, const std::string& query = "") {
  return get_json(client, "/api/0/deliveries" + query);
}

std::size_t count_requests(const fake_youtrack& tracker, const std::string& method,
                           const std::string& path_prefix) {
  std::size_t count = 0;
  for (const auto& request : tracker.requests()) {
    if (request.method == method && request.path.rfind(path_prefix, 0) == 0) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("a production error opens exactly one YouTrack ticket, linked from the issue") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS", "Operations");
  temp_directory directory;
  auto sink = start_sink(directory, sink_config(tracker.base_url()));
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);

  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "CardError"), "")->status == 200);
  REQUIRE(tracker.wait_for_issues(1, std::chrono::seconds{10}));
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "created"; }));

  const auto created = tracker.issues().front();
  CHECK(created.project == "OPS");
  CHECK(created.summary == "[payments][backend][checkout] CardError: card declined");
  CHECK(created.incident_key.rfind("wd:7:", 0) == 0);
  CHECK(created.custom_fields.find(R"("name":"Team")") != std::string::npos);
  CHECK(created.description.find("payments.card") != std::string::npos);

  const auto detail = get_json(client, "/api/0/issues/1");
  CHECK(detail["ticket"]["key"] == created.id_readable.c_str());
  CHECK(detail["ticket"]["url"].GetString() ==
        tracker.base_url() + "/issue/" + created.id_readable);
  CHECK(detail["ticket"]["incident_key"] == created.incident_key.c_str());
  CHECK(detail["deliveries"]["pending"].GetInt64() == 0);
  bool alerted = false;
  for (const auto& change : detail["activity"].GetArray()) {
    alerted |= change["action"] == "alert" && change["detail"] == "prod-errors first_seen";
  }
  CHECK(alerted);

  // More events of the issue, a staging error and a warning: no further ticket.
  for (int i = 2; i <= 50; ++i) {
    REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(i), "CardError"), "")->status ==
            200);
  }
  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(51), "StagingOnly", "staging"), "")
              ->status == 200);
  REQUIRE(client
              .Post(kEnvelopePath,
                    error_envelope(event_id(52), "JustAWarning", "production", "warning"), "")
              ->status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  CHECK(tracker.creates() == 1);

  // The delivery log: one create, delivered, with its exchanges and no token anywhere.
  const auto listed = deliveries(client);
  REQUIRE(listed["deliveries"].Size() == 1);
  const auto& row = listed["deliveries"][0];
  CHECK(row["kind"] == "ticket.create");
  CHECK(row["target"] == "youtrack");
  CHECK(row["state"] == "delivered");
  CHECK(row["attempts"].GetInt64() == 1);
  const auto shown = client.Get("/api/0/deliveries/" + std::to_string(row["id"].GetInt64()));
  REQUIRE(shown);
  REQUIRE(shown->status == 200);
  CHECK(shown->body.find(kToken) == std::string::npos);
  const auto detail_of_row = json_of(shown->body);
  REQUIRE(detail_of_row["attempts"].Size() == 2);  // the project lookup, then the create
  CHECK(detail_of_row["attempts"][0]["step"] == "lookup_project");
  CHECK(detail_of_row["attempts"][1]["step"] == "send");
  CHECK(detail_of_row["attempts"][1]["status"].GetInt64() == 200);
  CHECK(std::string{detail_of_row["attempts"][1]["request"].GetString()}.find(
            "Authorization: Bearer ***") != std::string::npos);
  const auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(
      metrics->body.find(
          R"(warden_sink_deliveries{target="youtrack",kind="ticket.create",state="delivered"} 1)") !=
      std::string::npos);
  CHECK(metrics->body.find(R"(warden_sink_tickets{tracker="youtrack",state="created"} 1)") !=
        std::string::npos);
  CHECK(metrics->body.find(R"(warden_sink_alert_fires_total{rule="prod-errors"} 1)") !=
        std::string::npos);
  CHECK(metrics->body.find(kToken) == std::string::npos);
  CHECK(sink.kill(SIGTERM) == 0);
  CHECK(read_file(directory.file("sink.db")).find(kToken) == std::string::npos);
  CHECK(read_file(directory.file("sink.db-wal")).find(kToken) == std::string::npos);
}

TEST_CASE("concurrent events of one new issue open one ticket") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  temp_directory directory;
  auto sink = start_sink(directory, sink_config(tracker.base_url()));
  REQUIRE(sink.port() > 0);
  std::atomic<int> accepted{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t) {
    senders.emplace_back([&, t] {
      auto client = client_for(sink);
      for (int i = 0; i < 25; ++i) {
        const auto answer = client.Post(
            kEnvelopePath, error_envelope(event_id(1000 * (t + 1) + i), "RaceError"), "");
        if (answer && answer->status == 200) ++accepted;
      }
    });
  }
  for (auto& sender : senders) sender.join();
  CHECK(accepted == 200);
  REQUIRE(tracker.wait_for_issues(1, std::chrono::seconds{10}));
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  CHECK(tracker.creates() == 1);
  CHECK(count_requests(tracker, "POST", "/api/issues") == 1);
}

TEST_CASE("5xx and 429 answers are retried until the ticket is created, once") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  tracker.fail_next(1, 500);
  tracker.fail_next(1, 503);
  tracker.fail_next(1, 429, {{"Retry-After", "1"}});
  temp_directory directory;
  auto sink = start_sink(directory, sink_config(tracker.base_url()));
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "FlakyError"), "")->status == 200);
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "created"; }));
  // Retry-After: 1 was honoured.
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::seconds{1});
  CHECK(tracker.creates() == 1);
  const auto listed = deliveries(client);
  const auto& row = listed["deliveries"][0];
  CHECK(row["state"] == "delivered");
  CHECK(row["attempts"].GetInt64() == 4);
}

TEST_CASE("a create whose answer was lost is found by its incident key, not created twice") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  tracker.hang_next_create(std::chrono::milliseconds{2500});  // beyond the 1 s timeout
  temp_directory directory;
  auto sink = start_sink(directory, sink_config(tracker.base_url()));
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "LostAnswer"), "")->status == 200);
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "created"; }));
  CHECK(tracker.creates() == 1);
  CHECK(count_requests(tracker, "POST", "/api/issues") == 1);
  CHECK(count_requests(tracker, "GET", "/api/issues") >= 1);  // the search
  const auto detail = get_json(client, "/api/0/issues/1");
  CHECK(detail["ticket"]["key"] == tracker.issues().front().id_readable.c_str());
  const auto listed = deliveries(client);
  const auto& row = listed["deliveries"][0];
  CHECK(row["uncertain"].GetBool());
}

TEST_CASE("kill -9 while the tracker holds the create: after a restart, still one ticket") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  tracker.hang_next_create(std::chrono::milliseconds{800});
  temp_directory directory;
  {
    auto sink = start_sink(directory, sink_config(tracker.base_url()));
    REQUIRE(sink.port() > 0);
    auto client = client_for(sink);
    REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "Crashy"), "")->status == 200);
    REQUIRE(tracker.wait_for_issues(1, std::chrono::seconds{10}));  // created, not answered
    sink.kill(SIGKILL);
  }
  auto sink = start_sink(directory, sink_config(tracker.base_url()));
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "created"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  CHECK(tracker.creates() == 1);
  CHECK(get_json(client, "/api/0/issues/1")["ticket"]["key"] ==
        tracker.issues().front().id_readable.c_str());
}

TEST_CASE("resolving the issue resolves the ticket, a regression reopens it") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  temp_directory directory;
  auto sink = start_sink(directory, sink_config(tracker.base_url()));
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "Regresses"), "")->status == 200);
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "created"; }));
  const std::string key = tracker.issues().front().id_readable;

  REQUIRE(
      client.Put("/api/0/issues/1", R"({"status":"resolved","actor":"ann"})", "application/json")
          ->status == 200);
  REQUIRE(eventually([&] { return tracker.commands().size() == 1; }));
  CHECK(tracker.commands()[0].query == "State Fixed");
  CHECK(tracker.find_issue(key)->state == "Fixed");

  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(2), "Regresses"), "")->status == 200);
  REQUIRE(eventually([&] { return tracker.commands().size() == 2; }));
  CHECK(tracker.commands()[1].query == "State Reopened");
  const auto reopened = tracker.find_issue(key);
  CHECK(reopened->state == "Reopened");
  REQUIRE(reopened->comments.size() == 2);
  CHECK(reopened->comments[0].find("ann") != std::string::npos);
  CHECK(reopened->comments[1].find("Regressed") != std::string::npos);
  CHECK(tracker.creates() == 1);
  CHECK(get_json(client, "/api/0/issues/1")["ticket"]["remote_state"] == "open");
}

TEST_CASE("a 4xx answer is not retried, is kept in the log, and can be replayed") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  temp_directory directory;
  auto sink = start_sink(directory, sink_config(tracker.base_url()));
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  tracker.fail_next(1, 400);  // the first request: the project lookup
  REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(1), "Rejected"), "")->status == 200);
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "failed"; }));
  auto listed = deliveries(client, "?status=failed");
  REQUIRE(listed["deliveries"].Size() == 1);
  const std::int64_t failed = listed["deliveries"][0]["id"].GetInt64();
  CHECK(listed["deliveries"][0]["attempts"].GetInt64() == 1);
  CHECK(listed["deliveries"][0]["last_status"].GetInt64() == 400);
  const auto detail = get_json(client, "/api/0/deliveries/" + std::to_string(failed));
  CHECK(std::string{detail["attempts"][0]["response_body"].GetString()}.find("error") !=
        std::string::npos);
  CHECK(tracker.creates() == 0);

  // Replaying a delivered or unknown row is refused; the failed one is queued again.
  CHECK(client.Post("/api/0/deliveries/999/replay", "{}", "application/json")->status == 404);
  const auto replayed = client.Post("/api/0/deliveries/" + std::to_string(failed) + "/replay",
                                    R"({"actor":"bob"})", "application/json");
  REQUIRE(replayed);
  CHECK(replayed->status == 202);
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "created"; }));
  CHECK(tracker.creates() == 1);
  const auto all = deliveries(client);
  REQUIRE(all["deliveries"].Size() == 2);
  CHECK(all["deliveries"][0]["replay_of"].GetInt64() == failed);
  CHECK(all["deliveries"][0]["actor"] == "bob");
  CHECK(client
            .Post("/api/0/deliveries/" + std::to_string(failed) + "/replay", "{}",
                  "application/json")
            ->status == 202);  // failed rows may be replayed again
}

TEST_CASE("deliveries queued while the tracker is down are made once it is back, after a restart") {
  int port = 0;
  {
    fake_youtrack probe;
    port = probe.port();
  }  // the tracker is down: nothing listens on its port
  fake_youtrack_options down;
  down.token = kToken;
  down.port = port;
  const std::string config = sink_config("http://127.0.0.1:" + std::to_string(port));
  temp_directory directory;
  {
    auto sink = start_sink(directory, config);
    REQUIRE(sink.port() > 0);
    auto client = client_for(sink);
    for (int i = 1; i <= 5; ++i) {
      REQUIRE(
          client.Post(kEnvelopePath, error_envelope(event_id(i), "Down" + std::to_string(i)), "")
              ->status == 200);
    }
    REQUIRE(eventually([&] {
      const auto retrying = deliveries(client, "?status=retrying");
      return retrying["deliveries"].Size() == 5;
    }));
    // What is held back is visible per target, with the reason.
    const auto targets = json_of(client.Get("/api/0/targets")->body);
    REQUIRE(targets["targets"].Size() == 1);
    const auto& youtrack = targets["targets"][0];
    CHECK(youtrack["name"] == "youtrack");
    CHECK(youtrack["kind"] == "tracker");
    CHECK(youtrack["type"] == "youtrack");
    CHECK(youtrack["waiting"].GetInt64() == 5);
    CHECK(youtrack["retrying"].GetInt64() == 5);
    CHECK(youtrack["failed"].GetInt64() == 0);
    CHECK(youtrack["oldest_waiting"].IsInt64());
    CHECK(std::string{youtrack["last_error"].GetString()}.find("connect") != std::string::npos);
    CHECK(sink.kill(SIGTERM) == 0);
  }
  fake_youtrack tracker{down};
  REQUIRE(tracker.port() == port);
  tracker.add_project("OPS");
  auto sink = start_sink(directory, config);
  REQUIRE(sink.port() > 0);
  REQUIRE(tracker.wait_for_issues(5, std::chrono::seconds{15}));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  CHECK(tracker.creates() == 5);
  auto client = client_for(sink);
  REQUIRE(eventually([&] {
    return json_of(client.Get("/api/0/targets")->body)["targets"][0]["waiting"].GetInt64() == 0;
  }));
}

TEST_CASE("the default rules: a production warning escalates after more than 10 in an hour") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  // No alert_rules: the article's defaults apply.
  std::string config = sink_config(tracker.base_url());
  config = config.substr(0, config.find("alert_rules:")) +
           "delivery: {timeout: 1s, backoff: {initial: 50ms, max: 200ms}}\n";
  temp_directory directory;
  auto sink = start_sink(directory, config);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  for (int i = 1; i <= 10; ++i) {
    REQUIRE(client
                .Post(kEnvelopePath,
                      error_envelope(event_id(i), "SlowQuery", "production", "warning"), "")
                ->status == 200);
  }
  // Staging warnings of the issue do not count towards production's.
  for (int i = 11; i <= 15; ++i) {
    REQUIRE(
        client
            .Post(kEnvelopePath, error_envelope(event_id(i), "SlowQuery", "staging", "warning"), "")
            ->status == 200);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{400});
  CHECK(tracker.creates() == 0);
  CHECK(ticket_state(client, 1).empty());
  REQUIRE(client
              .Post(kEnvelopePath,
                    error_envelope(event_id(16), "SlowQuery", "production", "warning"), "")
              ->status == 200);
  REQUIRE(eventually([&] { return ticket_state(client, 1) == "created"; }));
  CHECK(tracker.creates() == 1);
  // A production fatal of another issue escalates at once (prod-errors).
  REQUIRE(
      client.Post(kEnvelopePath, error_envelope(event_id(17), "Crash", "production", "fatal"), "")
          ->status == 200);
  REQUIRE(eventually([&] { return tracker.creates() == 2; }));
}

TEST_CASE("a bad alerting config is reported with its lines and the sink refuses to start") {
  temp_directory directory;
  ::setenv("WARDEN_TEST_YOUTRACK_TOKEN", kToken, 1);
  const std::string path = directory.write("bad.yaml", R"(trackers:
  - name: youtrack
    type: youtrack
    url: http://127.0.0.1:1
    token: {env: WARDEN_TEST_YOUTRACK_TOKEN}
    colour: blue
escalation:
  owners:
    - {match: {}, tracker: jira, project: OPS}
alert_rules:
  - id: prod
    conditions: [first_seen]
    filters: {team: {matches: "(unclosed"}}
    actions: [ticket]
)");
  const std::string binary = WARDEN_SINK_BINARY;
  const auto checked = run_command(binary + " --check-config --config=" + path);
  CHECK(checked.exit_code == 2);
  CHECK(checked.output.find(path + ":6:5: ") != std::string::npos);  // unknown field
  CHECK(checked.output.find(path + ":9:") != std::string::npos);     // unknown tracker
  CHECK(checked.output.find("unknown tracker 'jira'") != std::string::npos);
  CHECK(checked.output.find(path + ":13:") != std::string::npos);  // bad pattern
  CHECK(checked.output.find("RE2") != std::string::npos);
  CHECK(checked.output.find(kToken) == std::string::npos);
  const auto started =
      run_command(binary + " --config=" + path +
                  " --listen=127.0.0.1:0 --database=" + directory.file("never.db"));
  CHECK(started.exit_code == 2);
  CHECK(started.output.find("unknown tracker 'jira'") != std::string::npos);
}

TEST_CASE("past the hourly cap a team's new issues are listed in one digest ticket") {
  fake_youtrack tracker{{kToken}};
  tracker.add_project("OPS");
  std::string config = sink_config(tracker.base_url());
  const std::string owners = "escalation:\n  owners:";
  config.replace(config.find(owners), owners.size(),
                 "escalation:\n  tickets_per_team_per_hour: 3\n  digest_update_interval: 1s\n"
                 "  owners:");
  temp_directory directory;
  auto sink = start_sink(directory, config);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  for (int i = 1; i <= 8; ++i) {
    REQUIRE(
        client.Post(kEnvelopePath, error_envelope(event_id(i), "Flood" + std::to_string(i)), "")
            ->status == 200);
  }
  // Three tickets, then one digest listing the other five; its updates are debounced.
  REQUIRE(tracker.wait_for_issues(4, std::chrono::seconds{10}));
  REQUIRE(eventually([&] { return ticket_state(client, 8) == "digested"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds{2500});  // past the update interval
  const auto created = tracker.issues();
  REQUIRE(created.size() == 4);
  const auto digest_of = std::find_if(created.begin(), created.end(), [](const auto& issue) {
    return issue.summary.find("issues past the hourly ticket cap") != std::string::npos;
  });
  REQUIRE(digest_of != created.end());
  const auto digest = *tracker.find_issue(digest_of->id_readable);
  std::size_t listed = 0;
  for (int i = 4; i <= 8; ++i) {
    CHECK(ticket_state(client, i) == "digested");
    const bool in_text = digest.description.find("Flood" + std::to_string(i)) != std::string::npos;
    const bool in_comment =
        !digest.comments.empty() &&
        digest.comments.back().find("Flood" + std::to_string(i)) != std::string::npos;
    listed += in_text || in_comment ? 1 : 0;
  }
  CHECK(listed == 5);  // every held-back issue is visible in the digest
  CHECK(tracker.find_issue(digest.id_readable)->comments.size() <= 2);  // debounced
  const auto detail = get_json(client, "/api/0/issues/8");
  REQUIRE(detail["ticket"]["digest"].IsObject());
  CHECK(detail["ticket"]["digest"]["key"] == digest.id_readable.c_str());
  const auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find(R"(warden_sink_tickets{tracker="youtrack",state="digested"} 5)") !=
        std::string::npos);
}

TEST_CASE("a tracker that stays down opens its circuit: one probe at a time, then all is sent") {
  int port = 0;
  {
    fake_youtrack probe;
    port = probe.port();
  }  // nothing listens on the tracker's port
  std::string config = sink_config("http://127.0.0.1:" + std::to_string(port));
  const std::string backoff = "backoff: {initial: 50ms, max: 200ms}}";
  config.replace(config.find(backoff), backoff.size(),
                 "backoff: {initial: 50ms, max: 100ms}, circuit: {failures: 3, probe_after: 1s}}");
  temp_directory directory;
  auto sink = start_sink(directory, config);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  for (int i = 1; i <= 5; ++i) {
    REQUIRE(client.Post(kEnvelopePath, error_envelope(event_id(i), "Open" + std::to_string(i)), "")
                ->status == 200);
  }
  const auto attempts = [&] {
    std::int64_t sum = 0;
    const auto log = deliveries(client, "?limit=100");
    for (const auto& row : log["deliveries"].GetArray()) sum += row["attempts"].GetInt64();
    return sum;
  };
  REQUIRE(eventually([&] { return attempts() >= 3; }));
  // Without the circuit, 5 rows retried every 50-100 ms make dozens of attempts in 2.5 s;
  // with it, 3 failures open it and a probe goes every second.
  std::this_thread::sleep_for(std::chrono::milliseconds{2500});
  const std::int64_t made = attempts();
  CHECK(made <= 3 + 5 + 4);  // the 3, the rows in flight when it opened, a probe a second
  fake_youtrack_options back;
  back.token = kToken;
  back.port = port;
  fake_youtrack tracker{back};
  REQUIRE(tracker.port() == port);
  tracker.add_project("OPS");
  REQUIRE(tracker.wait_for_issues(5, std::chrono::seconds{15}));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  CHECK(tracker.creates() == 5);
}

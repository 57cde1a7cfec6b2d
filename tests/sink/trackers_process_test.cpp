// The trackers other than YouTrack, end to end (issue #5): the real warden-sink escalates
// to a fake GitHub, a fake Jira Cloud and a generic webhook on 127.0.0.1. Each gets one
// ticket per issue, follows the issue's resolution and regression, and GitHub's own
// webhook (signed, over the raw body) resolves the Warden issue when its ticket closes.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "../support/fake_github.hpp"
#include "../support/fake_jira.hpp"
#include "../support/recording_server.hpp"
#include "sink_client.hpp"

namespace {

using namespace std::chrono_literals;
using warden::testing::client_for;
using warden::testing::event_id;
using warden::testing::eventually;
using warden::testing::fake_github;
using warden::testing::fake_jira;
using warden::testing::get_json;
using warden::testing::json_of;
using warden::testing::recording_server;
using warden::testing::sink_process;
using warden::testing::temp_directory;

constexpr const char* kEnvelopePath = "/api/7/envelope/?sentry_key=pubkey&sentry_version=7";
constexpr const char* kHookSecret = "github-hook-secret-5d2e";
constexpr const char* kSigningKey = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// Team payments escalates to GitHub acme/shop, team search to Jira OPS, everyone else to
// the webhook; production errors open tickets.
std::string sink_config(const fake_github& github, const fake_jira& jira,
                        const recording_server& hook) {
  return R"(
projects:
  - id: 7
    keys: [{public_key: pubkey}]
storage: {durable: false}
trackers:
  - name: github
    type: github
    url: )" +
         github.base_url() + R"(
    token: {env: WARDEN_TEST_GITHUB_TOKEN}
    webhook_secret: {env: WARDEN_TEST_GITHUB_HOOK}
  - name: jira
    type: jira_cloud
    url: )" +
         jira.base_url() + R"(
    email: warden@example.com
    token: {env: WARDEN_TEST_JIRA_TOKEN}
    transitions: {resolve: "31", reopen: "11"}
  - name: hook
    type: webhook
    url: )" +
         hook.base_url() + R"(/tickets
    secret: {env: WARDEN_TEST_SIGNING_KEY}
escalation:
  owners:
    - {match: {team: payments}, tracker: github, project: acme/shop,
       fields: [{name: oncall, type: assignee, value: payments-oncall}]}
    - {match: {team: search}, tracker: jira, project: OPS}
    - {match: {}, tracker: hook, project: ops}
alert_rules:
  - id: prod-errors
    conditions: [first_seen, regressed]
    conditions_match: any
    filters: {environment: production}
    actions: [ticket]
delivery: {timeout: 2s, connect_timeout: 1s, backoff: {initial: 50ms, max: 200ms}}
)";
}

// The fakes and the sink between them.
struct tracked_sink {
  tracked_sink() : sink{start()}, client{client_for(sink)} {
    hook.set_handler([](const recording_server::request& in) {
      // The receiver names the ticket it made; other events are just taken.
      if (in.body.find("\"ticket.create\"") == std::string::npos) return recording_server::reply{};
      return recording_server::reply{200, {}, R"({"key":"EXT-1","url":"https://tickets/EXT-1"})"};
    });
    REQUIRE(sink.port() > 0);
  }
  sink_process start() {
    ::setenv("WARDEN_TEST_GITHUB_TOKEN", "ghp_warden-test", 1);
    ::setenv("WARDEN_TEST_GITHUB_HOOK", kHookSecret, 1);
    ::setenv("WARDEN_TEST_JIRA_TOKEN", "jira-test-token", 1);
    ::setenv("WARDEN_TEST_SIGNING_KEY", kSigningKey, 1);
    return sink_process{
        WARDEN_SINK_BINARY,
        {"--config=" + directory.write("sink.yaml", sink_config(github, jira, hook)),
         "--database=" + directory.file("sink.db")}};
  }
  // Sends production error `n` of `team`, and waits for its issue's ticket.
  void fail(int n, const std::string& team, const std::string& type) {
    const std::string envelope =
        R"({"event_id":")" + event_id(n) + "\"}\n{\"type\":\"event\"}\n" +
        R"({"level":"error","environment":"production","release":"shop@2.0","tags":{"team":")" +
        team + R"(","function":"backend","product":"checkout"},"exception":{"values":[{"type":")" +
        type + R"(","value":"it broke"}]}})" + "\n";
    REQUIRE(client.Post(kEnvelopePath, envelope, "")->status == 200);
  }
  std::string ticket_state(int issue) {
    const auto detail = get_json(client, "/api/0/issues/" + std::to_string(issue));
    return detail["ticket"].IsObject() ? detail["ticket"]["state"].GetString() : "";
  }
  std::string ticket_key(int issue) {
    const auto detail = get_json(client, "/api/0/issues/" + std::to_string(issue));
    return detail["ticket"].IsObject() ? detail["ticket"]["key"].GetString() : "";
  }
  void set_status(int issue, const std::string& status) {
    REQUIRE(client
                .Put("/api/0/issues/" + std::to_string(issue),
                     R"({"status":")" + status + R"(","actor":"ann"})", "application/json")
                ->status == 200);
  }
  std::string status_of(int issue) {
    return get_json(client, "/api/0/issues/" + std::to_string(issue))["issue"]["status"]
        .GetString();
  }

  fake_github github;
  fake_jira jira;
  recording_server hook;
  temp_directory directory;
  sink_process sink;
  httplib::Client client;
};

// GitHub's X-Hub-Signature-256 of `body`.
std::string github_signature(const std::string& secret, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

}  // namespace

TEST_CASE_FIXTURE(tracked_sink, "github: one issue per Warden issue, closed and reopened with it") {
  fail(1, "payments", "CardDeclined");
  REQUIRE(github.wait_for_issues(1, 10s));
  REQUIRE(eventually([&] { return ticket_state(1) == "created"; }));
  const auto created = github.issues().front();
  CHECK(created.repo == "acme/shop");
  CHECK(created.title == "[payments][backend][checkout] CardDeclined: it broke");
  CHECK(created.body.find("<!-- warden-incident-key: wd:7:") != std::string::npos);
  CHECK(created.assignees == std::vector<std::string>{"payments-oncall"});
  CHECK(std::find(created.labels.begin(), created.labels.end(), "team:payments") !=
        created.labels.end());
  CHECK(ticket_key(1) == "acme/shop#1");

  // More events of it: still one issue. Resolved in Warden: closed, with a comment.
  for (int i = 2; i <= 20; ++i) fail(i, "payments", "CardDeclined");
  set_status(1, "resolved");
  REQUIRE(eventually([&] { return github.find_issue("acme/shop", 1)->state == "closed"; }));
  CHECK(github.find_issue("acme/shop", 1)->state_reason == "completed");
  REQUIRE(eventually([&] { return github.find_issue("acme/shop", 1)->comments.size() == 1; }));
  CHECK(github.find_issue("acme/shop", 1)->comments[0].find("ann") != std::string::npos);
  // A regression reopens it.
  fail(21, "payments", "CardDeclined");
  REQUIRE(eventually([&] { return github.find_issue("acme/shop", 1)->state == "open"; }));
  CHECK(github.issues().size() == 1);
}

TEST_CASE_FIXTURE(tracked_sink, "github's webhook closes the Warden issue, signed or refused") {
  fail(1, "payments", "Timeout");
  REQUIRE(github.wait_for_issues(1, 10s));
  REQUIRE(eventually([&] { return ticket_state(1) == "created"; }));
  const std::string closed =
      R"({"action":"closed","issue":{"number":1,"state":"closed","state_reason":"completed"},)"
      R"("repository":{"full_name":"acme/shop"},"sender":{"login":"octocat"}})";
  const auto deliver = [&](const std::string& event, const std::string& id, const std::string& body,
                           const std::string& signature) {
    return client.Post(
        "/api/0/hooks/github/github",
        {{"X-GitHub-Event", event}, {"X-GitHub-Delivery", id}, {"X-Hub-Signature-256", signature}},
        body, "application/json");
  };
  const auto outcome = [](const httplib::Result& answer) {
    return std::string{json_of(answer->body)["outcome"].GetString()};
  };

  // A wrong signature, or one over other bytes, is refused before the body is read.
  CHECK(deliver("issues", "d-0", closed, github_signature("wrong", closed))->status == 401);
  CHECK(deliver("issues", "d-0", closed + " ", github_signature(kHookSecret, closed))->status ==
        401);
  CHECK(status_of(1) == "unresolved");
  // GitHub's ping when the hook is set up.
  const std::string ping = R"({"zen":"Design for failure.","hook_id":1})";
  const auto pinged = deliver("ping", "d-1", ping, github_signature(kHookSecret, ping));
  CHECK(pinged->status == 200);
  CHECK(outcome(pinged) == "ignored");

  const auto applied = deliver("issues", "d-2", closed, github_signature(kHookSecret, closed));
  CHECK(applied->status == 200);
  CHECK(outcome(applied) == "resolved");
  CHECK(status_of(1) == "resolved");
  // A redelivery of the same delivery changes nothing.
  const auto again = deliver("issues", "d-2", closed, github_signature(kHookSecret, closed));
  CHECK(outcome(again) == "duplicate");
  // Nothing went back to GitHub: its issue changed first.
  std::this_thread::sleep_for(500ms);
  CHECK(github.find_issue("acme/shop", 1)->comments.empty());
  CHECK(github.find_issue("acme/shop", 1)->state == "open");  // the fake was not told

  // The issue history says who resolved it.
  const auto detail = get_json(client, "/api/0/issues/1");
  CHECK(std::string{detail["issue"]["status"].GetString()} == "resolved");
}

TEST_CASE_FIXTURE(tracked_sink,
                  "jira: one ticket with an ADF description, transitions on resolve") {
  fail(1, "search", "IndexMissing");
  REQUIRE(jira.wait_for_issues(1, 10s));
  REQUIRE(eventually([&] { return ticket_state(1) == "created"; }));
  const auto created = jira.issues().front();
  CHECK(created.project == "OPS");
  CHECK(created.issue_type == "Bug");
  CHECK(created.summary == "[search][backend][checkout] IndexMissing: it broke");
  CHECK(created.description.find("IndexMissing") != std::string::npos);
  CHECK(std::any_of(created.labels.begin(), created.labels.end(),
                    [](const std::string& label) { return label.rfind("wd-7-", 0) == 0; }));
  CHECK(ticket_key(1) == created.key);

  set_status(1, "resolved");
  REQUIRE(eventually([&] { return jira.find_issue(created.key)->status == "Done"; }));
  CHECK(jira.find_issue(created.key)->transitions == std::vector<std::string>{"31"});
  CHECK(jira.find_issue(created.key)->comments.size() == 1);
  fail(2, "search", "IndexMissing");
  REQUIRE(eventually([&] { return jira.find_issue(created.key)->status == "Reopened"; }));
  CHECK(jira.issues().size() == 1);
}

TEST_CASE_FIXTURE(tracked_sink, "webhook tracker: signed ticket events, the receiver's key kept") {
  fail(1, "data", "Overflow");
  REQUIRE(eventually([&] { return ticket_state(1) == "created"; }));
  CHECK(ticket_key(1) == "EXT-1");
  set_status(1, "resolved");
  REQUIRE(hook.wait_for_requests(2, 10s));
  const auto requests = hook.requests();
  CHECK(requests[0].path == "/tickets");
  CHECK(requests[0].body.find("\"type\":\"ticket.create\"") != std::string::npos);
  CHECK(requests[1].body.find("\"type\":\"ticket.resolve\"") != std::string::npos);
  CHECK(requests[1].body.find("EXT-1") != std::string::npos);
  for (const auto& request : requests) {
    CHECK(request.header("webhook-signature").rfind("v1,", 0) == 0);
    CHECK_FALSE(request.header("webhook-id").empty());
    CHECK(request.body.find(kSigningKey) == std::string::npos);
  }
}

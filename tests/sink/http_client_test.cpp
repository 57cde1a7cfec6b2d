// curl_http_client against real servers on 127.0.0.1: every method with its headers and
// body, answers read back (headers lowercased, body capped, redirects returned), the
// failures users meet (refused, timeout, connection closed mid-exchange) and whether the
// request may have reached the target, keep-alive, eight threads at once, cancel_all()
// at shutdown. Then the fake YouTrack end to end through the client: projects, create,
// search by incident key, commands, comments, injected failures and a create whose
// answer never arrives; the fake Slack (messages per webhook, Slack's refusals, broken
// webhooks, the strict 1-per-second limit with Retry-After) and the fake PagerDuty
// (dedup into one open alert, resolve, validation, rate limit per routing key), fed by
// the receivers' request builders.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../support/fake_pagerduty.hpp"
#include "../support/fake_slack.hpp"
#include "../support/fake_youtrack.hpp"
#include "../support/raw_tcp_server.hpp"
#include "../support/recording_server.hpp"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "outbox/curl_http_client.hpp"
#include "outbox/retry_policy.hpp"
#include "targets/notification.hpp"
#include "targets/pagerduty.hpp"
#include "targets/slack.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using warden::sink::curl_http_client;
using warden::sink::curl_http_client_options;
using warden::sink::http_request;
using warden::sink::http_response;
using warden::sink::kCancelledError;
using warden::sink::retry_outcome;
using warden::testing::fake_youtrack;
using warden::testing::raw_tcp_server;
using warden::testing::recording_server;
using reply = recording_server::reply;

std::unique_ptr<curl_http_client> make_client(milliseconds timeout = 10s,
                                              std::size_t max_body = 64 * 1024) {
  curl_http_client_options options;
  options.connect_timeout = 5s;
  options.timeout = timeout;
  options.max_response_body = max_body;
  auto client = curl_http_client::create(options);
  REQUIRE(client.ok());
  return std::move(*client);
}

std::string local_url(int port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// A port nothing listens on: a server's, once it is gone.
int closed_port() {
  const recording_server gone;
  return gone.port();
}

TEST_CASE("each method arrives with its headers and body and its answer is read back") {
  recording_server server;
  server.set_handler([](const recording_server::request& in) {
    return reply{201,
                 {{"X-Answer", "to " + in.method}, {"Content-Type", "text/plain"}},
                 "answer to " + in.method + " " + in.body,
                 0ms};
  });
  const auto client = make_client();
  for (const std::string method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    CAPTURE(method);
    const std::string body = method == "GET" ? "" : R"({"method":")" + method + R"("})";
    const http_response answer =
        client->send({method,
                      server.base_url() + "/api/issues/OPS-1?fields=id,idReadable",
                      {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"Authorization", "Bearer perm:secret"}},
                      body});
    CHECK(answer.error.empty());
    CHECK(answer.status == 201);
    CHECK(answer.request_sent);
    CHECK(answer.header("x-answer") == "to " + method);
    CHECK(answer.header("content-type") == "text/plain");
    CHECK(answer.body == "answer to " + method + " " + body);
    CHECK_FALSE(answer.truncated);
    CHECK(answer.duration >= 0ms);
    CHECK(answer.duration < 5s);

    const recording_server::request received = server.requests().back();
    CHECK(received.method == method);
    CHECK(received.path == "/api/issues/OPS-1");
    CHECK(received.query.find("fields")->second == "id,idReadable");
    CHECK(received.header("Content-Type") == "application/json");
    CHECK(received.header("Accept") == "application/json");
    CHECK(received.header("Authorization") == "Bearer perm:secret");
    CHECK(received.headers.count("Expect") == 0);
    CHECK(received.body == body);
  }
  CHECK(server.requests().size() == 5);
}

TEST_CASE("a body without a Content-Type is not labelled a form, and PUT may be empty") {
  recording_server server;
  const auto client = make_client();
  const http_response posted = client->send({"POST", server.base_url() + "/hook", {}, "ok"});
  CHECK(posted.status == 200);
  const http_response put = client->send({"PUT", server.base_url() + "/empty", {}, ""});
  CHECK(put.status == 200);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("Content-Type").empty());
  CHECK(requests[0].body == "ok");
  CHECK(requests[1].method == "PUT");
  CHECK(requests[1].header("Content-Length") == "0");
}

TEST_CASE("the request goes out as written, an empty header value included") {
  raw_tcp_server server{
      raw_tcp_server::answer_then_close("HTTP/1.1 204 No Content\r\nX-Seen: yes\r\n\r\n")};
  const auto client = make_client();
  const http_response answer =
      client->send({"PATCH",
                    local_url(server.port(), "/issues/42"),
                    {{"X-Empty", ""}, {"Content-Type", "application/json"}},
                    R"({"state":"open"})"});
  CHECK(answer.status == 204);
  CHECK(answer.header("x-seen") == "yes");
  REQUIRE(server.requests().size() == 1);
  const std::string raw = server.requests().front();
  CHECK(raw.rfind("PATCH /issues/42 HTTP/1.1\r\n", 0) == 0);
  CHECK(raw.find("\r\nX-Empty:\r\n") != std::string::npos);
  CHECK(raw.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  CHECK(raw.find("Expect") == std::string::npos);
  CHECK(raw.substr(raw.size() - 16) == R"({"state":"open"})");
}

TEST_CASE("response headers are lowercased and the body is cut at the cap") {
  recording_server server;
  const std::string big(100 * 1024, 'x');
  server.script({{200, {{"X-RateLimit-Remaining", "  42  "}}, big, 0ms},
                 {200, {}, std::string(1024, 'y'), 0ms}});
  const auto client = make_client(10s, 1024);
  const http_response cut = client->send({"GET", server.base_url() + "/big", {}, ""});
  CHECK(cut.error.empty());
  CHECK(cut.status == 200);
  CHECK(cut.truncated);
  CHECK(cut.body == std::string(1024, 'x'));
  CHECK(cut.header("x-ratelimit-remaining") == "42");
  CHECK(cut.header("X-RateLimit-Remaining").empty());  // names are lowercase

  const http_response exact = client->send({"GET", server.base_url() + "/exact", {}, ""});
  CHECK(exact.status == 200);
  CHECK_FALSE(exact.truncated);
  CHECK(exact.body == std::string(1024, 'y'));
}

TEST_CASE("a redirect is the answer, not followed") {
  recording_server server;
  server.script({{302, {{"Location", server.base_url() + "/elsewhere"}}, "", 0ms}});
  const auto client = make_client();
  const http_response answer = client->send({"POST", server.base_url() + "/here", {}, "{}"});
  CHECK(answer.error.empty());
  CHECK(answer.status == 302);
  CHECK(answer.header("location") == server.base_url() + "/elsewhere");
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a refused connection is an error and nothing was sent") {
  recording_server server;
  const auto client = make_client();
  // A session that sent before must not carry that over.
  REQUIRE(client->send({"POST", server.base_url() + "/first", {}, "{}"}).status == 200);
  const http_response refused = client->send({"POST", local_url(closed_port(), "/x"), {}, "{}"});
  CHECK(refused.status == 0);
  CHECK_FALSE(refused.error.empty());
  CHECK_FALSE(refused.request_sent);
  CHECK(warden::sink::classify(refused, absl::Now()).outcome == retry_outcome::retry);
  CHECK_FALSE(warden::sink::classify(refused, absl::Now()).uncertain);
}

TEST_CASE("a timeout after the request was sent is an error and the request counts as sent") {
  recording_server server;
  server.set_default_reply({200, {}, "{}", 10s});
  const auto client = make_client(300ms);
  const auto started = std::chrono::steady_clock::now();
  const http_response answer = client->send({"POST", server.base_url() + "/slow", {}, "{}"});
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(answer.status == 0);
  CHECK(answer.error.find("timed out") != std::string::npos);
  CHECK(answer.request_sent);
  CHECK(answer.duration >= 250ms);
  CHECK(warden::sink::classify(answer, absl::Now()).uncertain);
}

TEST_CASE("a connection closed by the server mid-exchange is an error after sending") {
  const auto client = make_client(5s);
  SUBCASE("reset before the body was read") {
    raw_tcp_server server{raw_tcp_server::reset_mid_request()};
    const http_response answer =
        client->send({"POST", local_url(server.port(), "/x"), {}, std::string(1000, 'b')});
    CHECK(answer.status == 0);
    CHECK_FALSE(answer.error.empty());
    CHECK(answer.request_sent);
  }
  SUBCASE("closed without an answer") {
    raw_tcp_server server{raw_tcp_server::answer_then_close("")};
    const http_response answer = client->send({"POST", local_url(server.port(), "/x"), {}, "{}"});
    CHECK(answer.status == 0);
    CHECK_FALSE(answer.error.empty());
    CHECK(answer.request_sent);
    CHECK(server.requests().size() == 1);  // not resent on a fresh connection
  }
  SUBCASE("closed in the middle of the answer's body") {
    raw_tcp_server server{raw_tcp_server::answer_then_close(
        "HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{\"id\":")};
    const http_response answer = client->send({"POST", local_url(server.port(), "/x"), {}, "{}"});
    CHECK(answer.status == 0);  // the status line came, but not the answer
    CHECK_FALSE(answer.error.empty());
    CHECK(answer.request_sent);
  }
}

TEST_CASE("sequential sends reuse one connection") {
  recording_server server;
  const auto client = make_client();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(client->send({"POST", server.base_url() + "/again", {}, "{}"}).status == 200);
  }
  const auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].remote_port > 0);
  for (const auto& each : requests) CHECK(each.remote_port == requests[0].remote_port);
}

TEST_CASE("eight threads send at once and each gets its own answer") {
  recording_server server;
  server.set_handler([](const recording_server::request& in) {
    return reply{200, {{"X-Echo", in.header("X-Thread")}}, in.body, 5ms};
  });
  const auto client = make_client();
  constexpr int kThreads = 8;
  constexpr int kSends = 12;
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSends; ++i) {
        const std::string body = "thread " + std::to_string(t) + " send " + std::to_string(i);
        const http_response answer = client->send(
            {"POST", server.base_url() + "/echo", {{"X-Thread", std::to_string(t)}}, body});
        if (answer.status == 200 && answer.body == body &&
            answer.header("x-echo") == std::to_string(t)) {
          ++correct;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(correct.load() == kThreads * kSends);
  CHECK(server.requests().size() == kThreads * kSends);
  CHECK(server.max_in_flight() > 1);
}

TEST_CASE("cancel_all aborts hanging sends promptly and refuses later ones") {
  recording_server server;
  server.set_default_reply({200, {}, "{}", 60s});
  const auto client = make_client(30s);
  constexpr int kHanging = 3;
  std::vector<http_response> answers(kHanging);
  std::vector<std::thread> threads;
  for (int i = 0; i < kHanging; ++i) {
    threads.emplace_back([&, i] {
      answers[static_cast<std::size_t>(i)] =
          client->send({"POST", server.base_url() + "/hang", {}, "{}"});
    });
  }
  REQUIRE(server.wait_for_requests(kHanging, 10s));
  const auto cancelled_at = std::chrono::steady_clock::now();
  client->cancel_all();
  for (std::thread& thread : threads) thread.join();
  CHECK(std::chrono::steady_clock::now() - cancelled_at < 2s);
  for (const http_response& answer : answers) {
    CHECK(answer.status == 0);
    CHECK(answer.error == kCancelledError);
    CHECK(answer.request_sent);
  }

  const http_response later = client->send({"POST", server.base_url() + "/later", {}, "{}"});
  CHECK(later.status == 0);
  CHECK(later.error == kCancelledError);
  CHECK_FALSE(later.request_sent);
  CHECK(server.requests().size() == kHanging);
}

TEST_CASE("bad requests and options are refused without sending") {
  recording_server server;
  const auto client = make_client();
  const http_response head = client->send({"HEAD", server.base_url() + "/", {}, ""});
  CHECK(head.status == 0);
  CHECK(head.error.find("HEAD") != std::string::npos);
  CHECK_FALSE(head.request_sent);

  const http_response smuggled =
      client->send({"POST", server.base_url() + "/", {{"X-Title", "a\r\nX-Admin: yes"}}, "{}"});
  CHECK(smuggled.status == 0);
  CHECK_FALSE(smuggled.error.empty());
  CHECK_FALSE(smuggled.request_sent);

  const http_response other_scheme = client->send({"GET", "file:///etc/passwd", {}, ""});
  CHECK(other_scheme.status == 0);
  CHECK_FALSE(other_scheme.error.empty());
  CHECK(other_scheme.body.empty());
  CHECK(server.requests().empty());

  curl_http_client_options no_timeout;
  no_timeout.timeout = 0ms;
  CHECK(curl_http_client::create(no_timeout).status().code() == absl::StatusCode::kInvalidArgument);
  curl_http_client_options no_body;
  no_body.max_response_body = 0;
  CHECK(curl_http_client::create(no_body).status().code() == absl::StatusCode::kInvalidArgument);
}

// The fake YouTrack, driven through the client as the outbox will drive it.

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

std::string member(const rapidjson::Value& object, const char* name) {
  REQUIRE(object.HasMember(name));
  REQUIRE(object[name].IsString());
  return object[name].GetString();
}

class youtrack_session {
 public:
  explicit youtrack_session(fake_youtrack& youtrack, milliseconds timeout = 10s)
      : youtrack_(youtrack), client_(make_client(timeout)) {}

  http_response call(const std::string& method, const std::string& path_and_query,
                     std::string body = {}, const std::string& token = {}) {
    return client_->send(
        {method,
         youtrack_.base_url() + path_and_query,
         {{"Authorization", "Bearer " + (token.empty() ? youtrack_.token() : token)},
          {"Accept", "application/json"},
          {"Content-Type", "application/json"}},
         std::move(body)});
  }

  static std::string create_body(const std::string& project_id, const std::string& summary,
                                 const std::string& incident_key) {
    return R"({"project":{"id":")" + project_id + R"("},"summary":")" + summary +
           R"(","description":"**Level:** fatal","customFields":[)" +
           R"({"name":"Priority","$type":"SingleEnumIssueCustomField","value":{"name":"Critical"}},)" +
           R"({"name":"Incident key","$type":"SimpleIssueCustomField","value":")" + incident_key +
           R"("}]})";
  }

 private:
  fake_youtrack& youtrack_;
  std::unique_ptr<curl_http_client> client_;
};

TEST_CASE("fake YouTrack: project lookup, create, search, command and comment") {
  fake_youtrack youtrack;
  const std::string ops = youtrack.add_project("OPS", "Operations");
  const std::string pay = youtrack.add_project("PAY", "Payments");
  youtrack_session session{youtrack};

  const http_response projects =
      session.call("GET", "/api/admin/projects?fields=id,name,shortName&query=PAY");
  REQUIRE(projects.status == 200);
  const auto found_projects = parse(projects.body);
  REQUIRE(found_projects.IsArray());
  REQUIRE(found_projects.Size() == 1);
  CHECK(member(found_projects[0], "id") == pay);
  CHECK(member(found_projects[0], "shortName") == "PAY");
  CHECK(member(found_projects[0], "name") == "Payments");
  CHECK(member(found_projects[0], "$type") == "Project");
  CHECK(parse(session.call("GET", "/api/admin/projects").body).Size() == 2);

  const http_response created = session.call(
      "POST", "/api/issues?fields=id,idReadable,summary",
      youtrack_session::create_body(ops, "[payments][backend][checkout] Boom", "wd:1:00ff"));
  REQUIRE(created.status == 200);
  const auto issue = parse(created.body);
  CHECK(member(issue, "id") == "2-1");
  CHECK(member(issue, "idReadable") == "OPS-1");
  CHECK(member(issue, "summary") == "[payments][backend][checkout] Boom");
  CHECK(member(issue, "$type") == "Issue");
  REQUIRE(
      session.call("POST", "/api/issues", youtrack_session::create_body(pay, "Other", "wd:1:11aa"))
          .status == 200);
  REQUIRE(youtrack.creates() == 2);
  CHECK(youtrack.issues()[1].id_readable == "PAY-1");
  CHECK(youtrack.issues()[0].incident_key == "wd:1:00ff");
  CHECK(youtrack.issues()[0].description == "**Level:** fatal");
  CHECK(youtrack.issues()[0].custom_fields.find(R"("value":{"name":"Critical"})") !=
        std::string::npos);

  // "project: OPS {Incident key}: {wd:1:00ff}", URL-encoded as the tracker sends it.
  const http_response search = session.call(
      "GET",
      "/api/issues?query=project%3A%20OPS%20%7BIncident%20key%7D%3A%20%7Bwd%3A1%3A00ff%7D"
      "&fields=id,idReadable,summary,resolved&$top=2");
  REQUIRE(search.status == 200);
  const auto hits = parse(search.body);
  REQUIRE(hits.Size() == 1);
  CHECK(member(hits[0], "idReadable") == "OPS-1");
  CHECK(hits[0]["resolved"].IsNull());
  CHECK(parse(session.call("GET", "/api/issues?query=wd%3A9%3Aabcd").body).Size() == 0);

  const http_response command = session.call(
      "POST", "/api/commands",
      R"({"query":"State Fixed","issues":[{"idReadable":"OPS-1"}],"comment":"Resolved in Warden by jdoe","silent":false})");
  CHECK(command.status == 200);
  CHECK(command.body.empty());
  auto fixed = youtrack.find_issue("OPS-1");
  REQUIRE(fixed.has_value());
  CHECK(fixed->state == "Fixed");
  CHECK(fixed->resolved.has_value());
  REQUIRE(fixed->comments.size() == 1);
  CHECK(fixed->comments[0] == "Resolved in Warden by jdoe");
  REQUIRE(youtrack.commands().size() == 1);
  CHECK(youtrack.commands()[0].query == "State Fixed");
  CHECK(youtrack.commands()[0].issues == std::vector<std::string>{"OPS-1"});
  CHECK_FALSE(
      parse(session.call("GET", "/api/issues?query=wd%3A1%3A00ff").body)[0]["resolved"].IsNull());

  CHECK(
      session.call("POST", "/api/commands", R"({"query":"State Reopened","issues":[{"id":"2-1"}]})")
          .status == 200);
  CHECK(youtrack.find_issue("OPS-1")->state == "Reopened");
  CHECK_FALSE(youtrack.find_issue("OPS-1")->resolved.has_value());

  const http_response comment =
      session.call("POST", "/api/issues/OPS-1/comments?fields=id",
                   R"({"text":"Regressed in shop@1.4.3","usesMarkdown":true})");
  REQUIRE(comment.status == 200);
  CHECK(member(parse(comment.body), "$type") == "IssueComment");
  CHECK(youtrack.find_issue("OPS-1")->comments.back() == "Regressed in shop@1.4.3");

  CHECK(session.call("POST", "/api/issues/OPS-99/comments", R"({"text":"x"})").status == 404);
  CHECK(session
            .call("POST", "/api/commands",
                  R"({"query":"State Fixed","issues":[{"idReadable":"OPS-99"}]})")
            .status == 404);
  CHECK(session
            .call("POST", "/api/commands",
                  R"({"query":"tag incident","issues":[{"idReadable":"OPS-1"}]})")
            .status == 400);
  CHECK(session.call("POST", "/api/issues", R"({"project":{"id":"0-99"},"summary":"x"})").status ==
        404);
  const http_response invalid = session.call(
      "POST", "/api/issues",
      R"({"project":{"id":")" + ops + R"("},"summary":"x","customFields":[{"name":"Priority"}]})");
  CHECK(invalid.status == 400);
  CHECK(member(parse(invalid.body), "error") == "invalid_properties");
  CHECK(session.call("DELETE", "/api/issues/OPS-1").status == 404);
  CHECK(youtrack.creates() == 2);
  CHECK(youtrack.requests().size() == 16);
}

TEST_CASE("fake YouTrack: a wrong or missing token is refused") {
  fake_youtrack youtrack;
  youtrack_session session{youtrack};
  const http_response refused = session.call("GET", "/api/admin/projects", "", "perm:wrong");
  CHECK(refused.status == 401);
  const auto error = parse(refused.body);
  CHECK(member(error, "error") == "Unauthorized");
  CHECK_FALSE(member(error, "error_description").empty());
  CHECK(youtrack.requests().size() == 1);
}

TEST_CASE("fake YouTrack: fail_next answers the injected failures, then works") {
  fake_youtrack youtrack;
  const std::string ops = youtrack.add_project("OPS");
  youtrack_session session{youtrack};
  youtrack.fail_next(2, 429, {{"Retry-After", "1"}});
  for (int i = 0; i < 2; ++i) {
    const http_response limited = session.call(
        "POST", "/api/issues", youtrack_session::create_body(ops, "Boom", "wd:1:00ff"));
    CHECK(limited.status == 429);
    const auto verdict = warden::sink::classify(limited, absl::Now());
    CHECK(verdict.outcome == retry_outcome::retry);
    CHECK(verdict.retry_after == milliseconds{1000});
  }
  youtrack.fail_next(1, 503);
  CHECK(session.call("POST", "/api/issues", youtrack_session::create_body(ops, "Boom", "wd:1:00ff"))
            .status == 503);
  CHECK(youtrack.creates() == 0);
  const http_response created =
      session.call("POST", "/api/issues", youtrack_session::create_body(ops, "Boom", "wd:1:00ff"));
  CHECK(created.status == 200);
  CHECK(youtrack.creates() == 1);
  CHECK(youtrack.requests().size() == 4);
}

TEST_CASE("fake YouTrack: a create that hangs leaves a ticket the client can find") {
  fake_youtrack youtrack;
  const std::string ops = youtrack.add_project("OPS");
  youtrack_session impatient{youtrack, 300ms};
  youtrack.hang_next_create(10s);
  const http_response timed_out = impatient.call(
      "POST", "/api/issues", youtrack_session::create_body(ops, "Boom", "wd:1:00ff"));
  CHECK(timed_out.status == 0);
  CHECK(timed_out.request_sent);
  const auto verdict = warden::sink::classify(timed_out, absl::Now());
  CHECK(verdict.outcome == retry_outcome::retry);
  CHECK(verdict.uncertain);
  REQUIRE(youtrack.wait_for_issues(1, 5s));

  // The next attempt reconciles: the search finds the ticket, nothing is created twice.
  youtrack_session session{youtrack};
  const auto hits = parse(session.call("GET", "/api/issues?query=wd%3A1%3A00ff&$top=2").body);
  REQUIRE(hits.Size() == 1);
  CHECK(member(hits[0], "idReadable") == "OPS-1");
  // Only the next create hangs.
  const http_response second =
      session.call("POST", "/api/issues", youtrack_session::create_body(ops, "Other", "wd:1:22bb"));
  CHECK(second.status == 200);
  CHECK(second.duration < 5s);
  CHECK(youtrack.creates() == 2);
}

// The fake Slack and the fake PagerDuty, fed by the receivers' request builders.

using warden::sink::notification;
using warden::sink::notified_issue;
using warden::sink::receiver_verdict;
using warden::testing::fake_pagerduty;
using warden::testing::fake_pagerduty_options;
using warden::testing::fake_slack;
using warden::testing::fake_slack_options;

constexpr std::string_view kRoutingKey = "e93facc04764012d7bfb002500d5d1a6";
constexpr std::string_view kOtherRoutingKey = "0123456789abcdef0123456789abcdef";

// Issue `id` of team-payments, fatal, with ticket OPS-<id>.
notified_issue payments_issue(std::int64_t id) {
  notified_issue notified;
  notified.issue.issue_id = id;
  notified.issue.incident_key = "wd:1:" + std::to_string(1000 + id);
  notified.issue.title = "Failure " + std::to_string(id);
  notified.issue.team = "team-payments";
  notified.issue.function = "backend";
  notified.issue.product = "checkout";
  notified.issue.level = "fatal";
  notified.issue.environment = "production";
  notified.issue.event_count = 3;
  notified.issue.first_seen_ms = 1741943561512;
  notified.issue.link = "http://127.0.0.1/api/0/issues/" + std::to_string(id);
  notified.reason = "first_seen";
  notified.ticket_key = "OPS-" + std::to_string(id);
  notified.ticket_url = "http://127.0.0.1/issue/OPS-" + std::to_string(id);
  return notified;
}

notification payments_notification(std::vector<notified_issue> issues) {
  notification message;
  message.receiver = "payments-slack";
  message.group_key = R"({}/{team="team-payments"})";
  message.group_labels = {{"team", "team-payments"}};
  message.issues = std::move(issues);
  message.link = "http://127.0.0.1/api/0/issues?team=team-payments";
  return message;
}

warden::sink::slack_receiver slack_receiver_at(const std::string& url) {
  warden::sink::slack_receiver receiver;
  receiver.webhook_url = warden::sink::secret(url);
  return receiver;
}

warden::sink::pagerduty_receiver pagerduty_receiver_at(const fake_pagerduty& pagerduty,
                                                       std::string_view routing_key) {
  warden::sink::pagerduty_receiver receiver;
  receiver.url = pagerduty.enqueue_url();
  receiver.routing_key = warden::sink::secret(std::string(routing_key));
  return receiver;
}

http_response post_json(curl_http_client& client, const std::string& url, std::string body) {
  return client.send({"POST", url, {{"Content-Type", "application/json"}}, std::move(body)});
}

TEST_CASE("fake Slack: messages per webhook, Slack's refusals and broken webhooks") {
  fake_slack slack;
  const auto client = make_client();
  const std::string payments = slack.webhook_url("T0/B1/payments");
  const std::string search = slack.webhook_url("T0/B2/search");

  const http_response sent = client->send(warden::sink::slack_message(
      slack_receiver_at(payments), payments_notification({payments_issue(1)})));
  CHECK(sent.status == 200);
  CHECK(sent.body == "ok");
  CHECK(sent.header("content-type").rfind("text/plain", 0) == 0);
  CHECK(warden::sink::slack_answer(sent).ok);
  CHECK(warden::sink::slack_answer(
            client->send(warden::sink::slack_message(
                slack_receiver_at(search),
                payments_notification({payments_issue(2), payments_issue(3)}))))
            .ok);
  REQUIRE(slack.wait_for_messages(2, 5s));
  const auto on_payments = slack.messages(fake_slack::path_of("T0/B1/payments"));
  REQUIRE(on_payments.size() == 1);
  CHECK(on_payments[0].text ==
        ":red_circle: CRITICAL OPS-1 [team-payments][backend][checkout] Failure 1");
  CHECK(on_payments[0].header == "CRITICAL: Failure 1 (checkout)");
  CHECK(on_payments[0].blocks == 3);
  const auto on_search = slack.messages(fake_slack::path_of("T0/B2/search"));
  REQUIRE(on_search.size() == 1);
  CHECK(on_search[0].header == "CRITICAL: 2 issues for team-payments");
  CHECK(slack.arrival_times(fake_slack::path_of("T0/B2/search")).size() == 1);

  // Refused as Slack refuses them: permanent, but the webhook works.
  const auto refused = [&](std::string body, int status, const std::string& error) {
    CAPTURE(body);
    const http_response answer = post_json(*client, payments, std::move(body));
    CHECK(answer.status == status);
    CHECK(answer.body == error);
    const receiver_verdict verdict = warden::sink::slack_answer(answer);
    CHECK_FALSE(verdict.ok);
    CHECK(verdict.permanent);
    CHECK_FALSE(verdict.broken);
  };
  refused("not json", 400, "invalid_payload");
  refused(R"({"blocks_missing":true})", 400, "no_text");
  std::string many_blocks = R"({"text":"x","blocks":[)";
  for (int i = 0; i < 51; ++i)
    many_blocks += std::string(i == 0 ? "" : ",") + R"({"type":"divider"})";
  refused(many_blocks + "]}", 400, "invalid_blocks");
  refused(R"({"blocks":[{"type":"header","text":{"type":"plain_text","text":")" +
              std::string(151, 'x') + R"("}}]})",
          400, "invalid_blocks");
  CHECK(client->send({"GET", payments, {}, ""}).status == 405);
  CHECK(slack.messages().size() == 2);

  // Injected failures are left to the retry policy.
  slack.fail_next(1, 500, "rollup_error");
  const http_response failed = post_json(*client, payments, R"({"text":"x"})");
  CHECK(failed.status == 500);
  CHECK(failed.body == "rollup_error");
  CHECK_FALSE(warden::sink::slack_answer(failed).permanent);
  CHECK(warden::sink::classify(failed, absl::Now()).outcome == retry_outcome::retry);

  // Broken webhooks.
  slack.revoke(fake_slack::path_of("T0/B1/payments"));
  slack.archive(fake_slack::path_of("T0/B2/search"));
  const http_response revoked = post_json(*client, payments, R"({"text":"x"})");
  CHECK(revoked.status == 404);
  CHECK(revoked.body == "no_service");
  const http_response archived = post_json(*client, search, R"({"text":"x"})");
  CHECK(archived.status == 410);
  CHECK(archived.body == "channel_is_archived");
  for (const http_response& answer : {revoked, archived}) {
    const receiver_verdict verdict = warden::sink::slack_answer(answer);
    CHECK(verdict.broken);
    CHECK(verdict.permanent);
  }
  CHECK(post_json(*client, slack.webhook_url("T0/B3/other"), R"({"text":"x"})").status == 200);
  CHECK(slack.messages().size() == 3);
  CHECK(slack.requests().size() == 11);
}

TEST_CASE("fake Slack: strict mode answers 429 with Retry-After within a second per webhook") {
  fake_slack slack({true});
  const auto client = make_client();
  const std::string payments = slack.webhook_url("T0/B1/payments");
  const std::string path = fake_slack::path_of("T0/B1/payments");
  const auto message = [&](std::int64_t id) {
    return warden::sink::slack_message(slack_receiver_at(payments),
                                       payments_notification({payments_issue(id)}));
  };

  CHECK(client->send(message(1)).status == 200);
  const http_response limited = client->send(message(2));
  REQUIRE(limited.status == 429);
  CHECK(limited.body == "rate_limited");
  CHECK(limited.header("retry-after") == "1");
  const receiver_verdict verdict = warden::sink::slack_answer(limited);
  CHECK_FALSE(verdict.ok);
  CHECK_FALSE(verdict.permanent);
  CHECK_FALSE(verdict.broken);
  const auto retry = warden::sink::classify(limited, absl::Now());
  CHECK(retry.outcome == retry_outcome::retry);
  CHECK(retry.retry_after == milliseconds{1000});
  CHECK(slack.rate_limited() == 1);

  // Another webhook has its own second.
  CHECK(post_json(*client, slack.webhook_url("T0/B2/search"), R"({"text":"x"})").status == 200);

  // After the second the client was asked to wait, the retry goes through.
  const auto first = slack.arrival_times(path);
  REQUIRE(first.size() == 1);
  std::this_thread::sleep_until(first[0] + 1s + 50ms);
  CHECK(client->send(message(2)).status == 200);
  const auto times = slack.arrival_times(path);
  REQUIRE(times.size() == 2);
  CHECK(times[1] - times[0] >= 1s);
  const auto accepted = slack.messages(path);
  REQUIRE(accepted.size() == 2);
  CHECK(accepted[1].header == "CRITICAL: Failure 2 (checkout)");
  CHECK(slack.rate_limited() == 1);
}

TEST_CASE("fake PagerDuty: triggers join the open alert, resolve closes it") {
  fake_pagerduty pagerduty;
  const auto client = make_client();
  const auto receiver = pagerduty_receiver_at(pagerduty, kRoutingKey);
  const auto send = [&](const http_request& request) {
    const http_response answer = client->send(request);
    CHECK(answer.status == 202);
    CHECK(warden::sink::pagerduty_answer(answer).ok);
    return answer;
  };
  const auto trigger = [&](std::int64_t id) {
    auto request = warden::sink::pagerduty_trigger(receiver, payments_issue(id));
    REQUIRE(request.ok());
    return *request;
  };
  const std::string first_key = warden::sink::pagerduty_dedup_key(payments_issue(1).issue);

  const http_response accepted = send(trigger(1));
  const auto answer = parse(accepted.body);
  CHECK(member(answer, "status") == "success");
  CHECK(member(answer, "message") == "Event processed");
  CHECK(member(answer, "dedup_key") == first_key);
  send(trigger(1));  // the same issue again: the same alert
  REQUIRE(pagerduty.alerts().size() == 1);
  CHECK(pagerduty.alerts()[0].triggers == 2);
  CHECK(pagerduty.alerts()[0].dedup_key == first_key);
  CHECK(pagerduty.alerts()[0].severity == "critical");
  CHECK(pagerduty.alerts()[0].summary == "[team-payments][backend][checkout] Failure 1");
  send(trigger(2));
  CHECK(pagerduty.open_alerts().size() == 2);

  // A resolve with another service's key is dropped; with the right one it closes.
  send(warden::sink::pagerduty_resolve(pagerduty_receiver_at(pagerduty, kOtherRoutingKey),
                                       first_key));
  CHECK(pagerduty.open_alerts().size() == 2);
  send(warden::sink::pagerduty_resolve(receiver, first_key));
  REQUIRE(pagerduty.open_alerts().size() == 1);
  CHECK(pagerduty.open_alerts()[0].summary == "[team-payments][backend][checkout] Failure 2");
  CHECK(pagerduty.alerts()[0].status == "resolved");
  send(warden::sink::pagerduty_resolve(receiver, first_key));  // already resolved: dropped
  // The issue comes back: a new alert under the same key.
  send(trigger(1));
  REQUIRE(pagerduty.alerts().size() == 3);
  CHECK(pagerduty.alerts()[2].dedup_key == first_key);
  CHECK(pagerduty.open_alerts().size() == 2);
  REQUIRE(pagerduty.wait_for_events(7, 5s));
  CHECK(pagerduty.events()[0].event_action == "trigger");
  CHECK(pagerduty.events()[0].source == "checkout.production");
  CHECK(pagerduty.events()[3].event_action == "resolve");
  CHECK(pagerduty.events()[3].routing_key == kOtherRoutingKey);
  CHECK(pagerduty.events()[4].routing_key == kRoutingKey);

  // Invalid events: 400 with PagerDuty's errors, permanent.
  const std::string url = pagerduty.enqueue_url();
  const auto invalid = [&](std::string body, const std::string& error) {
    CAPTURE(body);
    const http_response refused = post_json(*client, url, std::move(body));
    CHECK(refused.status == 400);
    const receiver_verdict verdict = warden::sink::pagerduty_answer(refused);
    CHECK(verdict.permanent);
    CHECK(verdict.error.find(error) != std::string::npos);
  };
  const std::string key = std::string(kRoutingKey);
  invalid(
      R"({"routing_key":")" + key +
          R"(","event_action":"trigger","dedup_key":"k","payload":{"summary":"s","source":"x","severity":"urgent"}})",
      "'payload.severity' is invalid");
  invalid(R"({"routing_key":"short","event_action":"resolve","dedup_key":"k"})",
          "'routing_key' must be 32 characters");
  invalid(R"({"routing_key":")" + key + R"(","event_action":"snooze","dedup_key":"k"})",
          "'event_action' is invalid");
  invalid(R"({"routing_key":")" + key + R"(","event_action":"resolve"})",
          "'dedup_key' is missing or blank");
  invalid(R"({"routing_key":")" + key +
              R"(","event_action":"trigger","payload":{"source":"x","severity":"info"}})",
          "'payload.summary' is missing or blank");
  invalid("[]", "not a JSON object");
  CHECK(client->send({"POST", pagerduty.base_url() + "/v2/change/enqueue", {}, "{}"}).status ==
        404);
  CHECK(pagerduty.events().size() == 7);
  CHECK(pagerduty.alerts().size() == 3);

  // A trigger without a dedup key gets one, and is a new alert each time.
  const http_response generated = post_json(
      *client, url,
      R"({"routing_key":")" + key +
          R"(","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"}})");
  CHECK(generated.status == 202);
  CHECK(member(parse(generated.body), "dedup_key").rfind("fake-pagerduty-", 0) == 0);
  CHECK(pagerduty.alerts().size() == 4);
}

TEST_CASE("fake PagerDuty: a rate limit per routing key, and injected failures") {
  fake_pagerduty pagerduty({2});
  const auto client = make_client();
  const auto receiver = pagerduty_receiver_at(pagerduty, kRoutingKey);
  const auto trigger = [&](const warden::sink::pagerduty_receiver& to, std::int64_t id) {
    auto request = warden::sink::pagerduty_trigger(to, payments_issue(id));
    REQUIRE(request.ok());
    return client->send(*request);
  };

  CHECK(trigger(receiver, 1).status == 202);
  CHECK(trigger(receiver, 2).status == 202);
  const http_response limited = trigger(receiver, 3);
  REQUIRE(limited.status == 429);
  CHECK(member(parse(limited.body), "status") == "throttle event");
  const receiver_verdict verdict = warden::sink::pagerduty_answer(limited);
  CHECK_FALSE(verdict.ok);
  CHECK_FALSE(verdict.permanent);
  CHECK(warden::sink::classify(limited, absl::Now()).outcome == retry_outcome::retry);
  CHECK(pagerduty.rate_limited() == 1);
  // Another service has its own limit.
  CHECK(trigger(pagerduty_receiver_at(pagerduty, kOtherRoutingKey), 3).status == 202);
  CHECK(pagerduty.alerts().size() == 3);

  std::this_thread::sleep_for(1100ms);
  CHECK(trigger(receiver, 3).status == 202);
  CHECK(pagerduty.alerts().size() == 4);

  pagerduty.fail_next(1, 503);
  const http_response unavailable = trigger(receiver, 4);
  CHECK(unavailable.status == 503);
  CHECK_FALSE(warden::sink::pagerduty_answer(unavailable).permanent);
  CHECK(warden::sink::classify(unavailable, absl::Now()).outcome == retry_outcome::retry);
  CHECK(pagerduty.alerts().size() == 4);
  CHECK(trigger(receiver, 4).status == 202);
  CHECK(pagerduty.alerts().size() == 5);
  CHECK(pagerduty.rate_limited() == 1);
}

}  // namespace

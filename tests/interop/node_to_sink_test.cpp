// Interop: the real @sentry/node from npm (tests/interop/package.json) sends to the real
// warden-sink. node_to_sink.mjs captures an exception, a message and a transaction with
// child spans, once as a `transaction` item (traceLifecycle "static") and once as span
// (v2) items (the default, "stream"); this test starts the sink, runs the script once per
// lifecycle and reads back through the query API and /metrics what the sink made of it.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../sink/sink_process.hpp"

namespace {

using namespace std::chrono_literals;
using warden::testing::sink_process;
using warden::testing::temp_directory;

constexpr const char* kPublicKey = "0123456789abcdef0123456789abcdef";
// What node_to_sink.mjs sends; keep the two in sync.
constexpr const char* kRelease = "node-interop@2.0.0";
constexpr const char* kEnvironment = "interop";
constexpr const char* kExceptionTitle = "TypeError: card 4242 declined";
constexpr const char* kMessageTitle = "cart service answered slowly";
// Starting node with @sentry/node takes about a second; a loaded machine may take far
// longer. The script's own flush and close wait at most 10 s each.
constexpr auto kNodeLimit = 120s;

// What a child process printed on stdout and how it ended.
struct child_result {
  std::string output;
  int status = -1;         // waitpid's status
  bool timed_out = false;  // killed after the time limit
};

// Runs `argv` with stdout captured (stderr is the test's), killing it after `limit`.
child_result run_child(std::vector<std::string> argv, std::chrono::milliseconds limit) {
  child_result result;
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    std::vector<char*> pointers;
    for (std::string& argument : argv) pointers.push_back(argument.data());
    pointers.push_back(nullptr);
    ::execv(pointers[0], pointers.data());
    std::_Exit(127);
  }
  ::close(out[1]);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd readable{out[0], POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[4096];
    const ssize_t got = ::read(out[0], buffer, sizeof buffer);
    if (got <= 0) break;  // end of output: the child is done (or closed stdout)
    result.output.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(out[0]);
  ::waitpid(pid, &result.status, 0);
  return result;
}

// `counts[key]`, 0 when absent.
std::int64_t count_of(const std::map<std::string, std::int64_t>& counts, const std::string& key) {
  const auto found = counts.find(key);
  return found == counts.end() ? 0 : found->second;
}

std::string text(const rapidjson::Value& object, const char* name) {
  return object.HasMember(name) && object[name].IsString() ? object[name].GetString() : "";
}

// GET `path` from `client` as JSON; fails the test unless it is answered 200 with JSON.
rapidjson::Document get_json(httplib::Client& client, const std::string& path) {
  const auto answer = client.Get(path);
  REQUIRE_MESSAGE(answer, "GET ", path, ": ", httplib::to_string(answer.error()));
  REQUIRE_MESSAGE(answer->status == 200, "GET ", path, ": ", answer->status, " ", answer->body);
  rapidjson::Document document;
  document.Parse(answer->body.c_str(), answer->body.size());
  REQUIRE_MESSAGE(!document.HasParseError(), "GET ", path, ": ", answer->body);
  return document;
}

// Every "name{labels} value" sample of a Prometheus text exposition, by "name{labels}".
std::map<std::string, std::int64_t> samples(const std::string& exposition) {
  std::map<std::string, std::int64_t> found;
  std::size_t line = 0;
  while (line < exposition.size()) {
    std::size_t end = exposition.find('\n', line);
    if (end == std::string::npos) end = exposition.size();
    const std::string sample = exposition.substr(line, end - line);
    line = end + 1;
    const std::size_t space = sample.rfind(' ');
    if (sample.empty() || sample[0] == '#' || space == std::string::npos) continue;
    found[sample.substr(0, space)] = static_cast<std::int64_t>(std::stod(sample.substr(space + 1)));
  }
  return found;
}

// What one run of node_to_sink.mjs reported about itself.
struct node_run {
  std::string sdk_version, exception_id, message_id;
  bool flushed = false;
  bool closed = false;
  std::map<std::string, std::int64_t> items;  // item type -> items in requests answered 2xx
  std::vector<int> statuses;                  // one per request, in order
};

node_run run_node(const std::string& dsn, const std::string& lifecycle) {
  const child_result ran =
      run_child({WARDEN_NODE, WARDEN_NODE_TO_SINK_SCRIPT, dsn, lifecycle}, kNodeLimit);
  INFO("node_to_sink.mjs ", lifecycle, " printed: ", ran.output);
  REQUIRE_FALSE(ran.timed_out);
  REQUIRE(WIFEXITED(ran.status));
  REQUIRE(WEXITSTATUS(ran.status) == 0);
  // The summary is the last line (the SDK's own logging, if any, comes before).
  std::string line = ran.output.substr(0, ran.output.find_last_not_of('\n') + 1);
  line = line.substr(line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1);
  rapidjson::Document summary;
  summary.Parse(line.c_str(), line.size());
  REQUIRE_FALSE(summary.HasParseError());
  node_run run;
  run.sdk_version = text(summary, "sdk_version");
  run.exception_id = text(summary, "exception_id");
  run.message_id = text(summary, "message_id");
  run.flushed = summary["flushed"].IsTrue();
  run.closed = summary["closed"].IsTrue();
  for (const auto& request : summary["requests"].GetArray()) {
    const int status = request["status"].GetInt();
    run.statuses.push_back(status);
    if (status < 200 || status >= 300) continue;
    for (const auto& item : request["items"].GetArray()) ++run.items[item.GetString()];
  }
  return run;
}

}  // namespace

TEST_CASE(
    "@sentry/node from npm sends live events and messages and transactions and spans to "
    "warden-sink") {
  temp_directory directory;
  sink_process sink{WARDEN_SINK_BINARY,
                    {"--config=" + directory.write("sink.yaml",
                                                   "projects:\n"
                                                   "  - id: 7\n"
                                                   "    name: node-app\n"
                                                   "    keys: [{public_key: " +
                                                       std::string{kPublicKey} +
                                                       "}]\n"
                                                       "storage: {durable: false}\n"),
                     "--database=" + directory.file("sink.db")}};
  REQUIRE(sink.port() > 0);
  const std::string dsn =
      "http://" + std::string{kPublicKey} + "@127.0.0.1:" + std::to_string(sink.port()) + "/7";

  std::map<std::string, node_run> runs;
  std::map<std::string, std::int64_t> sent;  // item type -> items the sink answered 2xx
  for (const char* lifecycle : {"static", "stream"}) {
    CAPTURE(lifecycle);
    const node_run run = run_node(dsn, lifecycle);
    CHECK(run.sdk_version.rfind("11.", 0) == 0);
    CHECK(run.flushed);
    CHECK(run.closed);
    CHECK(run.exception_id.size() == 32);
    CHECK(run.message_id.size() == 32);
    for (const int status : run.statuses) CHECK(status == 200);
    CHECK(count_of(run.items, "event") == 2);
    CHECK(count_of(run.items, "session") >= 1);
    // The two lifecycles: a transaction item with its child spans, or span (v2) items.
    if (std::string{lifecycle} == "static") {
      CHECK(count_of(run.items, "transaction") == 1);
      CHECK(count_of(run.items, "span") == 0);
    } else {
      CHECK(count_of(run.items, "span") >= 1);
      CHECK(count_of(run.items, "transaction") == 0);
    }
    for (const auto& [type, count] : run.items) sent[type] += count;
    runs[lifecycle] = run;
  }

  httplib::Client client{"127.0.0.1", sink.port()};
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(30, 0);

  // Every item the SDK saw acknowledged is counted once, by its type; nothing refused.
  const auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  REQUIRE(metrics->status == 200);
  INFO("/metrics:\n", metrics->body);
  const std::map<std::string, std::int64_t> counted = samples(metrics->body);
  const auto accepted = [&counted](const std::string& type) {
    return count_of(counted, "warden_sink_accepted_total{type=\"" + type + "\"}");
  };
  // (No structured bindings in the checks: Clang's C++17 cannot capture them in lambdas.)
  for (const auto& type_count : sent) {
    CHECK_MESSAGE(accepted(type_count.first) == type_count.second, type_count.first);
  }
  for (const char* type : {"event", "transaction", "span", "session"}) {
    CHECK_MESSAGE(accepted(type) > 0, type);
  }
  for (const auto& sample : counted) {
    const std::string& series = sample.first;
    if (series.rfind("warden_sink_rejected_total", 0) == 0 ||
        series.rfind("warden_sink_sdk_discarded_total", 0) == 0) {
      CHECK_MESSAGE(sample.second == 0, series);
    }
  }

  // The exception and the message, each one issue over both runs, owned by their tags.
  const rapidjson::Document listed = get_json(client, "/api/0/issues?project=7");
  std::map<std::string, const rapidjson::Value*> by_title;
  for (const auto& issue : listed["issues"].GetArray()) by_title[text(issue, "title")] = &issue;
  CHECK(by_title.size() == 2);
  struct expected_issue {
    const char* title;
    const char* team;
    const char* function;
    const char* product;
    const char* level;
    const char* kind;
    std::set<std::string> event_ids;
  };
  const expected_issue expected[] = {
      {kExceptionTitle,
       "payments",
       "backend",
       "checkout",
       "error",
       "exception",
       {runs["static"].exception_id, runs["stream"].exception_id}},
      {kMessageTitle,
       "storefront",
       "frontend",
       "shop",
       "warning",
       "message",
       {runs["static"].message_id, runs["stream"].message_id}},
  };
  for (const expected_issue& want : expected) {
    CAPTURE(want.title);
    REQUIRE(by_title.count(want.title) == 1);
    const rapidjson::Value& issue = *by_title[want.title];
    CHECK(issue["project_id"].GetInt64() == 7);
    CHECK(text(issue["owner"], "team") == want.team);
    CHECK(text(issue["owner"], "function") == want.function);
    CHECK(text(issue["owner"], "product") == want.product);
    CHECK(text(issue["owner"], "source") == "sdk");
    CHECK(text(issue, "level") == want.level);
    CHECK(text(issue["grouping"], "kind") == want.kind);
    CHECK(issue["count"].GetInt64() == 2);
    CHECK(text(issue, "first_release") == kRelease);
    const std::string id = std::to_string(issue["id"].GetInt64());
    const rapidjson::Document events = get_json(client, "/api/0/issues/" + id + "/events");
    std::set<std::string> ids;
    for (const auto& event : events["events"].GetArray()) {
      ids.insert(text(event, "event_id"));
      CHECK(text(event, "platform") == "node");
      CHECK(text(event, "environment") == kEnvironment);
      CHECK(text(event["sdk"], "name") == "sentry.javascript.node");
      CHECK(text(event["tags"], "team") == want.team);
    }
    CHECK(ids == want.event_ids);
  }
  if (by_title.count(kExceptionTitle) == 1) {
    CHECK(text(*by_title[kExceptionTitle], "culprit") == "chargeCard");
  }

  const rapidjson::Document owners = get_json(client, "/api/0/owners");
  std::map<std::string, std::int64_t> events_by_owner;
  for (const auto& owner : owners["owners"].GetArray()) {
    events_by_owner[text(owner, "team") + "/" + text(owner, "source")] +=
        owner["events"].GetInt64();
  }
  CHECK(events_by_owner ==
        std::map<std::string, std::int64_t>{{"payments/sdk", 2}, {"storefront/sdk", 2}});
}

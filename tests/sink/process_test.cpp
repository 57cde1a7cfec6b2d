// The real warden-sink process on a loopback port with a temporary database: what real
// SDKs send (the @sentry/node captures in ../shared/fixtures), every refusal class with
// its status while the server keeps serving, the query API, rate limits, a graceful
// stop, kill -9 losing nothing that was acknowledged, and many keep-alive connections
// served at once up to limits.max_connections.
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sink_client.hpp"

namespace {

using warden::testing::client_for;
using warden::testing::event_id;
using warden::testing::json_of;
using warden::testing::read_file;
using warden::testing::run_command;
using warden::testing::sink_process;
using warden::testing::temp_directory;

const std::string kFixtures = WARDEN_SENTRY_NODE_FIXTURES;  // tests/fixtures/sentry-node-client

// Project 7 with the key the fixtures use.
constexpr const char* kConfig = R"(
projects:
  - id: 7
    name: node-app
    keys:
      - public_key: pubkey
      - public_key: revokedkey
        revoked: true
storage: {durable: false}
)";

// The sink started with `config` in `directory`.
sink_process start_sink(const temp_directory& directory, const std::string& config = kConfig) {
  return sink_process{WARDEN_SINK_BINARY,
                      {"--config=" + directory.write("sink.yaml", config),
                       "--database=" + directory.file("sink.db")}};
}

// Posts a fixture capture as the SDK sent it: same path, same body, same encoding.
httplib::Result replay(httplib::Client& client, const std::string& capture) {
  const std::string head = read_file(kFixtures + "/" + capture + ".head.txt");
  const std::size_t start = head.find("POST ") + 5;
  const std::string path = head.substr(start, head.find(' ', start) - start);
  httplib::Headers headers{{"User-Agent", "sentry.javascript.node/11.12.0"}};
  if (head.find("content-encoding: gzip") != std::string::npos) {
    headers.emplace("Content-Encoding", "gzip");
  }
  return client.Post(path, headers, read_file(kFixtures + "/" + capture + ".raw"), "");
}

// An envelope carrying one event with `event_id` and `message`.
std::string message_envelope(const std::string& event_id, const std::string& message) {
  return R"({"event_id":")" + event_id + "\"}\n{\"type\":\"event\"}\n" + R"({"message":")" +
         message + R"(","level":"error","tags":{"team":"payments"}})" + "\n";
}

// `bytes` zeros, gzipped (about a thousandth of the size), compressed in chunks.
std::string gzip_bomb(std::size_t bytes) {
  z_stream stream{};
  deflateInit2(&stream, 1, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  const std::string zeros(1024 * 1024, '\0');
  std::string out;
  char buffer[64 * 1024];
  for (std::size_t left = bytes; left > 0 || stream.avail_in > 0;) {
    if (stream.avail_in == 0) {
      const std::size_t chunk = std::min(left, zeros.size());
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
      stream.avail_in = static_cast<uInt>(chunk);
      left -= chunk;
    }
    do {
      stream.next_out = reinterpret_cast<Bytef*>(buffer);
      stream.avail_out = sizeof buffer;
      deflate(&stream, left == 0 ? Z_FINISH : Z_NO_FLUSH);
      out.append(buffer, sizeof buffer - stream.avail_out);
    } while (stream.avail_out == 0);
  }
  deflateEnd(&stream);
  return out;
}

constexpr const char* kEnvelopePath = "/api/7/envelope/?sentry_key=pubkey&sentry_version=7";

// The value of the unlabelled metric `name` in a /metrics answer; -1 when it is missing.
double metric(const std::string& metrics, const std::string& name) {
  const std::string line_start = name + " ";
  for (std::size_t at = 0; at < metrics.size();) {
    const std::size_t end = std::min(metrics.find('\n', at), metrics.size());
    if (metrics.compare(at, line_start.size(), line_start) == 0) {
      return std::stod(metrics.substr(at + line_start.size(), end - at - line_start.size()));
    }
    at = end + 1;
  }
  return -1;
}

// A client that keeps its connection open between requests.
std::unique_ptr<httplib::Client> keep_alive_client(const sink_process& sink) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", sink.port());
  client->set_keep_alive(true);
  client->set_read_timeout(10, 0);
  return client;
}

// How long `request` took to be answered, and its status (0 without an answer).
struct timed_answer {
  int status = 0;
  std::chrono::steady_clock::duration took{};
};

timed_answer timed_get(httplib::Client& client, const std::string& path) {
  const auto started = std::chrono::steady_clock::now();
  const auto answer = client.Get(path);
  return {answer ? answer->status : 0, std::chrono::steady_clock::now() - started};
}

long long milliseconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

}  // namespace

TEST_CASE("@sentry/node's requests are accepted and grouped into issues") {
  temp_directory directory;
  auto sink = start_sink(directory);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  for (const char* capture : {"req01", "req02", "req03", "req04", "run2/req01", "run2/req02",
                              "run2/req03", "run2/req04"}) {
    const auto answer = replay(client, capture);
    REQUIRE(answer);
    CHECK_MESSAGE(answer->status == 200, capture, ": ", answer->body);
  }
  const auto listed = client.Get("/api/0/issues");
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  const auto issues = json_of(listed->body);
  // Each run captured one exception and one message; the two runs threw the same error
  // from the same code, so it is one issue... unless the scripts differ (they do: two
  // files), so four issues, none for spans, sessions or transactions.
  CHECK(issues["issues"].Size() >= 2);
  bool exception_seen = false;
  for (const auto& issue : issues["issues"].GetArray()) {
    CHECK(issue["project_id"].GetInt64() == 7);
    CHECK(std::string{issue["owner"]["source"].GetString()} == "fallback");
    exception_seen |= std::string{issue["title"].GetString()}.find("TypeError") == 0;
  }
  CHECK(exception_seen);
  const auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("warden_sink_accepted_total{type=\"span\"}") != std::string::npos);
  CHECK(metrics->body.find("warden_sink_accepted_total{type=\"session\"}") != std::string::npos);
}

TEST_CASE("every refusal has its status and message, and the sink keeps serving") {
  temp_directory directory;
  auto sink = start_sink(directory);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  const std::string good = message_envelope(event_id(1), "ok");
  struct refusal {
    const char* what;
    std::string path;
    httplib::Headers headers;
    std::string body;
    int status;
  };
  const std::vector<refusal> refusals{
      {"no auth", "/api/7/envelope/", {}, good, 401},
      {"unknown key", "/api/7/envelope/?sentry_key=nobody", {}, good, 403},
      {"revoked key", "/api/7/envelope/?sentry_key=revokedkey", {}, good, 403},
      {"wrong project", "/api/8/envelope/?sentry_key=pubkey", {}, good, 403},
      {"two keys",
       "/api/7/envelope/?sentry_key=pubkey",
       {{"X-Sentry-Auth", "Sentry sentry_key=other, sentry_version=7"}},
       good,
       401},
      {"future protocol", "/api/7/envelope/?sentry_key=pubkey&sentry_version=99", {}, good, 400},
      {"not an envelope", kEnvelopePath, {}, "garbage\n{\"type\":}", 400},
      {"bad JSON event", kEnvelopePath, {}, "{}\n{\"type\":\"event\"}\n{not json}\n", 400},
      {"invalid UTF-8",
       kEnvelopePath,
       {},
       "{}\n{\"type\":\"event\"}\n{\"message\":\"\xff\xfe\"}\n",
       400},
      {"deep JSON",
       kEnvelopePath,
       {},
       "{}\n{\"type\":\"event\"}\n" + std::string(100000, '[') + std::string(100000, ']') + "\n",
       400},
      {"bad gzip", kEnvelopePath, {{"Content-Encoding", "gzip"}}, "not gzip at all", 400},
      {"unknown encoding", kEnvelopePath, {{"Content-Encoding", "zip"}}, good, 400},
      {"gzip bomb",
       kEnvelopePath,
       {{"Content-Encoding", "gzip"}},
       gzip_bomb(std::size_t{200} * 1024 * 1024),
       413},
      {"event too large",
       kEnvelopePath,
       {},
       "{}\n{\"type\":\"event\"}\n{\"message\":\"" + std::string(2 * 1024 * 1024, 'x') + "\"}\n",
       413},
  };
  for (const auto& each : refusals) {
    const auto answer = client.Post(each.path, each.headers, each.body, "");
    REQUIRE_MESSAGE(answer, each.what);
    CHECK_MESSAGE(answer->status == each.status, each.what, ": ", answer->body);
    CHECK_MESSAGE(answer->body.find("detail") != std::string::npos, each.what);
    const auto healthy = client.Get("/healthz");
    REQUIRE(healthy);
    CHECK(healthy->status == 200);
  }
  const auto accepted = client.Post(kEnvelopePath, good, "");
  REQUIRE(accepted);
  CHECK(accepted->status == 200);
  CHECK(accepted->body == R"({"id":")" + event_id(1) + "\"}");
}

TEST_CASE("acknowledged events survive kill -9 under load, each exactly once") {
  temp_directory directory;
  constexpr int kSenders = 4;
  constexpr int kEach = 400;
  std::vector<std::vector<int>> acknowledged(kSenders);
  // The default durability; every event kept, so that each can be looked up.
  const std::string config = R"(
projects: [{id: 7, keys: [{public_key: pubkey}]}]
storage: {max_events_per_issue: 100000}
)";
  {
    auto sink = start_sink(directory, config);
    REQUIRE(sink.port() > 0);
    std::atomic<int> answered{0};
    std::atomic<int> finished{0};
    std::vector<std::thread> senders;
    for (int sender = 0; sender < kSenders; ++sender) {
      senders.emplace_back([&, sender] {
        auto client = client_for(sink);
        for (int i = 0; i < kEach; ++i) {
          const int id = sender * kEach + i;
          const auto answer =
              client.Post(kEnvelopePath, message_envelope(event_id(id), "order failed"), "");
          if (!answer) break;  // killed
          if (answer->status == 200) acknowledged[static_cast<std::size_t>(sender)].push_back(id);
          ++answered;
        }
        ++finished;
      });
    }
    // Killed while the senders are busy.
    while (answered < kSenders * kEach / 3 && finished < kSenders) {
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    REQUIRE_MESSAGE(sink.running(), "the sink died before the kill");
    sink.kill(SIGKILL);
    for (auto& thread : senders) thread.join();
  }
  std::size_t total = 0;
  for (const auto& ids : acknowledged) total += ids.size();
  REQUIRE(total >= kSenders * kEach / 3);

  auto sink = start_sink(directory, config);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  const auto count = [&] {
    const auto listed = client.Get("/api/0/issues");
    REQUIRE(listed);
    const auto issues = json_of(listed->body);
    REQUIRE(issues["issues"].Size() == 1);
    CHECK(std::string{issues["issues"][0]["owner"]["team"].GetString()} == "payments");
    return issues["issues"][0]["count"].GetInt64();
  };
  // Every acknowledged event is there (some unacknowledged ones may be too: committed
  // just before the kill, their answer lost).
  const std::int64_t stored = count();
  CHECK(stored >= static_cast<std::int64_t>(total));
  CHECK(stored <= static_cast<std::int64_t>(total) + kSenders);
  for (const auto& ids : acknowledged) {
    for (const int id : ids) {
      const auto found = client.Get("/api/0/projects/7/events/" + event_id(id));
      REQUIRE(found);
      CHECK_MESSAGE(found->status == 200, "event ", id, " was acknowledged but is missing");
    }
  }
  // Sent again (an SDK retrying), they are duplicates: the count does not change.
  for (const auto& ids : acknowledged) {
    for (std::size_t i = 0; i < ids.size(); i += 7) {
      const auto again =
          client.Post(kEnvelopePath, message_envelope(event_id(ids[i]), "order failed"), "");
      REQUIRE(again);
      CHECK(again->status == 200);
    }
  }
  CHECK(count() == stored);
}

TEST_CASE("an event is stored as sent when it carries its id, else with the id added") {
  temp_directory directory;
  auto sink = start_sink(directory, kConfig);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  // As SDKs send it: the payload has the envelope's id. Its bytes are kept (the spacing
  // shows it was not written out again).
  const std::string carried = event_id(50);
  const std::string as_sent = R"({ "event_id" : ")" + carried + R"(", "message" : "as sent" })";
  const std::string envelope =
      R"({"event_id":")" + carried + R"("})" + "\n" + R"({"type":"event"})" + "\n" + as_sent;
  REQUIRE(client.Post(kEnvelopePath, envelope, "")->status == 200);
  const auto kept = client.Get("/api/0/projects/7/events/" + carried);
  REQUIRE(kept);
  REQUIRE(kept->status == 200);
  CHECK(kept->body.find(as_sent) != std::string::npos);
  // Without an id in the payload (or another one), the envelope's id is written into it.
  const std::string added = event_id(51);
  REQUIRE(client.Post(kEnvelopePath, message_envelope(added, "id added"), "")->status == 200);
  const auto completed = client.Get("/api/0/projects/7/events/" + added);
  REQUIRE(completed);
  REQUIRE(completed->status == 200);
  const auto detail = json_of(completed->body);
  CHECK(detail["event"]["event_id"] == added.c_str());
  CHECK(detail["event"]["message"] == "id added");
}

TEST_CASE("attachments are stored when the config says so, and served with their event") {
  temp_directory directory;
  auto sink = start_sink(directory, std::string{kConfig} + "attachments: store\n");
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  const std::string id = event_id(42);
  const std::string body = R"({"event_id":")" + id + "\"}\n" + R"({"type":"event"})" + "\n" +
                           R"({"message":"with a file"})" + "\n" +
                           R"({"type":"attachment","length":5,"filename":"log.txt",)" +
                           R"("content_type":"text/plain"})" + "\nhello\n";
  const auto accepted = client.Post(kEnvelopePath, body, "");
  REQUIRE(accepted);
  REQUIRE(accepted->status == 200);
  const auto shown = client.Get("/api/0/projects/7/events/" + id);
  REQUIRE(shown);
  REQUIRE(shown->status == 200);
  const auto detail = json_of(shown->body);
  CHECK(detail["event"]["message"] == "with a file");
  REQUIRE(detail["attachments"].Size() == 1);
  CHECK(detail["attachments"][0]["filename"] == "log.txt");
  CHECK(detail["attachments"][0]["size"].GetInt64() == 5);
  const auto bytes = client.Get("/api/0/projects/7/events/" + id + "/attachments/" +
                                std::to_string(detail["attachments"][0]["id"].GetInt64()));
  REQUIRE(bytes);
  CHECK(bytes->status == 200);
  CHECK(bytes->body == "hello");
  CHECK(bytes->get_header_value("Content-Type") == "text/plain");
  CHECK(client.Get("/api/0/projects/7/events/" + event_id(43))->status == 404);

  // By default attachments are dropped, and counted.
  temp_directory other;
  auto dropping = start_sink(other);
  auto second = client_for(dropping);
  REQUIRE(second.Post(kEnvelopePath, body, "")->status == 200);
  const auto listed = second.Get("/api/0/projects/7/events/" + id);
  REQUIRE(listed);
  CHECK(json_of(listed->body)["attachments"].Size() == 0);
  CHECK(second.Get("/metrics")->body.find("reason=\"attachments_disabled\"} 1") !=
        std::string::npos);
}

TEST_CASE("the query API changes issue state, and SIGTERM stops the sink cleanly") {
  temp_directory directory;
  auto sink = start_sink(directory);
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  REQUIRE(client.Post(kEnvelopePath, message_envelope(event_id(1), "boom"), "")->status == 200);
  const auto resolved =
      client.Put("/api/0/issues/1", R"({"status":"resolved","actor":"ann"})", "application/json");
  REQUIRE(resolved);
  CHECK(resolved->status == 200);
  CHECK(json_of(resolved->body)["status"] == "resolved");
  REQUIRE(client.Post(kEnvelopePath, message_envelope(event_id(2), "boom"), "")->status == 200);
  const auto shown = client.Get("/api/0/issues/1");
  REQUIRE(shown);
  const auto issue = json_of(shown->body);
  CHECK(issue["issue"]["status"] == "unresolved");
  CHECK(issue["issue"]["substatus"] == "regressed");
  REQUIRE(issue["facets"]["level"].Size() == 1);
  CHECK(issue["facets"]["level"][0]["value"] == "error");
  CHECK(issue["facets"]["level"][0]["count"].GetInt64() == 2);
  // Who changed what: the sink opened it, ann resolved it, the sink reopened it.
  const auto& activity = issue["activity"];
  REQUIRE(activity.Size() == 3);
  CHECK(activity[0]["action"] == "first_seen");
  CHECK(activity[1]["action"] == "resolved");
  CHECK(activity[1]["actor"] == "ann");
  CHECK(activity[2]["action"] == "regressed");
  CHECK(activity[2]["actor"] == "warden-sink");
  CHECK(issue["latest_event"]["event_id"] == event_id(2).c_str());
  CHECK(client.Get("/api/0/issues/99")->status == 404);
  CHECK(client.Put("/api/0/issues/1", R"({"status":"sleeping"})", "application/json")->status ==
        400);
  const int status = sink.kill(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a project over its quota is answered 429 with Sentry's headers") {
  temp_directory directory;
  auto sink = start_sink(directory, R"(
projects:
  - id: 7
    keys: [{public_key: pubkey}]
    events_per_minute: 5
storage: {durable: false}
)");
  REQUIRE(sink.port() > 0);
  auto client = client_for(sink);
  int accepted = 0;
  httplib::Response last;
  for (int i = 0; i < 8; ++i) {
    const auto answer = client.Post(kEnvelopePath, message_envelope(event_id(i), "flood"), "");
    REQUIRE(answer);
    if (answer->status == 200) ++accepted;
    last = answer.value();
  }
  CHECK(accepted == 5);
  CHECK(last.status == 429);
  CHECK(std::stoi(last.get_header_value("Retry-After")) >= 1);
  CHECK(last.get_header_value("X-Sentry-Rate-Limits").find(":error;default:project:") !=
        std::string::npos);
}

TEST_CASE("--check-config prints every error with its line") {
  temp_directory directory;
  const std::string path = directory.write("bad.yaml", "listen: nowhere\nprojects:\n  - id: 0\n");
  const auto [exit_code, output] =
      run_command(std::string{WARDEN_SINK_BINARY} + " --check-config --config=" + path);
  CHECK(exit_code == 2);
  CHECK(output.find(path + ":1:") != std::string::npos);
  CHECK(output.find(path + ":3:") != std::string::npos);
}

TEST_CASE("100 keep-alive connections at once are all served, none waits for another") {
  // cpp-httplib holds a thread per connection while it is kept alive: with a fixed pool
  // of 64 threads, the 65th connection waited for one of the first to be idle for the
  // keep-alive timeout (5 s). The sink starts a thread per connection instead.
  temp_directory directory;
  auto sink = start_sink(directory);
  REQUIRE(sink.port() > 0);
  constexpr int kConnections = 100;
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < kConnections; ++i) clients.push_back(keep_alive_client(sink));
  std::vector<timed_answer> answers(kConnections);
  std::vector<std::thread> senders;
  for (int i = 0; i < kConnections; ++i) {
    senders.emplace_back([&, i] {
      answers[static_cast<std::size_t>(i)] =
          timed_get(*clients[static_cast<std::size_t>(i)], "/healthz");
    });
  }
  for (auto& sender : senders) sender.join();
  for (int i = 0; i < kConnections; ++i) {
    const timed_answer& answer = answers[static_cast<std::size_t>(i)];
    CHECK_MESSAGE(answer.status == 200, "connection ", i);
    // Well below the keep-alive timeout: no connection waited for another to go idle.
    CHECK_MESSAGE(answer.took < std::chrono::seconds{3}, "connection ", i, " waited ",
                  milliseconds(answer.took), " ms");
  }
  // Every connection is still open, on its own thread (the first asks).
  const auto metrics = clients.front()->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metric(metrics->body, "warden_sink_connections_busy") == kConnections);
  CHECK(metric(metrics->body, "warden_sink_connection_threads") >= kConnections);
  CHECK(metric(metrics->body, "warden_sink_connection_threads_peak") >= kConnections);
  CHECK(metric(metrics->body, "warden_sink_connections_waiting") == 0);
  CHECK(metric(metrics->body, "warden_sink_connections_waited_total") == 0);
}

TEST_CASE("limits.max_connections is honoured: one more connection waits until one closes") {
  temp_directory directory;
  auto sink = start_sink(directory, std::string{kConfig} + "limits: {max_connections: 4}\n");
  REQUIRE(sink.port() > 0);
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(keep_alive_client(sink));
    REQUIRE(clients.back()->Get("/healthz")->status == 200);
  }
  // The fifth connection is accepted, but every thread holds an open connection.
  auto fifth_client = keep_alive_client(sink);
  auto fifth = std::async(std::launch::async, [&] { return timed_get(*fifth_client, "/healthz"); });
  // The first connection sees it waiting.
  std::string metrics;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{3};
  do {
    const auto answer = clients.front()->Get("/metrics");
    REQUIRE(answer);
    metrics = answer->body;
    if (metric(metrics, "warden_sink_connections_waiting") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  } while (std::chrono::steady_clock::now() < deadline);
  CHECK(metric(metrics, "warden_sink_connections_waiting") == 1);
  CHECK(metric(metrics, "warden_sink_connections_waited_total") == 1);
  CHECK(metric(metrics, "warden_sink_connections_busy") == 4);
  CHECK(metric(metrics, "warden_sink_connection_threads") == 4);
  CHECK(fifth.wait_for(std::chrono::seconds{0}) == std::future_status::timeout);

  // One closes: its thread serves the fifth, long before any keep-alive timeout.
  const auto closed = std::chrono::steady_clock::now();
  clients[1].reset();
  REQUIRE(fifth.wait_for(std::chrono::seconds{3}) == std::future_status::ready);
  CHECK(fifth.get().status == 200);
  MESSAGE("answered ", milliseconds(std::chrono::steady_clock::now() - closed),
          " ms after a connection closed");
  const auto after = clients.front()->Get("/metrics");
  REQUIRE(after);
  CHECK(metric(after->body, "warden_sink_connections_waiting") == 0);
  CHECK(metric(after->body, "warden_sink_connection_threads_peak") == 4);
}

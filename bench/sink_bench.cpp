// warden-sink under load: the real binary as a child process on a fresh database, fed
// realistic error envelopes (sink_events.hpp) over N keep-alive connections by a libcurl
// load generator (sink_load.hpp) in this process. Measured: the maximum rate (closed
// loop), response times at half of it (open loop), the child's peak resident memory, and
// what 1,000,000 events of one issue leave in the database; next to a bare cpp-httplib
// server with the sink's settings, the ceiling of this machine. Budgets are in the labels;
// figures are recorded in docs/BENCHMARKS.md.
//
// The default run is short (the test command's smoke run); --sink_full runs the lengths
// behind the recorded figures (5 s per rate, 10 s at half rate, 1,000,000 events):
//   warden_bench_sink --sink_full --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sink_events.hpp"
#include "sink_load.hpp"
#include "sink_process.hpp"

namespace {

using namespace std::chrono_literals;
using warden::bench::envelope_size;
using warden::bench::load_generator;
using warden::bench::load_plan;
using warden::bench::load_result;
using warden::bench::percentile;
using warden::bench::sink_envelopes;
using warden::testing::sink_process;
using warden::testing::temp_directory;

// Set by --sink_full: the lengths behind the recorded figures.
bool full_run = false;

constexpr std::size_t kGroups = 1000;
// Concurrent connections of the closed loop. Each request waits for its batch's commit
// (about 3 ms with the sync), so by Little's law 32 connections could not pass 32 / 3 ms
// ≈ 10k requests/s whatever the sink's capacity: 64, as SDK fleets bring, saturate it.
constexpr std::size_t kConnections = 64;
// The open loop may use every thread of the sink, so that a stall queues there (and
// shows as latency) rather than in this client.
constexpr std::size_t kPacedConnections = 64;
constexpr const char* kIngestPath = "/api/1/envelope/";

std::chrono::duration<double> rate_duration() { return full_run ? 5s : 200ms; }
std::chrono::duration<double> probe_duration() { return full_run ? 3s : 200ms; }
std::chrono::duration<double> paced_duration() { return full_run ? 10s : 300ms; }
std::uint64_t warm_up_requests() { return full_run ? kGroups : 200; }
std::uint64_t identical_events() { return full_run ? 1'000'000 : 2'000; }

std::vector<std::string> sentry_headers() {
  return {"Content-Type: application/x-sentry-envelope",
          "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=benchkey, "
          "sentry_client=warden-bench/0.1",
          "User-Agent: warden-bench/0.1"};
}

// Bodies of uniformly random groups, the same sequence in every run.
warden::bench::body_source random_groups(sink_envelopes& envelopes) {
  auto random = std::make_shared<std::mt19937_64>(42);
  return [&envelopes, random](std::string& body) {
    envelopes.make(static_cast<std::size_t>((*random)() % envelopes.groups()), body);
  };
}

// Bodies of every group in turn: a warm-up that opens each issue once.
warden::bench::body_source each_group(sink_envelopes& envelopes) {
  auto next = std::make_shared<std::size_t>(0);
  return [&envelopes, next](std::string& body) { envelopes.make((*next)++, body); };
}

// The child's /proc/<pid>/status field `name` ("VmHWM"), in kB; 0 when unknown.
double proc_status_kb(pid_t pid, const std::string& name) {
  std::ifstream status{fmt::format("/proc/{}/status", pid)};
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(name + ":", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return 0;
}

// What each thread of `pid` has run so far (schedstat): CPU seconds, and how many times
// it was put on a CPU (about one context switch each).
struct thread_runs {
  double cpu_seconds = 0;
  double timeslices = 0;
};
std::map<std::string, thread_runs> thread_usage(pid_t pid) {
  std::map<std::string, thread_runs> threads;
  std::error_code gone;
  for (const auto& task :
       std::filesystem::directory_iterator{fmt::format("/proc/{}/task", pid), gone}) {
    std::ifstream schedstat{task.path() / "schedstat"};
    double nanoseconds = 0;
    double waited = 0;
    double timeslices = 0;
    if (schedstat >> nanoseconds >> waited >> timeslices) {
      threads[task.path().filename().string()] = {nanoseconds * 1e-9, timeslices};
    }
  }
  return threads;
}

// Bytes `pid` has written so far, to files and sockets ("wchar" of /proc/<pid>/io).
double written_bytes(pid_t pid) {
  std::ifstream io{fmt::format("/proc/{}/io", pid)};
  std::string name;
  double value = 0;
  while (io >> name >> value) {
    if (name == "wchar:") return value;
  }
  return 0;
}

// The warden-sink to run: $WARDEN_SINK_BINARY (to compare another build, a candidate
// fix say), else the one built with this benchmark.
std::string sink_binary() {
  const char* chosen = std::getenv("WARDEN_SINK_BINARY");
  return chosen != nullptr && *chosen != '\0' ? chosen : WARDEN_SINK_BINARY;
}

// The child of this process that runs `binary` (sink_process does not expose its pid).
pid_t child_running(const std::string& binary) {
  std::error_code error;
  const std::filesystem::path wanted = std::filesystem::canonical(binary, error);
  if (error) return -1;
  for (const auto& entry : std::filesystem::directory_iterator{"/proc", error}) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat{entry.path() / "stat"};
    std::string text{std::istreambuf_iterator<char>{stat}, {}};
    const std::size_t after_name = text.rfind(')');
    if (after_name == std::string::npos) continue;
    std::istringstream fields{text.substr(after_name + 2)};
    std::string state;
    pid_t parent = 0;
    fields >> state >> parent;
    std::error_code unreadable;
    if (parent == ::getpid() &&
        std::filesystem::read_symlink(entry.path() / "exe", unreadable) == wanted) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return -1;
}

// warden-sink as a child: project 1 with key "benchkey", a fresh database in a temporary
// directory, the chosen durability.
class bench_sink final {
 public:
  explicit bench_sink(bool durable)
      : process_{sink_binary(),
                 {"--config=" + directory_.write("sink.yaml", config(durable)),
                  "--database=" + directory_.file("sink.db")}},
        pid_{child_running(sink_binary())} {}

  /// Stops it gracefully: what it acknowledged is committed, as in production.
  ~bench_sink() { process_.kill(SIGTERM); }
  bench_sink(const bench_sink&) = delete;
  bench_sink& operator=(const bench_sink&) = delete;

  /// Whether it listens and its pid is known.
  bool started() const { return process_.port() > 0 && pid_ > 0; }
  /// "http://127.0.0.1:<port><path>".
  std::string url(const std::string& path) const { return process_.base_url() + path; }
  /// Peak resident memory so far (VmHWM), in MiB.
  double peak_rss_mb() const { return proc_status_kb(pid_, "VmHWM") / 1024.0; }
  /// Per-thread CPU seconds and timeslices, and bytes written so far, for costs per
  /// event.
  struct usage {
    std::map<std::string, thread_runs> threads;
    double written = 0;
  };
  usage measure() const { return {thread_usage(pid_), written_bytes(pid_)}; }

  /// Stops it with SIGTERM (it commits and checkpoints) and returns the size of the
  /// database with its -wal and -shm files, in bytes.
  std::uintmax_t stop_and_measure() {
    process_.kill(SIGTERM);
    std::uintmax_t bytes = 0;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code missing;
      const std::uintmax_t size =
          std::filesystem::file_size(directory_.file(std::string{"sink.db"} + suffix), missing);
      if (!missing) bytes += size;
    }
    return bytes;
  }

 private:
  static std::string config(bool durable) {
    return fmt::format(
        "projects:\n"
        "  - id: 1\n"
        "    name: bench\n"
        "    keys:\n"
        "      - public_key: benchkey\n"
        "storage: {{durable: {}}}\n",
        durable ? "true" : "false");
  }

  temp_directory directory_;
  sink_process process_;
  pid_t pid_;
};

// A bare cpp-httplib server with warden-sink's settings (TCP_NODELAY, keep-alive for
// 10,000 requests, the body read in chunks; httplib's own 64-thread pool, enough for the
// load's connections, where the sink starts a thread per connection) answering every
// envelope with an id and doing nothing else.
class bare_server final {
 public:
  bare_server() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(10000);
    server_.set_payload_max_length(20 * 1024 * 1024);
    server_.Post(
        R"(/api/(\d+)/(envelope|store)/?)", [](const httplib::Request&, httplib::Response& response,
                                               const httplib::ContentReader& read) {
          std::string body;
          read([&](const char* data, std::size_t length) {
            body.append(data, length);
            return true;
          });
          response.set_content(R"({"id":"0123456789abcdef0123456789abcdef"})", "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    listener_ = std::thread{[this] { server_.listen_after_bind(); }};
  }
  ~bare_server() {
    server_.stop();
    listener_.join();
  }
  bare_server(const bare_server&) = delete;
  bare_server& operator=(const bare_server&) = delete;

  /// "http://127.0.0.1:<port><path>".
  std::string url(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", port_, path);
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread listener_;
};

// CPU seconds (user + system) of every thread of this process so far.
double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Bare-server rates of this run by envelope size, for the sink's share of the ceiling.
std::map<envelope_size, std::vector<double>>& bare_rates() {
  static std::map<envelope_size, std::vector<double>> rates;
  return rates;
}

// The mean of `values`; 0 when empty.
double mean(const std::vector<double>& values) {
  double sum = 0;
  for (const double value : values) sum += value;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

// Fails the benchmark when any request failed; true when all went well.
bool check(benchmark::State& state, const load_result& result, const char* phase) {
  if (result.failed == 0) return true;
  state.SkipWithError(
      fmt::format("{}: {} requests failed, first: {}", phase, result.failed, result.first_failure)
          .c_str());
  return false;
}

// Rate, latency (ms) and client cost counters of a run.
void report(benchmark::State& state, load_result& result, std::size_t bytes) {
  state.SetIterationTime(result.seconds);
  state.SetItemsProcessed(static_cast<std::int64_t>(result.answered));
  state.SetBytesProcessed(static_cast<std::int64_t>(result.body_bytes));
  state.counters["p50_ms"] = percentile(result.latencies_us, 50) / 1000.0;
  state.counters["p99_ms"] = percentile(result.latencies_us, 99) / 1000.0;
  state.counters["body_kB"] = static_cast<double>(bytes) / 1000.0;
  state.counters["client_cpu_us"] =
      result.client_cpu_seconds * 1e6 /
      static_cast<double>(std::max<std::uint64_t>(1, result.answered));
}

// cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into
// Debian's library; warden-sink raises it, the bare server does not): connections opened
// in a burst lose SYNs (retried after 1 s) or are reset. The benchmarks open theirs a few
// at a time, outside the timing; BM_sink_connect_burst measures a burst.
constexpr std::size_t kConnectStep = 4;

// Opens `connections` connections of `load` kConnectStep at a time, one request each
// from `next_body`; returns the requests answered, or nullopt after reporting a failure.
std::optional<std::uint64_t> open_connections(benchmark::State& state, load_generator& load,
                                              std::size_t connections,
                                              const warden::bench::body_source& next_body) {
  std::uint64_t answered = 0;
  for (std::size_t open = kConnectStep; open <= connections; open += kConnectStep) {
    load_plan plan;
    plan.max_requests = open;
    plan.duration = 60s;
    const load_result step = load.run(plan, next_body);
    if (!check(state, step, "opening connections")) return std::nullopt;
    answered += step.answered;
  }
  return answered;
}

// Opens the generator's connections, then sends every issue once (the steady state of a
// sink that has seen its errors before).
bool warm_up(benchmark::State& state, load_generator& load, std::size_t connections,
             sink_envelopes& envelopes) {
  if (!open_connections(state, load, connections, each_group(envelopes))) return false;
  load_plan plan;
  plan.max_requests = warm_up_requests();
  plan.duration = 60s;
  return check(state, load.run(plan, each_group(envelopes)), "warm-up");
}

// Starts a sink; null after reporting an error.
std::unique_ptr<bench_sink> start_sink(benchmark::State& state, bool durable) {
  auto sink = std::make_unique<bench_sink>(durable);
  if (sink->started()) return sink;
  state.SkipWithError("warden-sink did not start");
  return nullptr;
}

// The sink's costs per event between two measures: CPU of all its threads, CPU of the
// busiest thread (the store's writer, whose work is serial: 1e6 / writer_cpu_us bounds
// the rate when it has a core to itself), and bytes written (WAL, checkpoints, answers).
void report_costs(benchmark::State& state, const bench_sink::usage& before,
                  const bench_sink::usage& after, std::uint64_t events) {
  double total = 0;
  double busiest = 0;
  double timeslices = 0;
  for (const auto& [thread, runs] : after.threads) {
    const auto earlier = before.threads.find(thread);
    const thread_runs start = earlier == before.threads.end() ? thread_runs{} : earlier->second;
    const double used = runs.cpu_seconds - start.cpu_seconds;
    total += used;
    busiest = std::max(busiest, used);
    timeslices += runs.timeslices - start.timeslices;
  }
  const double per_event = 1.0 / static_cast<double>(std::max<std::uint64_t>(1, events));
  state.counters["sink_cpu_us"] = total * 1e6 * per_event;
  state.counters["switches"] = timeslices * per_event;
  state.counters["writer_cpu_us"] = busiest * 1e6 * per_event;
  state.counters["written_kB"] = (after.written - before.written) / 1000.0 * per_event;
}

void BM_bare_server(benchmark::State& state, envelope_size size) {
  state.SetLabel("baseline: the ceiling of cpp-httplib on this machine");
  sink_envelopes envelopes{kGroups, size};
  bare_server server;
  load_generator load{server.url(kIngestPath), sentry_headers(), kConnections};
  if (!warm_up(state, load, kConnections, envelopes)) return;
  for (auto _ : state) {
    load_plan plan;
    plan.duration = rate_duration();
    const double cpu_before = process_cpu_seconds();
    load_result result = load.run(plan, random_groups(envelopes));
    const double server_cpu = process_cpu_seconds() - cpu_before - result.client_cpu_seconds;
    if (!check(state, result, "load")) return;
    report(state, result, static_cast<std::size_t>(envelopes.mean_bytes()));
    state.counters["server_cpu_us"] =
        server_cpu * 1e6 / static_cast<double>(std::max<std::uint64_t>(1, result.answered));
    bare_rates()[size].push_back(result.rate());
  }
}
BENCHMARK_CAPTURE(BM_bare_server, small_400B, envelope_size::small)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_bare_server, typical_4kB, envelope_size::typical)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_bare_server, large_50kB, envelope_size::large)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_sink_max_rate(benchmark::State& state, bool durable, envelope_size size) {
  state.SetLabel(size == envelope_size::large
                     ? "budget >= 1k events/s, RSS <= 200 MB"
                     : "budget >= 10k events/s and >= 50% of bare, RSS <= 200 MB");
  sink_envelopes envelopes{kGroups, size};
  std::unique_ptr<bench_sink> sink = start_sink(state, durable);
  if (!sink) return;
  load_generator load{sink->url(kIngestPath), sentry_headers(), kConnections};
  if (!warm_up(state, load, kConnections, envelopes)) return;
  for (auto _ : state) {
    load_plan plan;
    plan.duration = rate_duration();
    const bench_sink::usage before = sink->measure();
    load_result result = load.run(plan, random_groups(envelopes));
    const bench_sink::usage after = sink->measure();
    if (!check(state, result, "load")) return;
    report(state, result, static_cast<std::size_t>(envelopes.mean_bytes()));
    report_costs(state, before, after, result.answered);
    if (const double bare = mean(bare_rates()[size]); bare > 0) {
      state.counters["of_bare"] = result.rate() / bare;
    }
  }
  state.counters["peak_rss_MB"] = sink->peak_rss_mb();
}
BENCHMARK_CAPTURE(BM_sink_max_rate, durable_typical_4kB, true, envelope_size::typical)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_sink_max_rate, normal_typical_4kB, false, envelope_size::typical)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_sink_max_rate, durable_large_50kB, true, envelope_size::large)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_sink_max_rate, normal_large_50kB, false, envelope_size::large)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_sink_latency_at_half_max(benchmark::State& state, bool durable) {
  state.SetLabel("budget p99 <= 20 ms at half the max rate, RSS <= 200 MB");
  sink_envelopes envelopes{kGroups, envelope_size::typical};
  std::unique_ptr<bench_sink> sink = start_sink(state, durable);
  if (!sink) return;
  load_generator load{sink->url(kIngestPath), sentry_headers(), kPacedConnections};
  if (!warm_up(state, load, kPacedConnections, envelopes)) return;
  for (auto _ : state) {
    // The maximum over the same connections, then half of it.
    load_plan probe;
    probe.duration = probe_duration();
    const load_result max = load.run(probe, random_groups(envelopes));
    if (!check(state, max, "probe")) return;
    load_plan paced;
    paced.rate = max.rate() / 2;
    paced.duration = paced_duration();
    load_result result = load.run(paced, random_groups(envelopes));
    if (!check(state, result, "paced")) return;
    report(state, result, static_cast<std::size_t>(envelopes.mean_bytes()));
    state.counters["p999_ms"] = percentile(result.latencies_us, 99.9) / 1000.0;
    state.counters["max_ms"] = percentile(result.latencies_us, 100) / 1000.0;
    state.counters["lag_p99_ms"] = percentile(result.start_lag_us, 99) / 1000.0;
    state.counters["max_rate"] = max.rate();
    state.counters["offered_rate"] = paced.rate;
    state.counters["in_flight_max"] = static_cast<double>(result.max_in_flight);
  }
  state.counters["peak_rss_MB"] = sink->peak_rss_mb();
}
BENCHMARK_CAPTURE(BM_sink_latency_at_half_max, durable, true)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_sink_latency_at_half_max, normal, false)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_sink_connect_burst(benchmark::State& state) {
  state.SetLabel("informational: 64 SDKs connect at once");
  sink_envelopes envelopes{kGroups, envelope_size::typical};
  std::unique_ptr<bench_sink> sink = start_sink(state, false);
  if (!sink) return;
  for (auto _ : state) {
    load_generator load{sink->url(kIngestPath), sentry_headers(), 64};
    load_plan plan;
    plan.max_requests = 64;
    plan.duration = 60s;
    load_result result = load.run(plan, random_groups(envelopes));
    state.SetIterationTime(result.seconds);
    state.counters["resets"] = static_cast<double>(result.transport_errors);
    state.counters["p50_ms"] = percentile(result.latencies_us, 50) / 1000.0;
    state.counters["max_ms"] = percentile(result.latencies_us, 100) / 1000.0;
  }
}
BENCHMARK(BM_sink_connect_burst)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Registered with --sink_full only. With a fixed pool of 64 threads, connections past it
// waited for cpp-httplib's keep-alive timeout (5 s); the sink now starts a thread per
// connection (limits.max_connections), so none should wait (`over_1s` = 0).
void BM_sink_96_connections(benchmark::State& state) {
  state.SetLabel("informational: more SDK connections than a fixed 64-thread pool");
  sink_envelopes envelopes{kGroups, envelope_size::typical};
  std::unique_ptr<bench_sink> sink = start_sink(state, false);
  if (!sink) return;
  for (auto _ : state) {
    load_generator load{sink->url(kIngestPath), sentry_headers(), 96};
    load_plan plan;
    plan.duration = rate_duration();
    load_result result = load.run(plan, random_groups(envelopes));
    if (!check(state, result, "load")) return;
    report(state, result, static_cast<std::size_t>(envelopes.mean_bytes()));
    const auto slow = std::count_if(result.latencies_us.begin(), result.latencies_us.end(),
                                    [](double us) { return us > 1e6; });
    state.counters["over_1s"] = static_cast<double>(slow);
    state.counters["max_ms"] = percentile(result.latencies_us, 100) / 1000.0;
  }
}

// The issue list of the sink: how many issues, and the first one's count.
bool read_issues(const bench_sink& sink, std::size_t& issues, std::int64_t& count,
                 std::string& error) {
  std::string body;
  const long status = warden::bench::http_get(sink.url("/api/0/issues/?limit=10"), body);
  rapidjson::Document answer;
  answer.Parse(body.c_str(), body.size());
  if (status != 200 || answer.HasParseError() || !answer.IsObject() ||
      !answer.HasMember("issues") || !answer["issues"].IsArray()) {
    error = fmt::format("GET /api/0/issues answered {}: {}", status, body.substr(0, 200));
    return false;
  }
  const auto& list = answer["issues"].GetArray();
  issues = list.Size();
  count = issues > 0 && list[0].HasMember("count") ? list[0]["count"].GetInt64() : 0;
  return true;
}

void BM_sink_1M_identical_errors(benchmark::State& state, bool durable) {
  const std::uint64_t events = identical_events();
  state.SetLabel(fmt::format("budget: 1 issue counting all {} events, database < 50 MB{}", events,
                             full_run ? "" : " (quick run; --sink_full sends 1M)"));
  sink_envelopes envelopes{1, envelope_size::typical};
  for (auto _ : state) {
    const auto started = std::chrono::steady_clock::now();
    bench_sink sink{durable};
    if (!sink.started()) return state.SkipWithError("warden-sink did not start");
    load_result result;
    std::uint64_t stored = 0;
    {
      load_generator load{sink.url(kIngestPath), sentry_headers(), kConnections};
      const auto same_issue = [&](std::string& body) { envelopes.make(0, body); };
      const std::optional<std::uint64_t> opened =
          open_connections(state, load, kConnections, same_issue);
      if (!opened) return;
      load_plan plan;
      plan.max_requests = events - *opened;
      plan.duration = 1h;
      const bench_sink::usage before = sink.measure();
      result = load.run(plan, same_issue);
      report_costs(state, before, sink.measure(), result.answered);
      stored = *opened + result.answered;
    }  // connections closed: the API request gets a server thread
    if (!check(state, result, "load")) return;
    std::size_t issues = 0;
    std::int64_t count = 0;
    std::string error;
    if (!read_issues(sink, issues, count, error)) return state.SkipWithError(error.c_str());
    const double peak_rss_mb = sink.peak_rss_mb();
    const std::uintmax_t bytes = sink.stop_and_measure();
    state.SetIterationTime(result.seconds);
    state.SetItemsProcessed(static_cast<std::int64_t>(result.answered));
    state.counters["issues"] = static_cast<double>(issues);
    state.counters["count"] = static_cast<double>(count);
    state.counters["db_MB"] = static_cast<double>(bytes) / 1e6;
    state.counters["peak_rss_MB"] = peak_rss_mb;
    state.counters["wall_s"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (issues != 1 || count != static_cast<std::int64_t>(stored)) {
      return state.SkipWithError(
          fmt::format("{} issues, count {}: expected 1 issue counting {}", issues, count, events)
              .c_str());
    }
  }
}
// Once per mode whatever --benchmark_repetitions says: its budgets (a count, a size) do
// not vary between runs, and a full run takes minutes.
BENCHMARK_CAPTURE(BM_sink_1M_identical_errors, durable, true)
    ->Iterations(1)
    ->Repetitions(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_sink_1M_identical_errors, normal, false)
    ->Iterations(1)
    ->Repetitions(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Keeps a write to a socket the peer closed from killing this process; a handler (unlike
// SIG_IGN) is reset by exec, so warden-sink still starts with the default disposition.
void survive_sigpipe() {
  struct sigaction action {};
  action.sa_handler = [](int) {};
  ::sigaction(SIGPIPE, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> arguments;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sink_full") == 0) {
      full_run = true;
    } else {
      arguments.push_back(argv[i]);
    }
  }
  survive_sigpipe();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  benchmark::AddCustomContext(
      "sink_run", full_run ? "full (--sink_full)" : "quick; --sink_full for the recorded figures");
  if (full_run) {
    benchmark::RegisterBenchmark("BM_sink_96_connections", BM_sink_96_connections)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  int count = static_cast<int>(arguments.size());
  benchmark::Initialize(&count, arguments.data());
  if (benchmark::ReportUnrecognizedArguments(count, arguments.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  curl_global_cleanup();
  return 0;
}

// Faults the SDK meets in the field, made for real: a sink on 127.0.0.1 that answers
// garbage, resets the connection or never answers (tests/support/raw_tcp_server.hpp), a
// disk that is full (a child process with RLIMIT_FSIZE) and a cache directory that goes
// away. Each must give a debug-log line that says what happened and a counted outcome
// (cached, then delivered once the sink is good; or dropped and reported), and the
// application must keep running. Faults a well-behaved HTTP server can play (down, 429,
// 5xx, slow, stalled) are in client_test.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "../support/raw_tcp_server.hpp"
#include "../support/recording_server.hpp"
#include "sink_fixture.hpp"
#include "warden/sdk.hpp"

using namespace std::chrono_literals;
using warden::testing::closed_port;
using warden::testing::events;
using warden::testing::fresh_directory;
using warden::testing::options_for;
using warden::testing::raw_tcp_server;
using warden::testing::recording_server;
using warden::testing::reported;
using warden::testing::text;

namespace {

using steady = std::chrono::steady_clock;

// The SDK's debug log, written on its worker thread and read by the test.
class debug_log final {
 public:
  /// Makes `options` log here.
  void attach(warden::options& options) const {
    options.debug_logger = [state = state_](warden::level, std::string_view message) {
      const std::lock_guard<std::mutex> lock{state->mutex};
      state->lines.emplace_back(message);
    };
  }
  /// True when one line contains every fragment.
  bool has(std::initializer_list<std::string_view> fragments) const {
    const std::lock_guard<std::mutex> lock{state_->mutex};
    for (const std::string& line : state_->lines) {
      bool all = true;
      for (const std::string_view fragment : fragments) {
        all = all && line.find(fragment) != std::string::npos;
      }
      if (all) return true;
    }
    return false;
  }
  /// Every line, for failure messages.
  std::string text() const {
    const std::lock_guard<std::mutex> lock{state_->mutex};
    std::string joined;
    for (const std::string& line : state_->lines) joined += line + '\n';
    return joined;
  }

 private:
  struct shared_lines {
    std::mutex mutex;
    std::vector<std::string> lines;
  };
  // Shared with the logger, which the SDK may keep until its worker has stopped.
  std::shared_ptr<shared_lines> state_ = std::make_shared<shared_lines>();
};

// Polls `done` until it holds or `timeout` passed (generous: CI machines are noisy).
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = steady::now() + timeout;
  while (!done()) {
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// How long `action` took.
std::chrono::milliseconds timed(const std::function<void()>& action) {
  const auto started = steady::now();
  action();
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
}

// The files in `directory` whose names end with `suffix`.
std::vector<std::filesystem::path> files_ending(const std::filesystem::path& directory,
                                                std::string_view suffix) {
  std::vector<std::filesystem::path> found;
  for (const auto& file : std::filesystem::directory_iterator(directory)) {
    const std::string name = file.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(),
                                                     suffix.data(), suffix.size()) == 0) {
      found.push_back(file.path());
    }
  }
  return found;
}

// The whole of `file`.
std::string contents(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// How many events with `id` the sink received.
std::size_t arrivals(const recording_server& server, const std::string& id) {
  std::size_t count = 0;
  for (const auto& event : events(server)) count += event["event_id"].GetString() == id ? 1 : 0;
  return count;
}

// Options for a sink on `port` with a disk cache in `cache`; crash handlers off (these
// tests are not about them, and doctest has its own).
warden::options options_with_cache(int port, const std::filesystem::path& cache) {
  auto options = options_for(port);
  options.cache_directory = cache.string();
  options.handle_crashes = false;
  return options;
}

// One way for a sink to fail, and what the debug log must then say (one of `log`).
struct sink_fault {
  const char* name;
  raw_tcp_server::behaviour behaviour;
  std::vector<std::string_view> log;
};

// The sink on a port misbehaves as `fault` says: the event must be kept in the disk
// cache, the log must say why, flush() must give up in time and nothing may count as
// dropped. Then a good sink comes up on the same port and must get the event exactly
// once, and the SDK must go on delivering.
void check_cached_until_a_good_sink_comes(const sink_fault& fault) {
  const std::string name = fault.name;
  CAPTURE(name);
  const auto cache = fresh_directory("fault-" + name);
  debug_log log;
  std::optional<raw_tcp_server> faulty;
  faulty.emplace(fault.behaviour);
  const int port = faulty->port();
  REQUIRE(port > 0);
  auto options = options_with_cache(port, cache);
  log.attach(options);
  auto sdk = warden::init(std::move(options));
  REQUIRE(sdk.ok());

  const std::string id = warden::capture_message(warden::level::error, "fault {}", name);
  REQUIRE(id.size() == 32);
  REQUIRE(faulty->wait_for_requests(1, 20s));
  CHECK(faulty->requests().front().rfind("POST /api/42/envelope/ HTTP/1.1\r\n", 0) == 0);
  REQUIRE(eventually([] { return warden::statistics().cached == 1; }));
  CHECK(files_ending(cache, ".error.envelope").size() == 1);
  CHECK(eventually([&] { return log.has({"sink unreachable ("}); }));
  bool explained = false;
  for (const std::string_view fragment : fault.log) {
    explained = explained || log.has({"sink unreachable (", fragment});
  }
  CHECK_MESSAGE(explained, log.text());
  bool flushed = true;
  const auto flush_took = timed([&] { flushed = sdk.flush(300ms); });
  CHECK_FALSE(flushed);
  CHECK(flush_took < 800ms);  // flush never waits past its timeout (plus scheduling)
  CHECK(warden::statistics().dropped.empty());

  faulty.reset();
  recording_server good{port};
  REQUIRE(good.port() == port);
  REQUIRE(sdk.flush(20s));
  CHECK(arrivals(good, id) == 1);
  CHECK(events(good).size() == 1);
  CHECK(files_ending(cache, ".envelope").empty());
  CHECK(files_ending(cache, ".tmp").empty());

  // The application carries on as before.
  const std::string after = warden::capture_message("after the fault");
  REQUIRE(sdk.flush(20s));
  CHECK(arrivals(good, after) == 1);
  CHECK(warden::statistics().dropped.empty());
  CHECK(sdk.close(5s));
  std::filesystem::remove_all(cache);
}

// Starts the SDK with `options` (no disk cache) against `sink`, which fails every
// request: an event must be tried options.max_attempts times, then dropped and counted
// as network_error, with log lines that say why (`cause`) and that it was dropped; then
// flush() has nothing left to wait for. Returns the running SDK.
warden::sdk_guard check_dropped_after_all_attempts(const raw_tcp_server& sink,
                                                   warden::options options,
                                                   std::string_view cause) {
  debug_log log;
  log.attach(options);
  const auto attempts = static_cast<std::size_t>(options.max_attempts);
  auto sdk = warden::init(std::move(options));
  REQUIRE(sdk.ok());
  REQUIRE(warden::capture_message("lost").size() == 32);
  REQUIRE(sdk.flush(20s));
  CHECK(warden::statistics().dropped["network_error"] >= 1);
  CHECK(warden::statistics().delivered == 0);
  CHECK(sink.requests().size() >= attempts);
  CHECK_MESSAGE(log.has({"sink unreachable (", cause}), log.text());
  const std::string dropped = "envelope dropped after " + std::to_string(attempts) + " attempts";
  CHECK_MESSAGE(log.has({dropped}), log.text());
  return sdk;
}

// The resident memory of this process.
std::uint64_t resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// CPU time this process has used, all threads.
std::chrono::nanoseconds process_cpu_time() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return std::chrono::seconds{now.tv_sec} + std::chrono::nanoseconds{now.tv_nsec};
}

// The verdicts of the full-disk child process, by exit code: each names the first check
// that failed.
enum full_disk_verdict : int {
  kPassed = 0,
  kCannotLimit = 10,
  kInitFailed,
  kCaptureRefused,
  kDropNotCounted,
  kDropNotLogged,
  kFileLeftBehind,
  kStoppedCaching,
  kCloseTooSlow,
  kThrew,
};

const char* verdict_name(int verdict) {
  switch (verdict) {
    case kPassed:
      return "passed";
    case kCannotLimit:
      return "setrlimit(RLIMIT_FSIZE) failed";
    case kInitFailed:
      return "init failed";
    case kCaptureRefused:
      return "a capture returned no id";
    case kDropNotCounted:
      return "the failed write was not counted as cache_overflow";
    case kDropNotLogged:
      return "the debug log does not say that and why the envelope was dropped";
    case kFileLeftBehind:
      return "a file (partial or temporary) was left in the cache directory";
    case kStoppedCaching:
      return "an envelope that fits was not cached after the failure";
    case kCloseTooSlow:
      return "close(1 s) took longer than 1.5 s";
    case kThrew:
      return "an exception";
    default:
      return "an unknown verdict (the child crashed?)";
  }
}

constexpr rlim_t kFileSizeLimit = 16 * 1024;  // more than a small event's envelope

// Runs in a child process whose files may not grow past kFileSizeLimit: the disk is
// "full" for a large envelope but not for a small one. The sink is down, so the SDK
// spills to the cache. The debug log goes to `report` (a pipe) as well.
int full_disk_child(const std::filesystem::path& cache, int port, int report) {
  ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
  const rlimit limit{kFileSizeLimit, kFileSizeLimit};
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return kCannotLimit;
  debug_log log;
  auto options = options_with_cache(port, cache);
  log.attach(options);
  options.debug_logger = [keep = options.debug_logger, report](warden::level severity,
                                                               std::string_view message) {
    keep(severity, message);
    const std::string line = std::string{message} + '\n';
    static_cast<void>(::write(report, line.data(), line.size()));
  };
  auto sdk = warden::init(std::move(options));
  if (!sdk.ok()) return kInitFailed;

  warden::event large;  // about 4 times the limit, in extras of 1000 bytes
  large.message = "large";
  for (rlim_t i = 0; i < 4 * kFileSizeLimit / 1000; ++i) {
    large.extra["blob" + std::to_string(i)] = std::string(1000, 'x');
  }
  if (warden::capture_event(large).empty()) return kCaptureRefused;
  if (!eventually([] { return warden::statistics().dropped["cache_overflow"] >= 1; })) {
    return kDropNotCounted;
  }
  if (!log.has({"envelope dropped", "cannot write", "too large"})) return kDropNotLogged;
  if (!std::filesystem::is_empty(cache)) return kFileLeftBehind;

  // The application, and the cache, carry on.
  if (warden::capture_message(warden::level::error, "small").empty()) return kCaptureRefused;
  if (!eventually([] { return warden::statistics().cached == 1; })) return kStoppedCaching;
  if (timed([&] { static_cast<void>(sdk.close(1s)); }) > 1500ms) return kCloseTooSlow;
  return kPassed;
}

// Everything readable from `descriptor` until its end.
std::string read_all(int descriptor) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(descriptor, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
  }
}

}  // namespace

TEST_SUITE("faults") {
  TEST_CASE("a sink that answers garbage: logged, cached, then delivered once to a good sink") {
    using server = raw_tcp_server;
    // What curl 7.88 says; later versions word some of it differently, hence the choices.
    const std::vector<sink_fault> faults{
        {"not-http",
         server::answer_then_close("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
         {"HTTP/0.9", "Unsupported HTTP version"}},
        {"binary-noise",
         server::answer_then_close(std::string("\x00\xff\x13\x37\r\n\r\n", 8)),
         {"HTTP/0.9", "Unsupported HTTP version"}},
        {"empty-reply", server::answer_then_close(""), {"Empty reply"}},
        {"truncated-status-line",
         server::answer_then_close("HTTP/1.1 2"),
         {"Empty reply", "Weird server reply"}},
        {"header-without-colon",
         server::answer_then_close(
             "HTTP/1.1 200 OK\r\nthis is no header\r\nContent-Length: 2\r\n\r\n{}"),
         {"Header without colon"}},
        {"bogus-content-length",
         server::answer_then_close("HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\n{}"),
         {"Content-Length"}},
        {"truncated-body",
         server::answer_then_close("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"id\":"),
         {"994 bytes remaining"}},
        // curl refuses a header line over 100 KiB instead of buffering it.
        {"giant-header",
         server::answer_then_close("HTTP/1.1 200 OK\r\nX-Junk: " + std::string(1 << 20, 'j') +
                                   "\r\n\r\n"),
         {"Out of memory", "header", "Header"}},
    };
    for (const sink_fault& fault : faults) check_cached_until_a_good_sink_comes(fault);
  }

  TEST_CASE(
      "a sink that resets the connection: logged, cached, then delivered once to a good sink") {
    using server = raw_tcp_server;
    const std::vector<sink_fault> faults{
        {"reset-mid-request", server::reset_mid_request(), {"reset by peer", "Broken pipe"}},
        {"reset-mid-status-line",
         server::answer_then_reset("HTTP/1.1 200 O"),
         {"reset by peer", "Broken pipe"}},
        {"reset-mid-body",
         server::answer_then_reset("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\""),
         {"reset by peer", "Broken pipe"}},
    };
    for (const sink_fault& fault : faults) check_cached_until_a_good_sink_comes(fault);
  }

  TEST_CASE("garbage without a disk cache: retried max_attempts times, then dropped and counted") {
    std::optional<raw_tcp_server> faulty;
    faulty.emplace(raw_tcp_server::answer_then_close("garbage\r\n\r\n"));
    const int port = faulty->port();
    REQUIRE(port > 0);
    auto options = options_for(port);
    options.max_attempts = 3;
    auto sdk = check_dropped_after_all_attempts(*faulty, std::move(options), "HTTP/0.9");

    // A good sink on the same port hears of the drop in the client report of the next event.
    faulty.reset();
    recording_server good{port};
    REQUIRE(good.port() == port);
    const std::string after = warden::capture_message("after the garbage");
    REQUIRE(sdk.flush(20s));
    CHECK(arrivals(good, after) == 1);
    CHECK(events(good).size() == 1);
    CHECK(reported(good, "network_error") >= 1);
    CHECK(sdk.close(5s));
  }

  TEST_CASE("a sink that never answers: close returns in time and the event waits in the cache") {
    const auto cache = fresh_directory("fault-never-answers");
    debug_log log;
    std::optional<raw_tcp_server> silent;
    silent.emplace(raw_tcp_server::never_answer());
    const int port = silent->port();
    REQUIRE(port > 0);
    std::string id;
    {
      auto options = options_with_cache(port, cache);
      options.request_timeout = 60s;  // only close() can end the request
      log.attach(options);
      auto sdk = warden::init(std::move(options));
      REQUIRE(sdk.ok());
      id = warden::capture_message(warden::level::error, "never answered");
      REQUIRE(id.size() == 32);
      REQUIRE(silent->wait_for_requests(1, 20s));
      bool closed = true;
      const auto took = timed([&] { closed = sdk.close(500ms); });
      CHECK_FALSE(closed);
      CHECK(took <= 1000ms);  // the promise: within the timeout (plus scheduling slack)
      CHECK(warden::capture_message("after close").empty());
    }
    CHECK_MESSAGE(log.has({"sink unreachable (", "cancelled"}), log.text());
    const auto cached = files_ending(cache, ".error.envelope");
    REQUIRE(cached.size() == 1);
    CHECK(contents(cached.front()).find(id) != std::string::npos);
    CHECK(files_ending(cache, ".tmp").empty());

    // The next start delivers it, once.
    silent.reset();
    recording_server good{port};
    REQUIRE(good.port() == port);
    auto sdk = warden::init(options_with_cache(good.port(), cache));
    REQUIRE(sdk.ok());
    REQUIRE(sdk.flush(20s));
    CHECK(arrivals(good, id) == 1);
    CHECK(files_ending(cache, ".envelope").empty());
    CHECK(sdk.close(5s));
    std::filesystem::remove_all(cache);
  }

  TEST_CASE(
      "a sink that never answers, without a cache: requests time out, then the drop is counted") {
    raw_tcp_server silent{raw_tcp_server::never_answer()};
    REQUIRE(silent.port() > 0);
    auto options = options_for(silent.port());
    options.request_timeout = 300ms;
    options.max_attempts = 2;
    auto sdk = check_dropped_after_all_attempts(silent, std::move(options), "timed out");
    // The application still captures, and close keeps its promise.
    CHECK(warden::capture_message("still running").size() == 32);
    bool closed = true;
    const auto took = timed([&] { closed = sdk.close(500ms); });
    CHECK_FALSE(closed);  // two attempts of 300 ms cannot end within 500 ms
    CHECK(took <= 1000ms);
  }

  TEST_CASE("a sink that sends without end: requests end at their timeout, memory stays flat") {
    constexpr std::uint64_t kMiB = 1024 * 1024;
    const auto cache = fresh_directory("fault-endless");
    debug_log log;
    raw_tcp_server endless{
        raw_tcp_server::endless_answer("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n")};
    REQUIRE(endless.port() > 0);
    auto options = options_with_cache(endless.port(), cache);
    options.request_timeout = 500ms;
    log.attach(options);
    auto sdk = warden::init(std::move(options));
    REQUIRE(sdk.ok());
    const std::uint64_t resident_before = resident_bytes();
    REQUIRE(warden::capture_message("flooded").size() == 32);
    // The SDK reads (and drops) whatever comes, request after request: let it take a lot.
    REQUIRE(eventually([&] { return endless.bytes_sent() >= 256 * kMiB; }, 60s));
    const std::uint64_t resident_after = resident_bytes();
    CHECK_MESSAGE(resident_after < resident_before + 32 * kMiB,
                  "resident before: ", resident_before / kMiB,
                  " MiB, after: ", resident_after / kMiB, " MiB");
    CHECK(eventually([] { return warden::statistics().cached == 1; }));
    CHECK_MESSAGE(log.has({"sink unreachable (", "timed out"}), log.text());
    CHECK(warden::statistics().dropped.empty());
    CHECK(timed([&] { static_cast<void>(sdk.close(500ms)); }) <= 1000ms);
    std::filesystem::remove_all(cache);
  }

  TEST_CASE("a full disk: the envelope is dropped, logged and counted, no half-written file") {
    const auto cache = fresh_directory("fault-full-disk");
    const int port = closed_port();
    int pipe[2] = {-1, -1};
    REQUIRE(::pipe2(pipe, O_CLOEXEC) == 0);
    // A child process, because RLIMIT_FSIZE holds for the whole process.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(pipe[0]);
      int verdict = kThrew;
      try {
        verdict = full_disk_child(cache, port, pipe[1]);
      } catch (...) {
      }
      std::_Exit(verdict);  // no doctest or static destructors in the child
    }
    ::close(pipe[1]);
    const std::string child_log = read_all(pipe[0]);
    ::close(pipe[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("the child's debug log:\n", child_log);
    REQUIRE(WIFEXITED(status));
    CHECK(std::string{verdict_name(WEXITSTATUS(status))} == verdict_name(kPassed));

    // Left behind: the small event only, whole, with the count of the large one's drop.
    CHECK(files_ending(cache, ".tmp").empty());
    CHECK(files_ending(cache, ".envelope").size() == 1);
    recording_server good;
    auto sdk = warden::init(options_with_cache(good.port(), cache));
    REQUIRE(sdk.ok());
    REQUIRE(sdk.flush(20s));
    const auto all = events(good);
    REQUIRE(all.size() == 1);
    CHECK(text(all[0]["logentry"], "formatted") == "small");
    CHECK(reported(good, "cache_overflow", "error") == 1);
    CHECK(sdk.close(5s));
    std::filesystem::remove_all(cache);
  }

  TEST_CASE(
      "a cache directory that turns into a file while running: drops are logged and counted") {
    const auto root = fresh_directory("fault-cache-gone");
    const auto cache = root / "cache";
    debug_log log;
    auto options = options_with_cache(closed_port(), cache);
    log.attach(options);
    auto sdk = warden::init(std::move(options));
    REQUIRE(sdk.ok());
    std::filesystem::remove_all(cache);
    { std::ofstream{cache} << "not a directory"; }

    CHECK(warden::capture_message(warden::level::error, "nowhere to go").size() == 32);
    REQUIRE(eventually([] { return warden::statistics().dropped["cache_overflow"] >= 1; }));
    CHECK_MESSAGE(log.has({"envelope dropped", "cannot write", "Not a directory"}), log.text());
    CHECK(warden::statistics().cached == 0);
    // The application keeps capturing; each envelope is counted as it goes.
    CHECK(warden::capture_message(warden::level::error, "still nowhere").size() == 32);
    CHECK(eventually([] { return warden::statistics().dropped["cache_overflow"] >= 2; }));
    // Nothing waits (what could not be stored is counted), so close may well return true.
    CHECK(timed([&] { static_cast<void>(sdk.close(1s)); }) <= 1500ms);
    std::filesystem::remove_all(root);
  }

  // A regression test: without a disk cache, while the worker backed off, a pending
  // client report made run() wait until next_report_, which had passed, and
  // send_client_report() returned without moving it, so the worker spun at full CPU until
  // the backoff ended. CPU time, not wall time: a spin would take about all of it.
  TEST_CASE("a failing sink without a cache does not make the worker spin") {
    debug_log log;
    auto options = options_for(closed_port());
    options.max_attempts = 1;  // the first failure drops the event: a count to report
    options.retry_initial_delay = 2s;
    options.retry_max_delay = 2s;
    options.client_report_interval = 100ms;
    log.attach(options);
    auto sdk = warden::init(std::move(options));
    REQUIRE(sdk.ok());
    REQUIRE(warden::capture_message("dropped after one attempt").size() == 32);
    REQUIRE(eventually([&] { return log.has({"envelope dropped after 1 attempts"}); }));
    // The backoff lasts at least another second; the report is due after 100 ms.
    std::this_thread::sleep_for(150ms);
    const auto before = process_cpu_time();
    std::this_thread::sleep_for(500ms);
    const auto used = process_cpu_time() - before;
    CHECK_MESSAGE(used < 250ms, "CPU time over 500 ms of waiting: ",
                  std::chrono::duration_cast<std::chrono::milliseconds>(used).count(), " ms");
    static_cast<void>(sdk.close(100ms));
  }
}

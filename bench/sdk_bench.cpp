// The SDK's costs on the application's side and its delivery: capture calls (budget in
// each label), stack walks, the cost of throw-site stacks per throw, events per second to
// a real HTTP sink on 127.0.0.1, and memory and close time against a stalled sink.
// Figures are recorded in docs/BENCHMARKS.md.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "recording_server.hpp"
#include "stacktrace.hpp"
#include "warden/ownership.hpp"
#include "warden/sdk.hpp"

WARDEN_MODULE_OWNER("bench", "backend", "sdk");

using namespace std::chrono_literals;
using warden::testing::recording_server;

namespace {

// A transport that answers 200 at once: the application-side cost alone.
class accepting_transport final : public warden::transport {
 public:
  warden::http_response send(const warden::http_request&, std::chrono::milliseconds) override {
    warden::http_response response;
    response.status = 200;
    return response;
  }
};

warden::sdk_guard start_sdk(std::size_t queue_capacity = 4096, bool throw_site_stacks = false) {
  warden::options options;
  options.dsn = "http://benchkey@127.0.0.1:9/1";
  options.custom_transport = std::make_shared<accepting_transport>();
  options.queue_capacity = queue_capacity;
  options.throw_site_stacks = throw_site_stacks;
  return warden::init(std::move(options));
}

// Runs `capture` in the timed loop; the queue is drained outside the timing every so
// often, so every capture takes the full path (no drop because the queue is full).
template <typename Capture>
void time_captures(benchmark::State& state, warden::sdk_guard& sdk, Capture capture) {
  int since_flush = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(capture());
    if (++since_flush == 2048) {
      state.PauseTiming();
      sdk.flush(10s);
      since_flush = 0;
      state.ResumeTiming();
    }
  }
  std::uint64_t dropped = 0;
  for (const auto& [reason, count] : warden::statistics().dropped) dropped += count;
  state.counters["dropped"] = static_cast<double>(dropped);  // must stay 0
}

void BM_capture_message(benchmark::State& state) {
  state.SetLabel("budget <= 2 us");
  auto sdk = start_sdk();
  time_captures(state, sdk, [] { return warden::capture_message("cache miss storm"); });
}
BENCHMARK(BM_capture_message);

void BM_capture_formatted_message(benchmark::State& state) {
  state.SetLabel("budget <= 2 us");
  auto sdk = start_sdk();
  time_captures(state, sdk, [] {
    return warden::capture_message(warden::level::warning, "order {} failed after {:.1f} s", 42,
                                   1.5);
  });
}
BENCHMARK(BM_capture_formatted_message);

void BM_capture_message_with_100_breadcrumbs(benchmark::State& state) {
  state.SetLabel("budget <= 5 us");
  auto sdk = start_sdk();
  for (int i = 0; i < 100; ++i) {
    warden::breadcrumb crumb;
    crumb.category = "db";
    crumb.message = "SELECT * FROM orders WHERE id = " + std::to_string(i);
    warden::add_breadcrumb(std::move(crumb));
  }
  time_captures(state, sdk, [] { return warden::capture_message("cache miss storm"); });
}
BENCHMARK(BM_capture_message_with_100_breadcrumbs);

// Captures `error` from `depth` frames down, so the stack walk sees about depth frames.
[[gnu::noinline]] std::string capture_from(int depth, const std::exception& error) {
  if (depth > 0) {
    std::string id = capture_from(depth - 1, error);
    benchmark::DoNotOptimize(id.data());
    return id;
  }
  return warden::capture_exception(error);
}

void BM_capture_exception_20_frames(benchmark::State& state) {
  state.SetLabel("budget <= 15 us");
  const std::runtime_error error{"card declined"};
  auto sdk = start_sdk();
  time_captures(state, sdk, [&] { return capture_from(20, error); });
}
BENCHMARK(BM_capture_exception_20_frames);

// The raw stack walk from 20 frames down, for each unwinder.
[[gnu::noinline]] std::size_t walk_from(int depth, warden::stack_unwinder unwinder) {
  if (depth > 0) {
    const std::size_t frames = walk_from(depth - 1, unwinder);
    benchmark::DoNotOptimize(frames);
    return frames;
  }
  warden::sdk::detail::raw_stack stack;
  warden::sdk::detail::unwind(unwinder, nullptr, stack);
  return stack.size;
}

void time_unwind(benchmark::State& state, warden::stack_unwinder unwinder) {
  std::size_t frames = 0;
  for (auto _ : state) frames = walk_from(20, unwinder);
  state.counters["frames"] = static_cast<double>(frames);
}

void BM_unwind_dwarf_20_frames(benchmark::State& state) {
  state.SetLabel("informational");
  time_unwind(state, warden::stack_unwinder::dwarf);
}
BENCHMARK(BM_unwind_dwarf_20_frames);

void BM_unwind_frame_pointer_20_frames(benchmark::State& state) {
  state.SetLabel("informational: complete only with -fno-omit-frame-pointer");
  time_unwind(state, warden::stack_unwinder::frame_pointer);
}
BENCHMARK(BM_unwind_frame_pointer_20_frames);

// Throws from `depth` owned frames down.
[[gnu::noinline]] void throw_from(int depth) {
  WARDEN_OWNED();
  if (depth > 0) throw_from(depth - 1);
  throw std::runtime_error("failed");
}

void time_throw_catch(benchmark::State& state, bool throw_site_stacks) {
  auto sdk = start_sdk(4096, throw_site_stacks);
  for (auto _ : state) {
    try {
      throw_from(20);
    } catch (const std::exception& error) {
      benchmark::DoNotOptimize(&error);
    }
  }
}

void BM_throw_catch_20_frames(benchmark::State& state) {
  state.SetLabel("baseline: the throw hook records the owner only");
  time_throw_catch(state, false);
}
BENCHMARK(BM_throw_catch_20_frames);

void BM_throw_catch_20_frames_with_throw_site_stack(benchmark::State& state) {
  state.SetLabel("options.throw_site_stacks: the cost per throw is the difference");
  time_throw_catch(state, true);
}
BENCHMARK(BM_throw_catch_20_frames_with_throw_site_stack);

// The DSN of a recording server (tests/support): a real HTTP sink on 127.0.0.1.
std::string dsn_of(const recording_server& sink) {
  return "http://benchkey@127.0.0.1:" + std::to_string(sink.port()) + "/1";
}

void BM_throughput_to_http_sink(benchmark::State& state) {
  state.SetLabel("budget >= 10k events/s");
  recording_server sink;
  warden::options options;
  options.dsn = dsn_of(sink);
  options.queue_capacity = 20000;
  auto sdk = warden::init(std::move(options));
  constexpr int kEvents = 10000;
  std::uint64_t delivered = 0;
  for (auto _ : state) {
    const std::uint64_t before = warden::statistics().delivered;
    for (int i = 0; i < kEvents; ++i) {
      warden::capture_message(warden::level::error, "order {} failed", i);
    }
    sdk.flush(60s);
    delivered += warden::statistics().delivered - before;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(delivered));
  state.counters["delivered"] = static_cast<double>(delivered);
}
BENCHMARK(BM_throughput_to_http_sink)->Unit(benchmark::kMillisecond)->UseRealTime();

// Resident memory now, in KiB.
long rss_kb() {
  std::ifstream statm{"/proc/self/statm"};
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

void BM_100k_events_against_stalled_sink(benchmark::State& state) {
  state.SetLabel("budget: RSS growth <= 64 MB, close(2 s) <= 2.2 s");
  recording_server stalled;
  stalled.set_default_reply({200, {}, "{}", 30s});
  const long rss_before = rss_kb();
  long rss_loaded = rss_before;
  double close_seconds = 0;
  for (auto _ : state) {
    warden::options options;
    options.dsn = dsn_of(stalled);
    options.request_timeout = 60s;
    auto sdk = warden::init(std::move(options));
    for (int i = 0; i < 100000; ++i) {
      warden::capture_message(warden::level::error, "order {} failed", i);
    }
    rss_loaded = rss_kb();
    const auto start = std::chrono::steady_clock::now();
    sdk.close(2s);
    close_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  state.counters["rss_growth_mb"] = static_cast<double>(rss_loaded - rss_before) / 1024.0;
  state.counters["close_s"] = close_seconds;
}
BENCHMARK(BM_100k_events_against_stalled_sink)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

// The sink's per-event work without HTTP, in process, to tell its parts apart from what
// the end-to-end run (sink_bench.cpp) measures:
//   BM_ingest_path     what an ingest thread does with a body before the store: the
//                      envelope, the event's JSON, the owner and the group key;
//   BM_store_writes    the store alone: 64 threads writing those records at once, each
//                      waiting for its batch's commit as a request does.
// The events are the load generator's (sink_events.hpp). Results: docs/BENCHMARKS.md.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "../tests/support/temp_directory.hpp"
#include "allocation_counter.hpp"
#include "ingest/envelope.hpp"
#include "ingest/json.hpp"
#include "server/config.hpp"
#include "server/event_processor.hpp"
#include "sink_events.hpp"
#include "store/clock.hpp"
#include "store/store.hpp"

namespace {

using warden::bench::envelope_size;
using warden::sink::event_record;

constexpr std::size_t kGroups = 1000;
constexpr std::size_t kPrepared = 4096;  // distinct 4.4 kB bodies, each with its own event id
constexpr std::size_t kPreparedLarge = kGroups;  // one per group: 50 MB

const warden::sink::project_config& bench_project() {
  static const warden::sink::project_config project = [] {
    warden::sink::project_config made;
    made.id = 1;
    made.name = "bench";
    return made;
  }();
  return project;
}

const std::vector<std::string>& bodies(envelope_size size) {
  static std::vector<std::string> typical;
  static std::vector<std::string> large;
  std::vector<std::string>& made = size == envelope_size::typical ? typical : large;
  if (made.empty()) {
    warden::bench::sink_envelopes envelopes{kGroups, size};
    made.resize(size == envelope_size::typical ? kPrepared : kPreparedLarge);
    for (std::size_t i = 0; i < made.size(); ++i) envelopes.make(i, made[i]);
  }
  return made;
}

// What sink_server::ingest does with an envelope of one event before the store.
event_record process(const warden::sink::event_processor& processor, const std::string& body) {
  absl::StatusOr<warden::sink::envelope> parsed = warden::sink::parse_envelope(body);
  if (!parsed.ok() || parsed->items.empty()) std::abort();
  const warden::sink::envelope_item& item = parsed->items.front();
  absl::StatusOr<rapidjson::Document> document = warden::sink::parse_json(item.payload);
  if (!document.ok()) std::abort();
  absl::StatusOr<event_record> record = processor.process(
      *document, item.payload, bench_project(), parsed->event_id, warden::sink::unix_now_ms());
  if (!record.ok()) std::abort();
  return *std::move(record);
}

const warden::sink::event_processor& processor() {
  static const warden::sink::event_processor made{warden::ownership_rules{},
                                                  warden::sink::owner_config{}};
  return made;
}

// Budget: the ingest path should stay a small part of the ~100 µs per event the whole
// sink may spend at 50% of the bare server's rate: <= 20 µs for a 4.4 kB event.
void BM_ingest_path(benchmark::State& state, envelope_size size) {
  const std::vector<std::string>& prepared = bodies(size);
  std::size_t next = 0;
  warden_bench::allocation_report allocations{state};
  for (auto _ : state) {
    event_record record = process(processor(), prepared[next++ % prepared.size()]);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_ingest_path, typical_4kB, envelope_size::typical);
BENCHMARK_CAPTURE(BM_ingest_path, large_50kB, envelope_size::large);

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Set up by thread 0, shared by the benchmark's threads.
struct store_fixture {
  warden::testing::temp_directory directory;
  std::unique_ptr<warden::sink::store> db;
  std::vector<event_record> records;
  double cpu_before = 0;
};
std::unique_ptr<store_fixture> shared_store;

// Informational: the store's ceiling and its CPU per event (the process's, so the
// waiting threads' wake-ups count too), without HTTP, parsing or a load generator.
void BM_store_writes(benchmark::State& state, bool durable) {
  if (state.thread_index() == 0) {
    shared_store = std::make_unique<store_fixture>();
    warden::sink::store_options options;
    options.path = shared_store->directory.path() + "/bench.db";
    options.durable = durable;
    absl::StatusOr<std::unique_ptr<warden::sink::store>> opened =
        warden::sink::store::open(options);
    if (!opened.ok()) std::abort();
    shared_store->db = *std::move(opened);
    for (const std::string& body : bodies(envelope_size::typical)) {
      shared_store->records.push_back(process(processor(), body));
    }
    shared_store->cpu_before = process_cpu_seconds();
  }
  // Benchmark's threads start their timed loops together, after the set-up above.
  const auto threads = static_cast<std::size_t>(state.threads());
  std::size_t next = static_cast<std::size_t>(state.thread_index());
  for (auto _ : state) {
    event_record record = shared_store->records[next % kPrepared];
    record.event_id = warden::bench::fresh_event_id();
    next += threads;
    if (!shared_store->db->write(std::move(record)).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const double events = static_cast<double>(state.iterations()) * static_cast<double>(threads);
    state.counters["cpu_us_per_event"] =
        (process_cpu_seconds() - shared_store->cpu_before) * 1e6 / events;
    shared_store.reset();
  }
}
BENCHMARK_CAPTURE(BM_store_writes, durable, true)->Threads(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_store_writes, normal, false)->Threads(64)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

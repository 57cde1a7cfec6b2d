// The outbox's delivery rate: rows queued in a real SQLite store (temp directory,
// durable as warden-sink's default), delivered by the real delivery worker through the
// libcurl client to a local HTTP server that answers at once (tests/support's
// recording_server). Each delivery is what the sink does for real: a claim, the exchange
// logged before it is sent and after, and the outcome, all through the store's writer.
// Budget (issue #5): ≥ 500 deliveries/s to a local fake.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "../tests/support/recording_server.hpp"
#include "../tests/support/temp_directory.hpp"
#include "outbox/curl_http_client.hpp"
#include "outbox/delivery_worker.hpp"
#include "outbox/outbox_store.hpp"
#include "store/store.hpp"

namespace {

using warden::sink::alerting_config;
using warden::sink::delivery_worker;
using warden::sink::store;

constexpr const char* kReceiver = "pagerduty-main";

// A PagerDuty receiver pointing at `url`, unthrottled: the bench measures the outbox.
alerting_config config_for(const std::string& url) {
  alerting_config config;
  warden::sink::receiver_config receiver;
  receiver.name = kReceiver;
  receiver.type = "pagerduty";
  receiver.pagerduty.url = url;
  receiver.pagerduty.routing_key = warden::sink::secret{"R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY42"};
  config.receivers.push_back(receiver);
  config.flood.pagerduty_per_routing_key = {1e9, 1'000'000};
  return config;
}

// Queues `count` PagerDuty resolves (each its own intent and ordering key).
void queue(store& db, int count) {
  static_cast<void>(db.run_in_writer([&](warden::sink::sqlite_db& connection) -> absl::Status {
    for (int i = 0; i < count; ++i) {
      warden::sink::outbox_intent row;
      row.kind = "pagerduty.resolve";
      row.target = kReceiver;
      row.idempotency_key = fmt::format("bench:{}", i);
      row.ordering_key = fmt::format("pd:{}", i);
      row.intent = fmt::format(R"({{"dedup_key":"warden:bench:{}"}})", i);
      row.created_ms = 1;
      absl::StatusOr<std::int64_t> queued = warden::sink::enqueue_delivery(connection, row);
      if (!queued.ok()) return queued.status();
    }
    return absl::OkStatus();
  }));
}

std::int64_t delivered(store& db) {
  std::int64_t count = 0;
  static_cast<void>(db.read([&](warden::sink::sqlite_db& connection) -> absl::Status {
    absl::StatusOr<std::int64_t> done =
        connection.query_int("SELECT count(*) FROM outbox WHERE state = 'delivered'");
    if (done.ok()) count = *done;
    return done.status();
  }));
  return count;
}

void BM_outbox_deliveries(benchmark::State& state) {
  state.SetLabel("budget >= 500 deliveries/s to a local fake");
  const int count = static_cast<int>(state.range(0));
  warden::testing::recording_server fake;
  warden::testing::recording_server::reply accepted;
  accepted.status = 202;
  accepted.body = R"({"status":"success","message":"Event processed"})";
  fake.set_default_reply(accepted);
  for (auto _ : state) {
    warden::testing::temp_directory directory;
    warden::sink::store_options options;
    options.path = directory.file("outbox.db");
    options.durable = true;
    auto db = store::open(options);
    auto client = warden::sink::curl_http_client::create({});
    if (!db.ok() || !client.ok()) {
      state.SkipWithError("cannot open the store or the client");
      return;
    }
    queue(**db, count);
    warden::sink::delivery_worker_options worker_options;
    worker_options.alerting = config_for(fake.base_url() + "/v2/enqueue");
    delivery_worker worker{**db, **client, worker_options};
    const auto started = std::chrono::steady_clock::now();
    if (!worker.start().ok()) {
      state.SkipWithError("the worker did not start");
      return;
    }
    while (delivered(**db) < count) std::this_thread::sleep_for(std::chrono::milliseconds{5});
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    worker.stop();
    state.SetIterationTime(took.count());
  }
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_outbox_deliveries)
    ->Arg(2000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

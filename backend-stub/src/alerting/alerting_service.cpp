#include "alerting/alerting_service.hpp"
#include "outbox/inbound_store.hpp"
#include "store/clock.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

namespace warden::sink {

absl::StatusOr<std::unique_ptr<alerting_service>> alerting_service::create(alerting_config config) {
  absl::StatusOr<std::shared_ptr<alert_engine>> engine = alert_engine::create(config);
  if (!engine.ok()) return engine.status();
  curl_http_client_options http;
  http.connect_timeout = config.delivery.connect_timeout;
  http.timeout = config.delivery.timeout;
  absl::StatusOr<std::unique_ptr<curl_http_client>> client = curl_http_client::create(http);
  if (!client.ok()) return client.status();
  return std::unique_ptr<alerting_service>{
      new alerting_service{std::move(config), *std::move(engine), *std::move(client)}};
}

alerting_service::alerting_service(alerting_config config, std::shared_ptr<alert_engine> engine,
                                   std::unique_ptr<curl_http_client> client)
    : config_{std::move(config)}, engine_{std::move(engine)}, client_{std::move(client)} {
  engine_->on_queued([this] {
    if (delivery_worker* worker = waking_.load()) worker->wake();
  });
  engine_->on_grouped([this] {
    {
      const std::lock_guard<std::mutex> lock{dispatch_mu_};
      dispatch_woken_ = true;
    }
    dispatch_wanted_.notify_one();
  });
}

alerting_service::~alerting_service() { stop(); }

absl::Status alerting_service::start(store& db, std::string public_url) {
  delivery_worker_options options;
  options.alerting = config_;
  options.public_url = std::move(public_url);
  db_ = &db;
  worker_ = std::make_unique<delivery_worker>(db, *client_, std::move(options));
  WARDEN_RETURN_IF_ERROR(worker_->start());
  waking_.store(worker_.get());
  dispatcher_ = std::thread{[this] { dispatch(); }};
  return absl::OkStatus();
}

void alerting_service::dispatch() {
  for (;;) {
    const std::int64_t now = unix_now_ms();
    std::int64_t queued = 0;
    const absl::Status flushed = db_->run_in_writer([&](sqlite_db& db) -> absl::Status {
      absl::StatusOr<std::int64_t> rows = engine_->flush_due(db, now);
      if (!rows.ok()) return rows.status();
      queued = *rows;
      return absl::OkStatus();
    });
    if (flushed.ok() && queued > 0) wake();
    std::optional<std::int64_t> due;
    static_cast<void>(db_->read([&](sqlite_db& db) -> absl::Status {
      absl::StatusOr<std::optional<std::int64_t>> next = notifier::next_due_ms(db);
      if (next.ok()) due = *next;
      return next.status();
    }));
    const std::int64_t wait_ms = std::clamp<std::int64_t>(due ? *due - now : 1000, 1, 1000);
    std::unique_lock<std::mutex> lock{dispatch_mu_};
    dispatch_wanted_.wait_for(lock, std::chrono::milliseconds{wait_ms},
                              [this] { return dispatch_stopping_ || dispatch_woken_; });
    if (dispatch_stopping_) return;
    dispatch_woken_ = false;
  }
}

void alerting_service::wake() {
  if (delivery_worker* worker = waking_.load()) worker->wake();
}

absl::StatusOr<std::int64_t> alerting_service::prune_log(std::int64_t now_ms) {
  if (db_ == nullptr) return 0;
  const std::int64_t delivered_before = now_ms - config_.delivery.keep_delivered.count();
  const std::int64_t failed_before = now_ms - config_.delivery.keep_failed.count();
  std::int64_t pruned = 0;
  WARDEN_RETURN_IF_ERROR(db_->run_in_writer([&](sqlite_db& db) -> absl::Status {
    absl::StatusOr<std::int64_t> deleted = prune_deliveries(db, delivered_before, failed_before);
    if (!deleted.ok()) return deleted.status();
    // Webhooks received are kept as long as deliveries made.
    absl::StatusOr<std::int64_t> received = prune_inbound(db, delivered_before);
    if (!received.ok()) return received.status();
    pruned = *deleted + *received;
    return absl::OkStatus();
  }));
  return pruned;
}

void alerting_service::stop() {
  {
    const std::lock_guard<std::mutex> lock{dispatch_mu_};
    dispatch_stopping_ = true;
  }
  dispatch_wanted_.notify_one();
  if (dispatcher_.joinable()) dispatcher_.join();
  waking_.store(nullptr);
  if (worker_) worker_->stop();
}

}  // namespace warden::sink

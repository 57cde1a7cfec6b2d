// Alerting in a running warden-sink: the engine on the store's writer, the dispatcher
// that flushes due notification groups into the outbox, the HTTP client and the
// delivery worker, created, started and stopped together. main() owns one.
//
//   auto alerting = alerting_service::create(config.alerting);
//   storage.hooks = (*alerting)->hooks();           // before the store opens
//   auto db = store::open(storage);
//   (*alerting)->start(**db, "https://sink.example"); // delivers until stop()
//   ...
//   (*alerting)->stop();                           // before the store closes
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "alerting/alert_engine.hpp"
#include "outbox/curl_http_client.hpp"
#include "outbox/delivery_worker.hpp"
#include "server/alerting_config.hpp"
#include "store/store.hpp"

namespace warden::sink {

class alerting_service final {
 public:
  /// Compiles the rules and makes the HTTP client; nothing runs until start().
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<alerting_service>> create(
      alerting_config config);
  ~alerting_service();
  alerting_service(const alerting_service&) = delete;
  alerting_service& operator=(const alerting_service&) = delete;

  /// The store's write hooks (store_options::hooks).
  [[nodiscard]] std::shared_ptr<write_hooks> hooks() const { return engine_; }
  /// Starts delivering from `db`'s outbox, which must stay open until stop(). Tickets link
  /// back to `public_url`.
  absl::Status start(store& db, std::string public_url);
  /// Deliveries were queued outside the writer's hooks (a replay): look now.
  void wake();
  /// Deletes the delivery log's finished rows older than delivery.keep_delivered (or
  /// keep_failed for failures). Returns how many were deleted.
  absl::StatusOr<std::int64_t> prune_log(std::int64_t now_ms);
  /// Stops delivering; requests in flight are retried after a restart.
  void stop();

 private:
  alerting_service(alerting_config config, std::shared_ptr<alert_engine> engine,
                   std::unique_ptr<curl_http_client> client);
  // The dispatcher's loop: flushes the groups that are due, then sleeps until the next
  // one is (a second at most) or a commit added notifications.
  void dispatch();

  alerting_config config_;
  std::shared_ptr<alert_engine> engine_;
  std::unique_ptr<curl_http_client> client_;
  std::unique_ptr<delivery_worker> worker_;
  store* db_ = nullptr;                            // from start()
  std::atomic<delivery_worker*> waking_{nullptr};  // the engine's wake-ups, once started
  std::mutex dispatch_mu_;
  std::condition_variable dispatch_wanted_;
  bool dispatch_woken_ = false;     // guarded by dispatch_mu_
  bool dispatch_stopping_ = false;  // guarded by dispatch_mu_
  std::thread dispatcher_;
};

}  // namespace warden::sink

// The running SDK: options, global scope, breadcrumb ring, counters and the worker, and
// the process-wide pointer to it that every public function reads. Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "captured_event.hpp"
#include "client_report.hpp"
#include "warden/sdk/init.hpp"
#include "warden/sdk/options.hpp"
#include "worker.hpp"

namespace warden::sdk::detail {

class client final {
 public:
  /// Validates `settings` (DSN, cache directory) and starts the worker.
  static absl::StatusOr<std::shared_ptr<client>> start(options settings);

  /// True when this capture is kept by options::sample_rate; counts it otherwise.
  bool sampled() noexcept;
  /// Completes `item` with what the capturing thread knows and queues it; returns its
  /// event id, or "" when the queue was full.
  std::string submit(std::unique_ptr<captured_event> item);

  void configure_scope(const std::function<void(scope&)>& configure);
  void add_breadcrumb(breadcrumb crumb);

  bool flush(std::chrono::milliseconds timeout);
  bool close(std::chrono::milliseconds timeout);
  sdk_statistics statistics() const;
  const options& settings() const noexcept { return options_; }

 private:
  client(options settings, worker_config config);

  options options_;
  discard_counters counters_;
  std::atomic<std::uint64_t> captured_{0};
  mutable std::mutex scope_mu_;  // std::mutex: see worker.hpp
  std::shared_ptr<const scope> global_scope_ ABSL_GUARDED_BY(scope_mu_);
  mutable std::mutex breadcrumbs_mu_;
  std::deque<std::shared_ptr<const breadcrumb>> breadcrumbs_ ABSL_GUARDED_BY(breadcrumbs_mu_);
  worker worker_;
};

/// The running client, or nullptr. Cheap when none runs (one relaxed load).
std::shared_ptr<client> active_client();

/// Sets the process-wide hooks for a client that becomes active: the throw listener
/// (throw-site stacks) and the crash handlers. Called under the lock that activates it.
void start_process_hooks(const options& settings);

/// Closes the running client with its shutdown timeout if init() number `generation`
/// started it (a guard whose SDK a later init() replaced closes nothing).
void close_generation(std::uint64_t generation);

/// This thread's scope layer (nullptr when the thread set none).
std::shared_ptr<const scope>& thread_scope_slot();

}  // namespace warden::sdk::detail

// The SDK's background worker: the only thread that serializes events and does I/O.
//
// Capturing threads push events into a bounded queue (never blocking: a full queue drops
// and counts). The worker completes each event, runs before_send, serializes it and
// sends it through the transport, honouring the sink's rate limits; network errors and
// 5xx back off exponentially with jitter. While the sink is unreachable envelopes go to
// the disk cache (when configured) and are resent, oldest first, once it answers.
// Discarded items are reported in client_report items, piggy-backed on the next
// envelope or sent on their own. Internal to the SDK.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "captured_event.hpp"
#include "client_report.hpp"
#include "disk_cache.hpp"
#include "dsn.hpp"
#include "envelope.hpp"
#include "rate_limits.hpp"
#include "stacktrace.hpp"
#include "warden/sdk/options.hpp"

namespace warden::sdk::detail {

/// Everything the worker needs, fixed at start.
struct worker_config {
  dsn target;
  sdk_identity identity;
  event_defaults defaults;
  std::shared_ptr<transport> sender;
  std::unique_ptr<disk_cache> cache;  ///< nullptr: no disk cache.
  std::size_t queue_capacity = 1000;
  /// Envelopes handed to the transport at once when events queue up.
  std::size_t max_in_flight = 4;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds retry_initial_delay{1000};
  std::chrono::milliseconds retry_max_delay{60000};
  int max_attempts = 5;
  std::chrono::milliseconds client_report_interval{30000};
  std::function<bool(event&)> before_send;
  std::function<void(level, std::string_view)> debug_logger;
  std::vector<std::string> in_app_prefixes;
};

class worker final {
 public:
  /// Starts the worker thread; `counters` must outlive it.
  worker(worker_config config, discard_counters& counters);
  /// Stops the worker at once if close() was not called (pending events are dropped).
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// Queues an event; false (and counted) when the queue is full or closed. Any thread.
  bool enqueue(std::unique_ptr<captured_event> item);
  /// Waits until everything queued before the call is settled and nothing waits for a
  /// retry or in the cache, or until `deadline`. True when all went out.
  bool flush(std::chrono::steady_clock::time_point deadline);
  /// flush(), then stops the thread: what is left goes to the cache or is counted.
  bool close(std::chrono::steady_clock::time_point deadline);

  std::uint64_t delivered() const noexcept { return delivered_.load(std::memory_order_relaxed); }
  std::uint64_t unowned() const noexcept { return unowned_.load(std::memory_order_relaxed); }
  std::size_t cached() const noexcept { return config_.cache ? config_.cache->count() : 0; }

 private:
  // An envelope on its way out; `attempts` counts the failed ones so far.
  struct outgoing {
    std::string envelope;
    data_category category;
    int attempts;
  };
  enum class outcome { delivered, dropped, failed };

  void run();
  bool has_work() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Mirrors the worker's retry and cache state into the fields others wait on.
  void publish_state() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool backing_off() const;

  // prepare_event() plus symbolized stacks; counts the unowned.
  void complete(captured_event& item);
  // The event's envelope, or nothing when before_send dropped it.
  std::optional<std::string> finish(captured_event& item);
  // Turns queued events into envelopes and delivers them together.
  void process(std::vector<std::unique_ptr<captured_event>> items);
  // Turns the crash reports of an earlier run into cached envelopes.
  void import_crash_reports();
  // Sends, or caches while backing off; failures go to the cache or the retry list.
  void deliver(std::vector<outgoing> batch);
  // Sends the envelopes at once; one outcome each. A failure starts a backoff.
  std::vector<outcome> send(const std::vector<const outgoing*>& batch,
                            std::chrono::milliseconds timeout);
  // Reads the sink's answer to one envelope: limits, counts and the debug log.
  outcome settle(const http_response& response, data_category category);
  void back_off(const http_response& failure);
  void keep_for_later(outgoing failed);
  void store_in_cache(const std::string& envelope, data_category category);
  void resend_oldest_cached();
  void send_client_report(bool force);
  void drain_on_close();
  std::string attach_client_report(std::string envelope);
  void log(level severity, std::string_view message) const;

  worker_config config_;
  discard_counters& counters_;
  symbolizer symbolizer_;          // worker thread only
  rate_limits limits_;             // worker thread only
  std::vector<outgoing> retries_;  // failed, waiting in memory (no cache); worker thread only
  int consecutive_failures_ = 0;   // worker thread only
  std::chrono::steady_clock::time_point backoff_until_{};  // worker thread only
  std::chrono::steady_clock::time_point next_report_;      // worker thread only
  std::minstd_rand jitter_{std::random_device{}()};        // worker thread only

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for ThreadSanitizer,
  // which then cannot see its locking, while it sees pthread-based std::mutex.
  mutable std::mutex mu_;
  std::condition_variable work_ready_;  // the worker waits on it
  std::condition_variable settled_;     // flush() waits on it
  std::deque<std::unique_ptr<captured_event>> queue_ ABSL_GUARDED_BY(mu_);
  std::uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t settled_count_ ABSL_GUARDED_BY(mu_) = 0;
  static constexpr std::uint64_t kNoFlushTarget = ~std::uint64_t{0};
  // The smallest settled_count_ a waiting flush() needs; kNoFlushTarget: none waits.
  std::uint64_t lowest_flush_target_ ABSL_GUARDED_BY(mu_) = kNoFlushTarget;
  bool pending_work_ ABSL_GUARDED_BY(mu_) = false;  // retry, cache or crash reports waiting
  bool crash_reports_pending_ ABSL_GUARDED_BY(mu_) = false;  // not imported yet
  bool queue_blocked_ ABSL_GUARDED_BY(mu_) = false;          // no cache and retries waiting
  // flush() calls so far, and how many of them the worker answered by sending the drop
  // counts once the queue was drained.
  std::uint64_t flushes_requested_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t flushes_done_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point stop_deadline_ ABSL_GUARDED_BY(mu_) =
      std::chrono::steady_clock::time_point::max();

  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> unowned_{0};
  std::thread thread_;
};

}  // namespace warden::sdk::detail

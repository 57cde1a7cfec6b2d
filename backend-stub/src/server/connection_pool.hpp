// The threads warden-sink's HTTP server serves connections on. cpp-httplib runs each
// accepted connection as one task that holds its thread for the connection's whole
// keep-alive life, so with a fixed pool of N threads connection N + 1 waits until another
// has been idle for the keep-alive timeout (5 s), or for as long as the others stay busy.
// This pool starts a thread whenever a connection arrives and no thread is idle, up to
// `max_threads` (the config's limits.max_connections); only at that maximum do
// connections wait, first come first served, and they are counted. Up to `warm_threads`
// idle threads stay; the others exit after `idle_timeout` without work.
//
//   connection_pool pool{config.limits.max_connections};
//   pool.enqueue([socket] { serve(socket); });  // starts a thread if none is idle
//   connection_pool_stats now = pool.stats();   // for /metrics, from any thread
//   pool.shutdown();                            // runs what is queued, joins every thread
//
// cpp-httplib takes its pool from Server::new_task_queue, creates it when it starts
// listening, calls shutdown() once it stopped accepting, then deletes it.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace warden::sink {

/// A snapshot of a connection_pool's counters.
struct connection_pool_stats {
  std::size_t threads = 0;         ///< Threads now, idle or running a task.
  std::size_t busy = 0;            ///< Threads running a task (serving a connection).
  std::size_t waiting = 0;         ///< Tasks queued because all `max_threads` were busy.
  std::size_t peak_threads = 0;    ///< The most threads there ever were at once.
  std::uint64_t waited_total = 0;  ///< Tasks that had to wait for a thread, since the start.
};

/// A thread pool that grows with demand up to a maximum and shrinks back when idle.
/// Thread-safe. Tasks run without the pool's lock held; their order is first come, first
/// served among the ones that had to wait.
class connection_pool final : public httplib::TaskQueue {
 public:
  /// Idle threads kept by default: the first connections after a quiet spell find one.
  static constexpr std::size_t kDefaultWarmThreads = 8;
  /// How long a thread beyond the warm ones waits for work by default before it exits.
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{30'000};

  /// At most `max_threads` (at least 1) tasks run at once. No thread starts until the
  /// first task; `warm_threads` (at most `max_threads`) idle threads are then kept, and
  /// the others exit after `idle_timeout` without a task.
  explicit connection_pool(std::size_t max_threads, std::size_t warm_threads = kDefaultWarmThreads,
                           std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout);
  /// Shuts down (see shutdown()) if that was not done.
  ~connection_pool() override;
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// Runs `task` on an idle thread, else on a new one while there are fewer than
  /// `max_threads`, else queues it until a thread is free. After shutdown() it runs on
  /// the calling thread, so that nothing handed over is lost. Any thread.
  void enqueue(std::function<void()> task) override;
  /// Lets the running and queued tasks finish, then joins every thread; returns when
  /// all have ended (httplib calls it after it stopped accepting: the connections it
  /// queued then close at once). Idempotent. Any thread but the pool's own.
  void shutdown() override;

  /// The counters now, for /metrics. Any thread.
  connection_pool_stats stats() const;

 private:
  // One thread of the pool, and the task it was started for (until it takes it).
  struct worker {
    std::thread thread;
    std::function<void()> first_task;
  };
  using worker_list = std::list<worker>;

  // Starts a thread for `task`; when the system refuses one, queues the task instead.
  void start_worker(std::function<void()> task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker's life: its first task, then queued ones, idle waits, its exit.
  void work(worker_list::iterator self);
  // Tasks queued that no idle thread is about to take.
  std::size_t waiting() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::size_t max_threads_;
  const std::size_t warm_threads_;
  const std::chrono::milliseconds idle_timeout_;

  mutable std::mutex mu_;
  std::condition_variable work_or_stop_;  // a task was queued, or shutdown() began
  std::condition_variable all_exited_;    // the last thread exited
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  worker_list workers_ ABSL_GUARDED_BY(mu_);  // every thread that has not exited
  // The thread that exited last; the next one to exit joins it, and shutdown() joins
  // the last one, so at most one ended thread is not yet joined.
  std::thread last_exited_ ABSL_GUARDED_BY(mu_);
  std::size_t idle_ ABSL_GUARDED_BY(mu_) = 0;  // threads waiting for a task
  std::size_t peak_threads_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t waited_total_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace warden::sink

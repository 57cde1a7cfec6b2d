// A deliberately simple thread pool and the adaptor that makes it carry owners.
//
// Pools do not know about owners: the adaptor (owner_propagating_pool) captures the
// poster's owner with warden::bind_owner(); the pool's workers run every task in an
// explicitly unowned scope, so a task posted without the adaptor runs as "unowned"
// instead of inheriting whatever an earlier task left behind.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <warden/ownership.hpp>

namespace example {

/// A fixed set of worker threads taking std::function tasks from one queue.
class thread_pool final {
 public:
  /// Starts `threads` workers.
  explicit thread_pool(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Runs the queued tasks, then stops the workers.
  ~thread_pool() {
    {
      const std::lock_guard<std::mutex> lock{mutex_};
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  /// Queues `task`; it runs as "unowned" unless it carries an owner itself.
  void post(std::function<void()> task) {
    {
      const std::lock_guard<std::mutex> lock{mutex_};
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock{mutex_};
        ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      // Each task starts unowned, whatever ran on this thread before.
      const warden::owner_scope unowned{warden::owner_token{}};
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

/// Wraps any pool with a post(callable) member so that tasks run as their poster's owner.
template <typename Pool>
class owner_propagating_pool final {
 public:
  /// Adapts `pool`, which must outlive the adaptor.
  explicit owner_propagating_pool(Pool& pool) noexcept : pool_(pool) {}

  /// Posts `task` to run under the owner active now.
  template <typename Task>
  void post(Task&& task) {
    pool_.post(warden::bind_owner(std::forward<Task>(task)));
  }

 private:
  Pool& pool_;
};

}  // namespace example

// The pool warden-sink's HTTP connections run on, alone: it grows past its warm threads
// while tasks block, never beyond its maximum; at the maximum tasks wait and then run
// first come, first served; idle threads beyond the warm ones exit; shutdown() runs what
// is queued and joins every thread. Also run under ThreadSanitizer (label concurrency).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "server/connection_pool.hpp"

namespace {

using namespace std::chrono_literals;
using warden::sink::connection_pool;
using warden::sink::connection_pool_stats;

// Long enough for any wait a correct pool makes the tests do, even under TSan.
constexpr auto kPatience = 10s;

// Tasks that record when they start and block until the test releases them.
class task_board final {
 public:
  // A task numbered `n`: records its start, waits for release(n), records its end.
  std::function<void()> task(int n) {
    return [this, n] {
      std::unique_lock<std::mutex> lock{mu_};
      started_.push_back(n);
      changed_.notify_all();
      changed_.wait(lock, [&] { return all_released_ || released_.count(n) > 0; });
      finished_.push_back(n);
      changed_.notify_all();
    };
  }
  // Lets task `n` finish.
  void release(int n) {
    const std::lock_guard<std::mutex> lock{mu_};
    released_.insert(n);
    changed_.notify_all();
  }
  // Lets every task finish, now and later.
  void release_all() {
    const std::lock_guard<std::mutex> lock{mu_};
    all_released_ = true;
    changed_.notify_all();
  }
  // Waits until `count` tasks started; false after kPatience.
  bool wait_started(std::size_t count) {
    std::unique_lock<std::mutex> lock{mu_};
    return changed_.wait_for(lock, kPatience, [&] { return started_.size() >= count; });
  }
  // Waits until `count` tasks finished; false after kPatience.
  bool wait_finished(std::size_t count) {
    std::unique_lock<std::mutex> lock{mu_};
    return changed_.wait_for(lock, kPatience, [&] { return finished_.size() >= count; });
  }
  // The tasks in the order they started.
  std::vector<int> started() const {
    const std::lock_guard<std::mutex> lock{mu_};
    return started_;
  }
  // How many finished.
  std::size_t finished() const {
    const std::lock_guard<std::mutex> lock{mu_};
    return finished_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<int> started_;
  std::vector<int> finished_;
  std::set<int> released_;
  bool all_released_ = false;
};

// Polls `pool` until `done` holds for its counters; false after kPatience.
bool eventually(const connection_pool& pool,
                const std::function<bool(const connection_pool_stats&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!done(pool.stats())) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("the pool grows past its warm threads, stops at its maximum, then queues in order") {
  task_board board;
  connection_pool pool{4, 2, 50ms};
  CHECK(pool.stats().threads == 0);  // no thread before the first task
  for (int n = 1; n <= 4; ++n) pool.enqueue(board.task(n));
  REQUIRE(board.wait_started(4));
  connection_pool_stats now = pool.stats();
  CHECK(now.threads == 4);
  CHECK(now.busy == 4);
  CHECK(now.waiting == 0);
  CHECK(now.waited_total == 0);

  // At the maximum: no fifth thread, the tasks wait.
  for (int n = 5; n <= 7; ++n) pool.enqueue(board.task(n));
  now = pool.stats();
  CHECK(now.threads == 4);
  CHECK(now.busy == 4);
  CHECK(now.waiting == 3);
  CHECK(now.waited_total == 3);
  CHECK(now.peak_threads == 4);
  CHECK(board.started().size() == 4);

  // Each thread set free takes the oldest waiting task.
  board.release(2);
  REQUIRE(board.wait_started(5));
  CHECK(pool.stats().waiting == 2);
  board.release(4);
  REQUIRE(board.wait_started(6));
  board.release(1);
  REQUIRE(board.wait_started(7));
  // (The first four started at once, in any order.)
  const std::vector<int> started = board.started();
  REQUIRE(started.size() == 7);
  CHECK(std::set<int>(started.begin(), started.begin() + 4) == std::set<int>{1, 2, 3, 4});
  CHECK(std::vector<int>(started.begin() + 4, started.end()) == std::vector<int>{5, 6, 7});
  now = pool.stats();
  CHECK(now.threads == 4);
  CHECK(now.waiting == 0);
  CHECK(now.peak_threads == 4);

  board.release_all();
  REQUIRE(board.wait_finished(7));
  pool.shutdown();
  CHECK(pool.stats().threads == 0);
}

TEST_CASE("a task runs on an idle thread when there is one, and on a new thread otherwise") {
  task_board board;
  connection_pool pool{8, 8, 50ms};
  board.release_all();
  pool.enqueue(board.task(1));
  REQUIRE(board.wait_finished(1));
  REQUIRE(eventually(pool, [](const connection_pool_stats& now) { return now.busy == 0; }));
  pool.enqueue(board.task(2));
  REQUIRE(board.wait_finished(2));
  REQUIRE(eventually(pool, [](const connection_pool_stats& now) { return now.busy == 0; }));
  CHECK(pool.stats().threads == 1);
  CHECK(pool.stats().peak_threads == 1);
}

TEST_CASE("threads beyond the warm ones exit after idling, the warm ones stay") {
  task_board board;
  task_board more;  // outlives the pools, whose threads run its tasks
  connection_pool pool{6, 2, 50ms};
  for (int n = 1; n <= 6; ++n) pool.enqueue(board.task(n));
  REQUIRE(board.wait_started(6));
  CHECK(pool.stats().threads == 6);
  board.release_all();
  REQUIRE(board.wait_finished(6));
  REQUIRE(eventually(pool, [](const connection_pool_stats& now) { return now.threads == 2; }));
  // Well past the idle timeout, the warm threads are still there, idle.
  std::this_thread::sleep_for(300ms);
  connection_pool_stats now = pool.stats();
  CHECK(now.threads == 2);
  CHECK(now.busy == 0);
  CHECK(now.peak_threads == 6);
  // And they serve: two blocking tasks start without a new thread.
  pool.enqueue(more.task(1));
  pool.enqueue(more.task(2));
  REQUIRE(more.wait_started(2));
  CHECK(pool.stats().threads == 2);
  // A pool that keeps none warm ends with no thread at all.
  connection_pool cold{3, 0, 20ms};
  for (int n = 10; n < 13; ++n) cold.enqueue(more.task(n));
  REQUIRE(more.wait_started(5));
  more.release_all();
  REQUIRE(eventually(cold, [](const connection_pool_stats& stats) { return stats.threads == 0; }));
}

TEST_CASE("shutdown runs the queued tasks and joins every thread") {
  task_board board;
  std::atomic<int> queued_ran{0};
  connection_pool pool{2, 1, 50ms};
  pool.enqueue(board.task(1));
  pool.enqueue(board.task(2));
  REQUIRE(board.wait_started(2));
  for (int n = 0; n < 3; ++n) pool.enqueue([&queued_ran] { ++queued_ran; });
  CHECK(pool.stats().waiting == 3);

  std::atomic<bool> returned{false};
  std::thread stopping{[&] {
    pool.shutdown();
    returned = true;
  }};
  // It waits for the running tasks (which it cannot interrupt) and the queued ones.
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(returned);
  CHECK(queued_ran == 0);
  board.release_all();
  stopping.join();
  CHECK(returned);
  CHECK(queued_ran == 3);
  CHECK(board.finished() == 2);
  const connection_pool_stats now = pool.stats();
  CHECK(now.threads == 0);
  CHECK(now.waiting == 0);

  // After shutdown a task still runs, on the caller's thread; shutdown again does nothing.
  std::thread::id ran_on;
  pool.enqueue([&ran_on] { ran_on = std::this_thread::get_id(); });
  CHECK(ran_on == std::this_thread::get_id());
  pool.shutdown();
}

TEST_CASE("the destructor shuts the pool down: queued tasks run, threads are joined") {
  std::atomic<int> ran{0};
  {
    connection_pool pool{2, 1, 50ms};
    for (int n = 0; n < 20; ++n) {
      pool.enqueue([&ran] {
        std::this_thread::sleep_for(1ms);
        ++ran;
      });
    }
  }
  CHECK(ran == 20);
}

TEST_CASE("many producers, threads starting and expiring at once: every task runs once") {
  // A 1 ms idle timeout makes threads exit (and join each other) while others start.
  constexpr int kProducers = 4;
  constexpr int kEach = 300;
  constexpr std::size_t kMax = 6;
  std::atomic<int> ran{0};
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  std::atomic<std::size_t> most_threads{0};
  std::atomic<bool> done{false};
  connection_pool pool{kMax, 1, 1ms};
  std::thread sampler{[&] {
    while (!done) {
      const connection_pool_stats now = pool.stats();
      if (now.threads > most_threads) most_threads = now.threads;
      std::this_thread::sleep_for(100us);
    }
  }};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) {
        pool.enqueue([&ran, &running, &most_running, i, p] {
          const int now = ++running;
          for (int seen = most_running;
               now > seen && !most_running.compare_exchange_weak(seen, now);) {
          }
          if ((i + p) % 7 == 0) std::this_thread::sleep_for(200us);
          --running;
          ++ran;
        });
        if (i % 50 == 0) std::this_thread::sleep_for(3ms);  // lets threads expire
      }
    });
  }
  for (auto& producer : producers) producer.join();
  pool.shutdown();
  done = true;
  sampler.join();
  CHECK(ran == kProducers * kEach);
  CHECK(most_running <= static_cast<int>(kMax));
  CHECK(most_threads <= kMax);
  CHECK(pool.stats().peak_threads <= kMax);
  CHECK(pool.stats().threads == 0);
}

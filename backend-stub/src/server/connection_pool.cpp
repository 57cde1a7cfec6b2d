// The pool keeps one list of its threads and one queue of tasks under one mutex. A task
// is handed to an idle thread through the queue, or to a new thread directly (as its
// first task), so the queue holds more tasks than there are idle threads only at the
// maximum: those are the waiting connections. A thread that exits moves its handle to
// last_exited_ and joins the one there before it, so ended threads are joined without a
// reaper thread and shutdown() has a single handle left to join.
#include "server/connection_pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>
#include <utility>

#include "server/log.hpp"

namespace warden::sink {

connection_pool::connection_pool(std::size_t max_threads, std::size_t warm_threads,
                                 std::chrono::milliseconds idle_timeout)
    : max_threads_(std::max<std::size_t>(max_threads, 1)),
      warm_threads_(std::min(warm_threads, max_threads_)),
      idle_timeout_(idle_timeout) {}

connection_pool::~connection_pool() { shutdown(); }

void connection_pool::enqueue(std::function<void()> task) {
  std::unique_lock<std::mutex> lock{mu_};
  if (stopping_) {
    lock.unlock();
    task();
    return;
  }
  if (queue_.size() < idle_) {
    queue_.push_back(std::move(task));
    lock.unlock();
    work_or_stop_.notify_one();
  } else if (workers_.size() < max_threads_) {
    start_worker(std::move(task));
  } else {
    queue_.push_back(std::move(task));
    ++waited_total_;
  }
}

void connection_pool::start_worker(std::function<void()> task) {
  // Tasks wait below the maximum only after the system refused a thread: the oldest
  // goes first.
  const bool took_oldest = waiting() > 0;
  if (took_oldest) {
    queue_.push_back(std::move(task));
    task = std::move(queue_.front());
    queue_.pop_front();
  }
  const auto self = workers_.insert(workers_.end(), worker{std::thread{}, std::move(task)});
  try {
    // The new thread takes mu_ before it reads `self`, so it sees the handle assigned.
    self->thread = std::thread{[this, self] { work(self); }};
  } catch (const std::system_error& error) {
    if (took_oldest) {
      queue_.push_front(std::move(self->first_task));
    } else {
      queue_.push_back(std::move(self->first_task));
    }
    workers_.erase(self);
    ++waited_total_;
    sink_log::write(log_level::warning,
                    fmt::format("cannot start a connection thread ({}); the connection waits "
                                "for a busy one",
                                error.what()));
    return;
  }
  peak_threads_ = std::max(peak_threads_, workers_.size());
}

void connection_pool::work(worker_list::iterator self) {
  std::unique_lock<std::mutex> lock{mu_};
  std::function<void()> task = std::move(self->first_task);
  for (;;) {
    lock.unlock();
    task();
    task = nullptr;  // what it captured is released without the lock, too
    lock.lock();
    if (queue_.empty() && !stopping_) {
      // Idle. Beyond the warm threads, for idle_timeout at most.
      ++idle_;
      const auto deadline = std::chrono::steady_clock::now() + idle_timeout_;
      bool expired = false;
      while (queue_.empty() && !stopping_ && !expired) {
        if (workers_.size() <= warm_threads_) {
          work_or_stop_.wait(lock);
        } else if (work_or_stop_.wait_until(lock, deadline) == std::cv_status::timeout) {
          expired = queue_.empty() && !stopping_ && workers_.size() > warm_threads_;
        }
      }
      --idle_;
    }
    // Stopping finishes what is queued before it exits.
    if (queue_.empty()) break;
    task = std::move(queue_.front());
    queue_.pop_front();
  }
  std::thread previous = std::move(last_exited_);
  last_exited_ = std::move(self->thread);
  workers_.erase(self);
  if (workers_.empty()) all_exited_.notify_all();
  lock.unlock();
  // It gave up mu_ and is returning, or has returned.
  if (previous.joinable()) previous.join();
}

void connection_pool::shutdown() {
  std::unique_lock<std::mutex> lock{mu_};
  stopping_ = true;
  work_or_stop_.notify_all();
  all_exited_.wait(lock, [this] { return workers_.empty(); });
  std::thread last = std::move(last_exited_);
  // Left only when the system refused every thread: run here, as enqueue() does now.
  std::deque<std::function<void()>> left;
  left.swap(queue_);
  lock.unlock();
  if (last.joinable()) last.join();  // it joined the one before it, and so on
  for (std::function<void()>& task : left) task();
}

connection_pool_stats connection_pool::stats() const {
  const std::lock_guard<std::mutex> lock{mu_};
  connection_pool_stats now;
  now.threads = workers_.size();
  now.busy = workers_.size() - idle_;
  now.waiting = waiting();
  now.peak_threads = peak_threads_;
  now.waited_total = waited_total_;
  return now;
}

std::size_t connection_pool::waiting() const {
  return queue_.size() > idle_ ? queue_.size() - idle_ : 0;
}

}  // namespace warden::sink

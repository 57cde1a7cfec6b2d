// What every fake service of the sink's tests shares (fake_slack, fake_pagerduty,
// fake_youtrack, fake_github, fake_jira): a recording_server on 127.0.0.1 whose requests
// go to the fake's handler, the mutex over the fake's state, and a condition to wait on
// it. A derived fake calls serve() in its constructor and stop_serving() first thing in
// its destructor, so that no request runs while its state is being destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "recording_server.hpp"

namespace warden::testing {

/// The base of the fake services; see the file comment.
class recording_fake {
 public:
  recording_fake(const recording_fake&) = delete;
  recording_fake& operator=(const recording_fake&) = delete;

  /// The port it listens on; -1 when it could not.
  int port() const { return server_.port(); }
  /// "http://127.0.0.1:<port>": the URL a receiver or tracker is configured with.
  std::string base_url() const { return server_.base_url(); }
  /// Every request received, answered or not, in order.
  std::vector<recording_server::request> requests() const { return server_.requests(); }
  /// The server underneath, e.g. to script replies or wait for requests.
  recording_server& server() { return server_; }

 protected:
  /// Listens on `port` (0: a port the system picks).
  explicit recording_fake(int port) : server_{port} {}
  ~recording_fake() = default;

  /// Answers every request (but scripted ones) with `handle`.
  void serve(recording_server::handler handle) { server_.set_handler(std::move(handle)); }
  /// Stops the server and waits for the requests in flight.
  void stop_serving() { server_.stop(); }

  /// Waits until `done()` holds, checked under mutex_ whenever changed_ is notified;
  /// false on timeout.
  template <typename Done>
  bool wait_until(std::chrono::milliseconds timeout, Done done) {
    std::unique_lock<std::mutex> lock{mutex_};
    return changed_.wait_for(lock, timeout, done);
  }

  mutable std::mutex mutex_;         ///< Guards the derived fake's state.
  std::condition_variable changed_;  ///< Notified when that state changed.

 private:
  recording_server server_;
};

}  // namespace warden::testing

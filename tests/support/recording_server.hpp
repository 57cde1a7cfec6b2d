// A real HTTP server for tests: listens on 127.0.0.1 on a port the system picks,
// records every request (gzip bodies decoded) and answers with scripted replies, which
// can fail or stall on demand. Used as a sink for the SDK and, later, as a fake tracker,
// Slack or PagerDuty for warden-sink.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace warden::testing {

class recording_server final {
 public:
  /// A request as received.
  struct request {
    std::string method;
    std::string path;
    std::multimap<std::string, std::string> query;
    httplib::Headers headers;  // case-insensitive
    std::string body;          // after Content-Encoding was undone

    std::string header(const std::string& name) const {
      const auto found = headers.find(name);
      return found == headers.end() ? std::string{} : found->second;
    }
  };

  /// An answer to give.
  struct reply {
    int status = 200;
    std::map<std::string, std::string> headers;
    std::string body = "{}";
    std::chrono::milliseconds delay{0};  // stall before answering
  };

  /// Listens on `port` (0: a port the system picks), e.g. to come back on the port of a
  /// server that was stopped.
  explicit recording_server(int port = 0) {
    server_.Post(".*", [this](const httplib::Request& in, httplib::Response& out) {
      reply answer;
      {
        std::unique_lock<std::mutex> lock{mutex_};
        max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
        requests_.push_back(
            {in.method, in.path, {in.params.begin(), in.params.end()}, in.headers, in.body});
        if (!scripted_.empty()) {
          answer = scripted_.front();
          scripted_.pop_front();
        } else {
          answer = default_reply_;
        }
        changed_.notify_all();
      }
      {
        std::unique_lock<std::mutex> lock{mutex_};
        if (answer.delay.count() > 0) {
          changed_.wait_for(lock, answer.delay, [this] { return stopping_; });
        }
        --in_flight_;
      }
      out.status = answer.status;
      for (const auto& [name, value] : answer.headers) out.set_header(name, value);
      out.set_content(answer.body, "application/json");
    });
    server_.set_tcp_nodelay(true);  // as a real sink: else each body waits 40 ms for an ACK
    if (port == 0) {
      port_ = server_.bind_to_any_port("127.0.0.1");
    } else {
      port_ = server_.bind_to_port("127.0.0.1", port) ? port : -1;
    }
    if (port_ <= 0) return;  // port() says so; there is nothing to serve
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
    // httplib's stop() does nothing before the accept loop runs, so a server destroyed
    // right away would never stop: wait for the loop.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }

  ~recording_server() {
    {
      const std::lock_guard<std::mutex> lock{mutex_};
      stopping_ = true;
      changed_.notify_all();
    }
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  recording_server(const recording_server&) = delete;
  recording_server& operator=(const recording_server&) = delete;

  /// The port the server listens on; -1 when binding failed.
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>".
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Answers the next requests with `replies`, in order, then with the default reply.
  void script(std::vector<reply> replies) {
    const std::lock_guard<std::mutex> lock{mutex_};
    scripted_.insert(scripted_.end(), replies.begin(), replies.end());
  }
  /// Answers every unscripted request with `answer`.
  void set_default_reply(reply answer) {
    const std::lock_guard<std::mutex> lock{mutex_};
    default_reply_ = std::move(answer);
  }

  /// The requests received so far.
  std::vector<request> requests() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return requests_;
  }
  /// The most requests that were being answered at the same time.
  int max_in_flight() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return max_in_flight_;
  }
  /// Waits until at least `count` requests arrived; false on timeout.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mutex_};
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<request> requests_;
  std::deque<reply> scripted_;
  reply default_reply_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  bool stopping_ = false;
};

}  // namespace warden::testing

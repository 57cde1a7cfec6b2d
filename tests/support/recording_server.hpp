// A real HTTP server for tests: listens on 127.0.0.1 on a port the system picks,
// records every request (any method, any path; gzip bodies decoded) and answers with
// scripted replies, which can fail or stall on demand. Used as a sink for the SDK, and
// under the fakes of warden-sink's targets (fake_youtrack.hpp), which decide each reply
// with a handler. Two faults apply to whatever answers: an outage (every request gets
// one reply, e.g. 503, until it ends) and held answers (requests are acted on, but
// their answers wait until released: a client killed meanwhile never learns the result).
//
// Example:
//
//   recording_server server;
//   server.script({{503, {{"Retry-After", "1"}}}});       // the first request fails
//   server.set_handler([](const recording_server::request& in) {  // then echo
//     return recording_server::reply{200, {{"Content-Type", "text/plain"}}, in.body};
//   });
//   ... send to server.base_url() + "/any/path" ...
//   REQUIRE(server.wait_for_requests(2, 5s));
//   server.begin_outage({503});  // everything fails until end_outage()
//   server.hold_answers();       // handled, then answered only after release_answers()
#pragma once

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
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
    int remote_port = 0;       // the client's port: one per connection, so keep-alive shows
    std::chrono::steady_clock::time_point arrived;  // when the server read it

    std::string header(const std::string& name) const {
      const auto found = headers.find(name);
      return found == headers.end() ? std::string{} : found->second;
    }
  };

  /// An answer to give.
  struct reply {
    int status = 200;
    std::map<std::string, std::string> headers;  // "Content-Type" here replaces the JSON one
    std::string body = "{}";
    std::chrono::milliseconds delay{0};  // stall before answering
  };

  /// Decides the reply to a request; runs on the server's threads, several at once, and
  /// may block (the request counts as in flight meanwhile).
  using handler = std::function<reply(const request&)>;

  /// Listens on `port` (0: a port the system picks), e.g. to come back on the port of a
  /// server that was stopped.
  explicit recording_server(int port = 0) {
    const auto answer = [this](const httplib::Request& in, httplib::Response& out) {
      serve(in, out);
    };
    server_.Get(".*", answer);
    server_.Post(".*", answer);
    server_.Put(".*", answer);
    server_.Patch(".*", answer);
    server_.Delete(".*", answer);
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

  ~recording_server() { stop(); }

  recording_server(const recording_server&) = delete;
  recording_server& operator=(const recording_server&) = delete;

  /// Stops listening and waits for the requests in flight; again does nothing.
  void stop() {
    {
      const std::lock_guard<std::mutex> lock{mutex_};
      stopping_ = true;
      changed_.notify_all();
    }
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  /// The port the server listens on; -1 when binding failed.
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>".
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Answers the next requests with `replies`, in order, then as before (handler or
  /// default reply).
  void script(std::vector<reply> replies) {
    const std::lock_guard<std::mutex> lock{mutex_};
    scripted_.insert(scripted_.end(), replies.begin(), replies.end());
  }
  /// Answers every unscripted request with `answer` (unless a handler is set).
  void set_default_reply(reply answer) {
    const std::lock_guard<std::mutex> lock{mutex_};
    default_reply_ = std::move(answer);
  }
  /// Lets `decide` answer every unscripted request instead of the default reply (an
  /// empty handler restores it). The script still goes first, so a test can make a
  /// stateful fake fail without the fake knowing.
  void set_handler(handler decide) {
    const std::lock_guard<std::mutex> lock{mutex_};
    handler_ = decide ? std::make_shared<const handler>(std::move(decide)) : nullptr;
  }

  /// From now until end_outage(), every request gets `answer` (before the script and the
  /// handler, which see nothing of it): the service is down.
  void begin_outage(reply answer) {
    const std::lock_guard<std::mutex> lock{mutex_};
    outage_ = std::move(answer);
  }
  /// Answers as before: the service is back.
  void end_outage() {
    const std::lock_guard<std::mutex> lock{mutex_};
    outage_.reset();
  }
  /// Requests that arrive from now on are acted on (script, handler) as usual, but their
  /// answers are held until release_answers() or the server stops.
  void hold_answers() {
    const std::lock_guard<std::mutex> lock{mutex_};
    holding_ = true;
  }
  /// Sends the held answers (to clients that may be gone) and holds no more.
  void release_answers() {
    const std::lock_guard<std::mutex> lock{mutex_};
    holding_ = false;
    changed_.notify_all();
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
  // Records `in`, then answers with the script's next reply, the handler's or the
  // default one, after the reply's delay (cut short when the server stops).
  void serve(const httplib::Request& in, httplib::Response& out) {
    request received{in.method, in.path,        {in.params.begin(), in.params.end()}, in.headers,
                     in.body,   in.remote_port, std::chrono::steady_clock::now()};
    reply answer;
    std::shared_ptr<const handler> decide;
    bool held = false;
    {
      const std::lock_guard<std::mutex> lock{mutex_};
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
      requests_.push_back(received);
      held = holding_;
      if (outage_) {
        answer = *outage_;
      } else if (!scripted_.empty()) {
        answer = scripted_.front();
        scripted_.pop_front();
      } else if (handler_ != nullptr) {
        decide = handler_;
      } else {
        answer = default_reply_;
      }
      changed_.notify_all();
    }
    if (decide != nullptr) answer = (*decide)(received);  // unlocked: it may take its time
    {
      std::unique_lock<std::mutex> lock{mutex_};
      if (answer.delay.count() > 0) {
        changed_.wait_for(lock, answer.delay, [this] { return stopping_; });
      }
      if (held) changed_.wait(lock, [this] { return stopping_ || !holding_; });
      --in_flight_;
    }
    out.status = answer.status;
    std::string content_type = "application/json";
    for (const auto& [name, value] : answer.headers) {
      if (is_content_type(name)) {
        content_type = value;  // set_content() sets it: set_header() would send two
      } else {
        out.set_header(name, value);
      }
    }
    out.set_content(answer.body, content_type);
  }

  static bool is_content_type(const std::string& name) {
    constexpr std::string_view kName = "content-type";
    return name.size() == kName.size() &&
           std::equal(name.begin(), name.end(), kName.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<request> requests_;
  std::deque<reply> scripted_;
  reply default_reply_;
  std::shared_ptr<const handler> handler_;  // shared: a request keeps the one it started with
  std::optional<reply> outage_;
  bool holding_ = false;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  bool stopping_ = false;
};

}  // namespace warden::testing

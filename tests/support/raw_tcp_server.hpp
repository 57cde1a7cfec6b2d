// A TCP server for fault tests that speaks no protocol of its own: it listens on
// 127.0.0.1 (on a port the system picks, or a given one), reads each request and then
// does what it was told with the connection — writes some bytes and closes, resets it
// (RST), keeps it open and never answers, or sends without end. So a test can make a
// sink that answers garbage, truncates its answer, resets the connection, stalls or
// floods, which a real HTTP server will not do on demand.
//
// Example:
//
//   raw_tcp_server sink{raw_tcp_server::answer_then_close("SSH-2.0-OpenSSH_9.2\r\n")};
//   options.dsn = "http://key@127.0.0.1:" + std::to_string(sink.port()) + "/1";
//   ...
//   REQUIRE(sink.wait_for_requests(1, 10s));
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace warden::testing {

class raw_tcp_server final {
 public:
  /// How a connection ends once the answer was written.
  enum class ending {
    close,  ///< An orderly close (FIN).
    reset,  ///< SO_LINGER 0 then close: the peer gets a RST.
    stall,  ///< Kept open, silent, until the server is destroyed.
    flood,  ///< Filler bytes follow, as fast as the peer takes them, until it closes.
  };

  /// What the server does with one connection.
  struct behaviour {
    std::string answer;              ///< Written once the request was read; may be empty.
    ending then = ending::close;     ///< What happens after the answer.
    bool read_whole_request = true;  ///< false: act as soon as the request's headers are in.
  };

  /// Writes `bytes` after the request, then closes.
  static behaviour answer_then_close(std::string bytes) {
    return {std::move(bytes), ending::close, true};
  }
  /// Resets the connection once the request's headers are in, before its body was read.
  static behaviour reset_mid_request() { return {"", ending::reset, false}; }
  /// Writes `bytes` after the request, then resets the connection.
  static behaviour answer_then_reset(std::string bytes) {
    return {std::move(bytes), ending::reset, true};
  }
  /// Reads the request and never answers.
  static behaviour never_answer() { return {"", ending::stall, true}; }
  /// Writes `bytes` (say, the head of a response with a huge Content-Length), then filler
  /// bytes without end.
  static behaviour endless_answer(std::string bytes) {
    return {std::move(bytes), ending::flood, true};
  }

  /// Listens on `port` (0: a port the system picks) and treats every connection as
  /// `each` says; port() is -1 when it could not listen.
  explicit raw_tcp_server(behaviour each, int port = 0) : behaviour_(std::move(each)) {
    if (::pipe2(wake_, O_CLOEXEC) != 0) return;
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) return;
    // httplib binds with SO_REUSEPORT alone, so a recording_server can take the port over
    // only if this socket (and the connections it accepts) allow that too.
    const int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread{[this] { serve(); }};
  }

  ~raw_tcp_server() {
    if (thread_.joinable()) {
      stopping_.store(true, std::memory_order_relaxed);
      const char stop = 's';
      static_cast<void>(::write(wake_[1], &stop, 1));
      thread_.join();
    }
    for (const int connection : stalled_) ::close(connection);
    for (const int descriptor : {listener_, wake_[0], wake_[1]}) {
      if (descriptor >= 0) ::close(descriptor);
    }
  }

  raw_tcp_server(const raw_tcp_server&) = delete;
  raw_tcp_server& operator=(const raw_tcp_server&) = delete;

  /// The port the server listens on, -1 when it could not listen.
  int port() const { return port_; }

  /// What each connection sent before the server acted, in the order they came.
  std::vector<std::string> requests() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return requests_;
  }
  /// Bytes written to all connections so far.
  std::uint64_t bytes_sent() const { return bytes_sent_.load(std::memory_order_relaxed); }
  /// Waits until at least `count` connections sent their request; false on timeout.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mutex_};
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
  }

 private:
  static constexpr std::chrono::milliseconds kReadTimeout{10000};

  // Accepts and handles connections one at a time until the destructor wakes it.
  void serve() {
    for (;;) {
      pollfd watched[] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(watched, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (watched[1].revents != 0) return;
      if ((watched[0].revents & POLLIN) == 0) continue;
      const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) continue;
      // A client that stops reading must not block the server for good.
      const timeval send_timeout{kReadTimeout.count() / 1000, 0};
      ::setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
      handle(connection);
    }
  }

  void handle(int connection) {
    const behaviour& what = behaviour_;
    std::string request = read_request(connection, what.read_whole_request);
    {
      const std::lock_guard<std::mutex> lock{mutex_};
      requests_.push_back(std::move(request));
    }
    changed_.notify_all();
    bool connected = write_all(connection, what.answer);
    if (what.then == ending::flood) {
      const std::string filler(64 * 1024, 'x');
      while (connected && !stopping_.load(std::memory_order_relaxed)) {
        connected = write_all(connection, filler);
      }
    }
    switch (what.then) {
      case ending::flood:
      case ending::close:
        ::close(connection);
        break;
      case ending::reset: {
        const linger abortive{1, 0};
        ::setsockopt(connection, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
        ::close(connection);
        break;
      }
      case ending::stall:
        stalled_.push_back(connection);
        break;
    }
  }

  // Writes all of `bytes`; false when the peer is gone (or stopped reading for
  // kReadTimeout).
  bool write_all(int connection, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(connection, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;
      bytes_sent_.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // Reads the request's headers and, when `whole`, its Content-Length body. Gives up at
  // the peer's close, the destructor or after kReadTimeout.
  std::string read_request(int connection, bool whole) const {
    std::string request;
    const auto deadline = std::chrono::steady_clock::now() + kReadTimeout;
    for (;;) {
      const std::size_t headers_end = request.find("\r\n\r\n");
      if (headers_end != std::string::npos &&
          (!whole || request.size() >= headers_end + 4 + content_length(request))) {
        return request;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return request;
      pollfd watched[] = {{connection, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(watched, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
        return request;
      }
      if (watched[1].revents != 0) return request;
      if (watched[0].revents == 0) continue;
      char buffer[16384];
      const ssize_t received = ::recv(connection, buffer, sizeof buffer, 0);
      if (received < 0 && errno == EINTR) continue;
      if (received <= 0) return request;
      request.append(buffer, static_cast<std::size_t>(received));
    }
  }

  // The Content-Length of the request whose headers are in `request`; 0 when none.
  static std::size_t content_length(const std::string& request) {
    std::string headers = request.substr(0, request.find("\r\n\r\n"));
    std::transform(headers.begin(), headers.end(), headers.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::size_t at = headers.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return static_cast<std::size_t>(
        std::strtoull(headers.c_str() + at + sizeof "\r\ncontent-length:" - 1, nullptr, 10));
  }

  const behaviour behaviour_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = -1;
  std::thread thread_;
  std::vector<int> stalled_;  // the server thread's until it is joined
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> requests_;
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<bool> stopping_{false};  // ends a flood; the wake pipe ends the rest
};

}  // namespace warden::testing

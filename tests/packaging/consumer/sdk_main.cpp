// Uses warden::sdk as an application would, with loopback as the only network: first
// against a sink that refuses connections (the libcurl transport tries, fails, and close()
// gives up within its timeout), then through a transport of the consumer's own (the event
// is delivered and flush() says so). Exits 0 when every check passed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <warden/ownership.hpp>
#include <warden/sdk.hpp>

WARDEN_MODULE_OWNER("consumers", "backend");

namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

constexpr milliseconds kCloseTimeout{300};
// close() promises its timeout "plus a few milliseconds"; this much more is a failure
// even on a loaded machine.
constexpr milliseconds kCloseSlack{500};

int failures = 0;

void expect(bool condition, std::string_view what) {
  if (!condition) {
    std::cerr << "FAILED: " << what << '\n';
    ++failures;
  }
}

bool is_event_id(std::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A loopback port that refuses connections: bound, so no other process takes it, but
// not listening, so a connection attempt is answered with a reset at once.
class refusing_port final {
 public:
  refusing_port() : fd_{::socket(AF_INET, SOCK_STREAM, 0)} {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  refusing_port(const refusing_port&) = delete;
  refusing_port& operator=(const refusing_port&) = delete;
  ~refusing_port() {
    if (fd_ >= 0) ::close(fd_);
  }

  int port() const { return port_; }  // 0 when no port could be bound

 private:
  int fd_;
  int port_ = 0;
};

// What the SDK's worker thread showed us through before_send and debug_logger.
struct observations {
  std::mutex mu;
  std::vector<std::string> event_ids;
  std::string team;
  std::string captured_by_team;
  std::vector<std::string> diagnostics;  // warnings and errors
};

// Records each request and answers 200, as a sink that took the envelope.
class recording_transport final : public warden::transport {
 public:
  warden::http_response send(const warden::http_request& request, milliseconds) override {
    const std::lock_guard<std::mutex> lock{mu_};
    urls_.push_back(request.url);
    warden::http_response accepted;
    accepted.status = 200;
    return accepted;
  }
  std::vector<std::string> urls() {
    const std::lock_guard<std::mutex> lock{mu_};
    return urls_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> urls_;
};

void charge_card() {
  WARDEN_ENDPOINT("POST /charge", warden::team("payments"));
  throw std::runtime_error("card declined");  // warden::throw_hook records the owner
}

void sink_refuses_connections() {
  WARDEN_OWNED();  // consumers/backend catches and captures
  refusing_port sink;
  expect(sink.port() != 0, "a loopback port could be bound");
  auto seen = std::make_shared<observations>();

  warden::options options;
  options.dsn = "http://public@127.0.0.1:" + std::to_string(sink.port()) + "/1";
  options.connect_timeout = milliseconds{200};
  options.request_timeout = milliseconds{200};
  options.shutdown_timeout = kCloseTimeout;
  options.before_send = [seen](warden::event& event) {
    const std::lock_guard<std::mutex> lock{seen->mu};
    seen->event_ids.push_back(event.event_id);
    seen->team = event.tags["team"];
    seen->captured_by_team = event.tags["captured_by.team"];
    return true;
  };
  options.debug_logger = [seen](warden::level severity, std::string_view message) {
    const std::lock_guard<std::mutex> lock{seen->mu};
    if (severity >= warden::level::warning) seen->diagnostics.emplace_back(message);
  };
  auto sdk = warden::init(std::move(options));
  expect(sdk.ok() && sdk.active(), "init() with a loopback DSN starts the SDK: " + sdk.error());

  std::string id;
  try {
    charge_card();
  } catch (const std::exception& error) {
    id = warden::capture_exception(error);  // outside the payments scope
  }
  expect(is_event_id(id), "capture_exception() returns a 32-hex-digit event id, not '" + id + "'");
  expect(warden::statistics().captured == 1, "statistics() counts the capture");

  const auto started = steady::now();
  const bool delivered = sdk.close(kCloseTimeout);
  const auto took = std::chrono::duration_cast<milliseconds>(steady::now() - started);
  expect(!delivered, "close() reports that the event could not be delivered");
  expect(took < kCloseTimeout + kCloseSlack, "close(" + std::to_string(kCloseTimeout.count()) +
                                                 " ms) returned after " +
                                                 std::to_string(took.count()) + " ms");
  expect(!sdk.active() && warden::capture_message("after close").empty(),
         "after close() captures are no-ops");

  // The worker has stopped: what it saw is complete.
  const std::lock_guard<std::mutex> lock{seen->mu};
  expect(seen->event_ids == std::vector<std::string>{id}, "before_send saw the captured event");
  expect(seen->team == "payments", "the event's team is the thrower's, not '" + seen->team + "'");
  expect(seen->captured_by_team == "consumers", "the catcher's team is kept as captured_by.team");
  // The wording is the SDK's own; that the sink error is reported is its contract.
  expect(!seen->diagnostics.empty(), "the libcurl transport's failure reached debug_logger");
}

void custom_transport_delivers() {
  auto transport = std::make_shared<recording_transport>();
  warden::options options;
  options.dsn = "http://public@127.0.0.1:9/1";  // never contacted: the transport answers
  options.custom_transport = transport;
  auto sdk = warden::init(std::move(options));
  expect(sdk.ok() && sdk.active(), "init() with a custom transport starts the SDK");

  const std::string id = warden::capture_message(warden::level::warning, "consumer {} ready", 1);
  expect(is_event_id(id), "capture_message() returns a 32-hex-digit event id");
  expect(sdk.flush(milliseconds{1000}), "flush() delivers through the custom transport");
  expect(warden::statistics().delivered >= 1, "statistics() counts the delivery");
  expect(sdk.close(milliseconds{1000}), "close() with nothing pending succeeds");
  const std::vector<std::string> urls = transport->urls();
  expect(!urls.empty() && urls.front() == "http://127.0.0.1:9/api/1/envelope/",
         "the envelope went to the DSN's envelope endpoint");
}

}  // namespace

int main() {
  sink_refuses_connections();
  custom_transport_delivers();
  if (failures != 0) return 1;
  std::cout << "sdk consumer ok\n";
  return 0;
}

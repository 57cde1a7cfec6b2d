// Writes what the SDK sends to files instead of a sink, for the interop test: Sentry's own
// envelope parser (parseEnvelope from @sentry/core, in check_envelopes.mjs) then reads
// them, so the envelopes are checked by the client code Sentry ships, not by ours.
//
//   warden_envelope_dump <output directory>
//
// One event per case, each tagged `case`: a fmt-style message, a nested exception chain
// thrown in an owned scope, a custom event with scope data and a trace, non-ASCII and
// invalid UTF-8, quotes and control characters, and two events before_send drops (so a
// client_report rides on the next envelope and another goes out alone at the flush).
// Each request becomes NNN.envelope (the body as sent: gzipped when the SDK compressed
// it) and NNN.headers (the URL, then one "Name: value" line per header); captured.txt
// lists "<case> <event id>" for every capture.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "warden/ownership.hpp"
#include "warden/sdk.hpp"

using namespace std::chrono_literals;
using namespace std::string_literals;

WARDEN_MODULE_OWNER("payments", "backend", "checkout");

namespace {

/// A transport that stores every request in a directory and answers 200.
class file_transport final : public warden::transport {
 public:
  explicit file_transport(std::filesystem::path directory) : directory_{std::move(directory)} {}

  /// Writes NNN.envelope and NNN.headers; a failed write is answered 400, so the SDK
  /// drops the envelope, and remembered for failed().
  warden::http_response send(const warden::http_request& request,
                             std::chrono::milliseconds) override {
    char stem[16];
    std::snprintf(stem, sizeof stem, "%03d", ++sent_);
    std::ofstream body{directory_ / (std::string{stem} + ".envelope"), std::ios::binary};
    body << request.body;
    std::ofstream headers{directory_ / (std::string{stem} + ".headers"), std::ios::binary};
    headers << request.url << '\n';
    for (const auto& [name, value] : request.headers) headers << name << ": " << value << '\n';
    body.close();
    headers.close();
    warden::http_response response;
    response.status = 200;
    if (!body || !headers) {
      failed_ = true;
      response.status = 400;
    }
    return response;
  }

  /// How many requests arrived.
  int sent() const noexcept { return sent_; }
  /// True when a request could not be written.
  bool failed() const noexcept { return failed_; }

 private:
  std::filesystem::path directory_;
  std::atomic<int> sent_{0};
  std::atomic<bool> failed_{false};
};

/// The event id each case's capture returned, written to captured.txt.
class capture_log final {
 public:
  /// Records that the event of `name` was captured as `event_id` ("" when not queued).
  void record(std::string_view name, std::string event_id) {
    if (event_id.empty()) std::cerr << "envelope_dump: case " << name << " was not captured\n";
    cases_.emplace_back(std::string{name}, std::move(event_id));
  }

  /// Writes the log to `path`; false when a case was not captured or the write failed.
  bool write(const std::filesystem::path& path) const {
    std::ofstream out{path};
    bool complete = true;
    for (const auto& [name, event_id] : cases_) {
      out << name << ' ' << event_id << '\n';
      complete = complete && !event_id.empty();
    }
    out.close();
    return complete && static_cast<bool>(out);
  }

 private:
  std::vector<std::pair<std::string, std::string>> cases_;
};

/// Waits until the worker has counted `count` events dropped by before_send. A drop the
/// worker meets after flush() was called is reported alone at once; waiting before going
/// on makes the first one ride on the next event's envelope instead.
bool wait_for_drops(std::uint64_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (warden::statistics().dropped["before_send"] < count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// Sets the `case` tag of the events this thread captures while it lives.
warden::scoped_override name_case(const std::string& name) {
  return warden::scoped_override{[&name](warden::scope& scope) { scope.set_tag("case", name); }};
}

}  // namespace

namespace payments {

/// Throws a plain std::runtime_error from an owned scope: only the throw hook knows its
/// owner and stack.
[[noreturn, gnu::noinline]] void decline_card() {
  WARDEN_OWNED();
  throw std::runtime_error("card \"4242\" declined");
}

/// Throws std::logic_error with the runtime_error of decline_card() nested inside.
[[noreturn, gnu::noinline]] void settle_order(int order) {
  WARDEN_OWNED();
  try {
    decline_card();
  } catch (...) {
    std::throw_with_nested(std::logic_error("order " + std::to_string(order) + " not settled"));
  }
}

}  // namespace payments

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: warden_envelope_dump <output directory>\n";
    return 2;
  }
  const std::filesystem::path directory{argv[1]};
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    std::cerr << "envelope_dump: cannot create " << directory << ": " << error.message() << '\n';
    return 1;
  }

  const auto transport = std::make_shared<file_transport>(directory);
  warden::options options;
  // Never contacted: the files are the sink. check_envelopes.mjs knows this DSN too.
  options.dsn = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/7";
  options.release = "interop@1.0.0";
  options.environment = "interop";
  options.server_name = "interop-host";
  options.custom_transport = transport;
  options.throw_site_stacks = true;
  options.attach_stacktrace = true;
  // Drops are reported at the next event or at the flush, never on a timer mid-run.
  options.client_report_interval = 10min;
  options.before_send = [](warden::event& event) {
    const auto name = event.tags.find("case");
    return name == event.tags.end() || name->second != "dropped";
  };
  std::mutex log_mutex;
  options.debug_logger = [&log_mutex](warden::level, std::string_view message) {
    const std::lock_guard<std::mutex> lock{log_mutex};
    std::cerr << "warden: " << message << '\n';
  };
  auto sdk = warden::init(std::move(options));
  if (!sdk.ok()) {
    std::cerr << "envelope_dump: " << sdk.error() << '\n';
    return 1;
  }

  WARDEN_OWNED();  // events without an owner of their own belong to payments
  capture_log captured;
  warden::breadcrumb query;
  query.type = "query";
  query.category = "db";
  query.message = "SELECT * FROM orders WHERE id = 42";
  query.level = warden::level::warning;
  query.data = {{"rows", "3"}, {"table", "orders"}};
  warden::add_breadcrumb(query);

  {
    const auto tag = name_case("dropped");
    captured.record("dropped", warden::capture_message("dropped by before_send"));
  }
  if (!wait_for_drops(1)) {
    std::cerr << "envelope_dump: the worker did not drop the first event within 10 s\n";
    return 1;
  }
  {
    WARDEN_ENDPOINT("POST /orders", warden::team("orders"));
    const auto tag = name_case("message");
    captured.record("message",
                    warden::capture_message(warden::level::warning, "order {} failed", 42));
    const auto chain = name_case("exception");
    try {
      payments::settle_order(42);
    } catch (const std::exception& failure) {
      captured.record("exception", warden::capture_exception(failure));
    }
  }
  {
    WARDEN_ENDPOINT("GET /stock", warden::team("inventory"));
    const auto tag = name_case("scope");
    warden::scoped_override request{[](warden::scope& scope) {
      scope.set_user(warden::user_info{"u-42", "ada@example.com", "ada", "127.0.0.1"});
      scope.set_extra("cart", "3 items");
    }};
    warden::event custom;
    custom.level = warden::level::info;
    custom.logger = "interop";
    custom.message = "inventory low";
    custom.tags["warehouse"] = "w-3";
    custom.extra["skus"] = "17";
    custom.fingerprint = {"{{ default }}", "inventory"};
    custom.transaction = "GET /stock";
    custom.contexts["trace"] = {{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"},
                                {"span_id", "00f067aa0ba902b7"}};
    warden::breadcrumb own;
    own.category = "stock";
    own.message = "counted";
    custom.breadcrumbs.push_back(own);
    captured.record("scope", warden::capture_event(std::move(custom)));
  }
  {
    const auto tag = name_case("utf8");
    warden::scoped_override text{[](warden::scope& scope) {
      scope.set_tag("city", "Zürich");
      scope.set_extra("invalid", "ok\xff\xfe|\xc3\x28|\xed\xa0\x80|caf\xe9|\xe2\x82");
    }};
    captured.record("utf8",
                    warden::capture_message(warden::level::info, "Grüße {} — 日本語 🚀", "Ünïcødé"));
  }
  {
    const auto tag = name_case("invalid_utf8");
    captured.record("invalid_utf8",
                    warden::capture_message("latin-1 caf\xe9 and truncated \xe2\x82"));
  }
  {
    const auto tag = name_case("escapes");
    warden::event custom;
    custom.message =
        "quote \" backslash \\ slash / nl \n cr \r tab \t bell \x07 unit \x1f "
        "nul \0 del \x7f ls \u2028 end"s;  // "s": the NUL is part of the string
    custom.extra["json"] = R"({"key": "va\"lue"})";
    custom.extra["lines"] = "first\nsecond\r\nthird";
    custom.tags["quoted"] = "say \"hi\"";
    captured.record("escapes", warden::capture_event(std::move(custom)));
  }
  // Everything before goes out first: the worker sends up to max_concurrent_requests
  // events as one batch and attaches pending drops to the batch's first envelope, so a
  // drop met in the same batch as the last events would ride on one of them.
  const bool sent_before = sdk.flush(10s);
  {
    const auto tag = name_case("dropped");
    captured.record("dropped", warden::capture_message("dropped by before_send, reported alone"));
  }

  const bool flushed = sent_before && sdk.flush(10s);
  const bool closed = sdk.close(5s);
  const bool logged = captured.write(directory / "captured.txt");
  if (!flushed || !closed || !logged || transport->failed()) {
    std::cerr << "envelope_dump: failed (flushed " << flushed << ", closed " << closed
              << ", captured " << logged << ", files written " << !transport->failed() << ")\n";
    return 1;
  }
  std::cout << "envelope_dump: " << transport->sent() << " requests written to "
            << directory.string() << '\n';
  return 0;
}

// Starting and stopping the SDK.
//
// init() starts the SDK and returns a guard that closes it when destroyed, waiting at
// most options::shutdown_timeout for pending events. Before init() and after close
// every capture function is a cheap no-op. A second init() closes the first SDK.
//
// Example:
//
//   int main() {
//     auto sdk = warden::init({.dsn = "http://key@127.0.0.1:8080/1"});  // C++20
//     if (!sdk.ok()) std::cerr << sdk.error() << '\n';
//     ...
//     sdk.flush(std::chrono::seconds{2});
//   }  // closes the SDK
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "warden/sdk/options.hpp"

namespace warden {

/// What the SDK did so far, for dashboards and tests. Counts since init().
struct sdk_statistics {
  std::uint64_t captured = 0;   ///< Events accepted by a capture function.
  std::uint64_t delivered = 0;  ///< Envelopes the sink acknowledged (2xx).
  std::uint64_t unowned = 0;    ///< Events that had no owner and got the fallback.
  std::uint64_t cached = 0;     ///< Envelopes waiting in the disk cache now.
  /// Events dropped, by Sentry's client-report reason ("queue_overflow", "sample_rate",
  /// "before_send", "ratelimit_backoff", "network_error", "cache_overflow", "send_error").
  std::map<std::string, std::uint64_t> dropped;
};

/// Owns the running SDK: closes it when destroyed. Move-only.
class [[nodiscard]] sdk_guard final {
 public:
  sdk_guard() = default;
  sdk_guard(sdk_guard&& other) noexcept;
  sdk_guard& operator=(sdk_guard&& other) noexcept;
  sdk_guard(const sdk_guard&) = delete;
  sdk_guard& operator=(const sdk_guard&) = delete;
  ~sdk_guard();

  /// False when init() failed; then error() says why and the SDK stays disabled.
  bool ok() const noexcept { return error_.empty(); }
  /// True while this guard's SDK runs (false without a DSN, after close or a later init).
  bool active() const noexcept;
  /// Why init() failed, e.g. "invalid DSN: missing project id"; empty otherwise.
  const std::string& error() const noexcept { return error_; }

  /// Waits until every event captured so far is delivered or deliberately dropped and
  /// the disk cache is empty, or `timeout` passes. True when it all went out.
  bool flush(std::chrono::milliseconds timeout);
  /// Delivers what it can within `timeout`, then stops this guard's SDK (if it still
  /// runs): the worker stops: what is left goes to
  /// the disk cache (sent at the next start) or is counted as dropped. Returns within
  /// `timeout` plus a few milliseconds; true when everything was delivered.
  bool close(std::chrono::milliseconds timeout);

 private:
  friend sdk_guard init(options settings);
  std::uint64_t generation_ = 0;  // which init() this guard owns; 0: none
  std::string error_;
};

/// Starts the SDK. Never throws: a bad DSN or cache directory gives a guard whose
/// error() says what is wrong (also sent to options::debug_logger); a missing DSN
/// gives an ok guard with the SDK disabled.
sdk_guard init(options settings);

/// flush() of the running SDK; true when there is none.
bool flush(std::chrono::milliseconds timeout);

/// What the running SDK did so far (all zero when none runs).
sdk_statistics statistics();

}  // namespace warden

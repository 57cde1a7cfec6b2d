// Everything warden::init() can be told. Plain data with standard-library types only.
//
// Fields left at their defaults take values from the environment as Sentry's SDKs do:
// the DSN from WARDEN_DSN, then SENTRY_DSN; the release from SENTRY_RELEASE; the
// environment from SENTRY_ENVIRONMENT (else "production").
//
// Example:
//
//   warden::options options;
//   options.dsn = "http://public@127.0.0.1:8080/1";
//   options.release = "shop@2026.11.25";
//   options.cache_directory = "/var/cache/shop/warden";
//   options.before_send = [](warden::event& event) {
//     return event.level >= warden::level::error;  // drop the rest
//   };
//   auto sdk = warden::init(std::move(options));
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "warden/sdk/event.hpp"
#include "warden/sdk/transport.hpp"

namespace warden {

/// How stack traces are walked on the capturing thread.
enum class stack_unwinder : unsigned char {
  /// The unwind tables (DWARF CFI) every C++ binary has for exceptions: correct at any
  /// optimization level, about 0.2 us per frame.
  dwarf,
  /// Abseil's frame-pointer walk: about 5 ns per frame, but complete only when the whole
  /// program is built with -fno-omit-frame-pointer; otherwise it stops after a frame or two.
  frame_pointer,
  /// No stack traces.
  none,
};

/// How init() is configured. Every callback may be called from the SDK's worker thread
/// (before_send, debug_logger) or from any capturing thread (before_breadcrumb), so it
/// must be thread-safe and must not call back into the SDK's capture functions.
struct options {
  /// Where events go, in Sentry's format: `{scheme}://{key}@{host}[:{port}]/{project}`.
  /// Empty: from WARDEN_DSN or SENTRY_DSN; still empty: the SDK stays disabled.
  std::string dsn;
  std::string release;      ///< Empty: SENTRY_RELEASE.
  std::string environment;  ///< Empty: SENTRY_ENVIRONMENT, else "production".
  std::string dist;         ///< Build variant of the release, e.g. "x86_64".
  std::string server_name;  ///< Empty: the host name.

  /// Share of error and message events sent, from 0 to 1; the rest are counted as
  /// dropped ("sample_rate") on the capturing thread without further cost.
  double sample_rate = 1.0;

  /// Sees every event just before it is serialized, on the worker thread; may change it.
  /// Return false to drop it (counted as "before_send").
  std::function<bool(event&)> before_send;
  /// Sees every breadcrumb on the thread that adds it; return false to drop it.
  std::function<bool(breadcrumb&)> before_breadcrumb;
  /// How many breadcrumbs the ring keeps (newest win); at most 100 are sent per event.
  std::size_t max_breadcrumbs = 100;

  /// Events waiting for the worker. A capture that finds it full returns at once and
  /// the event is counted as dropped ("queue_overflow"): the caller never blocks.
  std::size_t queue_capacity = 1000;
  /// Envelopes sent at once, each on its own connection, when events queue up faster
  /// than one connection takes them. 1: one request at a time.
  std::size_t max_concurrent_requests = 4;

  /// Directory for envelopes the sink could not take yet, and for crash reports; they
  /// are sent when the sink is back and at the next start. Empty: no disk cache, so a
  /// failed envelope is retried from memory a few times and then dropped.
  std::string cache_directory;
  std::size_t cache_max_bytes = 16 * 1024 * 1024;  ///< Oldest files go first past this.
  /// With a cache directory: report std::terminate and fatal signals (SIGSEGV, SIGBUS,
  /// SIGILL, SIGFPE, SIGABRT) at the next start, with the crashing thread's owner and
  /// stack. The handlers that were installed before still run after the SDK's.
  bool handle_crashes = true;
  std::size_t cache_max_envelopes = 100;  ///< Likewise for the number of files.

  /// How long the handle's destructor waits for pending events.
  std::chrono::milliseconds shutdown_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};  ///< TCP + TLS connect.
  std::chrono::milliseconds request_timeout{5000};  ///< One whole HTTP request.
  /// Retry delays after a network error or 5xx: doubling from `retry_initial_delay` up to
  /// `retry_max_delay`, each with random jitter (the second half of the interval).
  std::chrono::milliseconds retry_initial_delay{1000};
  std::chrono::milliseconds retry_max_delay{60000};
  /// Without a cache directory: attempts per envelope before it is dropped.
  int max_attempts = 5;
  /// Discarded-event counts are sent in a client_report item at least this often (with
  /// the next envelope, or on their own), and at flush and close.
  std::chrono::milliseconds client_report_interval{30000};

  std::string http_proxy;  ///< e.g. "http://proxy:3128"; empty: libcurl's environment.
  std::string ca_bundle;   ///< PEM file to verify the sink with; empty: the system's.
  /// Replaces libcurl, e.g. in tests or to use the application's own HTTP stack.
  std::shared_ptr<transport> custom_transport;

  /// Module or namespace prefixes of application code ("shop::", "libshop"), which mark
  /// stack frames `in_app`. Empty: every frame outside the C/C++ runtime, the system
  /// libraries and Warden itself is in_app.
  std::vector<std::string> in_app_prefixes;
  /// How stacks are walked. Exceptions always carry one (unless `none`).
  stack_unwinder unwinder = stack_unwinder::dwarf;
  /// Message events carry the capture-site stack too (as Sentry's attach_stacktrace).
  bool attach_stacktrace = false;
  /// Record the stack of every throw (needs the warden::throw_hook target linked): the
  /// exception's stack is then where it was thrown, not where it was captured. Costs one
  /// stack walk per throw (docs/BENCHMARKS.md); the throw-site owner is recorded anyway.
  bool throw_site_stacks = false;

  /// Receives the SDK's own diagnostics (invalid DSN, sink errors, drops). Empty: none.
  std::function<void(level, std::string_view)> debug_logger;
};

}  // namespace warden

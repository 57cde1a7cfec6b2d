// warden-sink's HTTP side: Sentry's ingest endpoints, the query API, /healthz and
// /metrics, on cpp-httplib with TCP_NODELAY and a thread per open connection (requests
// wait for their batch to commit), started on demand up to limits.max_connections.
//
//   sink_server server{config, db};
//   if (absl::Status bound = server.bind(); !bound.ok()) return fail(bound);
//   std::thread serving{[&] { server.run(); }};
//   ...                      // SIGTERM
//   server.stop();           // in-flight requests finish; then the store commits
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "server/config.hpp"
#include "server/event_processor.hpp"
#include "server/rate_limiter.hpp"
#include "store/store.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace warden::sink {

class connection_pool;
struct connection_pool_stats;

/// Counters behind /metrics. Thread-safe.
class sink_metrics final {
 public:
  /// One more item of `type` accepted.
  void accepted(const std::string& type);
  /// One request or item refused, by reason (e.g. "bad_auth", "too_large", "rate_limited").
  void rejected(const std::string& reason);
  /// Discards SDKs reported in client reports.
  void discarded_by_sdk(const std::string& reason, const std::string& category, std::int64_t n);
  /// One store write took `seconds`.
  void write_latency(double seconds);
  /// Prometheus text exposition; `queue_depth` is the store's, `connections` the HTTP
  /// server's threads.
  std::string render(std::size_t queue_depth, const connection_pool_stats& connections) const;

 private:
  // What every event counts is lock-free: the threads a commit wakes all count at once,
  // and a mutex made them queue (and sleep) for it.
  std::atomic<std::int64_t> events_accepted_{0};
  std::atomic<std::int64_t> writes_{0};
  std::atomic<std::int64_t> write_nanoseconds_{0};
  std::array<std::atomic<std::int64_t>, 6> write_buckets_{};
  mutable std::mutex mu_;                                              // the rest, rarer
  std::map<std::string, std::int64_t> accepted_ ABSL_GUARDED_BY(mu_);  // but events
  std::map<std::string, std::int64_t> rejected_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::int64_t> discarded_ ABSL_GUARDED_BY(mu_);
};

class sink_server final {
 public:
  /// Serves `config`'s projects from `db`, which must outlive the server.
  sink_server(sink_config config, store& db);
  ~sink_server();
  sink_server(const sink_server&) = delete;
  sink_server& operator=(const sink_server&) = delete;

  /// Binds the listen address; after it, port() is known. Unavailable when the address
  /// is taken.
  absl::Status bind();
  /// Serves until stop(); blocks. Once per server: stopping ends its connection threads.
  void run();
  /// Stops accepting, lets requests in progress finish, then run() returns. Any thread.
  void stop();
  /// The bound port.
  int port() const { return port_; }
  /// The config in use, with the default project filled in.
  const sink_config& config() const { return config_; }
  /// Called after a delivery was queued for replay (wakes the delivery worker). Set
  /// before run().
  void on_replay(std::function<void()> queued) { on_replay_ = std::move(queued); }

 private:
  struct key_entry {
    const project_config* project;
    bool revoked;
  };
  void route();
  void ingest(const httplib::Request& request, httplib::Response& response, bool envelope_endpoint,
              std::string raw_body);
  bool authorized_for_api(const httplib::Request& request, httplib::Response& response) const;
  void list_issues(const httplib::Request& request, httplib::Response& response);
  void show_issue(const httplib::Request& request, httplib::Response& response);
  void issue_events(const httplib::Request& request, httplib::Response& response);
  void update_issue(const httplib::Request& request, httplib::Response& response);
  void list_owners(const httplib::Request& request, httplib::Response& response);
  void show_event(const httplib::Request& request, httplib::Response& response);
  void download_attachment(const httplib::Request& request, httplib::Response& response);
  // The delivery log (delivery_api.cpp).
  void list_deliveries(const httplib::Request& request, httplib::Response& response);
  void show_delivery(const httplib::Request& request, httplib::Response& response);
  void replay(const httplib::Request& request, httplib::Response& response);
  // Each tracker and receiver with what waits for it, what failed and the last error.
  void list_targets(const httplib::Request& request, httplib::Response& response);
  // The trackers' webhooks (hooks_api.cpp): a ticket's change applied to its issue, and
  // the log of those requests.
  void tracker_hook(const httplib::Request& request, httplib::Response& response);
  void list_tracker_hooks(const httplib::Request& request, httplib::Response& response);
  // Prometheus families of the outbox, tickets and alert rules, read from the store.
  std::string alerting_metrics();
  // "ticket": the issue's ticket or null, "deliveries": its pending and failed ones.
  void write_ticket(rapidjson::Writer<rapidjson::StringBuffer>& out, std::int64_t issue_id);

  sink_config config_;
  store& db_;
  event_processor processor_;
  rate_limiter limiter_;
  sink_metrics metrics_;
  absl::flat_hash_map<std::string, key_entry> keys_;
  std::unique_ptr<connection_pool> connections_;  // httplib's threads, kept for /metrics
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::function<void()> on_replay_;
};

}  // namespace warden::sink

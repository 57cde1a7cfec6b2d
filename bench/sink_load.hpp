// A load generator for HTTP ingest endpoints on libcurl's multi interface: one thread,
// N concurrent keep-alive HTTP/1.1 connections, each POSTing a body made just before it
// is sent. Two plans: a closed loop (as fast as the N connections allow: the maximum
// rate) and an open loop (requests due at a fixed rate whatever the answers, so a slow
// server shows up as latency rather than as a lower offered rate).
//
//   load_generator load{"http://127.0.0.1:9000/api/1/envelope/", headers, 32};
//   load_plan plan;
//   plan.duration = std::chrono::seconds{5};            // closed loop: as fast as it can
//   load_result max = load.run(plan, [&](std::string& body) { envelopes.make(g++, body); });
//   plan.rate = max.rate() / 2;                         // open loop at half of that
//   load_result paced = load.run(plan, next_body);
//   double p99_ms = percentile(paced.latencies_us, 99) / 1000;
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace warden::bench {

/// How much load to send.
struct load_plan {
  /// Requests per second, due at regular times; 0: closed loop, as fast as possible.
  double rate = 0;
  /// No request starts after this much time; those in flight are then awaited.
  std::chrono::duration<double> duration{1.0};
  /// No more requests than this in all.
  std::uint64_t max_requests = UINT64_MAX;
};

/// What a run did. Latencies are response times in microseconds, from when a request
/// was due (open loop) or started (closed loop) to the end of its answer.
struct load_result {
  std::uint64_t answered = 0;  ///< Requests answered 2xx.
  std::uint64_t failed = 0;    ///< Other statuses and transport errors.
  /// Of `failed`, those without an HTTP answer (a connection reset, say).
  std::uint64_t transport_errors = 0;
  std::string first_failure;         ///< What the first failure was; empty without one.
  double seconds = 0;                ///< From the first request to the last answer.
  std::uint64_t body_bytes = 0;      ///< Request bodies sent.
  std::vector<double> latencies_us;  ///< One per request, answered or not.
  std::vector<double> start_lag_us;  ///< Open loop: how late each request started.
  double client_cpu_seconds = 0;     ///< CPU time of the calling (generating) thread.
  std::size_t max_in_flight = 0;     ///< Most requests outstanding at once.

  /// Requests answered 2xx per second.
  double rate() const { return seconds > 0 ? static_cast<double>(answered) / seconds : 0; }
};

/// The `p`th percentile (0-100) of `values` (reordered); 0 when empty.
double percentile(std::vector<double>& values, double p);

/// Produces the body of the next request into its argument.
using body_source = std::function<void(std::string&)>;

/// Drives one URL from the calling thread. Connections stay open between runs and close
/// with the generator. Not thread-safe.
class load_generator final {
 public:
  /// POSTs to `url` with `headers` ("Name: value") over at most `connections`
  /// connections. curl_global_init() must have been called.
  load_generator(const std::string& url, const std::vector<std::string>& headers,
                 std::size_t connections);
  ~load_generator();
  load_generator(const load_generator&) = delete;
  load_generator& operator=(const load_generator&) = delete;

  /// Sends what `plan` says, bodies from `next_body`, and waits for every answer.
  load_result run(const load_plan& plan, const body_source& next_body);

 private:
  struct transfer;
  struct curl_handles;

  std::unique_ptr<curl_handles> curl_;
  std::vector<std::unique_ptr<transfer>> transfers_;
};

/// GETs `url` with a fresh connection; returns the status (0 on a transport error) and
/// fills `body` with the answer.
long http_get(const std::string& url, std::string& body);

}  // namespace warden::bench

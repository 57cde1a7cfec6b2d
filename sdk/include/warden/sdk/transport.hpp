// How envelopes leave the process: a replaceable HTTP transport.
//
// The SDK's worker thread builds each request (URL, headers, gzip body) and hands it to
// a transport, libcurl by default. Tests and users with their own networking replace it
// through options::transport; the worker keeps rate limits, retries and the disk cache.
//
// Example (a transport that writes envelopes to a file instead of the network):
//
//   class file_transport final : public warden::transport {
//    public:
//     warden::http_response send(const warden::http_request& request,
//                                std::chrono::milliseconds) override {
//       out_ << request.body;
//       return {200};
//     }
//    private:
//     std::ofstream out_{"envelopes.bin", std::ios::binary};
//   };
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace warden {

/// One POST of an envelope.
struct http_request {
  std::string url;                                           ///< The DSN's envelope endpoint.
  std::vector<std::pair<std::string, std::string>> headers;  ///< Auth, type, encoding.
  std::string body;                                          ///< The envelope, maybe gzipped.
};

/// What came back. `status` is 0 when no HTTP response arrived (then `error` says why).
struct http_response {
  int status = 0;
  std::string retry_after;         ///< The Retry-After header, if any.
  std::string sentry_rate_limits;  ///< The X-Sentry-Rate-Limits header, if any.
  std::string error;               ///< Network error, when status is 0.
};

/// Sends requests; called only from the SDK's worker thread.
class transport {
 public:
  virtual ~transport() = default;
  /// Sends `request`, giving up after `timeout`. Must not throw.
  virtual http_response send(const http_request& request, std::chrono::milliseconds timeout) = 0;
  /// Sends independent requests, concurrently where the transport can: the worker hands
  /// over several when envelopes queue up. Returns one response per request, in order;
  /// each request gets `timeout`. The default sends them one after the other.
  virtual std::vector<http_response> send_all(const std::vector<http_request>& requests,
                                              std::chrono::milliseconds timeout) {
    std::vector<http_response> responses;
    responses.reserve(requests.size());
    for (const http_request& request : requests) responses.push_back(send(request, timeout));
    return responses;
  }
  /// Called from the thread that closes the SDK when its deadline has passed: a send in
  /// progress should return soon, and later ones at once. May be called concurrently
  /// with send(); the default does nothing, so a send then runs to its own timeout.
  virtual void cancel() noexcept {}
};

}  // namespace warden

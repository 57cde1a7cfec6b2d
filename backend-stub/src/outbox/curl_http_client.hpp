// The outbox's HTTP client on libcurl. Each send borrows a session (a curl multi handle
// with one easy handle) from a small pool and gives it back, so the connections a
// session opened are reused by the next send to the same host (keep-alive), whichever
// thread makes it. Redirects are not followed (a 3xx is an answer), TLS is verified,
// proxies come from the environment (http_proxy, https_proxy, no_proxy), no
// "Expect: 100-continue", only http:// and https:// URLs.
//
//   auto client = curl_http_client::create({config.connect_timeout, config.timeout});
//   if (!client.ok()) return client.status();
//   http_response answer = (*client)->send(request);  // from any thread
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "outbox/http_client.hpp"

namespace warden::sink {

/// How a curl_http_client sends.
struct curl_http_client_options {
  std::chrono::milliseconds connect_timeout = std::chrono::seconds{5};  ///< TCP + TLS set-up.
  std::chrono::milliseconds timeout = std::chrono::seconds{15};         ///< The whole exchange.
  std::size_t max_response_body = 64 * 1024;  ///< More is cut off: `truncated`.
  std::size_t max_idle_sessions = 16;  ///< Sessions (and their connections) kept between sends.
};

/// http_client on libcurl; see the file comment. Destroy it only after every send
/// returned.
class curl_http_client final : public http_client {
 public:
  /// A client with `options`; InvalidArgument for a timeout or body cap that is not
  /// positive, Internal when libcurl cannot be initialised.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<curl_http_client>> create(
      curl_http_client_options options);

  ~curl_http_client() override;
  curl_http_client(const curl_http_client&) = delete;
  curl_http_client& operator=(const curl_http_client&) = delete;

  /// GET, POST, PUT, PATCH or DELETE (any other method is an error, nothing is sent).
  /// A GET carries no body. `request_sent` is true once any byte of the request was
  /// written; an answer cut off by a transport error has status 0.
  [[nodiscard]] http_response send(const http_request& request) override;
  void cancel_all() noexcept override;

 private:
  struct session;

  explicit curl_http_client(curl_http_client_options options);
  // An idle session, or a new one; null when libcurl cannot make one.
  std::unique_ptr<session> acquire();
  // Keeps `used` for a later send, or closes it when enough are idle.
  void release(std::unique_ptr<session> used);
  // Runs the configured transfer of `active` until it ends or cancel_all() is called.
  void run(session& active, http_response& response);

  const curl_http_client_options options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::vector<std::unique_ptr<session>> idle_ ABSL_GUARDED_BY(mu_);
  std::vector<session*> in_flight_ ABSL_GUARDED_BY(mu_);  // woken by cancel_all()
};

}  // namespace warden::sink

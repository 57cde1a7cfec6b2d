// The outbox's view of HTTP: send one request, get its answer or the reason there is
// none. An interface, so that the delivery worker runs with curl_http_client and is
// tested with a scripted client.
//
//   std::unique_ptr<http_client> client = *curl_http_client::create({});
//   http_response answer = client->send({"POST", url, headers, body});
//   if (answer.status == 0) log(answer.error, answer.request_sent);  // no answer
//   ...
//   client->cancel_all();  // at shutdown: every send returns now, none waits out a timeout
#pragma once

#include <string_view>

#include "targets/http.hpp"

namespace warden::sink {

/// The `error` of a send that cancel_all() aborted or refused: the worker requeues such
/// deliveries instead of counting a failed attempt.
inline constexpr std::string_view kCancelledError = "cancelled: the HTTP client was stopped";

/// Sends HTTP requests. Thread-safe: the delivery worker's threads share one client.
class http_client {
 public:
  virtual ~http_client() = default;

  /// Sends `request` and waits for its answer, at most the client's timeout. Never
  /// throws: a transport failure is an answer with status 0 and `error` set.
  [[nodiscard]] virtual http_response send(const http_request& request) = 0;

  /// Aborts every send in flight (each returns promptly with kCancelledError) and makes
  /// later sends return the same at once. For shutdown; there is no way back.
  virtual void cancel_all() noexcept = 0;

 protected:
  http_client() = default;
  http_client(const http_client&) = default;
  http_client& operator=(const http_client&) = default;
};

}  // namespace warden::sink

// An HTTP exchange as the outbox sees it: what a target's request builder produces, what
// the client sends, and what came back. Plain values, so that builders and parsers are
// pure functions, tested without sockets.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::sink {

/// A request to send.
struct http_request {
  std::string method = "POST";
  std::string url;  ///< Absolute, query included.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// What came back, or why nothing did.
struct http_response {
  int status = 0;                                            ///< 0: no response (see error).
  std::vector<std::pair<std::string, std::string>> headers;  ///< Names lowercased.
  std::string body;  ///< At most the client's cap; `truncated` says when cut.
  bool truncated = false;
  std::string error;          ///< Transport error (connect, timeout, reset); empty with a status.
  bool request_sent = false;  ///< The request was written: the target may have acted on it.
  std::chrono::milliseconds duration{0};

  /// The first header named `name` (lowercase), or "".
  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
};

}  // namespace warden::sink

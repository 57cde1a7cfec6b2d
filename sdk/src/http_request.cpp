#include "http_request.hpp"

#include <fmt/format.h>

#include <utility>

#include "gzip.hpp"

namespace warden::sdk::detail {

http_request envelope_request(std::string envelope, const dsn& target, const sdk_identity& sdk) {
  const std::string client = fmt::format("{}/{}", sdk.name, sdk.version);
  http_request request;
  request.url = target.envelope_url();
  request.headers = {{"Content-Type", "application/x-sentry-envelope"},
                     {"X-Sentry-Auth", target.auth_header(client)},
                     {"User-Agent", client}};
  if (envelope.size() >= kGzipThreshold) {
    if (auto compressed = gzip(envelope)) {
      request.headers.emplace_back("Content-Encoding", "gzip");
      request.body = std::move(*compressed);
      return request;
    }
  }
  request.body = std::move(envelope);
  return request;
}

}  // namespace warden::sdk::detail

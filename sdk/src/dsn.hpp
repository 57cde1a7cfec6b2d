// A parsed Sentry DSN and what the transport derives from it (endpoint URL, auth).
// Internal to the SDK.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace warden::sdk::detail {

/// `{scheme}://{public_key}[:{secret}]@{host}[:{port}]{path}/{project_id}`, as the
/// Sentry SDK documentation defines it ("Parsing the DSN").
struct dsn {
  std::string scheme;      ///< "http" or "https".
  std::string public_key;  ///< The key the sink authenticates.
  std::string secret_key;  ///< Deprecated; kept only to send it back if given.
  std::string host;        ///< Host with its optional port; IPv6 literals in brackets.
  std::string path;        ///< Prefix before the project id, "" or e.g. "/sentry".
  std::string project_id;  ///< Decimal digits.

  /// Where envelopes go: `{scheme}://{host}{path}/api/{project_id}/envelope/`.
  std::string envelope_url() const;
  /// The X-Sentry-Auth header value for a client called `client` ("name/version").
  std::string auth_header(std::string_view client) const;
};

/// Parses and validates a DSN; the error says which part is wrong and why.
absl::StatusOr<dsn> parse_dsn(std::string_view text);

}  // namespace warden::sdk::detail

// Who is sending: the public key (and protocol version and client) from whichever of
// Sentry's authentication forms the request uses. Pure: the caller extracts the header
// values and query parameters; whether the key is known is decided later, by the store.
//
// Accepted forms (develop docs sdk/overview.mdx; Relay extractors/request_meta.rs):
//   X-Sentry-Auth: Sentry sentry_key=KEY, sentry_version=7, sentry_client=NAME/VERSION
//   Authorization: Sentry sentry_key=KEY, ...        (same syntax)
//   Authorization: Basic base64("KEY:")              (the secret after ':' is ignored)
//   ?sentry_key=KEY&sentry_version=7&sentry_client=NAME/VERSION   (what @sentry/node sends)
//   envelope header "dsn": "https://KEY@host/PROJECT_ID"  (only when nothing else is)
// The "Sentry " and "Basic " prefixes are matched in any case. Several forms naming the
// same key are fine (Relay refuses any two; Bugsink takes the first): a proxy or an SDK
// may add a second form for the same key, and nothing is ambiguous about it.
//
// Example (the strings the views point into must outlive the call):
//   const std::string header = request.get_header_value("X-Sentry-Auth");
//   const std::string key = request.get_param_value("sentry_key");
//   warden::sink::auth_inputs inputs;
//   inputs.x_sentry_auth = header;
//   inputs.query_sentry_key = key;
//   absl::StatusOr<warden::sink::credentials> who = warden::sink::authenticate(inputs);
//   if (!who.ok()) return reply(warden::sink::http_status(who.status()), ...);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace warden::sink {

/// The Sentry protocol version the sink speaks; a client asking for more gets 400 (Relay
/// PROTOCOL_VERSION, which is also what a client that names none is taken to speak).
inline constexpr int kSentryProtocolVersion = 7;

/// Where credentials can be, as the HTTP layer found them. Empty means absent; query
/// values are already percent-decoded.
struct auth_inputs {
  std::string_view x_sentry_auth;         ///< The X-Sentry-Auth header.
  std::string_view authorization;         ///< The Authorization header.
  std::string_view query_sentry_key;      ///< Query parameter sentry_key.
  std::string_view query_sentry_version;  ///< Query parameter sentry_version.
  std::string_view query_sentry_client;   ///< Query parameter sentry_client.
  std::string_view user_agent;            ///< User-Agent: the client when none is named.
  /// The envelope header's "dsn" (envelope::dsn). Used only when no other form names a
  /// key, as Relay does, so callers may authenticate before decoding the body and retry
  /// with the DSN only on a missing-credentials error.
  std::string_view envelope_dsn;
};

/// Whether `key` can be a public key: 1 to 128 of the URL-safe characters of RFC 3986
/// (A-Z a-z 0-9 - . _ ~), since keys end up in logs, URLs and SQL. Shared with the config.
[[nodiscard]] bool is_valid_public_key(std::string_view key);

/// What the request says about its sender. Not yet checked against any project.
struct credentials {
  std::string public_key;                ///< 1 to 128 characters of A-Z a-z 0-9 - . _ ~
  std::string client;                    ///< sentry_client, else the User-Agent, else empty.
  int version = kSentryProtocolVersion;  ///< sentry_version; the major part of "7.0".
  /// The project id of the envelope DSN when the key came from it, so that the caller can
  /// check it against the one in the URL; nullopt for every other form.
  std::optional<std::uint64_t> dsn_project_id;
};

/// The credentials in `inputs`. Unauthenticated (401) when there are none ("missing
/// authorization information"), when forms name different keys ("multiple different
/// keys"), or when a form is malformed (the message says which and why: a header
/// without the "Sentry " prefix or without sentry_key, bad base64, a bad DSN, an
/// unreadable sentry_version). InvalidArgument (400) for a sentry_version above
/// kSentryProtocolVersion ("unsupported protocol version").
[[nodiscard]] absl::StatusOr<credentials> authenticate(const auth_inputs& inputs);

}  // namespace warden::sink

// JSON from untrusted clients: envelope and item headers, /store/ bodies, event payloads.
// Parsed into a RapidJSON document with limits checked while parsing, before anything
// is built from the offending part. The parser is RapidJSON's recursive one; the depth
// limit (at most kMaxJsonDepth) bounds its recursion, however deep the input nests.
//
// Example:
//   absl::StatusOr<rapidjson::Document> event = warden::sink::parse_json(payload);
//   if (!event.ok()) return reply(warden::sink::http_status(event.status()), ...);
//   if (event->IsObject() && event->HasMember("exception")) ...
#pragma once

#include <cstddef>
#include <string_view>

#include <rapidjson/document.h>

#include "absl/status/statusor.h"

namespace warden::sink {

/// The deepest nesting json_limits::max_depth may allow: parse_json recurses once per
/// level (a few hundred bytes of stack each, far below a thread's stack).
inline constexpr std::size_t kMaxJsonDepth = 1000;

/// What one JSON text may contain.
struct json_limits {
  /// Arrays and objects nested in each other. Sentry's SDKs trim event data to a depth
  /// of 3 to 10 (JS normalizeDepth 3, Relay's data bag trimming 5); 64 leaves room
  /// for anything real while keeping the document cheap to walk recursively later.
  /// At most kMaxJsonDepth (a larger value counts as that).
  std::size_t max_depth = 64;
  /// Bytes in one string or key, after unescaping. 1 MiB, the size of a whole event
  /// item (Relay max_event_size): a longer string cannot be part of a valid event.
  std::size_t max_string_bytes = 1024 * 1024;
};

/// `text` parsed as one JSON value (RFC 8259; whitespace around it allowed, nothing else
/// after it). InvalidArgument (400) for invalid JSON or invalid UTF-8 in a string, and
/// for a text nested deeper or holding a longer string than `limits` allow; the message
/// gives the byte offset and the limit. The document owns its strings and does not
/// refer to `text`.
[[nodiscard]] absl::StatusOr<rapidjson::Document> parse_json(std::string_view text,
                                                             const json_limits& limits = {});

}  // namespace warden::sink

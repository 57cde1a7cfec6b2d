// Request bodies as SDKs send them: plain, or compressed with the Content-Encoding they
// name, decoded within a size limit. Pure: no I/O, no threads.
//
// Accepted Content-Encoding values, case-insensitive, surrounding whitespace ignored:
//   "", "identity", "utf-8"  no compression ("utf-8" is what sentry.java.android 2.0.0
//                            sends and an empty value what sentry-ruby 5 sends; Relay
//                            ignores both, and so does the sink)
//   "gzip", "x-gzip"         RFC 1952, one member or several concatenated
//   "deflate"                RFC 1950 (zlib wrapper, what the Sentry docs mean) or raw
//                            RFC 1951 (what Bugsink expects), told apart by the header
//   "br"                     Brotli, RFC 7932
// zstd (which Relay also knows) and lists of codings are refused.
//
// Example:
//   absl::StatusOr<std::string> envelope =
//       warden::sink::decode_body(request.get_header_value("Content-Encoding"),
//                                 request.body, limits.max_envelope_bytes);
//   if (!envelope.ok()) return reply(warden::sink::http_status(envelope.status()), ...);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace warden::sink {

/// `body` decoded as `content_encoding` says. Decompression runs in 64 KiB steps and
/// stops as soon as the output would pass `max_decoded_bytes`, so a small "zip bomb"
/// never costs more than the limit: OutOfRange (413) naming the limit. An unknown
/// coding is InvalidArgument (400) naming it, and so is corrupt or truncated data
/// (with the byte offset where decoding failed). Identity bodies are copied, and are
/// held to the same limit.
[[nodiscard]] absl::StatusOr<std::string> decode_body(std::string_view content_encoding,
                                                      std::string body,
                                                      std::size_t max_decoded_bytes);

}  // namespace warden::sink

// Message normalization for grouping: the parts of a message that change from one
// occurrence to the next (ids, numbers, addresses, dates) become placeholders, so that
// "order 1234 failed for bob@example.com" and "order 98 failed for ann@example.org"
// land in the same issue. Follows Sentry's message strategy (src/sentry/grouping/
// strategies/message.py) with RE2 instead of Python's re, so it runs in linear time.
//
// Example:
//
//   normalize_message("user 42 not found on 10.0.0.7\nretrying in 2.5 s")
//   // == "user <int> not found on <ip>\nretrying in <float> s"
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace warden::sink {

/// Bytes of each kept line that are normalized; a longer line is cut there and the
/// result marked "...". Bounds the cost per event (grouping never needs more).
inline constexpr std::size_t kMaxNormalizedLineBytes = 1024;

/// The grouping form of `message`: its first two non-blank lines (trailing whitespace
/// removed, "..." appended when more followed or a line was cut) with emails, URLs,
/// IPv4/IPv6 addresses, UUIDs, SHA1 and MD5 digests, dates and times, 0x hex numbers,
/// floats, integers and ='quoted' values replaced by <email>, <url>, <ip>, <uuid>,
/// <sha1>, <md5>, <date>, <hex>, <float>, <int> and =<quoted_str>. Thread-safe.
std::string normalize_message(std::string_view message);

}  // namespace warden::sink

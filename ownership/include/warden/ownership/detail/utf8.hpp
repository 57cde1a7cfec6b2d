// UTF-8 validation shared by the components that write JSON (coverage reports, the
// SDK's envelopes): invalid bytes become U+FFFD instead of breaking strict parsers.
// Internal: not part of the public API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "warden/ownership/detail/config.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE
namespace detail {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&text](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) min_second = 0xa0;  // no overlong forms
    if (lead == 0xed) max_second = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) min_second = 0x90;
    if (lead == 0xf4) max_second = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

// Appends `text` to `out` with every invalid UTF-8 byte replaced by U+FFFD; stops before
// a sequence that would make `out` longer than `max_bytes` (never splits a character).
inline void append_valid_utf8(std::string& out, std::string_view text,
                              std::size_t max_bytes = std::string::npos) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const std::size_t length = byte < 0x80 ? 1 : utf8_sequence_length(text, i);
    const std::string_view piece = length == 0 ? kReplacement : text.substr(i, length);
    if (out.size() + piece.size() > max_bytes) return;
    out.append(piece);
    i += length == 0 ? 1 : length;
  }
}

}  // namespace detail
WARDEN_DETAIL_END_NAMESPACE

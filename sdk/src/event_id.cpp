#include "event_id.hpp"

#include <algorithm>

#include "absl/random/random.h"

namespace warden::sdk::detail {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint8_t byte) {
  out += kHexDigits[byte >> 4];
  out += kHexDigits[byte & 0x0f];
}

}  // namespace

std::string event_id::to_hex() const {
  std::string hex;
  hex.reserve(32);
  for (const std::uint8_t byte : bytes) append_hex(hex, byte);
  return hex;
}

std::string event_id::to_dashed() const {
  std::string dashed;
  dashed.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) dashed += '-';
    append_hex(dashed, bytes[i]);
  }
  return dashed;
}

bool event_id::empty() const noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t byte) { return byte == 0; });
}

event_id new_event_id() noexcept {
  // PCG64, seeded from the OS once per thread by Abseil; not for secrets, fine for ids.
  thread_local absl::InsecureBitGen generator;
  event_id id;
  for (std::size_t i = 0; i < id.bytes.size(); i += 8) {
    std::uint64_t bits = absl::Uniform<std::uint64_t>(generator);
    for (std::size_t k = 0; k < 8; ++k) {
      id.bytes[i + k] = static_cast<std::uint8_t>(bits);
      bits >>= 8;
    }
  }
  id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x40);  // version 4
  id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);  // variant 10
  return id;
}

}  // namespace warden::sdk::detail

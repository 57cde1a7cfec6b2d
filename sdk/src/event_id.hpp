// Event ids: random (version 4) UUIDs from a per-thread generator seeded once, so that
// making an id costs a few nanoseconds and no system call. Internal to the SDK.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace warden::sdk::detail {

/// A UUIDv4 as 16 bytes.
struct event_id {
  std::array<std::uint8_t, 16> bytes{};

  /// 32 lowercase hex digits, the form Sentry uses in envelopes and responses.
  std::string to_hex() const;
  /// The dashed 8-4-4-4-12 form.
  std::string to_dashed() const;
  /// True for the all-zero id ("no event").
  bool empty() const noexcept;
};

/// A new random event id (RFC 4122 version 4, variant 10).
event_id new_event_id() noexcept;

}  // namespace warden::sdk::detail

// The wall clock as the sink stores time: Unix milliseconds.
#pragma once

#include <chrono>
#include <cstdint>

namespace warden::sink {

/// Now, in milliseconds since the Unix epoch (what every timestamp column holds).
inline std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace warden::sink

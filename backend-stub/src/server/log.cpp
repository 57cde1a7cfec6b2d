#include "server/log.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace warden::sink {

std::optional<log_level> sink_log::parse_level(std::string_view name) {
  if (name == "debug") return log_level::debug;
  if (name == "info") return log_level::info;
  if (name == "warning") return log_level::warning;
  if (name == "error") return log_level::error;
  return std::nullopt;
}

void sink_log::write(log_level level, std::string_view message) {
  if (!enabled(level)) return;
  static constexpr const char* kNames[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
  const std::string line = fmt::format(
      "{} {} {}\n", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      kNames[static_cast<int>(level)], message);
  // One write(2) per line keeps lines from concurrent threads whole.
  static_cast<void>(::write(STDERR_FILENO, line.data(), line.size()));
}

}  // namespace warden::sink

// warden-sink's log: one line per message on stderr, "<UTC time> <level> <message>",
// filtered by the configured level. Thread-safe (one write per line).
//
//   sink_log::set_level(log_level::warning);
//   sink_log::write(log_level::error, fmt::format("store: {}", status.message()));
#pragma once

#include <atomic>
#include <optional>
#include <string_view>

namespace warden::sink {

/// Severity of a log line, lowest first.
enum class log_level { debug, info, warning, error };

/// The process-wide log.
class sink_log final {
 public:
  /// The level named "debug", "info", "warning" or "error"; nullopt for anything else.
  static std::optional<log_level> parse_level(std::string_view name);
  /// Lines below `level` are dropped.
  static void set_level(log_level level) { threshold_.store(level, std::memory_order_relaxed); }
  /// Whether a line of `level` would be written (to skip formatting it).
  static bool enabled(log_level level) {
    return level >= threshold_.load(std::memory_order_relaxed);
  }
  /// Writes `message` at `level`.
  static void write(log_level level, std::string_view message);

 private:
  static inline std::atomic<log_level> threshold_{log_level::info};
};

}  // namespace warden::sink

// The alerting part of the configuration: levels and the default rules. Reading the
// YAML is in config.cpp, with the rest of the file.
#include "server/alerting_config.hpp"

namespace warden::sink {

std::optional<event_level> parse_event_level(std::string_view name) noexcept {
  if (name == "debug") return event_level::debug;
  if (name == "info" || name == "log") return event_level::info;
  if (name == "warning" || name == "warn") return event_level::warning;
  if (name == "error") return event_level::error;
  if (name == "fatal" || name == "critical") return event_level::fatal;
  return std::nullopt;
}

std::string_view event_level_name(event_level level) noexcept {
  switch (level) {
    case event_level::debug:
      return "debug";
    case event_level::info:
      return "info";
    case event_level::warning:
      return "warning";
    case event_level::error:
      return "error";
    case event_level::fatal:
      return "fatal";
  }
  return "error";
}

}  // namespace warden::sink

// Crash reports left by the crash handler (crash_handler.hpp), read at the next start
// and turned into fatal events. Internal to the SDK.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "warden/sdk/event.hpp"

namespace warden::sdk::detail {

/// The finished crash reports in `directory`, oldest first.
std::vector<std::filesystem::path> crash_reports(const std::string& directory);

/// The fatal event a report describes: the crash as its exception (mechanism
/// "signalhandler" or "std::terminate", unhandled) with the named frames, each frame's
/// library from the report's memory map and in_app by `in_app_prefixes`; the owner of
/// the crashing thread as tags and the "ownership" context; the release, environment,
/// dist and server name of the program that crashed. An error when it is not a report.
absl::StatusOr<event> parse_crash_report(std::string_view text,
                                         const std::vector<std::string>& in_app_prefixes);

}  // namespace warden::sdk::detail

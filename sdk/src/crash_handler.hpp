// Fatal errors: handlers for std::terminate and for SIGSEGV, SIGBUS, SIGILL, SIGFPE and
// SIGABRT that write a crash report into the cache directory with async-signal-safe
// code (a pre-allocated buffer, write(2), rename(2)), then hand the crash on to the
// handlers that were there before. The report is turned into an event and sent at the
// next start (crash_report.hpp). Internal to the SDK.
//
// The report is text, one field per line, so that the handler needs no allocation and
// no JSON: `warden-crash 1`, then `key value` lines (`frame <address> <function>` once
// per frame, innermost first), then `maps` and a copy of /proc/self/maps, which names
// the library of each frame.
#pragma once

#include <string>

#include "warden/sdk/options.hpp"

namespace warden::sdk::detail {

/// What a crash report says besides the crash itself, fixed when the handlers are set.
struct crash_settings {
  std::string directory;  ///< Where reports go: the SDK's cache directory.
  std::string release;
  std::string environment;
  std::string dist;
  std::string server_name;
  stack_unwinder unwinder = stack_unwinder::dwarf;
};

/// Installs the handlers (replacing the settings when they are installed already) and an
/// alternate signal stack for the calling thread, so a stack overflow on it is reported
/// too. False when the settings do not fit the pre-allocated space.
bool install_crash_handlers(const crash_settings& settings);

/// Restores the handlers that were installed before. Safe to call when not installed.
void uninstall_crash_handlers();

/// Suffix of a finished crash report's file name.
inline constexpr const char* kCrashReportSuffix = ".crash";

}  // namespace warden::sdk::detail

#include "crash_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "crash_handler.hpp"
#include "stacktrace.hpp"
#include "string_bridge.hpp"

namespace warden::sdk::detail {
namespace {

// One executable mapping of the crashed process.
struct mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string path;
};

// `start-end perms offset device inode [path]`; only mapped files matter.
std::optional<mapping> parse_mapping(absl::string_view line) {
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (parts.size() < 6) return std::nullopt;
  const std::pair<absl::string_view, absl::string_view> range = absl::StrSplit(parts[0], '-');
  mapping found;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  if (!absl::SimpleHexAtoi(range.first, &start) || !absl::SimpleHexAtoi(range.second, &end)) {
    return std::nullopt;
  }
  found.start = static_cast<std::uintptr_t>(start);
  found.end = static_cast<std::uintptr_t>(end);
  found.path = std::string{parts[5]};
  return found;
}

std::string library_of(const std::vector<mapping>& mappings, std::uintptr_t address) {
  for (const mapping& candidate : mappings) {
    if (address >= candidate.start && address < candidate.end) return candidate.path;
  }
  return {};
}

std::string_view signal_description(std::string_view name) {
  static const std::map<std::string_view, std::string_view> descriptions{
      {"SIGSEGV", "Segmentation fault"},
      {"SIGBUS", "Bus error"},
      {"SIGILL", "Illegal instruction"},
      {"SIGFPE", "Arithmetic exception"},
      {"SIGABRT", "Aborted"}};
  const auto found = descriptions.find(name);
  return found != descriptions.end() ? found->second : name;
}

std::string field(const std::map<std::string, std::string>& fields, const std::string& key) {
  const auto found = fields.find(key);
  return found != fields.end() ? found->second : std::string{};
}

}  // namespace

std::vector<std::filesystem::path> crash_reports(const std::string& directory) {
  std::vector<std::filesystem::path> reports;
  std::error_code error;
  for (const auto& file : std::filesystem::directory_iterator(directory, error)) {
    if (file.path().extension() == kCrashReportSuffix) reports.push_back(file.path());
  }
  std::sort(reports.begin(), reports.end());  // names start with the time in ms
  return reports;
}

absl::StatusOr<event> parse_crash_report(std::string_view text,
                                         const std::vector<std::string>& in_app_prefixes) {
  const std::vector<absl::string_view> lines = absl::StrSplit(to_absl(text), '\n');
  if (lines.empty() || lines[0] != "warden-crash 1") {
    return absl::InvalidArgumentError("not a warden crash report (no \"warden-crash 1\" line)");
  }
  std::map<std::string, std::string> fields;
  std::vector<stack_frame> frames;  // innermost first while reading
  std::vector<mapping> mappings;
  bool in_maps = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    if (in_maps) {
      if (auto found = parse_mapping(line)) mappings.push_back(*std::move(found));
      continue;
    }
    if (line == "maps") {
      in_maps = true;
      continue;
    }
    const std::pair<absl::string_view, absl::string_view> key_value =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (key_value.first != "frame") {
      fields[std::string{key_value.first}] = std::string{key_value.second};
      continue;
    }
    const std::pair<absl::string_view, absl::string_view> address_name =
        absl::StrSplit(key_value.second, absl::MaxSplits(' ', 1));
    std::uint64_t address = 0;
    if (!absl::SimpleHexAtoi(address_name.first, &address)) continue;
    stack_frame frame;
    frame.instruction_address = static_cast<std::uintptr_t>(address);
    frame.function = std::string{address_name.second};
    frames.push_back(std::move(frame));
  }
  if (!in_maps || field(fields, "mechanism").empty()) {
    return absl::DataLossError("the crash report is incomplete");
  }

  event crash;
  crash.level = level::fatal;
  std::int64_t unix_ms = 0;
  if (absl::SimpleAtoi(field(fields, "timestamp_ms"), &unix_ms)) {
    crash.timestamp = std::chrono::system_clock::time_point{std::chrono::milliseconds{unix_ms}};
  }
  crash.release = field(fields, "release");
  crash.environment = field(fields, "environment");
  crash.dist = field(fields, "dist");
  crash.server_name = field(fields, "server_name");

  exception_value crashed;
  crashed.mechanism.type = field(fields, "mechanism");
  crashed.mechanism.handled = false;
  crashed.type = field(fields, "type");
  auto& details = crash.contexts["crash"];
  details["thread_id"] = field(fields, "thread");
  if (crashed.mechanism.type == "signalhandler") {
    crashed.mechanism.synthetic = true;  // a signal name, not a type: not for grouping
    crashed.value =
        fmt::format("{} (signal {}, code {}, address {})", signal_description(crashed.type),
                    field(fields, "signal"), field(fields, "code"), field(fields, "address"));
    details["signal"] = field(fields, "signal");
    details["signal_code"] = field(fields, "code");
    details["fault_address"] = field(fields, "address");
  } else {
    crashed.value = field(fields, "value");
  }
  for (stack_frame& frame : frames) {
    frame.package = library_of(mappings, frame.instruction_address);
    frame.in_app = is_in_app(in_app_prefixes, frame.function, frame.package);
  }
  std::reverse(frames.begin(), frames.end());
  crashed.frames = std::move(frames);
  crash.exceptions.push_back(std::move(crashed));

  if (const std::string team = field(fields, "team"); !team.empty()) {
    crash.tags["team"] = team;
    crash.tags["function"] = field(fields, "function");
    std::string owner = fmt::format("{}/{}", team, field(fields, "function"));
    if (const std::string product = field(fields, "product"); !product.empty()) {
      crash.tags["product"] = product;
      owner += "/" + product;
    }
    auto& ownership = crash.contexts["ownership"];
    ownership["source"] = "crash";
    ownership["owner"] = owner;
    ownership["declared_at"] = field(fields, "owner_site");
  }
  return crash;
}

}  // namespace warden::sdk::detail

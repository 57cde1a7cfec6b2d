#include <cxxabi.h>
#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string_view>
#include <thread>

#include "captured_event.hpp"

namespace warden::sdk::detail {
namespace {

// Copies what `layer` sets into `event` where nothing set it yet: layers are applied
// innermost first. The level is the exception: a scope's level is forced on the event.
void apply_scope(const scope& layer, event& target, bool& level_forced) {
  for (const auto& [key, value] : layer.tags()) target.tags.emplace(key, value);
  for (const auto& [key, value] : layer.extra()) target.extra.emplace(key, value);
  for (const auto& [name, fields] : layer.contexts()) target.contexts.emplace(name, fields);
  if (!target.user && layer.user()) target.user = layer.user();
  if (layer.level() && !level_forced) {
    target.level = *layer.level();
    level_forced = true;
  }
  if (target.fingerprint.empty()) target.fingerprint = layer.fingerprint();
  if (target.transaction.empty()) target.transaction = layer.transaction();
}

void set_if_empty(std::string& field, const std::string& value) {
  if (field.empty()) field = value;
}

std::string describe(const owner& who) {
  return who.product().empty() ? fmt::format("{}/{}", who.team(), who.function())
                               : fmt::format("{}/{}/{}", who.team(), who.function(), who.product());
}

std::string declared_at(const owner& who) {
  const source_site& site = who.site();
  return site.name.empty() ? fmt::format("{}:{}", site.file, site.line)
                           : fmt::format("{}:{} ({})", site.file, site.line, site.name);
}

// Owner tags: the thrower's (else the capturer's, else the fallback) as team/function/
// product; the capturer's as captured_by.* when it differs; both in the "ownership"
// context with where they were declared.
bool tag_owner(const captured_event& captured, event& target) {
  const owner* primary = captured.thrower != nullptr ? captured.thrower : captured.capturer;
  const bool unowned = primary == nullptr;
  const owner& chosen = unowned ? fallback_owner() : *primary;
  target.tags["team"] = std::string{chosen.team()};
  target.tags["function"] = std::string{chosen.function()};
  if (!chosen.product().empty()) target.tags["product"] = std::string{chosen.product()};

  auto& context = target.contexts["ownership"];
  context["source"] = unowned ? "fallback" : captured.thrower != nullptr ? "throw" : "capture";
  context["owner"] = describe(chosen);
  context["declared_at"] = declared_at(chosen);
  const owner* catcher = captured.capturer;
  if (captured.thrower != nullptr && catcher != nullptr && catcher != captured.thrower) {
    context["captured_by"] = describe(*catcher);
    context["captured_by_declared_at"] = declared_at(*catcher);
    if (catcher->team() != chosen.team())
      target.tags["captured_by.team"] = std::string{catcher->team()};
  }
  return unowned;
}

std::string os_release_value(const std::string& key) {
  std::ifstream in{"/etc/os-release"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) != 0) continue;
    std::string value = line.substr(key.size() + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return {};
}

}  // namespace

std::string demangle(const std::string& name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled{
      abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free};
  return status == 0 && demangled ? std::string{demangled.get()} : name;
}

std::string exception_type_name(const std::string& name) {
  std::string type = demangle(name);
  // The wrappers of std::throw_with_nested (libstdc++, libc++) and warden::owned (in the
  // ownership library's inline namespace for either mode) name the type thrown.
  for (const std::string_view wrapper :
       {"std::_Nested_exception<", "std::__1::__nested<", "warden::enabled_v1::owned<",
        "warden::disabled_v1::owned<"}) {
    if (type.size() > wrapper.size() + 1 && type.compare(0, wrapper.size(), wrapper) == 0 &&
        type.back() == '>') {
      return type.substr(wrapper.size(), type.size() - wrapper.size() - 1);
    }
  }
  return type;
}

bool prepare_event(captured_event& captured, const event_defaults& defaults) {
  event& target = captured.event;
  // An event that names its team itself (a crash report, a custom event) keeps it.
  const bool owner_given = target.tags.count("team") != 0;
  bool level_forced = false;
  if (captured.thread_scope) apply_scope(*captured.thread_scope, target, level_forced);
  if (captured.global_scope) apply_scope(*captured.global_scope, target, level_forced);
  if (!captured.breadcrumbs.empty()) {
    std::vector<breadcrumb> crumbs;
    crumbs.reserve(captured.breadcrumbs.size() + target.breadcrumbs.size());
    for (const auto& crumb : captured.breadcrumbs) crumbs.push_back(*crumb);
    for (auto& crumb : target.breadcrumbs) crumbs.push_back(std::move(crumb));
    target.breadcrumbs = std::move(crumbs);
  }
  set_if_empty(target.release, defaults.release);
  set_if_empty(target.environment, defaults.environment);
  set_if_empty(target.dist, defaults.dist);
  set_if_empty(target.server_name, defaults.server_name);
  for (const auto& [name, fields] : defaults.contexts) target.contexts.emplace(name, fields);
  if (captured.mangled_exception_types) {
    for (exception_value& exception : target.exceptions) {
      exception.type = exception_type_name(exception.type);
    }
  }
  return owner_given ? false : tag_owner(captured, target);
}

std::map<std::string, std::map<std::string, std::string>> system_contexts() {
  std::map<std::string, std::map<std::string, std::string>> contexts;
  struct utsname system {};
  if (::uname(&system) == 0) {
    auto& os = contexts["os"];
    os["name"] = system.sysname;
    os["kernel_version"] = system.release;
    if (std::string version = os_release_value("VERSION_ID"); !version.empty()) {
      os["version"] = version;
    }
    if (std::string distribution = os_release_value("ID"); !distribution.empty()) {
      os["distribution_name"] = distribution;
    }
    contexts["device"]["arch"] = system.machine;
  }
  auto& device = contexts["device"];
  device["processor_count"] = std::to_string(std::thread::hardware_concurrency());
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) {
    device["memory_size"] = std::to_string(static_cast<long long>(pages) * page_size);
  }
  auto& runtime = contexts["runtime"];
  runtime["name"] = "C++";
  runtime["version"] = std::to_string(__cplusplus);
#if defined(__clang__)
  runtime["raw_description"] = fmt::format("Clang {}", __clang_version__);
#elif defined(__GNUC__)
  runtime["raw_description"] = fmt::format("GCC {}", __VERSION__);
#endif
  return contexts;
}

}  // namespace warden::sdk::detail

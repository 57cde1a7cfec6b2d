// An event as the capturing thread hands it to the worker: the event's own fields plus
// what must be read on that thread (scope snapshots, breadcrumbs, owners). The worker
// turns it into the final event (prepare_event). Internal to the SDK.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "warden/ownership/owner.hpp"
#include "warden/sdk/event.hpp"
#include "warden/sdk/scope.hpp"

namespace warden::sdk::detail {

struct captured_event {
  warden::event event;
  std::shared_ptr<const scope> global_scope;  ///< Snapshot at capture; may be null.
  std::shared_ptr<const scope> thread_scope;  ///< Snapshot at capture; may be null.
  std::vector<std::shared_ptr<const breadcrumb>> breadcrumbs;  ///< Oldest first.
  const owner* thrower = nullptr;        ///< Owner where the exception was thrown, if known.
  const owner* capturer = nullptr;       ///< Owner active at the capture call, if any.
  bool mangled_exception_types = false;  ///< exception types are typeid names.
};

/// What the worker adds to every event.
struct event_defaults {
  std::string release;
  std::string environment;
  std::string dist;
  std::string server_name;
  /// os, runtime and device, read once at start.
  std::map<std::string, std::map<std::string, std::string>> contexts;
};

/// Completes `captured.event`: scopes (global, then thread, then the event's own values
/// win), breadcrumbs, defaults, owner tags and the "ownership" context, demangled type
/// names. An event with its own "team" tag keeps its owner tags. Returns true when the
/// event had no owner and got the fallback.
bool prepare_event(captured_event& captured, const event_defaults& defaults);

/// The contexts describing this machine and program (os, runtime, device).
std::map<std::string, std::map<std::string, std::string>> system_contexts();

/// `name` demangled ("N4shop13card_declinedE" -> "shop::card_declined"); unchanged when
/// it is not a mangled name.
std::string demangle(const std::string& name);

/// The type to report for an exception of the mangled type `name`: demangled, and the
/// type the program meant rather than a wrapper — std::throw_with_nested's
/// ("std::_Nested_exception<std::logic_error>" -> "std::logic_error") or warden::owned's
/// ("warden::owned<std::runtime_error>" -> "std::runtime_error").
std::string exception_type_name(const std::string& name);

}  // namespace warden::sdk::detail

// The declaration macros: module defaults, function and endpoint scopes, probes.
//
// Each macro that enters an owner declares a `static constexpr` descriptor at its call
// site (as Tracy's ZoneScoped declares its source location) and an owner_scope holding
// its address; the run-time work is one thread-local pointer swap and a read of the
// site's "ran" flag. With WARDEN_OWNERSHIP_ENABLED=0 every macro expands to nothing.
//
// Example (payments.cpp):
//
//   WARDEN_MODULE_OWNER("payments", "backend", "checkout");   // namespace scope
//
//   void charge(order& o) {
//     WARDEN_OWNED();                                          // payments/backend/checkout
//   }
//   void refund(order& o) {
//     WARDEN_ENDPOINT("POST /refunds", warden::team("refunds"));  // refunds/backend/checkout
//   }
#pragma once

#include "warden/ownership/detail/config.hpp"
#include "warden/ownership/owner.hpp"
#include "warden/ownership/registry.hpp"
#include "warden/ownership/scope.hpp"

namespace warden::detail {

// The base of WARDEN_OWNED_BY: every field empty until the macro's fields set it.
inline constexpr owner no_owner_fields{owner_kind::endpoint, {}, {}, {}, {}};

// Registers a call-site descriptor (once, before main) and marks that it ran.
template <const owner& Site>
inline const owner& enter_site() noexcept {
  static_cast<void>(registration<Site>::registered);
  Site.mark_ran();
  return Site;
}

// Registers a probe and marks it when it runs with no owner.
template <const unowned_probe& Probe>
inline void check_owned() noexcept {
  static_cast<void>(registration<Probe>::registered);
  if (try_current_owner() == nullptr) Probe.mark_ran_unowned();
}

}  // namespace warden::detail

#if WARDEN_OWNERSHIP_ENABLED

// Declares a static descriptor at the call site and enters it until the block ends.
#define WARDEN_DETAIL_ENTER(kind, ...)                                                       \
  static constexpr ::warden::owner WARDEN_DETAIL_UNIQUE(warden_detail_site_){                \
      kind, ::warden::source_site{__FILE__, __LINE__, __func__}, __VA_ARGS__};               \
  const ::warden::owner_scope WARDEN_DETAIL_UNIQUE(warden_detail_scope_) {                   \
    ::warden::detail::enter_site<WARDEN_DETAIL_UNIQUE(warden_detail_site_)>()                \
  }

// Declares the module default `warden_detail_module_owner` with the given linkage and
// registers it before main().
#define WARDEN_DETAIL_MODULE_OWNER(linkage, ...)                                              \
  [[maybe_unused]] linkage constexpr ::warden::owner warden_detail_module_owner{             \
      ::warden::owner_kind::module, ::warden::source_site{__FILE__, __LINE__, {}},           \
      __VA_ARGS__};                                                                          \
  [[maybe_unused]] static const bool WARDEN_DETAIL_UNIQUE(warden_detail_module_registered_) = \
      ::warden::detail::registration<warden_detail_module_owner>::registered

/// Declares the default owner of this translation unit: WARDEN_MODULE_OWNER(team,
/// function [, product]) at namespace scope in a .cpp file, once per namespace.
#define WARDEN_MODULE_OWNER(...) WARDEN_DETAIL_MODULE_OWNER(static, __VA_ARGS__)

/// Declares the default owner of a namespace from a header (an API shared by several
/// files): WARDEN_NAMESPACE_OWNER(team, function [, product]) inside a namespace whose
/// name is unique to that API. It wins over a file's WARDEN_MODULE_OWNER for code in
/// the namespace, and inline functions in the header see one descriptor program-wide.
#define WARDEN_NAMESPACE_OWNER(...) WARDEN_DETAIL_MODULE_OWNER(inline, __VA_ARGS__)

/// Enters the module default (WARDEN_MODULE_OWNER) for the rest of the enclosing block.
/// Put it first in a function; the function appears in coverage reports under its name.
#define WARDEN_OWNED() WARDEN_DETAIL_ENTER(::warden::owner_kind::scope, warden_detail_module_owner)

/// Enters an endpoint owner for the rest of the block: WARDEN_ENDPOINT(name, fields...)
/// where fields are warden::team(), warden::function(), warden::product() overriding the
/// module default; unnamed fields are inherited. Resolved at compile time.
#define WARDEN_ENDPOINT(...) \
  WARDEN_DETAIL_ENTER(::warden::owner_kind::endpoint, warden_detail_module_owner, __VA_ARGS__)

/// Like WARDEN_ENDPOINT, for code with no module default: fields not named stay empty,
/// which the coverage check reports as an endpoint without an owner.
#define WARDEN_OWNED_BY(...)                                                                 \
  WARDEN_DETAIL_ENTER(::warden::owner_kind::endpoint, ::warden::detail::no_owner_fields,    \
                      __VA_ARGS__)

/// Marks a point in shared code that should always run under some owner; coverage
/// reports list it if it ever runs unowned.
#define WARDEN_EXPECT_OWNED()                                                                \
  static constexpr ::warden::unowned_probe WARDEN_DETAIL_UNIQUE(warden_detail_probe_){       \
      ::warden::source_site{__FILE__, __LINE__, __func__}};                                  \
  ::warden::detail::check_owned<WARDEN_DETAIL_UNIQUE(warden_detail_probe_)>()

#else  // WARDEN_OWNERSHIP_ENABLED

#define WARDEN_MODULE_OWNER(...) static_assert(true, "")
#define WARDEN_NAMESPACE_OWNER(...) static_assert(true, "")
#define WARDEN_OWNED() static_cast<void>(0)
#define WARDEN_ENDPOINT(...) static_cast<void>(0)
#define WARDEN_OWNED_BY(...) static_cast<void>(0)
#define WARDEN_EXPECT_OWNED() static_cast<void>(0)

#endif  // WARDEN_OWNERSHIP_ENABLED

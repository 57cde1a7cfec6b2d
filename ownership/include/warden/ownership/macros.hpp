// The declaration macros: module defaults, function and endpoint scopes, probes.
//
// Each macro that enters an owner declares a `static constexpr` descriptor for its call
// site (as Tracy's ZoneScoped declares its source location) and an owner_scope holding
// its address; the run-time work is one thread-local pointer swap and a read of the
// site's "ran" flag. With WARDEN_OWNERSHIP_ENABLED=0 every macro expands to nothing.
//
// Limits: one macro per source line (hidden names use __LINE__); in a lambda the
// recorded function name is "operator()"; a scope must not be held across a coroutine
// suspension point (it would restore on whatever thread resumes).
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

#include <string_view>

#include "warden/ownership/detail/config.hpp"
#include "warden/ownership/owner.hpp"
#include "warden/ownership/registry.hpp"
#include "warden/ownership/scope.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE
namespace detail {

// The base of WARDEN_OWNED_BY: every field empty until the macro's fields set it.
inline constexpr owner no_owner_fields{owner_kind::endpoint, {}, {}, {}, {}};

// Registers a call site's descriptor (once, before main) and marks that it ran.
template <typename Tag>
inline const owner& enter_site() noexcept {
  static_cast<void>(call_site<Tag>::registered);
  call_site<Tag>::descriptor.mark_ran();
  return call_site<Tag>::descriptor;
}

// Registers a probe and marks it when it runs with no owner.
template <typename Tag>
inline void check_owned() noexcept {
  static_cast<void>(call_site<Tag>::registered);
  if (try_current_owner() == nullptr) call_site<Tag>::descriptor.mark_ran_unowned();
}

}  // namespace detail
WARDEN_DETAIL_END_NAMESPACE

#if WARDEN_OWNERSHIP_ENABLED

// Declares a class `tag` local to the enclosing function: function_name() gives the
// function's name, make(warden_detail_function_name) builds `type{__VA_ARGS__}`.
// detail::call_site<tag> turns it into a namespace-scope descriptor.
#define WARDEN_DETAIL_SITE_TAG(tag, type, ...)                                                  \
  static constexpr ::std::string_view WARDEN_DETAIL_UNIQUE(warden_detail_function_) = __func__; \
  struct tag final {                                                                            \
    static constexpr ::std::string_view function_name() noexcept {                              \
      return WARDEN_DETAIL_UNIQUE(warden_detail_function_);                                     \
    }                                                                                           \
    static constexpr type make(::std::string_view warden_detail_function_name) noexcept {       \
      return type{__VA_ARGS__};                                                                 \
    }                                                                                           \
  }

// A file's WARDEN_MODULE_OWNER has internal linkage: an inline function in a header
// that entered it would mean a different owner in every file including the header.
#define WARDEN_DETAIL_REQUIRE_USABLE_DEFAULT()                                              \
  static_assert(warden_detail_module_shared ||                                              \
                    warden_detail_module_owner.site().file == ::std::string_view{__FILE__}, \
                "in a header, WARDEN_OWNED/WARDEN_ENDPOINT need a WARDEN_NAMESPACE_OWNER "  \
                "default: a WARDEN_MODULE_OWNER belongs to one .cpp file")

// Declares the call site's descriptor and enters it until the block ends.
#define WARDEN_DETAIL_ENTER(kind, ...)                                                           \
  WARDEN_DETAIL_SITE_TAG(WARDEN_DETAIL_UNIQUE(warden_detail_site_), ::warden::owner, kind,       \
                         ::warden::source_site{__FILE__, __LINE__, warden_detail_function_name}, \
                         __VA_ARGS__);                                                           \
  const ::warden::owner_scope WARDEN_DETAIL_UNIQUE(warden_detail_scope_) {                       \
    ::warden::detail::enter_site<WARDEN_DETAIL_UNIQUE(warden_detail_site_)>()                    \
  }

// Declares the module default `warden_detail_module_owner` with the given linkage and
// registers it before main().
#define WARDEN_DETAIL_MODULE_OWNER(linkage, shared, ...)                                         \
  [[maybe_unused]] linkage constexpr bool warden_detail_module_shared = shared;                  \
  [[maybe_unused]] linkage constexpr ::warden::owner warden_detail_module_owner{                 \
      ::warden::owner_kind::module, ::warden::source_site{__FILE__, __LINE__, {}}, __VA_ARGS__}; \
  [[maybe_unused]] static const bool WARDEN_DETAIL_UNIQUE(warden_detail_module_registered_) =    \
      ::warden::detail::registration<warden_detail_module_owner>::registered

/// Declares the default owner of this translation unit: WARDEN_MODULE_OWNER(team,
/// function [, product]) at namespace scope in a .cpp file, once per namespace. (Its
/// hidden names clash if a using-directive brings another module's default into view.)
#define WARDEN_MODULE_OWNER(...) WARDEN_DETAIL_MODULE_OWNER(static, false, __VA_ARGS__)

/// Declares the default owner of a namespace from a header (an API shared by several
/// files): WARDEN_NAMESPACE_OWNER(team, function [, product]) inside a namespace whose
/// name is unique to that API. It wins over a file's WARDEN_MODULE_OWNER for code in
/// the namespace, and inline functions in the header see one descriptor program-wide.
#define WARDEN_NAMESPACE_OWNER(...) WARDEN_DETAIL_MODULE_OWNER(inline, true, __VA_ARGS__)

/// Enters the module default (WARDEN_MODULE_OWNER) for the rest of the enclosing block.
/// Put it first in a function; the function appears in coverage reports under its name.
#define WARDEN_OWNED()                    \
  WARDEN_DETAIL_REQUIRE_USABLE_DEFAULT(); \
  WARDEN_DETAIL_ENTER(::warden::owner_kind::scope, warden_detail_module_owner)

/// Enters an endpoint owner for the rest of the block: WARDEN_ENDPOINT(name, fields...)
/// where fields are warden::team(), warden::function(), warden::product() overriding the
/// module default; unnamed fields are inherited. Resolved at compile time.
#define WARDEN_ENDPOINT(...)              \
  WARDEN_DETAIL_REQUIRE_USABLE_DEFAULT(); \
  WARDEN_DETAIL_ENTER(::warden::owner_kind::endpoint, warden_detail_module_owner, __VA_ARGS__)

/// Like WARDEN_ENDPOINT, for code with no module default: fields not named stay empty,
/// which the coverage check reports as an endpoint without an owner.
#define WARDEN_OWNED_BY(...)                                                             \
  WARDEN_DETAIL_ENTER(::warden::owner_kind::endpoint, ::warden::detail::no_owner_fields, \
                      __VA_ARGS__)

/// Marks a point in shared code that should always run under some owner; coverage
/// reports list it if it ever runs unowned.
#define WARDEN_EXPECT_OWNED()                                                                     \
  WARDEN_DETAIL_SITE_TAG(WARDEN_DETAIL_UNIQUE(warden_detail_probe_), ::warden::unowned_probe,     \
                         ::warden::source_site{__FILE__, __LINE__, warden_detail_function_name}); \
  ::warden::detail::check_owned<WARDEN_DETAIL_UNIQUE(warden_detail_probe_)>()

#else  // WARDEN_OWNERSHIP_ENABLED

#define WARDEN_MODULE_OWNER(...) static_assert(true, "")
#define WARDEN_NAMESPACE_OWNER(...) static_assert(true, "")
#define WARDEN_OWNED() static_cast<void>(0)
#define WARDEN_ENDPOINT(...) static_cast<void>(0)
#define WARDEN_OWNED_BY(...) static_cast<void>(0)
#define WARDEN_EXPECT_OWNED() static_cast<void>(0)

#endif  // WARDEN_OWNERSHIP_ENABLED

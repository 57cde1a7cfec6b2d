// Build-time switches and portability macros shared by the ownership headers.
// Internal: include <warden/ownership.hpp> instead.
#pragma once

/// Set to 0 (e.g. -DWARDEN_OWNERSHIP_ENABLED=0) to turn every ownership macro into nothing.
/// The API keeps compiling and reports the fallback owner. Use the same value in every
/// translation unit of a program: the inline functions differ between the two modes.
#ifndef WARDEN_OWNERSHIP_ENABLED
#define WARDEN_OWNERSHIP_ENABLED 1
#endif

/// Set to 1 to check, when a scope ends, that it is the innermost one: the current-owner
/// slot must still hold the owner the scope entered. A scope that ends out of order calls
/// the scope-order handler (scope.hpp). Defaults to on unless NDEBUG is defined, like
/// assert(); off, a scope holds one pointer and checks nothing, so release builds pay
/// nothing. Files built with and without checks may be linked into one program.
#ifndef WARDEN_OWNERSHIP_CHECKS
#ifdef NDEBUG
#define WARDEN_OWNERSHIP_CHECKS 0
#else
#define WARDEN_OWNERSHIP_CHECKS 1
#endif
#endif

#if defined(__GNUC__) || defined(__clang__)
/// TLS model of the current-owner slot. initial-exec keeps the access a single
/// %fs-relative load even when the slot lives in a shared library: a scope there costs
/// 2.7 ns instead of 6.3 ns with the default global-dynamic model (docs/BENCHMARKS.md).
/// Define it empty before including Warden if a library using it must be dlopen()ed
/// into processes with no static TLS to spare.
#ifndef WARDEN_OWNERSHIP_TLS_MODEL
#define WARDEN_OWNERSHIP_TLS_MODEL __attribute__((tls_model("initial-exec")))
#endif
// Process-wide state must stay one object even in libraries built with
// -fvisibility=hidden, or each library would see its own owner and registry.
#define WARDEN_DETAIL_VISIBLE __attribute__((visibility("default")))
#else
#ifndef WARDEN_OWNERSHIP_TLS_MODEL
#define WARDEN_OWNERSHIP_TLS_MODEL
#endif
#define WARDEN_DETAIL_VISIBLE
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WARDEN_DETAIL_LIKELY(condition) __builtin_expect(!!(condition), 1)
#define WARDEN_DETAIL_UNLIKELY(condition) __builtin_expect(!!(condition), 0)
#else
#define WARDEN_DETAIL_LIKELY(condition) (condition)
#define WARDEN_DETAIL_UNLIKELY(condition) (condition)
#endif

// Everything whose layout or behaviour depends on WARDEN_OWNERSHIP_ENABLED lives in an
// inline namespace named after the mode. Files built in different modes then use
// different symbols instead of silently sharing one definition (an ODR violation that
// would let an enabled owner_scope write past a disabled one's storage).
#if WARDEN_OWNERSHIP_ENABLED
#define WARDEN_DETAIL_BEGIN_NAMESPACE \
  namespace warden {                  \
  inline namespace enabled_v1 {
#else
#define WARDEN_DETAIL_BEGIN_NAMESPACE \
  namespace warden {                  \
  inline namespace disabled_v1 {
#endif
#define WARDEN_DETAIL_END_NAMESPACE \
  }                                 \
  }

// A checked owner_scope holds one pointer more than an unchecked one, so it gets its own
// name (warden::enabled_v1::checked_v1::owner_scope): a file built without checks never
// runs a checked scope's constructor on its smaller storage. Only the scope is inside;
// the slot, the registry and the handlers stay one object for both kinds of file.
#if WARDEN_OWNERSHIP_ENABLED && WARDEN_OWNERSHIP_CHECKS
#define WARDEN_DETAIL_BEGIN_SCOPE_NAMESPACE inline namespace checked_v1 {
#define WARDEN_DETAIL_END_SCOPE_NAMESPACE }
#else
#define WARDEN_DETAIL_BEGIN_SCOPE_NAMESPACE
#define WARDEN_DETAIL_END_SCOPE_NAMESPACE
#endif

#define WARDEN_DETAIL_CONCAT_IMPL(a, b) a##b
#define WARDEN_DETAIL_CONCAT(a, b) WARDEN_DETAIL_CONCAT_IMPL(a, b)
// A name unique within the enclosing scope: one ownership macro per line.
#define WARDEN_DETAIL_UNIQUE(prefix) WARDEN_DETAIL_CONCAT(prefix, __LINE__)

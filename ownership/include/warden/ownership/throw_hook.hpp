// The opt-in __cxa_throw hook: throw-site owners (and, for the SDK, stacks) for every
// thrown type, without changing the exception classes.
//
// Link the `warden::throw_hook` target into the executable. It defines __cxa_throw,
// records the thrower's owner in a fixed lock-free table keyed by the thrown object,
// calls an optional listener, then tail-calls the C++ runtime's own __cxa_throw. It also
// wraps __cxa_allocate_exception to forget a stale record when an exception object is
// made at a recycled address without being thrown (std::make_exception_ptr).
// Cost: below the noise of a 3 us throw-and-catch (docs/BENCHMARKS.md). GCC/Clang with
// the Itanium C++ ABI on Linux; not with -static-libstdc++ (duplicate __cxa_throw).
//
// Limits: the table has 1024 slots; a record is overwritten when a later throw hashes to
// the same slot, so an exception kept in an exception_ptr while over a thousand others
// are thrown may lose its record (thrown_owner() then returns nullptr unless the type
// derives from owned_exception).
//
// Example:
//
//   target_link_libraries(my_app PRIVATE warden::ownership warden::throw_hook)
//   ...
//   catch (...) { report(warden::current_exception_owner()); }
#pragma once

#include <atomic>
#include <typeinfo>

#include "warden/ownership/detail/config.hpp"
#include "warden/ownership/exception.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

/// What the hook saw at one throw, passed to the throw listener.
struct throw_event {
  const void* object;          ///< The exception object being thrown.
  const std::type_info* type;  ///< Its dynamic type.
  const owner* thrower;        ///< The owner active at the throw, or nullptr.
  const void* throw_site;      ///< Return address into the throwing function: stacks
                               ///< taken by the listener drop the frames above it.
};

/// Called by the hook on the throwing thread, before unwinding starts. Must not throw
/// and should be fast: it runs on every throw (the SDK records the stack here).
using throw_listener = void (*)(const throw_event& event) noexcept;

namespace detail {
WARDEN_DETAIL_VISIBLE inline std::atomic<throw_listener> active_throw_listener{nullptr};
}  // namespace detail

/// Installs the listener (nullptr removes it). Has no effect unless the hook is linked.
inline void set_throw_listener(throw_listener listener) noexcept {
  detail::active_throw_listener.store(listener, std::memory_order_release);
}

/// True when warden::throw_hook is linked into this process.
inline bool throw_hook_installed() noexcept {
  return detail::throw_site_lookup.load(std::memory_order_acquire) != nullptr;
}

WARDEN_DETAIL_END_NAMESPACE

// Entering an owner for a block, and reading the owner of the code running now.
//
// The current owner is one thread-local pointer. An owner_scope saves the previous
// pointer, installs its own and restores the saved one when it ends, so scopes nest
// (the innermost wins) and unwinding by an exception restores each level in turn.
//
// Example:
//
//   void charge(order& o) {
//     warden::owner_scope scope{kPaymentsBackend};   // usually through WARDEN_OWNED()
//     log(warden::current_owner().team(), "charging");  // "payments"
//   }
//
// Integrators (loggers, metrics, tracers) read try_current_owner(): one TLS load,
// nullptr when no scope is active. An owner_observer (observer.hpp) sees every change.
//
// Scopes must end in the reverse order of their start, as RAII objects on the stack do.
// Each scope restores what was current when it began, so one that is made to end early
// (through std::optional or the heap) leaves its own predecessor installed, and the
// scopes entered after it restore owners whose scopes are gone. Builds with
// WARDEN_OWNERSHIP_CHECKS (the default without NDEBUG) report such an end to the
// scope-order handler.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "warden/ownership/detail/config.hpp"
#include "warden/ownership/observer.hpp"
#include "warden/ownership/owner.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

namespace detail {
// The owner of the code running on this thread; nullptr when no scope is active.
WARDEN_DETAIL_VISIBLE inline thread_local const owner* current_owner_slot
    WARDEN_OWNERSHIP_TLS_MODEL = nullptr;
}  // namespace detail

/// The owner active on this thread, or nullptr when no scope is active. The cheapest
/// read (one thread-local load); meant for loggers, metrics and tracers.
inline const owner* try_current_owner() noexcept {
#if WARDEN_OWNERSHIP_ENABLED
  return detail::current_owner_slot;
#else
  return nullptr;
#endif
}

/// The owner active on this thread, or the fallback owner (default warden::unowned).
inline const owner& current_owner() noexcept {
  const owner* active = try_current_owner();
  return active != nullptr ? *active : fallback_owner();
}

/// The owner of the current thread captured for another thread or a later time.
/// Holds only a pointer to a static descriptor, so it is trivially copyable and safe to
/// store in any task object. A default-made token means "unowned".
class owner_token final {
 public:
  /// A token that makes a scope unowned.
  constexpr owner_token() noexcept = default;
  /// A token for a known descriptor.
  constexpr explicit owner_token(const owner* captured) noexcept : owner_(captured) {}

  /// The captured owner, or nullptr for "unowned".
  constexpr const owner* get() const noexcept { return owner_; }
  /// True when an owner was active at capture.
  constexpr explicit operator bool() const noexcept { return owner_ != nullptr; }

 private:
  const owner* owner_ = nullptr;
};

/// Captures the owner active on this thread (possibly none).
inline owner_token capture_owner() noexcept { return owner_token{try_current_owner()}; }

/// Called, in builds with WARDEN_OWNERSHIP_CHECKS, on the thread of a scope that ends
/// while it is not the innermost one: `ending` is the owner that scope entered, `current`
/// the owner installed instead (nullptr for none). Must not throw.
using scope_order_handler = void (*)(const owner* ending, const owner* current) noexcept;

namespace detail {

WARDEN_DETAIL_VISIBLE inline std::atomic<scope_order_handler> active_scope_order_handler{nullptr};

inline void print_owner_for_diagnostic(const owner* described) noexcept {
  if (described == nullptr) {
    std::fputs("no owner", stderr);
    return;
  }
  const source_site& site = described->site();
  std::fprintf(stderr, "%.*s/%.*s (%.*s:%d)", static_cast<int>(described->team().size()),
               described->team().data(), static_cast<int>(described->function().size()),
               described->function().data(), static_cast<int>(site.file.size()), site.file.data(),
               site.line);
}

// Out of line and cold: a checked scope's destructor only compares and branches.
[[gnu::cold, gnu::noinline]] inline void report_scope_out_of_order(const owner* ending,
                                                                   const owner* current) noexcept {
  if (const scope_order_handler handler =
          active_scope_order_handler.load(std::memory_order_acquire)) {
    handler(ending, current);
    return;
  }
  std::fputs("warden: a scope of ", stderr);
  print_owner_for_diagnostic(ending);
  std::fputs(" ended while ", stderr);
  print_owner_for_diagnostic(current);
  std::fputs(" was current: scopes ended out of order (see Pitfalls in docs/OWNERSHIP.md)\n",
             stderr);
  std::abort();
}

}  // namespace detail

/// Replaces what happens when a checked scope ends out of order (nullptr restores the
/// default: print both owners to stderr and abort, as a failed assert() does). Any thread,
/// any time; builds without WARDEN_OWNERSHIP_CHECKS never call it. Tests use it to
/// count such ends; a service may prefer to log them and go on.
inline void set_scope_order_handler(scope_order_handler handler) noexcept {
  detail::active_scope_order_handler.store(handler, std::memory_order_release);
}

WARDEN_DETAIL_BEGIN_SCOPE_NAMESPACE

/// Makes `owner` the current owner until the scope ends, then restores exactly what was
/// active before it began. Create it on the stack; it must end on the thread that made
/// it, and nested scopes must end innermost first (see the file comment).
class [[nodiscard]] owner_scope final {
 public:
  /// Enters a descriptor.
  explicit owner_scope(const owner& entered) noexcept : owner_scope(&entered) {}
  /// Enters a captured owner; a token without an owner makes the block explicitly
  /// unowned, so a pooled thread never keeps a stale owner from an earlier task.
  explicit owner_scope(owner_token token) noexcept : owner_scope(token.get()) {}
  /// A temporary descriptor would dangle: enter a static one.
  explicit owner_scope(const owner&&) = delete;

  owner_scope(const owner_scope&) = delete;
  owner_scope& operator=(const owner_scope&) = delete;
  // Not movable either: a moved scope could restore on the wrong thread or twice.
  owner_scope(owner_scope&&) = delete;
  owner_scope& operator=(owner_scope&&) = delete;

  ~owner_scope() {
#if WARDEN_OWNERSHIP_ENABLED
#if WARDEN_OWNERSHIP_CHECKS
    if (WARDEN_DETAIL_UNLIKELY(detail::current_owner_slot != entered_)) {
      detail::report_scope_out_of_order(entered_, detail::current_owner_slot);
    }
#endif
    owner_observer* const observer = detail::installed_observer();
    if (WARDEN_DETAIL_LIKELY(observer == nullptr)) {
      detail::current_owner_slot = previous_;
      return;
    }
    const owner* const leaving = detail::current_owner_slot;
    detail::current_owner_slot = previous_;
    observer->on_exit(leaving, previous_);
#endif
  }

 private:
#if WARDEN_OWNERSHIP_ENABLED
  explicit owner_scope(const owner* entered) noexcept : previous_(detail::current_owner_slot) {
    detail::current_owner_slot = entered;
#if WARDEN_OWNERSHIP_CHECKS
    entered_ = entered;
#endif
    owner_observer* const observer = detail::installed_observer();
    if (WARDEN_DETAIL_UNLIKELY(observer != nullptr)) observer->on_enter(entered, previous_);
  }

  const owner* previous_;
#if WARDEN_OWNERSHIP_CHECKS
  const owner* entered_ = nullptr;  // what the slot must hold when this scope ends
#endif
#else
  explicit owner_scope(const owner*) noexcept {}
#endif
};

WARDEN_DETAIL_END_SCOPE_NAMESPACE

WARDEN_DETAIL_END_NAMESPACE

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
#pragma once

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

/// Makes `owner` the current owner until the scope ends, then restores exactly what was
/// active before. Create it on the stack; it must end on the thread that made it.
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
    owner_observer* const observer = detail::installed_observer();
    if (WARDEN_DETAIL_UNLIKELY(observer != nullptr)) observer->on_enter(entered, previous_);
  }

  const owner* previous_;
#else
  explicit owner_scope(const owner*) noexcept {}
#endif
};

WARDEN_DETAIL_END_NAMESPACE

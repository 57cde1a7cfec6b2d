// An optional hook that sees every change of the current owner.
//
// Tracers and profilers use it to attribute time to owners; loggers usually only need
// try_current_owner(). With no observer installed a scope pays a load and a predicted
// branch on a global pointer that never changes (docs/BENCHMARKS.md has the figures).
//
// Example:
//
//   class time_by_owner final : public warden::owner_observer {
//     void on_enter(const warden::owner* entered, const warden::owner*) noexcept override {
//       start_clock(entered);
//     }
//     void on_exit(const warden::owner* left, const warden::owner*) noexcept override {
//       stop_clock(left);
//     }
//   };
//   static time_by_owner observer;
//   warden::set_owner_observer(&observer);
#pragma once

#include <atomic>

#include "warden/ownership/detail/config.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

class owner;

/// Receives every scope entry and exit, on the thread where it happens. Both calls may
/// run concurrently on many threads and must not throw. nullptr means "unowned".
class owner_observer {
 public:
  virtual ~owner_observer() = default;
  /// `entered` became the current owner; `previous` was current before.
  virtual void on_enter(const owner* entered, const owner* previous) noexcept = 0;
  /// `left` stopped being current; `restored` is current again.
  virtual void on_exit(const owner* left, const owner* restored) noexcept = 0;
};

namespace detail {
WARDEN_DETAIL_VISIBLE inline std::atomic<owner_observer*> active_observer{nullptr};

// The installed observer. Acquire, so that an observer installed while threads run is
// seen fully constructed (on x86 this is the same plain load as a relaxed one).
inline owner_observer* installed_observer() noexcept {
  return active_observer.load(std::memory_order_acquire);
}
}  // namespace detail

/// Installs `observer` (nullptr removes it); any thread may do so at any time. Keep it
/// alive until no thread can still be calling it: removal does not wait for calls
/// already running. Scopes entered before installation report their exit only.
inline void set_owner_observer(owner_observer* observer) noexcept {
  detail::active_observer.store(observer, std::memory_order_release);
}

WARDEN_DETAIL_END_NAMESPACE

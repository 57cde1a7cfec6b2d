// Who owned the code that threw an exception, recovered where it is caught.
//
// By the time a handler runs, the scopes between the throw and the catch are gone and
// current_owner() names the catcher. Two ways keep the thrower's owner:
//   * derive the exception from owned_exception (or throw warden::owned<E>): it records
//     the owner when constructed, on any platform, at the cost of one pointer copy;
//   * link warden::throw_hook (throw_hook.hpp): it records the owner of every throw,
//     whatever the type, by wrapping __cxa_throw (GCC/Clang on Linux).
// thrown_owner() asks both.
//
// Example:
//
//   try {
//     checkout(cart);
//   } catch (const std::exception& e) {
//     const warden::owner* thrower = warden::current_exception_owner();   // payments
//   }
#pragma once

#include <atomic>
#include <cstring>
#include <exception>

#include "warden/ownership/detail/config.hpp"
#include "warden/ownership/scope.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

/// A base (usually a second base next to std::exception) that records the owner active
/// when the exception is constructed, i.e. at the throw site.
class owned_exception {
 public:
  /// Records the owner active on this thread now: construct the exception where it is
  /// thrown (`throw` expression), not ahead of time in another scope.
  owned_exception() noexcept : thrown_owner_(try_current_owner()) {}

  /// The owner active when the exception was made; nullptr if none was.
  const owner* thrown_owner() const noexcept { return thrown_owner_; }

 protected:
  ~owned_exception() = default;
  owned_exception(const owned_exception&) noexcept = default;
  owned_exception& operator=(const owned_exception&) noexcept = default;

 private:
  const owner* thrown_owner_;
};

/// `Base` (e.g. std::runtime_error) with its thrower's owner recorded:
/// `throw warden::owned<std::runtime_error>("card declined");`
template <typename Base>
class owned final : public Base, public owned_exception {
 public:
  using Base::Base;
};

namespace detail {

// Set by the throw hook when it is linked in: finds the owner recorded for a thrown
// object; returns false when the object is not in its table.
using throw_record_lookup = bool (*)(const void* object, const owner** thrower) noexcept;
WARDEN_DETAIL_VISIBLE inline std::atomic<throw_record_lookup> throw_site_lookup{nullptr};

// The thrown object an exception_ptr refers to: libstdc++ and libc++ both hold exactly
// that pointer. nullptr elsewhere (the hook only exists with those runtimes anyway).
inline const void* exception_object(const std::exception_ptr& exception) noexcept {
#if defined(__GLIBCXX__) || defined(_LIBCPP_VERSION)
  static_assert(sizeof(std::exception_ptr) == sizeof(void*),
                "exception_ptr is expected to hold only the thrown object's address");
  const void* object = nullptr;
  std::memcpy(&object, static_cast<const void*>(&exception), sizeof object);
  return object;
#else
  static_cast<void>(exception);
  return nullptr;
#endif
}

}  // namespace detail

/// The owner that was active where `exception` was thrown, or nullptr when it was thrown
/// with no owner or its owner was not recorded. Costs a table look-up when the throw hook
/// is linked; otherwise rethrows once to test for owned_exception (about a microsecond).
inline const owner* thrown_owner(const std::exception_ptr& exception) noexcept {
  if (!exception) return nullptr;
  const auto lookup = detail::throw_site_lookup.load(std::memory_order_acquire);
  const void* object = detail::exception_object(exception);
  if (lookup != nullptr && object != nullptr) {
    const owner* thrower = nullptr;
    if (lookup(object, &thrower)) return thrower;
  }
  try {
    std::rethrow_exception(exception);
  } catch (const owned_exception& owned) {
    return owned.thrown_owner();
  } catch (...) {
  }
  return nullptr;
}

/// thrown_owner() of the exception being handled; call it inside a catch block.
inline const owner* current_exception_owner() noexcept {
  return thrown_owner(std::current_exception());
}

WARDEN_DETAIL_END_NAMESPACE

// Carrying the current owner to another thread or a later time.
//
// Thread-locals do not follow work to a thread pool, so code that hands work over must
// carry the owner explicitly: bind_owner() wraps a callable, capture_owner() gives a
// token for executors that cannot take a wrapper. Both cost one pointer copy; neither
// allocates.
//
// Example:
//
//   pool.post(warden::bind_owner([&] { reindex(catalog); }));   // runs as the poster's owner
//
//   auto token = warden::capture_owner();                        // e.g. stored in a job row
//   ...
//   warden::owner_scope scope{token};                            // on the worker thread
#pragma once

#include <functional>
#include <type_traits>
#include <utility>

#include "warden/ownership/detail/config.hpp"
#include "warden/ownership/scope.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

/// A callable that runs `Callable` under the owner captured when it was made.
/// Made by bind_owner(); copyable and movable when `Callable` is.
template <typename Callable>
class owner_bound final {
 public:
  /// Wraps `callable` with the owner held by `token`.
  owner_bound(Callable callable,
              owner_token token) noexcept(std::is_nothrow_move_constructible_v<Callable>)
      : callable_(std::move(callable)), token_(token) {}

  /// Calls the wrapped callable with the captured owner current.
  template <typename... Args>
  auto operator()(Args&&... args) & -> std::invoke_result_t<Callable&, Args...> {
    const owner_scope scope{token_};
    return std::invoke(callable_, std::forward<Args>(args)...);
  }

  /// Calls the wrapped callable with the captured owner current.
  template <typename... Args>
  auto operator()(Args&&... args) const& -> std::invoke_result_t<const Callable&, Args...> {
    const owner_scope scope{token_};
    return std::invoke(callable_, std::forward<Args>(args)...);
  }

  /// Calls the wrapped callable as an rvalue (one-shot tasks) with the captured owner.
  template <typename... Args>
  auto operator()(Args&&... args) && -> std::invoke_result_t<Callable&&, Args...> {
    const owner_scope scope{token_};
    return std::invoke(std::move(callable_), std::forward<Args>(args)...);
  }

  /// The owner the callable will run as.
  owner_token token() const noexcept { return token_; }

 private:
  Callable callable_;
  owner_token token_;
};

/// Wraps `callable` so that it runs under the owner active on this thread now.
template <typename Callable>
owner_bound<std::decay_t<Callable>> bind_owner(Callable&& callable) {
  return {std::forward<Callable>(callable), capture_owner()};
}

WARDEN_DETAIL_END_NAMESPACE

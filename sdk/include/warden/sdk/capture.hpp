// Capturing errors, messages and custom events. Callable from any thread; each returns
// the event's id (32 hex digits), or "" when nothing was queued (SDK not initialized,
// sampled out, queue full). A capture never throws, never blocks and does no I/O: it
// fills in the event on the calling thread and hands it to the SDK's worker.
//
// Every event is tagged with its owner (team, function, product): for an exception, the
// owner active where it was *thrown* (warden::owned<E> or the throw hook), else where it
// is captured; when the two differ, the capturing owner is kept too.
//
// Example:
//
//   try {
//     checkout(cart);
//   } catch (const std::exception& error) {
//     warden::capture_exception(error);                   // thrower's team in the tags
//   }
//   warden::capture_message(warden::level::warning, "cart {} has {} items", id, count);
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

#include "warden/sdk/detail/message_arg.hpp"
#include "warden/sdk/event.hpp"

namespace warden {

/// Captures `exception` with its chain of std::nested_exception causes. Inside the catch
/// block that handles it, the throw-site owner and stack come with it.
std::string capture_exception(const std::exception& exception,
                              level severity = level::error) noexcept;

/// Captures the exception `exception` holds, of any type, with its nested causes.
std::string capture_exception(const std::exception_ptr& exception,
                              level severity = level::error) noexcept;

/// Captures a plain message.
std::string capture_message(std::string_view message, level severity = level::info) noexcept;

namespace sdk::detail {
std::string capture_formatted_message(level severity, std::string_view format,
                                      const message_arg* args, std::size_t count) noexcept;
}  // namespace sdk::detail

/// Captures a message formatted fmt-style ("order {} failed after {:.1f} s"). The format
/// string is kept as the message template, so the sink groups all such messages into one
/// issue whatever the arguments. A malformed format string is sent as it is.
template <typename... Args>
std::string capture_message(level severity, std::string_view format, const Args&... args) {
  // Converting an argument may allocate (or run a user's operator<<): no noexcept here.
  if constexpr (sizeof...(Args) == 0) {
    return sdk::detail::capture_formatted_message(severity, format, nullptr, 0);
  } else {
    const sdk::detail::message_arg converted[] = {sdk::detail::to_message_arg(args)...};
    return sdk::detail::capture_formatted_message(severity, format, converted, sizeof...(Args));
  }
}

/// Captures an event built by hand; scope data and the owner are added as for the rest.
std::string capture_event(event custom) noexcept;

/// The id of the last event this thread captured, or "".
std::string last_event_id();

}  // namespace warden

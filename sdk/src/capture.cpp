// The capture functions: read what only the capturing thread knows (the exception chain
// and its throw-site owners, the message), then hand the event to the worker.
#include <cxxabi.h>
#include <fmt/args.h>
#include <fmt/format.h>

#include <algorithm>
#include <typeinfo>

#include "client.hpp"
#include "stacktrace.hpp"
#include "warden/ownership/exception.hpp"
#include "warden/sdk/capture.hpp"

namespace warden {
namespace {

using sdk::detail::captured_event;

constexpr int kMaxChainDepth = 16;

thread_local std::string last_id;

std::string remember(std::string id) {
  last_id = id;
  return id;
}

// What the throw hook recorded for `exception` (keyed by its most derived object).
struct throw_record {
  bool found = false;
  const owner* thrower = nullptr;
};

throw_record hooked_throw(const std::exception& exception) {
  throw_record record;
  const auto lookup = warden::detail::throw_site_lookup.load(std::memory_order_acquire);
  if (lookup != nullptr)
    record.found = lookup(dynamic_cast<const void*>(&exception), &record.thrower);
  return record;
}

// The owner recorded where `exception` was thrown: its owned_exception base, else the
// throw hook's record.
const owner* thrower_of(const std::exception& exception, const throw_record& hooked) {
  if (const auto* owned = dynamic_cast<const owned_exception*>(&exception)) {
    if (owned->thrown_owner() != nullptr) return owned->thrown_owner();
  }
  return hooked.found ? hooked.thrower : nullptr;
}

// The exception's type, what() and its throw-site stack when the throw listener took
// one. The hook's record must exist too: the hook forgets an address that is reused for
// an exception object that is never thrown (std::make_exception_ptr), so no stale stack
// is attached to it.
exception_value describe(const std::exception& exception, const throw_record& hooked) {
  exception_value value;
  value.type = typeid(exception).name();
  value.value = exception.what();
  if (hooked.found) {
    value.frames =
        sdk::detail::throw_site_frames(dynamic_cast<const void*>(&exception), typeid(exception));
  }
  return value;
}

// The exception being handled when it is not a std::exception: its type, no message.
exception_value describe_unknown() {
  exception_value unknown;
  const std::type_info* type = abi::__cxa_current_exception_type();
  unknown.type = type != nullptr ? type->name() : "unknown";
  unknown.value = "(not a std::exception)";
  return unknown;
}

// Adds `exception` and, through std::nested_exception, its causes to `item`, outermost
// first; the innermost known thrower becomes the event's thrower.
void add_chain(const std::exception& exception, captured_event& item, int depth) {
  const throw_record hooked = hooked_throw(exception);
  item.event.exceptions.push_back(describe(exception, hooked));
  if (const owner* thrower = thrower_of(exception, hooked)) item.thrower = thrower;
  const auto* nested = dynamic_cast<const std::nested_exception*>(&exception);
  if (nested == nullptr || !nested->nested_ptr() || depth >= kMaxChainDepth) return;
  try {
    std::rethrow_exception(nested->nested_ptr());
  } catch (const std::exception& cause) {
    add_chain(cause, item, depth + 1);
  } catch (...) {
    item.event.exceptions.push_back(describe_unknown());
    if (const owner* thrower = thrown_owner(std::current_exception())) item.thrower = thrower;
  }
}

// The stack of the capture call, from `caller` (the return address into the
// application) outwards; empty when stacks are off.
std::vector<stack_frame> capture_site_frames(const sdk::detail::client& running,
                                             const void* caller) {
  const stack_unwinder unwinder = running.settings().unwinder;
  if (unwinder == stack_unwinder::none) return {};
  sdk::detail::raw_stack stack;
  sdk::detail::unwind(unwinder, caller, stack);
  return sdk::detail::unsymbolized_frames(stack);
}

// Turns the outermost-first chain into Sentry's order (oldest cause first) with
// exception ids and parents. The outermost exception, the one caught, gets the capture
// site's stack when its throw site's is unknown.
void link_chain(captured_event& item, level severity, const sdk::detail::client& running,
                const void* caller) {
  auto& chain = item.event.exceptions;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    chain[i].mechanism.exception_id = static_cast<int>(i);
    if (i > 0) {
      chain[i].mechanism.type = "chained";
      chain[i].mechanism.parent_id = static_cast<int>(i - 1);
    }
  }
  std::reverse(chain.begin(), chain.end());
  if (!chain.empty() && chain.back().frames.empty()) {
    chain.back().frames = capture_site_frames(running, caller);
  }
  item.mangled_exception_types = true;
  item.event.level = severity;
}

// A message event of `severity`, with the capture-site stack from `caller` outwards when
// options.attach_stacktrace asks for it.
std::unique_ptr<captured_event> message_item(const sdk::detail::client& running, level severity,
                                             const void* caller) {
  auto item = std::make_unique<captured_event>();
  item->event.level = severity;
  if (running.settings().attach_stacktrace)
    item->event.stack = capture_site_frames(running, caller);
  return item;
}

// The running client when this capture is sampled in; nullptr otherwise.
std::shared_ptr<sdk::detail::client> sampled_client() {
  auto running = sdk::detail::active_client();
  return running && running->sampled() ? running : nullptr;
}

}  // namespace

namespace {

std::string capture_exception_from(const std::exception& exception, level severity,
                                   const void* caller) noexcept {
  try {
    const auto running = sampled_client();
    if (!running) return {};
    auto item = std::make_unique<captured_event>();
    add_chain(exception, *item, 0);
    link_chain(*item, severity, *running, caller);
    return remember(running->submit(std::move(item)));
  } catch (...) {
    return {};
  }
}

}  // namespace

std::string capture_exception(const std::exception& exception, level severity) noexcept {
  return capture_exception_from(exception, severity, __builtin_return_address(0));
}

std::string capture_exception(const std::exception_ptr& exception, level severity) noexcept {
  if (!exception) return {};
  const void* const caller = __builtin_return_address(0);
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& error) {
    return capture_exception_from(error, severity, caller);
  } catch (...) {
    try {
      const auto running = sampled_client();
      if (!running) return {};
      auto item = std::make_unique<captured_event>();
      item->event.exceptions.push_back(describe_unknown());
      item->thrower = thrown_owner(exception);
      link_chain(*item, severity, *running, caller);
      return remember(running->submit(std::move(item)));
    } catch (...) {
      return {};
    }
  }
}

std::string capture_message(std::string_view message, level severity) noexcept {
  try {
    const auto running = sampled_client();
    if (!running) return {};
    auto item = message_item(*running, severity, __builtin_return_address(0));
    item->event.message = std::string{message};
    return remember(running->submit(std::move(item)));
  } catch (...) {
    return {};
  }
}

namespace sdk::detail {

std::string capture_formatted_message(level severity, std::string_view format,
                                      const message_arg* args, std::size_t count) noexcept {
  try {
    const auto running = sampled_client();
    if (!running) return {};
    auto item = message_item(*running, severity, __builtin_return_address(0));
    item->event.message_template = std::string{format};
    fmt::dynamic_format_arg_store<fmt::format_context> store;
    for (std::size_t i = 0; i < count; ++i) {
      const message_arg& arg = args[i];
      switch (arg.type) {
        case message_arg::kind::signed_integer:
          store.push_back(arg.signed_value);
          item->event.message_params.push_back(fmt::to_string(arg.signed_value));
          break;
        case message_arg::kind::unsigned_integer:
          store.push_back(arg.unsigned_value);
          item->event.message_params.push_back(fmt::to_string(arg.unsigned_value));
          break;
        case message_arg::kind::floating:
          store.push_back(arg.floating_value);
          item->event.message_params.push_back(fmt::to_string(arg.floating_value));
          break;
        case message_arg::kind::boolean:
          store.push_back(arg.unsigned_value != 0);
          item->event.message_params.push_back(arg.unsigned_value != 0 ? "true" : "false");
          break;
        case message_arg::kind::text:
          store.push_back(std::string_view{arg.text});
          item->event.message_params.push_back(arg.text);
          break;
      }
    }
    try {
      item->event.message = fmt::vformat(fmt::string_view{format.data(), format.size()}, store);
    } catch (const fmt::format_error&) {
      item->event.message = std::string{format};  // malformed: sent as written
    }
    return remember(running->submit(std::move(item)));
  } catch (...) {
    return {};
  }
}

}  // namespace sdk::detail

std::string capture_event(event custom) noexcept {
  try {
    const auto running = sampled_client();
    if (!running) return {};
    auto item = std::make_unique<captured_event>();
    item->event = std::move(custom);
    return remember(running->submit(std::move(item)));
  } catch (...) {
    return {};
  }
}

std::string last_event_id() { return last_id; }

}  // namespace warden

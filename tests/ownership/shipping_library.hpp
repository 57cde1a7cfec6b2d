// A shared library built with -fvisibility=hidden: a module boundary for throw-site
// tests (with the throw hook and without it) and for the process-wide state that must
// stay one object across libraries.
#pragma once

#include <warden/ownership.hpp>

#define SHIPPING_API __attribute__((visibility("default")))

namespace shipping {

/// Throws a plain std::runtime_error (no owned_exception base) `depth` frames deep
/// inside the shipping module.
[[noreturn]] SHIPPING_API void dispatch_failing(int depth);

/// Throws warden::owned<std::runtime_error> `depth` frames deep inside the shipping
/// module: its owner travels with the object, with or without the throw hook.
[[noreturn]] SHIPPING_API void dispatch_failing_owned(int depth);

/// Throws an int from inside the shipping module.
[[noreturn]] SHIPPING_API void dispatch_throwing_int();

/// The owner current inside a shipping function (its module default).
SHIPPING_API const warden::owner* owner_inside();

/// The owner current in the library right now, read by library code.
SHIPPING_API const warden::owner* current_owner_seen_by_library();

/// current_owner() as the library sees it (the fallback when no scope is active).
SHIPPING_API const warden::owner& owner_or_fallback_seen_by_library();

}  // namespace shipping

// A second translation unit with its own module owner (billing_module.cpp).
#pragma once

#include <functional>

#include <warden/ownership.hpp>

namespace billing {

/// Runs `inside` under billing's module owner and returns that owner.
const warden::owner& charge(const std::function<void()>& inside);

/// Throws warden::owned<std::runtime_error> from `depth` nested billing frames.
[[noreturn]] void fail_charge(int depth);

/// The descriptor billing's module default resolves to (for comparisons).
const warden::owner& module_owner();

}  // namespace billing

// Warden ownership: which team owns the code that runs now.
//
// Code declares its owner with RAII scopes and macros at module, API or endpoint level;
// the innermost scope wins; owners are carried to other threads explicitly; every
// declaration is listed in a static registry for coverage reports. Header-only, no
// dependencies, and a scope costs about a thread-local pointer swap.
//
// Example:
//
//   #include <warden/ownership.hpp>
//
//   WARDEN_MODULE_OWNER("payments", "backend", "checkout");
//
//   void pay(const cart& c) {
//     WARDEN_ENDPOINT("POST /pay");
//     pool.post(warden::bind_owner([c] { settle(c); }));   // settles as payments
//     std::cout << warden::current_owner().team();          // "payments"
//   }
//
// Opt-in headers: <warden/ownership/coverage.hpp> (reports and the CI check),
// <warden/ownership/rules.hpp> (CODEOWNERS-style rules, target warden::rules) and
// <warden/ownership/throw_hook.hpp> (throw-site owners for any type, target
// warden::throw_hook). docs/OWNERSHIP.md has the whole guide.
#pragma once

#include "warden/ownership/exception.hpp"    // IWYU pragma: export
#include "warden/ownership/macros.hpp"       // IWYU pragma: export
#include "warden/ownership/observer.hpp"     // IWYU pragma: export
#include "warden/ownership/owner.hpp"        // IWYU pragma: export
#include "warden/ownership/propagation.hpp"  // IWYU pragma: export
#include "warden/ownership/registry.hpp"     // IWYU pragma: export
#include "warden/ownership/scope.hpp"        // IWYU pragma: export

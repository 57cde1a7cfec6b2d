// Scopes ended out of order in a file built without WARDEN_OWNERSHIP_CHECKS, as release
// builds are, linked into a program whose other files check (scope_test.cpp).
#pragma once

#include <warden/ownership.hpp>

namespace scope_checks_off {

/// What was current after each of two out-of-order scope ends.
struct out_of_order_result {
  const warden::owner* first_entered;  ///< The owner the scope ended first had entered.
  const warden::owner* after_first;    ///< Current after that scope ended.
  const warden::owner* after_second;   ///< Current after the scope entered next ended.
};

/// Enters two scopes, ends the outer one first, then the inner one; the thread is left
/// as it was found.
out_of_order_result end_scopes_out_of_order();

}  // namespace scope_checks_off

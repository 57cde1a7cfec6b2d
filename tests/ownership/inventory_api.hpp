// An "API" owned at namespace level from a header, included by several test files:
// its inline functions and namespace owner must be one descriptor each program-wide.
#pragma once

#include <warden/ownership.hpp>

namespace inventory {

WARDEN_NAMESPACE_OWNER("inventory", "backend", "stock");

/// Enters the namespace default and returns the owner seen inside.
inline const warden::owner& reserve() {
  WARDEN_OWNED();
  return warden::current_owner();
}

/// An endpoint that overrides only the product.
inline const warden::owner& count_endpoint() {
  WARDEN_ENDPOINT("GET /inventory/count", warden::product("warehouse"));
  return warden::current_owner();
}

/// Never called by any test: the compiler never emits it, and its site must still be
/// registered (and the program must link).
inline void never_called_endpoint() { WARDEN_ENDPOINT("GET /inventory/never"); }

/// A class whose inline member is never called either.
struct stock_widget {
  void refresh() { WARDEN_OWNED(); }
};

}  // namespace inventory

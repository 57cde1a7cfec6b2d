#include "shipping_library.hpp"

#include <stdexcept>

WARDEN_MODULE_OWNER("shipping", "backend", "logistics");

namespace shipping {

void dispatch_failing(int depth) {
  WARDEN_OWNED();
  if (depth > 0) dispatch_failing(depth - 1);
  throw std::runtime_error("no courier available");
}

void dispatch_failing_owned(int depth) {
  WARDEN_OWNED();
  if (depth > 0) dispatch_failing_owned(depth - 1);
  throw warden::owned<std::runtime_error>("no courier for this parcel");
}

void dispatch_throwing_int() {
  WARDEN_ENDPOINT("POST /dispatch");
  throw 42;
}

const warden::owner* owner_inside() {
  WARDEN_OWNED();
  return warden::try_current_owner();
}

const warden::owner* current_owner_seen_by_library() { return warden::try_current_owner(); }

const warden::owner& owner_or_fallback_seen_by_library() { return warden::current_owner(); }

}  // namespace shipping

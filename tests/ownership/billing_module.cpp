#include "billing_module.hpp"

#include <stdexcept>

WARDEN_MODULE_OWNER("billing", "backend", "invoicing");

namespace billing {

const warden::owner& charge(const std::function<void()>& inside) {
  WARDEN_OWNED();
  if (inside) inside();
  return warden::current_owner();
}

void fail_charge(int depth) {
  WARDEN_OWNED();
  if (depth > 0) fail_charge(depth - 1);
  throw warden::owned<std::runtime_error>("card declined");
}

const warden::owner& module_owner() { return warden_detail_module_owner; }

}  // namespace billing

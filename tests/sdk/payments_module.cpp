#include "payments_module.hpp"

#include <stdexcept>

#include "warden/ownership.hpp"

WARDEN_MODULE_OWNER("payments", "backend", "checkout");

namespace payments {

void decline_card(int depth) {
  WARDEN_OWNED();
  if (depth > 0) decline_card(depth - 1);
  throw std::runtime_error("card declined");
}

void fail_checkout() {
  WARDEN_OWNED();
  try {
    decline_card(2);
  } catch (...) {
    std::throw_with_nested(std::logic_error("checkout failed"));
  }
}

}  // namespace payments

// payments: owned by the payments team's backend for the checkout product; refunds are
// an endpoint the refunds team owns inside the same file.
#include <stdexcept>

#include <warden/ownership.hpp>

#include "modules.hpp"

WARDEN_MODULE_OWNER("payments", "backend", "checkout");

namespace example {

void charge(int amount) {
  WARDEN_OWNED();
  run_query("INSERT INTO charges VALUES (" + std::to_string(amount) + ")");
  if (amount > 100) throw std::runtime_error("card declined");  // a plain std::exception
  report_event("card charged");
}

void refund(int amount) {
  WARDEN_ENDPOINT("POST /refunds", warden::team("refunds"));
  run_query("INSERT INTO refunds VALUES (" + std::to_string(amount) + ")");
  report_event("refund issued");
}

}  // namespace example

// The SDK in twenty lines: init, capture an exception with its owner, close.
// Usage: warden_sdk_basic_example <dsn>   (e.g. the DSN warden-sink prints)
#include <cstdio>
#include <stdexcept>

#include <warden/ownership.hpp>
#include <warden/sdk.hpp>

WARDEN_MODULE_OWNER("payments", "backend", "checkout");

void charge_card() {
  WARDEN_OWNED();  // this function belongs to payments/backend/checkout
  throw warden::owned<std::runtime_error>("card declined");
}

int main(int argc, char** argv) {
  warden::options options;
  options.dsn = argc > 1 ? argv[1] : "";  // empty: WARDEN_DSN or SENTRY_DSN
  auto sdk = warden::init(std::move(options));
  if (!sdk.ok()) return std::fprintf(stderr, "warden: %s\n", sdk.error().c_str()), 1;
  try {
    charge_card();
  } catch (const std::exception& error) {
    std::printf("captured %s\n", warden::capture_exception(error).c_str());  // team=payments
  }
  return sdk.close(std::chrono::seconds{2}) ? 0 : 2;
}

// Uses the ownership targets: scopes, the throw hook and, when WARDEN_CONSUMER_RULES is
// 1, the rules engine (sdk_main.cpp uses warden::sdk).
#include <iostream>
#include <stdexcept>
#include <string_view>

#include <warden/ownership.hpp>
#include <warden/ownership/coverage.hpp>
#include <warden/ownership/throw_hook.hpp>
#if WARDEN_CONSUMER_RULES
#include <warden/ownership/rules.hpp>
#endif

WARDEN_MODULE_OWNER("consumers", "backend");

namespace {

void fail() {
  WARDEN_ENDPOINT("POST /fail", warden::team("failing"));
  throw std::runtime_error("expected");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view{argv[1]} == "--check") {
    return warden::check_coverage(warden::collect_coverage(), std::cout);
  }
  try {
    fail();
  } catch (...) {
    const warden::owner* thrower = warden::current_exception_owner();
    if (!warden::throw_hook_installed() || thrower == nullptr || thrower->team() != "failing") {
      std::cerr << "throw-site owner not recovered\n";
      return 1;
    }
  }
#if WARDEN_CONSUMER_RULES
  auto parsed = warden::ownership_rules::parse("path:src/** team=consumers function=backend");
  warden::rule_subject frame;
  frame.path = "src/main.cpp";
  if (!parsed.ok() || !parsed.rules->match(frame)) {
    std::cerr << "rules did not match\n";
    return 1;
  }
#endif
  std::cout << "consumer ok\n";
  return 0;
}

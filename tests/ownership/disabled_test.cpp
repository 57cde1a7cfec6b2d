// WARDEN_OWNERSHIP_ENABLED=0: every macro compiles to nothing and the API reports the
// fallback owner. Built as its own program (the switch must be the same in every file).
#include <stdexcept>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>
#include <warden/ownership/coverage.hpp>

#include "mixed_mode.hpp"

static_assert(WARDEN_OWNERSHIP_ENABLED == 0, "this test must be built with ownership disabled");

WARDEN_MODULE_OWNER("payments", "backend", "checkout");

namespace api {
WARDEN_NAMESPACE_OWNER("api", "frontend");
}  // namespace api

namespace {

constexpr warden::owner kExplicit{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "explicit"}, "explicit", "backend"};

const warden::owner& owned_function() {
  WARDEN_OWNED();
  WARDEN_EXPECT_OWNED();
  return warden::current_owner();
}

const warden::owner& endpoint_function() {
  WARDEN_ENDPOINT("GET /x", warden::team("other"));
  WARDEN_OWNED_BY("GET /y", warden::team("y"));
  return warden::current_owner();
}

}  // namespace

TEST_CASE("disabled macros leave the fallback owner in place") {
  CHECK(&owned_function() == &warden::unowned);
  CHECK(&endpoint_function() == &warden::unowned);
  const warden::owner_scope scope{kExplicit};
  CHECK(warden::try_current_owner() == nullptr);
  CHECK(warden::current_owner().team() == "unowned");
  CHECK_FALSE(warden::capture_owner());
  CHECK(warden::bind_owner([] { return 3; })() == 3);
}

TEST_CASE("disabled ownership registers nothing") {
  owned_function();
  // The disabled API reads only what disabled files registered: nothing.
  const warden::coverage_report report = warden::collect_coverage();
  CHECK(report.modules.empty());
  CHECK(report.sites.empty());
  CHECK(report.probes.empty());
  CHECK(report.problems.empty());
}

TEST_CASE("a file built with ownership enabled keeps working beside disabled ones") {
  volatile char guard = 42;
  const warden::owner_scope scope{kExplicit};
  CHECK(enabled_file_team() == "mixed");
  CHECK(guard == 42);
  CHECK(warden::try_current_owner() == nullptr);
}

TEST_CASE("owned exceptions still compile and report no owner") {
  try {
    throw warden::owned<std::runtime_error>("x");
  } catch (...) {
    CHECK(warden::current_exception_owner() == nullptr);
  }
}

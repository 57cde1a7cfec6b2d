// A program whose exit code is warden::check_coverage(), registered with
// warden_add_ownership_check(). Built twice: owned (the check passes) and with
// WARDEN_TEST_ORPHAN_ENDPOINT (an endpoint without a team: the check fails).
#include <iostream>

#include <warden/ownership.hpp>
#include <warden/ownership/coverage.hpp>

WARDEN_MODULE_OWNER("reports", "data");

namespace {

void export_endpoint() { WARDEN_ENDPOINT("GET /export", warden::product("exports")); }

#ifdef WARDEN_TEST_ORPHAN_ENDPOINT
void orphan_endpoint() { WARDEN_OWNED_BY("GET /orphan", warden::function("backend")); }
#endif

}  // namespace

int main() {
  export_endpoint();
#ifdef WARDEN_TEST_ORPHAN_ENDPOINT
  orphan_endpoint();
#endif
  return warden::check_coverage(warden::collect_coverage(), std::cout);
}

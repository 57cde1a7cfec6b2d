// The declaration macros: module defaults, function scopes, endpoint overrides resolved
// at compile time, namespace-level owners from a header, and the registry.
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>

#include "billing_module.hpp"
#include "inventory_api.hpp"

WARDEN_MODULE_OWNER("catalog", "backend", "search");

namespace {

// Overrides resolve at compile time against the visible module default.
constexpr warden::owner kTeamOverride{warden::owner_kind::endpoint,
                                      {__FILE__, __LINE__, {}},
                                      warden_detail_module_owner,
                                      "GET /compile-time",
                                      warden::team("merchandising")};
static_assert(kTeamOverride.team() == "merchandising");
static_assert(kTeamOverride.function() == "backend");
static_assert(kTeamOverride.product() == "search");
static_assert(kTeamOverride.site().name == "GET /compile-time");

const warden::owner& search_items() {
  WARDEN_OWNED();
  return warden::current_owner();
}

const warden::owner& list_items_endpoint() {
  WARDEN_ENDPOINT("GET /items", warden::team("merchandising"));
  return warden::current_owner();
}

const warden::owner& product_and_function_endpoint() {
  WARDEN_ENDPOINT("POST /items/import", warden::function("data"), warden::product("feeds"));
  return warden::current_owner();
}

const warden::owner& health_endpoint() {
  WARDEN_OWNED_BY("GET /health", warden::team("platform"), warden::function("infra"));
  return warden::current_owner();
}

}  // namespace

// Declared and registered, never called by any test.
void never_called_endpoint() { WARDEN_ENDPOINT("DELETE /items/never"); }

// Deliberately declared without a team: the coverage check must flag it.
void orphan_endpoint() { WARDEN_OWNED_BY("GET /orphan", warden::function("backend")); }

namespace {

std::vector<const warden::owner*> declared_named(std::string_view name) {
  std::vector<const warden::owner*> found;
  warden::for_each_declared_owner([&](const warden::owner& o) {
    if (o.site().name == name) found.push_back(&o);
  });
  return found;
}

}  // namespace

TEST_CASE("WARDEN_OWNED enters the module default under the function's name") {
  const warden::owner& seen = search_items();
  CHECK(seen.team() == "catalog");
  CHECK(seen.function() == "backend");
  CHECK(seen.product() == "search");
  CHECK(seen.kind() == warden::owner_kind::scope);
  CHECK(seen.site().name == "search_items");
  CHECK(std::string_view{seen.site().file}.find("macros_test.cpp") != std::string_view::npos);
  CHECK(seen.has_run());
  CHECK(warden::try_current_owner() == nullptr);
}

TEST_CASE("WARDEN_ENDPOINT overrides only the fields it names") {
  const warden::owner& items = list_items_endpoint();
  CHECK(items.team() == "merchandising");
  CHECK(items.function() == "backend");
  CHECK(items.product() == "search");
  CHECK(items.kind() == warden::owner_kind::endpoint);
  CHECK(items.site().name == "GET /items");

  const warden::owner& import = product_and_function_endpoint();
  CHECK(import.team() == "catalog");
  CHECK(import.function() == "data");
  CHECK(import.product() == "feeds");
}

TEST_CASE("each call site has one static descriptor") {
  CHECK(&search_items() == &search_items());
  CHECK(&list_items_endpoint() != &search_items());
}

TEST_CASE("WARDEN_OWNED_BY needs no module default") {
  const warden::owner& health = health_endpoint();
  CHECK(health.team() == "platform");
  CHECK(health.function() == "infra");
  CHECK(health.product().empty());
}

TEST_CASE("a namespace-level owner from a header wins over the file's default") {
  const warden::owner& reserved = inventory::reserve();
  CHECK(reserved.team() == "inventory");
  CHECK(reserved.product() == "stock");
  const warden::owner& counted = inventory::count_endpoint();
  CHECK(counted.team() == "inventory");
  CHECK(counted.product() == "warehouse");
}

TEST_CASE("calling into another module switches owner and switches back") {
  WARDEN_OWNED();
  const warden::owner* inside = nullptr;
  const warden::owner& billing_owner =
      billing::charge([&inside] { inside = &warden::current_owner(); });
  CHECK(billing_owner.team() == "billing");
  CHECK(inside == &billing_owner);
  CHECK(warden::current_owner().team() == "catalog");
  CHECK(billing::module_owner().kind() == warden::owner_kind::module);
}

TEST_CASE("the registry lists every declaration, including code that never ran") {
  const auto never = declared_named("DELETE /items/never");
  REQUIRE(never.size() == 1);
  CHECK_FALSE(never.front()->has_run());
  CHECK(never.front()->team() == "catalog");

  list_items_endpoint();
  const auto items = declared_named("GET /items");
  REQUIRE(items.size() == 1);
  CHECK(items.front()->has_run());

  // Sites in inline functions and members that no file calls are listed too.
  const auto inline_never = declared_named("GET /inventory/never");
  REQUIRE(inline_never.size() == 1);
  CHECK_FALSE(inline_never.front()->has_run());
  CHECK(inline_never.front()->team() == "inventory");
  const auto member_never = declared_named("refresh");
  REQUIRE(member_never.size() == 1);
  CHECK(member_never.front()->kind() == warden::owner_kind::scope);

  int modules = 0;
  warden::for_each_declared_owner([&](const warden::owner& o) {
    if (o.kind() == warden::owner_kind::module && o.team() == "billing") ++modules;
  });
  CHECK(modules == 1);
}

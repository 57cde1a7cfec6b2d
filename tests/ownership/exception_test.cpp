// Throw-site owners without the __cxa_throw hook: the owned_exception base, thrown in
// this program and in a shared library built with hidden visibility.
#include <future>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>
#include <warden/ownership/throw_hook.hpp>

#include "billing_module.hpp"
#include "shipping_library.hpp"

WARDEN_MODULE_OWNER("checkout", "frontend");

TEST_CASE("without the hook linked, only owned_exception records the thrower") {
  CHECK_FALSE(warden::throw_hook_installed());
}

TEST_CASE("owned<E> thrown several frames deep in another module names that module") {
  WARDEN_OWNED();
  bool caught = false;
  try {
    billing::fail_charge(3);
  } catch (const std::runtime_error& e) {
    caught = true;
    CHECK(std::string_view{e.what()} == "card declined");
    CHECK(warden::current_owner().team() == "checkout");
    const warden::owner* thrower = warden::current_exception_owner();
    REQUIRE(thrower != nullptr);
    CHECK(thrower->team() == "billing");
    CHECK(thrower->site().name == "fail_charge");
    const auto* owned = dynamic_cast<const warden::owned_exception*>(&e);
    REQUIRE(owned != nullptr);
    CHECK(owned->thrown_owner() == thrower);
  }
  CHECK(caught);
}

TEST_CASE("owned<E> thrown inside a shared library names the library's owner, without the hook") {
  WARDEN_OWNED();
  REQUIRE_FALSE(warden::throw_hook_installed());
  bool caught = false;
  try {
    shipping::dispatch_failing_owned(2);
  } catch (const std::runtime_error& e) {
    caught = true;
    CHECK(std::string_view{e.what()} == "no courier for this parcel");
    CHECK(warden::current_owner().team() == "checkout");
    const warden::owner* thrower = warden::current_exception_owner();
    REQUIRE(thrower != nullptr);
    CHECK(thrower->team() == "shipping");
    CHECK(thrower->product() == "logistics");
    CHECK(thrower->site().name == "dispatch_failing_owned");
    // The library's (hidden) owned<E> is caught by the program's owned_exception.
    const auto* owned = dynamic_cast<const warden::owned_exception*>(&e);
    REQUIRE(owned != nullptr);
    CHECK(owned->thrown_owner() == thrower);
  }
  CHECK(caught);

  bool caught_as_base = false;
  try {
    shipping::dispatch_failing_owned(0);
  } catch (const warden::owned_exception& e) {
    caught_as_base = true;
    REQUIRE(e.thrown_owner() != nullptr);
    CHECK(e.thrown_owner()->team() == "shipping");
  }
  CHECK(caught_as_base);
}

TEST_CASE("the thrower's owner travels with an exception_ptr to another thread") {
  std::exception_ptr failure;
  try {
    billing::fail_charge(1);
  } catch (...) {
    failure = std::current_exception();
  }
  const warden::owner* seen =
      std::async(std::launch::async, [failure] { return warden::thrown_owner(failure); }).get();
  REQUIRE(seen != nullptr);
  CHECK(seen->team() == "billing");
}

TEST_CASE("exceptions without a recorded owner give nullptr") {
  WARDEN_OWNED();
  try {
    throw std::logic_error("plain");
  } catch (...) {
    CHECK(warden::current_exception_owner() == nullptr);
  }
  CHECK(warden::thrown_owner(std::exception_ptr{}) == nullptr);
  try {
    throw warden::owned<std::logic_error>("thrown unowned");
  } catch (...) {
    // Thrown inside the scope above, so it is owned by checkout.
    REQUIRE(warden::current_exception_owner() != nullptr);
    CHECK(warden::current_exception_owner()->team() == "checkout");
  }
  const warden::owner_scope unowned{warden::owner_token{}};
  try {
    throw warden::owned<std::logic_error>("thrown unowned");
  } catch (...) {
    CHECK(warden::current_exception_owner() == nullptr);
  }
}

// Throw-site owners for any thrown type through the __cxa_throw hook, across a shared
// library boundary and across threads.
#include <atomic>
#include <cstddef>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>
#include <warden/ownership/coverage.hpp>
#include <warden/ownership/throw_hook.hpp>

#include "shipping_library.hpp"

WARDEN_MODULE_OWNER("storefront", "frontend");

namespace {

std::atomic<int> listened_throws{0};
std::atomic<const warden::owner*> last_listened_thrower{nullptr};
std::atomic<const std::type_info*> last_listened_type{nullptr};

void listener(const warden::throw_event& event) noexcept {
  ++listened_throws;
  last_listened_thrower = event.thrower;
  last_listened_type = event.type;
}

[[gnu::noinline]] void dispatch_and_rethrow() {
  try {
    shipping::dispatch_failing(2);
  } catch (...) {
    throw;  // a rethrow keeps the original record
  }
}

void rethrow_through_frames(int depth) {
  WARDEN_OWNED();
  if (depth > 0) {
    rethrow_through_frames(depth - 1);
  } else if (depth == 0) {
    dispatch_and_rethrow();
  }
}

// Each lets the C++ library throw: the throw runs inside libstdc++.so, not in our code.
[[gnu::noinline]] int stock_at(const std::vector<int>& stock, std::size_t index) {
  WARDEN_ENDPOINT("GET /stock", warden::team("inventory"));
  return stock.at(index);
}

[[gnu::noinline]] int parse_quantity(const std::string& text) {
  WARDEN_ENDPOINT("POST /quantity", warden::team("orders"));
  return std::stoi(text);
}

}  // namespace

TEST_CASE("the hook is installed when linked") { CHECK(warden::throw_hook_installed()); }

TEST_CASE("the library and the program share one current-owner slot") {
  WARDEN_OWNED();
  CHECK(shipping::current_owner_seen_by_library() == warden::try_current_owner());
  const warden::owner* inside = shipping::owner_inside();
  REQUIRE(inside != nullptr);
  CHECK(inside->team() == "shipping");
  CHECK(warden::current_owner().team() == "storefront");
}

TEST_CASE("sites and the fallback of a hidden-visibility library are the program's") {
  CHECK(&shipping::owner_or_fallback_seen_by_library() == &warden::unowned);
  const warden::coverage_report report = warden::collect_coverage();
  bool module_listed = false;
  bool endpoint_listed = false;
  for (const auto& module : report.modules) module_listed |= module.team == "shipping";
  for (const auto& site : report.sites) endpoint_listed |= site.site.name == "POST /dispatch";
  CHECK(module_listed);
  CHECK(endpoint_listed);
}

TEST_CASE("a plain std::exception thrown in a shared library names the library's owner") {
  WARDEN_OWNED();
  bool caught = false;
  try {
    rethrow_through_frames(3);
  } catch (const std::runtime_error& e) {
    caught = true;
    CHECK(warden::current_owner().team() == "storefront");
    const warden::owner* thrower = warden::current_exception_owner();
    REQUIRE(thrower != nullptr);
    CHECK(thrower->team() == "shipping");
    CHECK(thrower->product() == "logistics");
    CHECK(thrower->site().name == "dispatch_failing");
  }
  CHECK(caught);
}

TEST_CASE("throws from inside the C++ library name the owner of the code that called it") {
  WARDEN_OWNED();
  const std::vector<int> stock{1, 2, 3};
  bool caught_range = false;
  try {
    static_cast<void>(stock_at(stock, 3));
  } catch (const std::out_of_range&) {
    caught_range = true;
    CHECK(warden::current_owner().team() == "storefront");
    const warden::owner* thrower = warden::current_exception_owner();
    REQUIRE(thrower != nullptr);
    CHECK(thrower->team() == "inventory");
    CHECK(thrower->site().name == "GET /stock");
  }
  CHECK(caught_range);

  bool caught_argument = false;
  try {
    static_cast<void>(parse_quantity("x"));
  } catch (const std::invalid_argument&) {
    caught_argument = true;
    const warden::owner* thrower = warden::current_exception_owner();
    REQUIRE(thrower != nullptr);
    CHECK(thrower->team() == "orders");
    CHECK(thrower->site().name == "POST /quantity");
  }
  CHECK(caught_argument);
}

TEST_CASE("non-class exceptions are recorded too") {
  try {
    shipping::dispatch_throwing_int();
  } catch (int value) {
    CHECK(value == 42);
    const warden::owner* thrower = warden::current_exception_owner();
    REQUIRE(thrower != nullptr);
    CHECK(thrower->site().name == "POST /dispatch");
    CHECK(thrower->team() == "shipping");
  }
}

TEST_CASE("a throw with no owner is recorded as unowned") {
  try {
    throw std::out_of_range("unowned");
  } catch (...) {
    CHECK(warden::current_exception_owner() == nullptr);
  }
}

TEST_CASE("the record survives a hand-over to another thread") {
  std::exception_ptr failure;
  try {
    shipping::dispatch_failing(0);
  } catch (...) {
    failure = std::current_exception();
  }
  const warden::owner* seen =
      std::async(std::launch::async, [failure] { return warden::thrown_owner(failure); }).get();
  REQUIRE(seen != nullptr);
  CHECK(seen->team() == "shipping");
}

TEST_CASE("nested exceptions keep each level's thrower") {
  WARDEN_OWNED();
  try {
    try {
      shipping::dispatch_failing(0);
    } catch (...) {
      std::throw_with_nested(std::runtime_error("checkout failed"));
    }
  } catch (const std::exception& outer) {
    const warden::owner* outer_thrower = warden::current_exception_owner();
    REQUIRE(outer_thrower != nullptr);
    CHECK(outer_thrower->team() == "storefront");
    try {
      std::rethrow_if_nested(outer);
      FAIL("expected a nested exception");
    } catch (const std::runtime_error&) {
      const warden::owner* inner_thrower = warden::current_exception_owner();
      REQUIRE(inner_thrower != nullptr);
      CHECK(inner_thrower->team() == "shipping");
    }
  }
}

TEST_CASE("an exception made at a recycled address without a throw inherits no record") {
  // make_exception_ptr allocates an exception object without calling __cxa_throw; the
  // allocator often hands out the address of the exception just destroyed.
  for (int i = 0; i < 100; ++i) {
    try {
      shipping::dispatch_failing(0);
    } catch (...) {
      REQUIRE(warden::current_exception_owner() != nullptr);
    }
    const std::exception_ptr made = std::make_exception_ptr(std::runtime_error("made"));
    CHECK(warden::thrown_owner(made) == nullptr);
  }
}

TEST_CASE("the throw listener sees every throw with its type and thrower") {
  warden::set_throw_listener(&listener);
  const int before = listened_throws.load();
  try {
    shipping::dispatch_failing(1);
  } catch (...) {
  }
  warden::set_throw_listener(nullptr);
  CHECK(listened_throws.load() == before + 1);
  REQUIRE(last_listened_thrower.load() != nullptr);
  CHECK(last_listened_thrower.load()->team() == "shipping");
  CHECK(*last_listened_type.load() == typeid(std::runtime_error));
  try {
    throw 1;
  } catch (...) {
  }
  CHECK(listened_throws.load() == before + 1);
}

TEST_CASE("concurrent throws from many threads each find their own thrower") {
  constexpr int kThreads = 8;
  std::atomic<int> wrong{0};
  std::atomic<int> missing{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        try {
          if (t % 2 == 0) {
            shipping::dispatch_failing(1);
          } else {
            WARDEN_ENDPOINT("concurrent thrower");
            throw std::runtime_error("storefront failure");
          }
        } catch (...) {
          const warden::owner* thrower = warden::current_exception_owner();
          if (thrower == nullptr) {
            ++missing;
          } else if (thrower->team() != (t % 2 == 0 ? "shipping" : "storefront")) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  // A record can only be lost when two live exceptions share a slot at the same moment.
  CHECK(missing.load() <= kThreads * 500 / 100);
}

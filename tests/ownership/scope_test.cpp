// Scopes: nesting, restoring, unwinding, fallback, the observer hook and the check for
// scopes ended out of order. Built with checks whatever the build type, so any scope
// below that ended out of order would abort the test (the default handler); the rest of
// the program is built without them in release builds, which mixing must survive.
#define WARDEN_OWNERSHIP_CHECKS 1

#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>

#include "scope_checks_off.hpp"

namespace {

constexpr warden::owner kOuter{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "outer"}, "outer-team", "backend"};
constexpr warden::owner kMiddle{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "middle"}, "middle-team", "frontend"};
constexpr warden::owner kInner{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "inner"}, "inner-team", "data", "reports"};
constexpr warden::owner kPlatform{
    warden::owner_kind::fallback, {__FILE__, __LINE__, "platform"}, "platform", "infra"};

[[noreturn]] void throw_from_inner() {
  const warden::owner_scope scope{kInner};
  CHECK(&warden::current_owner() == &kInner);
  throw std::runtime_error("inner failed");
}

void call_through_middle() {
  const warden::owner_scope scope{kMiddle};
  throw_from_inner();
}

}  // namespace

TEST_CASE("with no scope the fallback owner is reported") {
  CHECK(warden::try_current_owner() == nullptr);
  CHECK(&warden::current_owner() == &warden::unowned);
  CHECK(warden::current_owner().team() == "unowned");
  CHECK(warden::current_owner().kind() == warden::owner_kind::fallback);
}

TEST_CASE("the fallback owner is configurable") {
  warden::set_fallback_owner(kPlatform);
  CHECK(warden::current_owner().team() == "platform");
  CHECK(warden::try_current_owner() == nullptr);
  {
    const warden::owner_scope scope{kOuter};
    CHECK(warden::current_owner().team() == "outer-team");
  }
  warden::set_fallback_owner(warden::unowned);
  CHECK(warden::current_owner().team() == "unowned");
}

TEST_CASE("descriptors carry every field and their site") {
  CHECK(kInner.team() == "inner-team");
  CHECK(kInner.function() == "data");
  CHECK(kInner.product() == "reports");
  CHECK(kOuter.product().empty());
  CHECK(kInner.site().name == "inner");
  CHECK(kInner.site().line > 0);
  CHECK(std::string_view{kInner.site().file}.find("scope_test.cpp") != std::string_view::npos);
}

TEST_CASE("the innermost scope wins and each exit restores the level before") {
  const warden::owner_scope outer{kOuter};
  CHECK(&warden::current_owner() == &kOuter);
  {
    const warden::owner_scope middle{kMiddle};
    CHECK(&warden::current_owner() == &kMiddle);
    {
      const warden::owner_scope inner{kInner};
      CHECK(&warden::current_owner() == &kInner);
    }
    CHECK(&warden::current_owner() == &kMiddle);
  }
  CHECK(&warden::current_owner() == &kOuter);
}

TEST_CASE("the same owner may be entered recursively") {
  const warden::owner_scope first{kOuter};
  {
    const warden::owner_scope second{kOuter};
    CHECK(&warden::current_owner() == &kOuter);
  }
  CHECK(&warden::current_owner() == &kOuter);
}

TEST_CASE("unwinding through several owned frames restores the catcher's owner") {
  const warden::owner_scope outer{kOuter};
  bool caught = false;
  try {
    call_through_middle();
  } catch (const std::runtime_error&) {
    caught = true;
    CHECK(&warden::current_owner() == &kOuter);
  }
  CHECK(caught);
  CHECK(&warden::current_owner() == &kOuter);
}

TEST_CASE("scopes entered in a handler and rethrown unwind correctly") {
  bool caught_outer = false;
  try {
    const warden::owner_scope outer{kOuter};
    try {
      call_through_middle();
    } catch (...) {
      const warden::owner_scope handling{kInner};
      CHECK(&warden::current_owner() == &kInner);
      throw;
    }
  } catch (const std::runtime_error&) {
    caught_outer = true;
    CHECK(warden::try_current_owner() == nullptr);
  }
  CHECK(caught_outer);
}

namespace {

// (ending, current) of each scope reported by the scope-order check.
std::vector<std::pair<const warden::owner*, const warden::owner*>> out_of_order_ends;

void record_out_of_order(const warden::owner* ending, const warden::owner* current) noexcept {
  out_of_order_ends.emplace_back(ending, current);
}

}  // namespace

// A checked scope also remembers what it entered (scope_checks_off.cpp: an unchecked one
// holds one pointer).
static_assert(sizeof(warden::owner_scope) == 2 * sizeof(void*));

TEST_CASE("a scope ended out of order restores what was current when it began, and is reported") {
  // The chosen semantics: every scope restores exactly what was current when it began,
  // the guarantee RAII nesting relies on. Scopes held in std::optional can be ended
  // early; then the scope entered after it restores an owner whose scope is gone.
  out_of_order_ends.clear();
  warden::set_scope_order_handler(&record_out_of_order);
  {
    const warden::owner_scope base{warden::owner_token{}};
    std::optional<warden::owner_scope> first;
    std::optional<warden::owner_scope> second;
    first.emplace(kOuter);
    second.emplace(kMiddle);
    first.reset();                                  // ends while `second` is the innermost
    CHECK(warden::try_current_owner() == nullptr);  // what was current when `first` began
    REQUIRE(out_of_order_ends.size() == 1);
    CHECK(out_of_order_ends[0].first == &kOuter);
    CHECK(out_of_order_ends[0].second == &kMiddle);

    second.reset();
    CHECK(&warden::current_owner() == &kOuter);  // stale: current when `second` began
    REQUIRE(out_of_order_ends.size() == 2);
    CHECK(out_of_order_ends[1].first == &kMiddle);
    CHECK(out_of_order_ends[1].second == nullptr);
  }  // `base` finds the stale owner, is reported too, and cleans the thread
  REQUIRE(out_of_order_ends.size() == 3);
  CHECK(out_of_order_ends[2].first == nullptr);
  CHECK(out_of_order_ends[2].second == &kOuter);
  CHECK(warden::try_current_owner() == nullptr);

  // Scopes ending innermost first are never reported, also when unwinding.
  try {
    const warden::owner_scope outer{kOuter};
    call_through_middle();
  } catch (const std::runtime_error&) {
  }
  CHECK(out_of_order_ends.size() == 3);
  warden::set_scope_order_handler(nullptr);
}

TEST_CASE("without checks the same out-of-order ends restore the same owners, unreported") {
  out_of_order_ends.clear();
  warden::set_scope_order_handler(&record_out_of_order);
  const scope_checks_off::out_of_order_result seen = scope_checks_off::end_scopes_out_of_order();
  warden::set_scope_order_handler(nullptr);
  CHECK(seen.after_first == nullptr);
  CHECK(seen.after_second != nullptr);  // the stale owner of the scope that ended first
  CHECK(seen.after_second == seen.first_entered);
  CHECK(warden::try_current_owner() == nullptr);
  CHECK(out_of_order_ends.empty());
}

TEST_CASE("an empty token makes a block explicitly unowned") {
  const warden::owner_scope outer{kOuter};
  {
    const warden::owner_scope unowned{warden::owner_token{}};
    CHECK(warden::try_current_owner() == nullptr);
    CHECK(&warden::current_owner() == &warden::unowned);
  }
  CHECK(&warden::current_owner() == &kOuter);
}

namespace {

struct recorded_change {
  bool enter;
  const warden::owner* changed;
  const warden::owner* other;
};

class recording_observer final : public warden::owner_observer {
 public:
  void on_enter(const warden::owner* entered, const warden::owner* previous) noexcept override {
    changes.push_back({true, entered, previous});
  }
  void on_exit(const warden::owner* left, const warden::owner* restored) noexcept override {
    changes.push_back({false, left, restored});
  }
  std::vector<recorded_change> changes;
};

}  // namespace

TEST_CASE("an installed observer sees every enter and exit, including by unwinding") {
  recording_observer observer;
  warden::set_owner_observer(&observer);
  try {
    const warden::owner_scope outer{kOuter};
    call_through_middle();
  } catch (const std::runtime_error&) {
  }
  warden::set_owner_observer(nullptr);
  { const warden::owner_scope unobserved{kOuter}; }
  REQUIRE(observer.changes.size() == 6);
  const warden::owner* expected_enter[][2] = {
      {&kOuter, nullptr}, {&kMiddle, &kOuter}, {&kInner, &kMiddle}};
  for (int i = 0; i < 3; ++i) {
    CHECK(observer.changes[static_cast<std::size_t>(i)].enter);
    CHECK(observer.changes[static_cast<std::size_t>(i)].changed == expected_enter[i][0]);
    CHECK(observer.changes[static_cast<std::size_t>(i)].other == expected_enter[i][1]);
  }
  const warden::owner* expected_exit[][2] = {
      {&kInner, &kMiddle}, {&kMiddle, &kOuter}, {&kOuter, nullptr}};
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(observer.changes[static_cast<std::size_t>(i + 3)].enter);
    CHECK(observer.changes[static_cast<std::size_t>(i + 3)].changed == expected_exit[i][0]);
    CHECK(observer.changes[static_cast<std::size_t>(i + 3)].other == expected_exit[i][1]);
  }
}

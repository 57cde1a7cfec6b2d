// Carrying owners across threads: tokens, bind_owner, and the thread-pool adaptor.
// Runs under ThreadSanitizer in the test command. Built with the scope-order check
// whatever the build type: the pool's scope reports an owner a task left behind.
#define WARDEN_OWNERSHIP_CHECKS 1

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>

#include "../../examples/ownership/thread_pool.hpp"

namespace {

constexpr warden::owner kSearch{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "search"}, "search", "backend"};
constexpr warden::owner kOrders{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "orders"}, "orders", "backend"};

}  // namespace

TEST_CASE("a captured token restores the owner on another thread") {
  warden::owner_token token;
  {
    const warden::owner_scope scope{kSearch};
    token = warden::capture_owner();
  }
  CHECK(token);
  CHECK(token.get() == &kSearch);
  const warden::owner* seen = nullptr;
  const warden::owner* before = &kOrders;
  std::thread worker([&] {
    before = warden::try_current_owner();
    const warden::owner_scope scope{token};
    seen = warden::try_current_owner();
  });
  worker.join();
  CHECK(before == nullptr);  // a new thread starts unowned
  CHECK(seen == &kSearch);
  CHECK_FALSE(warden::capture_owner());
}

TEST_CASE("bind_owner runs the callable as the capturing owner, with arguments and results") {
  auto bound = [] {
    const warden::owner_scope scope{kOrders};
    return warden::bind_owner(
        [](int a, int b) { return std::make_pair(a + b, &warden::current_owner()); });
  }();
  CHECK(bound.token().get() == &kOrders);
  const auto result = std::async(std::launch::async, bound, 2, 3).get();
  CHECK(result.first == 5);
  CHECK(result.second == &kOrders);

  const auto const_bound = bound;
  CHECK(const_bound(1, 1).second == &kOrders);
  CHECK(warden::try_current_owner() == nullptr);  // the caller's owner is untouched
}

TEST_CASE("bound callables are SFINAE-friendly and callable as rvalues") {
  auto bound = warden::bind_owner([](int value) { return value * 2; });
  static_assert(std::is_invocable_v<decltype(bound)&, int>);
  static_assert(!std::is_invocable_v<decltype(bound)&, const char*>);
  static_assert(!std::is_invocable_v<decltype(bound)&>);
  CHECK(std::move(bound)(21) == 42);
}

TEST_CASE("move-only callables can be bound") {
  auto value = std::make_unique<int>(7);
  auto bound = [&] {
    const warden::owner_scope scope{kSearch};
    return warden::bind_owner([v = std::move(value)] {
      return *v + (warden::current_owner().team() == "search" ? 1 : 0);
    });
  }();
  CHECK(bound() == 8);
}

TEST_CASE("the thread-pool adaptor carries owners and uncaptured tasks run unowned") {
  example::thread_pool pool{2};
  example::owner_propagating_pool<example::thread_pool> owned_pool{pool};

  std::mutex mutex;
  std::vector<std::string> seen;
  const auto record = [&](const std::string& label) {
    const std::lock_guard<std::mutex> lock{mutex};
    seen.push_back(label + "=" + std::string{warden::current_owner().team()});
  };
  std::promise<void> done;
  std::atomic<int> remaining{40};
  const auto finish = [&] {
    if (--remaining == 0) done.set_value();
  };

  for (int i = 0; i < 10; ++i) {
    {
      const warden::owner_scope scope{kSearch};
      owned_pool.post([&] {
        record("search");
        finish();
      });
    }
    {
      const warden::owner_scope scope{kOrders};
      owned_pool.post([&] {
        record("orders");
        finish();
      });
      // Posted straight to the pool: no capture, so no owner, even right after an owned task.
      pool.post([&] {
        record("raw");
        finish();
      });
    }
    pool.post([&] {
      record("raw");
      finish();
    });
  }
  done.get_future().wait();

  const std::lock_guard<std::mutex> lock{mutex};
  REQUIRE(seen.size() == 40);
  int search = 0;
  int orders = 0;
  int raw = 0;
  for (const std::string& entry : seen) {
    if (entry == "search=search") ++search;
    if (entry == "orders=orders") ++orders;
    if (entry == "raw=unowned") ++raw;
  }
  CHECK(search == 10);
  CHECK(orders == 10);
  CHECK(raw == 20);
}

namespace {

std::atomic<int> left_behind_reports{0};
std::atomic<const warden::owner*> left_behind_owner{nullptr};

void record_left_behind(const warden::owner* ending, const warden::owner* current) noexcept {
  if (ending == nullptr) left_behind_owner = current;  // the pool's unowned scope
  ++left_behind_reports;
}

}  // namespace

TEST_CASE("a raw task after one that left its owner on the pooled thread still runs unowned") {
  left_behind_reports = 0;
  warden::set_scope_order_handler(&record_left_behind);
  std::promise<const warden::owner*> seen_by_next_task;
  {
    example::thread_pool pool{1};  // one worker: both tasks run on the same thread
    pool.post([] {
      // A task that leaves an owner installed when it returns, as one that ended its
      // scopes out of order would: here it writes the thread's slot directly.
      warden::detail::current_owner_slot = &kSearch;
    });
    pool.post([&] { seen_by_next_task.set_value(warden::try_current_owner()); });
  }
  warden::set_scope_order_handler(nullptr);
  // Fails if the pool does not run each task in its own unowned scope.
  CHECK(seen_by_next_task.get_future().get() == nullptr);
  // The pool's scope found the owner left behind when the leaking task returned.
  CHECK(left_behind_reports.load() == 1);
  CHECK(left_behind_owner.load() == &kSearch);
}

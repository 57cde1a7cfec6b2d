// Event ids: version-4 UUIDs, well formed, distinct across calls and threads.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "event_id.hpp"

using warden::sdk::detail::new_event_id;

TEST_CASE("ids are version 4, variant 10, in both text forms") {
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_event_id();
    const std::string hex = id.to_hex();
    REQUIRE(hex.size() == 32);
    CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(hex[12] == '4');
    CHECK(std::string{"89ab"}.find(hex[16]) != std::string::npos);
    const std::string dashed = id.to_dashed();
    REQUIRE(dashed.size() == 36);
    CHECK(dashed[8] == '-');
    CHECK(dashed[13] == '-');
    CHECK(dashed[18] == '-');
    CHECK(dashed[23] == '-');
    CHECK(dashed.substr(0, 8) == hex.substr(0, 8));
    CHECK_FALSE(id.empty());
  }
  CHECK(warden::sdk::detail::event_id{}.empty());
}

TEST_CASE("ids do not repeat, within a thread or across threads") {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 20'000; ++i) ids.push_back(new_event_id().to_hex());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  CHECK(all.size() == 80'000);
}

// Many threads at once: scopes stay per-thread, the registry and coverage can be read
// while sites are first registered and marked, observers see consistent pairs.
#include <atomic>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>
#include <warden/ownership/coverage.hpp>

WARDEN_MODULE_OWNER("concurrency", "backend");

namespace {

constexpr int kThreads = 8;
constexpr int kIterations = 20'000;

constexpr warden::owner kTeams[] = {
    {warden::owner_kind::endpoint, {__FILE__, __LINE__, "a"}, "team-a", "backend"},
    {warden::owner_kind::endpoint, {__FILE__, __LINE__, "b"}, "team-b", "backend"},
    {warden::owner_kind::endpoint, {__FILE__, __LINE__, "c"}, "team-c", "backend"},
    {warden::owner_kind::endpoint, {__FILE__, __LINE__, "d"}, "team-d", "backend"},
};

int hot_endpoint(int value) {
  WARDEN_ENDPOINT("hot endpoint", warden::team("hot"));
  return value + 1;
}

class counting_observer final : public warden::owner_observer {
 public:
  void on_enter(const warden::owner*, const warden::owner*) noexcept override { ++enters; }
  void on_exit(const warden::owner*, const warden::owner*) noexcept override { ++exits; }
  std::atomic<long> enters{0};
  std::atomic<long> exits{0};
};

}  // namespace

TEST_CASE("each thread sees only its own scopes") {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &wrong] {
      const warden::owner& mine = kTeams[t % 4];
      const warden::owner& nested = kTeams[(t + 1) % 4];
      for (int i = 0; i < kIterations; ++i) {
        const warden::owner_scope scope{mine};
        if (&warden::current_owner() != &mine) ++wrong;
        {
          const warden::owner_scope inner{nested};
          if (&warden::current_owner() != &nested) ++wrong;
        }
        if (&warden::current_owner() != &mine) ++wrong;
      }
      if (warden::try_current_owner() != nullptr) ++wrong;
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
}

TEST_CASE("coverage can be collected while threads run and mark sites") {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::atomic<long> sum{0};
  std::atomic<int> running{0};
  for (int t = 0; t < kThreads / 2; ++t) {
    threads.emplace_back([&] {
      long local = hot_endpoint(1);
      ++running;
      while (!stop.load()) local += hot_endpoint(1);
      sum += local;
    });
  }
  // Collect while the workers are marking sites; they may start late on a loaded machine.
  while (running.load() == 0) std::this_thread::yield();
  bool seen_ran = false;
  for (int i = 0; i < 50 || !seen_ran; ++i) {
    const warden::coverage_report report = warden::collect_coverage();
    for (const auto& site : report.sites) {
      if (site.site.name == "hot endpoint" && site.ran) seen_ran = true;
    }
    std::this_thread::yield();
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  CHECK(sum.load() > 0);
  const warden::coverage_report report = warden::collect_coverage();
  bool ran = false;
  for (const auto& site : report.sites) {
    if (site.site.name == "hot endpoint") ran = site.ran;
  }
  CHECK(ran);
}

TEST_CASE("an observer sees balanced enters and exits from every thread") {
  static counting_observer observer;
  warden::set_owner_observer(&observer);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 1000; ++i) {
        const warden::owner_scope scope{kTeams[t % 4]};
        const warden::owner_scope unowned{warden::owner_token{}};
      }
    });
  }
  for (auto& thread : threads) thread.join();
  warden::set_owner_observer(nullptr);
  CHECK(observer.enters.load() == kThreads * 2000L);
  CHECK(observer.exits.load() == kThreads * 2000L);
}

TEST_CASE("an observer may be installed and removed while threads run scopes") {
  static counting_observer observer;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads / 2; ++t) {
    threads.emplace_back([t, &stop] {
      while (!stop.load()) {
        const warden::owner_scope scope{kTeams[t % 4]};
      }
    });
  }
  for (int round = 0; round < 20; ++round) {
    warden::set_owner_observer(&observer);
    std::this_thread::yield();
    warden::set_owner_observer(nullptr);
  }
  warden::set_owner_observer(&observer);
  while (observer.exits.load() == 0) std::this_thread::yield();
  stop = true;
  for (auto& thread : threads) thread.join();
  warden::set_owner_observer(nullptr);
  CHECK(observer.exits.load() > 0);
}

TEST_CASE("bound tasks keep their owner when many threads run them at once") {
  std::vector<warden::owner_bound<int (*)()>> tasks;
  for (int i = 0; i < 4; ++i) {
    const warden::owner_scope scope{kTeams[i]};
    tasks.push_back(warden::bind_owner(
        +[] { return static_cast<int>(warden::current_owner().site().name[0] - 'a'); }));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIterations / 10; ++i) {
        for (int k = 0; k < 4; ++k) {
          if (tasks[static_cast<std::size_t>(k)]() != k) ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
}

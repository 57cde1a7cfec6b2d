// The ownership hot paths against their budgets (docs/BENCHMARKS.md), with a naive
// vector-stack implementation side by side. Every benchmark reports allocs_per_iter, the
// heap allocations made inside its timed loop.
#include <benchmark/benchmark.h>

#include <vector>

#include <warden/ownership.hpp>

#include "allocation_counter.hpp"
#include "shared_library_scope.hpp"

WARDEN_MODULE_OWNER("bench", "backend", "ownership");

namespace {

constexpr warden::owner kOwner{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "bench"}, "bench", "backend"};

[[gnu::noinline]] int work(int value) {
  benchmark::DoNotOptimize(value);
  return value + 1;
}

void BM_bare_call(benchmark::State& state) {
  int value = 0;
  state.SetLabel("baseline");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) value = work(value);
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_bare_call);

void BM_owner_scope_around_call(benchmark::State& state) {
  int value = 0;
  state.SetLabel("budget: <= bare + 1 ns");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) {
    const warden::owner_scope scope{kOwner};
    value = work(value);
  }
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_owner_scope_around_call);

void BM_endpoint_macro_around_call(benchmark::State& state) {
  int value = 0;
  state.SetLabel("budget: <= bare + 1 ns (scope + ran flag)");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) {
    WARDEN_ENDPOINT("bench endpoint", warden::team("bench-endpoint"));
    value = work(value);
  }
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_endpoint_macro_around_call);

void BM_nested_scopes_around_call(benchmark::State& state) {
  int value = 0;
  state.SetLabel("two levels; informational");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) {
    WARDEN_OWNED();
    WARDEN_ENDPOINT("bench nested endpoint");
    value = work(value);
  }
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_nested_scopes_around_call);

class noop_observer final : public warden::owner_observer {
 public:
  void on_enter(const warden::owner* entered, const warden::owner*) noexcept override {
    benchmark::DoNotOptimize(entered);
  }
  void on_exit(const warden::owner* left, const warden::owner*) noexcept override {
    benchmark::DoNotOptimize(left);
  }
};

void BM_owner_scope_with_observer_installed(benchmark::State& state) {
  static noop_observer observer;
  warden::set_owner_observer(&observer);
  int value = 0;
  state.SetLabel("informational: two virtual calls");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) {
    const warden::owner_scope scope{kOwner};
    value = work(value);
  }
  warden::set_owner_observer(nullptr);
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_owner_scope_with_observer_installed);

void BM_try_current_owner(benchmark::State& state) {
  const warden::owner_scope scope{kOwner};
  state.SetLabel("budget: <= 0.5 ns");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) benchmark::DoNotOptimize(warden::try_current_owner());
}
BENCHMARK(BM_try_current_owner);

void BM_current_owner_with_fallback(benchmark::State& state) {
  state.SetLabel("budget: <= 0.5 ns (no scope: reads the fallback)");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) benchmark::DoNotOptimize(&warden::current_owner());
}
BENCHMARK(BM_current_owner_with_fallback);

void BM_capture_and_restore_around_call(benchmark::State& state) {
  const warden::owner_scope poster{kOwner};
  int value = 0;
  state.SetLabel("budget: <= bare + 2 ns");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) {
    const warden::owner_token token = warden::capture_owner();
    benchmark::DoNotOptimize(token);
    const warden::owner_scope restored{token};
    value = work(value);
  }
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_capture_and_restore_around_call);

void BM_bound_task_call(benchmark::State& state) {
  const auto task = [] {
    const warden::owner_scope poster{kOwner};
    return warden::bind_owner([](int value) { return work(value); });
  }();
  int value = 0;
  state.SetLabel("budget: <= bare + 2 ns");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) value = task(value);
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_bound_task_call);

// Peer: a thread-local vector used as an owner stack, a common first implementation.
thread_local std::vector<const warden::owner*> vector_stack;

void BM_peer_vector_stack_around_call(benchmark::State& state) {
  vector_stack.reserve(64);
  int value = 0;
  state.SetLabel("peer: thread_local std::vector stack");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) {
    vector_stack.push_back(&kOwner);
    value = work(value);
    vector_stack.pop_back();
  }
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_peer_vector_stack_around_call);

void BM_shared_library_bare_call(benchmark::State& state) {
  int value = 0;
  state.SetLabel("baseline in a shared library");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) value = warden_bench_library_bare_call_ie(value);
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_shared_library_bare_call);

void BM_shared_library_scope_initial_exec(benchmark::State& state) {
  int value = 0;
  state.SetLabel("budget: <= library bare + 1.5 ns");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) value = warden_bench_library_scoped_call_ie(value);
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_shared_library_scope_initial_exec);

void BM_shared_library_scope_global_dynamic(benchmark::State& state) {
  int value = 0;
  state.SetLabel("informational: default TLS model");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) value = warden_bench_library_scoped_call_gd(value);
  benchmark::DoNotOptimize(value);
}
BENCHMARK(BM_shared_library_scope_global_dynamic);

void BM_shared_library_read_initial_exec(benchmark::State& state) {
  const warden::owner_scope scope{kOwner};
  state.SetLabel("informational: includes the call into the library");
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) benchmark::DoNotOptimize(warden_bench_library_read_owner_ie());
}
BENCHMARK(BM_shared_library_read_initial_exec);

}  // namespace

BENCHMARK_MAIN();

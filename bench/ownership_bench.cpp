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

// Times `value = call(value)`, labelled with its budget, counting allocations.
template <typename Call>
void time_calls(benchmark::State& state, const char* label, Call call) {
  int value = 0;
  state.SetLabel(label);
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) value = call(value);
  benchmark::DoNotOptimize(value);
}

// Times reading a value with `read()` while `scope_owner` (or nothing) is current.
template <typename Read>
void time_reads(benchmark::State& state, const char* label, const warden::owner* scope_owner,
                Read read) {
  const warden::owner_scope scope{warden::owner_token{scope_owner}};
  state.SetLabel(label);
  const warden_bench::allocation_report allocations{state};
  for (auto _ : state) benchmark::DoNotOptimize(read());
}

void BM_bare_call(benchmark::State& state) { time_calls(state, "baseline", work); }
BENCHMARK(BM_bare_call);

void BM_owner_scope_around_call(benchmark::State& state) {
  time_calls(state, "budget: <= bare + 1 ns", [](int value) {
    const warden::owner_scope scope{kOwner};
    return work(value);
  });
}
BENCHMARK(BM_owner_scope_around_call);

void BM_endpoint_macro_around_call(benchmark::State& state) {
  time_calls(state, "budget: <= bare + 1 ns (scope + ran flag)", [](int value) {
    WARDEN_ENDPOINT("bench endpoint", warden::team("bench-endpoint"));
    return work(value);
  });
}
BENCHMARK(BM_endpoint_macro_around_call);

void BM_nested_scopes_around_call(benchmark::State& state) {
  time_calls(state, "two levels; informational", [](int value) {
    WARDEN_OWNED();
    WARDEN_ENDPOINT("bench nested endpoint");
    return work(value);
  });
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
  time_calls(state, "informational: two virtual calls", [](int value) {
    const warden::owner_scope scope{kOwner};
    return work(value);
  });
  warden::set_owner_observer(nullptr);
}
BENCHMARK(BM_owner_scope_with_observer_installed);

void BM_try_current_owner(benchmark::State& state) {
  time_reads(state, "budget: <= 0.5 ns", &kOwner, [] { return warden::try_current_owner(); });
}
BENCHMARK(BM_try_current_owner);

void BM_current_owner_with_fallback(benchmark::State& state) {
  time_reads(state, "budget: <= 0.5 ns (no scope: reads the fallback)", nullptr,
             [] { return &warden::current_owner(); });
}
BENCHMARK(BM_current_owner_with_fallback);

void BM_capture_and_restore_around_call(benchmark::State& state) {
  const warden::owner_scope poster{kOwner};
  time_calls(state, "budget: <= bare + 2 ns", [](int value) {
    const warden::owner_token token = warden::capture_owner();
    benchmark::DoNotOptimize(token);
    const warden::owner_scope restored{token};
    return work(value);
  });
}
BENCHMARK(BM_capture_and_restore_around_call);

void BM_bound_task_call(benchmark::State& state) {
  const auto task = [] {
    const warden::owner_scope poster{kOwner};
    return warden::bind_owner([](int value) { return work(value); });
  }();
  time_calls(state, "budget: <= bare + 2 ns", task);
}
BENCHMARK(BM_bound_task_call);

// Peer: a thread-local vector used as an owner stack, a common first implementation.
thread_local std::vector<const warden::owner*> vector_stack;

void BM_peer_vector_stack_around_call(benchmark::State& state) {
  vector_stack.reserve(64);
  time_calls(state, "peer: thread_local std::vector stack", [](int value) {
    vector_stack.push_back(&kOwner);
    value = work(value);
    vector_stack.pop_back();
    return value;
  });
}
BENCHMARK(BM_peer_vector_stack_around_call);

void BM_shared_library_bare_call(benchmark::State& state) {
  time_calls(state, "baseline in a shared library", warden_bench_library_bare_call_ie);
}
BENCHMARK(BM_shared_library_bare_call);

void BM_shared_library_scope_initial_exec(benchmark::State& state) {
  time_calls(state, "budget: <= library bare + 1.5 ns", warden_bench_library_scoped_call_ie);
}
BENCHMARK(BM_shared_library_scope_initial_exec);

void BM_shared_library_scope_global_dynamic(benchmark::State& state) {
  time_calls(state, "informational: default TLS model", warden_bench_library_scoped_call_gd);
}
BENCHMARK(BM_shared_library_scope_global_dynamic);

void BM_shared_library_read_initial_exec(benchmark::State& state) {
  time_reads(state, "informational: includes the call into the library", &kOwner,
             warden_bench_library_read_owner_ie);
}
BENCHMARK(BM_shared_library_read_initial_exec);

}  // namespace

BENCHMARK_MAIN();

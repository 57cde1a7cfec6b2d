// The cost of throw-site ownership per throw: built once plain and once with the
// __cxa_throw hook linked (WARDEN_BENCH_HOOKED); compare the two binaries' figures.
#include <benchmark/benchmark.h>

#include <stdexcept>

#include <warden/ownership.hpp>

WARDEN_MODULE_OWNER("bench", "backend", "exceptions");

namespace {

#ifdef WARDEN_BENCH_HOOKED
constexpr const char* kVariant = "hook linked";
#else
constexpr const char* kVariant = "no hook";
#endif

[[gnu::noinline]] void throw_plain(int depth) {
  WARDEN_OWNED();
  if (depth > 0) {
    throw_plain(depth - 1);
  } else if (depth == 0) {
    throw std::runtime_error("plain");
  }
}

[[gnu::noinline]] void throw_owned(int depth) {
  WARDEN_OWNED();
  if (depth > 0) {
    throw_owned(depth - 1);
  } else if (depth == 0) {
    throw warden::owned<std::runtime_error>("owned");
  }
}

void BM_throw_catch_plain(benchmark::State& state) {
  for (auto _ : state) {
    try {
      throw_plain(3);
    } catch (const std::exception& e) {
      benchmark::DoNotOptimize(&e);
    }
  }
  state.SetLabel(kVariant);
}
BENCHMARK(BM_throw_catch_plain);

void BM_throw_catch_owned_exception(benchmark::State& state) {
  for (auto _ : state) {
    try {
      throw_owned(3);
    } catch (const std::exception& e) {
      benchmark::DoNotOptimize(&e);
    }
  }
  state.SetLabel(kVariant);
}
BENCHMARK(BM_throw_catch_owned_exception);

void BM_throw_catch_and_find_thrower(benchmark::State& state) {
  for (auto _ : state) {
    try {
      throw_plain(3);
    } catch (const std::exception&) {
      benchmark::DoNotOptimize(warden::current_exception_owner());
    }
  }
  state.SetLabel(kVariant);
}
BENCHMARK(BM_throw_catch_and_find_thrower);

void BM_thrown_owner_lookup(benchmark::State& state) {
  std::exception_ptr failure;
  try {
    throw_plain(0);
  } catch (...) {
    failure = std::current_exception();
  }
  for (auto _ : state) benchmark::DoNotOptimize(warden::thrown_owner(failure));
  state.SetLabel(kVariant);
}
BENCHMARK(BM_thrown_owner_lookup);

}  // namespace

BENCHMARK_MAIN();

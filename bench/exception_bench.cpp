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

// Throws `Exception` from `depth` owned frames below.
template <typename Exception>
[[gnu::noinline]] void throw_from(int depth) {
  WARDEN_OWNED();
  if (depth > 0) {
    throw_from<Exception>(depth - 1);
  } else if (depth == 0) {
    throw Exception("failed");
  }
}

// Times throwing `Exception` through four frames and catching it; `inspect` runs in
// the handler.
template <typename Exception, typename Inspect>
void time_throw_catch(benchmark::State& state, Inspect inspect) {
  state.SetLabel(kVariant);
  for (auto _ : state) {
    try {
      throw_from<Exception>(3);
    } catch (const std::exception& e) {
      inspect(e);
    }
  }
}

void BM_throw_catch_plain(benchmark::State& state) {
  time_throw_catch<std::runtime_error>(
      state, [](const std::exception& e) { benchmark::DoNotOptimize(&e); });
}
BENCHMARK(BM_throw_catch_plain);

void BM_throw_catch_owned_exception(benchmark::State& state) {
  time_throw_catch<warden::owned<std::runtime_error>>(
      state, [](const std::exception& e) { benchmark::DoNotOptimize(&e); });
}
BENCHMARK(BM_throw_catch_owned_exception);

void BM_throw_catch_and_find_thrower(benchmark::State& state) {
  time_throw_catch<std::runtime_error>(state, [](const std::exception&) {
    benchmark::DoNotOptimize(warden::current_exception_owner());
  });
}
BENCHMARK(BM_throw_catch_and_find_thrower);

void BM_thrown_owner_lookup(benchmark::State& state) {
  std::exception_ptr failure;
  try {
    throw_from<std::runtime_error>(0);
  } catch (...) {
    failure = std::current_exception();
  }
  for (auto _ : state) benchmark::DoNotOptimize(warden::thrown_owner(failure));
  state.SetLabel(kVariant);
}
BENCHMARK(BM_thrown_owner_lookup);

}  // namespace

BENCHMARK_MAIN();

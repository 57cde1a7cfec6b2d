// Counts heap allocations made inside a benchmark's timed loop and reports them as the
// counter allocs_per_iter (the budget for every ownership hot path is 0).
#pragma once

#include <cstdint>

#include <benchmark/benchmark.h>

namespace warden_bench {

/// Allocations made by this process so far (every global operator new).
std::int64_t allocations_so_far() noexcept;

/// Declare before the timed loop; when it ends, sets allocs_per_iter on `state`.
class allocation_report final {
 public:
  explicit allocation_report(benchmark::State& state) noexcept
      : state_(state), before_(allocations_so_far()) {}
  allocation_report(const allocation_report&) = delete;
  allocation_report& operator=(const allocation_report&) = delete;
  ~allocation_report() {
    const auto made = static_cast<double>(allocations_so_far() - before_);
    state_.counters["allocs_per_iter"] =
        benchmark::Counter(made / static_cast<double>(state_.iterations()));
  }

 private:
  benchmark::State& state_;
  std::int64_t before_;
};

}  // namespace warden_bench

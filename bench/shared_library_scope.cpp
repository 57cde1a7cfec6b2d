// Scope code living in a shared library, built once per TLS model (see CMakeLists.txt):
// the hot path as a plug-in or a library of a monolith would run it.
#include "shared_library_scope.hpp"

#include <benchmark/benchmark.h>

#include <warden/ownership.hpp>

namespace {

constexpr warden::owner kLibraryOwner{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "library"}, "library", "backend"};

[[gnu::noinline]] int library_work(int value) {
  benchmark::DoNotOptimize(value);
  return value + 1;
}

}  // namespace

#define WARDEN_BENCH_NAME(name) WARDEN_DETAIL_CONCAT(name, WARDEN_BENCH_SUFFIX)

extern "C" int WARDEN_BENCH_NAME(warden_bench_library_bare_call)(int value) {
  return library_work(value);
}

extern "C" int WARDEN_BENCH_NAME(warden_bench_library_scoped_call)(int value) {
  const warden::owner_scope scope{kLibraryOwner};
  return library_work(value);
}

extern "C" const void* WARDEN_BENCH_NAME(warden_bench_library_read_owner)() {
  return warden::try_current_owner();
}

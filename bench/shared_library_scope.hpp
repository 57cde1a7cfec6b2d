// Entry points of the two benchmark libraries: _ie uses the initial-exec TLS model,
// _gd the compiler's default (global-dynamic) model for shared libraries. Only the
// functions the benchmarks call are declared.
#pragma once

extern "C" {
int warden_bench_library_bare_call_ie(int value);
int warden_bench_library_scoped_call_ie(int value);
const void* warden_bench_library_read_owner_ie();
int warden_bench_library_scoped_call_gd(int value);
}

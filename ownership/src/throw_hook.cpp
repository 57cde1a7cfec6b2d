// The __cxa_throw wrapper behind warden::throw_hook (see throw_hook.hpp).
#include "warden/ownership/throw_hook.hpp"

#include <dlfcn.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>

namespace warden::detail {
namespace {

// One record per slot, guarded by a sequence lock: odd while a thread writes it. The
// fields are stored with release and loaded with acquire instead of using fences, so a
// reader that sees any new field also sees the odd sequence that preceded it (and
// ThreadSanitizer, which does not model fences, can check it).
struct throw_record {
  std::atomic<std::uint32_t> sequence{0};
  std::atomic<const void*> object{nullptr};
  std::atomic<const owner*> thrower{nullptr};
};

constexpr std::size_t kSlotCount = 1024;
std::array<throw_record, kSlotCount> throw_records;

throw_record& slot_for(const void* object) noexcept {
  // Exception objects are 16-byte aligned heap blocks: mix the address before masking.
  auto bits = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(object));
  bits ^= bits >> 29;
  bits *= 0xbf58476d1ce4e5b9ULL;
  bits ^= bits >> 32;
  return throw_records[bits & (kSlotCount - 1)];
}

void record_throw(const void* object, const owner* thrower) noexcept {
  throw_record& record = slot_for(object);
  std::uint32_t sequence = record.sequence.load(std::memory_order_relaxed);
  // Another thread is writing this slot right now: give the slot to it. The record is
  // lost only for this exception and only if it also lacks an owned_exception base.
  if ((sequence & 1U) != 0 ||
      !record.sequence.compare_exchange_strong(sequence, sequence + 1, std::memory_order_relaxed)) {
    return;
  }
  record.object.store(object, std::memory_order_release);
  record.thrower.store(thrower, std::memory_order_release);
  record.sequence.store(sequence + 2, std::memory_order_release);
}

// Drops the record of `object`, if any: called when an exception object is allocated, so
// an object made at a recycled address (std::make_exception_ptr) inherits nothing.
void forget_throw(const void* object) noexcept {
  throw_record& record = slot_for(object);
  if (record.object.load(std::memory_order_acquire) != object) return;
  std::uint32_t sequence = record.sequence.load(std::memory_order_relaxed);
  if ((sequence & 1U) != 0 ||
      !record.sequence.compare_exchange_strong(sequence, sequence + 1, std::memory_order_relaxed)) {
    return;
  }
  if (record.object.load(std::memory_order_relaxed) == object) {
    record.object.store(nullptr, std::memory_order_release);
    record.thrower.store(nullptr, std::memory_order_release);
  }
  record.sequence.store(sequence + 2, std::memory_order_release);
}

bool find_throw(const void* object, const owner** thrower) noexcept {
  const throw_record& record = slot_for(object);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint32_t before = record.sequence.load(std::memory_order_acquire);
    if ((before & 1U) != 0) continue;
    const void* recorded_object = record.object.load(std::memory_order_acquire);
    const owner* recorded_thrower = record.thrower.load(std::memory_order_acquire);
    if (record.sequence.load(std::memory_order_relaxed) != before) continue;
    if (recorded_object != object) return false;
    *thrower = recorded_thrower;
    return true;
  }
  return false;
}

// The C++ runtime's definition of `name`, the one this file's definition hides.
template <typename Function>
Function next_definition(const char* name) noexcept {
  void* symbol = dlsym(RTLD_NEXT, name);
  Function function = nullptr;
  static_assert(sizeof symbol == sizeof function);
  std::memcpy(&function, &symbol, sizeof function);
  return function;
}

using cxa_throw_function = void (*)(void*, std::type_info*, void (*)(void*));
using cxa_allocate_exception_function = void* (*)(std::size_t) noexcept;

std::atomic<cxa_throw_function> runtime_throw{nullptr};
std::atomic<cxa_allocate_exception_function> runtime_allocate_exception{nullptr};

// The runtime's definition of `name`, looked up once and cached in `slot`. No guarded
// static: holding a guard while dlsym() waits for the loader lock deadlocks against a
// thread whose dlopen() runs a constructor that throws. Two threads may both look it
// up; they store the same pointer.
template <typename Function>
Function cached_definition(std::atomic<Function>& slot, const char* name) noexcept {
  Function function = slot.load(std::memory_order_acquire);
  if (function == nullptr) {
    function = next_definition<Function>(name);
    slot.store(function, std::memory_order_release);
  }
  return function;
}

// At start-up: publishes the look-up (unless a library loaded earlier already did, so
// one table serves the process) and resolves the runtime's functions early.
[[maybe_unused]] const bool kHookReady = [] {
  throw_record_lookup expected = nullptr;
  throw_site_lookup.compare_exchange_strong(expected, &find_throw, std::memory_order_acq_rel);
  cached_definition(runtime_throw, "__cxa_throw");
  cached_definition(runtime_allocate_exception, "__cxa_allocate_exception");
  return true;
}();

}  // namespace
}  // namespace warden::detail

// Interposes the C++ runtime's __cxa_throw for the whole program (the executable's
// definition wins over libstdc++'s). The name is fixed by the Itanium C++ ABI. The
// forward is a tail call (GCC makes it from -O2 on for this non-[[noreturn]]
// definition; clang is told to), so this frame is gone before unwinding starts, which
// would otherwise walk it twice per throw.
extern "C" void __cxa_throw(void* object, std::type_info* type, void (*destructor)(void*)) {
  const auto forward =
      warden::detail::cached_definition(warden::detail::runtime_throw, "__cxa_throw");
  const warden::owner* thrower = warden::try_current_owner();
  warden::detail::record_throw(object, thrower);
  if (const auto listener = warden::detail::active_throw_listener.load(std::memory_order_acquire)) {
    listener(warden::throw_event{object, type, thrower, __builtin_return_address(0)});
  }
  if (forward == nullptr) std::terminate();
#if defined(__clang__)
  [[clang::musttail]] return forward(object, type, destructor);
#else
  forward(object, type, destructor);
#endif
}

// Interposes the allocation of exception objects to forget any record left at the
// address being handed out.
extern "C" void* __cxa_allocate_exception(std::size_t size) noexcept {
  const auto forward = warden::detail::cached_definition(warden::detail::runtime_allocate_exception,
                                                         "__cxa_allocate_exception");
  if (forward == nullptr) std::terminate();
  void* object = forward(size);
  warden::detail::forget_throw(object);
  return object;
}

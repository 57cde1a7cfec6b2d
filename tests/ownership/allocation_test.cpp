// The hot paths allocate nothing: scopes, macros, reads, capture/restore and bound calls.
// Counts every global operator new on this thread; built without sanitizers.
#include <cstdlib>
#include <new>

#include <doctest/doctest.h>
#include <warden/ownership.hpp>

namespace {
thread_local long allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc{};
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

WARDEN_MODULE_OWNER("allocations", "backend");

namespace {

int owned_call(int value) {
  WARDEN_OWNED();
  return value * 2;
}

int endpoint_call(int value) {
  WARDEN_ENDPOINT("POST /alloc", warden::team("other"));
  return value + static_cast<int>(warden::current_owner().team().size());
}

}  // namespace

TEST_CASE("the allocation counter works") {
  const long before = allocations;
  int* volatile allocated = new int(1);
  delete allocated;
  CHECK(allocations == before + 1);
}

TEST_CASE("scopes, reads, capture, restore and bound calls allocate nothing") {
  owned_call(1);  // first runs register their sites before main; nothing lazy remains
  endpoint_call(1);
  const long before = allocations;
  long sum = 0;
  for (int i = 0; i < 1000; ++i) {
    sum += owned_call(i);
    sum += endpoint_call(i);
    sum += static_cast<long>(warden::current_owner().team().size());
    sum += warden::try_current_owner() == nullptr ? 1 : 0;
    warden::owner_token token;
    {
      WARDEN_OWNED();
      token = warden::capture_owner();
    }
    const warden::owner_scope restored{token};
    auto bound = warden::bind_owner([i] { return i; });
    sum += bound();
  }
  CHECK(allocations == before);
  CHECK(sum > 0);
}

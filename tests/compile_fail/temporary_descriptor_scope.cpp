// Entering a temporary descriptor would leave a dangling pointer. Must not compile.
#include <warden/ownership.hpp>

void enter_temporary() {
  const warden::owner_scope scope{
      warden::owner{warden::owner_kind::endpoint, {__FILE__, __LINE__, "t"}, "team", "backend"}};
}

// A temporary fallback owner would dangle. Must not compile.
#include <warden/ownership.hpp>

void set_temporary_fallback() {
  warden::set_fallback_owner(
      warden::owner{warden::owner_kind::fallback, {__FILE__, __LINE__, "f"}, "team", "infra"});
}

// Built with WARDEN_OWNERSHIP_ENABLED=1 into the otherwise disabled test program: the
// two modes use different symbols, so each file keeps its own, consistent behaviour.
#include "mixed_mode.hpp"

#include <warden/ownership.hpp>

static_assert(WARDEN_OWNERSHIP_ENABLED == 1, "this file must be built with ownership enabled");

WARDEN_MODULE_OWNER("mixed", "backend");

std::string enabled_file_team() {
  volatile char guard_before = 42;
  WARDEN_OWNED();
  volatile char guard_after = 42;
  std::string team{warden::current_owner().team()};
  return guard_before == 42 && guard_after == 42 ? team : "stack corrupted";
}

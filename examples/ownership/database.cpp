// The shared database layer: no owner of its own, it runs as whoever calls it, and a
// probe reports calls that arrive with no owner at all.
#include <warden/ownership.hpp>

#include "modules.hpp"

namespace example {

void run_query(const std::string& sql) {
  WARDEN_EXPECT_OWNED();
  report_event("query: " + sql);
}

}  // namespace example

// search: owned by the search team's backend.
#include <warden/ownership.hpp>

#include "modules.hpp"

WARDEN_MODULE_OWNER("search", "backend");

namespace example {

void search_products(const std::string& query) {
  WARDEN_OWNED();
  run_query("SELECT * FROM products WHERE name LIKE '%" + query + "%'");
  report_event("searched for \"" + query + "\"");
}

void reindex() {
  WARDEN_ENDPOINT("reindex job", warden::function("data"));
  run_query("REINDEX products");
  report_event("index rebuilt");
}

}  // namespace example

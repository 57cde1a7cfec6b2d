// The example monolith's modules, each owned by a different team (see each .cpp file).
#pragma once

#include <string>

#include "thread_pool.hpp"

namespace example {

/// Prints one line naming the owner of the code running now: what an error tracker,
/// a logger or a metrics library would attach to an event.
void report_event(const std::string& what);

/// storefront (frontend): the HTTP-facing endpoints.
void handle_checkout(owner_propagating_pool<thread_pool>& pool, int cart_total);
void handle_search(const std::string& query);
void handle_admin_export();

/// payments (backend): charges and refunds. Throws when the card is declined.
void charge(int amount);
void refund(int amount);

/// search (backend): the index, rebuilt in the background.
void search_products(const std::string& query);
void reindex();

/// A database layer shared by every module; it expects an owner to be active.
void run_query(const std::string& sql);

}  // namespace example

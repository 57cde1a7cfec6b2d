// The scope functions: global scope and breadcrumbs live in the running client; the
// thread's scope in a thread-local snapshot that captures copy by pointer.
#include "warden/sdk/scope.hpp"
#include "client.hpp"

namespace warden {
namespace {

// Replaces this thread's scope with a changed copy; snapshots already taken keep theirs.
void change_thread_scope(const std::function<void(scope&)>& configure) {
  std::shared_ptr<const scope>& slot = sdk::detail::thread_scope_slot();
  auto changed = slot ? std::make_shared<scope>(*slot) : std::make_shared<scope>();
  configure(*changed);
  slot = std::move(changed);
}

}  // namespace

void configure_scope(const std::function<void(scope&)>& configure) {
  if (const auto running = sdk::detail::active_client()) running->configure_scope(configure);
}

void configure_thread_scope(const std::function<void(scope&)>& configure) {
  change_thread_scope(configure);
}

void add_breadcrumb(breadcrumb crumb) {
  if (const auto running = sdk::detail::active_client()) running->add_breadcrumb(std::move(crumb));
}

scoped_override::scoped_override(const std::function<void(scope&)>& configure)
    : previous_(sdk::detail::thread_scope_slot()) {
  change_thread_scope(configure);
}

scoped_override::~scoped_override() { sdk::detail::thread_scope_slot() = std::move(previous_); }

}  // namespace warden

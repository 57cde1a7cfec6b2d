// Data added to every event: tags, extras, contexts, user, level and fingerprint, at
// three levels (global, this thread, one block), plus the breadcrumb ring.
//
// Scopes are layered: an event gets the global scope, then this thread's scope on top
// (its values win), then its own fields. A scoped_override changes this thread's scope
// for one block and restores it when the block ends.
//
// Example:
//
//   warden::configure_scope([](warden::scope& scope) { scope.set_tag("region", "eu-1"); });
//   warden::add_breadcrumb({.category = "db", .message = "SELECT orders"});  // C++20
//   {
//     warden::scoped_override request{[&](warden::scope& scope) {
//       scope.set_tag("order", order_id);
//       scope.set_user(warden::user_info{customer_id});
//     }};
//     process(order_id);  // events captured here carry "order" and the user
//   }
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "warden/sdk/event.hpp"

namespace warden {

/// Values merged into events captured while this scope applies. A plain value type.
class scope {
 public:
  /// Adds or replaces a tag (indexed and searchable in the sink).
  void set_tag(std::string key, std::string value) { tags_[std::move(key)] = std::move(value); }
  /// Removes a tag set earlier on this scope; a tag of another scope layer stays.
  void remove_tag(const std::string& key) { tags_.erase(key); }
  /// Adds or replaces an extra (additional data, not indexed).
  void set_extra(std::string key, std::string value) { extra_[std::move(key)] = std::move(value); }
  /// Sets a named context such as "request" or "order", replacing one of that name.
  void set_context(std::string name, std::map<std::string, std::string> fields) {
    contexts_[std::move(name)] = std::move(fields);
  }
  /// Sets the user events affect; nullopt removes it.
  void set_user(std::optional<user_info> user) { user_ = std::move(user); }
  /// Forces this level on events (Sentry's scope level); nullopt keeps each event's.
  void set_level(std::optional<warden::level> value) { level_ = value; }
  /// Replaces grouping for events that set no fingerprint of their own.
  void set_fingerprint(std::vector<std::string> parts) { fingerprint_ = std::move(parts); }
  /// Names the operation (e.g. "POST /orders") events belong to.
  void set_transaction(std::string name) { transaction_ = std::move(name); }
  /// Forgets everything.
  void clear() { *this = scope{}; }

  const std::map<std::string, std::string>& tags() const noexcept { return tags_; }
  const std::map<std::string, std::string>& extra() const noexcept { return extra_; }
  const std::map<std::string, std::map<std::string, std::string>>& contexts() const noexcept {
    return contexts_;
  }
  const std::optional<user_info>& user() const noexcept { return user_; }
  const std::optional<warden::level>& level() const noexcept { return level_; }
  const std::vector<std::string>& fingerprint() const noexcept { return fingerprint_; }
  const std::string& transaction() const noexcept { return transaction_; }

 private:
  std::map<std::string, std::string> tags_;
  std::map<std::string, std::string> extra_;
  std::map<std::string, std::map<std::string, std::string>> contexts_;
  std::optional<user_info> user_;
  std::optional<warden::level> level_;
  std::vector<std::string> fingerprint_;
  std::string transaction_;
};

/// Changes the global scope, shared by all threads. `configure` runs under a lock, so it
/// must not capture events. A no-op when the SDK is not initialized.
void configure_scope(const std::function<void(scope&)>& configure);

/// Changes this thread's scope, which applies on top of the global one.
void configure_thread_scope(const std::function<void(scope&)>& configure);

/// Records a breadcrumb in the global ring (bounded by options::max_breadcrumbs; the
/// oldest is forgotten). Sent with the events captured after it, on any thread.
void add_breadcrumb(breadcrumb crumb);

/// Overrides this thread's scope for one block: the thread's scope changed by
/// `configure` applies to events captured until the override ends, then the previous
/// scope is back (also what configure_thread_scope() changed meanwhile). Must end on the
/// thread that made it; may nest.
class [[nodiscard]] scoped_override final {
 public:
  explicit scoped_override(const std::function<void(scope&)>& configure);
  ~scoped_override();
  scoped_override(const scoped_override&) = delete;
  scoped_override& operator=(const scoped_override&) = delete;

 private:
  std::shared_ptr<const scope> previous_;
};

}  // namespace warden

// Who owns an event: the team (and function and product) it is routed and counted
// under, and which it shares issues with. The SDK knows best (the owner scope that
// threw or captured), so its tags win; otherwise the sink's ownership rules
// (warden::rules, the same format as ownership/) are matched against the stack, the
// request URL and the transaction; otherwise the sink's fallback owner takes it.
//
// Example:
//
//   auto parsed = warden::ownership_rules::parse("symbol:checkout:: team=payments\n");
//   warden::rule_owner fallback{"platform", "backend", ""};
//   event_owner owner = resolve_owner(event, *parsed.rules, fallback);
//   if (owner.source == owner_source::fallback) ++unowned_events;
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "warden/ownership/rules.hpp"

namespace warden::sink {

/// Where an event's owner came from, kept so that unowned events can be counted.
enum class owner_source {
  sdk,       ///< The event's own team/function/product tags.
  rules,     ///< An ownership rule matched a frame, the URL or the transaction.
  fallback,  ///< Nobody claimed the event: the SDK's fallback owner, or the sink's.
};

/// The owner of one event, part of its group key.
struct event_owner {
  std::string team;      ///< Never empty unless the fallback's team is.
  std::string function;  ///< e.g. "backend"; empty when the source did not name one.
  std::string product;   ///< e.g. "checkout"; empty when the source did not name one.
  owner_source source = owner_source::fallback;  ///< Where the owner came from.
};

/// The source's name as stored and shown by the API: "sdk", "rules", "fallback".
std::string_view owner_source_name(owner_source source) noexcept;

/// The owner of `event` (a parsed Sentry event), first found of:
/// 1. its `team`, `function` and `product` tags, when `team` is not empty;
/// 2. the first match of `rules` on its frames, innermost first (in-app frames only,
///    unless none is in app), matched as path (abs_path, else filename), symbol
///    (function) and module (module, else package); then on `request.url` (url:), then
///    on `transaction` (name:);
/// 3. `fallback`.
/// Tags that Warden's SDK marks as its own fallback (`contexts.ownership.source` is
/// "fallback": no owner scope was active) rank after the rules instead and replace the
/// sink's fallback, with source `fallback`: the event is still unowned. Pure; safe to
/// call from many threads with the same rules.
event_owner resolve_owner(const rapidjson::Value& event, const warden::ownership_rules& rules,
                          const warden::rule_owner& fallback);

}  // namespace warden::sink

// Alert rules compiled once from the config and evaluated for every stored event, with
// Sentry's issue alert semantics: a rule fires when its conditions (triggers: a new
// issue, a regression, an unmute, "seen more than N times / by more than N users in an
// interval") combine to true under `conditions_match`, and its filters (attributes of
// the event and issue) under `filters_match`. Muted and resolved issues never fire.
// Pure and allocation-free when nothing fires: the store calls it on its writer thread.
//
//   absl::StatusOr<rule_set> rules = rule_set::compile(config.alerting.alert_rules);
//   if (!rules.ok()) return rules.status();  // e.g. a bad RE2 pattern, naming the rule
//   rule_facts facts;
//   facts.environment = "production";
//   facts.level = event_level::error;
//   facts.first_seen = true;
//   std::vector<std::size_t> fired;  // reused from event to event
//   rules->evaluate(facts, fired);
//   for (std::size_t index : fired) act_on(rules->rules()[index]);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/alerting_config.hpp"

namespace warden::sink {

/// How many events (and distinct users) an issue had recently, as the store counts
/// them; asked only when a rule with a frequency condition still could fire, at most
/// once per interval per evaluation.
class window_counts {
 public:
  virtual ~window_counts() = default;
  /// The issue's events received within the last `interval`, this event included.
  [[nodiscard]] virtual std::int64_t events_within(std::chrono::milliseconds interval) const = 0;
  /// The distinct users of those events.
  [[nodiscard]] virtual std::int64_t users_within(std::chrono::milliseconds interval) const = 0;
};

/// One stored event and its issue: what conditions and filters look at. Views into the
/// caller's data, valid for the evaluate() call.
struct rule_facts {
  std::string_view team;  ///< The owner; empty: not set (is_set / not_set filters).
  std::string_view function;
  std::string_view product;
  std::string_view environment;
  std::string_view release;
  event_level level = event_level::error;
  /// The event's tags, first occurrence of a key wins; null: no tags.
  const std::vector<std::pair<std::string, std::string>>* tags = nullptr;
  bool first_seen = false;  ///< This event created the issue.
  bool regressed = false;   ///< ... moved it from resolved back to unresolved.
  bool unmuted = false;     ///< ... ended its mute (Sentry's "unignored / escalating").
  bool issue_open = true;   ///< False when muted or resolved: nothing fires (Sentry).
  std::chrono::milliseconds issue_age{0};  ///< Since the issue was first seen.
  /// The issue's recent counts; null: frequency conditions are false.
  const window_counts* windows = nullptr;
};

/// The alert rules of the config, compiled to cheap compares (RE2 only for `matches`).
/// Immutable after compile(); evaluate() may be called from any thread concurrently.
/// Movable, not copyable. A default-constructed set has no rules.
class rule_set final {
 public:
  /// Checks and compiles `rules`. Errors name the rule: a bad RE2 pattern (with RE2's
  /// message), an operator that does not apply to the attribute, a wrong number of
  /// values, an empty tag key, a frequency condition without an interval.
  [[nodiscard]] static absl::StatusOr<rule_set> compile(std::vector<alert_rule_config> rules);

  rule_set() noexcept;
  rule_set(rule_set&&) noexcept;
  rule_set& operator=(rule_set&&) noexcept;
  rule_set(const rule_set&) = delete;
  rule_set& operator=(const rule_set&) = delete;
  ~rule_set();

  /// Replaces `fired` with the indices (into rules()) of the rules whose conditions and
  /// filters hold for `facts`, in config order. Allocates only to grow `fired`; rules
  /// whose triggers cannot hold for this event are not looked at.
  void evaluate(const rule_facts& facts, std::vector<std::size_t>& fired) const;

  /// The rules as configured, in config order.
  [[nodiscard]] const std::vector<alert_rule_config>& rules() const noexcept;
  /// Whether some rule counts events in a window (the store must keep windows).
  [[nodiscard]] bool uses_windows() const noexcept;
  /// Whether some rule counts distinct users in a window.
  [[nodiscard]] bool uses_users() const noexcept;
  /// The longest interval of any frequency condition (zero without one): how much
  /// history the store must keep.
  [[nodiscard]] std::chrono::milliseconds longest_window() const noexcept;

 private:
  struct compiled;
  explicit rule_set(std::unique_ptr<const compiled> compiled_rules) noexcept;

  std::unique_ptr<const compiled> compiled_;
};

}  // namespace warden::sink

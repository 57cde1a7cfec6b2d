// The notification routing tree (Alertmanager's `route:`), compiled once from the config
// and asked, for every notification (an alert rule fired for an issue), which route nodes
// take it: which receiver, in which group, on which timers. Alertmanager's semantics: a
// node matches when all its matchers do (a missing label is the empty string); its
// children are tried in order and the first that matches takes the notification, unless
// it has `continue: true`, in which case its later siblings are tried too; a node none of
// whose children match takes the notification itself; the root matches everything.
// Options left unset (receiver, group_by, group_wait, group_interval, repeat_interval)
// are the parent's.
//
//   absl::StatusOr<route_tree> tree = route_tree::compile(*config.alerting.route);
//   if (!tree.ok()) return tree.status();  // e.g. a bad RE2 pattern, naming its line
//   notification_labels labels;
//   labels.set("issue", "42");
//   labels.set("team", "payments");
//   labels.set("environment", "production");
//   std::vector<route_match> matches;  // reused from notification to notification
//   tree->match(labels, matches);
//   for (const route_match& match : matches) add_to_group(match.group_key, match);
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/alerting_config.hpp"

namespace warden::sink {

/// The labels of one notification (an alert rule fired for an issue), which matchers and
/// group_by look at: "issue", the kNotificationLabels and "tags.<key>" entries. Small and
/// searched linearly; an empty value is the same as a missing label.
struct notification_labels {
  /// (label, value) pairs in no particular order; the first entry of a label counts.
  std::vector<std::pair<std::string, std::string>> entries;

  /// The value of `label`; empty when it is missing.
  [[nodiscard]] std::string_view find(std::string_view label) const noexcept;
  /// Sets `label` to `value`, replacing its entry or adding one. Reuses the strings'
  /// storage, so that a labels object refilled for every notification stops allocating.
  void set(std::string_view label, std::string_view value);
};

/// The timing options of a route node, resolved (inherited from the parent when unset):
/// what the flush policy (notify_policy.hpp) needs of a group.
struct route_timers {
  std::chrono::milliseconds group_wait{0};       ///< A new group waits this long.
  std::chrono::milliseconds group_interval{0};   ///< Then sends at most this often.
  std::chrono::milliseconds repeat_interval{0};  ///< Re-sends open issues; kNever: never.
};

/// Where one notification goes: one per route node that takes it. Carries the node's
/// resolved timers (as its route_timers base, so decide_flush takes it directly).
struct route_match : route_timers {
  std::string receiver;  ///< The node's receiver, inherited when unset.
  /// Identifies the node, stable while the config keeps the node's path of matchers:
  /// Alertmanager's route key, the path of matcher sets from the root, e.g.
  /// `{}/{environment=~"production|prod",severity="critical"}` (each set sorted by
  /// label, value, operator). Unique in a tree: a node whose key an earlier node (in
  /// depth-first order) already has gets "/<its index among its siblings>" appended,
  /// as Alertmanager's route ID does.
  std::string route_key;
  /// Alertmanager's group key: `<route_key>:{label="value", ...}` over the node's
  /// group_by labels that the notification has (sorted by label; values quoted as Go's
  /// %q), all of them when group_by is ["..."].
  std::string group_key;
  /// The labels of group_key, sorted by label.
  std::vector<std::pair<std::string, std::string>> group_labels;
};

/// The routing tree of the config, compiled: RE2 patterns compiled once (anchored at
/// both ends), labels looked up once per match. Immutable after compile(); match() may
/// be called from any thread concurrently. Movable, not copyable.
class route_tree final {
 public:
  /// Checks and compiles the tree rooted at `root`. Errors name the route's line: a bad
  /// RE2 pattern (with RE2's message), matchers on the root, a root without a receiver,
  /// "..." next to other labels in group_by, a negative group_wait, a group_interval or
  /// repeat_interval that is not positive. Root defaults: group_by [issue], group_wait
  /// 30s, group_interval 5m, repeat_interval kNever.
  [[nodiscard]] static absl::StatusOr<route_tree> compile(const route_config& root);

  route_tree(route_tree&&) noexcept;
  route_tree& operator=(route_tree&&) noexcept;
  route_tree(const route_tree&) = delete;
  route_tree& operator=(const route_tree&) = delete;
  ~route_tree();

  /// Replaces `out` with the nodes that take a notification labelled `labels`, in
  /// depth-first order (at least one: the root takes what nothing else does). Reuses
  /// the storage of `out`'s elements: a vector kept from call to call stops allocating.
  void match(const notification_labels& labels, std::vector<route_match>& out) const;

  /// Whether a matcher or a group_by of the tree names `label` (group_by ["..."] names
  /// every label). When it does not, notifications that differ only in that label route
  /// alike: the rules that fire for one event (labels "rule" and "reason") need one
  /// match() between them.
  [[nodiscard]] bool reads_label(std::string_view label) const noexcept;

 private:
  struct compiled;
  explicit route_tree(std::unique_ptr<const compiled> compiled_tree) noexcept;

  std::unique_ptr<const compiled> compiled_;
};

}  // namespace warden::sink

// When a notification group sends, and what: Alertmanager's flush decision (its
// aggregation group timers and notification log dedup) adapted to issues. Pure: the
// dispatcher passes the group's state from the database, the counts of its items and
// the clock, and records what it did; tests pass a fake clock.
//
// - A new group waits group_wait from its creation before its first flush; later
//   flushes come at most every group_interval after the previous one.
// - Unsent firing items are sent (send_firing).
// - Else, once all the group's issues are resolved, a group whose last message had
//   firing items sends the resolution if the receiver wants it (send_resolved). Issues
//   that fire and resolve before the first flush send nothing: nobody heard of them.
// - Else, with issues still open, the last firing message is repeated repeat_interval
//   after it was sent (kNever: never).
// Unlike Alertmanager, some issues resolving while others stay open sends nothing.
//
//   const flush_decision decision =
//       decide_flush(group, pending, match, now_ms, receiver.send_resolved);
//   if (decision.action == flush_action::send_firing) send(...);  // then, having sent:
//   group.last_flush_ms = group.last_sent_ms = now_ms;
//   group.last_sent_had_firing = decision.action != flush_action::send_resolved;
//   schedule(decision.next_flush_ms);  // unset: wait for new items
//
// When items arrive, the same call says when the group is due: `wait` with the time,
// or a send that is due now.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "alerting/route_tree.hpp"

namespace warden::sink {

/// What the dispatcher remembers of a group between flushes (times in ms since the epoch).
struct group_state {
  std::optional<std::int64_t> last_flush_ms;  ///< Last flush that sent; unset: none yet.
  std::optional<std::int64_t> last_sent_ms;   ///< Last message sent; repeats count from it.
  bool last_sent_had_firing = false;  ///< That message announced firing issues (not only resolved).
  std::int64_t created_ms = 0;        ///< The group's first item; group_wait counts from it.
};

/// The group's items and issues now.
struct pending_items {
  std::size_t firing_unsent = 0;    ///< Items of open issues not announced yet.
  std::size_t resolved_unsent = 0;  ///< Resolutions not announced yet (issues resolved since).
  std::size_t firing_open = 0;      ///< The group's issues still unresolved, announced or not.
};

/// What to do with a group now.
enum class flush_action {
  wait,           ///< Something is due at next_flush_ms, not yet.
  send_firing,    ///< Send the unsent firing items (with any resolutions).
  send_resolved,  ///< Send that every issue of the group is resolved.
  repeat,         ///< Send the open issues again.
  nothing         ///< Nothing is or becomes due until new items arrive.
};

/// The action and when the group is next due (having done the action, without new
/// items); unset: only new items make it due.
struct flush_decision {
  flush_action action = flush_action::nothing;
  std::optional<std::int64_t> next_flush_ms;
};

/// Decides what group `group` with `pending` items does at `now_ms`, on the resolved
/// `timers` of its route; `send_resolved` is the receiver's option.
[[nodiscard]] flush_decision decide_flush(const group_state& group, const pending_items& pending,
                                          const route_timers& timers, std::int64_t now_ms,
                                          bool send_resolved) noexcept;

}  // namespace warden::sink

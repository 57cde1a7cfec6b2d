// The flush decision: which send the group's items call for, then whether its time has
// come. Times saturate instead of overflowing (repeat_interval may be kNever, a
// config's durations may be huge).
#include "alerting/notify_policy.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

namespace warden::sink {
namespace {

constexpr std::int64_t kLatest = std::numeric_limits<std::int64_t>::max();

std::int64_t plus(std::int64_t at_ms, std::chrono::milliseconds delay) noexcept {
  const std::int64_t delay_ms = std::max<std::int64_t>(delay.count(), 0);
  return at_ms > kLatest - delay_ms ? kLatest : at_ms + delay_ms;
}

// When the group, having sent at `now_ms` with issues still open, is due again without
// new items: at the repeat, never before the next group_interval.
std::optional<std::int64_t> next_repeat(const route_timers& timers, std::int64_t now_ms) noexcept {
  if (timers.repeat_interval == kNever) return std::nullopt;
  return std::max(plus(now_ms, timers.repeat_interval), plus(now_ms, timers.group_interval));
}

}  // namespace

flush_decision decide_flush(const group_state& group, const pending_items& pending,
                            const route_timers& timers, std::int64_t now_ms,
                            bool send_resolved) noexcept {
  const std::int64_t due_ms = group.last_flush_ms.has_value()
                                  ? plus(*group.last_flush_ms, timers.group_interval)
                                  : plus(group.created_ms, timers.group_wait);
  // `action` if its time `at_ms` has come, else a wait for it.
  auto when_due = [now_ms](flush_action action, std::int64_t at_ms,
                           std::optional<std::int64_t> next_ms) {
    return now_ms >= at_ms ? flush_decision{action, next_ms}
                           : flush_decision{flush_action::wait, at_ms};
  };
  if (pending.firing_unsent > 0) {
    return when_due(flush_action::send_firing, due_ms,
                    pending.firing_open > 0 ? next_repeat(timers, now_ms) : std::nullopt);
  }
  if (pending.firing_open == 0) {
    if (send_resolved && group.last_sent_had_firing && pending.resolved_unsent > 0) {
      return when_due(flush_action::send_resolved, due_ms, std::nullopt);
    }
    return {flush_action::nothing, std::nullopt};
  }
  if (!group.last_sent_had_firing || !group.last_sent_ms.has_value() ||
      timers.repeat_interval == kNever) {
    return {flush_action::nothing, std::nullopt};
  }
  const std::int64_t repeat_ms =
      std::max(due_ms, plus(*group.last_sent_ms, timers.repeat_interval));
  return when_due(flush_action::repeat, repeat_ms, next_repeat(timers, now_ms));
}

}  // namespace warden::sink

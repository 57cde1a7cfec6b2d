// Builders of alert rule parts, for the tests and benchmarks that make rules in code
// rather than from YAML: a condition or a filter in one call.
//
//   rule.conditions = {trigger(condition_kind::first_seen), seen_more_than(10, 1h)};
//   rule.filters = {string_filter(attribute::environment, op::in, {"production"}),
//                   level_filter(op::at_least, event_level::error)};
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "server/alerting_config.hpp"

namespace warden::testing {

/// A state condition: first_seen, regressed or unmuted.
inline sink::rule_condition trigger(sink::rule_condition::kind what) {
  sink::rule_condition condition;
  condition.what = what;
  return condition;
}

/// More than `threshold` events within `interval`.
inline sink::rule_condition seen_more_than(std::int64_t threshold,
                                           std::chrono::milliseconds interval) {
  return {sink::rule_condition::kind::seen_more_than, threshold, interval};
}

/// More than `threshold` distinct users within `interval`.
inline sink::rule_condition users_more_than(std::int64_t threshold,
                                            std::chrono::milliseconds interval) {
  return {sink::rule_condition::kind::users_more_than, threshold, interval};
}

/// A filter on a string attribute (team, environment, ...).
inline sink::rule_filter string_filter(sink::rule_filter::attribute what, sink::rule_filter::op how,
                                       std::vector<std::string> values) {
  sink::rule_filter filter;
  filter.what = what;
  filter.how = how;
  filter.values = std::move(values);
  return filter;
}

/// A filter on the tag `key`.
inline sink::rule_filter tag_filter(std::string key, sink::rule_filter::op how,
                                    std::vector<std::string> values) {
  sink::rule_filter filter =
      string_filter(sink::rule_filter::attribute::tag, how, std::move(values));
  filter.tag = std::move(key);
  return filter;
}

/// A filter on the level (eq, at_least, at_most).
inline sink::rule_filter level_filter(sink::rule_filter::op how, sink::event_level level) {
  sink::rule_filter filter;
  filter.what = sink::rule_filter::attribute::level;
  filter.how = how;
  filter.level = level;
  return filter;
}

/// A filter on the issue's age (older_than, newer_than).
inline sink::rule_filter age_filter(sink::rule_filter::op how, std::chrono::milliseconds age) {
  sink::rule_filter filter;
  filter.what = sink::rule_filter::attribute::issue_age;
  filter.how = how;
  filter.age = age;
  return filter;
}

}  // namespace warden::testing

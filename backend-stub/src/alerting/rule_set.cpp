// Alert rules compiled to flat arrays of filters and conditions, with the rules that can
// fire listed per combination of state triggers: a plain event of an existing issue
// looks only at rules with frequency conditions or `none` conditions. Filters are
// checked before conditions (both must hold, so the order changes nothing but the
// cost), cheap ones first, and state conditions before frequency ones, so windows are
// read only for rules that could still fire, each interval once per event. The values
// that eq/ne/in/not_in compare team, function, product, environment and release with
// are numbered at compile time; an evaluation looks each attribute up once, when first
// needed, and compares numbers.
#include "alerting/rule_set.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "fmt/format.h"
#include "re2/re2.h"

namespace warden::sink {
namespace {

using attribute = rule_filter::attribute;
using filter_op = rule_filter::op;
using condition_kind = rule_condition::kind;

// Bits of the state triggers; an event has any combination of them.
constexpr unsigned kFirstSeenBit = 1;
constexpr unsigned kRegressedBit = 2;
constexpr unsigned kUnmutedBit = 4;
constexpr std::size_t kTriggerCombinations = 8;

// Windows whose values are remembered during one evaluation; a config with more
// distinct intervals than this (unheard of) reads the rest each time they are needed.
constexpr std::size_t kCachedWindows = 32;

// The attributes whose compared values are numbered: team to release, the first five.
constexpr std::size_t kNumberedAttributes = 5;
static_assert(static_cast<std::size_t>(attribute::release) == kNumberedAttributes - 1 &&
                  static_cast<std::size_t>(attribute::team) == 0,
              "team, function, product, environment, release come first");

// The number of every value an attribute is compared with, keyed by views of the
// compiled filters' strings (which never move once compiled).
using value_numbers = std::unordered_map<std::string_view, std::uint32_t>;
using attribute_values = std::array<value_numbers, kNumberedAttributes>;

// An attribute's value that no filter compares with, and one not looked up yet.
constexpr std::uint32_t kUnknownValue = UINT32_MAX;
constexpr std::uint32_t kNotLookedUp = UINT32_MAX - 1;

// A filter as configured, with its RE2 compiled: what string operators run on, and what
// the numbering of values keeps views of.
struct compiled_filter {
  attribute what = attribute::team;
  filter_op how = filter_op::eq;
  std::string tag;
  std::vector<std::string> values;
  event_level level = event_level::error;
  std::chrono::milliseconds age{0};
  std::unique_ptr<const RE2> pattern;  // matches
};

// What a filter step compares; all but `text` are answered from the step alone.
enum class step_kind : std::uint8_t {
  level_eq,
  level_at_least,
  level_at_most,
  older_than,
  newer_than,
  number_eq,
  number_ne,
  number_in,
  number_not_in,
  text  // a string operator on a compiled_filter
};

// A filter in 16 bytes, for the evaluation loop; steps and compiled filters share indices.
struct filter_step {
  std::int64_t operand = 0;  // level, age in ms
  std::uint32_t number = 0;  // number_eq/ne: the value's; number_in/not_in: first in the pool
  std::uint16_t count = 0;   // number_in/not_in: how many numbers
  step_kind kind = step_kind::text;
  std::uint8_t attribute_index = 0;  // number_*: which numbered attribute
};
static_assert(sizeof(filter_step) == 16, "filter steps stay small");

// Whether a filter on `what` with `how` compares numbered values instead of strings.
bool compares_numbers(attribute what, filter_op how) {
  return static_cast<std::size_t>(what) < kNumberedAttributes &&
         (how == filter_op::eq || how == filter_op::ne || how == filter_op::in ||
          how == filter_op::not_in);
}

// Cheap filters first: enums and durations, numbers, string operations, tags (looked up
// in a list), RE2.
int filter_cost(const compiled_filter& filter) {
  if (filter.what == attribute::level || filter.what == attribute::issue_age) return 0;
  if (compares_numbers(filter.what, filter.how)) return 1;
  if (filter.how == filter_op::matches) return 4;
  if (filter.what == attribute::tag) return 3;
  return 2;
}

// A condition ready to run; frequency conditions refer to a window by its slot.
struct compiled_condition {
  condition_kind what = condition_kind::first_seen;
  std::int64_t threshold = 0;
  std::uint32_t window = 0;
};

// What counts are asked for: events or users within an interval.
struct window_key {
  bool users = false;
  std::chrono::milliseconds interval{0};
  bool operator==(const window_key& other) const {
    return users == other.users && interval == other.interval;
  }
};

// One rule: its ranges in the flat arrays.
struct rule_plan {
  std::uint32_t filters_begin = 0;
  std::uint32_t filters_end = 0;
  std::uint32_t conditions_begin = 0;
  std::uint32_t conditions_end = 0;
  match_mode filters_match = match_mode::all;
  match_mode conditions_match = match_mode::all;
};

bool is_state_trigger(condition_kind kind) {
  return kind == condition_kind::first_seen || kind == condition_kind::regressed ||
         kind == condition_kind::unmuted;
}

unsigned trigger_bit(condition_kind kind) {
  switch (kind) {
    case condition_kind::first_seen:
      return kFirstSeenBit;
    case condition_kind::regressed:
      return kRegressedBit;
    case condition_kind::unmuted:
      return kUnmutedBit;
    case condition_kind::seen_more_than:
    case condition_kind::users_more_than:
      break;
  }
  return 0;
}

// Whether conditions combined by `mode` can hold for an event with the state triggers
// in `triggers`, frequency conditions being unknown until the windows are read.
bool can_hold(const std::vector<rule_condition>& conditions, match_mode mode, unsigned triggers) {
  bool some_true = false;
  bool some_false = false;
  bool some_unknown = false;
  for (const rule_condition& condition : conditions) {
    if (!is_state_trigger(condition.what)) {
      some_unknown = true;
    } else if ((triggers & trigger_bit(condition.what)) != 0) {
      some_true = true;
    } else {
      some_false = true;
    }
  }
  switch (mode) {
    case match_mode::all:
      return !some_false;
    case match_mode::any:
      return some_true || some_unknown;
    case match_mode::none:
      return !some_true;
  }
  return false;
}

// Cheap conditions first: state triggers, then event counts, then user counts.
int condition_cost(condition_kind kind) {
  if (is_state_trigger(kind)) return 0;
  return kind == condition_kind::seen_more_than ? 1 : 2;
}

// Names as the config spells them, for messages.
std::string_view attribute_name(attribute what) {
  switch (what) {
    case attribute::team:
      return "team";
    case attribute::function:
      return "function";
    case attribute::product:
      return "product";
    case attribute::environment:
      return "environment";
    case attribute::release:
      return "release";
    case attribute::level:
      return "level";
    case attribute::tag:
      return "tag";
    case attribute::issue_age:
      return "issue_age";
  }
  return "attribute";
}

std::string_view op_name(filter_op how) {
  switch (how) {
    case filter_op::eq:
      return "eq";
    case filter_op::ne:
      return "ne";
    case filter_op::in:
      return "in";
    case filter_op::not_in:
      return "not_in";
    case filter_op::starts_with:
      return "starts_with";
    case filter_op::ends_with:
      return "ends_with";
    case filter_op::contains:
      return "contains";
    case filter_op::matches:
      return "matches";
    case filter_op::is_set:
      return "is_set";
    case filter_op::not_set:
      return "not_set";
    case filter_op::at_least:
      return "at_least";
    case filter_op::at_most:
      return "at_most";
    case filter_op::older_than:
      return "older_than";
    case filter_op::newer_than:
      return "newer_than";
  }
  return "operator";
}

// "alert rule 'prod-errors' (line 12)", the start of every error about a rule.
std::string rule_label(const alert_rule_config& rule) {
  if (rule.line > 0) return fmt::format("alert rule '{}' (line {})", rule.id, rule.line);
  return fmt::format("alert rule '{}'", rule.id);
}

// "team", or "tags.region".
std::string filter_label(const rule_filter& filter) {
  if (filter.what == attribute::tag) return fmt::format("tags.{}", filter.tag);
  return std::string{attribute_name(filter.what)};
}

// How many values a string operator takes; nullopt: not a string operator.
struct value_count {
  std::size_t min = 0;
  std::size_t max = 0;
};
std::optional<value_count> string_op_values(filter_op how) {
  switch (how) {
    case filter_op::eq:
    case filter_op::ne:
    case filter_op::starts_with:
    case filter_op::ends_with:
    case filter_op::contains:
    case filter_op::matches:
      return value_count{1, 1};
    case filter_op::in:
    case filter_op::not_in:
      return value_count{1, SIZE_MAX};
    case filter_op::is_set:
    case filter_op::not_set:
      return value_count{0, 0};
    case filter_op::at_least:
    case filter_op::at_most:
    case filter_op::older_than:
    case filter_op::newer_than:
      break;
  }
  return std::nullopt;
}

// Checks `filter` of `rule` (operator, values, tag key, RE2 pattern) and compiles it.
absl::StatusOr<compiled_filter> compile_filter(const alert_rule_config& rule,
                                               const rule_filter& filter) {
  auto error = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        fmt::format("{}: filter on {}: {}", rule_label(rule), filter_label(filter), what));
  };
  compiled_filter compiled;
  compiled.what = filter.what;
  compiled.how = filter.how;
  switch (filter.what) {
    case attribute::level:
      if (filter.how != filter_op::eq && filter.how != filter_op::at_least &&
          filter.how != filter_op::at_most) {
        return error(fmt::format("{} does not apply to levels (eq, at_least, at_most)",
                                 op_name(filter.how)));
      }
      compiled.level = filter.level;
      return compiled;
    case attribute::issue_age:
      if (filter.how != filter_op::older_than && filter.how != filter_op::newer_than) {
        return error(fmt::format("{} does not apply to issue_age (older_than, newer_than)",
                                 op_name(filter.how)));
      }
      if (filter.age.count() < 0) return error("the age must not be negative");
      compiled.age = filter.age;
      return compiled;
    case attribute::tag:
      if (filter.tag.empty()) return error("the tag's key is empty");
      compiled.tag = filter.tag;
      break;
    case attribute::team:
    case attribute::function:
    case attribute::product:
    case attribute::environment:
    case attribute::release:
      break;
  }
  const std::optional<value_count> count = string_op_values(filter.how);
  if (!count) {
    return error(fmt::format("{} does not apply to strings", op_name(filter.how)));
  }
  if (filter.values.size() < count->min || filter.values.size() > count->max) {
    const std::string_view takes = count->max == 0   ? "no values"
                                   : count->max == 1 ? "one value"
                                                     : "at least one value";
    return error(
        fmt::format("{} takes {}, not {}", op_name(filter.how), takes, filter.values.size()));
  }
  compiled.values = filter.values;
  if (filter.how == filter_op::matches) {
    RE2::Options options;
    options.set_log_errors(false);
    auto pattern = std::make_unique<const RE2>(filter.values.front(), options);
    if (!pattern->ok()) {
      return error(
          fmt::format("bad RE2 pattern '{}': {}", filter.values.front(), pattern->error()));
    }
    compiled.pattern = std::move(pattern);
  }
  return compiled;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_one_of(const std::vector<std::string>& values, std::string_view text) {
  return std::any_of(values.begin(), values.end(),
                     [text](const std::string& value) { return value == text; });
}

bool is_one_of(const std::uint32_t* numbers, std::size_t count, std::uint32_t number) {
  return std::find(numbers, numbers + count, number) != numbers + count;
}

std::string_view tag_value(const rule_facts& facts, std::string_view key) {
  if (facts.tags == nullptr) return {};
  for (const auto& [tag_key, value] : *facts.tags) {
    if (tag_key == key) return value;
  }
  return {};
}

std::string_view string_attribute(attribute what, const rule_facts& facts) {
  switch (what) {
    case attribute::team:
      return facts.team;
    case attribute::function:
      return facts.function;
    case attribute::product:
      return facts.product;
    case attribute::environment:
      return facts.environment;
    case attribute::release:
      return facts.release;
    case attribute::level:
    case attribute::tag:
    case attribute::issue_age:
      break;
  }
  return {};
}

bool string_filter_holds(const compiled_filter& filter, std::string_view text) {
  switch (filter.how) {
    case filter_op::eq:
      return text == filter.values.front();
    case filter_op::ne:
      return text != filter.values.front();
    case filter_op::in:
      return is_one_of(filter.values, text);
    case filter_op::not_in:
      return !is_one_of(filter.values, text);
    case filter_op::starts_with:
      return starts_with(text, filter.values.front());
    case filter_op::ends_with:
      return ends_with(text, filter.values.front());
    case filter_op::contains:
      return text.find(filter.values.front()) != std::string_view::npos;
    case filter_op::matches:
      return filter.pattern->Match(re2::StringPiece{text.data(), text.size()}, 0, text.size(),
                                   RE2::ANCHOR_BOTH, nullptr, 0);
    case filter_op::is_set:
      return !text.empty();
    case filter_op::not_set:
      return text.empty();
    case filter_op::at_least:
    case filter_op::at_most:
    case filter_op::older_than:
    case filter_op::newer_than:
      break;  // rejected by compile_filter
  }
  return false;
}

// Combines `holds(item)` over [begin, end) as Sentry's match functions do (Python's
// all/any/not any): all stops at the first false, any and none at the first true. An
// empty list is true for all and none. One call site, so that `holds` is inlined.
template <typename Item, typename Predicate>
bool combine(match_mode mode, const Item* begin, const Item* end, Predicate holds) {
  const bool decisive = mode != match_mode::all;
  for (; begin != end; ++begin) {
    if (holds(*begin) == decisive) return mode == match_mode::any;
  }
  return mode != match_mode::any;
}

// The windows read during one evaluation, each at most once.
class window_cache {
 public:
  window_cache(const window_counts* windows, const std::vector<window_key>& keys) noexcept
      : windows_(windows), keys_(keys) {}

  // Whether the count of window `slot` exceeds `threshold` (false without windows).
  bool exceeds(std::uint32_t slot, std::int64_t threshold) {
    if (windows_ == nullptr) return false;
    if (slot >= kCachedWindows) return read(keys_[slot]) > threshold;
    const std::uint64_t bit = std::uint64_t{1} << slot;
    if ((known_ & bit) == 0) {
      counts_[slot] = read(keys_[slot]);
      known_ |= bit;
    }
    return counts_[slot] > threshold;
  }

 private:
  std::int64_t read(const window_key& key) const {
    return key.users ? windows_->users_within(key.interval) : windows_->events_within(key.interval);
  }

  const window_counts* windows_;
  const std::vector<window_key>& keys_;
  std::uint64_t known_ = 0;
  std::array<std::int64_t, kCachedWindows> counts_{};
};

static_assert(kCachedWindows <= 64, "window_cache keeps one bit per window");

// The numbered values and the filter steps of a rule set.
struct filter_table {
  std::vector<compiled_filter> filters;
  std::vector<filter_step> steps;      // one per filter
  std::vector<std::uint32_t> numbers;  // of number_in/not_in steps
  attribute_values numbered;           // views of `filters`' values

  // Makes the steps once every filter is compiled; `filters` must not change after.
  void make_steps() {
    steps.clear();
    for (std::size_t index = 0; index < filters.size(); ++index) {
      steps.push_back(step_of(filters[index], index));
    }
  }

 private:
  filter_step step_of(const compiled_filter& filter, std::size_t index) {
    filter_step step;
    switch (filter.what) {
      case attribute::level:
        step.kind = filter.how == filter_op::at_least  ? step_kind::level_at_least
                    : filter.how == filter_op::at_most ? step_kind::level_at_most
                                                       : step_kind::level_eq;
        step.operand = static_cast<std::int64_t>(filter.level);
        return step;
      case attribute::issue_age:
        step.kind =
            filter.how == filter_op::older_than ? step_kind::older_than : step_kind::newer_than;
        step.operand = filter.age.count();
        return step;
      case attribute::team:
      case attribute::function:
      case attribute::product:
      case attribute::environment:
      case attribute::release:
      case attribute::tag:
        break;
    }
    step.operand = static_cast<std::int64_t>(index);
    if (!compares_numbers(filter.what, filter.how) || filter.values.size() > UINT16_MAX) {
      return step;  // text
    }
    step.attribute_index = static_cast<std::uint8_t>(filter.what);
    value_numbers& known = numbered[step.attribute_index];
    auto number_of = [&known](const std::string& value) {
      const auto next = static_cast<std::uint32_t>(known.size());
      return known.try_emplace(value, next).first->second;
    };
    switch (filter.how) {
      case filter_op::eq:
      case filter_op::ne:
        step.kind = filter.how == filter_op::eq ? step_kind::number_eq : step_kind::number_ne;
        step.number = number_of(filter.values.front());
        return step;
      default:  // in, not_in
        step.kind = filter.how == filter_op::in ? step_kind::number_in : step_kind::number_not_in;
        step.number = static_cast<std::uint32_t>(numbers.size());
        step.count = static_cast<std::uint16_t>(filter.values.size());
        for (const std::string& value : filter.values) numbers.push_back(number_of(value));
        return step;
    }
  }
};

// One event's evaluation: its facts, the numbers of its attributes' values and its
// windows, each looked up when first needed.
class evaluation {
 public:
  evaluation(const rule_facts& facts, const filter_table& table,
             const std::vector<window_key>& windows) noexcept
      : facts_(facts), table_(table), windows_(facts.windows, windows) {
    numbers_.fill(kNotLookedUp);
  }

  bool holds(const filter_step& step) {
    const auto level = static_cast<std::int64_t>(facts_.level);
    switch (step.kind) {
      case step_kind::level_eq:
        return level == step.operand;
      case step_kind::level_at_least:
        return level >= step.operand;
      case step_kind::level_at_most:
        return level <= step.operand;
      case step_kind::older_than:
        return facts_.issue_age.count() > step.operand;
      case step_kind::newer_than:
        return facts_.issue_age.count() < step.operand;
      case step_kind::number_eq:
        return number_of(step.attribute_index) == step.number;
      case step_kind::number_ne:
        return number_of(step.attribute_index) != step.number;
      case step_kind::number_in:
        return is_one_of(table_.numbers.data() + step.number, step.count,
                         number_of(step.attribute_index));
      case step_kind::number_not_in:
        return !is_one_of(table_.numbers.data() + step.number, step.count,
                          number_of(step.attribute_index));
      case step_kind::text:
        break;
    }
    const compiled_filter& filter = table_.filters[static_cast<std::size_t>(step.operand)];
    return string_filter_holds(filter, filter.what == attribute::tag
                                           ? tag_value(facts_, filter.tag)
                                           : string_attribute(filter.what, facts_));
  }

  bool holds(const compiled_condition& condition) {
    switch (condition.what) {
      case condition_kind::first_seen:
        return facts_.first_seen;
      case condition_kind::regressed:
        return facts_.regressed;
      case condition_kind::unmuted:
        return facts_.unmuted;
      case condition_kind::seen_more_than:
      case condition_kind::users_more_than:
        break;
    }
    return windows_.exceeds(condition.window, condition.threshold);
  }

 private:
  // The number of the event's value of the numbered attribute `index` (kUnknownValue:
  // no filter compares with that value).
  std::uint32_t number_of(std::size_t index) {
    if (numbers_[index] == kNotLookedUp) {
      const value_numbers& known = table_.numbered[index];
      const auto found = known.find(string_attribute(static_cast<attribute>(index), facts_));
      numbers_[index] = found == known.end() ? kUnknownValue : found->second;
    }
    return numbers_[index];
  }

  const rule_facts& facts_;
  const filter_table& table_;
  std::array<std::uint32_t, kNumberedAttributes> numbers_;
  window_cache windows_;
};

}  // namespace

struct rule_set::compiled {
  std::vector<alert_rule_config> rules;
  std::vector<rule_plan> plans;  // per rule
  filter_table filters;
  std::vector<compiled_condition> conditions;
  std::vector<window_key> windows;  // distinct windows, by slot
  // Per combination of state triggers, the rules that can fire, in config order.
  std::array<std::vector<std::uint32_t>, kTriggerCombinations> candidates;
  bool uses_windows = false;
  bool uses_users = false;
  std::chrono::milliseconds longest_window{0};

  // The slot of `key`, added when new.
  std::uint32_t window_slot(window_key key) {
    auto found = std::find(windows.begin(), windows.end(), key);
    if (found == windows.end()) found = windows.insert(windows.end(), key);
    return static_cast<std::uint32_t>(found - windows.begin());
  }
};

absl::StatusOr<rule_set> rule_set::compile(std::vector<alert_rule_config> rules) {
  auto result = std::make_unique<compiled>();
  for (std::size_t index = 0; index < rules.size(); ++index) {
    const alert_rule_config& rule = rules[index];
    rule_plan plan;
    plan.filters_match = rule.filters_match;
    plan.conditions_match = rule.conditions_match;

    std::vector<compiled_filter>& filters = result->filters.filters;
    plan.filters_begin = static_cast<std::uint32_t>(filters.size());
    for (const rule_filter& filter : rule.filters) {
      absl::StatusOr<compiled_filter> compiled_one = compile_filter(rule, filter);
      if (!compiled_one.ok()) return compiled_one.status();
      filters.push_back(*std::move(compiled_one));
    }
    plan.filters_end = static_cast<std::uint32_t>(filters.size());
    std::stable_sort(filters.begin() + plan.filters_begin, filters.end(),
                     [](const compiled_filter& left, const compiled_filter& right) {
                       return filter_cost(left) < filter_cost(right);
                     });

    plan.conditions_begin = static_cast<std::uint32_t>(result->conditions.size());
    for (const rule_condition& condition : rule.conditions) {
      compiled_condition compiled_one{condition.what, condition.threshold, 0};
      if (!is_state_trigger(condition.what)) {
        if (condition.interval.count() <= 0) {
          return absl::InvalidArgumentError(
              fmt::format("{}: a frequency condition needs an interval", rule_label(rule)));
        }
        const bool users = condition.what == condition_kind::users_more_than;
        compiled_one.window = result->window_slot({users, condition.interval});
        result->uses_windows = true;
        result->uses_users = result->uses_users || users;
        result->longest_window = std::max(result->longest_window, condition.interval);
      }
      result->conditions.push_back(compiled_one);
    }
    plan.conditions_end = static_cast<std::uint32_t>(result->conditions.size());
    std::stable_sort(result->conditions.begin() + plan.conditions_begin, result->conditions.end(),
                     [](const compiled_condition& left, const compiled_condition& right) {
                       return condition_cost(left.what) < condition_cost(right.what);
                     });

    for (unsigned triggers = 0; triggers < kTriggerCombinations; ++triggers) {
      if (can_hold(rule.conditions, rule.conditions_match, triggers)) {
        result->candidates[triggers].push_back(static_cast<std::uint32_t>(index));
      }
    }
    result->plans.push_back(plan);
  }
  result->filters.make_steps();
  result->rules = std::move(rules);
  return rule_set{std::move(result)};
}

rule_set::rule_set() noexcept = default;
rule_set::rule_set(std::unique_ptr<const compiled> compiled_rules) noexcept
    : compiled_(std::move(compiled_rules)) {}
rule_set::rule_set(rule_set&&) noexcept = default;
rule_set& rule_set::operator=(rule_set&&) noexcept = default;
rule_set::~rule_set() = default;

void rule_set::evaluate(const rule_facts& facts, std::vector<std::size_t>& fired) const {
  fired.clear();
  if (compiled_ == nullptr || !facts.issue_open) return;
  const unsigned triggers = (facts.first_seen ? kFirstSeenBit : 0U) |
                            (facts.regressed ? kRegressedBit : 0U) |
                            (facts.unmuted ? kUnmutedBit : 0U);
  evaluation event{facts, compiled_->filters, compiled_->windows};
  auto holds = [&event](const auto& filter_or_condition) {
    return event.holds(filter_or_condition);
  };
  const filter_step* filters = compiled_->filters.steps.data();
  const compiled_condition* conditions = compiled_->conditions.data();
  for (const std::uint32_t index : compiled_->candidates[triggers]) {
    const rule_plan& plan = compiled_->plans[index];
    // No filters: the rule passes whatever filters_match says (Sentry).
    if (plan.filters_begin != plan.filters_end &&
        !combine(plan.filters_match, filters + plan.filters_begin, filters + plan.filters_end,
                 holds)) {
      continue;
    }
    if (!combine(plan.conditions_match, conditions + plan.conditions_begin,
                 conditions + plan.conditions_end, holds)) {
      continue;
    }
    fired.push_back(index);
  }
}

const std::vector<alert_rule_config>& rule_set::rules() const noexcept {
  static const std::vector<alert_rule_config> kNoRules;
  return compiled_ == nullptr ? kNoRules : compiled_->rules;
}

bool rule_set::uses_windows() const noexcept {
  return compiled_ != nullptr && compiled_->uses_windows;
}

bool rule_set::uses_users() const noexcept { return compiled_ != nullptr && compiled_->uses_users; }

std::chrono::milliseconds rule_set::longest_window() const noexcept {
  return compiled_ == nullptr ? std::chrono::milliseconds{0} : compiled_->longest_window;
}

}  // namespace warden::sink

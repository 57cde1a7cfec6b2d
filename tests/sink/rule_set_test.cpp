// Alert rules with Sentry's issue alert semantics: each condition and filter operator,
// the all/any/none match modes, closed issues, frequency windows read at most once per
// interval (and only when a rule could still fire), compile errors naming the rule, and
// the article's default rules.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../support/rule_builders.hpp"
#include "alerting/rule_set.hpp"

namespace {

using namespace std::chrono_literals;
using warden::sink::alert_rule_config;
using warden::sink::event_level;
using warden::sink::match_mode;
using warden::sink::rule_condition;
using warden::sink::rule_facts;
using warden::sink::rule_filter;
using warden::sink::rule_set;
using warden::sink::window_counts;
using attribute = rule_filter::attribute;
using op = rule_filter::op;
using condition_kind = rule_condition::kind;
using warden::testing::age_filter;
using warden::testing::level_filter;
using warden::testing::seen_more_than;
using warden::testing::string_filter;
using warden::testing::tag_filter;
using warden::testing::trigger;
using warden::testing::users_more_than;
using tag_list = std::vector<std::pair<std::string, std::string>>;

alert_rule_config make_rule(std::string id, std::vector<rule_condition> conditions,
                            match_mode conditions_match = match_mode::all,
                            std::vector<rule_filter> filters = {},
                            match_mode filters_match = match_mode::all) {
  alert_rule_config rule;
  rule.id = std::move(id);
  rule.name = rule.id;
  rule.conditions = std::move(conditions);
  rule.conditions_match = conditions_match;
  rule.filters = std::move(filters);
  rule.filters_match = filters_match;
  return rule;
}

rule_set compile_ok(std::vector<alert_rule_config> rules) {
  absl::StatusOr<rule_set> compiled = rule_set::compile(std::move(rules));
  REQUIRE_MESSAGE(compiled.ok(), compiled.status().ToString());
  return *std::move(compiled);
}

// The ids of the rules that fire for `facts`, in the order evaluate() gives them.
std::vector<std::string> fired_ids(const rule_set& rules, const rule_facts& facts) {
  std::vector<std::size_t> fired;
  rules.evaluate(facts, fired);
  std::vector<std::string> ids;
  for (std::size_t index : fired) ids.push_back(rules.rules().at(index).id);
  return ids;
}

bool fires(const rule_set& rules, const rule_facts& facts) {
  return !fired_ids(rules, facts).empty();
}

// One rule that fires on every event (no conditions, match all) when `filter` holds.
rule_set only_filter(rule_filter filter) {
  return compile_ok({make_rule("r", {}, match_mode::all, {std::move(filter)})});
}

// Counts per interval, as a store would give them, and how often each was asked.
class fake_windows final : public window_counts {
 public:
  std::map<std::chrono::milliseconds, std::int64_t> events;
  std::map<std::chrono::milliseconds, std::int64_t> users;
  mutable std::map<std::chrono::milliseconds, int> events_asked;
  mutable std::map<std::chrono::milliseconds, int> users_asked;

  std::int64_t events_within(std::chrono::milliseconds interval) const override {
    ++events_asked[interval];
    auto found = events.find(interval);
    return found == events.end() ? 0 : found->second;
  }
  std::int64_t users_within(std::chrono::milliseconds interval) const override {
    ++users_asked[interval];
    auto found = users.find(interval);
    return found == users.end() ? 0 : found->second;
  }
  int asked() const {
    int total = 0;
    for (const auto& [interval, count] : events_asked) total += count;
    for (const auto& [interval, count] : users_asked) total += count;
    return total;
  }
};

// The article's defaults, built as default_alert_rules() builds them.
std::vector<alert_rule_config> article_rules() {
  const rule_filter production =
      string_filter(attribute::environment, op::in, {"production", "prod"});
  return {
      make_rule("prod-errors",
                {trigger(condition_kind::first_seen), trigger(condition_kind::regressed),
                 trigger(condition_kind::unmuted)},
                match_mode::any, {production, level_filter(op::at_least, event_level::error)}),
      make_rule("prod-warnings", {seen_more_than(10, 1h)}, match_mode::all,
                {production, level_filter(op::eq, event_level::warning)}),
  };
}

}  // namespace

TEST_CASE("each state trigger fires only on its own kind of event") {
  const rule_set rules = compile_ok({make_rule("new", {trigger(condition_kind::first_seen)}),
                                     make_rule("back", {trigger(condition_kind::regressed)}),
                                     make_rule("loud", {trigger(condition_kind::unmuted)})});
  rule_facts facts;
  CHECK(fired_ids(rules, facts).empty());
  facts.first_seen = true;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"new"});
  facts.first_seen = false;
  facts.regressed = true;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"back"});
  facts.regressed = false;
  facts.unmuted = true;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"loud"});
  facts.first_seen = facts.regressed = true;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"new", "back", "loud"});
}

TEST_CASE("conditions combine with all, any and none") {
  const std::vector<rule_condition> both{trigger(condition_kind::first_seen),
                                         trigger(condition_kind::regressed)};
  const rule_set all = compile_ok({make_rule("r", both, match_mode::all)});
  const rule_set any = compile_ok({make_rule("r", both, match_mode::any)});
  const rule_set none = compile_ok({make_rule("r", both, match_mode::none)});
  rule_facts neither;
  rule_facts one;
  one.regressed = true;
  rule_facts two;
  two.first_seen = two.regressed = true;

  CHECK_FALSE(fires(all, neither));
  CHECK_FALSE(fires(all, one));
  CHECK(fires(all, two));

  CHECK_FALSE(fires(any, neither));
  CHECK(fires(any, one));
  CHECK(fires(any, two));

  CHECK(fires(none, neither));
  CHECK_FALSE(fires(none, one));
  CHECK_FALSE(fires(none, two));
}

TEST_CASE("no conditions: all and none fire on every event, any never (Python's all/any)") {
  const rule_set rules =
      compile_ok({make_rule("every", {}, match_mode::all), make_rule("never", {}, match_mode::any),
                  make_rule("every-too", {}, match_mode::none)});
  rule_facts facts;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"every", "every-too"});
  facts.first_seen = true;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"every", "every-too"});
}

TEST_CASE("filters combine with all, any and none, and no filters pass in every mode") {
  const std::vector<rule_filter> filters{
      string_filter(attribute::team, op::eq, {"payments"}),
      string_filter(attribute::environment, op::eq, {"production"})};
  auto rule_with = [&](match_mode mode) {
    return compile_ok(
        {make_rule("r", {trigger(condition_kind::first_seen)}, match_mode::all, filters, mode)});
  };
  const rule_set all = rule_with(match_mode::all);
  const rule_set any = rule_with(match_mode::any);
  const rule_set none = rule_with(match_mode::none);
  rule_facts neither;
  neither.first_seen = true;
  neither.team = "search";
  neither.environment = "staging";
  rule_facts one = neither;
  one.team = "payments";
  rule_facts both = one;
  both.environment = "production";

  CHECK_FALSE(fires(all, neither));
  CHECK_FALSE(fires(all, one));
  CHECK(fires(all, both));

  CHECK_FALSE(fires(any, neither));
  CHECK(fires(any, one));
  CHECK(fires(any, both));

  CHECK(fires(none, neither));
  CHECK_FALSE(fires(none, one));
  CHECK_FALSE(fires(none, both));

  for (match_mode mode : {match_mode::all, match_mode::any, match_mode::none}) {
    const rule_set unfiltered = compile_ok(
        {make_rule("r", {trigger(condition_kind::first_seen)}, match_mode::all, {}, mode)});
    CHECK(fires(unfiltered, neither));
  }
}

TEST_CASE("every string operator on every string attribute, tags included") {
  struct operator_case {
    op how;
    std::vector<std::string> values;
    std::string text;
    bool holds;
  };
  const std::vector<operator_case> cases{
      {op::eq, {"checkout"}, "checkout", true},
      {op::eq, {"checkout"}, "checkouts", false},
      {op::eq, {"checkout"}, "", false},
      {op::ne, {"checkout"}, "checkout", false},
      {op::ne, {"checkout"}, "cart", true},
      {op::ne, {"checkout"}, "", true},
      {op::in, {"cart", "checkout"}, "checkout", true},
      {op::in, {"cart", "checkout"}, "check", false},
      {op::not_in, {"cart", "checkout"}, "checkout", false},
      {op::not_in, {"cart", "checkout"}, "search", true},
      {op::starts_with, {"check"}, "checkout", true},
      {op::starts_with, {"check"}, "recheck", false},
      {op::starts_with, {"checkout"}, "check", false},
      {op::ends_with, {"out"}, "checkout", true},
      {op::ends_with, {"out"}, "outer", false},
      {op::ends_with, {"checkout"}, "out", false},
      {op::contains, {"ecko"}, "checkout", true},
      {op::contains, {"ecko"}, "cart", false},
      {op::matches, {"check[a-z]+"}, "checkout", true},
      {op::matches, {"check[a-z]+"}, "checkout2", false},
      {op::is_set, {}, "checkout", true},
      {op::is_set, {}, "", false},
      {op::not_set, {}, "", true},
      {op::not_set, {}, "checkout", false},
  };
  const std::vector<attribute> attributes{attribute::team,    attribute::function,
                                          attribute::product, attribute::environment,
                                          attribute::release, attribute::tag};
  for (attribute what : attributes) {
    for (const operator_case& test : cases) {
      CAPTURE(static_cast<int>(what));
      CAPTURE(static_cast<int>(test.how));
      CAPTURE(test.text);
      rule_filter filter = what == attribute::tag ? tag_filter("region", test.how, test.values)
                                                  : string_filter(what, test.how, test.values);
      const rule_set rules = only_filter(std::move(filter));
      const tag_list tags{{"browser", "checkout"}, {"region", test.text}};
      rule_facts facts;
      facts.tags = &tags;
      switch (what) {
        case attribute::team:
          facts.team = test.text;
          break;
        case attribute::function:
          facts.function = test.text;
          break;
        case attribute::product:
          facts.product = test.text;
          break;
        case attribute::environment:
          facts.environment = test.text;
          break;
        case attribute::release:
          facts.release = test.text;
          break;
        default:
          break;
      }
      CHECK(fires(rules, facts) == test.holds);
    }
  }
}

TEST_CASE("rules comparing one attribute with different values each see the event's value") {
  const rule_set rules = compile_ok({
      make_rule("payments", {}, match_mode::all,
                {string_filter(attribute::team, op::eq, {"payments"})}),
      make_rule("not-search", {}, match_mode::all,
                {string_filter(attribute::team, op::ne, {"search"})}),
      make_rule("web", {}, match_mode::all,
                {string_filter(attribute::team, op::in, {"search", "frontend"})}),
      make_rule("not-web", {}, match_mode::all,
                {string_filter(attribute::team, op::not_in, {"search", "frontend"})}),
      make_rule("prod-payments", {}, match_mode::all,
                {string_filter(attribute::environment, op::eq, {"production"}),
                 string_filter(attribute::team, op::eq, {"payments"})}),
  });
  rule_facts facts;
  facts.environment = "production";
  facts.team = "payments";
  CHECK(fired_ids(rules, facts) ==
        std::vector<std::string>{"payments", "not-search", "not-web", "prod-payments"});
  facts.team = "search";
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"web"});
  facts.team = "data";  // a value no rule names
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"not-search", "not-web"});
  facts.team = "";
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"not-search", "not-web"});
}

TEST_CASE("a very long in list still matches exactly") {
  std::vector<std::string> releases;
  for (int i = 0; i < 70000; ++i) releases.push_back("1.0." + std::to_string(i));
  const rule_set rules = only_filter(string_filter(attribute::release, op::in, releases));
  rule_facts facts;
  facts.release = "1.0.69999";
  CHECK(fires(rules, facts));
  facts.release = "1.0.70000";
  CHECK_FALSE(fires(rules, facts));
}

TEST_CASE("a missing tag is not set and equals nothing") {
  const tag_list tags{{"browser", "Chrome 120"}, {"region", "eu"}, {"region", "us"}};
  rule_facts with_tags;
  with_tags.tags = &tags;
  const rule_facts without_tags;

  CHECK(fires(only_filter(tag_filter("region", op::eq, {"eu"})), with_tags));
  CHECK_FALSE(fires(only_filter(tag_filter("region", op::eq, {"us"})), with_tags));  // first wins
  CHECK_FALSE(fires(only_filter(tag_filter("Region", op::is_set, {})), with_tags));
  CHECK(fires(only_filter(tag_filter("browser", op::starts_with, {"Chrome"})), with_tags));

  const std::vector<const rule_facts*> both{&with_tags, &without_tags};
  for (const rule_facts* facts : both) {
    CHECK_FALSE(fires(only_filter(tag_filter("os", op::is_set, {})), *facts));
    CHECK(fires(only_filter(tag_filter("os", op::not_set, {})), *facts));
    CHECK_FALSE(fires(only_filter(tag_filter("os", op::eq, {"linux"})), *facts));
    CHECK(fires(only_filter(tag_filter("os", op::ne, {"linux"})), *facts));
    CHECK(fires(only_filter(tag_filter("os", op::not_in, {"linux"})), *facts));
    CHECK_FALSE(fires(only_filter(tag_filter("os", op::matches, {"l.*"})), *facts));
  }
}

TEST_CASE("matches is anchored at both ends") {
  rule_facts facts;
  facts.environment = "production";
  CHECK(fires(only_filter(string_filter(attribute::environment, op::matches, {"prod.*"})), facts));
  CHECK(fires(only_filter(string_filter(attribute::environment, op::matches, {"prod|production"})),
              facts));
  CHECK_FALSE(
      fires(only_filter(string_filter(attribute::environment, op::matches, {"prod"})), facts));
  CHECK_FALSE(
      fires(only_filter(string_filter(attribute::environment, op::matches, {"duction"})), facts));
  CHECK_FALSE(
      fires(only_filter(string_filter(attribute::environment, op::matches, {"rod.*"})), facts));
}

TEST_CASE("level filters compare by severity") {
  const std::vector<event_level> levels{event_level::debug, event_level::info, event_level::warning,
                                        event_level::error, event_level::fatal};
  for (event_level level : levels) {
    rule_facts facts;
    facts.level = level;
    CAPTURE(static_cast<int>(level));
    CHECK(fires(only_filter(level_filter(op::eq, event_level::warning)), facts) ==
          (level == event_level::warning));
    CHECK(fires(only_filter(level_filter(op::at_least, event_level::error)), facts) ==
          (level == event_level::error || level == event_level::fatal));
    CHECK(fires(only_filter(level_filter(op::at_most, event_level::info)), facts) ==
          (level == event_level::debug || level == event_level::info));
  }
}

TEST_CASE("issue_age: older_than and newer_than are strict") {
  const rule_set older = only_filter(age_filter(op::older_than, 1h));
  const rule_set newer = only_filter(age_filter(op::newer_than, 1h));
  rule_facts facts;
  facts.issue_age = 59min;
  CHECK_FALSE(fires(older, facts));
  CHECK(fires(newer, facts));
  facts.issue_age = 1h;
  CHECK_FALSE(fires(older, facts));
  CHECK_FALSE(fires(newer, facts));
  facts.issue_age = 2h;
  CHECK(fires(older, facts));
  CHECK_FALSE(fires(newer, facts));
}

TEST_CASE("a bad RE2 pattern is a compile error naming the rule and RE2's complaint") {
  alert_rule_config rule =
      make_rule("checkout-regex", {trigger(condition_kind::first_seen)}, match_mode::all,
                {tag_filter("url", op::matches, {"/checkout/(\\d+"})});
  rule.line = 17;
  const absl::StatusOr<rule_set> compiled = rule_set::compile({make_rule("fine", {}), rule});
  REQUIRE_FALSE(compiled.ok());
  CHECK(compiled.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string message{compiled.status().message()};
  CHECK(message.find("alert rule 'checkout-regex' (line 17)") != std::string::npos);
  CHECK(message.find("tags.url") != std::string::npos);
  CHECK(message.find("missing )") != std::string::npos);
}

TEST_CASE("filters and conditions that cannot be evaluated are compile errors") {
  struct bad_rule {
    alert_rule_config rule;
    std::string says;
  };
  rule_filter empty_tag = tag_filter("", op::is_set, {});
  const std::vector<bad_rule> cases{
      {make_rule("a", {}, match_mode::all, {string_filter(attribute::team, op::at_least, {"x"})}),
       "at_least does not apply to strings"},
      {make_rule("b", {}, match_mode::all, {level_filter(op::in, event_level::error)}),
       "in does not apply to levels"},
      {make_rule("c", {}, match_mode::all, {age_filter(op::eq, 1h)}),
       "eq does not apply to issue_age"},
      {make_rule("d", {}, match_mode::all, {age_filter(op::older_than, -1h)}), "negative"},
      {make_rule("e", {}, match_mode::all, {string_filter(attribute::team, op::eq, {"x", "y"})}),
       "eq takes one value, not 2"},
      {make_rule("f", {}, match_mode::all, {string_filter(attribute::team, op::in, {})}),
       "in takes at least one value, not 0"},
      {make_rule("g", {}, match_mode::all, {string_filter(attribute::team, op::is_set, {"x"})}),
       "is_set takes no values, not 1"},
      {make_rule("h", {}, match_mode::all, {empty_tag}), "the tag's key is empty"},
      {make_rule("i", {seen_more_than(10, 0ms)}), "a frequency condition needs an interval"},
  };
  for (const bad_rule& test : cases) {
    const absl::StatusOr<rule_set> compiled = rule_set::compile({test.rule});
    REQUIRE_FALSE(compiled.ok());
    const std::string message{compiled.status().message()};
    CAPTURE(message);
    CHECK(message.find("alert rule '" + test.rule.id + "'") == 0);
    CHECK(message.find(test.says) != std::string::npos);
  }
}

TEST_CASE("a muted or resolved issue never fires and its windows are not read") {
  fake_windows windows;
  windows.events[1h] = 1000;
  const rule_set rules =
      compile_ok({make_rule("new", {trigger(condition_kind::first_seen)}),
                  make_rule("busy", {seen_more_than(10, 1h)}), make_rule("every", {})});
  rule_facts facts;
  facts.first_seen = facts.regressed = facts.unmuted = true;
  facts.windows = &windows;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"new", "busy", "every"});
  windows.events_asked.clear();
  facts.issue_open = false;
  CHECK(fired_ids(rules, facts).empty());
  CHECK(windows.asked() == 0);
}

TEST_CASE("more than N is strict, for events and for users") {
  fake_windows windows;
  const rule_set rules = compile_ok({make_rule("events", {seen_more_than(10, 1h)}),
                                     make_rule("users", {users_more_than(50, 1h)})});
  rule_facts facts;
  facts.windows = &windows;
  windows.events[1h] = 10;
  windows.users[1h] = 50;
  CHECK(fired_ids(rules, facts).empty());
  windows.events[1h] = 11;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"events"});
  windows.users[1h] = 51;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"events", "users"});

  facts.windows = nullptr;  // no counts: frequency conditions are false
  CHECK(fired_ids(rules, facts).empty());
}

TEST_CASE("each window is read at most once per evaluation") {
  fake_windows windows;
  windows.events[1h] = 100;
  windows.events[5min] = 3;
  windows.users[1h] = 7;
  const rule_set rules = compile_ok({
      make_rule("a", {seen_more_than(10, 1h)}),
      make_rule("b", {seen_more_than(50, 1h), users_more_than(5, 1h)}),
      make_rule("c", {seen_more_than(2, 5min)}),
      make_rule("d", {seen_more_than(5, 5min), users_more_than(1, 1h)}, match_mode::any),
      make_rule("e", {users_more_than(100, 1h)}, match_mode::none),
  });
  rule_facts facts;
  facts.windows = &windows;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(windows.events_asked == std::map<std::chrono::milliseconds, int>{{1h, 1}, {5min, 1}});
  CHECK(windows.users_asked == std::map<std::chrono::milliseconds, int>{{1h, 1}});

  // The next evaluation reads them again: the cache lives for one event.
  CHECK(fired_ids(rules, facts).size() == 5);
  CHECK(windows.events_asked == std::map<std::chrono::milliseconds, int>{{1h, 2}, {5min, 2}});
}

TEST_CASE("windows are not read when no frequency rule could fire") {
  fake_windows windows;
  windows.events[1h] = 100;
  const rule_set rules = compile_ok({
      // A state trigger that holds decides `any` without the window.
      make_rule("new-or-busy", {trigger(condition_kind::first_seen), seen_more_than(10, 1h)},
                match_mode::any),
      // A state trigger that fails decides `all` without it.
      make_rule("regressed-and-busy", {seen_more_than(10, 1h), trigger(condition_kind::regressed)}),
      // Filters that fail: the conditions are not looked at.
      make_rule("payments-busy", {seen_more_than(10, 1h)}, match_mode::all,
                {string_filter(attribute::team, op::eq, {"payments"})}),
  });
  rule_facts facts;
  facts.windows = &windows;
  facts.team = "search";
  facts.first_seen = true;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"new-or-busy"});
  CHECK(windows.asked() == 0);

  const rule_set state_only = compile_ok(
      {make_rule("new", {trigger(condition_kind::first_seen)}),
       make_rule("back", {trigger(condition_kind::regressed), trigger(condition_kind::unmuted)},
                 match_mode::any)});
  facts.first_seen = false;
  CHECK(fired_ids(state_only, facts).empty());
  CHECK(windows.asked() == 0);

  // Both frequency rules now need the window: it is read once.
  facts.team = "payments";
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"new-or-busy", "payments-busy"});
  CHECK(windows.events_asked == std::map<std::chrono::milliseconds, int>{{1h, 1}});
}

TEST_CASE("a none rule over a state trigger fires on plain events") {
  const rule_set rules =
      compile_ok({make_rule("not-new", {trigger(condition_kind::first_seen)}, match_mode::none,
                            {level_filter(op::eq, event_level::fatal)})});
  rule_facts facts;
  facts.level = event_level::fatal;
  CHECK(fires(rules, facts));
  facts.first_seen = true;
  CHECK_FALSE(fires(rules, facts));
}

TEST_CASE("fired rules come in config order and replace what the vector held") {
  const rule_set rules =
      compile_ok({make_rule("first", {}), make_rule("new", {trigger(condition_kind::first_seen)}),
                  make_rule("last", {})});
  rule_facts facts;
  facts.first_seen = true;
  std::vector<std::size_t> fired{42, 43};
  rules.evaluate(facts, fired);
  CHECK(fired == std::vector<std::size_t>{0, 1, 2});
  facts.first_seen = false;
  rules.evaluate(facts, fired);
  CHECK(fired == std::vector<std::size_t>{0, 2});
}

TEST_CASE("what the store must keep: windows, users, the longest interval") {
  const rule_set empty;
  CHECK(empty.rules().empty());
  CHECK_FALSE(empty.uses_windows());
  CHECK_FALSE(empty.uses_users());
  CHECK(empty.longest_window() == 0ms);
  std::vector<std::size_t> fired{1};
  empty.evaluate(rule_facts{}, fired);
  CHECK(fired.empty());

  const rule_set state_only = compile_ok({make_rule("new", {trigger(condition_kind::first_seen)})});
  CHECK_FALSE(state_only.uses_windows());
  CHECK(state_only.longest_window() == 0ms);

  const rule_set events = compile_ok(
      {make_rule("a", {seen_more_than(1, 1h)}), make_rule("b", {seen_more_than(1, 24h)})});
  CHECK(events.uses_windows());
  CHECK_FALSE(events.uses_users());
  CHECK(events.longest_window() == 24h);

  const rule_set users = compile_ok({make_rule("a", {users_more_than(1, 5min)})});
  CHECK(users.uses_windows());
  CHECK(users.uses_users());
  CHECK(users.longest_window() == 5min);
}

TEST_CASE("a moved rule set keeps its compiled patterns") {
  rule_set original = only_filter(string_filter(attribute::release, op::matches, {"1\\.2\\..*"}));
  rule_set moved = std::move(original);
  rule_set assigned;
  assigned = std::move(moved);
  rule_facts facts;
  facts.release = "1.2.3";
  CHECK(fires(assigned, facts));
  facts.release = "1.20.0";
  CHECK_FALSE(fires(assigned, facts));
  CHECK(assigned.rules().size() == 1);
}

TEST_CASE("the article's defaults: production errors when new, production warnings by volume") {
  const rule_set rules = compile_ok(article_rules());
  fake_windows windows;
  rule_facts facts;
  facts.windows = &windows;
  facts.environment = "production";
  facts.level = event_level::error;
  facts.first_seen = true;
  windows.events[1h] = 1;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"prod-errors"});

  facts.environment = "staging";
  CHECK(fired_ids(rules, facts).empty());

  facts.environment = "prod";
  facts.level = event_level::fatal;
  facts.first_seen = false;
  facts.regressed = true;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"prod-errors"});

  // A production warning: quiet until the 11th event within the hour.
  facts.environment = "production";
  facts.level = event_level::warning;
  facts.regressed = false;
  windows.events[1h] = 10;
  CHECK(fired_ids(rules, facts).empty());
  windows.events[1h] = 11;
  CHECK(fired_ids(rules, facts) == std::vector<std::string>{"prod-warnings"});

  // A new warning is not an error, and an error's volume does not matter.
  facts.first_seen = true;
  windows.events[1h] = 1;
  CHECK(fired_ids(rules, facts).empty());
  facts.first_seen = false;
  facts.level = event_level::error;
  windows.events[1h] = 500;
  CHECK(fired_ids(rules, facts).empty());

  // Staging warnings never count.
  facts.environment = "staging";
  facts.level = event_level::warning;
  CHECK(fired_ids(rules, facts).empty());
}

// Alert rules evaluated for one stored event (the store's writer thread does it for
// every event): 200 rules of a realistic mix, 150 on state triggers filtered by team,
// level and environment, 40 on frequency (events or users in 1m..1d), 10 with RE2
// filters on the release and a tag. Three events: a plain event of an existing issue
// (the common case), a new issue's first event, and one for which all 200 rules fire.
// Then notification routing: a tree of 50 routes (the plan's PagerDuty and general
// routes, 8 rarely matching `continue` routes, 31 team routes, 9 of them with a child),
// alone and after the rules as the engine does it: one match() per event that fires, the
// fired rules differing only in labels the tree does not read (and, for comparison, one
// match() per fired rule, as a tree that reads "rule" needs). Budget: <= 5 us per event
// for rules and routing; allocs_per_iter counts heap allocations (0 expected for rules;
// routing refills the caller's result strings).
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../tests/support/rule_builders.hpp"
#include "alerting/route_tree.hpp"
#include "alerting/rule_set.hpp"
#include "allocation_counter.hpp"
#include "targets/ticket_text.hpp"

namespace {

using namespace std::chrono_literals;
using warden::sink::alert_rule_config;
using warden::sink::event_level;
using warden::sink::kNever;
using warden::sink::label_matcher;
using warden::sink::match_mode;
using warden::sink::notification_labels;
using warden::sink::route_config;
using warden::sink::route_match;
using warden::sink::route_tree;
using warden::sink::rule_condition;
using warden::sink::rule_facts;
using warden::sink::rule_filter;
using warden::sink::rule_set;
using warden::sink::window_counts;
using attribute = rule_filter::attribute;
using op = rule_filter::op;
using condition_kind = rule_condition::kind;
using warden::testing::level_filter;
using warden::testing::string_filter;
using warden::testing::trigger;

constexpr int kTeams = 30;
const std::array<std::chrono::milliseconds, 4> kIntervals{1min, 5min, 1h, 24h};

// The same counts for every interval, as a store's windows would answer.
class constant_windows final : public window_counts {
 public:
  explicit constant_windows(std::int64_t count) : count_(count) {}
  std::int64_t events_within(std::chrono::milliseconds) const override { return count_; }
  std::int64_t users_within(std::chrono::milliseconds) const override { return count_; }

 private:
  std::int64_t count_;
};

// The 200 rules. `team_of(i)` is the team rule i filters on: spread over 30 teams, or
// always the event's for the all-firing case (whose thresholds are then below its counts).
template <typename TeamOf>
std::vector<alert_rule_config> make_rules(TeamOf team_of) {
  std::vector<alert_rule_config> rules;
  const rule_filter production =
      string_filter(attribute::environment, op::in, {"production", "prod"});
  for (int i = 0; i < 150; ++i) {
    alert_rule_config rule;
    rule.id = "state-" + std::to_string(i);
    switch (i % 3) {
      case 0:
        rule.conditions = {trigger(condition_kind::first_seen)};
        break;
      case 1:
        rule.conditions = {trigger(condition_kind::first_seen), trigger(condition_kind::regressed),
                           trigger(condition_kind::unmuted)};
        rule.conditions_match = match_mode::any;
        break;
      default:
        rule.conditions = {trigger(condition_kind::regressed), trigger(condition_kind::unmuted)};
        rule.conditions_match = match_mode::any;
        break;
    }
    rule.filters = {
        string_filter(attribute::team, op::eq, {team_of(i)}), production,
        level_filter(op::at_least, i % 2 == 0 ? event_level::error : event_level::warning)};
    rules.push_back(std::move(rule));
  }
  for (int i = 0; i < 40; ++i) {
    alert_rule_config rule;
    rule.id = "frequency-" + std::to_string(i);
    const auto interval = kIntervals[static_cast<std::size_t>(i) % kIntervals.size()];
    rule.conditions = {i % 4 == 3 ? rule_condition{condition_kind::users_more_than, 50, interval}
                                  : rule_condition{condition_kind::seen_more_than, 100, interval}};
    rule.filters = {string_filter(attribute::team, op::eq, {team_of(i)}), production,
                    level_filter(op::at_least, event_level::warning)};
    rules.push_back(std::move(rule));
  }
  for (int i = 0; i < 10; ++i) {
    alert_rule_config rule;
    rule.id = "pattern-" + std::to_string(i);
    rule.conditions = {trigger(condition_kind::first_seen), trigger(condition_kind::regressed)};
    rule.conditions_match = match_mode::any;
    rule_filter url = string_filter(attribute::tag, op::matches,
                                    {"/api/v[0-9]+/(pay|refund|r" + std::to_string(i) + ")/.*"});
    url.tag = "url";
    rule.filters = {
        string_filter(attribute::team, op::in, {team_of(i), "payments", "billing"}),
        string_filter(attribute::release, op::matches,
                      {"checkout@[0-9]+\\.[0-9]+\\.[0-9]+(-rc" + std::to_string(i) + ")?"}),
        std::move(url)};
    rules.push_back(std::move(rule));
  }
  return rules;
}

rule_set compile_or_die(std::vector<alert_rule_config> rules) {
  absl::StatusOr<rule_set> compiled = rule_set::compile(std::move(rules));
  if (!compiled.ok()) std::abort();
  return *std::move(compiled);
}

const std::vector<std::pair<std::string, std::string>> kTags{
    {"browser", "Chrome 120"}, {"region", "eu"}, {"url", "/api/v2/pay/confirm"}};

// 64 events of existing issues, cycling over the teams, levels and environments.
std::vector<std::string> event_teams() {
  std::vector<std::string> teams;
  for (int i = 0; i < 64; ++i) teams.push_back("team" + std::to_string(i % kTeams));
  return teams;
}

rule_facts event_of(const std::string& team, int i, const window_counts& windows) {
  rule_facts facts;
  facts.team = team;
  facts.function = "backend";
  facts.product = "checkout";
  facts.environment = i % 4 == 3 ? "staging" : "production";
  facts.release = "checkout@2.14.1";
  facts.level = i % 3 == 0 ? event_level::warning : event_level::error;
  facts.tags = &kTags;
  facts.issue_age = 3h;
  facts.windows = &windows;
  return facts;
}

// Times evaluate() over `events`, one per iteration, cycling.
void time_events(benchmark::State& state, const rule_set& rules,
                 const std::vector<rule_facts>& events) {
  std::vector<std::size_t> fired;
  fired.reserve(rules.rules().size());
  // RE2 builds its DFA states on first use: once per event before the timed loop.
  for (const rule_facts& facts : events) rules.evaluate(facts, fired);
  std::size_t next = 0;
  std::size_t fired_total = 0;
  {
    const warden_bench::allocation_report allocations{state};
    for (auto _ : state) {
      rules.evaluate(events[next], fired);
      fired_total += fired.size();
      next = next + 1 == events.size() ? 0 : next + 1;
      benchmark::DoNotOptimize(fired.data());
    }
  }
  state.counters["fired_per_event"] = benchmark::Counter(static_cast<double>(fired_total) /
                                                         static_cast<double>(state.iterations()));
  state.SetLabel("budget <= 5 us per event");
}

const std::vector<std::string> kEventTeams = event_teams();
const constant_windows kQuietWindows{3};

// A plain event of an existing issue: only the frequency rules of its team read windows.
void BM_evaluate_plain_event(benchmark::State& state) {
  const rule_set rules =
      compile_or_die(make_rules([](int i) { return "team" + std::to_string(i % kTeams); }));
  std::vector<rule_facts> events;
  for (int i = 0; i < 64; ++i) {
    events.push_back(event_of(kEventTeams[static_cast<std::size_t>(i)], i, kQuietWindows));
  }
  time_events(state, rules, events);
}
BENCHMARK(BM_evaluate_plain_event);

// The first event of a new issue: every first_seen rule checks its filters.
void BM_evaluate_first_seen_event(benchmark::State& state) {
  const rule_set rules =
      compile_or_die(make_rules([](int i) { return "team" + std::to_string(i % kTeams); }));
  std::vector<rule_facts> events;
  for (int i = 0; i < 64; ++i) {
    events.push_back(event_of(kEventTeams[static_cast<std::size_t>(i)], i, kQuietWindows));
    events.back().first_seen = true;
  }
  time_events(state, rules, events);
}
BENCHMARK(BM_evaluate_first_seen_event);

// Every rule fires: all filters hold (every rule filters on the event's team), every
// trigger is set and the windows are above every threshold.
void BM_evaluate_all_firing(benchmark::State& state) {
  const rule_set rules = compile_or_die(make_rules([](int) { return std::string{"payments"}; }));
  static const constant_windows busy{1000};
  static const std::string team = "payments";
  rule_facts facts = event_of(team, 0, busy);
  facts.level = event_level::fatal;
  facts.environment = "production";
  facts.first_seen = facts.regressed = facts.unmuted = true;
  std::vector<std::size_t> fired;
  rules.evaluate(facts, fired);
  if (fired.size() != rules.rules().size()) {
    state.SkipWithError("not every rule fires");
    return;
  }
  time_events(state, rules, {facts});
}
BENCHMARK(BM_evaluate_all_firing);

// --- Routing ---------------------------------------------------------------------

using matcher_op = label_matcher::op;

label_matcher matcher(std::string label, matcher_op how, std::string value) {
  label_matcher result;
  result.label = std::move(label);
  result.how = how;
  result.value = std::move(value);
  return result;
}

route_config route(std::vector<label_matcher> matchers, std::string receiver,
                   bool continue_matching = false) {
  route_config result;
  result.matchers = std::move(matchers);
  result.receiver = std::move(receiver);
  result.continue_matching = continue_matching;
  return result;
}

// The 50 routes under the root, in the order an event meets them: PagerDuty and the
// general channel (the plan's), 8 `continue` routes that rarely match, then a route per
// team (first match wins), the first 9 with a child for their preproduction channel.
route_config make_routes() {
  route_config root = route({}, "general-slack");
  root.group_by = std::vector<std::string>{"issue"};
  root.group_wait = 30s;
  root.group_interval = 5min;
  root.repeat_interval = kNever;
  route_config pager = route({matcher("severity", matcher_op::eq, "critical"),
                              matcher("environment", matcher_op::matches, "production|prod")},
                             "pagerduty-main", true);
  pager.group_wait = 0s;
  route_config general = route({matcher("level", matcher_op::matches, "error|fatal"),
                                matcher("environment", matcher_op::matches, "production|prod")},
                               "general-slack", true);
  general.group_by = std::vector<std::string>{"team"};
  root.routes = {
      pager,
      general,
      route({matcher("tags.region", matcher_op::matches, "ap-.*")}, "apac-oncall", true),
      route({matcher("release", matcher_op::matches, "checkout@[0-9]+\\.[0-9]+\\.[0-9]+-rc.*")},
            "release-managers", true),
      route(
          {matcher("product", matcher_op::eq, "ledger"), matcher("level", matcher_op::eq, "fatal")},
          "ledger-pd", true),
      route({matcher("tags.url", matcher_op::matches, "/admin/.*")}, "security", true),
      route({matcher("function", matcher_op::eq, "mobile")}, "mobile", true),
      route({matcher("owner_source", matcher_op::eq, "default")}, "ownership-gaps", true),
      route({matcher("project", matcher_op::eq, "internal-tools")}, "tools", true),
      route(
          {matcher("environment", matcher_op::not_matches, "production|prod|staging|development")},
          "unknown-environment", true),
  };
  std::vector<std::string> teams{"payments"};
  for (int i = 0; i < kTeams; ++i) teams.push_back("team" + std::to_string(i));
  for (std::size_t i = 0; i < teams.size(); ++i) {
    route_config team = route({matcher("team", matcher_op::eq, teams[i])}, teams[i] + "-slack");
    if (i < 9) {
      team.routes = {route({matcher("environment", matcher_op::matches, "staging|development")},
                           teams[i] + "-dev")};
    }
    root.routes.push_back(std::move(team));
  }
  std::size_t count = 0;
  for (const route_config& child : root.routes) count += 1 + child.routes.size();
  if (count != 50) std::abort();
  return root;
}

route_tree compile_routes_or_die() {
  absl::StatusOr<route_tree> compiled = route_tree::compile(make_routes());
  if (!compiled.ok()) std::abort();
  return *std::move(compiled);
}

// The labels the engine gives a notification for `facts` (rule and reason filled in per
// fired rule).
notification_labels labels_of(const rule_facts& facts, int issue) {
  notification_labels labels;
  labels.set("issue", std::to_string(issue));
  labels.set("team", facts.team);
  labels.set("function", facts.function);
  labels.set("product", facts.product);
  labels.set("level", warden::sink::event_level_name(facts.level));
  labels.set("severity",
             warden::sink::severity_of_level(warden::sink::event_level_name(facts.level)));
  labels.set("environment", facts.environment);
  labels.set("release", facts.release);
  labels.set("project", "checkout");
  labels.set("owner_source", "rules");
  labels.set("reason", facts.first_seen ? "first_seen" : "seen_more_than");
  labels.set("rule", "");
  for (const auto& [key, value] : *facts.tags) labels.set("tags." + key, value);
  return labels;
}

// One event for the routing benchmarks: its facts and its notification's labels.
struct routed_event {
  rule_facts facts;
  notification_labels labels;
};

std::vector<routed_event> routed_events(bool first_seen) {
  std::vector<routed_event> events;
  for (int i = 0; i < 64; ++i) {
    rule_facts facts = event_of(kEventTeams[static_cast<std::size_t>(i)], i, kQuietWindows);
    facts.first_seen = first_seen;
    events.push_back({facts, labels_of(facts, 1000 + i)});
  }
  return events;
}

// How the timed loop routes an event's notifications.
enum class routing { one_notification, once_if_fired, per_fired_rule };

// Times evaluate() and routing over `events`, one per iteration, cycling.
void time_rules_and_routing(benchmark::State& state, const rule_set& rules, const route_tree& tree,
                            std::vector<routed_event>& events, routing how) {
  std::vector<std::size_t> fired;
  fired.reserve(rules.rules().size());
  std::vector<route_match> matches;
  auto run = [&](routed_event& event) {
    rules.evaluate(event.facts, fired);
    std::size_t routed = 0;
    if (how == routing::one_notification || (how == routing::once_if_fired && !fired.empty())) {
      event.labels.set("rule", fired.empty() ? std::string_view{} : rules.rules()[fired[0]].id);
      tree.match(event.labels, matches);
      routed = matches.size();
    } else if (how == routing::per_fired_rule) {
      for (const std::size_t index : fired) {
        event.labels.set("rule", rules.rules()[index].id);
        tree.match(event.labels, matches);
        routed += matches.size();
      }
    }
    return std::make_pair(fired.size(), routed);
  };
  for (routed_event& event : events) run(event);  // RE2 DFAs and result strings warmed up
  std::size_t next = 0;
  std::size_t fired_total = 0;
  std::size_t routed_total = 0;
  {
    const warden_bench::allocation_report allocations{state};
    for (auto _ : state) {
      const auto [fired_now, routed_now] = run(events[next]);
      fired_total += fired_now;
      routed_total += routed_now;
      next = next + 1 == events.size() ? 0 : next + 1;
      benchmark::DoNotOptimize(matches.data());
    }
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["fired_per_event"] =
      benchmark::Counter(static_cast<double>(fired_total) / iterations);
  state.counters["routes_per_event"] =
      benchmark::Counter(static_cast<double>(routed_total) / iterations);
  state.SetLabel("budget <= 5 us per event, rules and routing");
}

const rule_set kSpreadRules =
    compile_or_die(make_rules([](int i) { return "team" + std::to_string(i % kTeams); }));

// One notification through the 50 routes, alone: events of 30 teams, production and
// staging, warnings and errors. Budget: 2-3 us.
void BM_route_notification(benchmark::State& state) {
  const route_tree tree = compile_routes_or_die();
  const std::vector<routed_event> events = routed_events(false);
  std::vector<route_match> matches;
  for (const routed_event& event : events) tree.match(event.labels, matches);
  std::size_t next = 0;
  std::size_t routed_total = 0;
  {
    const warden_bench::allocation_report allocations{state};
    for (auto _ : state) {
      tree.match(events[next].labels, matches);
      routed_total += matches.size();
      next = next + 1 == events.size() ? 0 : next + 1;
      benchmark::DoNotOptimize(matches.data());
    }
  }
  state.counters["routes_per_event"] = benchmark::Counter(static_cast<double>(routed_total) /
                                                          static_cast<double>(state.iterations()));
  state.SetLabel("budget <= 3 us per notification");
}
BENCHMARK(BM_route_notification);

// A plain event through the 200 rules, then routed as if a rule had fired (for most
// plain events nothing fires and nothing is routed: this is the upper bound).
void BM_rules_and_routing_plain_event(benchmark::State& state) {
  const route_tree tree = compile_routes_or_die();
  std::vector<routed_event> events = routed_events(false);
  time_rules_and_routing(state, kSpreadRules, tree, events, routing::one_notification);
}
BENCHMARK(BM_rules_and_routing_plain_event);

// A new issue's first event: the rules of its team fire, one match() for them all.
void BM_rules_and_routing_first_seen_event(benchmark::State& state) {
  const route_tree tree = compile_routes_or_die();
  if (tree.reads_label("rule") || tree.reads_label("reason")) {
    state.SkipWithError("the tree reads rule or reason: one match per event would be wrong");
    return;
  }
  std::vector<routed_event> events = routed_events(true);
  time_rules_and_routing(state, kSpreadRules, tree, events, routing::once_if_fired);
}
BENCHMARK(BM_rules_and_routing_first_seen_event);

// Every rule fires (as BM_evaluate_all_firing) and is routed: once (the engine, as the
// tree reads neither rule nor reason), or once per fired rule (a tree that reads "rule").
void rules_and_routing_all_firing(benchmark::State& state, routing how) {
  const rule_set rules = compile_or_die(make_rules([](int) { return std::string{"payments"}; }));
  const route_tree tree = compile_routes_or_die();
  static const constant_windows busy{1000};
  static const std::string team = "payments";
  rule_facts facts = event_of(team, 0, busy);
  facts.level = event_level::fatal;
  facts.environment = "production";
  facts.first_seen = facts.regressed = facts.unmuted = true;
  std::vector<std::size_t> fired;
  rules.evaluate(facts, fired);
  if (fired.size() != rules.rules().size()) {
    state.SkipWithError("not every rule fires");
    return;
  }
  std::vector<routed_event> events{{facts, labels_of(facts, 7)}};
  time_rules_and_routing(state, rules, tree, events, how);
}

void BM_rules_and_routing_all_firing(benchmark::State& state) {
  rules_and_routing_all_firing(state, routing::once_if_fired);
}
BENCHMARK(BM_rules_and_routing_all_firing);

void BM_rules_and_routing_all_firing_per_rule(benchmark::State& state) {
  rules_and_routing_all_firing(state, routing::per_fired_rule);
  state.SetLabel("200 match() calls: no budget");
}
BENCHMARK(BM_rules_and_routing_all_firing_per_rule);

}  // namespace

BENCHMARK_MAIN();

// Alert rules evaluated for one stored event (the store's writer thread does it for
// every event): 200 rules of a realistic mix, 150 on state triggers filtered by team,
// level and environment, 40 on frequency (events or users in 1m..1d), 10 with RE2
// filters on the release and a tag. Three events: a plain event of an existing issue
// (the common case), a new issue's first event, and one for which all 200 rules fire.
// Budget: <= 5 us per event; allocs_per_iter counts heap allocations (0 expected).
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "alerting/rule_set.hpp"
#include "allocation_counter.hpp"

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

rule_filter string_filter(attribute what, op how, std::vector<std::string> values) {
  rule_filter filter;
  filter.what = what;
  filter.how = how;
  filter.values = std::move(values);
  return filter;
}

rule_filter level_filter(op how, event_level level) {
  rule_filter filter;
  filter.what = attribute::level;
  filter.how = how;
  filter.level = level;
  return filter;
}

rule_condition trigger(condition_kind what) {
  rule_condition condition;
  condition.what = what;
  return condition;
}

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

}  // namespace

BENCHMARK_MAIN();

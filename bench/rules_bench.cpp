// Ownership rules: parsing a realistic file and attributing frames and alert names.
// Budgets: a frame against 200 rules <= 2 us; an alert name <= 2 us (the sink attributes
// every in-app frame of every event it cannot attribute from tags).
#include <benchmark/benchmark.h>

#include <string>

#include <warden/ownership/rules.hpp>

namespace {

// 200 path rules (one per component, as a large monolith's CODEOWNERS), a few symbol
// rules and the alert-name convention.
std::string make_rules() {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "path:src/component" + std::to_string(i) + "/** team=team" + std::to_string(i % 13) +
            " function=backend\n";
  }
  text += "symbol:payments:: team=payments function=backend\n";
  text += R"(name~^\[team-(?P<team>[^\]]+)\]\[(?P<function>[^\]]+)\](\[(?P<product>[^\]]+)\])?)";
  text += "\n";
  return text;
}

const std::string kRulesText = make_rules();

void BM_parse_rules(benchmark::State& state) {
  for (auto _ : state) {
    auto parsed = warden::ownership_rules::parse(kRulesText);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetLabel("202 rules; informational");
}
BENCHMARK(BM_parse_rules);

// Times matching `subject` against the rules above.
void time_match(benchmark::State& state, const char* label, const warden::rule_subject& subject) {
  const auto rules = *warden::ownership_rules::parse(kRulesText).rules;
  state.SetLabel(label);
  for (auto _ : state) benchmark::DoNotOptimize(rules.match(subject));
}

void BM_match_frame_path(benchmark::State& state) {
  warden::rule_subject frame;
  frame.path = "/home/ci/monolith/src/component7/orders/service.cpp";
  time_match(state, "budget: <= 2 us", frame);
}
BENCHMARK(BM_match_frame_path);

void BM_match_alert_name(benchmark::State& state) {
  warden::rule_subject alert;
  alert.name = "[team-payments][backend][checkout] High error rate on /api/pay";
  time_match(state, "budget: <= 2 us", alert);
}
BENCHMARK(BM_match_alert_name);

}  // namespace

BENCHMARK_MAIN();

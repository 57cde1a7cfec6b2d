// The alerting keys of warden-sink's configuration (trackers, escalation, alert_rules,
// delivery): a full example read into its structs, with secrets from the environment and
// from a real file; the default rules; durations; and every validation error with its
// message and exact line:column. A secret's value never appears in any message.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../support/temp_directory.hpp"
#include "server/config.hpp"

namespace {

using namespace std::chrono_literals;
using warden::sink::alert_rule_config;
using warden::sink::alerting_config;
using warden::sink::config_result;
using warden::sink::event_level;
using warden::sink::match_mode;
using warden::sink::parse_config;
using warden::sink::rule_action;
using warden::sink::rule_condition;
using warden::sink::rule_filter;
using warden::sink::sink_config;

// A value no message may ever contain.
constexpr const char* kSecretValue = "zq-SECRET-7f3a9c";

// Every error of `result`, as "c.yaml:line:column: message" lines.
std::string errors_of(const config_result& result) {
  CHECK(result.config.has_value() == result.errors.empty());
  std::string errors;
  for (const auto& error : result.errors) errors += error.to_string("c.yaml") + "\n";
  return errors;
}

std::string errors_of(const std::string& yaml, const std::string& base = "") {
  return errors_of(parse_config(yaml, base));
}

// The alerting config `yaml` gives; fails the test when it has errors.
alerting_config alerting_of(const std::string& yaml, const std::string& base = "") {
  const config_result result = parse_config(yaml, base);
  for (const auto& error : result.errors) FAIL_CHECK(error.to_string("c.yaml"));
  REQUIRE(result.config.has_value());
  return result.config->alerting;
}

using warden::testing::temp_directory;

// Sets an environment variable for the scope of a test, and removes it after.
class scoped_environment_variable final {
 public:
  scoped_environment_variable(const char* name, const char* value) : name_(name) {
    REQUIRE(::setenv(name, value, 1) == 0);
  }
  ~scoped_environment_variable() { ::unsetenv(name_); }
  scoped_environment_variable(const scoped_environment_variable&) = delete;
  scoped_environment_variable& operator=(const scoped_environment_variable&) = delete;

 private:
  const char* name_;
};

// A YAML text and the errors it must give, one per line.
struct bad_config {
  std::string yaml;
  std::string errors;
};

void check_errors(const std::vector<bad_config>& cases, const std::string& base = "") {
  for (const bad_config& c : cases) {
    CAPTURE(c.yaml);
    CHECK(errors_of(c.yaml, base) == c.errors + "\n");
  }
}

// A valid tracker and escalation (lines 1 to 5), for the rules that follow from line 6.
const std::string kTrackerAndEscalation = R"(trackers:
  - {name: yt, type: youtrack, url: https://yt.example, token: t0k}
escalation:
  owners:
    - {match: {}, tracker: yt, project: OPS}
)";

// kTrackerAndEscalation then a rule (lines 6 to 8) with these lines after it.
std::string rule_with(const std::string& lines) {
  return kTrackerAndEscalation + "alert_rules:\n  - id: r\n" + lines;
}

// The plan's example (docs/ALERTING-PLAN.md 1.1) for what this warden-sink supports, plus
// a second tracker with a file token, and a rule with every filter.
constexpr const char* kFullExample = R"(public_url: https://warden.example.internal
trackers:
  - name: youtrack
    type: youtrack
    url: https://youtrack.example.internal/
    token: {env: WARDEN_TEST_YOUTRACK_TOKEN}
    incident_key_field: Incident key
    fields:
      - {name: Type, type: enum, value: Incident}
      - {name: Priority, type: enum, value: "{priority}"}
      - {name: Subsystem, type: owned, value: "{product}"}
      - {name: Team, type: enum, value: "{team}"}
      - {name: Summary, type: string, value: "{{{level}}} {title} in {environment}"}
    priority: {fatal: Critical, error: Major, warning: Normal, info: Minor, debug: Minor}
    commands: {resolve: State Fixed, reopen: State Reopened}
  - name: local
    type: youtrack
    url: http://127.0.0.1:8080
    token: {file: youtrack-token.txt}
    priority: {fatal: Show-stopper}
escalation:
  tickets_per_team_per_hour: 12
  on_regression: comment
  on_resolve: none
  owners:                                       # first match wins; a catch-all is required
    - match: {team: payments}
      tracker: youtrack
      project: PAY
      fields: [{name: Assignee, type: user, value: payments-oncall}]
    - {match: {team: search, function: frontend, product: web}, tracker: local, project: SEARCH_2}
    - {match: {}, tracker: youtrack, project: OPS}
alert_rules:
  - id: prod-errors
    name: Errors and fatals in production, new, regressed or unmuted
    conditions: [first_seen, regressed, unmuted]
    conditions_match: any
    filters: {environment: {in: [production, prod]}, level: {at_least: error}}
    actions: [ticket]
    action_interval: 30m
  - id: prod-warnings
    conditions: [{seen_more_than: 10, in: 1h}]
    filters: {environment: {in: [production, prod]}, level: warning}
    actions: [ticket]
  - id: payments_slow-burn
    conditions:
      - {users_more_than: 50, in: 1h30m}
    filters_match: any
    filters:
      team: payments
      function: [backend, worker]
      product: {starts_with: check}
      release: {matches: "^2\\.[0-9]+"}
      environment: {not_in: [development, staging]}
      tags: {region: eu, browser.name: {starts_with: Chrome}, canary: {not_set: true}}
      issue_age: {newer_than: 7d}
    actions: [{ticket: {tracker: local, project: OPS}}]
    action_interval: 2h
delivery: {timeout: 20s, connect_timeout: 1500ms, backoff: {initial: 1s, max: 10m},
           give_up_after: 1d12h, concurrency: 8, circuit: {failures: 3, probe_after: 1m},
           keep_delivered: 2w, keep_failed: 90d}
)";

void check_filter(const rule_filter& filter, rule_filter::attribute what, rule_filter::op how,
                  const std::vector<std::string>& values, const std::string& tag = "") {
  CHECK(filter.what == what);
  CHECK(filter.how == how);
  CHECK(filter.values == values);
  CHECK(filter.tag == tag);
}

void check_default_rules(const std::vector<alert_rule_config>& rules) {
  REQUIRE(rules.size() == 2);
  const alert_rule_config& errors = rules[0];
  CHECK(errors.id == "prod-errors");
  CHECK_FALSE(errors.name.empty());
  REQUIRE(errors.conditions.size() == 3);
  CHECK(errors.conditions[0].what == rule_condition::kind::first_seen);
  CHECK(errors.conditions[1].what == rule_condition::kind::regressed);
  CHECK(errors.conditions[2].what == rule_condition::kind::unmuted);
  CHECK(errors.conditions_match == match_mode::any);
  REQUIRE(errors.filters.size() == 2);
  check_filter(errors.filters[0], rule_filter::attribute::environment, rule_filter::op::in,
               {"production", "prod"});
  CHECK(errors.filters[1].what == rule_filter::attribute::level);
  CHECK(errors.filters[1].how == rule_filter::op::at_least);
  CHECK(errors.filters[1].level == event_level::error);
  CHECK(errors.filters_match == match_mode::all);
  REQUIRE(errors.actions.size() == 1);
  CHECK(errors.actions[0].what == rule_action::kind::ticket);
  CHECK(errors.actions[0].tracker.empty());
  CHECK(errors.action_interval == 30min);

  const alert_rule_config& warnings = rules[1];
  CHECK(warnings.id == "prod-warnings");
  REQUIRE(warnings.conditions.size() == 1);
  CHECK(warnings.conditions[0].what == rule_condition::kind::seen_more_than);
  CHECK(warnings.conditions[0].threshold == 10);
  CHECK(warnings.conditions[0].interval == 1h);
  REQUIRE(warnings.filters.size() == 2);
  check_filter(warnings.filters[0], rule_filter::attribute::environment, rule_filter::op::in,
               {"production", "prod"});
  CHECK(warnings.filters[1].what == rule_filter::attribute::level);
  CHECK(warnings.filters[1].how == rule_filter::op::eq);
  CHECK(warnings.filters[1].level == event_level::warning);
  REQUIRE(warnings.actions.size() == 1);
  CHECK(warnings.actions[0].what == rule_action::kind::ticket);
  CHECK(warnings.action_interval == 30min);
}

std::string printed(const warden::sink::secret& secret) {
  std::ostringstream out;
  out << secret;
  return out.str();
}

}  // namespace

TEST_CASE("the full example reads into its structs, secrets from the environment and a file") {
  const temp_directory directory;
  directory.write("youtrack-token.txt", "perm:from-a-file\n");
  const scoped_environment_variable token{"WARDEN_TEST_YOUTRACK_TOKEN", "perm:from-the-env"};
  const alerting_config alerting = alerting_of(kFullExample, directory.path());

  REQUIRE(alerting.trackers.size() == 2);
  const auto& youtrack = alerting.trackers[0];
  CHECK(youtrack.name == "youtrack");
  CHECK(youtrack.type == "youtrack");
  CHECK(youtrack.line == 3);
  CHECK(youtrack.youtrack.url == "https://youtrack.example.internal");  // no trailing slash
  CHECK(youtrack.youtrack.token.reveal() == "perm:from-the-env");
  CHECK(printed(youtrack.youtrack.token) == "***");
  CHECK(youtrack.youtrack.incident_key_field == "Incident key");
  REQUIRE(youtrack.youtrack.fields.size() == 5);
  CHECK(youtrack.youtrack.fields[0].name == "Type");
  CHECK(youtrack.youtrack.fields[0].type == "enum");
  CHECK(youtrack.youtrack.fields[0].value == "Incident");
  CHECK(youtrack.youtrack.fields[1].value == "{priority}");
  CHECK(youtrack.youtrack.fields[2].type == "owned");
  CHECK(youtrack.youtrack.fields[2].value == "{product}");
  CHECK(youtrack.youtrack.fields[4].type == "string");
  CHECK(youtrack.youtrack.fields[4].value == "{{{level}}} {title} in {environment}");
  CHECK(youtrack.youtrack.priority ==
        std::vector<std::string>{"Minor", "Minor", "Normal", "Major", "Critical"});
  CHECK(youtrack.youtrack.resolve_command == "State Fixed");
  CHECK(youtrack.youtrack.reopen_command == "State Reopened");

  const auto& local = alerting.trackers[1];
  CHECK(local.name == "local");
  CHECK(local.line == 16);
  CHECK(local.youtrack.url == "http://127.0.0.1:8080");
  CHECK(local.youtrack.token.reveal() == "perm:from-a-file");  // trailing newline stripped
  CHECK(local.youtrack.fields.empty());
  // Only fatal given: the other levels keep their defaults.
  CHECK(local.youtrack.priority ==
        std::vector<std::string>{"Minor", "Minor", "Normal", "Major", "Show-stopper"});
  CHECK(local.youtrack.resolve_command == "State Fixed");

  REQUIRE(alerting.escalation.has_value());
  const auto& escalation = *alerting.escalation;
  CHECK(escalation.tickets_per_team_per_hour == 12);
  CHECK(escalation.on_regression == warden::sink::regression_action::comment);
  CHECK(escalation.on_resolve == warden::sink::resolve_action::none);
  REQUIRE(escalation.owners.size() == 3);
  CHECK(escalation.owners[0].match.team == "payments");
  CHECK(escalation.owners[0].match.function.empty());
  CHECK(escalation.owners[0].tracker == "youtrack");
  CHECK(escalation.owners[0].project == "PAY");
  CHECK(escalation.owners[0].line == 26);
  REQUIRE(escalation.owners[0].fields.size() == 1);
  CHECK(escalation.owners[0].fields[0].name == "Assignee");
  CHECK(escalation.owners[0].fields[0].type == "user");
  CHECK(escalation.owners[0].fields[0].value == "payments-oncall");
  CHECK(escalation.owners[1].match.team == "search");
  CHECK(escalation.owners[1].match.function == "frontend");
  CHECK(escalation.owners[1].match.product == "web");
  CHECK(escalation.owners[1].tracker == "local");
  CHECK(escalation.owners[1].project == "SEARCH_2");
  CHECK(escalation.owners[2].match.team.empty());
  CHECK(escalation.owners[2].project == "OPS");
  CHECK(escalation.owners[2].line == 31);

  REQUIRE(alerting.alert_rules.size() == 3);
  // The first two are the defaults, written out.
  const std::vector<alert_rule_config> defaults = warden::sink::default_alert_rules();
  check_default_rules({alerting.alert_rules[0], alerting.alert_rules[1]});
  CHECK(alerting.alert_rules[0].name == defaults[0].name);
  CHECK(alerting.alert_rules[0].line == 33);
  CHECK(alerting.alert_rules[1].name == "prod-warnings");  // no name: the id

  const alert_rule_config& rule = alerting.alert_rules[2];
  CHECK(rule.id == "payments_slow-burn");
  CHECK(rule.line == 44);
  REQUIRE(rule.conditions.size() == 1);
  CHECK(rule.conditions[0].what == rule_condition::kind::users_more_than);
  CHECK(rule.conditions[0].threshold == 50);
  CHECK(rule.conditions[0].interval == 90min);
  CHECK(rule.conditions_match == match_mode::all);
  CHECK(rule.filters_match == match_mode::any);
  using attribute = rule_filter::attribute;
  using op = rule_filter::op;
  REQUIRE(rule.filters.size() == 9);
  check_filter(rule.filters[0], attribute::team, op::eq, {"payments"});
  check_filter(rule.filters[1], attribute::function, op::in, {"backend", "worker"});
  check_filter(rule.filters[2], attribute::product, op::starts_with, {"check"});
  check_filter(rule.filters[3], attribute::release, op::matches, {"^2\\.[0-9]+"});
  check_filter(rule.filters[4], attribute::environment, op::not_in, {"development", "staging"});
  check_filter(rule.filters[5], attribute::tag, op::eq, {"eu"}, "region");
  check_filter(rule.filters[6], attribute::tag, op::starts_with, {"Chrome"}, "browser.name");
  check_filter(rule.filters[7], attribute::tag, op::not_set, {}, "canary");
  CHECK(rule.filters[8].what == attribute::issue_age);
  CHECK(rule.filters[8].how == op::newer_than);
  CHECK(rule.filters[8].age == 7 * 24h);
  REQUIRE(rule.actions.size() == 1);
  CHECK(rule.actions[0].what == rule_action::kind::ticket);
  CHECK(rule.actions[0].tracker == "local");
  CHECK(rule.actions[0].project == "OPS");
  CHECK(rule.action_interval == 2h);

  const auto& delivery = alerting.delivery;
  CHECK(delivery.timeout == 20s);
  CHECK(delivery.connect_timeout == 1500ms);
  CHECK(delivery.backoff_initial == 1s);
  CHECK(delivery.backoff_max == 10min);
  CHECK(delivery.give_up_after == 36h);
  CHECK(delivery.concurrency == 8);
  CHECK(delivery.circuit_failures == 3);
  CHECK(delivery.circuit_probe_after == 1min);
  CHECK(delivery.keep_delivered == 14 * 24h);
  CHECK(delivery.keep_failed == 90 * 24h);
}

TEST_CASE("without alert_rules, escalation brings the default rules") {
  const alerting_config with_escalation = alerting_of(kTrackerAndEscalation);
  check_default_rules(with_escalation.alert_rules);
  check_default_rules(warden::sink::default_alert_rules());
  // A key with no value keeps its default too.
  check_default_rules(alerting_of(kTrackerAndEscalation + "alert_rules:\n").alert_rules);

  // No escalation: nothing to escalate to, no rules; delivery keeps its defaults.
  const alerting_config without = alerting_of(
      "trackers:\n  - {name: yt, type: youtrack, "
      "url: https://yt.example, token: t0k}\n");
  CHECK(without.trackers.size() == 1);
  CHECK_FALSE(without.escalation.has_value());
  CHECK(without.alert_rules.empty());
  CHECK(without.delivery.timeout == 15s);
  CHECK(without.delivery.concurrency == 16);
  CHECK(without.delivery.keep_failed == 90 * 24h);

  // `alert_rules: []` says: no rules at all.
  CHECK(alerting_of(kTrackerAndEscalation + "alert_rules: []\n").alert_rules.empty());

  // And a file without any alerting key has none of it.
  const alerting_config nothing = alerting_of("listen: 127.0.0.1:9000\n");
  CHECK(nothing.trackers.empty());
  CHECK_FALSE(nothing.escalation.has_value());
  CHECK(nothing.alert_rules.empty());
}

TEST_CASE("escalation defaults and plain http to every loopback host") {
  const alerting_config alerting = alerting_of(R"(trackers:
  - {name: a, type: youtrack, url: "http://localhost:8080/", token: t}
  - {name: b, type: youtrack, url: "http://[::1]:9/yt", token: t}
  - {name: c, type: youtrack, url: "HTTPS://YT.example", token: t}
escalation:
  owners: [{match: {}, tracker: a, project: OPS}]
)");
  CHECK(alerting.trackers.at(0).youtrack.url == "http://localhost:8080");
  CHECK(alerting.trackers.at(1).youtrack.url == "http://[::1]:9/yt");
  CHECK(alerting.trackers.at(2).youtrack.url == "HTTPS://YT.example");
  REQUIRE(alerting.escalation.has_value());
  CHECK(alerting.escalation->tickets_per_team_per_hour == 20);
  CHECK(alerting.escalation->on_regression == warden::sink::regression_action::reopen);
  CHECK(alerting.escalation->on_resolve == warden::sink::resolve_action::resolve);
}

TEST_CASE("durations are digits and units, repeated") {
  const struct {
    const char* text;
    std::chrono::milliseconds duration;
  } durations[] = {
      {"1ms", 1ms},   {"1500ms", 1500ms},
      {"45s", 45s},   {"15m", 15min},
      {"2h", 2h},     {"1h30m", 90min},
      {"1d12h", 36h}, {"2w", 14 * 24h},
      {"1m30s", 90s}, {"1w1d1h1m1s1ms", 7 * 24h + 24h + 1h + 1min + 1s + 1ms},
  };
  for (const auto& d : durations) {
    CAPTURE(d.text);
    CHECK(alerting_of(std::string{"delivery: {timeout: "} + d.text + "}\n").delivery.timeout ==
          d.duration);
  }
  const std::string expected =
      "delivery.timeout: expected a duration (e.g. 30s, 15m, 1h30m, 7d; units ms, s, m, h, d, "
      "w), got ";
  check_errors({
      {"delivery: {timeout: 30}\n", "c.yaml:1:21: " + expected + "'30'"},
      {"delivery: {timeout: 1.5h}\n", "c.yaml:1:21: " + expected + "'1.5h'"},
      {"delivery: {timeout: h}\n", "c.yaml:1:21: " + expected + "'h'"},
      {"delivery: {timeout: -5s}\n", "c.yaml:1:21: " + expected + "'-5s'"},
      {"delivery: {timeout: 5 s}\n", "c.yaml:1:21: " + expected + "'5 s'"},
      {"delivery: {timeout: 1h 30m}\n", "c.yaml:1:21: " + expected + "'1h 30m'"},
      {"delivery: {timeout: 5sec}\n", "c.yaml:1:21: " + expected + "'5sec'"},
      {"delivery: {timeout: \"\"}\n", "c.yaml:1:21: " + expected + "''"},
      {"delivery: {timeout: [5s]}\n", "c.yaml:1:21: " + expected + "a sequence"},
      {"delivery: {timeout: 99999999999w}\n",
       "c.yaml:1:21: delivery.timeout is too large: '99999999999w'"},
      {"delivery: {timeout: 0s}\n", "c.yaml:1:21: delivery.timeout must be at least 1ms, got '0s'"},
  });
}

TEST_CASE("delivery: positive durations, concurrency 1 to 256, backoff initial within max") {
  check_errors({
      {"delivery: {concurrency: 300}\n",
       "c.yaml:1:25: delivery.concurrency is too large: '300' (at most 256)"},
      {"delivery: {concurrency: 0}\n",
       "c.yaml:1:25: delivery.concurrency must be at least 1, got '0'"},
      {"delivery: {backoff: {initial: 1h, max: 5m}}\n",
       "c.yaml:1:21: delivery.backoff: initial (1h) is longer than max (5m)"},
      {"delivery: {backoff: {initial: 20m}}\n",
       "c.yaml:1:21: delivery.backoff: initial (20m) is longer than max (15m)"},
      {"delivery: {circuit: {failures: 0}}\n",
       "c.yaml:1:32: delivery.circuit.failures must be at least 1, got '0'"},
      {"delivery:\n  circuit: {probe_after: 0ms}\n  keep_failed: 0d\n",
       "c.yaml:2:26: delivery.circuit.probe_after must be at least 1ms, got '0ms'\n"
       "c.yaml:3:16: delivery.keep_failed must be at least 1ms, got '0d'"},
      {"delivery: {per_target_concurrency: 4}\n",
       "c.yaml:1:12: unknown key 'per_target_concurrency' (known keys: timeout, "
       "connect_timeout, backoff, give_up_after, concurrency, circuit, keep_delivered, "
       "keep_failed)"},
      {"delivery: {timout: 5s}\n", "c.yaml:1:12: unknown key 'timout' (did you mean 'timeout'?)"},
  });
}

TEST_CASE("trackers: type, required keys, url, fields, templates, priority, unique names") {
  check_errors({
      {"trackers:\n  - {name: gh, type: github, url: https://api.github.com, labels: [x]}\n",
       "c.yaml:2:22: tracker type 'github' is not supported yet (supported: youtrack)"},
      {"trackers:\n  - {name: j, type: jira_cloud}\n",
       "c.yaml:2:21: tracker type 'jira_cloud' is not supported yet (supported: youtrack)"},
      {"trackers:\n  - name: yt\n    type: youtrak\n",
       "c.yaml:3:11: unknown tracker type 'youtrak' (did you mean 'youtrack'?)"},
      {"trackers:\n  - name: yt\n    type: redmine\n",
       "c.yaml:3:11: unknown tracker type 'redmine' (known tracker types: youtrack)"},
      {"trackers:\n  - name: yt\n    type: youtrack\n",
       "c.yaml:2:5: trackers[0]: 'url' is required\n"
       "c.yaml:2:5: trackers[0]: 'token' is required"},
      {"trackers:\n  - {type: youtrack, url: https://yt, token: t}\n",
       "c.yaml:2:5: trackers[0]: 'name' is required"},
      {"trackers:\n  - {name: yt, url: https://yt, token: t}\n",
       "c.yaml:2:5: trackers[0]: 'type' is required"},
      {"trackers:\n  - {name: \"\", type: youtrack, url: https://yt, token: t}\n",
       "c.yaml:2:12: trackers[0].name must not be empty"},
      {"trackers:\n"
       "  - {name: yt, type: youtrack, url: https://a, token: t}\n"
       "  - {name: yt, type: youtrack, url: https://b, token: t}\n",
       "c.yaml:3:12: duplicate tracker name 'yt' (first at line 2)"},
      {"trackers:\n  - name: yt\n    type: youtrack\n    url: http://yt.example.com\n    token: "
       "t\n",
       "c.yaml:4:10: trackers[0].url may use plain http only for loopback hosts (127.0.0.1, "
       "localhost, [::1]); use https://, got 'http://yt.example.com'"},
      {"trackers:\n  - name: yt\n    type: youtrack\n    url: ftp://yt\n    token: t\n",
       "c.yaml:4:10: trackers[0].url must start with https:// (or http:// to a loopback host), "
       "got 'ftp://yt'"},
      {"trackers:\n  - name: yt\n    type: youtrack\n    url: https:///api\n    token: t\n",
       "c.yaml:4:10: trackers[0].url has no host, got 'https:///api'"},
      {"trackers:\n  - {name: yt, type: youtrack, url: https://yt, token: t, colour: red}\n",
       "c.yaml:2:59: unknown key 'colour' (known keys: name, type, url, token, "
       "incident_key_field, fields, priority, commands)"},
      {"trackers:\n"
       "  - name: yt\n"
       "    type: youtrack\n"
       "    url: https://yt\n"
       "    token: t\n"
       "    fields:\n"
       "      - {name: Team, type: enumeration, value: \"{team}\"}\n"
       "      - {name: Owner, type: user, value: \"{teem}\"}\n"
       "      - {name: Note, type: text, value: \"{level\"}\n"
       "      - {name: Note, type: text, value: \"}\"}\n"
       "      - {name: Desc, type: text, value: \"{nope} here\"}\n"
       "      - {name: Team2, type: enum}\n",
       "c.yaml:7:28: unknown field type 'enumeration' (known field types: enum, multi_enum, "
       "owned, state, user, version, build, string, text, period)\n"
       "c.yaml:8:42: trackers[0].fields[1].value: unknown template variable 'teem' (did you "
       "mean 'team'?)\n"
       "c.yaml:9:41: trackers[0].fields[2].value: a '{' without '}' (write {{ for a brace)\n"
       "c.yaml:10:16: duplicate field 'Note' (first at line 9)\n"
       "c.yaml:10:41: trackers[0].fields[3].value: a '}' without '{' (write }} for a brace)\n"
       "c.yaml:11:41: trackers[0].fields[4].value: unknown template variable 'nope' (known "
       "template variables: team, function, product, level, severity, priority, environment, "
       "release, incident_key, issue_id, title, culprit, project, rule)\n"
       "c.yaml:12:9: trackers[0].fields[5]: 'value' is required"},
      {"trackers:\n"
       "  - name: yt\n"
       "    type: youtrack\n"
       "    url: https://yt\n"
       "    token: t\n"
       "    priority: {eror: Major, critical: Blocker}\n"
       "    commands: {resolve: Fixed, close: Closed}\n",
       "c.yaml:6:16: unknown level 'eror' (did you mean 'error'?)\n"
       "c.yaml:6:29: unknown level 'critical' (known levels: debug, info, warning, error, fatal)\n"
       "c.yaml:7:32: unknown key 'close' (known keys: resolve, reopen)"},
      {"trackers: {name: yt}\n", "c.yaml:1:11: trackers: expected a sequence, got a mapping"},
  });
}

TEST_CASE("secrets: a literal, {env: NAME} or {file: path}, errors name the source") {
  const temp_directory directory;
  directory.write("empty.txt", "\n\n");
  ::unsetenv("WARDEN_TEST_UNSET");
  const scoped_environment_variable empty{"WARDEN_TEST_EMPTY", ""};
  const std::string head = "trackers:\n  - name: yt\n    type: youtrack\n    url: https://yt\n";
  check_errors(
      {
          {head + "    token: {env: WARDEN_TEST_UNSET}\n",
           "c.yaml:5:18: environment variable WARDEN_TEST_UNSET (trackers[0].token) is not set"},
          {head + "    token: {env: WARDEN_TEST_EMPTY}\n",
           "c.yaml:5:18: environment variable WARDEN_TEST_EMPTY (trackers[0].token) is empty"},
          {head + "    token: {env: WARDEN_TEST_EMPTY, file: empty.txt}\n",
           "c.yaml:5:12: trackers[0].token: give env or file, not both"},
          {head + "    token: {}\n",
           "c.yaml:5:12: trackers[0].token: expected {env: NAME} or {file: path}"},
          {head + "    token: {envv: X}\n",
           "c.yaml:5:13: trackers[0].token: unknown key, not shown in case it is the secret "
           "(did you mean 'env'?)"},
          {head + "    token: {perm:abc123}\n",
           "c.yaml:5:13: trackers[0].token: unknown key, not shown in case it is the secret "
           "(expected env or file)"},
          {head + "    token: {env: A, env: B}\n",
           "c.yaml:5:21: trackers[0].token: 'env' is given twice"},
          {head + "    token: \"\"\n", "c.yaml:5:12: trackers[0].token is empty"},
          {head + "    token: [a, b]\n",
           "c.yaml:5:12: trackers[0].token: expected a string, {env: NAME} or {file: path}, got "
           "a sequence"},
          {head + "    token: {env: 1ABC}\n",
           "c.yaml:5:18: trackers[0].token.env is not an environment variable name (letters, "
           "digits and _, not starting with a digit)"},
          {head + "    token: {file: missing.txt}\n",
           "c.yaml:5:19: cannot read '" + directory.path() +
               "/missing.txt' (trackers[0].token): No such file or directory"},
          {head + "    token: {file: empty.txt}\n",
           "c.yaml:5:19: '" + directory.path() + "/empty.txt' (trackers[0].token) is empty"},
          {head + "    token:\n", "c.yaml:5:5: trackers[0].token needs a value"},
      },
      directory.path());

  // An absolute file name is read as it is; a literal is taken as it is.
  const std::string token_file = directory.write("token", "perm:abc\r\n");
  CHECK(alerting_of(head + "    token: {file: " + token_file + "}\n")
            .trackers.at(0)
            .youtrack.token.reveal() == "perm:abc");
  CHECK(alerting_of(head + "    token: perm:literal\n").trackers.at(0).youtrack.token.reveal() ==
        "perm:literal");
}

TEST_CASE("a secret's value never appears in an error message") {
  const temp_directory directory;
  directory.write("leak.txt", std::string{kSecretValue} + "\n");
  const scoped_environment_variable leak{"WARDEN_TEST_LEAK", kSecretValue};
  const std::string secret = kSecretValue;
  const std::string yaml =
      "trackers:\n"
      "  - {name: a, type: youtrack, url: https://a, token: " +
      secret + ", tokn: " + secret +
      "}\n"
      "  - {name: b, type: youtrack, url: ftp://b, token: {env: WARDEN_TEST_LEAK},\n"
      "     fields: [{name: x, type: bogus, value: y}]}\n"
      "  - {name: c, type: youtrack, url: https://c, token: {file: leak.txt, env: "
      "WARDEN_TEST_LEAK}}\n"
      "  - {name: d, type: youtrack, url: https://d, token: {env: \"" +
      secret +
      "\"}}\n"
      "  - {name: e, type: youtrack, url: https://e, token: [" +
      secret +
      "]}\n"
      "  - {name: f, type: youtrack, url: https://f, token: {" +
      secret +
      ": x}}\n"
      "  - {name: g, type: github, token: " +
      secret +
      "}\n"
      "  - {name: a, type: youtrack, url: https://h, token: {file: leak.txt}}\n"
      "escalation: {owners: [{match: {}, tracker: zz, project: OPS}]}\n";
  const config_result result = parse_config(yaml, directory.path());
  CHECK(result.errors.size() == 10);
  for (const auto& error : result.errors) {
    CAPTURE(error.message);
    CHECK(error.message.find(secret) == std::string::npos);
    CHECK(error.message.find("zq-SECRET") == std::string::npos);
  }
  CHECK(errors_of(result).find("unknown key 'tokn' (did you mean 'token'?)") != std::string::npos);
}

TEST_CASE("escalation: owners name declared trackers, the last one catches all") {
  const std::string tracker =
      "trackers:\n  - {name: yt, type: youtrack, url: https://yt, token: t}\n";
  check_errors({
      // "Unknown target".
      {tracker + "escalation:\n"
                 "  owners:\n"
                 "    - {match: {team: a}, tracker: jira, project: PAY}\n"
                 "    - {match: {}, tracker: yt, project: OPS}\n",
       "c.yaml:5:35: unknown tracker 'jira' (known trackers: yt)"},
      {tracker + "escalation:\n  owners:\n    - {match: {}, tracker: yr, project: OPS}\n",
       "c.yaml:5:28: unknown tracker 'yr' (did you mean 'yt'?)"},
      {"escalation:\n  owners:\n    - {match: {}, tracker: yt, project: OPS}\n",
       "c.yaml:3:28: unknown tracker 'yt' (none is declared)"},
      {tracker + "escalation:\n  owners:\n    - {match: {team: a}, tracker: yt, project: PAY}\n",
       "c.yaml:5:5: escalation.owners needs a catch-all entry (match: {}) last"},
      {tracker + "escalation:\n  owners: []\n",
       "c.yaml:4:11: escalation.owners needs a catch-all entry (match: {}) last"},
      {tracker + "escalation:\n  on_resolve: none\n",
       "c.yaml:4:3: escalation: 'owners' is required"},
      {tracker + "escalation:\n"
                 "  owners:\n"
                 "    - {match: {}, tracker: yt, project: OPS}\n"
                 "    - {match: {team: a}, tracker: yt, project: PAY}\n"
                 "    - {match: {}, tracker: yt, project: ALL}\n",
       "c.yaml:6:7: unreachable: line 5 matches every owner\n"
       "c.yaml:7:7: unreachable: line 5 matches every owner"},
      // A match with an error is not taken for a catch-all (nor its absence reported).
      {tracker + "escalation:\n  owners:\n    - {match: {teams: a}, tracker: yt, project: OPS}\n",
       "c.yaml:5:16: unknown key 'teams' (did you mean 'team'?)"},
      {tracker + "escalation:\n  owners:\n    - {match: {}, tracker: yt, project: 9PAY}\n",
       "c.yaml:5:41: escalation.owners[0].project must be a YouTrack project short name (a "
       "letter, then letters, digits or _), got '9PAY'"},
      {tracker + "escalation:\n  owners:\n    - {tracker: yt, project: OPS}\n",
       "c.yaml:5:7: escalation.owners[0]: 'match' is required"},
      {tracker + "escalation:\n"
                 "  tickets_per_team_per_hour: 0\n"
                 "  on_regression: reset\n"
                 "  on_resolve: close\n"
                 "  owners: [{match: {}, tracker: yt, project: OPS, fields: [{name: A, type: usr, "
                 "value: x}]}]\n",
       "c.yaml:4:30: escalation.tickets_per_team_per_hour must be at least 1, got '0'\n"
       "c.yaml:5:18: escalation.on_regression must be one of reopen, comment, none; got 'reset'\n"
       "c.yaml:6:15: escalation.on_resolve must be one of resolve, comment, none; got 'close'\n"
       "c.yaml:7:76: unknown field type 'usr' (did you mean 'user'?)"},
  });
}

TEST_CASE("alert rules: ids, conditions, windows and the all-contradiction") {
  check_errors({
      {rule_with("    conditions: [first_seen, reggressed]\n    actions: [ticket]\n"),
       "c.yaml:8:30: unknown condition 'reggressed' (did you mean 'regressed'?)"},
      {rule_with("    conditions: [first_seen, often]\n    actions: [ticket]\n"),
       "c.yaml:8:30: unknown condition 'often' (known conditions: first_seen, regressed, "
       "unmuted, seen_more_than, users_more_than)"},
      {rule_with("    conditions: [first_seen, regressed]\n    actions: [ticket]\n"),
       "c.yaml:8:17: alert_rules[0].conditions: first_seen and regressed can never hold "
       "together; did you mean conditions_match: any?"},
      {rule_with("    conditions: [first_seen, regressed, unmuted, regressed]\n"
                 "    conditions_match: all\n"
                 "    actions: [ticket]\n"),
       "c.yaml:9:23: alert_rules[0].conditions: first_seen, regressed and unmuted can never "
       "hold together; did you mean conditions_match: any?"},
      {rule_with("    conditions: [first_seen, regressed]\n"
                 "    conditions_match: some\n"
                 "    actions: [ticket]\n"),
       "c.yaml:9:23: alert_rules[0].conditions_match must be one of all, any, none; got 'some'"},
      {rule_with("    conditions: []\n    actions: [ticket]\n"),
       "c.yaml:8:17: alert_rules[0].conditions: at least one condition is needed"},
      {rule_with("    actions: [ticket]\n"),
       "c.yaml:7:5: alert_rules[0]: 'conditions' is required"},
      {rule_with("    conditions: [{seen_more_than: 10, in: 30s}]\n    actions: [ticket]\n"),
       "c.yaml:8:43: alert_rules[0].conditions[0].in must be from 1m to 30d, got '30s'"},
      {rule_with("    conditions: [{seen_more_than: 10, in: 31d}]\n    actions: [ticket]\n"),
       "c.yaml:8:43: alert_rules[0].conditions[0].in must be from 1m to 30d, got '31d'"},
      {rule_with("    conditions: [{users_more_than: 5}]\n    actions: [ticket]\n"),
       "c.yaml:8:18: alert_rules[0].conditions[0]: 'in' is required"},
      {rule_with("    conditions: [{in: 1h}]\n    actions: [ticket]\n"),
       "c.yaml:8:18: alert_rules[0].conditions[0]: expected {seen_more_than: N, in: 1h} or "
       "{users_more_than: N, in: 1h}"},
      {rule_with("    conditions: [{seen_more_than: -1, in: 1h}]\n    actions: [ticket]\n"),
       "c.yaml:8:35: alert_rules[0].conditions[0].seen_more_than must be at least 0, got '-1'"},
      {rule_with("    conditions: [{seen_more_then: 3, in: 1h}]\n    actions: [ticket]\n"),
       "c.yaml:8:18: alert_rules[0].conditions[0]: expected {seen_more_than: N, in: 1h} or "
       "{users_more_than: N, in: 1h}\n"
       "c.yaml:8:19: unknown condition 'seen_more_then' (did you mean 'seen_more_than'?)"},
      {rule_with("    conditions: [seen_more_than]\n    actions: [ticket]\n"),
       "c.yaml:8:18: alert_rules[0].conditions[0]: seen_more_than needs a count and a window, "
       "e.g. {seen_more_than: 10, in: 1h}"},
      {rule_with("    conditions: [first_seen]\n    actions: [ticket]\n    action_interval: 10s\n"),
       "c.yaml:10:22: alert_rules[0].action_interval must be from 1m to 30d, got '10s'"},
      {kTrackerAndEscalation + "alert_rules:\n  - id: Prod Errors\n    conditions: [first_seen]\n  "
                               "  actions: [ticket]\n",
       "c.yaml:7:9: alert_rules[0].id must be lowercase letters, digits, _ or -, got 'Prod "
       "Errors'"},
      {kTrackerAndEscalation + "alert_rules:\n"
                               "  - {id: r, conditions: [first_seen], actions: [ticket]}\n"
                               "  - {id: r, conditions: [regressed], actions: [ticket]}\n"
                               "  - {conditions: [regressed], actions: [ticket]}\n",
       "c.yaml:8:10: duplicate rule id 'r' (first at line 7)\n"
       "c.yaml:9:5: alert_rules[2]: 'id' is required"},
  });
  // conditions_match: any (or none) takes any combination.
  CHECK(alerting_of(rule_with("    conditions: [first_seen, regressed]\n"
                              "    conditions_match: none\n"
                              "    actions: [ticket]\n"))
            .alert_rules.at(0)
            .conditions_match == match_mode::none);
}

TEST_CASE("alert rules: filters, their operators and levels") {
  const std::string head = "    conditions: [first_seen]\n    actions: [ticket]\n";
  check_errors({
      {rule_with(head + "    filters: {teem: payments}\n"),
       "c.yaml:10:15: unknown filter 'teem' (did you mean 'team'?)"},
      {rule_with(head + "    filters: {team: {startswith: pay}}\n"),
       "c.yaml:10:22: unknown operator 'startswith' (did you mean 'starts_with'?)"},
      {rule_with(head + "    filters: {level: {starts_with: e}}\n"),
       "c.yaml:10:23: operator 'starts_with' is not valid for level (use eq, at_least, at_most)"},
      {rule_with(head + "    filters: {team: {at_least: x}}\n"),
       "c.yaml:10:22: operator 'at_least' is not valid for team (use eq, ne, in, not_in, "
       "starts_with, ends_with, contains, matches, is_set, not_set)"},
      {rule_with(head + "    filters: {level: {at_least: eror}}\n"),
       "c.yaml:10:33: unknown level 'eror' (did you mean 'error'?)"},
      {rule_with(head + "    filters: {level: severe}\n"),
       "c.yaml:10:22: unknown level 'severe' (known levels: debug, info, warning, error, fatal)"},
      {rule_with(head + "    filters: {level: [error, fatal]}\n"),
       "c.yaml:10:22: alert_rules[0].filters.level: expected a level or {eq|at_least|at_most: "
       "level}, got a sequence"},
      {rule_with(head + "    filters: {issue_age: {older_then: 1h}}\n"),
       "c.yaml:10:27: unknown operator 'older_then' (did you mean 'older_than'?)"},
      {rule_with(head + "    filters: {issue_age: 1h}\n"),
       "c.yaml:10:26: alert_rules[0].filters.issue_age: expected {older_than: duration} or "
       "{newer_than: duration}, got '1h'"},
      {rule_with(head + "    filters: {issue_age: {eq: 1h}}\n"),
       "c.yaml:10:27: operator 'eq' is not valid for issue_age (use older_than, newer_than)"},
      {rule_with(head + "    filters: {issue_age: {newer_than: 0s}}\n"),
       "c.yaml:10:39: alert_rules[0].filters.issue_age.newer_than must be at least 1ms, got "
       "'0s'"},
      {rule_with(head + "    filters: {team: {eq: a, ne: b}}\n"),
       "c.yaml:10:21: alert_rules[0].filters.team: one operator per filter, got 2"},
      {rule_with(head + "    filters: {team: {in: a}}\n"),
       "c.yaml:10:26: alert_rules[0].filters.team.in: expected a sequence, got 'a'"},
      {rule_with(head + "    filters: {team: {not_in: []}}\n"),
       "c.yaml:10:30: alert_rules[0].filters.team.not_in: an empty list matches nothing"},
      {rule_with(head + "    filters: {release: {is_set: maybe}}\n"),
       "c.yaml:10:33: alert_rules[0].filters.release.is_set: expected true or false, got "
       "'maybe'"},
      {rule_with(head + "    filters: {tags: {region: {within: eu}}}\n"),
       "c.yaml:10:31: unknown operator 'within' (known operators: eq, ne, in, not_in, "
       "starts_with, ends_with, contains, matches, is_set, not_set)"},
      {rule_with(head + "    filters: {tags: {region: {at_most: eu}}}\n"),
       "c.yaml:10:31: operator 'at_most' is not valid for a tag (use eq, ne, in, not_in, "
       "starts_with, ends_with, contains, matches, is_set, not_set)"},
      {rule_with(head + "    filters: {tags: [region]}\n"),
       "c.yaml:10:21: alert_rules[0].filters.tags: expected a mapping, got a sequence"},
      {rule_with(head + "    filters_match: most\n"),
       "c.yaml:10:20: alert_rules[0].filters_match must be one of all, any, none; got 'most'"},
  });

  // The other operators, a level written bare and with an alias, presence with false.
  const alerting_config alerting =
      alerting_of(rule_with(head + "    filters:\n"
                                   "      team: {ne: search}\n"
                                   "      function: {ends_with: end}\n"
                                   "      product: {contains: out}\n"
                                   "      environment: {eq: prod}\n"
                                   "      release: {is_set: false}\n"
                                   "      level: {at_most: warn}\n"
                                   "      tags: {os: [linux, mac]}\n"
                                   "      issue_age: {older_than: 1h}\n"));
  const auto& filters = alerting.alert_rules.at(0).filters;
  REQUIRE(filters.size() == 8);
  check_filter(filters[0], rule_filter::attribute::team, rule_filter::op::ne, {"search"});
  check_filter(filters[1], rule_filter::attribute::function, rule_filter::op::ends_with, {"end"});
  check_filter(filters[2], rule_filter::attribute::product, rule_filter::op::contains, {"out"});
  check_filter(filters[3], rule_filter::attribute::environment, rule_filter::op::eq, {"prod"});
  check_filter(filters[4], rule_filter::attribute::release, rule_filter::op::not_set, {});
  CHECK(filters[5].how == rule_filter::op::at_most);
  CHECK(filters[5].level == event_level::warning);
  check_filter(filters[6], rule_filter::attribute::tag, rule_filter::op::in, {"linux", "mac"},
               "os");
  CHECK(filters[7].how == rule_filter::op::older_than);
  CHECK(filters[7].age == 1h);
}

TEST_CASE("alert rules: actions need escalation, declared trackers, and notify needs routing") {
  check_errors({
      {rule_with("    conditions: [first_seen]\n    actions: [tickets]\n"),
       "c.yaml:9:15: unknown action 'tickets' (did you mean 'ticket'?)"},
      {rule_with("    conditions: [first_seen]\n    actions: [ticket, notify]\n"),
       "c.yaml:9:23: action 'notify' needs notification routing (route:), which this "
       "warden-sink does not have yet"},
      {rule_with("    conditions: [first_seen]\n    actions: [{notify: {receiver: x}}]\n"),
       "c.yaml:9:16: action 'notify' needs notification routing (route:), which this "
       "warden-sink does not have yet"},
      {rule_with("    conditions: [first_seen]\n"
                 "    actions: [{ticket: {tracker: jira, project: OPS}}]\n"),
       "c.yaml:9:34: unknown tracker 'jira' (known trackers: yt)"},
      {rule_with("    conditions: [first_seen]\n    actions: [{ticket: {tracker: yt}}]\n"),
       "c.yaml:9:24: alert_rules[0].actions[0].ticket: 'project' is required"},
      {rule_with("    conditions: [first_seen]\n    actions: []\n"),
       "c.yaml:9:14: alert_rules[0].actions: at least one action is needed"},
      {rule_with("    conditions: [first_seen]\n    actions: [[ticket]]\n"),
       "c.yaml:9:15: alert_rules[0].actions[0]: expected an action (ticket, notify, or "
       "{ticket: {tracker: name, project: KEY}}), got a sequence"},
      {"alert_rules:\n  - id: r\n    conditions: [first_seen]\n    actions: [ticket]\n",
       "c.yaml:4:15: action 'ticket' needs escalation (escalation.owners), which is not "
       "configured"},
      {"trackers:\n"
       "  - {name: yt, type: youtrack, url: https://yt, token: t}\n"
       "alert_rules:\n"
       "  - {id: r, conditions: [first_seen], actions: [{ticket: {tracker: yt, project: X}}]}\n",
       "c.yaml:4:50: action 'ticket' needs escalation (escalation.owners), which is not "
       "configured"},
  });
  // An action with no options is the plain ticket.
  const auto actions =
      alerting_of(rule_with("    conditions: [first_seen]\n    actions: [{ticket: }]\n"))
          .alert_rules.at(0)
          .actions;
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].what == rule_action::kind::ticket);
  CHECK(actions[0].tracker.empty());
}

TEST_CASE("routing keys are not read yet, and every alerting error comes at once") {
  check_errors({
      {"route: {receiver: x}\n",
       "c.yaml:1:1: unknown key 'route' (known keys: listen, database, public_url, log_level, "
       "api_token, fallback_owner, ownership_rules, ownership_rules_file, projects, limits, "
       "storage, rate_limits, attachments, trackers, escalation, alert_rules, delivery)"},
      {"delivry: {}\n", "c.yaml:1:1: unknown key 'delivry' (did you mean 'delivery'?)"},
      {"alert_rule: []\n", "c.yaml:1:1: unknown key 'alert_rule' (did you mean 'alert_rules'?)"},
  });
  CHECK(errors_of("trackers:\n"
                  "  - {name: yt, type: youtrack, url: http://yt, token: t}\n"
                  "escalation:\n"
                  "  owners: [{match: {team: a}, tracker: yt, project: OPS}]\n"
                  "alert_rules:\n"
                  "  - {id: r, conditions: [first_seen, unmuted], actions: [notify]}\n"
                  "delivery: {concurrency: 0}\n"
                  "log_level: loud\n") ==
        "c.yaml:2:37: trackers[0].url may use plain http only for loopback hosts (127.0.0.1, "
        "localhost, [::1]); use https://, got 'http://yt'\n"
        "c.yaml:4:11: escalation.owners needs a catch-all entry (match: {}) last\n"
        "c.yaml:6:25: alert_rules[0].conditions: first_seen and unmuted can never hold "
        "together; did you mean conditions_match: any?\n"
        "c.yaml:6:58: action 'notify' needs notification routing (route:), which this "
        "warden-sink does not have yet\n"
        "c.yaml:7:25: delivery.concurrency must be at least 1, got '0'\n"
        "c.yaml:8:12: log_level must be one of debug, info, warning, error; got 'loud'\n");
}

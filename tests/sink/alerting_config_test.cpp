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
#include "config_checks.hpp"
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
using warden::testing::bad_config;
using warden::testing::check_errors;
using warden::testing::config_of;
using warden::testing::errors_of;

// A value no message may ever contain.
constexpr const char* kSecretValue = "zq-SECRET-7f3a9c";

// The alerting config `yaml` gives; fails the test when it has errors.
alerting_config alerting_of(const std::string& yaml, const std::string& base = "") {
  return config_of(yaml, base).alerting;
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
  CHECK(youtrack.type == warden::sink::tracker_type::youtrack);
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
       "c.yaml:2:5: trackers[0]: 'token' is required"},
      {"trackers:\n  - {name: j, type: jira_cloud}\n",
       "c.yaml:2:5: trackers[0]: 'url' is required\n"
       "c.yaml:2:5: trackers[0]: 'token' is required"},
      {"trackers:\n  - name: yt\n    type: youtrak\n",
       "c.yaml:3:11: unknown tracker type 'youtrak' (did you mean 'youtrack'?)"},
      {"trackers:\n  - name: yt\n    type: redmine\n",
       "c.yaml:3:11: unknown tracker type 'redmine' (known tracker types: youtrack, github, "
       "jira_cloud, webhook)"},
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
       "incident_key_field, fields, priority, commands, inbound_secret)"},
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
       "c.yaml:7:28: unknown youtrack field type 'enumeration' (known youtrack field types: enum, "
       "multi_enum, "
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
      "  - {name: g, type: github, token: [" +
      secret +
      "]}\n"
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
       "c.yaml:7:76: unknown youtrack field type 'usr' (did you mean 'user'?)"},
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
       "c.yaml:9:23: action 'notify' needs a route (route:), which is not configured"},
      {rule_with("    conditions: [first_seen]\n    actions: [{notify: }]\n"),
       "c.yaml:9:16: action 'notify' needs a route (route:), which is not configured"},
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

TEST_CASE("every alerting error comes at once") {
  check_errors({
      {"rout: {receiver: x}\n", "c.yaml:1:1: unknown key 'rout' (did you mean 'route'?)"},
      {"receiver: []\n", "c.yaml:1:1: unknown key 'receiver' (did you mean 'receivers'?)"},
      {"delivry: {}\n", "c.yaml:1:1: unknown key 'delivry' (did you mean 'delivery'?)"},
      {"alert_rule: []\n", "c.yaml:1:1: unknown key 'alert_rule' (did you mean 'alert_rules'?)"},
      {"colour: red\n",
       "c.yaml:1:1: unknown key 'colour' (known keys: listen, database, public_url, log_level, "
       "api_token, fallback_owner, ownership_rules, ownership_rules_file, projects, limits, "
       "storage, rate_limits, attachments, trackers, escalation, alert_rules, delivery, route, "
       "receivers, flood)"},
  });
  CHECK(errors_of("trackers:\n"
                  "  - {name: yt, type: youtrack, url: http://yt, token: t}\n"
                  "escalation:\n"
                  "  owners: [{match: {team: a}, tracker: yt, project: OPS}]\n"
                  "alert_rules:\n"
                  "  - {id: r, conditions: [first_seen, unmuted], actions: [notify]}\n"
                  "delivery: {concurrency: 0}\n"
                  "log_level: loud\n"
                  "route:\n"
                  "  receiver: slak\n"
                  "  routes: [{matchers: ['teem=\"a\"'], group_by: [tem]}]\n"
                  "receivers:\n"
                  "  - {name: slack, slack: {webhook_url: http://hooks.example}}\n"
                  "flood: {slack_per_webhook: {rate: fast}}\n") ==
        "c.yaml:2:37: trackers[0].url may use plain http only for loopback hosts (127.0.0.1, "
        "localhost, [::1]); use https://, got 'http://yt'\n"
        "c.yaml:4:11: escalation.owners needs a catch-all entry (match: {}) last\n"
        "c.yaml:6:25: alert_rules[0].conditions: first_seen and unmuted can never hold "
        "together; did you mean conditions_match: any?\n"
        "c.yaml:7:25: delivery.concurrency must be at least 1, got '0'\n"
        "c.yaml:8:12: log_level must be one of debug, info, warning, error; got 'loud'\n"
        "c.yaml:10:13: unknown receiver 'slak' (did you mean 'slack'?)\n"
        "c.yaml:11:25: unknown label 'teem' (did you mean 'team'?)\n"
        "c.yaml:11:48: unknown label 'tem' (did you mean 'team'?)\n"
        "c.yaml:13:40: receivers[0].slack.webhook_url must be an https URL (plain http only to "
        "a loopback host); its value is a secret and not shown\n"
        "c.yaml:14:35: flood.slack_per_webhook.rate: expected a rate such as 1/s, 120/m or "
        "0.5/h, got 'fast'\n");
}

namespace {

using warden::sink::label_matcher;
using warden::sink::receiver_config;
using warden::sink::route_config;

// The plan's example (docs/ALERTING-PLAN.md 1.1): its route, receivers and flood as
// written there, with a tracker and escalation (its digest keys too) and rules that notify.
constexpr const char* kRoutingExample = R"(public_url: https://warden.example.internal
trackers:
  - {name: youtrack, type: youtrack, url: https://youtrack.example.internal, token: t}
escalation:
  tickets_per_team_per_hour: 20                 # rolling 60 min, durable; overflow → digest ticket
  digest_window: 1h                             # one digest per team × tracker project per window
  digest_update_interval: 5m                    # digest description rewritten at most this often
  owners:
    - {match: {}, tracker: youtrack, project: OPS}
alert_rules:
  - id: prod-errors
    conditions: [first_seen, regressed, unmuted]
    conditions_match: any
    filters: {environment: {in: [production, prod]}, level: {at_least: error}}
    actions: [ticket, notify]
  - id: preprod
    conditions: [first_seen, regressed]
    conditions_match: any
    filters: {environment: {in: [development, staging]}}
    actions: [notify]
route:                                          # Alertmanager semantics (§3.4)
  receiver: general-slack                       # root: no matchers; takes the unmatched (unowned teams)
  group_by: [issue]                             # labels, or [...] = every label
  group_wait: 30s
  group_interval: 5m
  repeat_interval: never                        # deviation from AM's 4h (§7)
  routes:
    - {matchers: ['severity="critical"', 'environment=~"production|prod"'], receiver: pagerduty-main,
       group_wait: 0s, continue: true}          # "PagerDuty for the most severe"
    - {matchers: ['level=~"error|fatal"', 'environment=~"production|prod"'], receiver: general-slack,
       group_by: [team], continue: true}        # "sometimes a more general channel"
    - {matchers: ['team="payments"'], receiver: payments-slack}    # "always the team's channel"
    - {matchers: ['team="search"'], receiver: search-slack}
receivers:                                      # exactly one of slack | pagerduty | webhook each
  - {name: payments-slack, slack: {webhook_url: {env: WARDEN_SLACK_PAYMENTS}}}
  - {name: search-slack, slack: {webhook_url: {env: WARDEN_SLACK_SEARCH}}}
  - {name: general-slack, slack: {webhook_url: {env: WARDEN_SLACK_GENERAL}, send_resolved: false}}
  - name: pagerduty-main
    pagerduty: {routing_key: {env: WARDEN_PD_ROUTING_KEY}, url: https://events.pagerduty.com/v2/enqueue,
                source: "{product}.{environment}", send_resolved: true,
                severity: {fatal: critical, error: error, warning: warning, info: info, debug: info}}
  - {name: audit, webhook: {url: https://audit.example.internal/warden, secret: {env: WARDEN_AUDIT_WHSEC},
                            send_resolved: true}}
flood:
  slack_per_webhook: {rate: 1/s, burst: 1, coalesce_above: 10}   # > 10 pending → one summary message
  pagerduty_per_routing_key: {rate: 120/m, burst: 20}
)";

// The Standard Webhooks test secret (24 bytes) and a PagerDuty-shaped routing key.
constexpr const char* kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kRoutingKey = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12";

// The environment the routing example reads its secrets from.
class routing_secrets final {
 public:
  scoped_environment_variable payments{"WARDEN_SLACK_PAYMENTS",
                                       "https://hooks.slack.com/services/T0/B1/payments"};
  scoped_environment_variable search{"WARDEN_SLACK_SEARCH", "http://127.0.0.1:8099/search"};
  scoped_environment_variable general{"WARDEN_SLACK_GENERAL",
                                      "https://hooks.slack.com/services/T0/B2/general"};
  scoped_environment_variable routing_key{"WARDEN_PD_ROUTING_KEY", kRoutingKey};
  scoped_environment_variable audit{"WARDEN_AUDIT_WHSEC", kWebhookSecret};
};

void check_matcher(const label_matcher& matcher, const std::string& label, label_matcher::op how,
                   const std::string& value) {
  CHECK(matcher.label == label);
  CHECK(matcher.how == how);
  CHECK(matcher.value == value);
}

// Receivers "a" (Slack) and "b" (webhook), lines 1 to 3, for routes from line 4.
const std::string kTwoReceivers =
    "receivers:\n"
    "  - {name: a, slack: {webhook_url: https://hooks.example/a}}\n"
    "  - {name: b, webhook: {url: https://b.example, secret: " +
    std::string{kWebhookSecret} + "}}\n";

// kTwoReceivers, then a root route to "a" (lines 4 and 5) with `lines` after it.
std::string route_with(const std::string& lines) {
  return kTwoReceivers + "route:\n  receiver: a\n" + lines;
}

// kTwoReceivers and a route whose one child (line 7) has these matchers (from column 31).
std::string matchers(const std::string& list) {
  return route_with("  routes:\n    - {receiver: b, matchers: " + list + "}\n");
}

}  // namespace

TEST_CASE("the plan's route, receivers and flood read into their structs") {
  const routing_secrets secrets;
  const alerting_config alerting = alerting_of(kRoutingExample);

  REQUIRE(alerting.escalation.has_value());
  CHECK(alerting.escalation->digest_window == 1h);
  CHECK(alerting.escalation->digest_update_interval == 5min);

  REQUIRE(alerting.alert_rules.size() == 2);
  REQUIRE(alerting.alert_rules[0].actions.size() == 2);
  CHECK(alerting.alert_rules[0].actions[0].what == rule_action::kind::ticket);
  CHECK(alerting.alert_rules[0].actions[1].what == rule_action::kind::notify);
  REQUIRE(alerting.alert_rules[1].actions.size() == 1);
  CHECK(alerting.alert_rules[1].actions[0].what == rule_action::kind::notify);

  REQUIRE(alerting.route.has_value());
  const route_config& root = *alerting.route;
  CHECK(root.line == 22);  // its first key's line
  CHECK(root.receiver == "general-slack");
  CHECK(root.matchers.empty());
  CHECK(root.group_by == std::vector<std::string>{"issue"});
  CHECK(root.group_wait == 30s);
  CHECK(root.group_interval == 5min);
  CHECK(root.repeat_interval == warden::sink::kNever);
  CHECK_FALSE(root.continue_matching);
  REQUIRE(root.routes.size() == 4);

  using op = label_matcher::op;
  const route_config& paging = root.routes[0];
  CHECK(paging.line == 28);
  CHECK(paging.receiver == "pagerduty-main");
  REQUIRE(paging.matchers.size() == 2);
  check_matcher(paging.matchers[0], "severity", op::eq, "critical");
  check_matcher(paging.matchers[1], "environment", op::matches, "production|prod");
  CHECK(paging.group_wait == 0ms);
  // Unset: inherited from the root when routing, not filled in here.
  CHECK_FALSE(paging.group_by.has_value());
  CHECK_FALSE(paging.group_interval.has_value());
  CHECK_FALSE(paging.repeat_interval.has_value());
  CHECK(paging.continue_matching);
  CHECK(paging.routes.empty());

  const route_config& general = root.routes[1];
  CHECK(general.receiver == "general-slack");
  REQUIRE(general.matchers.size() == 2);
  check_matcher(general.matchers[0], "level", op::matches, "error|fatal");
  check_matcher(general.matchers[1], "environment", op::matches, "production|prod");
  CHECK(general.group_by == std::vector<std::string>{"team"});
  CHECK_FALSE(general.group_wait.has_value());
  CHECK(general.continue_matching);

  CHECK(root.routes[2].receiver == "payments-slack");
  REQUIRE(root.routes[2].matchers.size() == 1);
  check_matcher(root.routes[2].matchers[0], "team", op::eq, "payments");
  CHECK_FALSE(root.routes[2].continue_matching);
  CHECK(root.routes[3].receiver == "search-slack");
  check_matcher(root.routes[3].matchers.at(0), "team", op::eq, "search");
  CHECK(root.routes[3].line == 33);

  REQUIRE(alerting.receivers.size() == 5);
  const receiver_config& payments = alerting.receivers[0];
  CHECK(payments.name == "payments-slack");
  CHECK(payments.type == "slack");
  CHECK(payments.line == 35);
  CHECK(payments.slack.webhook_url.reveal() == "https://hooks.slack.com/services/T0/B1/payments");
  CHECK(printed(payments.slack.webhook_url) == "***");
  CHECK_FALSE(payments.slack.send_resolved);
  // Plain http to a loopback host is allowed, for tests.
  CHECK(alerting.receivers[1].slack.webhook_url.reveal() == "http://127.0.0.1:8099/search");
  CHECK(alerting.receivers[2].name == "general-slack");
  CHECK_FALSE(alerting.receivers[2].slack.send_resolved);

  const receiver_config& pagerduty = alerting.receivers[3];
  CHECK(pagerduty.name == "pagerduty-main");
  CHECK(pagerduty.type == "pagerduty");
  CHECK(pagerduty.line == 38);
  CHECK(pagerduty.pagerduty.routing_key.reveal() == kRoutingKey);
  CHECK(pagerduty.pagerduty.url == "https://events.pagerduty.com/v2/enqueue");
  CHECK(pagerduty.pagerduty.source == "{product}.{environment}");
  CHECK(pagerduty.pagerduty.send_resolved);
  CHECK(pagerduty.pagerduty.severity ==
        std::vector<std::string>{"info", "info", "warning", "error", "critical"});

  const receiver_config& audit = alerting.receivers[4];
  CHECK(audit.name == "audit");
  CHECK(audit.type == "webhook");
  CHECK(audit.webhook.url == "https://audit.example.internal/warden");
  REQUIRE(audit.webhook.secrets.size() == 1);
  CHECK(audit.webhook.secrets[0].reveal() == kWebhookSecret);  // as written, prefix and all
  CHECK(audit.webhook.send_resolved);

  CHECK(alerting.flood.slack_per_webhook.per_second == 1.0);
  CHECK(alerting.flood.slack_per_webhook.burst == 1);
  CHECK(alerting.flood.slack_coalesce_above == 10);
  CHECK(alerting.flood.pagerduty_per_routing_key.per_second == 2.0);
  CHECK(alerting.flood.pagerduty_per_routing_key.burst == 20);
}

TEST_CASE("route: the root's defaults, what children leave unset, matcher forms") {
  const alerting_config minimal = alerting_of(route_with(""));
  REQUIRE(minimal.route.has_value());
  CHECK(minimal.route->receiver == "a");
  CHECK(minimal.route->line == 5);  // a block mapping starts at its first key
  CHECK(minimal.route->group_by == std::vector<std::string>{"issue"});
  CHECK(minimal.route->group_wait == 30s);
  CHECK(minimal.route->group_interval == 5min);
  CHECK(minimal.route->repeat_interval == warden::sink::kNever);
  CHECK(minimal.route->routes.empty());
  // Without route, receivers or flood: no route, none, the defaults.
  const alerting_config none = alerting_of("listen: 127.0.0.1:9000\n");
  CHECK_FALSE(none.route.has_value());
  CHECK(none.receivers.empty());
  CHECK(none.flood.slack_per_webhook.per_second == 1.0);
  CHECK(none.flood.slack_per_webhook.burst == 1);
  CHECK(none.flood.slack_coalesce_above == 10);
  CHECK(none.flood.pagerduty_per_routing_key.per_second == 2.0);
  CHECK(none.flood.pagerduty_per_routing_key.burst == 20);

  const alerting_config alerting =
      alerting_of(route_with("  group_by: ['...']\n"
                             "  group_wait: 1m\n"
                             "  repeat_interval: 4h\n"
                             "  routes:\n"
                             "    - receiver: b\n"
                             "      group_by: [team, issue, tags.region]\n"
                             "      group_interval: 1m\n"
                             "      repeat_interval: never\n"
                             "      continue: false\n"
                             "      matchers:\n"
                             "        - 'release = \"a\\\"b\\\\c\"'\n"
                             "        - \"tags.browser.name=~\\\"Chrome.*\\\"\"\n"
                             "        - level=\"warn\"\n"
                             "        - level!=\"debug\"\n"
                             "        - team!~\"^$\"\n"
                             "        - reason=\"resolved\"\n"
                             "        - owner_source=\"\"\n"
                             "      routes:\n"
                             "        - {matchers: ['function=\"backend\"']}\n"));
  const route_config& root = *alerting.route;
  CHECK(root.group_by == std::vector<std::string>{"..."});
  CHECK(root.group_wait == 1min);
  CHECK(root.group_interval == 5min);  // the default where unset
  CHECK(root.repeat_interval == 4h);
  REQUIRE(root.routes.size() == 1);
  const route_config& child = root.routes[0];
  CHECK(child.line == 10);
  CHECK(child.group_by == std::vector<std::string>{"team", "issue", "tags.region"});
  CHECK(child.group_interval == 1min);
  CHECK(child.repeat_interval == warden::sink::kNever);
  CHECK_FALSE(child.continue_matching);
  using op = label_matcher::op;
  REQUIRE(child.matchers.size() == 7);
  check_matcher(child.matchers[0], "release", op::eq, "a\"b\\c");  // \" and \\ unescaped
  check_matcher(child.matchers[1], "tags.browser.name", op::matches, "Chrome.*");
  check_matcher(child.matchers[2], "level", op::eq, "warning");  // the canonical name
  check_matcher(child.matchers[3], "level", op::ne, "debug");
  check_matcher(child.matchers[4], "team", op::not_matches, "^$");
  check_matcher(child.matchers[5], "reason", op::eq, "resolved");
  check_matcher(child.matchers[6], "owner_source", op::eq, "");
  // A child without a receiver takes its parent's when routing.
  REQUIRE(child.routes.size() == 1);
  CHECK(child.routes[0].receiver.empty());
  check_matcher(child.routes[0].matchers.at(0), "function", op::eq, "backend");
}

TEST_CASE("route: matcher errors point into the string") {
  check_errors({
      {matchers("['team==\"x\"']"),
       "c.yaml:7:37: route.routes[0].matchers[0]: '==' is not an operator; use =, !=, =~ or !~"},
      {matchers("['team=payments']"),
       "c.yaml:7:38: route.routes[0].matchers[0]: the value must be in double quotes: "
       "team=\"payments\""},
      {matchers("[\"team='x'\"]"),
       "c.yaml:7:38: route.routes[0].matchers[0]: the value must be in double quotes: "
       "team=\"'x'\""},
      {matchers("['team \"x\"']"),
       "c.yaml:7:38: route.routes[0].matchers[0]: expected =, !=, =~ or !~ after the label "
       "'team'"},
      {matchers("['team']"),
       "c.yaml:7:37: route.routes[0].matchers[0]: expected =, !=, =~ or !~ after the label "
       "'team'"},
      {matchers("['team=~']"),
       "c.yaml:7:39: route.routes[0].matchers[0]: expected a value in double quotes after '=~'"},
      {matchers("['=\"x\"']"),
       "c.yaml:7:33: route.routes[0].matchers[0]: expected a label name first, e.g. "
       "team=\"payments\""},
      {matchers("['']"),
       "c.yaml:7:33: route.routes[0].matchers[0]: expected a label name first, e.g. "
       "team=\"payments\""},
      {matchers("['team=\"x']"),
       "c.yaml:7:38: route.routes[0].matchers[0]: the value has no closing '\"'"},
      {matchers("['team=\"a\\nb\"']"),
       "c.yaml:7:40: route.routes[0].matchers[0]: unknown escape '\\n' in the value (write \\\" "
       "for \" and \\\\ for \\)"},
      {matchers("['team=\"a\", function=\"b\"']"),
       "c.yaml:7:41: route.routes[0].matchers[0]: one matcher per item; write the next one as an "
       "item of its own"},
      {matchers("['team=\"a\" x']"),
       "c.yaml:7:42: route.routes[0].matchers[0]: unexpected 'x' after the value"},
      {matchers("['teem=\"a\"']"), "c.yaml:7:33: unknown label 'teem' (did you mean 'team'?)"},
      {matchers("['  colour=\"red\"']"),
       "c.yaml:7:35: unknown label 'colour' (known labels: team, function, product, level, "
       "severity, environment, release, project, owner_source, reason, rule, tags.<key>)"},
      {matchers("['tags.=\"x\"']"),
       "c.yaml:7:33: route.routes[0].matchers[0]: 'tags.' needs a tag's key, e.g. tags.region"},
      {matchers("['issue=\"42\"']"),
       "c.yaml:7:33: route.routes[0].matchers[0]: 'issue' is for group_by; routes match the "
       "issue's labels"},
      {matchers("['release=~\"(2\\\\.x\"']"),
       "c.yaml:7:43: route.routes[0].matchers[0]: not a valid RE2 pattern: missing ): (2\\.x"},
      {matchers("['level=\"eror\"']"), "c.yaml:7:40: unknown level 'eror' (did you mean 'error'?)"},
      {matchers("['level!=\"severe\"']"),
       "c.yaml:7:41: unknown level 'severe' (known levels: debug, info, warning, error, fatal)"},
      {matchers("['severity=\"crit\"']"),
       "c.yaml:7:43: unknown severity 'crit' (known severities: critical, error, warning, "
       "info)"},
      {matchers("['reason=\"new\"']"),
       "c.yaml:7:41: unknown reason 'new' (known reasons: first_seen, regressed, unmuted, "
       "seen_more_than, users_more_than, resolved)"},
      // Through YAML's quoting: a plain scalar, '' in single quotes, escapes in double ones.
      {matchers("[teem=\"a\"]"), "c.yaml:7:32: unknown label 'teem' (did you mean 'team'?)"},
      {matchers("['team=\"it''s\" x']"),
       "c.yaml:7:46: route.routes[0].matchers[0]: unexpected 'x' after the value"},
      {matchers("[\"team=\\\"a\\\\\\\\b\\\" x\"]"),
       "c.yaml:7:49: route.routes[0].matchers[0]: unexpected 'x' after the value"},
      // Where the place inside is not plain to find (a block scalar), the item's.
      {route_with("  routes:\n    - matchers:\n        - >-\n          teem=\"a\"\n"),
       "c.yaml:8:11: unknown label 'teem' (did you mean 'team'?)"},
      {matchers("[[team]]"),
       "c.yaml:7:32: route.routes[0].matchers[0]: expected a matcher such as team=\"payments\", "
       "got a sequence"},
      {matchers("'team=\"a\"'"),
       "c.yaml:7:31: route.routes[0].matchers: expected a sequence, got 'team=\"a\"'"},
  });
}

TEST_CASE("route: the root, receivers named, group_by labels and timers") {
  check_errors({
      {kTwoReceivers + "route:\n  matchers: ['team=\"a\"']\n",
       "c.yaml:5:3: route: 'receiver' is required\n"
       "c.yaml:5:13: the root route matches everything; move its matchers to a child route"},
      {route_with("  continue: true\n"),
       "c.yaml:6:13: the root route has no siblings to continue to; continue belongs on child "
       "routes"},
      {kTwoReceivers + "route: {receiver: pagerduty}\n",
       "c.yaml:4:19: unknown receiver 'pagerduty' (known "
       "receivers: a, b)"},
      {"route: {receiver: a}\n", "c.yaml:1:19: unknown receiver 'a' (none is declared)"},
      {route_with("  routes:\n    - receiver: aa\n      routes: [{receiver: bb}]\n"),
       "c.yaml:7:17: unknown receiver 'aa' (did you mean 'a'?)\n"
       "c.yaml:8:27: unknown receiver 'bb' (did you mean 'b'?)"},
      {route_with("  group_by: [team, teem, tags.region, issue, team, tags.]\n"),
       "c.yaml:6:20: unknown label 'teem' (did you mean 'team'?)\n"
       "c.yaml:6:46: duplicate label 'team' (first at line 6)\n"
       "c.yaml:6:52: route.group_by[5]: 'tags.' needs a tag's key, e.g. tags.region"},
      {route_with("  group_by: [team, '...']\n"),
       "c.yaml:6:20: route.group_by: '...' stands for every label and goes alone"},
      {route_with("  group_by: team\n"),
       "c.yaml:6:13: route.group_by: expected a sequence, got 'team'"},
      {route_with("  group_wait: soon\n  group_interval: 0s\n  repeat_interval: 0s\n"),
       "c.yaml:6:15: route.group_wait: expected a duration (e.g. 30s, 15m, 1h30m, 7d; units ms, "
       "s, m, h, d, w), got 'soon'\n"
       "c.yaml:7:19: route.group_interval must be at least 1ms, got '0s'\n"
       "c.yaml:8:20: route.repeat_interval must be at least 1ms, got '0s'"},
      {route_with("  routes:\n    - {receiver: b, group_interval: never, repeat_interval: nevr}\n"),
       "c.yaml:7:37: route.routes[0].group_interval: expected a duration (e.g. 30s, 15m, 1h30m, "
       "7d; units ms, s, m, h, d, w), got 'never'\n"
       "c.yaml:7:61: route.routes[0].repeat_interval: expected a duration (e.g. 30s, 15m, 1h30m, "
       "7d; units ms, s, m, h, d, w), got 'nevr'"},
      {route_with("  routes:\n    - {match: {team: a}, receiver: b, continue: maybe}\n"),
       "c.yaml:7:8: unknown key 'match' (known keys: receiver, matchers, group_by, group_wait, "
       "group_interval, repeat_interval, continue, routes)\n"
       "c.yaml:7:49: route.routes[0].continue: expected a boolean (true or false), got 'maybe'"},
      {route_with("  routes: {receiver: b}\n"),
       "c.yaml:6:11: route.routes: expected a sequence, got a mapping"},
      {kTwoReceivers + "route: [a]\n", "c.yaml:4:8: route: expected a mapping, got a sequence"},
  });
  // group_wait may be zero: send at once.
  CHECK(alerting_of(route_with("  group_wait: 0s\n")).route->group_wait == 0ms);
}

TEST_CASE("receivers: one integration each, unique names, URLs, keys and signing secrets") {
  const std::string head = "receivers:\n";
  check_errors({
      {head + "  - {name: a}\n",
       "c.yaml:2:5: receivers[0]: a receiver needs exactly one of slack, pagerduty, webhook"},
      {head +
           "  - {name: a, slack: {webhook_url: https://h/a}, webhook: {url: https://w, "
           "secret: " +
           kWebhookSecret + "}}\n",
       "c.yaml:2:5: receivers[0]: a receiver needs exactly one of slack, pagerduty, webhook "
       "(got slack and webhook)"},
      {head + "  - name: a\n    slack:\n", "c.yaml:3:5: receivers[0].slack needs a value"},
      {head + "  - {slack: {webhook_url: https://h/a}}\n",
       "c.yaml:2:5: receivers[0]: 'name' is "
       "required"},
      {head + "  - {name: a, slack: {webhook_url: https://h/a}}\n"
              "  - {name: a, slack: {webhook_url: https://h/b}}\n"
              "  - {name: \"\", slack: {webhook_url: https://h/c}}\n",
       "c.yaml:3:12: duplicate receiver name 'a' (first at line 2)\n"
       "c.yaml:4:12: receivers[2].name must not be empty"},
      {"trackers:\n  - {name: yt, type: youtrack, url: https://yt, token: t}\n" + head +
           "  - {name: yt, slack: {webhook_url: https://h/a}}\n",
       "c.yaml:4:12: receiver name 'yt' is a tracker's name too (line 2); give them different "
       "names"},
      {head + "  - {name: a, slack: {}}\n  - {name: b, slack: {webhook_url: x, colour: red}}\n",
       "c.yaml:2:22: receivers[0].slack: 'webhook_url' is required\n"
       "c.yaml:3:36: receivers[1].slack.webhook_url must be an https URL (plain http only to a "
       "loopback host); its value is a secret and not shown\n"
       "c.yaml:3:39: unknown key 'colour' (known keys: webhook_url, send_resolved)"},
      {head + "  - name: a\n    slack: {webhook_url: \"http://hooks.example/a\", send_resolved: "
              "sometimes}\n",
       "c.yaml:3:26: receivers[0].slack.webhook_url must be an https URL (plain http only to a "
       "loopback host); its value is a secret and not shown\n"
       "c.yaml:3:67: receivers[0].slack.send_resolved: expected a boolean (true or false), got "
       "'sometimes'"},
      {head + "  - name: p\n    pagerduty: {routing_key: abc123}\n",
       "c.yaml:3:30: receivers[0].pagerduty.routing_key must be 32 letters and digits (a "
       "PagerDuty integration key); its value is a secret and not shown"},
      {head + "  - name: p\n    pagerduty:\n      routing_key: " + kRoutingKey +
           "\n"
           "      url: http://events.pagerduty.com/v2/enqueue\n"
           "      source: \"{product}.{env}\"\n"
           "      severity: {fatal: sev1, eror: error}\n",
       "c.yaml:5:12: receivers[0].pagerduty.url may use plain http only for loopback hosts "
       "(127.0.0.1, localhost, [::1]); use https://, got 'http://events.pagerduty.com/v2/"
       "enqueue'\n"
       "c.yaml:6:15: receivers[0].pagerduty.source: unknown template variable 'env' (known "
       "template variables: team, function, product, level, severity, priority, environment, "
       "release, incident_key, issue_id, title, culprit, project, rule)\n"
       "c.yaml:7:25: receivers[0].pagerduty.severity.fatal must be one of critical, error, "
       "warning, info; got 'sev1'\n"
       "c.yaml:7:31: unknown level 'eror' (did you mean 'error'?)"},
      {head + "  - {name: p, pagerduty: {}}\n",
       "c.yaml:2:26: receivers[0].pagerduty: 'routing_key' is required"},
      {head + "  - {name: w, webhook: {url: https://w}}\n",
       "c.yaml:2:24: receivers[0].webhook: 'secret' (or 'secrets' while rotating) is required: "
       "deliveries are signed"},
      {head + "  - {name: w, webhook: {secret: " + kWebhookSecret + "}}\n",
       "c.yaml:2:24: receivers[0].webhook: 'url' is required"},
      {head + "  - name: w\n    webhook:\n      url: ftp://w\n      secret: whsec_not*base64\n",
       "c.yaml:4:12: receivers[0].webhook.url must start with https:// (or http:// to a loopback "
       "host), got 'ftp://w'\n"
       "c.yaml:5:15: receivers[0].webhook.secret must be base64 of at least 24 bytes, after an "
       "optional whsec_ prefix; its value is a secret and not shown"},
      {head +
           "  - name: w\n    webhook:\n      url: https://w\n"
           "      secrets: [whsec_c2hvcnQ=, " +
           kWebhookSecret + "]\n",
       "c.yaml:5:17: receivers[0].webhook.secrets[0] must be base64 of at least 24 bytes, after "
       "an optional whsec_ prefix; its value is a secret and not shown"},
      {head +
           "  - name: w\n    webhook:\n      url: https://w\n      secrets: []\n"
           "      secret: " +
           kWebhookSecret + "\n",
       "c.yaml:5:16: receivers[0].webhook.secrets: at least one secret is needed\n"
       "c.yaml:6:15: receivers[0].webhook: give secret or secrets, not both"},
      {head + "  - name: w\n    webhook: {url: https://w, secret: {env: WARDEN_TEST_UNSET}}\n",
       "c.yaml:3:45: environment variable WARDEN_TEST_UNSET (receivers[0].webhook.secret) is "
       "not set"},
      {"receivers: {name: a}\n", "c.yaml:1:12: receivers: expected a sequence, got a mapping"},
  });

  // Loopback http for local fakes; a secret without its prefix; rotation; literals.
  const std::string plain_key = std::string{kWebhookSecret}.substr(6);
  const alerting_config alerting = alerting_of(
      head +
      "  - {name: s, slack: {webhook_url: \"http://localhost:9/hook\", send_resolved: true}}\n"
      "  - name: p\n"
      "    pagerduty: {routing_key: " +
      kRoutingKey +
      ", url: \"http://127.0.0.1:9/v2/enqueue\", send_resolved: false,\n"
      "                severity: {debug: warning}}\n"
      "  - name: w\n"
      "    webhook: {url: \"http://[::1]:9/hook/\", secrets: [" +
      plain_key + ", " + kWebhookSecret + "], send_resolved: false}\n");
  REQUIRE(alerting.receivers.size() == 3);
  CHECK(alerting.receivers[0].type == "slack");
  CHECK(alerting.receivers[0].slack.webhook_url.reveal() == "http://localhost:9/hook");
  CHECK(alerting.receivers[0].slack.send_resolved);
  const auto& pagerduty = alerting.receivers[1].pagerduty;
  CHECK(pagerduty.url == "http://127.0.0.1:9/v2/enqueue");
  CHECK(pagerduty.source == "{product}.{environment}");  // the default
  CHECK_FALSE(pagerduty.send_resolved);
  CHECK(pagerduty.severity ==
        std::vector<std::string>{"warning", "info", "warning", "error", "critical"});
  const auto& webhook = alerting.receivers[2].webhook;
  CHECK(webhook.url == "http://[::1]:9/hook/");  // as written, its final slash too
  REQUIRE(webhook.secrets.size() == 2);
  CHECK(webhook.secrets[0].reveal() == plain_key);
  CHECK(webhook.secrets[1].reveal() == kWebhookSecret);
  CHECK_FALSE(webhook.send_resolved);
}

TEST_CASE("a receiver's secret never appears in an error message") {
  const temp_directory directory;
  const std::string secret = kSecretValue;
  directory.write("slack-url.txt", "http://" + secret + ".example/hook\n");
  const scoped_environment_variable slack{"WARDEN_TEST_SLACK_LEAK",
                                          ("https://" + secret + "/").c_str()};
  const scoped_environment_variable routing_key{"WARDEN_TEST_PD_LEAK", kSecretValue};
  const scoped_environment_variable signing{"WARDEN_TEST_WHSEC_LEAK", ("whsec_" + secret).c_str()};
  const std::string yaml =
      "receivers:\n"
      "  - {name: a, slack: {webhook_url: {file: slack-url.txt}}}\n"
      "  - {name: b, slack: {webhook_url: \"http://" +
      secret +
      "/x\"}}\n"
      "  - {name: c, slack: {webhook_url: {env: WARDEN_TEST_SLACK_LEAK}}, webhook: {}}\n"
      "  - {name: d, pagerduty: {routing_key: {env: WARDEN_TEST_PD_LEAK}}}\n"
      "  - {name: e, pagerduty: {routing_key: " +
      secret +
      "}}\n"
      "  - {name: f, webhook: {url: https://f, secret: {env: WARDEN_TEST_WHSEC_LEAK}}}\n"
      "  - {name: g, webhook: {url: https://g, secrets: [" +
      secret + ", {env: WARDEN_TEST_PD_LEAK}, {" + secret +
      ": x}]}}\n"
      "  - {name: h, slack: {webhook_url: [" +
      secret + "]}}\n";
  const config_result result = parse_config(yaml, directory.path());
  CHECK(result.errors.size() == 12);
  for (const auto& error : result.errors) {
    CAPTURE(error.message);
    CHECK(error.message.find(secret) == std::string::npos);
    CHECK(error.message.find("zq-SECRET") == std::string::npos);
  }
}

TEST_CASE("flood: rates, bursts and coalescing") {
  const alerting_config alerting = alerting_of(
      "flood:\n"
      "  slack_per_webhook: {rate: 0.5/s, burst: 3, coalesce_above: 25}\n"
      "  pagerduty_per_routing_key: {rate: 90/h, burst: 1}\n");
  CHECK(alerting.flood.slack_per_webhook.per_second == 0.5);
  CHECK(alerting.flood.slack_per_webhook.burst == 3);
  CHECK(alerting.flood.slack_coalesce_above == 25);
  CHECK(alerting.flood.pagerduty_per_routing_key.per_second == doctest::Approx(0.025));
  CHECK(alerting.flood.pagerduty_per_routing_key.burst == 1);
  // One part given: the others keep their defaults.
  const alerting_config rate_only = alerting_of("flood: {slack_per_webhook: {rate: 30/m}}\n");
  CHECK(rate_only.flood.slack_per_webhook.per_second == 0.5);
  CHECK(rate_only.flood.slack_per_webhook.burst == 1);
  CHECK(rate_only.flood.pagerduty_per_routing_key.per_second == 2.0);

  const std::string expected = "expected a rate such as 1/s, 120/m or 0.5/h, got ";
  check_errors({
      {"flood: {slack_per_webhook: {rate: 1/d}}\n",
       "c.yaml:1:35: flood.slack_per_webhook.rate: " + expected + "'1/d'"},
      {"flood: {slack_per_webhook: {rate: 5}}\n",
       "c.yaml:1:35: flood.slack_per_webhook.rate: " + expected + "'5'"},
      {"flood: {slack_per_webhook: {rate: -1/s}}\n",
       "c.yaml:1:35: flood.slack_per_webhook.rate: " + expected + "'-1/s'"},
      {"flood: {slack_per_webhook: {rate: 1.5.2/s}}\n",
       "c.yaml:1:35: flood.slack_per_webhook.rate: " + expected + "'1.5.2/s'"},
      {"flood: {slack_per_webhook: {rate: /s}}\n",
       "c.yaml:1:35: flood.slack_per_webhook.rate: " + expected + "'/s'"},
      {"flood: {slack_per_webhook: {rate: 1 / s}}\n",
       "c.yaml:1:35: flood.slack_per_webhook.rate: " + expected + "'1 / s'"},
      {"flood: {slack_per_webhook: {rate: 0/s}}\n",
       "c.yaml:1:35: flood.slack_per_webhook.rate must be more than 0, got '0/s'"},
      {"flood: {pagerduty_per_routing_key: {burst: 0, coalesce_above: 3}}\n",
       "c.yaml:1:44: flood.pagerduty_per_routing_key.burst must be at least 1, got '0'\n"
       "c.yaml:1:47: unknown key 'coalesce_above' (known keys: rate, burst)"},
      {"flood: {slack_per_webhook: {coalesce_above: 0}}\n",
       "c.yaml:1:45: flood.slack_per_webhook.coalesce_above must be at least 1, got '0'"},
      {"flood: {slack_coalesce_above: 10}\n",
       "c.yaml:1:9: unknown key 'slack_coalesce_above' (known keys: slack_per_webhook, "
       "pagerduty_per_routing_key)"},
  });
}

TEST_CASE("escalation: the digest window and how often the digest is rewritten") {
  const alerting_config defaults = alerting_of(kTrackerAndEscalation);
  CHECK(defaults.escalation->digest_window == 1h);
  CHECK(defaults.escalation->digest_update_interval == 5min);
  const alerting_config alerting = alerting_of(
      "trackers:\n  - {name: yt, type: youtrack, url: https://yt, token: t}\n"
      "escalation:\n  digest_window: 1d\n  digest_update_interval: 1s\n"
      "  owners: [{match: {}, tracker: yt, project: OPS}]\n");
  CHECK(alerting.escalation->digest_window == 24h);
  CHECK(alerting.escalation->digest_update_interval == 1s);
  const std::string head =
      "trackers:\n  - {name: yt, type: youtrack, url: https://yt, token: t}\n"
      "escalation:\n  owners: [{match: {}, tracker: yt, project: OPS}]\n";
  check_errors({
      {head + "  digest_window: 30s\n  digest_update_interval: 500ms\n",
       "c.yaml:5:18: escalation.digest_window must be from 1m to 1d, got '30s'\n"
       "c.yaml:6:27: escalation.digest_update_interval must be at least 1s, got '500ms'"},
      {head + "  digest_window: 25h\n",
       "c.yaml:5:18: escalation.digest_window must be from 1m to 1d, got '25h'"},
  });
}

TEST_CASE("the notify action needs a route, takes no options, and the default rules notify") {
  const std::string route =
      "receivers: [{name: a, slack: {webhook_url: https://h/a}}]\n"
      "route: {receiver: a}\n";
  // Only a route: the default rules notify, and preprod joins them.
  const std::vector<alert_rule_config> notified = alerting_of(route).alert_rules;
  REQUIRE(notified.size() == 3);
  CHECK(notified[0].id == "prod-errors");
  CHECK(notified[1].id == "prod-warnings");
  for (const alert_rule_config& rule : {notified[0], notified[1]}) {
    REQUIRE(rule.actions.size() == 1);
    CHECK(rule.actions[0].what == rule_action::kind::notify);
  }
  CHECK(notified[0].filters.size() == 2);
  CHECK(notified[1].conditions.at(0).threshold == 10);
  const alert_rule_config& preprod = notified[2];
  CHECK(preprod.id == "preprod");
  CHECK_FALSE(preprod.name.empty());
  REQUIRE(preprod.conditions.size() == 2);
  CHECK(preprod.conditions[0].what == rule_condition::kind::first_seen);
  CHECK(preprod.conditions[1].what == rule_condition::kind::regressed);
  CHECK(preprod.conditions_match == match_mode::any);
  REQUIRE(preprod.filters.size() == 1);
  check_filter(preprod.filters[0], rule_filter::attribute::environment, rule_filter::op::in,
               {"development", "staging", "dev"});
  REQUIRE(preprod.actions.size() == 1);
  CHECK(preprod.actions[0].what == rule_action::kind::notify);
  CHECK(preprod.action_interval == 30min);

  // A route and escalation: a ticket and a notification from the production rules.
  const std::vector<alert_rule_config> both =
      alerting_of(kTrackerAndEscalation + route).alert_rules;
  REQUIRE(both.size() == 3);
  for (const alert_rule_config& rule : {both[0], both[1]}) {
    REQUIRE(rule.actions.size() == 2);
    CHECK(rule.actions[0].what == rule_action::kind::ticket);
    CHECK(rule.actions[1].what == rule_action::kind::notify);
  }
  CHECK(both[2].id == "preprod");
  CHECK(both[2].actions.size() == 1);
  // Escalation only: as before, tickets only and no preprod (check_default_rules).
  check_default_rules(warden::sink::default_alert_rules(true, false));
  CHECK(warden::sink::default_alert_rules(false, false).empty());
  CHECK(alerting_of(route + "alert_rules: []\n").alert_rules.empty());

  // Written rules that notify.
  const auto rules = alerting_of(route +
                                 "alert_rules:\n"
                                 "  - {id: r, conditions: [first_seen], actions: [notify]}\n"
                                 "  - {id: s, conditions: [regressed], actions: [{notify: }]}\n")
                         .alert_rules;
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].actions.at(0).what == rule_action::kind::notify);
  CHECK(rules[1].actions.at(0).what == rule_action::kind::notify);
  check_errors({
      {route + "alert_rules:\n"
               "  - {id: r, conditions: [first_seen], actions: [{notify: {receiver: a}}]}\n",
       "c.yaml:4:58: alert_rules[0].actions[0].notify takes no options: the route decides where "
       "it goes"},
      {"alert_rules:\n  - {id: r, conditions: [first_seen], actions: [notify]}\n",
       "c.yaml:2:49: action 'notify' needs a route (route:), which is not configured"},
      // A route with errors is still a route: no second error for the action.
      {"route: {receiver: nobody}\n"
       "alert_rules:\n  - {id: r, conditions: [first_seen], actions: [notify]}\n",
       "c.yaml:1:19: unknown receiver 'nobody' (none is declared)"},
  });
}

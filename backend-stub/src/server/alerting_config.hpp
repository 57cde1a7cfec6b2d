// The alerting part of warden-sink's configuration (issue #5): trackers, which tracker
// project each owner escalates to, alert rules, where notifications go (an Alertmanager
// routing tree of receivers) and how deliveries are retried and paced. Parsed and checked
// with the rest of the file (config.hpp); see docs/SINK.md "Alert rules and escalation"
// for the YAML.
//
//   trackers:
//     - name: youtrack
//       type: youtrack
//       url: https://youtrack.example.internal
//       token: {env: WARDEN_YOUTRACK_TOKEN}
//       incident_key_field: Incident key
//       fields:
//         - {name: Priority, type: enum, value: "{priority}"}
//         - {name: Subsystem, type: owned, value: "{product}"}
//       priority: {fatal: Critical, error: Major, warning: Normal, info: Minor, debug: Minor}
//   escalation:
//     tickets_per_team_per_hour: 20
//     digest_window: 1h                   # past the cap: one digest ticket per window
//     digest_update_interval: 5m
//     owners:                             # first match wins; the last must match all
//       - {match: {team: payments}, tracker: youtrack, project: PAY}
//       - {match: {}, tracker: youtrack, project: OPS}
//   alert_rules:
//     - id: prod-errors
//       conditions: [first_seen, regressed]
//       conditions_match: any
//       filters: {environment: {in: [production, prod]}, level: {at_least: error}}
//       actions: [ticket, notify]
//   route:                                # Alertmanager's routing tree
//     receiver: general-slack             # the root: no matchers; takes what no child does
//     group_by: [issue]                   # labels, or [...] for all of them
//     repeat_interval: never
//     routes:
//       - {matchers: ['severity="critical"'], receiver: pagerduty-main, continue: true}
//       - {matchers: ['team="payments"', 'environment=~"prod.*"'], receiver: payments-slack}
//   receivers:                            # exactly one of slack, pagerduty, webhook each
//     - {name: payments-slack, slack: {webhook_url: {env: WARDEN_SLACK_PAYMENTS}}}
//     - {name: general-slack, slack: {webhook_url: {env: WARDEN_SLACK_GENERAL}}}
//     - {name: pagerduty-main, pagerduty: {routing_key: {env: WARDEN_PD_ROUTING_KEY}}}
//     - {name: audit, webhook: {url: https://audit.example.internal, secret: {env: WHSEC}}}
//   flood:
//     slack_per_webhook: {rate: 1/s, burst: 1, coalesce_above: 10}
//     pagerduty_per_routing_key: {rate: 120/m, burst: 20}
//   delivery: {timeout: 15s, backoff: {initial: 5s, max: 15m}, give_up_after: 72h}
//
// Secrets (tracker tokens, Slack webhook URLs, PagerDuty routing keys, webhook signing
// secrets) are a literal, {env: NAME} or {file: path} (relative to the config file's
// directory, trailing newline stripped); errors name the variable or file and the key,
// never the value. Durations are [0-9]+(ms|s|m|h|d|w) repeated ("1h30m"); a rule's
// windows and action_interval lie within 1m..30d. Templates ("{team}") use
// kTemplateVariables; "{{" and "}}" are braces. Tracker, PagerDuty, webhook and Slack
// URLs are https (plain http to loopback hosts only); tracker URLs are kept without a
// trailing slash. `matches` filters and =~ / !~ matchers keep their RE2 pattern as
// written; the rule set and the routing tree compile them. Rates are "<number>/<s|m|h>".
//
// Without `alert_rules`, a config with `escalation` or `route` gets default_alert_rules()
// (the article's: errors and fatals in production on first seen, regression or unmute;
// warnings in production after 10 events in an hour; with a route, also new or regressed
// issues in development and staging, notified only); `alert_rules: []` means none.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/secret.hpp"

namespace warden::sink {

/// Sentry's event levels, in order of severity.
enum class event_level { debug, info, warning, error, fatal };

/// The level named `name` ("warn" and "critical" as Sentry's SDKs send them), if any.
[[nodiscard]] std::optional<event_level> parse_event_level(std::string_view name) noexcept;
/// The canonical name: debug, info, warning, error, fatal.
[[nodiscard]] std::string_view event_level_name(event_level level) noexcept;

/// The variables a template in the config may use, as "{team}": the issue's owner and
/// level, the rule's view of it and the tracker's (priority, project).
inline constexpr std::array<std::string_view, 14> kTemplateVariables{
    "team",    "function",     "product",  "level", "severity", "priority", "environment",
    "release", "incident_key", "issue_id", "title", "culprit",  "project",  "rule"};

/// One custom field set on every ticket of a YouTrack tracker (or of one owner).
/// `value` is a template: "{team}", "{priority}", ... (ticket_fields in targets/).
struct custom_field_config {
  std::string name;  ///< The field's name in the project, e.g. "Priority".
  std::string
      type;  ///< enum, multi_enum, owned, state, user, version, build, string, text, period.
  std::string value;  ///< Template of the value.
};

/// A YouTrack instance (REST API: url + "/api/...").
struct youtrack_config {
  std::string url;                          ///< https://youtrack.example.internal, no final /
  secret token;                             ///< Permanent token "perm:...", sent as Bearer.
  std::string incident_key_field;           ///< Simple field holding the incident key; empty: none.
  std::vector<custom_field_config> fields;  ///< Set on every ticket.
  /// Priority name per level (index: event_level), the "{priority}" of templates.
  std::vector<std::string> priority{"Minor", "Minor", "Normal", "Major", "Critical"};
  std::string resolve_command = "State Fixed";    ///< Commands API query on resolve.
  std::string reopen_command = "State Reopened";  ///< ... and on regression.
  /// The bearer secret of the workflow that reports ticket changes (inbound endpoint
  /// POST /api/0/hooks/youtrack/<tracker>, docs/SINK.md); empty: the endpoint answers 404.
  secret inbound_secret;
};

/// A GitHub repository's issues (REST API v2022-11-28). Tickets carry the incident key
/// in a hidden HTML comment of their body, which the reconcile search looks for.
struct github_config {
  std::string url = "https://api.github.com";  ///< API root (GitHub Enterprise: .../api/v3).
  secret token;                                ///< A PAT or app token, sent as Bearer.
  /// Templates of labels set on every ticket (GitHub creates missing ones when the token
  /// may push); an empty expansion is left out. Owners add theirs with `label` fields.
  std::vector<std::string> labels{"warden", "team:{team}", "severity:{severity}"};
  /// The `X-Hub-Signature-256` secret of the repository's `issues` webhook (inbound
  /// endpoint POST /api/0/hooks/github/<tracker>); empty: the endpoint answers 404.
  secret webhook_secret;
  /// Whether a ticket closed as "not planned" resolves the Warden issue (else only
  /// "completed" does; "not planned" is recorded and ignored).
  bool resolve_not_planned = false;
};

/// A Jira Cloud site (REST API v3: descriptions and comments in Atlassian Document
/// Format). Tickets carry the label "wd-<project>-<hash16>" (the incident key with its
/// colons as dashes), which the reconcile search looks for with JQL.
struct jira_config {
  std::string url;    ///< https://example.atlassian.net, no final /
  std::string email;  ///< With `token`: Basic auth (Atlassian API token); empty: Bearer.
  secret token;
  std::string issue_type = "Bug";  ///< issuetype.name of new tickets.
  /// Fields set on every ticket: `name` is Jira's field id (priority, labels,
  /// components, customfield_10042, ...); `type` says how the value is written:
  /// string, number, option ({"value"}), name ({"name"}), id ({"id"}), user
  /// ({"accountId"}), labels (list of strings), components (list of {"name"}).
  std::vector<custom_field_config> fields{{"priority", "name", "{priority}"}};
  /// Priority name per level (index: event_level), the "{priority}" of templates.
  std::vector<std::string> priority{"Low", "Low", "Medium", "High", "Highest"};
  /// Transition ids (workflow-specific: GET /rest/api/3/issue/KEY/transitions) that
  /// resolve and reopen a ticket; empty: the action is a comment only.
  std::string resolve_transition;
  std::string reopen_transition;
};

/// A generic JSON webhook standing in for a tracker: Warden posts ticket.create,
/// ticket.comment, ticket.resolve and ticket.reopen events, signed the Standard
/// Webhooks way; the receiver may answer a create with {"id", "key", "url"}.
struct webhook_tracker_config {
  std::string url;
  std::vector<secret> secrets;  ///< Signing keys, as webhook_receiver's. At least one.
};

/// The tracker types: what `type:` says and which member of tracker_config is read.
enum class tracker_type { youtrack, github, jira, webhook };

/// A tracker that tickets are created in.
struct tracker_config {
  std::string name;  ///< Unique; what owners and rules refer to.
  tracker_type type = tracker_type::youtrack;
  youtrack_config youtrack;
  github_config github;
  jira_config jira;
  webhook_tracker_config webhook;
  int line = 0;  ///< Where it is declared, for messages.
};

/// The name `type:` gives a tracker type: youtrack, github, jira_cloud, webhook.
[[nodiscard]] std::string_view tracker_type_name(tracker_type type) noexcept;

/// Which owners an `owners` entry matches; empty fields match anything.
struct owner_match {
  std::string team;
  std::string function;
  std::string product;
};

/// Where the tickets of matching owners go.
struct escalation_target {
  owner_match match;
  std::string tracker;                      ///< A tracker's name.
  std::string project;                      ///< The tracker's project, e.g. YouTrack's short name.
  std::vector<custom_field_config> fields;  ///< Added to the tracker's (e.g. Assignee).
  int line = 0;
};

/// What a regression does to an issue's ticket.
enum class regression_action { reopen, comment, none };
/// What resolving an issue in Warden does to its ticket.
enum class resolve_action { resolve, comment, none };

/// Escalation of issues to trackers: one ticket per issue.
struct escalation_config {
  std::uint64_t tickets_per_team_per_hour = 20;  ///< New tickets per team in a rolling hour.
  regression_action on_regression = regression_action::reopen;
  resolve_action on_resolve = resolve_action::resolve;
  std::vector<escalation_target> owners;  ///< First match wins; the last matches all.
  /// Past the hourly cap, a team's further issues are listed in one digest ticket per
  /// team x tracker project, opened for this long (rolling).
  std::chrono::milliseconds digest_window = std::chrono::hours{1};
  /// The digest's description is rewritten at most this often.
  std::chrono::milliseconds digest_update_interval = std::chrono::minutes{5};
};

/// When a rule considers firing (Sentry's issue alert conditions).
struct rule_condition {
  enum class kind { first_seen, regressed, unmuted, seen_more_than, users_more_than };
  kind what = kind::first_seen;
  std::int64_t threshold = 0;             ///< seen_more_than / users_more_than: N.
  std::chrono::milliseconds interval{0};  ///< ... within this window (1m..30d).
};

/// How a list of conditions or filters combines.
enum class match_mode { all, any, none };

/// One filter of a rule: an attribute of the event or issue compared with values.
struct rule_filter {
  enum class attribute { team, function, product, environment, release, level, tag, issue_age };
  enum class op {
    eq,
    ne,
    in,
    not_in,
    starts_with,
    ends_with,
    contains,
    matches,
    is_set,
    not_set,  // strings
    at_least,
    at_most,  // level
    older_than,
    newer_than  // issue_age
  };
  attribute what = attribute::team;
  std::string tag;  ///< attribute::tag: the tag's key.
  op how = op::eq;
  std::vector<std::string> values;  ///< One, or the list of in/not_in; matches: an RE2 pattern.
  event_level level = event_level::error;  ///< attribute::level (eq, at_least, at_most).
  std::chrono::milliseconds age{0};        ///< attribute::issue_age.
};

/// What a firing rule does.
struct rule_action {
  enum class kind { ticket, notify };
  kind what = kind::ticket;
  std::string tracker;  ///< ticket: overrides escalation.owners when set.
  std::string project;  ///< ... with this project.
};

/// An alert rule (Sentry's issue alert): conditions, then filters, then actions at most
/// once per `action_interval` per issue.
struct alert_rule_config {
  std::string id;    ///< Stable key of its firing state: [a-z0-9_-]+.
  std::string name;  ///< For people; defaults to the id.
  std::vector<rule_condition> conditions;
  match_mode conditions_match = match_mode::all;
  std::vector<rule_filter> filters;
  match_mode filters_match = match_mode::all;
  std::vector<rule_action> actions;
  std::chrono::milliseconds action_interval = std::chrono::minutes{30};
  int line = 0;
};

/// How the outbox delivers: timeouts, retries, circuits, retention of the log.
struct delivery_config {
  std::chrono::milliseconds timeout = std::chrono::seconds{15};
  std::chrono::milliseconds connect_timeout = std::chrono::seconds{5};
  std::chrono::milliseconds backoff_initial = std::chrono::seconds{5};
  std::chrono::milliseconds backoff_max = std::chrono::minutes{15};
  std::chrono::milliseconds give_up_after = std::chrono::hours{72};  ///< Then "exhausted".
  std::size_t concurrency = 16;      ///< Requests in flight at once.
  std::size_t circuit_failures = 5;  ///< Consecutive failures that open a target's circuit.
  std::chrono::milliseconds circuit_probe_after = std::chrono::seconds{30};
  std::chrono::milliseconds keep_delivered = std::chrono::hours{24 * 30};  ///< Log retention.
  std::chrono::milliseconds keep_failed = std::chrono::hours{24 * 90};
};

/// The labels a notification carries, which route matchers and group_by name:
/// team function product level severity environment release project owner_source
/// reason rule, and tags.<key>. `issue` is valid in group_by too.
inline constexpr std::array<std::string_view, 11> kNotificationLabels{
    "team",    "function", "product",      "level",  "severity", "environment",
    "release", "project",  "owner_source", "reason", "rule"};

/// One matcher of a route, as Alertmanager writes them: label="value", label!="value",
/// label=~"regex", label!~"regex" (RE2, matched against the whole value).
struct label_matcher {
  enum class op { eq, ne, matches, not_matches };
  std::string label;  ///< One of kNotificationLabels or "tags.<key>".
  op how = op::eq;
  std::string value;  ///< The value (a level by its canonical name), or the pattern.
};

/// "never" for repeat_interval.
inline constexpr std::chrono::milliseconds kNever = std::chrono::milliseconds::max();

/// A node of the routing tree (Alertmanager's route): notifications that match its
/// matchers go to its first matching child (or every matching child up to one without
/// `continue`), else to its receiver. Unset options are inherited from the parent.
struct route_config {
  std::string receiver;                 ///< Empty: the parent's.
  std::vector<label_matcher> matchers;  ///< All must match; none on the root.
  /// Labels that split notifications into groups (one message per group); {"..."}: all
  /// labels; unset: the parent's (the root's default: {"issue"}).
  std::optional<std::vector<std::string>> group_by;
  std::optional<std::chrono::milliseconds> group_wait;       ///< Root default 30s.
  std::optional<std::chrono::milliseconds> group_interval;   ///< Root default 5m.
  std::optional<std::chrono::milliseconds> repeat_interval;  ///< Root default kNever.
  bool continue_matching = false;  ///< `continue: true`: later siblings are tried too.
  std::vector<route_config> routes;
  int line = 0;
};

/// A Slack incoming webhook (one channel).
struct slack_receiver {
  secret webhook_url;
  bool send_resolved = false;
};

/// A PagerDuty service, through the Events API v2.
struct pagerduty_receiver {
  secret routing_key;  ///< The service's integration key (32 characters).
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::string source = "{product}.{environment}";  ///< Template of payload.source.
  bool send_resolved = true;
  /// PagerDuty severity per level (index: event_level).
  std::vector<std::string> severity{"info", "info", "warning", "error", "critical"};
};

/// A generic webhook, signed the Standard Webhooks way.
struct webhook_receiver {
  std::string url;
  /// Signing keys as written ("whsec_" + base64 of 24 or more bytes; the prefix is
  /// optional); several while rotating. At least one.
  std::vector<secret> secrets;
  bool send_resolved = true;
};

/// Where notifications go: exactly one of slack, pagerduty, webhook.
struct receiver_config {
  std::string name;  ///< Unique; what routes refer to.
  std::string type;  ///< slack, pagerduty or webhook.
  slack_receiver slack;
  pagerduty_receiver pagerduty;
  webhook_receiver webhook;
  int line = 0;
};

/// A token bucket: `per_second` on average, `burst` at once.
struct rate_config {
  double per_second = 1;
  std::size_t burst = 1;
};

/// Flood protection for receivers.
struct flood_config {
  rate_config slack_per_webhook{1, 1};  ///< Slack allows about one message a second.
  /// More messages than this waiting for one Slack webhook are sent as one summary.
  std::size_t slack_coalesce_above = 10;
  rate_config pagerduty_per_routing_key{2, 20};  ///< 120 a minute, as PagerDuty's limit.
};

/// The alerting configuration; empty lists: nothing is escalated.
struct alerting_config {
  std::vector<tracker_config> trackers;
  std::optional<escalation_config> escalation;  ///< Needed by `ticket` actions.
  /// The rules; when the file has no `alert_rules`, the article's defaults (see
  /// default_alert_rules()).
  std::vector<alert_rule_config> alert_rules;
  delivery_config delivery;
  std::optional<route_config> route;  ///< Needed by `notify` actions.
  std::vector<receiver_config> receivers;
  flood_config flood;
};

/// The rules used when the config has none: errors and fatals in production on first
/// seen, regression or unmute, and warnings in production after 10 events in an hour,
/// each with a ticket when `with_escalation` and notified when `with_route`; with a route
/// also "preprod": new or regressed issues in development, staging or dev, notified only.
/// Empty when neither is configured.
[[nodiscard]] std::vector<alert_rule_config> default_alert_rules(bool with_escalation = true,
                                                                 bool with_route = false);

/// Whether one of `rules` filters on tags: then events must carry theirs.
[[nodiscard]] bool filters_on_tags(const std::vector<alert_rule_config>& rules) noexcept;

}  // namespace warden::sink

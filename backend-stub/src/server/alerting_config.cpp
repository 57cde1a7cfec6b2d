// The alerting part of the configuration: levels, the default rules, and reading the
// keys trackers, escalation, alert_rules and delivery (called by config.cpp once the
// rest of the file is read, through yaml_reader so that every problem is reported at its
// line and column with the others); route, receivers and flood are read in between by
// routing_config.cpp. Secrets are resolved by yaml_reader and never appear in a message:
// errors name the variable, the file and the key instead.
#include "server/alerting_config.hpp"

#include <re2/re2.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "server/yaml_reader.hpp"

namespace warden::sink {

std::optional<event_level> parse_event_level(std::string_view name) noexcept {
  if (name == "debug") return event_level::debug;
  if (name == "info" || name == "log") return event_level::info;
  if (name == "warning" || name == "warn") return event_level::warning;
  if (name == "error") return event_level::error;
  if (name == "fatal" || name == "critical") return event_level::fatal;
  return std::nullopt;
}

std::string_view event_level_name(event_level level) noexcept {
  switch (level) {
    case event_level::debug:
      return "debug";
    case event_level::info:
      return "info";
    case event_level::warning:
      return "warning";
    case event_level::error:
      return "error";
    case event_level::fatal:
      return "fatal";
  }
  return "error";
}

std::vector<alert_rule_config> default_alert_rules(bool with_escalation, bool with_route) {
  const auto in_environments = [](std::vector<std::string> environments) {
    rule_filter filter;
    filter.what = rule_filter::attribute::environment;
    filter.how = rule_filter::op::in;
    filter.values = std::move(environments);
    return filter;
  };
  const auto level = [](rule_filter::op how, event_level value) {
    rule_filter filter;
    filter.what = rule_filter::attribute::level;
    filter.how = how;
    filter.level = value;
    return filter;
  };
  const auto condition = [](rule_condition::kind what) {
    rule_condition result;
    result.what = what;
    return result;
  };
  const auto action = [](rule_action::kind what) {
    rule_action result;
    result.what = what;
    return result;
  };
  std::vector<rule_action> actions;
  if (with_escalation) actions.push_back(action(rule_action::kind::ticket));
  if (with_route) actions.push_back(action(rule_action::kind::notify));
  if (actions.empty()) return {};

  alert_rule_config errors;
  errors.id = "prod-errors";
  errors.name = "Errors and fatals in production, new, regressed or unmuted";
  errors.conditions = {condition(rule_condition::kind::first_seen),
                       condition(rule_condition::kind::regressed),
                       condition(rule_condition::kind::unmuted)};
  errors.conditions_match = match_mode::any;
  errors.filters = {in_environments({"production", "prod"}),
                    level(rule_filter::op::at_least, event_level::error)};
  errors.actions = actions;

  alert_rule_config warnings;
  warnings.id = "prod-warnings";
  warnings.name = "Warnings in production, more than 10 events in an hour";
  rule_condition seen = condition(rule_condition::kind::seen_more_than);
  seen.threshold = 10;
  seen.interval = std::chrono::hours{1};
  warnings.conditions = {seen};
  warnings.filters = {in_environments({"production", "prod"}),
                      level(rule_filter::op::eq, event_level::warning)};
  warnings.actions = actions;

  std::vector<alert_rule_config> rules{std::move(errors), std::move(warnings)};
  if (!with_route) return rules;
  alert_rule_config preprod;
  preprod.id = "preprod";
  preprod.name = "New or regressed issues in development and staging, notified only";
  preprod.conditions = {condition(rule_condition::kind::first_seen),
                        condition(rule_condition::kind::regressed)};
  preprod.conditions_match = match_mode::any;
  preprod.filters = {in_environments({"development", "staging", "dev"})};
  preprod.actions = {action(rule_action::kind::notify)};
  rules.push_back(std::move(preprod));
  return rules;
}

std::string_view tracker_type_name(tracker_type type) noexcept {
  switch (type) {
    case tracker_type::youtrack:
      return "youtrack";
    case tracker_type::github:
      return "github";
    case tracker_type::jira:
      return "jira_cloud";
    case tracker_type::webhook:
      return "webhook";
  }
  return "youtrack";
}

namespace config_detail {
namespace {

constexpr std::chrono::milliseconds kPositive{1};
constexpr std::chrono::milliseconds kShortestWindow = std::chrono::minutes{1};
constexpr std::chrono::milliseconds kLongestWindow = std::chrono::hours{24 * 30};
constexpr std::chrono::milliseconds kLongestDigestWindow = std::chrono::hours{24};
constexpr std::chrono::milliseconds kShortestDigestUpdate = std::chrono::seconds{1};

const std::vector<std::string_view> kFieldTypes{
    "enum", "multi_enum", "owned", "state", "user", "version", "build", "string", "text", "period"};
const std::vector<std::string_view> kConditionNames{"first_seen", "regressed", "unmuted",
                                                    "seen_more_than", "users_more_than"};
const std::vector<std::string_view> kActionNames{"ticket", "notify"};

constexpr std::string_view kNoCatchAll =
    "escalation.owners needs a catch-all entry (match: {}) last";

/// An operator of a filter as the config writes it.
struct operator_name {
  std::string_view name;
  rule_filter::op op;
};

using rule_op = rule_filter::op;
const std::vector<operator_name> kStringOperators{
    {"eq", rule_op::eq},
    {"ne", rule_op::ne},
    {"in", rule_op::in},
    {"not_in", rule_op::not_in},
    {"starts_with", rule_op::starts_with},
    {"ends_with", rule_op::ends_with},
    {"contains", rule_op::contains},
    {"matches", rule_op::matches},
    {"is_set", rule_op::is_set},
    {"not_set", rule_op::not_set},
};
const std::vector<operator_name> kLevelOperators{
    {"eq", rule_op::eq}, {"at_least", rule_op::at_least}, {"at_most", rule_op::at_most}};
const std::vector<operator_name> kAgeOperators{{"older_than", rule_op::older_than},
                                               {"newer_than", rule_op::newer_than}};

std::vector<std::string_view> names_of(const std::vector<operator_name>& operators) {
  std::vector<std::string_view> names;
  for (const operator_name& known : operators) names.push_back(known.name);
  return names;
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// The 1-based line where `e`'s value starts.
int line_of(const entry& e) { return e.value.Mark().line + 1; }

/// Whether `text` is a letter, then letters, digits or _ (a YouTrack short name "PAY"),
/// uppercase only when `upper` (a Jira project key "OPS").
bool is_project_key(std::string_view text, bool upper) {
  const auto letter = [upper](char c) {
    return upper ? absl::ascii_isupper(static_cast<unsigned char>(c))
                 : absl::ascii_isalpha(static_cast<unsigned char>(c));
  };
  return !text.empty() && letter(text.front()) &&
         std::all_of(text.begin(), text.end(), [&](char c) {
           return letter(c) || absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
         });
}

/// Whether `text` is "owner/repository" as GitHub spells them.
bool is_github_repository(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) {
                       return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                              c == '_' || c == '.' || c == '/';
                     }) &&
         std::count(text.begin(), text.end(), '/') == 1;
}

/// What a project of a `tracker` must be, or "" when `project` is one.
std::string_view project_problem(tracker_type tracker, std::string_view project) {
  switch (tracker) {
    case tracker_type::youtrack:
      return is_project_key(project, false)
                 ? ""
                 : "a YouTrack project short name (a letter, then letters, digits or _)";
    case tracker_type::jira:
      return is_project_key(project, true)
                 ? ""
                 : "a Jira project key (an uppercase letter, then uppercase letters, digits or _)";
    case tracker_type::github:
      return is_github_repository(project) ? "" : "a GitHub repository, owner/name";
    case tracker_type::webhook:
      return project.empty() ? "a non-empty project name" : "";
  }
  return "";
}

const std::vector<std::string_view> kTrackerTypeNames{"youtrack", "github", "jira_cloud",
                                                      "webhook"};

std::optional<tracker_type> parse_tracker_type(std::string_view name) {
  for (const tracker_type type :
       {tracker_type::youtrack, tracker_type::github, tracker_type::jira, tracker_type::webhook}) {
    if (tracker_type_name(type) == name) return type;
  }
  return std::nullopt;
}

/// The custom field types a tracker of type `tracker` writes.
const std::vector<std::string_view>& field_types(tracker_type tracker) {
  static const std::vector<std::string_view> kGitHub{"label", "assignee", "milestone"};
  static const std::vector<std::string_view> kJira{"string", "number", "option", "name",
                                                   "id",     "user",   "labels", "components"};
  static const std::vector<std::string_view> kWebhook{"string"};
  switch (tracker) {
    case tracker_type::youtrack:
      return kFieldTypes;
    case tracker_type::github:
      return kGitHub;
    case tracker_type::jira:
      return kJira;
    case tracker_type::webhook:
      return kWebhook;
  }
  return kWebhook;
}

/// `[a-z0-9_-]+`: a rule id, the key of its firing state.
bool is_rule_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

/// Reads the alerting keys of one document into an alerting_config.
class alerting_reader final {
 public:
  alerting_reader(yaml_reader& yaml, alerting_config& out) : yaml_(yaml), out_(out) {}

  void read(const alerting_keys& keys) {
    if (keys.trackers) {
      yaml_.read_list(
          *keys.trackers, out_.trackers,
          [&](const entry& item, tracker_config& tracker) { read_tracker(item, tracker); });
    }
    if (keys.escalation) read_escalation(*keys.escalation, out_.escalation.emplace());
    read_routing(yaml_, keys, tracker_lines_, out_);
    if (keys.alert_rules) {
      yaml_.read_list(*keys.alert_rules, out_.alert_rules,
                      [&](const entry& item, alert_rule_config& rule) { read_rule(item, rule); });
    } else {
      out_.alert_rules = default_alert_rules(out_.escalation.has_value(), out_.route.has_value());
    }
    if (keys.delivery) read_delivery(*keys.delivery, out_.delivery);
  }

 private:
  // ---- trackers ----

  void read_tracker(const entry& e, tracker_config& tracker) {
    tracker.line = line_of(e);
    if (e.value.IsMap()) {
      const YAML::Node& map = e.value;
      const YAML::Node type = map["type"];
      if (type.IsDefined() && type.IsScalar()) {
        if (std::optional<tracker_type> known = parse_tracker_type(type.Scalar())) {
          tracker.type = *known;
        } else {
          // One error for the type, not one per key another type would have; the name is
          // still declared, so owners naming it are not reported too.
          yaml_.error(type.Mark(),
                      unknown_name_message("tracker type", type.Scalar(), kTrackerTypeNames));
          const YAML::Node name = map["name"];
          if (name.IsDefined() && name.IsScalar()) {
            read_tracker_name(entry{e.name + ".name", name}, tracker);
            tracker_types_.erase(tracker.name);  // its projects and fields go unchecked
          }
          return;
        }
      }
    }
    std::vector<field> fields{
        {"name", [&](const entry& v) { read_tracker_name(v, tracker); }, true},
        {"type", [](const entry&) {}, true},  // read above
    };
    switch (tracker.type) {
      case tracker_type::youtrack:
        read_youtrack(e, tracker.youtrack, std::move(fields));
        break;
      case tracker_type::github:
        read_github(e, tracker.github, std::move(fields));
        break;
      case tracker_type::jira:
        read_jira(e, tracker.jira, std::move(fields));
        break;
      case tracker_type::webhook:
        fields.push_back({"url", [&](const entry& v) { read_url(v, tracker.webhook.url); }, true});
        read_signed_webhook(yaml_, e, tracker.webhook.secrets, std::move(fields));
        break;
    }
  }

  void read_youtrack(const entry& e, youtrack_config& youtrack, std::vector<field> fields) {
    fields.insert(
        fields.end(),
        {
            {"url", [&](const entry& v) { read_url(v, youtrack.url); }, true},
            {"token", [&](const entry& v) { yaml_.read_secret(v, youtrack.token); }, true},
            {"incident_key_field", yaml_.string_field(youtrack.incident_key_field)},
            {"fields",
             [&](const entry& v) { read_fields(v, youtrack.fields, tracker_type::youtrack); }},
            {"priority", [&](const entry& v) { read_priority(v, youtrack.priority); }},
            {"commands",
             [&](const entry& v) {
               yaml_.read_map(v, {
                                     {"resolve", yaml_.string_field(youtrack.resolve_command)},
                                     {"reopen", yaml_.string_field(youtrack.reopen_command)},
                                 });
             }},
            {"inbound_secret",
             [&](const entry& v) { yaml_.read_secret(v, youtrack.inbound_secret); }},
        });
    yaml_.read_map(e, fields);
  }

  void read_github(const entry& e, github_config& github, std::vector<field> fields) {
    fields.insert(fields.end(),
                  {
                      {"url", [&](const entry& v) { read_url(v, github.url); }},
                      {"token", [&](const entry& v) { yaml_.read_secret(v, github.token); }, true},
                      {"labels", [&](const entry& v) { read_templates(v, github.labels); }},
                      {"webhook_secret",
                       [&](const entry& v) { yaml_.read_secret(v, github.webhook_secret); }},
                      {"resolve_not_planned", yaml_.bool_field(github.resolve_not_planned)},
                  });
    yaml_.read_map(e, fields);
  }

  void read_jira(const entry& e, jira_config& jira, std::vector<field> fields) {
    const auto transition = [&](std::string& id) -> reader {
      return [this, &id](const entry& v) {
        std::optional<std::string> text = yaml_.read_scalar(v, "a transition id");
        if (!text) return;
        if (text->empty() || !std::all_of(text->begin(), text->end(), absl::ascii_isdigit)) {
          yaml_.error(v.value.Mark(),
                      fmt::format("{} must be a transition id (digits; GET "
                                  "/rest/api/3/issue/KEY/transitions lists them), got '{}'",
                                  v.name, *text));
          return;
        }
        id = std::move(*text);
      };
    };
    fields.insert(
        fields.end(),
        {
            {"url", [&](const entry& v) { read_url(v, jira.url); }, true},
            {"email", yaml_.string_field(jira.email)},
            {"token", [&](const entry& v) { yaml_.read_secret(v, jira.token); }, true},
            {"issue_type", yaml_.string_field(jira.issue_type)},
            {"fields", [&](const entry& v) { read_fields(v, jira.fields, tracker_type::jira); }},
            {"priority", [&](const entry& v) { read_priority(v, jira.priority); }},
            {"transitions",
             [&](const entry& v) {
               yaml_.read_map(v, {
                                     {"resolve", transition(jira.resolve_transition)},
                                     {"reopen", transition(jira.reopen_transition)},
                                 });
             }},
        });
    yaml_.read_map(e, fields);
  }

  /// A list of templates (labels).
  void read_templates(const entry& e, std::vector<std::string>& templates) {
    templates.clear();
    yaml_.read_list(e, templates, [&](const entry& item, std::string& text) {
      yaml_.template_field(text)(item);
    });
  }

  void read_tracker_name(const entry& e, tracker_config& tracker) {
    std::optional<std::string> text = yaml_.read_scalar(e, "a name");
    if (!text) return;
    if (text->empty()) {
      yaml_.error(e.value.Mark(), fmt::format("{} must not be empty", e.name));
      return;
    }
    yaml_.check_unique(tracker_lines_, *text, e, "tracker name");
    tracker_types_.emplace(*text, tracker.type);
    tracker.name = std::move(*text);
  }

  void read_url(const entry& e, std::string& url) {
    std::optional<std::string> text = yaml_.read_scalar(e, "a URL");
    if (!text) return;
    if (const std::string problem = url_problem(*text); !problem.empty()) {
      yaml_.error(e.value.Mark(), fmt::format("{} {}, got '{}'", e.name, problem, *text));
      return;
    }
    while (!text->empty() && text->back() == '/') text->pop_back();
    url = std::move(*text);
  }

  /// Custom fields: [{name, type, value}], names unique in the list, types those of
  /// `tracker`'s kind.
  void read_fields(const entry& e, std::vector<custom_field_config>& fields, tracker_type tracker) {
    const std::vector<std::string_view>& types = field_types(tracker);
    std::map<std::string, int> name_lines;
    yaml_.read_list(e, fields, [&](const entry& item, custom_field_config& custom) {
      yaml_.read_map(
          item, {
                    {"name",
                     [&](const entry& v) {
                       if (auto name = yaml_.read_scalar(v, "a field name")) {
                         yaml_.check_unique(name_lines, *name, v, "field");
                         custom.name = std::move(*name);
                       }
                     },
                     true},
                    {"type",
                     [&](const entry& v) {
                       auto type = yaml_.read_scalar(v, "a field type");
                       if (type && !contains(types, *type)) {
                         yaml_.error(v.value.Mark(),
                                     unknown_name_message(
                                         fmt::format("{} field type", tracker_type_name(tracker)),
                                         *type, types));
                       } else if (type) {
                         custom.type = std::move(*type);
                       }
                     },
                     true},
                    {"value", yaml_.template_field(custom.value), true},
                });
    });
  }

  /// {level: name}: the keys are level names.
  void read_priority(const entry& e, std::vector<std::string>& priority) {
    read_level_table(yaml_, e, [&](event_level level) {
      return yaml_.string_field(priority.at(static_cast<std::size_t>(level)));
    });
  }

  // ---- escalation ----

  void read_escalation(const entry& e, escalation_config& escalation) {
    yaml_.read_map(
        e, {
               {"tickets_per_team_per_hour",
                yaml_.count_field<std::uint64_t>(escalation.tickets_per_team_per_hour, 1)},
               {"digest_window", yaml_.duration_field(escalation.digest_window, kShortestWindow,
                                                      kLongestDigestWindow)},
               {"digest_update_interval",
                yaml_.duration_field(escalation.digest_update_interval, kShortestDigestUpdate)},
               {"on_regression",
                [&](const entry& v) {
                  if (auto action = yaml_.read_choice(v, {"reopen", "comment", "none"})) {
                    escalation.on_regression = *action == "reopen"    ? regression_action::reopen
                                               : *action == "comment" ? regression_action::comment
                                                                      : regression_action::none;
                  }
                }},
               {"on_resolve",
                [&](const entry& v) {
                  if (auto action = yaml_.read_choice(v, {"resolve", "comment", "none"})) {
                    escalation.on_resolve = *action == "resolve"   ? resolve_action::resolve
                                            : *action == "comment" ? resolve_action::comment
                                                                   : resolve_action::none;
                  }
                }},
               {"owners", [&](const entry& v) { read_owners(v, escalation.owners); }, true},
           });
  }

  /// First match wins, so the last entry must match every owner and nothing may follow
  /// an entry that does.
  void read_owners(const entry& e, std::vector<escalation_target>& owners) {
    std::vector<std::optional<bool>> catch_all;  // unknown when its match had errors
    std::vector<YAML::Mark> marks;
    yaml_.read_list(e, owners, [&](const entry& item, escalation_target& target) {
      target.line = line_of(item);
      marks.push_back(item.value.Mark());
      std::optional<entry> project;
      std::optional<entry> fields;
      std::optional<bool>& matches_all = catch_all.emplace_back();
      yaml_.read_map(
          item,
          {
              {"match",
               [&](const entry& v) {
                 const std::size_t errors = yaml_.error_count();
                 read_owner_match(v, target.match);
                 if (yaml_.error_count() == errors) {
                   matches_all = target.match.team.empty() && target.match.function.empty() &&
                                 target.match.product.empty();
                 }
               },
               true},
              {"tracker", yaml_.reference_field(target.tracker, "tracker", tracker_lines_), true},
              {"project", [&](const entry& v) { project = v; }, true},
              {"fields", [&](const entry& v) { fields = v; }},
          });
      // The tracker's type says what a project and a field are.
      const auto type = tracker_types_.find(target.tracker);
      if (type == tracker_types_.end()) return;
      if (project) read_project(*project, type->second, target.project);
      if (fields) read_fields(*fields, target.fields, type->second);
    });
    if (!e.value.IsSequence() ||
        std::any_of(catch_all.begin(), catch_all.end(), [](auto known) { return !known; })) {
      return;
    }
    const auto first = std::find(catch_all.begin(), catch_all.end(), std::optional<bool>{true});
    if (first == catch_all.end()) {
      yaml_.error(e.value.Mark(), std::string{kNoCatchAll});
      return;
    }
    const auto index = static_cast<std::size_t>(first - catch_all.begin());
    for (std::size_t later = index + 1; later < owners.size(); ++later) {
      yaml_.error(marks[later],
                  fmt::format("unreachable: line {} matches every owner", owners[index].line));
    }
  }

  void read_owner_match(const entry& e, owner_match& match) {
    yaml_.read_map(e, {
                          {"team", yaml_.string_field(match.team)},
                          {"function", yaml_.string_field(match.function)},
                          {"product", yaml_.string_field(match.product)},
                      });
  }

  /// A project of a tracker of type `tracker`: YouTrack's short name, GitHub's
  /// owner/repository, Jira's project key; anything but "" for a webhook.
  void read_project(const entry& e, tracker_type tracker, std::string& project) {
    std::optional<std::string> name = yaml_.read_scalar(e, "a project");
    if (!name) return;
    if (const std::string_view problem = project_problem(tracker, *name); !problem.empty()) {
      yaml_.error(e.value.Mark(), fmt::format("{} must be {}, got '{}'", e.name, problem, *name));
      return;
    }
    project = std::move(*name);
  }

  // ---- alert rules ----

  void read_rule(const entry& e, alert_rule_config& rule) {
    rule.line = line_of(e);
    std::optional<entry> conditions;        // set when read without errors
    std::optional<entry> conditions_match;  // where it is given
    bool conditions_match_valid = true;
    yaml_.read_map(
        e, {
               {"id", [&](const entry& v) { read_rule_id(v, rule.id); }, true},
               {"name", yaml_.string_field(rule.name)},
               {"conditions",
                [&](const entry& v) {
                  const std::size_t errors = yaml_.error_count();
                  read_conditions(v, rule.conditions);
                  if (yaml_.error_count() == errors) conditions = v;
                },
                true},
               {"conditions_match",
                [&](const entry& v) {
                  conditions_match = v;
                  conditions_match_valid = read_match_mode(v, rule.conditions_match);
                }},
               {"filters", [&](const entry& v) { read_filters(v, rule.filters); }},
               {"filters_match", [&](const entry& v) { read_match_mode(v, rule.filters_match); }},
               {"actions", [&](const entry& v) { read_actions(v, rule.actions); }, true},
               {"action_interval",
                yaml_.duration_field(rule.action_interval, kShortestWindow, kLongestWindow)},
           });
    if (rule.name.empty()) rule.name = rule.id;
    if (conditions && conditions_match_valid && rule.conditions_match == match_mode::all) {
      check_exclusive_conditions(e.name, rule.conditions,
                                 conditions_match ? *conditions_match : *conditions);
    }
  }

  void read_rule_id(const entry& e, std::string& id) {
    std::optional<std::string> text = yaml_.read_scalar(e, "an id");
    if (!text) return;
    if (!is_rule_id(*text)) {
      yaml_.error(
          e.value.Mark(),
          fmt::format("{} must be lowercase letters, digits, _ or -, got '{}'", e.name, *text));
      return;
    }
    yaml_.check_unique(rule_id_lines_, *text, e, "rule id");
    id = std::move(*text);
  }

  bool read_match_mode(const entry& e, match_mode& mode) {
    const std::optional<std::string> text = yaml_.read_choice(e, {"all", "any", "none"});
    if (!text) return false;
    mode = *text == "all" ? match_mode::all : *text == "any" ? match_mode::any : match_mode::none;
    return true;
  }

  /// One event is new, a regression or an unmute, never two of them: with
  /// `conditions_match: all` such a rule could never fire.
  void check_exclusive_conditions(const std::string& rule, const std::vector<rule_condition>& all,
                                  const entry& at) {
    std::vector<std::string_view> events;
    for (const rule_condition& condition : all) {
      const auto kind = static_cast<std::size_t>(condition.what);
      if (condition.what <= rule_condition::kind::unmuted &&
          !contains(events, kConditionNames[kind])) {
        events.push_back(kConditionNames[kind]);
      }
    }
    if (events.size() < 2) return;
    const std::string listed = events.size() == 2
                                   ? fmt::format("{} and {}", events[0], events[1])
                                   : fmt::format("{}, {} and {}", events[0], events[1], events[2]);
    yaml_.error(at.value.Mark(),
                fmt::format("{}.conditions: {} can never hold together; did you mean "
                            "conditions_match: any?",
                            rule, listed));
  }

  void read_conditions(const entry& e, std::vector<rule_condition>& conditions) {
    yaml_.read_list(e, conditions, [&](const entry& item, rule_condition& condition) {
      read_condition(item, condition);
    });
    if (e.value.IsSequence() && e.value.size() == 0) {
      yaml_.error(e.value.Mark(), fmt::format("{}: at least one condition is needed", e.name));
    }
  }

  void read_condition(const entry& e, rule_condition& condition) {
    if (e.value.IsMap()) {
      read_counting_condition(e, condition);
      return;
    }
    if (!e.value.IsScalar()) {
      yaml_.type_error(e,
                       "a condition (first_seen, regressed, unmuted, or {seen_more_than: N, "
                       "in: 1h})");
      return;
    }
    const std::string& name = e.value.Scalar();
    if (name == "first_seen") {
      condition.what = rule_condition::kind::first_seen;
    } else if (name == "regressed") {
      condition.what = rule_condition::kind::regressed;
    } else if (name == "unmuted") {
      condition.what = rule_condition::kind::unmuted;
    } else if (contains(kConditionNames, name)) {
      yaml_.error(e.value.Mark(), fmt::format("{}: {} needs a count and a window, e.g. "
                                              "{{{}: 10, in: 1h}}",
                                              e.name, name, name));
    } else {
      yaml_.error(e.value.Mark(), unknown_name_message("condition", name, kConditionNames));
    }
  }

  /// {seen_more_than: N, in: 1h} or {users_more_than: N, in: 1h}.
  void read_counting_condition(const entry& e, rule_condition& condition) {
    bool counted = false;
    bool windowed = false;
    yaml_.read_pairs(e, [&](const YAML::Node& key, const YAML::Node& value) {
      const std::string& name = key.Scalar();
      const entry v{e.name + "." + name, value};
      if (name == "in") {
        windowed = true;
        yaml_.duration_field(condition.interval, kShortestWindow, kLongestWindow)(v);
      } else if (name == "seen_more_than" || name == "users_more_than") {
        if (counted) {
          yaml_.error(key.Mark(),
                      fmt::format("{}: one condition per item; write '{}' as an item of its own",
                                  e.name, name));
          return;
        }
        counted = true;
        condition.what = name == "seen_more_than" ? rule_condition::kind::seen_more_than
                                                  : rule_condition::kind::users_more_than;
        yaml_.read_whole_number<std::int64_t>(v, condition.threshold, 0, false);
      } else if (contains(kConditionNames, name)) {
        yaml_.error(key.Mark(),
                    fmt::format("{}: {} takes no value; write it as a list item", e.name, name));
      } else {
        yaml_.error(key.Mark(), unknown_name_message("condition", name, kConditionNames));
      }
    });
    if (!e.value.IsMap()) return;
    if (!counted) {
      yaml_.error(e.value.Mark(), fmt::format("{}: expected {{seen_more_than: N, in: 1h}} or "
                                              "{{users_more_than: N, in: 1h}}",
                                              e.name));
    } else if (!windowed) {
      yaml_.error(e.value.Mark(), fmt::format("{}: 'in' is required", e.name));
    }
  }

  void read_filters(const entry& e, std::vector<rule_filter>& filters) {
    const auto on = [&](rule_filter::attribute what, std::string_view label) -> reader {
      return [this, &filters, what, label](const entry& v) {
        read_string_filter(v, what, {}, label, filters);
      };
    };
    using attribute = rule_filter::attribute;
    yaml_.read_map(e,
                   {
                       {"team", on(attribute::team, "team")},
                       {"function", on(attribute::function, "function")},
                       {"product", on(attribute::product, "product")},
                       {"environment", on(attribute::environment, "environment")},
                       {"release", on(attribute::release, "release")},
                       {"level", [&](const entry& v) { read_level_filter(v, filters); }},
                       {"tags", [&](const entry& v) { read_tag_filters(v, filters); }},
                       {"issue_age", [&](const entry& v) { read_age_filter(v, filters); }},
                   },
                   "filter");
  }

  /// The key and value of `{operator: value}`; false, with an error, otherwise.
  bool read_operator_pair(const entry& e, std::string_view expected, YAML::Node& key,
                          YAML::Node& value) {
    if (!e.value.IsMap() || e.value.size() == 0) {
      yaml_.type_error(e, expected);
      return false;
    }
    if (e.value.size() > 1) {
      yaml_.error(e.value.Mark(),
                  fmt::format("{}: one operator per filter, got {}", e.name, e.value.size()));
      return false;
    }
    const auto pair = e.value.begin();
    key = pair->first;
    value = pair->second;
    if (!key.IsScalar()) {
      yaml_.error(key.Mark(), fmt::format("{}: expected an operator name", e.name));
      return false;
    }
    return true;
  }

  /// The operator `key` names if `attribute` takes it; an error naming the right ones
  /// otherwise.
  std::optional<rule_filter::op> read_operator(const YAML::Node& key, std::string_view attribute,
                                               const std::vector<operator_name>& valid) {
    const std::string& name = key.Scalar();
    for (const operator_name& known : valid) {
      if (known.name == name) return known.op;
    }
    const bool exists = contains(names_of(kStringOperators), name) ||
                        contains(names_of(kLevelOperators), name) ||
                        contains(names_of(kAgeOperators), name);
    if (exists) {
      yaml_.error(key.Mark(), fmt::format("operator '{}' is not valid for {} (use {})", name,
                                          attribute, fmt::join(names_of(valid), ", ")));
    } else {
      yaml_.error(key.Mark(), unknown_name_message("operator", name, names_of(valid)));
    }
    return std::nullopt;
  }

  /// team, function, product, environment, release or a tag: a value (eq), a list (in) or
  /// {operator: value}.
  void read_string_filter(const entry& e, rule_filter::attribute what, std::string tag,
                          std::string_view label, std::vector<rule_filter>& filters) {
    rule_filter filter;
    filter.what = what;
    filter.tag = std::move(tag);
    const std::size_t errors = yaml_.error_count();
    YAML::Node key;
    YAML::Node value;
    if (e.value.IsScalar()) {
      filter.how = rule_filter::op::eq;
      filter.values = {e.value.Scalar()};
    } else if (e.value.IsSequence()) {
      filter.how = rule_filter::op::in;
      read_values(e, filter.values);
    } else if (read_operator_pair(e, "a value, a list of values or {operator: value}", key,
                                  value)) {
      const std::optional<rule_filter::op> how = read_operator(key, label, kStringOperators);
      if (!how) return;
      filter.how = *how;
      const entry operand{e.name + "." + key.Scalar(), value};
      switch (*how) {
        case rule_filter::op::in:
        case rule_filter::op::not_in:
          read_values(operand, filter.values);
          break;
        case rule_filter::op::is_set:
        case rule_filter::op::not_set:
          read_presence(operand, filter.how);
          break;
        case rule_filter::op::matches:
          if (auto pattern = yaml_.read_scalar(operand, "an RE2 pattern")) {
            const RE2 compiled{*pattern, RE2::Quiet};
            if (!compiled.ok()) {
              yaml_.error(value.Mark(), fmt::format("{}: not a valid RE2 pattern: {}", operand.name,
                                                    compiled.error()));
            }
            filter.values = {*pattern};
          }
          break;
        default:
          if (auto text = yaml_.read_scalar(operand, "a string")) filter.values = {*text};
          break;
      }
    }
    if (yaml_.error_count() == errors) filters.push_back(std::move(filter));
  }

  /// A non-empty list of strings (in, not_in).
  void read_values(const entry& e, std::vector<std::string>& values) {
    yaml_.read_list(e, values, [&](const entry& item, std::string& value) {
      if (auto text = yaml_.read_scalar(item, "a string")) value = std::move(*text);
    });
    if (e.value.IsSequence() && e.value.size() == 0) {
      yaml_.error(e.value.Mark(), fmt::format("{}: an empty list matches nothing", e.name));
    }
  }

  /// {is_set: true}, {not_set: true}, or with no value; false turns one into the other.
  void read_presence(const entry& e, rule_filter::op& how) {
    if (e.value.IsNull()) return;
    bool flag = true;
    if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, flag)) {
      yaml_.type_error(e, "true or false");
      return;
    }
    if (!flag)
      how = how == rule_filter::op::is_set ? rule_filter::op::not_set : rule_filter::op::is_set;
  }

  /// level: a level (eq) or {eq|at_least|at_most: level}.
  void read_level_filter(const entry& e, std::vector<rule_filter>& filters) {
    rule_filter filter;
    filter.what = rule_filter::attribute::level;
    std::optional<event_level> level;
    YAML::Node key;
    YAML::Node value;
    if (e.value.IsScalar()) {
      filter.how = rule_filter::op::eq;
      level = yaml_.read_level(e);
    } else if (read_operator_pair(e, "a level or {eq|at_least|at_most: level}", key, value)) {
      const std::optional<rule_filter::op> how = read_operator(key, "level", kLevelOperators);
      if (!how) return;
      filter.how = *how;
      level = yaml_.read_level(entry{e.name + "." + key.Scalar(), value});
    }
    if (!level) return;
    filter.level = *level;
    filters.push_back(std::move(filter));
  }

  /// tags: {key: value | [values] | {operator: value}}.
  void read_tag_filters(const entry& e, std::vector<rule_filter>& filters) {
    yaml_.read_pairs(e, [&](const YAML::Node& key, const YAML::Node& value) {
      read_string_filter(entry{e.name + "." + key.Scalar(), value}, rule_filter::attribute::tag,
                         key.Scalar(), "a tag", filters);
    });
  }

  /// issue_age: {older_than: duration} or {newer_than: duration}.
  void read_age_filter(const entry& e, std::vector<rule_filter>& filters) {
    YAML::Node key;
    YAML::Node value;
    if (!read_operator_pair(e, "{older_than: duration} or {newer_than: duration}", key, value)) {
      return;
    }
    const std::optional<rule_filter::op> how = read_operator(key, "issue_age", kAgeOperators);
    if (!how) return;
    rule_filter filter;
    filter.what = rule_filter::attribute::issue_age;
    filter.how = *how;
    const std::size_t errors = yaml_.error_count();
    yaml_.duration_field(filter.age, kPositive)(entry{e.name + "." + key.Scalar(), value});
    if (yaml_.error_count() == errors) filters.push_back(std::move(filter));
  }

  void read_actions(const entry& e, std::vector<rule_action>& actions) {
    yaml_.read_list(e, actions,
                    [&](const entry& item, rule_action& action) { read_action(item, action); });
    if (e.value.IsSequence() && e.value.size() == 0) {
      yaml_.error(e.value.Mark(), fmt::format("{}: at least one action is needed", e.name));
    }
  }

  /// ticket, {ticket: {tracker: name, project: KEY}} or notify.
  void read_action(const entry& e, rule_action& action) {
    std::string name;
    YAML::Mark mark = e.value.Mark();
    YAML::Node options;
    if (e.value.IsScalar()) {
      name = e.value.Scalar();
    } else if (e.value.IsMap() && e.value.size() == 1 && e.value.begin()->first.IsScalar()) {
      name = e.value.begin()->first.Scalar();
      mark = e.value.begin()->first.Mark();
      options = e.value.begin()->second;
    } else {
      yaml_.type_error(e, "an action (ticket, notify, or {ticket: {tracker: name, project: KEY}})");
      return;
    }
    if (name == "notify") {
      action.what = rule_action::kind::notify;
      if (!out_.route) {
        yaml_.error(mark, "action 'notify' needs a route (route:), which is not configured");
      }
      if (options.IsDefined() && !options.IsNull()) {
        yaml_.error(
            options.Mark(),
            fmt::format("{}.notify takes no options: the route decides where it goes", e.name));
      }
    } else if (name != "ticket") {
      yaml_.error(mark, unknown_name_message("action", name, kActionNames));
    } else {
      action.what = rule_action::kind::ticket;
      if (!out_.escalation) {
        yaml_.error(mark,
                    "action 'ticket' needs escalation (escalation.owners), which is not "
                    "configured");
      }
      if (options.IsDefined() && !options.IsNull()) {
        std::optional<entry> project;
        yaml_.read_map(
            entry{e.name + ".ticket", options},
            {
                {"tracker", yaml_.reference_field(action.tracker, "tracker", tracker_lines_), true},
                {"project", [&](const entry& v) { project = v; }, true},
            });
        const auto type = tracker_types_.find(action.tracker);
        if (project && type != tracker_types_.end()) {
          read_project(*project, type->second, action.project);
        }
      }
    }
  }

  // ---- delivery ----

  void read_delivery(const entry& e, delivery_config& delivery) {
    std::optional<entry> backoff;
    yaml_.read_map(
        e, {
               {"timeout", yaml_.duration_field(delivery.timeout, kPositive)},
               {"connect_timeout", yaml_.duration_field(delivery.connect_timeout, kPositive)},
               {"backoff",
                [&](const entry& v) {
                  const std::size_t errors = yaml_.error_count();
                  yaml_.read_map(
                      v, {
                             {"initial", yaml_.duration_field(delivery.backoff_initial, kPositive)},
                             {"max", yaml_.duration_field(delivery.backoff_max, kPositive)},
                         });
                  if (yaml_.error_count() == errors) backoff = v;
                }},
               {"give_up_after", yaml_.duration_field(delivery.give_up_after, kPositive)},
               {"concurrency", yaml_.count_field<std::size_t>(delivery.concurrency, 1, 256)},
               {"circuit",
                [&](const entry& v) {
                  yaml_.read_map(
                      v, {
                             {"failures",
                              yaml_.count_field<std::size_t>(delivery.circuit_failures, 1)},
                             {"probe_after",
                              yaml_.duration_field(delivery.circuit_probe_after, kPositive)},
                         });
                }},
               {"keep_delivered", yaml_.duration_field(delivery.keep_delivered, kPositive)},
               {"keep_failed", yaml_.duration_field(delivery.keep_failed, kPositive)},
           });
    if (backoff && delivery.backoff_initial > delivery.backoff_max) {
      yaml_.error(backoff->value.Mark(),
                  fmt::format("{}: initial ({}) is longer than max ({})", backoff->name,
                              format_duration(delivery.backoff_initial),
                              format_duration(delivery.backoff_max)));
    }
  }

  yaml_reader& yaml_;
  alerting_config& out_;
  std::map<std::string, int> tracker_lines_;           ///< Declared tracker names -> their line.
  std::map<std::string, tracker_type> tracker_types_;  ///< Declared tracker names -> type.
  std::map<std::string, int> rule_id_lines_;
};

}  // namespace

void read_alerting(yaml_reader& yaml, const alerting_keys& keys, alerting_config& out) {
  alerting_reader{yaml, out}.read(keys);
}

}  // namespace config_detail
bool filters_on_tags(const std::vector<alert_rule_config>& rules) noexcept {
  return std::any_of(rules.begin(), rules.end(), [](const alert_rule_config& rule) {
    return std::any_of(rule.filters.begin(), rule.filters.end(), [](const rule_filter& filter) {
      return filter.what == rule_filter::attribute::tag;
    });
  });
}

}  // namespace warden::sink

// Reading where notifications go: `receivers` (Slack, PagerDuty, generic webhooks),
// the `route` tree that picks receivers by label matchers (Alertmanager's syntax and
// semantics) and `flood` (the rates receivers are paced at). Called by read_alerting
// (alerting_config.cpp) between escalation and the rules, so that `notify` actions can
// see the route. Receiver secrets are checked on their resolved value, and messages say
// what is wrong without showing it.
#include <re2/re2.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "server/alerting_config.hpp"
#include "server/yaml_reader.hpp"

namespace warden::sink::config_detail {
namespace {

constexpr std::chrono::milliseconds kPositive{1};
constexpr std::string_view kAllLabels = "...";
constexpr std::string_view kTagPrefix = "tags.";
constexpr std::string_view kOperators = "=, !=, =~ or !~";
constexpr std::string_view kNotShown = "its value is a secret and not shown";
/// Standard Webhooks: a signing secret is base64 of 24 to 64 bytes, "whsec_" in front.
constexpr std::string_view kWebhookSecretPrefix = "whsec_";
constexpr std::size_t kMinWebhookKeyBytes = 24;
constexpr std::size_t kRoutingKeyLength = 32;

const std::vector<std::string_view> kIntegrations{"slack", "pagerduty", "webhook"};
const std::vector<std::string_view> kSeverities{"critical", "error", "warning", "info"};
const std::vector<std::string_view> kReasons{"first_seen",     "regressed",       "unmuted",
                                             "seen_more_than", "users_more_than", "resolved"};

/// The labels matchers may name, "tags.<key>" standing for every tag; group_by also
/// takes "issue".
std::vector<std::string_view> label_names(bool with_issue) {
  std::vector<std::string_view> names{kNotificationLabels.begin(), kNotificationLabels.end()};
  if (with_issue) names.push_back("issue");
  names.push_back("tags.<key>");
  return names;
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

/// A character of a label name: `tags.browser.name`, `owner_source`.
bool is_label_character(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == ':';
}

/// What is wrong with `label` in a matcher or group_by (`issue` only there), or an empty
/// string; `key` names the value in messages.
std::string label_problem(std::string_view label, bool in_group_by, std::string_view key) {
  if (label.substr(0, kTagPrefix.size()) == kTagPrefix) {
    return label.size() > kTagPrefix.size()
               ? std::string{}
               : fmt::format("{}: 'tags.' needs a tag's key, e.g. tags.region", key);
  }
  if (contains(label_names(in_group_by), label)) return {};
  if (label == "issue") {
    return fmt::format("{}: 'issue' is for group_by; routes match the issue's labels", key);
  }
  return unknown_name_message("label", label, label_names(in_group_by));
}

/// What went wrong parsing a matcher, and at which byte of it.
struct matcher_problem {
  std::size_t offset = 0;
  std::string message;
};

/// Parses Alertmanager's `label="value"`, `!=`, `=~`, `!~`: the value in double quotes,
/// with \" and \\ as its only escapes; blanks around the parts. Checks the grammar only.
class matcher_parser {
 public:
  explicit matcher_parser(std::string_view text) : text_(text) {}

  std::optional<matcher_problem> parse(label_matcher& out) {
    skip_blanks();
    const std::size_t label_start = at_;
    while (at_ < text_.size() && is_label_character(text_[at_])) ++at_;
    out.label = std::string{text_.substr(label_start, at_ - label_start)};
    if (out.label.empty()) {
      return problem(label_start, "expected a label name first, e.g. team=\"payments\"");
    }
    label_offset_ = label_start;
    skip_blanks();
    const std::size_t operator_start = at_;
    const std::string_view rest = text_.substr(at_);
    if (rest.substr(0, 2) == "==") {
      return problem(operator_start, fmt::format("'==' is not an operator; use {}", kOperators));
    }
    std::string_view written;
    for (const auto& [name, how] :
         {std::pair{std::string_view{"=~"}, label_matcher::op::matches},
          std::pair{std::string_view{"!~"}, label_matcher::op::not_matches},
          std::pair{std::string_view{"!="}, label_matcher::op::ne},
          std::pair{std::string_view{"="}, label_matcher::op::eq}}) {
      if (rest.substr(0, name.size()) == name) {
        written = name;
        out.how = how;
        break;
      }
    }
    if (written.empty()) {
      return problem(operator_start,
                     fmt::format("expected {} after the label '{}'", kOperators, out.label));
    }
    at_ += written.size();
    skip_blanks();
    value_offset_ = at_;
    if (at_ == text_.size()) {
      return problem(at_, fmt::format("expected a value in double quotes after '{}'", written));
    }
    if (text_[at_] != '"') {
      std::string_view unquoted = text_.substr(at_);
      while (!unquoted.empty() && is_space(unquoted.back())) unquoted.remove_suffix(1);
      return problem(at_, fmt::format("the value must be in double quotes: {}{}\"{}\"", out.label,
                                      written, unquoted));
    }
    if (auto failed = read_quoted(out.value)) return failed;
    skip_blanks();
    if (at_ < text_.size()) {
      if (text_[at_] == ',') {
        return problem(at_, "one matcher per item; write the next one as an item of its own");
      }
      return problem(at_, fmt::format("unexpected '{}' after the value", text_.substr(at_)));
    }
    return std::nullopt;
  }

  /// Where the label and the value (its opening quote) start, once parsed.
  [[nodiscard]] std::size_t label_offset() const noexcept { return label_offset_; }
  [[nodiscard]] std::size_t value_offset() const noexcept { return value_offset_; }

 private:
  static matcher_problem problem(std::size_t offset, std::string message) {
    return {offset, std::move(message)};
  }

  void skip_blanks() {
    while (at_ < text_.size() && is_space(text_[at_])) ++at_;
  }

  /// The double-quoted value at at_, unescaped into `value`.
  std::optional<matcher_problem> read_quoted(std::string& value) {
    const std::size_t open = at_++;
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (c == '"') {
        ++at_;
        return std::nullopt;
      }
      if (c == '\\') {
        if (at_ + 1 >= text_.size()) break;
        const char escaped = text_[at_ + 1];
        if (escaped != '"' && escaped != '\\') {
          return problem(at_, fmt::format("unknown escape '\\{}' in the value (write \\\" for \" "
                                          "and \\\\ for \\)",
                                          escaped));
        }
        value += escaped;
        at_ += 2;
        continue;
      }
      value += c;
      ++at_;
    }
    return problem(open, "the value has no closing '\"'");
  }

  std::string_view text_;
  std::size_t at_ = 0;
  std::size_t label_offset_ = 0;
  std::size_t value_offset_ = 0;
};

/// Whether `key` is a PagerDuty integration key: 32 letters and digits.
bool is_routing_key(std::string_view key) {
  return key.size() == kRoutingKeyLength && std::all_of(key.begin(), key.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c));
         });
}

/// Whether `value` is a Standard Webhooks signing secret: base64 (after an optional
/// "whsec_") of at least 24 bytes, as targets/signing.cpp decodes it.
bool is_webhook_secret(std::string_view value) {
  if (value.substr(0, kWebhookSecretPrefix.size()) == kWebhookSecretPrefix) {
    value.remove_prefix(kWebhookSecretPrefix.size());
  }
  std::string key;
  return !value.empty() &&
         absl::Base64Unescape(absl::string_view{value.data(), value.size()}, &key) &&
         key.size() >= kMinWebhookKeyBytes;
}

/// Reads receivers, the route tree and flood of one document.
class routing_reader final {
 public:
  routing_reader(yaml_reader& yaml, const std::map<std::string, int>& tracker_names,
                 alerting_config& out)
      : yaml_(yaml), tracker_names_(tracker_names), out_(out) {}

  void read(const alerting_keys& keys) {
    if (keys.receivers) {
      yaml_.read_list(
          *keys.receivers, out_.receivers,
          [&](const entry& item, receiver_config& receiver) { read_receiver(item, receiver); });
    }
    if (keys.route) read_root(*keys.route, out_.route.emplace());
    if (keys.flood) read_flood(*keys.flood, out_.flood);
  }

 private:
  // ---- receivers ----

  void read_receiver(const entry& e, receiver_config& receiver) {
    receiver.line = e.value.Mark().line + 1;
    std::vector<std::string_view> given;
    yaml_.read_map(
        e, {
               {"name", [&](const entry& v) { read_receiver_name(v, receiver.name); }, true},
               {"slack",
                [&](const entry& v) {
                  given.push_back("slack");
                  read_slack(v, receiver.slack);
                }},
               {"pagerduty",
                [&](const entry& v) {
                  given.push_back("pagerduty");
                  read_pagerduty(v, receiver.pagerduty);
                }},
               {"webhook",
                [&](const entry& v) {
                  given.push_back("webhook");
                  read_webhook(v, receiver.webhook);
                }},
           });
    if (!e.value.IsMap()) return;
    // An integration written with no value (`slack:`) is given too, and wrong.
    for (const auto& pair : e.value) {
      const YAML::Node& key = pair.first;
      if (key.IsScalar() && pair.second.IsNull() && contains(kIntegrations, key.Scalar())) {
        given.push_back(key.Scalar());
        yaml_.error(key.Mark(), fmt::format("{}.{} needs a value", e.name, key.Scalar()));
      }
    }
    if (given.size() == 1) {
      receiver.type = std::string{given.front()};
      return;
    }
    yaml_.error(
        e.value.Mark(),
        fmt::format(
            "{}: a receiver needs exactly one of slack, pagerduty, webhook{}", e.name,
            given.empty() ? std::string{} : fmt::format(" (got {})", fmt::join(given, " and "))));
  }

  void read_receiver_name(const entry& e, std::string& name) {
    std::optional<std::string> text = yaml_.read_scalar(e, "a name");
    if (!text) return;
    if (text->empty()) {
      yaml_.error(e.value.Mark(), fmt::format("{} must not be empty", e.name));
      return;
    }
    if (const auto tracker = tracker_names_.find(*text); tracker != tracker_names_.end()) {
      // Deliveries name their target; a tracker and a receiver of one name would mix.
      yaml_.error(e.value.Mark(),
                  fmt::format("receiver name '{}' is a tracker's name too (line {}); give "
                              "them different names",
                              *text, tracker->second));
    }
    yaml_.check_unique(receiver_lines_, *text, e, "receiver name");
    name = std::move(*text);
  }

  void read_slack(const entry& e, slack_receiver& slack) {
    yaml_.read_map(e, {
                          {"webhook_url",
                           [&](const entry& v) {
                             if (yaml_.read_secret(v, slack.webhook_url) &&
                                 !url_problem(slack.webhook_url.reveal()).empty()) {
                               yaml_.error(v.value.Mark(),
                                           fmt::format("{} must be an https URL (plain http "
                                                       "only to a loopback host); {}",
                                                       v.name, kNotShown));
                             }
                           },
                           true},
                          {"send_resolved", yaml_.bool_field(slack.send_resolved)},
                      });
  }

  void read_pagerduty(const entry& e, pagerduty_receiver& pagerduty) {
    yaml_.read_map(e,
                   {
                       {"routing_key",
                        [&](const entry& v) {
                          if (yaml_.read_secret(v, pagerduty.routing_key) &&
                              !is_routing_key(pagerduty.routing_key.reveal())) {
                            yaml_.error(v.value.Mark(),
                                        fmt::format("{} must be 32 letters and digits (a PagerDuty "
                                                    "integration key); {}",
                                                    v.name, kNotShown));
                          }
                        },
                        true},
                       {"url", [&](const entry& v) { read_url(v, pagerduty.url); }},
                       {"source", yaml_.template_field(pagerduty.source)},
                       {"send_resolved", yaml_.bool_field(pagerduty.send_resolved)},
                       {"severity", [&](const entry& v) { read_severity(v, pagerduty.severity); }},
                   });
  }

  /// {level: critical|error|warning|info}: the keys are level names.
  void read_severity(const entry& e, std::vector<std::string>& severity) {
    const auto at = [&](event_level level) -> reader {
      return [this, &severity, level](const entry& v) {
        if (auto value = yaml_.read_choice(v, {"critical", "error", "warning", "info"})) {
          severity.at(static_cast<std::size_t>(level)) = std::move(*value);
        }
      };
    };
    read_level_table(yaml_, e, at);
  }

  void read_webhook(const entry& e, webhook_receiver& webhook) {
    read_signed_webhook(yaml_, e, webhook.secrets,
                        {
                            {"url", [&](const entry& v) { read_url(v, webhook.url); }, true},
                            {"send_resolved", yaml_.bool_field(webhook.send_resolved)},
                        });
  }

  /// An http(s) URL, kept as written (a webhook's path is its own).
  void read_url(const entry& e, std::string& url) {
    std::optional<std::string> text = yaml_.read_scalar(e, "a URL");
    if (!text) return;
    if (const std::string problem = url_problem(*text); !problem.empty()) {
      yaml_.error(e.value.Mark(), fmt::format("{} {}, got '{}'", e.name, problem, *text));
      return;
    }
    url = std::move(*text);
  }

  // ---- route ----

  /// The root route: a receiver, no matchers, no continue; unset timers and group_by get
  /// their defaults, which the children inherit.
  void read_root(const entry& e, route_config& root) {
    read_route(e, root, true);
    if (!root.group_by) root.group_by = std::vector<std::string>{"issue"};
    if (!root.group_wait) root.group_wait = std::chrono::seconds{30};
    if (!root.group_interval) root.group_interval = std::chrono::minutes{5};
    if (!root.repeat_interval) root.repeat_interval = kNever;
  }

  void read_route(const entry& e, route_config& route, bool root) {
    route.line = e.value.Mark().line + 1;
    yaml_.read_map(
        e,
        {
            {"receiver", yaml_.reference_field(route.receiver, "receiver", receiver_lines_), root},
            {"matchers",
             [&](const entry& v) {
               if (root) {
                 yaml_.error(v.value.Mark(),
                             "the root route matches everything; move its matchers to a "
                             "child route");
                 return;
               }
               read_matchers(v, route.matchers);
             }},
            {"group_by", [&](const entry& v) { read_group_by(v, route.group_by.emplace()); }},
            {"group_wait",
             [&](const entry& v) { read_optional_duration(v, route.group_wait, {}); }},
            {"group_interval",
             [&](const entry& v) { read_optional_duration(v, route.group_interval, kPositive); }},
            {"repeat_interval", [&](const entry& v) { read_repeat_interval(v, route); }},
            {"continue",
             [&](const entry& v) {
               yaml_.bool_field(route.continue_matching)(v);
               if (root && route.continue_matching) {
                 yaml_.error(v.value.Mark(),
                             "the root route has no siblings to continue to; continue "
                             "belongs on child routes");
               }
             }},
            {"routes",
             [&](const entry& v) {
               yaml_.read_list(v, route.routes, [&](const entry& item, route_config& child) {
                 read_route(item, child, false);
               });
             }},
        });
  }

  void read_optional_duration(const entry& e, std::optional<std::chrono::milliseconds>& out,
                              std::chrono::milliseconds minimum) {
    std::chrono::milliseconds value{0};
    const std::size_t errors = yaml_.error_count();
    yaml_.duration_field(value, minimum)(e);
    if (yaml_.error_count() == errors) out = value;
  }

  /// A duration, or `never` (kNever): a group that saw no change is not sent again.
  void read_repeat_interval(const entry& e, route_config& route) {
    if (e.value.IsScalar() && e.value.Scalar() == "never") {
      route.repeat_interval = kNever;
      return;
    }
    read_optional_duration(e, route.repeat_interval, kPositive);
  }

  /// Labels, `issue`, or `...` alone for all of them.
  void read_group_by(const entry& e, std::vector<std::string>& labels) {
    std::map<std::string, int> lines;
    std::optional<YAML::Mark> all;
    yaml_.read_list(e, labels, [&](const entry& item, std::string& label) {
      std::optional<std::string> name = yaml_.read_scalar(item, "a label name");
      if (!name) return;
      if (*name == kAllLabels) {
        all = item.value.Mark();
      } else if (const std::string problem = label_problem(*name, true, item.name);
                 !problem.empty()) {
        yaml_.error(item.value.Mark(), problem);
        return;
      }
      yaml_.check_unique(lines, *name, item, "label");
      label = std::move(*name);
    });
    if (all && labels.size() > 1) {
      yaml_.error(*all, fmt::format("{}: '...' stands for every label and goes alone", e.name));
    }
  }

  void read_matchers(const entry& e, std::vector<label_matcher>& matchers) {
    yaml_.read_list(e, matchers, [&](const entry& item, label_matcher& matcher) {
      read_matcher(item, matcher);
    });
  }

  void read_matcher(const entry& item, label_matcher& matcher) {
    std::optional<std::string> text =
        yaml_.read_scalar(item, "a matcher such as team=\"payments\"");
    if (!text) return;
    matcher_parser parser{*text};
    if (const std::optional<matcher_problem> problem = parser.parse(matcher)) {
      yaml_.error_in_scalar(item, problem->offset,
                            fmt::format("{}: {}", item.name, problem->message));
      return;
    }
    if (const std::string problem = label_problem(matcher.label, false, item.name);
        !problem.empty()) {
      yaml_.error_in_scalar(item, parser.label_offset(), problem);
      return;
    }
    // The value starts after its opening quote.
    const std::size_t value_offset = parser.value_offset() + 1;
    if (matcher.how == label_matcher::op::matches ||
        matcher.how == label_matcher::op::not_matches) {
      const RE2 compiled{matcher.value, RE2::Quiet};
      if (!compiled.ok()) {
        yaml_.error_in_scalar(
            item, value_offset,
            fmt::format("{}: not a valid RE2 pattern: {}", item.name, compiled.error()));
      }
      return;
    }
    check_closed_value(item, matcher, value_offset);
  }

  /// `level`, `severity` and `reason` take a few values only: a matcher comparing them
  /// with another one would never (or always) match. Levels are kept by their canonical
  /// name ("warn" becomes "warning"), the way notifications carry them.
  void check_closed_value(const entry& item, label_matcher& matcher, std::size_t value_offset) {
    if (matcher.label == "level") {
      if (const std::optional<event_level> level = parse_event_level(matcher.value)) {
        matcher.value = std::string{event_level_name(*level)};
      } else {
        yaml_.error_in_scalar(item, value_offset,
                              unknown_name_message("level", matcher.value, level_names()));
      }
    } else if (matcher.label == "severity" && !contains(kSeverities, matcher.value)) {
      yaml_.error_in_scalar(
          item, value_offset,
          unknown_name_message("severity", matcher.value, kSeverities, "severities"));
    } else if (matcher.label == "reason" && !contains(kReasons, matcher.value)) {
      yaml_.error_in_scalar(item, value_offset,
                            unknown_name_message("reason", matcher.value, kReasons));
    }
  }

  // ---- flood ----

  void read_flood(const entry& e, flood_config& flood) {
    yaml_.read_map(
        e, {
               {"slack_per_webhook",
                [&](const entry& v) {
                  yaml_.read_map(v, {
                                        {"rate", rate_field(flood.slack_per_webhook)},
                                        {"burst", burst_field(flood.slack_per_webhook)},
                                        {"coalesce_above", yaml_.count_field<std::size_t>(
                                                               flood.slack_coalesce_above, 1)},
                                    });
                }},
               {"pagerduty_per_routing_key",
                [&](const entry& v) {
                  yaml_.read_map(v, {
                                        {"rate", rate_field(flood.pagerduty_per_routing_key)},
                                        {"burst", burst_field(flood.pagerduty_per_routing_key)},
                                    });
                }},
           });
  }

  reader burst_field(rate_config& rate) { return yaml_.count_field<std::size_t>(rate.burst, 1); }

  /// "<number>/<s|m|h>": 1/s, 120/m, 0.5/s.
  reader rate_field(rate_config& rate) {
    return [this, &rate](const entry& e) {
      constexpr std::string_view kExpected = "a rate such as 1/s, 120/m or 0.5/h";
      const std::optional<std::string> text = yaml_.read_scalar(e, kExpected);
      if (!text) return;
      const std::size_t slash = text->find('/');
      const std::string_view count = std::string_view{*text}.substr(0, slash);
      const std::string_view unit = slash == std::string::npos
                                        ? std::string_view{}
                                        : std::string_view{*text}.substr(slash + 1);
      const double seconds = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
      double value = 0;
      const bool digits = !count.empty() && std::all_of(count.begin(), count.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.';
      });
      const auto [end, failure] =
          digits ? std::from_chars(count.data(), count.data() + count.size(), value)
                 : std::from_chars_result{count.data(), std::errc::invalid_argument};
      if (seconds == 0 || failure != std::errc{} || end != count.data() + count.size() ||
          !std::isfinite(value)) {
        yaml_.type_error(e, kExpected);
        return;
      }
      if (value <= 0) {
        yaml_.error(e.value.Mark(), fmt::format("{} must be more than 0, got '{}'", e.name, *text));
        return;
      }
      rate.per_second = value / seconds;
    };
  }

  yaml_reader& yaml_;
  const std::map<std::string, int>& tracker_names_;
  alerting_config& out_;
  std::map<std::string, int> receiver_lines_;  ///< Declared receiver names -> their line.
};

}  // namespace

void read_level_table(yaml_reader& yaml, const entry& e,
                      const std::function<reader(event_level)>& reader_for) {
  yaml.read_map(e,
                {
                    {"debug", reader_for(event_level::debug)},
                    {"info", reader_for(event_level::info)},
                    {"warning", reader_for(event_level::warning)},
                    {"error", reader_for(event_level::error)},
                    {"fatal", reader_for(event_level::fatal)},
                },
                "level");
}

void read_signed_webhook(yaml_reader& yaml, const entry& e, std::vector<secret>& secrets,
                         std::vector<field> others) {
  const auto read_signing_secret = [&yaml](const entry& v, secret& value) {
    if (yaml.read_secret(v, value) && !is_webhook_secret(value.reveal())) {
      yaml.error(v.value.Mark(),
                 fmt::format("{} must be base64 of at least {} bytes, after an "
                             "optional {} prefix; {}",
                             v.name, kMinWebhookKeyBytes, kWebhookSecretPrefix, kNotShown));
    }
  };
  std::optional<entry> one;
  std::optional<entry> several;
  others.push_back({"secret", [&](const entry& v) {
                      one = v;
                      read_signing_secret(v, secrets.emplace_back());
                    }});
  others.push_back({"secrets", [&](const entry& v) {
                      several = v;
                      yaml.read_list(v, secrets, read_signing_secret);
                      if (v.value.IsSequence() && v.value.size() == 0) {
                        yaml.error(v.value.Mark(),
                                   fmt::format("{}: at least one secret is needed", v.name));
                      }
                    }});
  yaml.read_map(e, others);
  if (!e.value.IsMap()) return;
  if (one && several) {
    const entry& later = one->value.Mark().pos > several->value.Mark().pos ? *one : *several;
    yaml.error(later.value.Mark(), fmt::format("{}: give secret or secrets, not both", e.name));
  } else if (!one && !several) {
    yaml.error(e.value.Mark(), fmt::format("{}: 'secret' (or 'secrets' while rotating) is "
                                           "required: deliveries are signed",
                                           e.name));
  }
}

void read_routing(yaml_reader& yaml, const alerting_keys& keys,
                  const std::map<std::string, int>& tracker_names, alerting_config& out) {
  routing_reader{yaml, tracker_names, out}.read(keys);
}

}  // namespace warden::sink::config_detail

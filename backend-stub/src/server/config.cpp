// Reads warden-sink's YAML configuration. One pass over the document checks every key
// against what it may hold and collects every problem with its place in the file
// (yaml_reader.hpp); the checks that span keys (unique ids and keys, api_token against
// listen, the ownership rules) follow, then the alerting keys (alerting_config.cpp).
#include "server/config.hpp"

#include "ingest/auth.hpp"
#include "ingest/json.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "server/yaml_reader.hpp"
#include "warden/ownership/rules.hpp"

namespace warden::sink {
namespace {

using config_detail::alerting_keys;
using config_detail::describe_errno;
using config_detail::entry;
using config_detail::file_contents;
using config_detail::is_loopback;
using config_detail::read_whole_file;
using config_detail::yaml_reader;

/// Line `index` (0-based) of `text`, without its line break; empty past the end.
std::string_view nth_line(std::string_view text, int index) {
  for (; index > 0 && !text.empty(); --index) {
    const std::size_t newline = text.find('\n');
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  }
  std::string_view line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

/// Splits "host:port" ("[v6]:port" for IPv6) into its host; returns what is wrong, or
/// an empty string.
std::string split_listen(std::string_view listen, std::string& host) {
  std::string_view port;
  if (!listen.empty() && listen.front() == '[') {
    const std::size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return "expected [IPv6 address]:port, e.g. [::1]:9000";
    }
    host = std::string{listen.substr(1, close - 1)};
    port = listen.substr(close + 2);
  } else {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) return "expected host:port, e.g. 127.0.0.1:9000";
    host = std::string{listen.substr(0, colon)};
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return "an IPv6 address is written in brackets, e.g. [::1]:9000";
    }
  }
  if (host.empty()) return "expected host:port, e.g. 127.0.0.1:9000 (the host is missing)";
  unsigned value = 0;
  const auto [end, failure] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || failure != std::errc{} || end != port.data() + port.size() || value > 65535) {
    return "the port must be a number from 0 to 65535";
  }
  return {};
}

/// Reads one document into a sink_config, collecting every error; the alerting keys are
/// handed to read_alerting (alerting_config.cpp) once the rest is read.
class config_reader final : private yaml_reader {
 public:
  using yaml_reader::yaml_reader;

  config_result read() {
    config_result result;
    sink_config config;
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(yaml());
    } catch (const YAML::Exception& e) {
      error(e.mark, e.msg);
    }
    // A trailing "---" with nothing after it is harmless; a second document is not read.
    for (std::size_t i = 1; i < documents.size(); ++i) {
      if (!documents[i].IsNull()) {
        error(documents[i].Mark(), "a second YAML document; the config is one document");
        break;
      }
    }
    if (!documents.empty() && !documents[0].IsNull()) {
      read_root(entry{"", documents[0]}, config);
      check_api_token(config);
      check_ownership_rules(config.ownership_rules);
      read_alerting(*this, alerting_keys_, config.alerting);
    }
    result.errors = take_sorted_errors();
    if (result.errors.empty()) result.config = std::move(config);
    return result;
  }

 private:
  void read_root(const entry& e, sink_config& config) {
    read_map(e,
             {
                 {"listen", [&](const entry& v) { read_listen(v, config.listen); }},
                 {"database", string_field(config.database)},
                 {"public_url", [&](const entry& v) { read_public_url(v, config.public_url); }},
                 {"log_level",
                  [&](const entry& v) {
                    if (auto level = read_choice(v, {"debug", "info", "warning", "error"})) {
                      config.log_level = *level;
                    }
                  }},
                 {"api_token", string_field(config.api_token)},
                 {"fallback_owner", [&](const entry& v) { read_owner(v, config.fallback_owner); }},
                 {"ownership_rules",
                  [&](const entry& v) {
                    if (auto text = read_scalar(v, "a string")) {
                      config.ownership_rules = std::move(*text);
                      inline_rules_ = v;
                    }
                  }},
                 {"ownership_rules_file",
                  [&](const entry& v) {
                    if (read_scalar(v, "a file name")) rules_file_ = v;
                  }},
                 {"projects",
                  [&](const entry& v) {
                    read_list(v, config.projects, [&](const entry& item, project_config& project) {
                      read_project(item, project);
                    });
                  }},
                 {"limits", [&](const entry& v) { read_limits(v, config.limits); }},
                 {"storage",
                  [&](const entry& v) {
                    read_map(
                        v, {
                               {"durable", bool_field(config.storage.durable)},
                               {"max_events_per_issue",
                                count_field<std::int64_t>(config.storage.max_events_per_issue, 1)},
                               {"retention_days",
                                count_field<std::int64_t>(config.storage.retention_days, 1)},
                           });
                  }},
                 {"rate_limits", [&](const entry& v) { read_rate_limits(v, config.rate_limits); }},
                 {"attachments",
                  [&](const entry& v) {
                    if (auto policy = read_choice(v, {"store", "drop"})) {
                      config.store_attachments = *policy == "store";
                    }
                  }},
                 {"trackers", [&](const entry& v) { alerting_keys_.trackers = v; }},
                 {"escalation", [&](const entry& v) { alerting_keys_.escalation = v; }},
                 {"alert_rules", [&](const entry& v) { alerting_keys_.alert_rules = v; }},
                 {"delivery", [&](const entry& v) { alerting_keys_.delivery = v; }},
                 {"route", [&](const entry& v) { alerting_keys_.route = v; }},
                 {"receivers", [&](const entry& v) { alerting_keys_.receivers = v; }},
                 {"flood", [&](const entry& v) { alerting_keys_.flood = v; }},
             });
  }

  void read_listen(const entry& e, std::string& listen) {
    std::optional<std::string> text = read_scalar(e, "host:port");
    if (!text) return;
    std::string host;
    if (const std::string problem = split_listen(*text, host); !problem.empty()) {
      error(e.value.Mark(), fmt::format("listen: {}; got '{}'", problem, *text));
      return;
    }
    listen = std::move(*text);
    listen_ = listen_address{std::move(host), e.value.Mark()};
  }

  void read_public_url(const entry& e, std::string& url) {
    std::optional<std::string> text = read_scalar(e, "a URL");
    if (!text) return;
    if (!text->empty() && !absl::StartsWithIgnoreCase(*text, "http://") &&
        !absl::StartsWithIgnoreCase(*text, "https://")) {
      error(e.value.Mark(),
            fmt::format("public_url must start with http:// or https://, got '{}'", *text));
      return;
    }
    url = std::move(*text);
  }

  void read_owner(const entry& e, owner_config& owner) {
    read_map(e, {
                    {"team", string_field(owner.team)},
                    {"function", string_field(owner.function)},
                    {"product", string_field(owner.product)},
                });
  }

  void read_project(const entry& e, project_config& project) {
    read_map(e, {
                    {"id",
                     [&](const entry& v) {
                       if (read_whole_number<std::uint64_t>(v, project.id, 1, false)) {
                         check_unique(project_id_lines_, project.id, v, "project id");
                       }
                     },
                     true},
                    {"name", string_field(project.name)},
                    {"owner", [&](const entry& v) { read_owner(v, project.owner.emplace()); }},
                    {"keys",
                     [&](const entry& v) {
                       read_list(v, project.keys,
                                 [&](const entry& item, key_config& key) { read_key(item, key); });
                     }},
                    {"disabled", bool_field(project.disabled)},
                    {"events_per_minute", count_field<std::uint64_t>(project.events_per_minute, 0)},
                });
  }

  void read_key(const entry& e, key_config& key) {
    read_map(e,
             {
                 {"public_key", [&](const entry& v) { read_public_key(v, key.public_key); }, true},
                 {"revoked", bool_field(key.revoked)},
             });
  }

  void read_public_key(const entry& e, std::string& public_key) {
    std::optional<std::string> text = read_scalar(e, "a string");
    if (!text) return;
    if (!is_valid_public_key(*text)) {
      error(e.value.Mark(), fmt::format("{} must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~, "
                                        "got '{}'",
                                        e.name, *text));
      return;
    }
    check_unique(public_key_lines_, *text, e, "public key");
    public_key = std::move(*text);
  }

  void read_limits(const entry& e, limits_config& limits) {
    read_map(e, {
                    {"max_request_bytes", size_field(limits.max_request_bytes)},
                    {"max_decoded_bytes", size_field(limits.max_decoded_bytes)},
                    {"max_event_bytes", size_field(limits.max_event_bytes)},
                    {"max_attachment_bytes", size_field(limits.max_attachment_bytes)},
                    {"max_items", count_field<std::size_t>(limits.max_items, 1)},
                    {"max_json_depth",
                     count_field<std::size_t>(limits.max_json_depth, 1, kMaxJsonDepth)},
                    {"max_string_bytes", size_field(limits.max_string_bytes)},
                    {"max_connections", count_field<std::size_t>(limits.max_connections, 1)},
                });
  }

  void read_rate_limits(const entry& e, rate_limits_config& limits) {
    read_map(e, {
                    {"events_per_minute_per_owner",
                     count_field<std::uint64_t>(limits.events_per_minute_per_owner, 0)},
                    {"spike_factor",
                     [&](const entry& v) {
                       double factor = 0;
                       if (!v.value.IsScalar() || !YAML::convert<double>::decode(v.value, factor)) {
                         type_error(v, "a number");
                       } else if (!std::isfinite(factor) || factor < 0) {
                         error(v.value.Mark(),
                               fmt::format("{} must be a finite number >= 0, got '{}'", v.name,
                                           v.value.Scalar()));
                       } else {
                         limits.spike_factor = factor;
                       }
                     }},
                    {"spike_floor", count_field<std::uint64_t>(limits.spike_floor, 0)},
                });
  }

  /// An empty api_token is allowed only on loopback: anyone who reaches the port could
  /// read every event otherwise.
  void check_api_token(const sink_config& config) {
    if (listen_ && config.api_token.empty() && !is_loopback(listen_->host)) {
      error(listen_->mark,
            fmt::format("api_token is required when listening on {}", listen_->host));
    }
  }

  /// Parses the rules (inline, or read from ownership_rules_file into `rules`) with
  /// warden::rules and reports its errors where the user can find them.
  void check_ownership_rules(std::string& rules) {
    if (inline_rules_ && rules_file_) {
      const entry& later = inline_rules_->value.Mark().pos > rules_file_->value.Mark().pos
                               ? *inline_rules_
                               : *rules_file_;
      error(later.value.Mark(), "ownership_rules and ownership_rules_file exclude each other");
    } else if (inline_rules_) {
      check_inline_rules(inline_rules_->value.Mark(), rules);
    } else if (rules_file_) {
      read_rules_file(*rules_file_, rules);
    }
  }

  /// In a literal block scalar (`ownership_rules: |`), rules line N is N lines below the
  /// `|`, indented by the block; elsewhere errors are reported at the scalar.
  void check_inline_rules(const YAML::Mark& mark, const std::string& rules) {
    const auto position = static_cast<std::size_t>(mark.pos);
    const bool literal = position < yaml().size() && yaml()[position] == '|';
    for (const rule_error& e : ownership_rules::parse(rules).errors) {
      if (!literal) {
        error(mark, fmt::format("ownership_rules:{}", e.to_string()));
        continue;
      }
      const int yaml_line = mark.line + e.line;
      const std::string_view source = nth_line(yaml(), yaml_line);
      const std::string_view rule = nth_line(rules, e.line - 1);
      std::size_t indent = 0;
      if (source.size() >= rule.size() && source.substr(source.size() - rule.size()) == rule) {
        indent = source.size() - rule.size();
      } else {
        while (indent < source.size() && source[indent] == ' ') ++indent;
      }
      error_at(yaml_line + 1, static_cast<int>(indent) + e.column,
               fmt::format("ownership_rules: {}", e.message));
    }
  }

  void read_rules_file(const entry& e, std::string& rules) {
    const std::string path = (std::filesystem::path{base_directory()} / e.value.Scalar()).string();
    file_contents file = read_whole_file(path);
    if (file.error_number != 0) {
      error(e.value.Mark(), fmt::format("cannot read ownership_rules_file '{}': {}", path,
                                        describe_errno(file.error_number)));
      return;
    }
    for (const rule_error& rule : ownership_rules::parse(file.text).errors) {
      error(e.value.Mark(), fmt::format("{}:{}", path, rule.to_string()));
    }
    rules = std::move(file.text);
  }

  /// The host listen names, and where.
  struct listen_address {
    std::string host;
    YAML::Mark mark;
  };

  std::optional<listen_address> listen_;  ///< Set when listen was given and valid.
  std::optional<entry> inline_rules_;     ///< ownership_rules, when given.
  std::optional<entry> rules_file_;       ///< ownership_rules_file, when given.
  std::map<std::uint64_t, int> project_id_lines_;
  std::map<std::string, int> public_key_lines_;
  alerting_keys alerting_keys_;  ///< Read after the rest, by read_alerting.
};

}  // namespace

std::string config_error::to_string(const std::string& file) const {
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

config_result parse_config(const std::string& yaml, const std::string& base_directory) {
  return config_reader{yaml, base_directory}.read();
}

config_result load_config(const std::string& path) {
  file_contents file = read_whole_file(path);
  if (file.error_number != 0) {
    config_result result;
    result.errors.push_back(
        {0, 0, fmt::format("cannot read: {}", describe_errno(file.error_number))});
    return result;
  }
  return parse_config(file.text, std::filesystem::path{path}.parent_path().string());
}

}  // namespace warden::sink

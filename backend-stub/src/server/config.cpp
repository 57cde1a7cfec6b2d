// Reads warden-sink's YAML configuration. One pass over the document checks every key
// against what it may hold and collects every problem with its place in the file
// (yaml-cpp's marks are 0-based; ours are 1-based); the checks that span keys (unique
// ids and keys, api_token against listen, the ownership rules) follow.
#include "server/config.hpp"

#include "ingest/auth.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "warden/ownership/rules.hpp"

namespace warden::sink {
namespace {

/// One value of the document and the name messages give it ("limits.max_items").
struct entry {
  std::string name;
  YAML::Node value;
};

/// A key a mapping may hold and what reads its value.
struct field {
  std::string_view key;
  std::function<void(const entry&)> read;
  bool required = false;  ///< Its absence is an error.
};

/// A size unit and the bytes it stands for.
struct size_unit {
  std::string_view name;
  std::uint64_t bytes;
};

constexpr size_unit kSizeUnits[] = {
    {"B", 1},      {"kB", 1000},     {"KB", 1000},     {"MB", 1000'000}, {"GB", 1000'000'000},
    {"KiB", 1024}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
};
constexpr std::string_view kSizeExpected =
    "a size (a number of bytes, or with a unit: B, kB, KB, MB, GB, KiB, MiB, GiB)";

/// The contents of a file, or the errno that stopped reading it.
struct file_contents {
  std::string text;
  int error_number = 0;
};

/// Closes a FILE* held by a unique_ptr.
struct file_closer {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

file_contents read_whole_file(const std::string& path) {
  file_contents contents;
  const std::unique_ptr<std::FILE, file_closer> file{std::fopen(path.c_str(), "rb")};
  if (file == nullptr) {
    contents.error_number = errno;
    return contents;
  }
  char buffer[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    contents.text.append(buffer, got);
  }
  if (std::ferror(file.get()) != 0) contents.error_number = errno != 0 ? errno : EIO;
  return contents;
}

std::string describe_errno(int error_number) {
  return std::generic_category().message(error_number);
}

/// What a node is, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

/// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`, for "did you
/// mean" (optimal string alignment distance).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> before(b.size() + 1);  // row i - 2
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j < row.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    before.swap(previous);
    previous.swap(row);
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min(
          {previous[j] + 1, row[j - 1] + 1, previous[j - 1] + std::size_t{a[i - 1] != b[j - 1]}});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(const std::string& key, std::initializer_list<field> fields) {
  const field* closest = nullptr;
  std::size_t best = std::max<std::size_t>(1, key.size() / 3) + 1;
  for (const field& known : fields) {
    const std::size_t distance = edit_distance(key, known.key);
    if (distance < best) {
      best = distance;
      closest = &known;
    }
  }
  if (closest != nullptr) {
    return fmt::format("unknown key '{}' (did you mean '{}'?)", key, closest->key);
  }
  std::vector<std::string_view> keys;
  for (const field& known : fields) keys.push_back(known.key);
  return fmt::format("unknown key '{}' (known keys: {})", key, fmt::join(keys, ", "));
}

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

/// 127.x.x.x, ::1 or localhost: the addresses only this machine can reach.
bool is_loopback(const std::string& host) {
  if (host == "::1" || absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::vector<std::string> octets = absl::StrSplit(host, '.');
  return octets.size() == 4 && octets[0] == "127" &&
         std::all_of(octets.begin(), octets.end(), [](const std::string& octet) {
           int value = 0;
           return !octet.empty() && octet.size() <= 3 &&
                  std::all_of(
                      octet.begin(), octet.end(),
                      [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) &&
                  absl::SimpleAtoi(octet, &value) && value <= 255;
         });
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

/// Reads one document into a sink_config, collecting every error.
class config_reader final {
 public:
  config_reader(const std::string& yaml, std::string base_directory)
      : yaml_(yaml), base_directory_(std::move(base_directory)) {}

  config_result read() {
    config_result result;
    sink_config config;
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(yaml_);
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
    }
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const config_error& a, const config_error& b) {
                       return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    result.errors = std::move(errors_);
    if (result.errors.empty()) result.config = std::move(config);
    return result;
  }

 private:
  using reader = std::function<void(const entry&)>;

  void error(const YAML::Mark& mark, std::string message) {
    errors_.push_back({mark.line + 1, mark.column + 1, std::move(message)});
  }

  void type_error(const entry& e, std::string_view expected) {
    error(e.value.Mark(),
          fmt::format("{}: expected {}, got {}", e.name.empty() ? "the configuration" : e.name,
                      expected, describe(e.value)));
  }

  /// Reads a mapping: each known key's value with its field's reader, in file order.
  /// Unknown, repeated and missing required keys are errors; a key with no value keeps
  /// its default.
  void read_map(const entry& e, std::initializer_list<field> fields) {
    if (!e.value.IsMap()) {
      type_error(e, "a mapping");
      return;
    }
    std::map<std::string, int> lines;  // key -> its 1-based line
    for (const auto& pair : e.value) {
      const YAML::Node& key = pair.first;
      const YAML::Node& value = pair.second;
      if (!key.IsScalar()) {
        error(key.Mark(), fmt::format("expected a key name, got {}", describe(key)));
        continue;
      }
      const auto [first, inserted] = lines.emplace(key.Scalar(), key.Mark().line + 1);
      if (!inserted) {
        error(key.Mark(),
              fmt::format("duplicate key '{}' (first at line {})", key.Scalar(), first->second));
        continue;
      }
      const auto known = std::find_if(fields.begin(), fields.end(),
                                      [&](const field& f) { return f.key == key.Scalar(); });
      if (known == fields.end()) {
        error(key.Mark(), unknown_key_message(key.Scalar(), fields));
      } else if (!value.IsNull()) {
        known->read(entry{e.name.empty() ? key.Scalar() : e.name + "." + key.Scalar(), value});
      } else if (known->required) {
        error(key.Mark(), fmt::format("{}.{} needs a value", e.name, known->key));
      }
    }
    for (const field& f : fields) {
      if (f.required && lines.count(std::string{f.key}) == 0) {
        error(e.value.Mark(), fmt::format("{}: '{}' is required", e.name, f.key));
      }
    }
  }

  /// Reads a sequence, each item into a new element of `out` with `read_item`.
  template <typename T, typename ReadItem>
  void read_list(const entry& e, std::vector<T>& out, ReadItem read_item) {
    if (!e.value.IsSequence()) {
      type_error(e, "a sequence");
      return;
    }
    std::size_t index = 0;
    for (const YAML::Node& item : e.value) {
      read_item(entry{fmt::format("{}[{}]", e.name, index++), item}, out.emplace_back());
    }
  }

  std::optional<std::string> read_scalar(const entry& e, std::string_view expected) {
    if (e.value.IsScalar()) return e.value.Scalar();
    type_error(e, expected);
    return std::nullopt;
  }

  /// A scalar that must be one of `choices`.
  std::optional<std::string> read_choice(const entry& e,
                                         std::initializer_list<std::string_view> choices) {
    std::optional<std::string> text = read_scalar(e, "a string");
    if (text && std::find(choices.begin(), choices.end(), *text) == choices.end()) {
      error(e.value.Mark(),
            fmt::format("{} must be one of {}; got '{}'", e.name, fmt::join(choices, ", "), *text));
      return std::nullopt;
    }
    return text;
  }

  /// Reads a whole number of at least `minimum` (at most what T holds); a size may carry
  /// a unit. False when there was an error.
  template <typename T>
  bool read_whole_number(const entry& e, T& out, T minimum, bool size) {
    static_assert(std::is_integral_v<T>);
    const std::string_view expected = size ? kSizeExpected : "an integer";
    const std::optional<std::string> text = read_scalar(e, expected);
    if (!text) return false;
    std::string_view rest = *text;
    const bool negative = !rest.empty() && rest.front() == '-';
    if (negative) rest.remove_prefix(1);
    std::uint64_t magnitude = 0;
    const auto [end, failure] = std::from_chars(rest.data(), rest.data() + rest.size(), magnitude);
    std::string_view unit = rest.substr(static_cast<std::size_t>(end - rest.data()));
    std::uint64_t multiplier = unit.empty() ? 1 : 0;
    if (size) {
      while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
      for (const size_unit& known : kSizeUnits) {
        if (known.name == unit) multiplier = known.bytes;
      }
    }
    if (failure == std::errc::invalid_argument || multiplier == 0) {
      type_error(e, expected);
      return false;
    }
    const auto maximum = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    if (failure == std::errc::result_out_of_range || magnitude > maximum / multiplier) {
      error(e.value.Mark(),
            fmt::format("{} is too large: '{}' (at most {})", e.name, *text, maximum));
      return false;
    }
    magnitude *= multiplier;
    if ((negative && magnitude != 0) || magnitude < static_cast<std::uint64_t>(minimum)) {
      error(e.value.Mark(),
            fmt::format("{} must be at least {}, got '{}'", e.name, minimum, *text));
      return false;
    }
    out = static_cast<T>(magnitude);
    return true;
  }

  reader string_field(std::string& out) {
    return [this, &out](const entry& e) {
      if (std::optional<std::string> text = read_scalar(e, "a string")) out = std::move(*text);
    };
  }

  reader bool_field(bool& out) {
    return [this, &out](const entry& e) {
      if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, out)) {
        type_error(e, "a boolean (true or false)");
      }
    };
  }

  template <typename T>
  reader count_field(T& out, T minimum) {
    return [this, &out, minimum](const entry& e) { read_whole_number(e, out, minimum, false); };
  }

  reader size_field(std::size_t& out) {
    return [this, &out](const entry& e) { read_whole_number<std::size_t>(e, out, 1, true); };
  }

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

  /// Records `value`'s line in `lines`; a value seen before is an error.
  template <typename T>
  void check_unique(std::map<T, int>& lines, const T& value, const entry& e,
                    std::string_view what) {
    const auto [first, inserted] = lines.emplace(value, e.value.Mark().line + 1);
    if (!inserted) {
      error(e.value.Mark(),
            fmt::format("duplicate {} '{}' (first at line {})", what, value, first->second));
    }
  }

  void read_limits(const entry& e, limits_config& limits) {
    read_map(e, {
                    {"max_request_bytes", size_field(limits.max_request_bytes)},
                    {"max_decoded_bytes", size_field(limits.max_decoded_bytes)},
                    {"max_event_bytes", size_field(limits.max_event_bytes)},
                    {"max_attachment_bytes", size_field(limits.max_attachment_bytes)},
                    {"max_items", count_field<std::size_t>(limits.max_items, 1)},
                    {"max_json_depth", count_field<std::size_t>(limits.max_json_depth, 1)},
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
    const bool literal = position < yaml_.size() && yaml_[position] == '|';
    for (const rule_error& e : ownership_rules::parse(rules).errors) {
      if (!literal) {
        error(mark, fmt::format("ownership_rules:{}", e.to_string()));
        continue;
      }
      const int yaml_line = mark.line + e.line;
      const std::string_view source = nth_line(yaml_, yaml_line);
      const std::string_view rule = nth_line(rules, e.line - 1);
      std::size_t indent = 0;
      if (source.size() >= rule.size() && source.substr(source.size() - rule.size()) == rule) {
        indent = source.size() - rule.size();
      } else {
        while (indent < source.size() && source[indent] == ' ') ++indent;
      }
      errors_.push_back({yaml_line + 1, static_cast<int>(indent) + e.column,
                         fmt::format("ownership_rules: {}", e.message)});
    }
  }

  void read_rules_file(const entry& e, std::string& rules) {
    const std::string path = (std::filesystem::path{base_directory_} / e.value.Scalar()).string();
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

  const std::string& yaml_;
  const std::string base_directory_;
  std::vector<config_error> errors_;
  std::optional<listen_address> listen_;  ///< Set when listen was given and valid.
  std::optional<entry> inline_rules_;     ///< ownership_rules, when given.
  std::optional<entry> rules_file_;       ///< ownership_rules_file, when given.
  std::map<std::uint64_t, int> project_id_lines_;
  std::map<std::string, int> public_key_lines_;
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

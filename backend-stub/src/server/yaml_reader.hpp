// The machinery that reads warden-sink's YAML configuration, shared by config.cpp (the
// sink's own keys), alerting_config.cpp (trackers, escalation, alert rules, delivery) and
// routing_config.cpp (route, receivers, flood). A yaml_reader walks the document once,
// checks every value against what it may hold and collects every problem at its place in
// the file (yaml-cpp's marks are 0-based; ours are 1-based), so that one run of
// --check-config shows all of them. Secrets are read here too, and no message ever shows
// one.
//
//   yaml_reader yaml{text, base_directory};
//   std::uint64_t per_hour = 20;
//   yaml.read_map(root, {{"per_hour", yaml.count_field<std::uint64_t>(per_hour, 1)}});
//   std::vector<config_error> errors = yaml.take_sorted_errors();
//
// Internal to warden_sink_config: nothing outside it includes this header.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/types/span.h"
#include "server/alerting_config.hpp"
#include "server/config.hpp"
#include "server/secret.hpp"

namespace warden::sink::config_detail {

/// One value of the document and the name messages give it ("limits.max_items").
struct entry {
  std::string name;
  YAML::Node value;
};

/// What reads one value into the configuration, reporting its own errors.
using reader = std::function<void(const entry&)>;

/// A key a mapping may hold and what reads its value.
struct field {
  std::string_view key;
  reader read;
  bool required = false;  ///< Its absence is an error.
};

/// The contents of a file, or the errno that stopped reading it.
struct file_contents {
  std::string text;
  int error_number = 0;
};

/// Reads a whole file (the config itself, a rules file, a `{file: path}` secret).
[[nodiscard]] file_contents read_whole_file(const std::string& path);
/// strerror's text for `error_number`, e.g. "No such file or directory".
[[nodiscard]] std::string describe_errno(int error_number);
/// 127.x.x.x, ::1 or localhost: the addresses only this machine can reach.
[[nodiscard]] bool is_loopback(const std::string& host);
/// The one of `known` that `name` is likely a typo of ("teem": "team"), if any.
[[nodiscard]] std::optional<std::string_view> closest_name(
    std::string_view name, const std::vector<std::string_view>& known);
/// "unknown <kind> 'name'" with the closest of `known` as a suggestion, or the list of
/// them when none is close: "unknown filter 'teem' (did you mean 'team'?)". `kinds` is
/// the plural when adding an s does not make it ("severities").
[[nodiscard]] std::string unknown_name_message(std::string_view kind, std::string_view name,
                                               const std::vector<std::string_view>& known,
                                               std::string_view kinds = {});
/// A duration the way the config writes it: "30s", "1h30m", "1ms"; "0s" for zero.
[[nodiscard]] std::string format_duration(std::chrono::milliseconds duration);
/// What is wrong with an http(s) URL, or an empty string: it needs a host, and plain
/// http is for loopback hosts only (so that tests can use local fakes).
[[nodiscard]] std::string url_problem(std::string_view url);
/// What is wrong with template `text`, or an empty string: each "{name}" must be one of
/// kTemplateVariables; "{{" and "}}" stand for braces.
[[nodiscard]] std::string template_problem(std::string_view text);
/// The canonical level names, debug to fatal, for messages.
[[nodiscard]] const std::vector<std::string_view>& level_names();

/// Reads one YAML document's values and collects the errors found in them. Not
/// thread-safe; one per document.
class yaml_reader {
 public:
  /// `yaml` must outlive the reader; `base_directory` resolves relative file names.
  yaml_reader(const std::string& yaml, std::string base_directory);

  /// The document's text, for messages that point inside a scalar.
  [[nodiscard]] const std::string& yaml() const noexcept { return yaml_; }
  /// Where relative file names in the document are read from.
  [[nodiscard]] const std::string& base_directory() const noexcept { return base_directory_; }

  /// Records an error at `mark` (0-based, as yaml-cpp gives it).
  void error(const YAML::Mark& mark, std::string message);
  /// Records an error at a 1-based line and column.
  void error_at(int line, int column, std::string message);
  /// Records an error at byte `offset` of scalar `e`'s value, mapped back through its
  /// quoting to the file; at the scalar itself when the mapping is not plain (a block
  /// scalar, a line break or a \x escape before the offset, an anchor or tag).
  void error_in_scalar(const entry& e, std::size_t offset, std::string message);
  /// How many errors were recorded so far: a reader compares counts to learn whether a
  /// part of the document it depends on was read cleanly.
  [[nodiscard]] std::size_t error_count() const noexcept { return errors_.size(); }
  /// The errors, sorted by line then column, leaving none behind.
  [[nodiscard]] std::vector<config_error> take_sorted_errors();

  /// "<name>: expected <expected>, got <what the value is>".
  void type_error(const entry& e, std::string_view expected);

  /// Calls `read(key, value)` for each pair of a mapping in file order; keys that are not
  /// scalars or repeat one before are errors and skipped. False when `e` is no mapping.
  bool read_pairs(const entry& e,
                  const std::function<void(const YAML::Node& key, const YAML::Node& value)>& read);

  /// Reads a mapping: each known key's value with its field's reader, in file order.
  /// Unknown ("unknown <unknown_kind> 'x'"), repeated and missing required keys are errors;
  /// a key with no value keeps its default.
  void read_map(const entry& e, absl::Span<const field> fields,
                std::string_view unknown_kind = "key");

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

  /// The scalar's text; a type error naming `expected` otherwise.
  std::optional<std::string> read_scalar(const entry& e, std::string_view expected);

  /// A scalar that must be one of `choices`.
  std::optional<std::string> read_choice(const entry& e,
                                         std::initializer_list<std::string_view> choices);

  /// Reads a whole number from `minimum` to `maximum` (at most what T holds); a size may
  /// carry a unit ("20MiB"). False when there was an error.
  template <typename T>
  bool read_whole_number(const entry& e, T& out, T minimum, bool size,
                         T maximum = std::numeric_limits<T>::max()) {
    static_assert(std::is_integral_v<T>);
    const std::optional<std::uint64_t> value = read_unsigned(
        e, static_cast<std::uint64_t>(minimum), static_cast<std::uint64_t>(maximum), size);
    if (value) out = static_cast<T>(*value);
    return value.has_value();
  }

  /// Reads a duration: `[0-9]+(ms|s|m|h|d|w)` repeated, as "1h30m". Nothing (and an
  /// error) when malformed or beyond what milliseconds hold.
  std::optional<std::chrono::milliseconds> read_duration(const entry& e);

  /// Reads a secret: a literal, {env: NAME} or {file: path} (relative to
  /// base_directory(), trailing line breaks stripped). Messages name the key, variable or
  /// file, never the value. False, with an error, when there is none.
  bool read_secret(const entry& e, secret& out);
  /// A template of kTemplateVariables (template_problem).
  reader template_field(std::string& out);
  /// A level name (or an alias parse_event_level knows).
  std::optional<event_level> read_level(const entry& e);

  /// A string, as it is.
  reader string_field(std::string& out);
  /// true or false (yes/no, on/off as YAML 1.1 has them).
  reader bool_field(bool& out);
  /// A whole number of at least `minimum` (and at most `maximum`).
  template <typename T>
  reader count_field(T& out, T minimum, T maximum = std::numeric_limits<T>::max()) {
    return [this, &out, minimum, maximum](const entry& e) {
      read_whole_number(e, out, minimum, false, maximum);
    };
  }
  /// A size in bytes of at least 1, with an optional unit.
  reader size_field(std::size_t& out);
  /// A duration from `minimum` to `maximum`.
  reader duration_field(std::chrono::milliseconds& out, std::chrono::milliseconds minimum,
                        std::chrono::milliseconds maximum = std::chrono::milliseconds::max());

  /// Records `value`'s line in `lines`; a value seen before is an error
  /// "duplicate <what> 'value' (first at line N)".
  template <typename T>
  void check_unique(std::map<T, int>& lines, const T& value, const entry& e,
                    std::string_view what) {
    const auto [first, inserted] = lines.emplace(value, e.value.Mark().line + 1);
    if (!inserted) {
      error(e.value.Mark(),
            fmt::format("duplicate {} '{}' (first at line {})", what, value, first->second));
    }
  }

  /// A reference to something declared before: a name that must be a key of `declared`
  /// (as check_unique filled it), "unknown <kind> 'x'" listing the declared names if not.
  reader reference_field(std::string& out, std::string_view kind,
                         const std::map<std::string, int>& declared);

 private:
  std::optional<std::uint64_t> read_unsigned(const entry& e, std::uint64_t minimum,
                                             std::uint64_t maximum, bool size);
  void read_environment_secret(const std::string& key, const entry& variable, secret& out);
  void read_file_secret(const std::string& key, const entry& file, secret& out);

  const std::string& yaml_;
  const std::string base_directory_;
  std::vector<config_error> errors_;
};

/// The alerting keys of the root mapping, as config.cpp found them; read_alerting reads
/// them after the root mapping, those a later one refers to first: trackers, escalation,
/// receivers, route, flood, alert_rules, delivery.
struct alerting_keys {
  std::optional<entry> trackers;
  std::optional<entry> escalation;
  std::optional<entry> alert_rules;
  std::optional<entry> delivery;
  std::optional<entry> route;
  std::optional<entry> receivers;
  std::optional<entry> flood;
};

/// Reads the alerting keys into `out` (alerting_config.cpp) and checks them against each
/// other: owners and actions name declared trackers, `ticket` needs escalation, `notify`
/// a route. Without `alert_rules`, escalation or a route brings default_alert_rules().
void read_alerting(yaml_reader& yaml, const alerting_keys& keys, alerting_config& out);

/// Reads receivers, route and flood into `out` (routing_config.cpp): routes name
/// declared receivers, receiver names are unique and none is a tracker's name
/// (`tracker_names`, as read before). Called by read_alerting.
void read_routing(yaml_reader& yaml, const alerting_keys& keys,
                  const std::map<std::string, int>& tracker_names, alerting_config& out);

/// Reads `e` as a table by level ({fatal: Critical, error: Major, ...}: the keys are
/// level names), each value with `reader_for(level)`.
void read_level_table(yaml_reader& yaml, const entry& e,
                      const std::function<reader(event_level)>& reader_for);

/// Reads `e` as the signing secrets of a webhook: `secret` or `secrets` (while rotating),
/// one of them required, each base64 of at least 24 bytes after an optional "whsec_".
/// The map's other keys are `others` (url, ...).
void read_signed_webhook(yaml_reader& yaml, const entry& e, std::vector<secret>& secrets,
                         std::vector<field> others);

}  // namespace warden::sink::config_detail

// The generic half of reading the config: mappings, sequences, scalars, numbers, sizes,
// durations, URLs, templates and secrets, each checked with a message that names the key
// and the expected form (and never a secret's value).
#include "server/yaml_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace warden::sink::config_detail {
namespace {

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

/// A duration unit and the milliseconds it stands for, largest first (format_duration).
struct duration_unit {
  std::string_view name;
  std::int64_t milliseconds;
};

constexpr duration_unit kDurationUnits[] = {
    {"w", 7 * 86'400'000}, {"d", 86'400'000}, {"h", 3'600'000},
    {"m", 60'000},         {"s", 1000},       {"ms", 1},
};
constexpr std::string_view kDurationExpected =
    "a duration (e.g. 30s, 15m, 1h30m, 7d; units ms, s, m, h, d, w)";

/// Closes a FILE* held by a unique_ptr.
struct file_closer {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

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

/// The milliseconds `text` stands for ("1h30m"); nothing when malformed, and
/// `too_large` set when it overflows.
std::optional<std::int64_t> parse_duration(std::string_view text, bool& too_large) {
  constexpr std::int64_t kMaximum = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  if (text.empty()) return std::nullopt;
  while (!text.empty()) {
    std::uint64_t count = 0;
    const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (failure == std::errc::invalid_argument) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    const duration_unit* unit = nullptr;
    for (const duration_unit& known : kDurationUnits) {
      // The longest unit that matches: "ms" rather than "m".
      if (text.substr(0, known.name.size()) == known.name &&
          (unit == nullptr || known.name.size() > unit->name.size())) {
        unit = &known;
      }
    }
    if (unit == nullptr) return std::nullopt;
    text.remove_prefix(unit->name.size());
    const auto per_unit = static_cast<std::uint64_t>(unit->milliseconds);
    if (failure == std::errc::result_out_of_range ||
        count > static_cast<std::uint64_t>(kMaximum) / per_unit ||
        static_cast<std::int64_t>(count * per_unit) > kMaximum - total) {
      too_large = true;
      return std::nullopt;
    }
    total += static_cast<std::int64_t>(count * per_unit);
  }
  return total;
}

/// Whether `text` starts with the lowercase `prefix`, in any case.
bool starts_with_ignore_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char expected, char c) {
           return absl::ascii_tolower(static_cast<unsigned char>(c)) == expected;
         });
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what `{env: NAME}` may name.
bool is_environment_variable_name(std::string_view name) {
  return !name.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(name.front())) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

/// The character a one-character escape of a double-quoted YAML scalar stands for (n: a
/// line feed, for "\n"); nothing for the longer ones (x, u, U) and unknown ones.
std::optional<char> unescape_yaml(char escape) {
  switch (escape) {
    case '0':
      return '\0';
    case 'a':
      return '\a';
    case 'b':
      return '\b';
    case 't':
    case '\t':
      return '\t';
    case 'n':
      return '\n';
    case 'v':
      return '\v';
    case 'f':
      return '\f';
    case 'r':
      return '\r';
    case 'e':
      return '\x1b';
    case ' ':
    case '"':
    case '/':
    case '\\':
      return escape;
    default:
      return std::nullopt;
  }
}

/// Where byte `offset` of a quoted or plain scalar's value starts in `source`, which
/// holds the scalar's text from `begin` on; nothing unless every byte before it maps to
/// one written on the same line and they spell `value`'s first `offset` bytes.
std::optional<std::size_t> source_offset(std::string_view source, std::size_t begin,
                                         std::string_view value, std::size_t offset) {
  if (begin >= source.size() || offset > value.size()) return std::nullopt;
  const char quote = source[begin];
  if (quote == '|' || quote == '>' || quote == '&' || quote == '!') return std::nullopt;
  const bool quoted = quote == '\'' || quote == '"';
  std::size_t at = quoted ? begin + 1 : begin;
  for (std::size_t i = 0; i < offset; ++i) {
    if (at >= source.size() || source[at] == '\n' || source[at] == '\r') return std::nullopt;
    char decoded = source[at];
    std::size_t width = 1;
    if (quote == '\'' && decoded == '\'') {
      if (at + 1 >= source.size() || source[at + 1] != '\'') return std::nullopt;
      width = 2;
    } else if (quote == '"' && decoded == '\\') {
      const std::optional<char> escaped =
          at + 1 < source.size() ? unescape_yaml(source[at + 1]) : std::nullopt;
      if (!escaped) return std::nullopt;
      decoded = *escaped;
      width = 2;
    }
    if (decoded != value[i]) return std::nullopt;
    at += width;
  }
  return at;
}

}  // namespace

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

std::optional<std::string_view> closest_name(std::string_view name,
                                             const std::vector<std::string_view>& known) {
  std::optional<std::string_view> closest;
  std::size_t best = std::max<std::size_t>(1, name.size() / 3) + 1;
  for (const std::string_view candidate : known) {
    const std::size_t distance = edit_distance(name, candidate);
    if (distance < best) {
      best = distance;
      closest = candidate;
    }
  }
  return closest;
}

std::string unknown_name_message(std::string_view kind, std::string_view name,
                                 const std::vector<std::string_view>& known,
                                 std::string_view kinds) {
  if (known.empty()) return fmt::format("unknown {} '{}' (none is declared)", kind, name);
  if (const std::optional<std::string_view> closest = closest_name(name, known)) {
    return fmt::format("unknown {} '{}' (did you mean '{}'?)", kind, name, *closest);
  }
  const std::string plural = kinds.empty() ? fmt::format("{}s", kind) : std::string{kinds};
  return fmt::format("unknown {} '{}' (known {}: {})", kind, name, plural, fmt::join(known, ", "));
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t rest = duration.count();
  if (rest == 0) return "0s";
  std::string text;
  for (const duration_unit& unit : kDurationUnits) {
    // Weeks only for whole weeks: "30d" reads better than "4w2d".
    const bool whole = unit.name != "w" || rest % unit.milliseconds == 0;
    if (rest >= unit.milliseconds && whole) {
      text += fmt::format("{}{}", rest / unit.milliseconds, unit.name);
      rest %= unit.milliseconds;
    }
  }
  return text;
}

std::string url_problem(std::string_view url) {
  std::string_view rest = url;
  bool secure = false;
  if (starts_with_ignore_case(rest, "https://")) {
    secure = true;
    rest.remove_prefix(8);
  } else if (starts_with_ignore_case(rest, "http://")) {
    rest.remove_prefix(7);
  } else {
    return "must start with https:// (or http:// to a loopback host)";
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host;
  if (!authority.empty() && authority.front() == '[') {
    host = authority.substr(1, authority.find(']') - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  if (host.empty()) return "has no host";
  if (!secure && !is_loopback(std::string{host})) {
    return "may use plain http only for loopback hosts (127.0.0.1, localhost, [::1]); use "
           "https://";
  }
  return {};
}

std::string template_problem(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool doubled = i + 1 < text.size() && text[i + 1] == text[i];
    if (text[i] == '{' && !doubled) {
      const std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) return "a '{' without '}' (write {{ for a brace)";
      const std::string_view name = text.substr(i + 1, close - i - 1);
      if (std::find(kTemplateVariables.begin(), kTemplateVariables.end(), name) ==
          kTemplateVariables.end()) {
        return unknown_name_message(
            "template variable", name,
            std::vector<std::string_view>{kTemplateVariables.begin(), kTemplateVariables.end()});
      }
      i = close;
    } else if (text[i] == '}' && !doubled) {
      return "a '}' without '{' (write }} for a brace)";
    } else if (doubled && (text[i] == '{' || text[i] == '}')) {
      ++i;
    }
  }
  return {};
}

const std::vector<std::string_view>& level_names() {
  static const std::vector<std::string_view> names{"debug", "info", "warning", "error", "fatal"};
  return names;
}

yaml_reader::yaml_reader(const std::string& yaml, std::string base_directory)
    : yaml_(yaml), base_directory_(std::move(base_directory)) {}

void yaml_reader::error(const YAML::Mark& mark, std::string message) {
  error_at(mark.line + 1, mark.column + 1, std::move(message));
}

void yaml_reader::error_at(int line, int column, std::string message) {
  errors_.push_back({line, column, std::move(message)});
}

void yaml_reader::error_in_scalar(const entry& e, std::size_t offset, std::string message) {
  const YAML::Mark mark = e.value.Mark();
  const auto begin = static_cast<std::size_t>(mark.pos);
  const std::optional<std::size_t> at = e.value.IsScalar() && mark.pos >= 0
                                            ? source_offset(yaml_, begin, e.value.Scalar(), offset)
                                            : std::nullopt;
  if (!at) {
    error(mark, std::move(message));
    return;
  }
  error_at(mark.line + 1, mark.column + 1 + static_cast<int>(*at - begin), std::move(message));
}

std::vector<config_error> yaml_reader::take_sorted_errors() {
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const config_error& a, const config_error& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  return std::exchange(errors_, {});
}

void yaml_reader::type_error(const entry& e, std::string_view expected) {
  error(e.value.Mark(),
        fmt::format("{}: expected {}, got {}", e.name.empty() ? "the configuration" : e.name,
                    expected, describe(e.value)));
}

bool yaml_reader::read_pairs(
    const entry& e,
    const std::function<void(const YAML::Node& key, const YAML::Node& value)>& read) {
  if (!e.value.IsMap()) {
    type_error(e, "a mapping");
    return false;
  }
  std::map<std::string, int> lines;  // key -> its 1-based line
  for (const auto& pair : e.value) {
    const YAML::Node& key = pair.first;
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
    read(key, pair.second);
  }
  return true;
}

void yaml_reader::read_map(const entry& e, absl::Span<const field> fields,
                           std::string_view unknown_kind) {
  std::vector<std::string> seen;
  const bool is_map = read_pairs(e, [&](const YAML::Node& key, const YAML::Node& value) {
    seen.push_back(key.Scalar());
    const auto known = std::find_if(fields.begin(), fields.end(),
                                    [&](const field& f) { return f.key == key.Scalar(); });
    if (known == fields.end()) {
      std::vector<std::string_view> keys;
      for (const field& f : fields) keys.push_back(f.key);
      error(key.Mark(), unknown_name_message(unknown_kind, key.Scalar(), keys));
    } else if (!value.IsNull()) {
      known->read(entry{e.name.empty() ? key.Scalar() : e.name + "." + key.Scalar(), value});
    } else if (known->required) {
      error(key.Mark(), fmt::format("{}.{} needs a value", e.name, known->key));
    }
  });
  if (!is_map) return;
  for (const field& f : fields) {
    if (f.required && std::find(seen.begin(), seen.end(), f.key) == seen.end()) {
      error(e.value.Mark(), fmt::format("{}: '{}' is required", e.name, f.key));
    }
  }
}

std::optional<std::string> yaml_reader::read_scalar(const entry& e, std::string_view expected) {
  if (e.value.IsScalar()) return e.value.Scalar();
  type_error(e, expected);
  return std::nullopt;
}

reader yaml_reader::reference_field(std::string& out, std::string_view kind,
                                    const std::map<std::string, int>& declared) {
  return [this, &out, kind, &declared](const entry& e) {
    std::optional<std::string> name = read_scalar(e, fmt::format("a {} name", kind));
    if (!name) return;
    if (declared.count(*name) != 0) {
      out = std::move(*name);
      return;
    }
    std::vector<std::string_view> known;
    for (const auto& item : declared) known.push_back(item.first);
    error(e.value.Mark(), unknown_name_message(kind, *name, known));
  };
}

std::optional<std::string> yaml_reader::read_choice(
    const entry& e, std::initializer_list<std::string_view> choices) {
  std::optional<std::string> text = read_scalar(e, "a string");
  if (text && std::find(choices.begin(), choices.end(), *text) == choices.end()) {
    error(e.value.Mark(),
          fmt::format("{} must be one of {}; got '{}'", e.name, fmt::join(choices, ", "), *text));
    return std::nullopt;
  }
  return text;
}

std::optional<std::uint64_t> yaml_reader::read_unsigned(const entry& e, std::uint64_t minimum,
                                                        std::uint64_t maximum, bool size) {
  const std::string_view expected = size ? kSizeExpected : "an integer";
  const std::optional<std::string> text = read_scalar(e, expected);
  if (!text) return std::nullopt;
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
    return std::nullopt;
  }
  if (failure == std::errc::result_out_of_range || magnitude > maximum / multiplier) {
    error(e.value.Mark(),
          fmt::format("{} is too large: '{}' (at most {})", e.name, *text, maximum));
    return std::nullopt;
  }
  magnitude *= multiplier;
  if ((negative && magnitude != 0) || magnitude < minimum) {
    error(e.value.Mark(), fmt::format("{} must be at least {}, got '{}'", e.name, minimum, *text));
    return std::nullopt;
  }
  return magnitude;
}

std::optional<std::chrono::milliseconds> yaml_reader::read_duration(const entry& e) {
  const std::optional<std::string> text = read_scalar(e, kDurationExpected);
  if (!text) return std::nullopt;
  bool too_large = false;
  const std::optional<std::int64_t> milliseconds = parse_duration(*text, too_large);
  if (too_large) {
    error(e.value.Mark(), fmt::format("{} is too large: '{}'", e.name, *text));
  } else if (!milliseconds) {
    type_error(e, kDurationExpected);
  } else {
    return std::chrono::milliseconds{*milliseconds};
  }
  return std::nullopt;
}

bool yaml_reader::read_secret(const entry& e, secret& out) {
  const std::size_t errors = error_count();
  if (e.value.IsScalar()) {
    if (e.value.Scalar().empty()) {
      error(e.value.Mark(), fmt::format("{} is empty", e.name));
    } else {
      out = secret{e.value.Scalar()};
    }
    return error_count() == errors;
  }
  if (!e.value.IsMap()) {
    type_error(e, "a string, {env: NAME} or {file: path}");
    return false;
  }
  std::optional<entry> variable;
  std::optional<entry> file;
  for (const auto& pair : e.value) {
    const YAML::Node& key = pair.first;
    const std::string name = key.IsScalar() ? key.Scalar() : std::string{};
    std::optional<entry>& given = name == "env" ? variable : file;
    if (name != "env" && name != "file") {
      // A secret pasted in the wrong place would be this key: it is never shown.
      const std::optional<std::string_view> closest = closest_name(name, {"env", "file"});
      error(key.Mark(),
            fmt::format("{}: unknown key, not shown in case it is the secret ({})", e.name,
                        closest ? fmt::format("did you mean '{}'?", *closest)
                                : std::string{"expected env or file"}));
    } else if (given) {
      error(key.Mark(), fmt::format("{}: '{}' is given twice", e.name, name));
    } else if (entry value{e.name + "." + name, pair.second};
               read_scalar(value, name == "env" ? "a variable name" : "a file name")) {
      given = std::move(value);
    }
  }
  if (error_count() != errors) return false;
  if (variable && file) {
    error(e.value.Mark(), fmt::format("{}: give env or file, not both", e.name));
  } else if (variable) {
    read_environment_secret(e.name, *variable, out);
  } else if (file) {
    read_file_secret(e.name, *file, out);
  } else {
    error(e.value.Mark(), fmt::format("{}: expected {{env: NAME}} or {{file: path}}", e.name));
  }
  return error_count() == errors;
}

void yaml_reader::read_environment_secret(const std::string& key, const entry& variable,
                                          secret& out) {
  const std::string& name = variable.value.Scalar();
  if (!is_environment_variable_name(name)) {
    error(variable.value.Mark(),
          fmt::format("{} is not an environment variable name (letters, digits and _, not "
                      "starting with a digit)",
                      variable.name));
    return;
  }
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    error(variable.value.Mark(), fmt::format("environment variable {} ({}) is {}", name, key,
                                             value == nullptr ? "not set" : "empty"));
    return;
  }
  out = secret{value};
}

void yaml_reader::read_file_secret(const std::string& key, const entry& file, secret& out) {
  const std::string path = (std::filesystem::path{base_directory_} / file.value.Scalar()).string();
  file_contents contents = read_whole_file(path);
  if (contents.error_number != 0) {
    error(file.value.Mark(), fmt::format("cannot read '{}' ({}): {}", path, key,
                                         describe_errno(contents.error_number)));
    return;
  }
  std::string& text = contents.text;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) {
    error(file.value.Mark(), fmt::format("'{}' ({}) is empty", path, key));
    return;
  }
  out = secret{std::move(text)};
}

reader yaml_reader::template_field(std::string& out) {
  return [this, &out](const entry& e) {
    std::optional<std::string> text = read_scalar(e, "a string");
    if (!text) return;
    if (const std::string problem = template_problem(*text); !problem.empty()) {
      error(e.value.Mark(), fmt::format("{}: {}", e.name, problem));
      return;
    }
    out = std::move(*text);
  };
}

std::optional<event_level> yaml_reader::read_level(const entry& e) {
  std::optional<std::string> name = read_scalar(e, "a level");
  if (!name) return std::nullopt;
  const std::optional<event_level> level = parse_event_level(*name);
  if (!level) error(e.value.Mark(), unknown_name_message("level", *name, level_names()));
  return level;
}

reader yaml_reader::string_field(std::string& out) {
  return [this, &out](const entry& e) {
    if (std::optional<std::string> text = read_scalar(e, "a string")) out = std::move(*text);
  };
}

reader yaml_reader::bool_field(bool& out) {
  return [this, &out](const entry& e) {
    if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, out)) {
      type_error(e, "a boolean (true or false)");
    }
  };
}

reader yaml_reader::size_field(std::size_t& out) {
  return [this, &out](const entry& e) { read_whole_number<std::size_t>(e, out, 1, true); };
}

reader yaml_reader::duration_field(std::chrono::milliseconds& out,
                                   std::chrono::milliseconds minimum,
                                   std::chrono::milliseconds maximum) {
  return [this, &out, minimum, maximum](const entry& e) {
    const std::optional<std::chrono::milliseconds> duration = read_duration(e);
    if (!duration) return;
    if (*duration < minimum || *duration > maximum) {
      const std::string range =
          maximum == std::chrono::milliseconds::max()
              ? fmt::format("at least {}", format_duration(minimum))
              : fmt::format("from {} to {}", format_duration(minimum), format_duration(maximum));
      error(e.value.Mark(),
            fmt::format("{} must be {}, got '{}'", e.name, range, e.value.Scalar()));
      return;
    }
    out = *duration;
  };
}

}  // namespace warden::sink::config_detail

// Parsing and matching of ownership rules (see rules.hpp). Globs are translated to RE2
// expressions, so every match is linear in the subject's length.
#include "warden/ownership/rules.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <functional>
#include <utility>

namespace warden {
namespace {

enum class subject_field { path, symbol, module, url, name };

// What a compiled pattern is run against: a subject field, or the path part of the URL.
enum class match_target : std::size_t { path, symbol, module, url, url_path, name, count };
enum class match_kind { glob, prefix, regex };

struct field_keyword {
  std::string_view keyword;
  subject_field field;
};
constexpr std::array<field_keyword, 5> kFieldKeywords{{{"path", subject_field::path},
                                                       {"symbol", subject_field::symbol},
                                                       {"module", subject_field::module},
                                                       {"url", subject_field::url},
                                                       {"name", subject_field::name}}};

// "https://shop.example/api/orders?id=1" -> "/api/orders?id=1"; a URL without a scheme
// is kept as it is. Only a scheme at the very start counts ("/r?to=https://x/y" is a
// path), and the authority ends at the first '/', '?' or '#'.
std::string_view url_path(std::string_view url) noexcept {
  const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (url.empty() || !is_alpha(url.front())) return url;
  std::size_t colon = 1;
  while (colon < url.size() && (is_alpha(url[colon]) || (url[colon] >= '0' && url[colon] <= '9') ||
                                url[colon] == '+' || url[colon] == '.' || url[colon] == '-')) {
    ++colon;
  }
  if (url.substr(colon, 3) != "://") return url;
  const std::size_t end = url.find_first_of("/?#", colon + 3);
  if (end == std::string_view::npos || url[end] != '/') return "/";
  return url.substr(end);
}

// The qualified name of the function in a demangled symbol, without return type or
// parameters: "void payments::charge<int>(order const&)" -> "payments::charge<int>".
std::string_view function_name_of(std::string_view symbol) noexcept {
  constexpr std::string_view kAnonymous = "(anonymous namespace)";
  constexpr std::string_view kOperator = "operator";
  int angle_depth = 0;
  std::size_t name_start = 0;
  for (std::size_t i = 0; i < symbol.size(); ++i) {
    const std::string_view rest = symbol.substr(i);
    if (rest.substr(0, kAnonymous.size()) == kAnonymous) {
      i += kAnonymous.size() - 1;
      continue;
    }
    if (rest.substr(0, kOperator.size()) == kOperator) {
      // operator(), operator<<, operator bool...: everything up to the parameter list.
      i += kOperator.size();
      if (symbol.substr(i, 2) == "()") ++i;
      while (i + 1 < symbol.size() && symbol[i + 1] != '(') ++i;
      continue;
    }
    const char c = symbol[i];
    if (c == '<') {
      ++angle_depth;
    } else if (c == '>' && angle_depth > 0) {
      --angle_depth;
    } else if (angle_depth == 0 && c == ' ') {
      name_start = i + 1;
    } else if (angle_depth == 0 && c == '(') {
      return symbol.substr(name_start, i - name_start);
    }
  }
  return symbol.substr(name_start);
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

// Glob wildcards as RE2 syntax; every other character is matched literally.
std::string glob_body(std::string_view glob, bool star_crosses_slash) {
  std::string body;
  for (std::size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*' && i + 1 < glob.size() && glob[i + 1] == '*') {
      ++i;
      if (i + 1 < glob.size() && glob[i + 1] == '/') {
        ++i;
        body += "(?:.*/)?";
      } else {
        body += ".*";
      }
    } else if (c == '*') {
      body += star_crosses_slash ? ".*" : "[^/]*";
    } else if (c == '?') {
      body += star_crosses_slash ? "." : "[^/]";
    } else {
      body += RE2::QuoteMeta(re2::StringPiece{&c, 1});
    }
  }
  return body;
}

// The anchored expression a glob on `field` stands for (see rules.hpp).
std::string glob_to_regex(subject_field field, std::string_view glob) {
  switch (field) {
    case subject_field::path: {
      const bool rooted = glob.front() == '/';
      const bool directory = glob.back() == '/';
      if (rooted) glob.remove_prefix(1);
      return (rooted ? "^/?" : "(?:^|/)") + glob_body(glob, false) +
             (directory ? ".*$" : "(?:/.*)?$");
    }
    case subject_field::url:
      return "^" + glob_body(glob, false) + "(?:[?#].*)?$";
    case subject_field::symbol:
    case subject_field::module:
    case subject_field::name:
      break;
  }
  return "^" + glob_body(glob, true) + "$";
}

// Reads a bare token (up to a space, or up to `stop` when given) or a double-quoted one
// at `pos`. Returns an error message, empty on success.
std::string read_token(std::string_view line, std::size_t& pos, std::string& token,
                       char stop = '\0') {
  token.clear();
  if (pos < line.size() && line[pos] == '"') {
    for (std::size_t i = pos + 1; i < line.size(); ++i) {
      // Only \" and \\ are escapes; other backslashes stay (regular expressions need them).
      if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
        token += line[++i];
      } else if (line[i] == '"') {
        pos = i + 1;
        return {};
      } else {
        token += line[i];
      }
    }
    return "unterminated quoted string";
  }
  while (pos < line.size() && !is_space(line[pos]) && line[pos] != stop) token += line[pos++];
  return {};
}

// The offset of the first control character (other than a tab) in `text`, or npos.
std::size_t find_control_character(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) < 0x20 && text[i] != '\t') return i;
  }
  return std::string_view::npos;
}

// The offset in `line` of the character at `offset` in the token read_token() read from
// `token_start`: a quoted token starts one later, and each \" or \\ in it is one
// character of the token but two of the line.
std::size_t line_offset_of(std::string_view line, std::size_t token_start,
                           std::size_t offset) noexcept {
  if (token_start >= line.size() || line[token_start] != '"') return token_start + offset;
  std::size_t i = token_start + 1;
  for (std::size_t decoded = 0; decoded < offset && i < line.size(); ++decoded) {
    const bool escape =
        line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\');
    i += escape ? 2 : 1;
  }
  return i;
}

// One parsed rule.
struct rule {
  int line = 0;
  subject_field field = subject_field::path;
  match_kind kind = match_kind::glob;
  bool match_url_path = false;   // url glob written as a path: compare the URL's path
  std::string prefix;            // match_kind::prefix
  std::string expression;        // RE2 syntax of `pattern`
  std::unique_ptr<RE2> pattern;  // match_kind::glob and match_kind::regex
  rule_owner fixed;              // key=value fields
  int team_group = -1;           // capture groups that fill the owner (regex only)
  int function_group = -1;
  int product_group = -1;

  // Fills `owner` and returns true when the rule matches `subject` and yields a team.
  bool match(const rule_subject& subject, rule_owner& owner) const;

  // Which value the pattern is run against.
  match_target target() const noexcept {
    switch (field) {
      case subject_field::path:
        return match_target::path;
      case subject_field::symbol:
        return match_target::symbol;
      case subject_field::module:
        return match_target::module;
      case subject_field::url:
        return match_url_path ? match_target::url_path : match_target::url;
      case subject_field::name:
        return match_target::name;
    }
    return match_target::path;
  }
};

std::string_view target_value(const rule_subject& subject, match_target target) noexcept {
  switch (target) {
    case match_target::path:
      return subject.path;
    case match_target::symbol:
      return subject.symbol;
    case match_target::module:
      return subject.module;
    case match_target::url:
      return subject.url;
    case match_target::url_path:
      return subject.url.empty() ? std::string_view{} : url_path(subject.url);
    case match_target::name:
      return subject.name;
    case match_target::count:
      break;
  }
  return {};
}

bool rule::match(const rule_subject& subject, rule_owner& owner) const {
  const std::string_view value = target_value(subject, target());
  if (value.empty()) return false;
  switch (kind) {
    case match_kind::prefix:
      if (function_name_of(value).substr(0, prefix.size()) != prefix) return false;
      owner = fixed;
      break;
    case match_kind::glob:
      if (!RE2::PartialMatch(re2::StringPiece{value.data(), value.size()}, *pattern)) return false;
      owner = fixed;
      break;
    case match_kind::regex: {
      std::vector<re2::StringPiece> groups(
          static_cast<std::size_t>(pattern->NumberOfCapturingGroups()) + 1);
      if (!pattern->Match(re2::StringPiece{value.data(), value.size()}, 0, value.size(),
                          RE2::UNANCHORED, groups.data(), static_cast<int>(groups.size()))) {
        return false;
      }
      owner = fixed;
      const auto fill = [&groups](int group, std::string& field_text) {
        if (group < 0) return;
        const re2::StringPiece captured = groups[static_cast<std::size_t>(group)];
        if (!captured.empty()) field_text.assign(captured.data(), captured.size());
      };
      fill(team_group, owner.team);
      fill(function_group, owner.function);
      fill(product_group, owner.product);
      break;
    }
  }
  return !owner.team.empty();
}

// Parses the owner fields after the matcher. Returns an error message and its column.
std::pair<std::string, std::size_t> parse_fields(std::string_view line, std::size_t pos,
                                                 rule& parsed) {
  std::string key;
  std::string value;
  while (true) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    if (pos >= line.size() || line[pos] == '#') return {};
    const std::size_t key_column = pos;
    read_token(line, pos, key, '=');
    if (pos >= line.size() || line[pos] != '=') {
      return {"expected key=value (team=, function= or product=) after the pattern", key_column};
    }
    std::string* slot = key == "team"       ? &parsed.fixed.team
                        : key == "function" ? &parsed.fixed.function
                        : key == "product"  ? &parsed.fixed.product
                                            : nullptr;
    if (slot == nullptr) {
      return {"unknown key '" + key + "' (use team, function or product)", key_column};
    }
    if (!slot->empty()) return {"'" + key + "' is given twice", key_column};
    const std::size_t value_column = ++pos;
    if (std::string error = read_token(line, pos, value); !error.empty()) {
      return {error, value_column};
    }
    if (value.empty()) return {"'" + key + "' has an empty value", value_column};
    if (const std::size_t control =
            find_control_character(line.substr(value_column, pos - value_column));
        control != std::string_view::npos) {
      return {"control character in value", value_column + control};
    }
    *slot = value;
  }
}

// Where in a regular expression RE2's error is: RE2 names the offending fragment
// (error_arg), which is found in the pattern; 0 (the pattern's start) when it names none
// or the whole pattern, as for a missing parenthesis.
std::size_t regex_error_offset(std::string_view pattern, const RE2& compiled) {
  if (compiled.error_code() == RE2::ErrorTrailingBackslash) return pattern.size() - 1;
  const std::string& fragment = compiled.error_arg();
  if (fragment.empty()) return 0;
  const std::size_t found = pattern.find(fragment);
  return found == std::string_view::npos ? 0 : found;
}

// Compiles the matcher's pattern into `parsed`. Returns an error message (empty if none)
// and the offset in the pattern it concerns.
std::pair<std::string, std::size_t> compile_pattern(std::string_view pattern,
                                                    const rule_limits& limits, rule& parsed) {
  if (parsed.kind == match_kind::prefix) {
    parsed.prefix = pattern;
    return {};
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(limits.max_regex_memory);
  parsed.expression =
      parsed.kind == match_kind::glob ? glob_to_regex(parsed.field, pattern) : std::string{pattern};
  parsed.pattern = std::make_unique<RE2>(parsed.expression, options);
  if (!parsed.pattern->ok()) {
    // A glob's error concerns its translation, not what was written: point at its start.
    if (parsed.kind == match_kind::glob) return {"invalid glob: " + parsed.pattern->error(), 0};
    return {"invalid regular expression: " + parsed.pattern->error(),
            regex_error_offset(pattern, *parsed.pattern)};
  }
  if (parsed.field == subject_field::url && parsed.kind == match_kind::glob) {
    parsed.match_url_path = pattern.front() == '/';
  }
  for (const auto& [group_name, index] : parsed.pattern->NamedCapturingGroups()) {
    int* group = group_name == "team"       ? &parsed.team_group
                 : group_name == "function" ? &parsed.function_group
                 : group_name == "product"  ? &parsed.product_group
                                            : nullptr;
    if (group == nullptr) {
      const std::size_t found = pattern.find("(?P<" + group_name + ">");
      return {"unknown capture group '" + group_name + "' (use team, function or product)",
              found == std::string_view::npos ? 0 : found};
    }
    *group = index;
  }
  return {};
}

// Parses one non-blank, non-comment line starting at `pos`. Returns an error with its
// 0-based column, or an empty message.
std::pair<std::string, std::size_t> parse_rule(std::string_view line, std::size_t pos,
                                               const rule_limits& limits, rule& parsed) {
  const std::size_t matcher_column = pos;
  std::size_t end = pos;
  while (end < line.size() && line[end] >= 'a' && line[end] <= 'z') ++end;
  const std::string_view keyword = line.substr(pos, end - pos);
  const auto known =
      std::find_if(kFieldKeywords.begin(), kFieldKeywords.end(),
                   [keyword](const field_keyword& k) { return k.keyword == keyword; });
  if (keyword.empty() || known == kFieldKeywords.end()) {
    return {"unknown matcher '" +
                std::string{line.substr(pos, std::min<std::size_t>(end - pos + 1, 20))} +
                "' (use path, symbol, module, url or name)",
            matcher_column};
  }
  parsed.field = known->field;
  if (end >= line.size() || (line[end] != ':' && line[end] != '~')) {
    return {"expected ':' (glob) or '~' (regular expression) after '" + std::string{keyword} + "'",
            end};
  }
  parsed.kind = line[end] == '~'                        ? match_kind::regex
                : parsed.field == subject_field::symbol ? match_kind::prefix
                                                        : match_kind::glob;
  pos = end + 1;
  const std::size_t pattern_column = pos;
  std::string pattern;
  if (std::string error = read_token(line, pos, pattern); !error.empty()) {
    return {error, pattern_column};
  }
  if (pattern.empty()) return {"empty pattern", pattern_column};
  if (pattern.size() > limits.max_pattern_bytes) {
    return {"pattern longer than " + std::to_string(limits.max_pattern_bytes) + " bytes",
            pattern_column};
  }
  if (auto [error, offset] = compile_pattern(pattern, limits, parsed); !error.empty()) {
    return {std::move(error), line_offset_of(line, pattern_column, offset)};
  }
  if (auto error = parse_fields(line, pos, parsed); !error.first.empty()) return error;
  if (parsed.fixed.team.empty() && parsed.team_group < 0) {
    return {"rule gives no team: add team=... or a (?P<team>...) group", matcher_column};
  }
  return {};
}

}  // namespace

// The rules, plus per match target one RE2::Set of all its patterns: a subject is
// scanned once per target, then only the rules the set reports are re-run (last first)
// to extract capture groups. Without a set (it would exceed its memory budget) every
// rule of the target is tried.
struct ownership_rules::compiled {
  struct target_index {
    std::unique_ptr<RE2::Set> set;           // all patterns of the target, or nullptr
    std::vector<std::size_t> pattern_rules;  // set index -> rule index
    std::vector<std::size_t> prefix_rules;   // symbol prefixes, checked directly
  };

  std::vector<rule> rules;
  std::array<target_index, static_cast<std::size_t>(match_target::count)> targets;

  void build_indexes(const rule_limits& limits) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(limits.max_set_memory);
    for (std::size_t index = 0; index < rules.size(); ++index) {
      const rule& current = rules[index];
      target_index& target = targets[static_cast<std::size_t>(current.target())];
      (current.kind == match_kind::prefix ? target.prefix_rules : target.pattern_rules)
          .push_back(index);
    }
    for (target_index& target : targets) {
      if (target.pattern_rules.empty()) continue;
      auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
      bool added = true;
      for (const std::size_t index : target.pattern_rules) {
        std::string error;
        added = added && set->Add(rules[index].expression, &error) >= 0;
      }
      if (added && set->Compile()) target.set = std::move(set);
    }
  }

  // Indexes of the rules that may match `subject`, highest (last in the file) first.
  std::vector<std::size_t> candidates(const rule_subject& subject) const {
    std::vector<std::size_t> found;
    std::vector<int> hits;
    for (std::size_t t = 0; t < targets.size(); ++t) {
      const std::string_view value = target_value(subject, static_cast<match_target>(t));
      if (value.empty()) continue;
      const target_index& target = targets[t];
      found.insert(found.end(), target.prefix_rules.begin(), target.prefix_rules.end());
      if (target.pattern_rules.empty()) continue;
      RE2::Set::ErrorInfo error{};
      hits.clear();
      if (target.set != nullptr &&
          target.set->Match(re2::StringPiece{value.data(), value.size()}, &hits, &error)) {
        for (const int hit : hits)
          found.push_back(target.pattern_rules[static_cast<std::size_t>(hit)]);
      } else if (target.set == nullptr || error.kind != RE2::Set::kNoError) {
        found.insert(found.end(), target.pattern_rules.begin(), target.pattern_rules.end());
      }
    }
    std::sort(found.begin(), found.end(), std::greater<>{});
    return found;
  }
};

std::string rule_error::to_string() const {
  return std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

ownership_rules::ownership_rules() : rules_(std::make_shared<const compiled>()) {}
ownership_rules::ownership_rules(std::shared_ptr<const compiled> rules) noexcept
    : rules_(std::move(rules)) {}
ownership_rules::~ownership_rules() = default;
ownership_rules::ownership_rules(const ownership_rules&) = default;
ownership_rules& ownership_rules::operator=(const ownership_rules&) = default;
// Moving copies the shared pointer, so a moved-from rule set stays valid (and empty of
// nothing: it still holds the same rules).
ownership_rules::ownership_rules(ownership_rules&& other) noexcept : rules_(other.rules_) {}
ownership_rules& ownership_rules::operator=(ownership_rules&& other) noexcept {
  rules_ = other.rules_;
  return *this;
}

ownership_rules::parse_result ownership_rules::parse(std::string_view text,
                                                     const rule_limits& limits) {
  parse_result result;
  auto parsed = std::make_shared<compiled>();
  int line_number = 0;
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark)
    text.remove_prefix(kByteOrderMark.size());
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t pos = 0;
    while (pos < line.size() && is_space(line[pos])) ++pos;
    if (pos >= line.size() || line[pos] == '#') continue;
    if (parsed->rules.size() >= limits.max_rules) {
      result.errors.push_back(
          {line_number, 1, "more than " + std::to_string(limits.max_rules) + " rules"});
      break;
    }
    rule current;
    current.line = line_number;
    auto [message, column] = parse_rule(line, pos, limits, current);
    if (const std::size_t control = find_control_character(line);
        message.empty() && control != std::string_view::npos) {
      message = "control character in rule";
      column = control;
    }
    if (!message.empty()) {
      if (result.errors.size() == limits.max_errors) {
        result.errors.push_back({line_number, 1, "too many errors; stopped"});
        break;
      }
      result.errors.push_back({line_number, static_cast<int>(column) + 1, std::move(message)});
    } else {
      parsed->rules.push_back(std::move(current));
    }
  }
  if (result.errors.empty()) {
    parsed->build_indexes(limits);
    result.rules = ownership_rules{std::move(parsed)};
  }
  return result;
}

std::optional<rule_match> ownership_rules::match(const rule_subject& subject) const {
  rule_owner owner;
  for (const std::size_t index : rules_->candidates(subject)) {
    const rule& candidate = rules_->rules[index];
    if (candidate.match(subject, owner)) return rule_match{std::move(owner), candidate.line};
  }
  return std::nullopt;
}

std::optional<rule_match> ownership_rules::match_first(
    const std::vector<rule_subject>& subjects) const {
  for (const rule_subject& subject : subjects) {
    if (auto found = match(subject)) return found;
  }
  return std::nullopt;
}

std::size_t ownership_rules::size() const noexcept { return rules_->rules.size(); }

}  // namespace warden

// Ownership rules: a CODEOWNERS-style text format that maps paths, symbols, modules,
// URLs and names to owners, for code that runs with no scope active (attributing a
// stack frame) and for names that carry their owner (alerts from other monitors).
// Compiled target warden::rules (uses RE2, so no pattern can hang the process).
//
// One rule per line, `#` starts a comment; the last matching rule wins, as in GitHub's
// CODEOWNERS and Sentry's ownership rules:
//
//   # matcher                         owner
//   path:src/payments/**               team=payments function=backend product=checkout
//   symbol:payments::refunds::         team=refunds function=backend
//   module:libsearch*                  team=search function=backend
//   url:/api/orders/*                  team=orders function=backend
//   name~^\[team-(?P<team>[^\]]+)\]\[(?P<function>[^\]]+)\](\[(?P<product>[^\]]+)\])?
//
// Matchers: `path:` glob (`*` within a directory, `**` across, `?` one character;
// without a leading `/` it matches after any `/`, and a directory matches everything
// below it), `symbol:` prefix of the function's qualified name (return type and
// parameters ignored), `module:`, `url:` and `name:` globs (`url:/...` matches the URL's
// path), and `<field>~` an RE2 regular expression (found anywhere unless anchored) whose
// named groups team, function and product fill the owner; `key=value` fields fill what
// the groups leave empty. Patterns and values with spaces are written in double quotes,
// where `\"` and `\\` are escapes and any other backslash is kept as written.
//
// Example:
//
//   auto parsed = warden::ownership_rules::parse(text);
//   if (!parsed.ok()) for (auto& e : parsed.errors) std::cerr << e.to_string() << '\n';
//   warden::rule_subject alert;
//   alert.name = "[team-payments][backend] High error rate";
//   std::optional<warden::rule_match> match = parsed.rules->match(alert);   // payments
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

/// An owner produced by a rule; fields not given are empty.
struct rule_owner {
  std::string team;      ///< Never empty in a match: a rule must yield a team.
  std::string function;  ///< e.g. "backend"; empty when the rule gives none.
  std::string product;   ///< Empty when the rule gives none.
};

/// What rules are matched against: one stack frame (path, symbol, module), a request
/// (url) or an alert (name). Empty fields never match.
struct rule_subject {
  std::string_view path;    ///< Source file, relative or absolute.
  std::string_view symbol;  ///< Demangled function, e.g. "payments::refund(order&)".
  std::string_view module;  ///< Library or package, e.g. "libpayments.so".
  std::string_view url;     ///< Request URL or path.
  std::string_view name;    ///< Alert or transaction name.
};

/// The winning rule's owner and its line in the rules text.
struct rule_match {
  rule_owner owner;  ///< From the rule's fields and named groups.
  int line = 0;      ///< 1-based line of the rule, to show why this owner was chosen.
};

/// A problem in the rules text, with a 1-based line and column (in bytes).
struct rule_error {
  int line = 0;         ///< 1-based line in the rules text.
  int column = 0;       ///< 1-based byte column of the offending character.
  std::string message;  ///< What is wrong, e.g. "unknown key 'owner' (use team, ...)".

  /// "line:column: message", the form editors jump to.
  std::string to_string() const;
};

/// Limits that keep a hostile or broken rules file from costing unbounded memory.
struct rule_limits {
  std::size_t max_rules = 10'000;             ///< Rules per file.
  std::size_t max_errors = 100;               ///< Errors reported before parsing stops.
  std::size_t max_pattern_bytes = 4096;       ///< One pattern.
  std::int64_t max_regex_memory = 2'000'000;  ///< RE2 memory budget per regular expression.
  std::int64_t max_set_memory = 32'000'000;   ///< Budget of the combined matcher per field;
                                              ///< past it, rules are tried one by one.
};

/// An immutable, parsed rule set. Copies share the compiled rules; match() is safe to
/// call from many threads at once.
class ownership_rules {
 public:
  struct parse_result;

  /// An empty rule set: match() finds nothing.
  ownership_rules();
  ~ownership_rules();
  ownership_rules(const ownership_rules&);
  ownership_rules& operator=(const ownership_rules&);
  ownership_rules(ownership_rules&&) noexcept;
  ownership_rules& operator=(ownership_rules&&) noexcept;

  /// Parses a rules text. Reports every error (one per line at most), never throws for
  /// bad input; `rules` is set only when there are no errors.
  static parse_result parse(std::string_view text, const rule_limits& limits = {});

  /// The owner from the last rule that matches `subject` and yields a team.
  std::optional<rule_match> match(const rule_subject& subject) const;

  /// The match for the first subject that any rule matches, e.g. stack frames from the
  /// innermost outwards.
  std::optional<rule_match> match_first(const std::vector<rule_subject>& subjects) const;

  /// Number of rules.
  std::size_t size() const noexcept;

 private:
  struct compiled;
  explicit ownership_rules(std::shared_ptr<const compiled> rules) noexcept;
  std::shared_ptr<const compiled> rules_;
};

/// The outcome of ownership_rules::parse().
struct ownership_rules::parse_result {
  std::optional<ownership_rules> rules;  ///< Set when `errors` is empty.
  std::vector<rule_error> errors;        ///< Every problem found, in line order.

  /// True when the text parsed without errors.
  bool ok() const noexcept { return errors.empty(); }
};

}  // namespace warden

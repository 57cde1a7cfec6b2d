// Ownership rules: parsing, every matcher, last-match-wins, errors with positions, and
// patterns that would hang a backtracking engine.
#include <string>

#include <doctest/doctest.h>
#include <warden/ownership/rules.hpp>

namespace {

warden::ownership_rules parse_ok(std::string_view text) {
  auto parsed = warden::ownership_rules::parse(text);
  for (const auto& error : parsed.errors) FAIL_CHECK(error.to_string());
  REQUIRE(parsed.ok());
  REQUIRE(parsed.rules.has_value());
  return *parsed.rules;
}

warden::rule_error single_error(std::string_view text) {
  auto parsed = warden::ownership_rules::parse(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK_FALSE(parsed.rules.has_value());
  REQUIRE(parsed.errors.size() == 1);
  return parsed.errors.front();
}

std::string team_for_path(const warden::ownership_rules& rules, std::string_view path) {
  warden::rule_subject frame;
  frame.path = path;
  const auto found = rules.match(frame);
  return found ? found->owner.team : "-";
}

}  // namespace

TEST_CASE("path globs: directories, stars, anchoring and last match wins") {
  const auto rules = parse_ok(R"(
# everything under src/ is the platform's unless a later rule says otherwise
path:src/**                 team=platform function=infra
path:src/payments/          team=payments function=backend product=checkout
path:src/payments/*.hpp     team=payments-api function=backend
path:/tools                 team=devex function=infra
path:*.proto                team=contracts function=backend
path:src/search/?.cpp       team=search function=backend
)");
  CHECK(rules.size() == 6);
  CHECK(team_for_path(rules, "src/payments/charge.cpp") == "payments");
  CHECK(team_for_path(rules, "/home/ci/repo/src/payments/api/charge.cpp") == "payments");
  CHECK(team_for_path(rules, "src/payments/charge.hpp") == "payments-api");
  CHECK(team_for_path(rules, "src/payments/deep/charge.hpp") == "payments");  // * stays in one dir
  CHECK(team_for_path(rules, "src/paymentsx/charge.cpp") == "platform");
  CHECK(team_for_path(rules, "src/core/main.cpp") == "platform");
  CHECK(team_for_path(rules, "tools/gen.py") == "devex");
  CHECK(team_for_path(rules, "/tools/gen.py") == "devex");
  CHECK(team_for_path(rules, "vendor/tools/gen.py") == "-");  // rooted pattern
  CHECK(team_for_path(rules, "api/v1/orders.proto") == "contracts");
  CHECK(team_for_path(rules, "src/search/a.cpp") == "search");
  CHECK(team_for_path(rules, "src/search/ab.cpp") == "platform");
  CHECK(team_for_path(rules, "lib/other.cpp") == "-");

  warden::rule_subject frame;
  frame.path = "src/payments/charge.cpp";
  const auto found = rules.match(frame);
  REQUIRE(found);
  CHECK(found->owner.function == "backend");
  CHECK(found->owner.product == "checkout");
  CHECK(found->line == 4);
}

TEST_CASE("symbol prefixes match the function's qualified name only") {
  const auto rules = parse_ok(
      "symbol:payments::          team=payments function=backend\n"
      "symbol:payments::refunds:: team=refunds function=backend\n");
  const auto team_for_symbol = [&rules](std::string_view symbol) {
    warden::rule_subject frame;
    frame.symbol = symbol;
    const auto found = rules.match(frame);
    return found ? found->owner.team : std::string{"-"};
  };
  CHECK(team_for_symbol("payments::refunds::issue(order const&)") == "refunds");
  CHECK(team_for_symbol("void payments::charge<int>(int)") == "payments");
  CHECK(team_for_symbol("std::vector<mypayments::item> payments::list<int>()") == "payments");
  CHECK(team_for_symbol("payments::money::operator<(payments::money const&) const") == "payments");
  CHECK(team_for_symbol("payments::widget::operator()(int) const") == "payments");
  CHECK(team_for_symbol("payments::charge") == "payments");  // no parameter list
  CHECK(team_for_symbol("mypayments::charge()") == "-");
  CHECK(team_for_symbol("search::index(int, payments::order const&)") == "-");  // a parameter
  CHECK(team_for_symbol("payments::order search::make<int>()") == "-");         // return type
  CHECK(team_for_symbol("(anonymous namespace)::payments_helper(int)") == "-");
}

TEST_CASE("alert names with named groups give team, function and product") {
  const auto rules = parse_ok(
      R"(name~^\[team-(?P<team>[^\]]+)\]\[(?P<function>[^\]]+)\](\[(?P<product>[^\]]+)\])? product=general)");
  warden::rule_subject alert;
  alert.name = "[team-payments][backend][checkout] High error rate";
  auto found = rules.match(alert);
  REQUIRE(found);
  CHECK(found->owner.team == "payments");
  CHECK(found->owner.function == "backend");
  CHECK(found->owner.product == "checkout");

  alert.name = "[team-search][frontend] Slow page load";
  found = rules.match(alert);
  REQUIRE(found);
  CHECK(found->owner.team == "search");
  CHECK(found->owner.product == "general");  // the field fills what the group left empty

  alert.name = "CPU high on db-01";
  CHECK_FALSE(rules.match(alert));
}

TEST_CASE("url, module and name globs, and quoted patterns with spaces") {
  const auto rules = parse_ok(R"(
url:/api/orders/*            team=orders function=backend
url:https://admin.example/** team=backoffice function=frontend
module:libsearch*.so         team=search function=backend
name:"Disk * full"           team=infra function=infra
path:"docs/user guide/**"    team=docs function=frontend product="help center"
)");
  warden::rule_subject request;
  request.url = "https://shop.example/api/orders/12?expand=items";
  CHECK(rules.match(request)->owner.team == "orders");
  request.url = "/api/orders/12";
  CHECK(rules.match(request)->owner.team == "orders");
  request.url = "/api/orders/12/items";
  CHECK_FALSE(rules.match(request));
  request.url = "https://admin.example/users/7/edit";
  CHECK(rules.match(request)->owner.team == "backoffice");
  request.url = "https://shop.example?next=/api/orders/12";  // a query is not a path
  CHECK_FALSE(rules.match(request));

  warden::rule_subject frame;
  frame.module = "libsearch-core.so";
  CHECK(rules.match(frame)->owner.team == "search");

  warden::rule_subject alert;
  alert.name = "Disk /var full";
  CHECK(rules.match(alert)->owner.team == "infra");

  frame = {};
  frame.path = "docs/user guide/intro.md";
  const auto docs = rules.match(frame);
  REQUIRE(docs);
  CHECK(docs->owner.product == "help center");
}

TEST_CASE("quoted regular expressions keep their backslashes") {
  const auto rules =
      parse_ok(R"(name~"^Disk \d+ (full|\"nearly\" full)$" team=infra function=infra)");
  warden::rule_subject alert;
  alert.name = "Disk 3 full";
  CHECK(rules.match(alert));
  alert.name = "Disk 3 \"nearly\" full";
  CHECK(rules.match(alert));
  alert.name = "Disk dd full";
  CHECK_FALSE(rules.match(alert));
}

TEST_CASE("glob metacharacters of regular expressions are literal, ** spans directories") {
  const auto rules = parse_ok(
      "path:src/a+b(c).cpp        team=literal function=backend\n"
      "path:src/**/generated/*.h  team=generated function=backend\n");
  CHECK(team_for_path(rules, "src/a+b(c).cpp") == "literal");
  CHECK(team_for_path(rules, "src/aab(c).cpp") == "-");
  CHECK(team_for_path(rules, "src/generated/x.h") == "generated");
  CHECK(team_for_path(rules, "src/deep/er/generated/x.h") == "generated");
  CHECK(team_for_path(rules, "src/deep/generated/sub/x.h") == "-");
}

TEST_CASE("a moved-from rule set stays usable") {
  auto rules = parse_ok("path:a/** team=a function=b");
  const warden::ownership_rules moved = std::move(rules);
  CHECK(moved.size() == 1);
  CHECK(rules.size() == 1);  // NOLINT(bugprone-use-after-move): defined to stay valid
  CHECK(team_for_path(rules, "a/x") == "a");
}

TEST_CASE("a UTF-8 byte order mark is ignored") {
  const auto rules = parse_ok("\xEF\xBB\xBFpath:a/** team=a function=b\n");
  CHECK(rules.size() == 1);
}

TEST_CASE("error reporting stops after max_errors") {
  warden::rule_limits limits;
  limits.max_errors = 3;
  std::string text;
  for (int i = 0; i < 10; ++i) text += "bogus\n";
  const auto parsed = warden::ownership_rules::parse(text, limits);
  REQUIRE(parsed.errors.size() == 4);
  CHECK(parsed.errors.back().message == "too many errors; stopped");
}

TEST_CASE("match_first attributes the innermost frame any rule knows") {
  const auto rules = parse_ok(
      "path:src/payments/** team=payments function=backend\n"
      "path:src/http/**     team=platform function=infra\n");
  std::vector<warden::rule_subject> frames(3);
  frames[0].path = "/usr/include/c++/12/bits/stl_vector.h";
  frames[1].path = "src/payments/charge.cpp";
  frames[2].path = "src/http/server.cpp";
  const auto found = rules.match_first(frames);
  REQUIRE(found);
  CHECK(found->owner.team == "payments");
  CHECK_FALSE(warden::ownership_rules{}.match_first(frames));
}

TEST_CASE("comments, blank lines and CRLF are accepted") {
  const auto rules = parse_ok("  # header\r\n\r\npath:a/** team=a function=b  # trailing\r\n");
  CHECK(rules.size() == 1);
  CHECK(team_for_path(rules, "a/x") == "a");
}

TEST_CASE("errors name the line and column") {
  struct bad_case {
    const char* text;
    int line;
    int column;
    const char* message;
  };
  const bad_case cases[] = {
      {"\n\npaht:src/** team=a", 3, 1, "unknown matcher"},
      {"path src/** team=a", 1, 5, "expected ':' (glob) or '~'"},
      {"path: team=a", 1, 6, "empty pattern"},
      {"path:src/** team=a owner=b", 1, 20, "unknown key 'owner'"},
      {"path:src/** team=a team=b", 1, 20, "'team' is given twice"},
      {"path:src/** team=", 1, 18, "'team' has an empty value"},
      {"path:src/** function=backend", 1, 1, "rule gives no team"},
      {"path:src/** teamfoo", 1, 13, "expected key=value"},
      // RE2 names no fragment for a missing parenthesis: the pattern's start.
      {"name~(unclosed team=a", 1, 6, "invalid regular expression"},
      {"name~(?P<owner>x) team=a", 1, 6, "unknown capture group 'owner'"},
      {"name~x(?P<owner>y) team=a", 1, 7, "unknown capture group 'owner'"},
      {"path:\"src/** team=a", 1, 6, "unterminated quoted string"},
      // Control characters and regular expression errors point at the offending byte.
      {"path:src/** team=\"a\x01\"", 1, 20, "control character in value"},
      {"url~[z-a] team=a", 1, 6, "invalid character class range"},
      {"name~abc(?z)d team=a", 1, 9, "invalid perl operator"},
      {"name~ab\\ team=a", 1, 8, "trailing \\"},
      // In a quoted pattern each \\ is one character of the expression but two columns.
      {"name~\"a\\\\\\\\b{2,1}\" team=a", 1, 13, "invalid repetition size"},
      {"path:src/**\x01 team=a", 1, 12, "control character in rule"},
      {"\tpath:src/**\x02 team=a", 1, 13, "control character in rule"},  // a tab is one column
  };
  for (const bad_case& bad : cases) {
    CAPTURE(bad.text);
    const warden::rule_error error = single_error(bad.text);
    CHECK(error.line == bad.line);
    CHECK(error.column == bad.column);
    CHECK(error.message.find(bad.message) != std::string::npos);
    CHECK(error.to_string().find(std::to_string(bad.line) + ":" + std::to_string(bad.column) +
                                 ": ") == 0);
  }
}

TEST_CASE("every bad line is reported, not just the first") {
  const auto parsed = warden::ownership_rules::parse(
      "path:a/** team=a function=b\n"
      "bogus\n"
      "path:c/** team=c\n"
      "symbol: team=x\n");
  REQUIRE(parsed.errors.size() == 2);
  CHECK(parsed.errors[0].line == 2);
  CHECK(parsed.errors[1].line == 4);
}

TEST_CASE("limits bound rule count, pattern size and regex memory") {
  warden::rule_limits limits;
  limits.max_rules = 2;
  auto parsed =
      warden::ownership_rules::parse("path:a team=a\npath:b team=b\npath:c team=c\n", limits);
  REQUIRE(parsed.errors.size() == 1);
  CHECK(parsed.errors[0].line == 3);
  CHECK(parsed.errors[0].message.find("more than 2 rules") != std::string::npos);

  limits = {};
  limits.max_pattern_bytes = 16;
  parsed = warden::ownership_rules::parse("path:" + std::string(17, 'a') + " team=a", limits);
  REQUIRE(parsed.errors.size() == 1);
  CHECK(parsed.errors[0].message.find("longer than 16 bytes") != std::string::npos);

  // A counted repetition whose automaton exceeds the memory budget is refused.
  parsed = warden::ownership_rules::parse("name~((a{1,100}){1,100}){1,100} team=a");
  REQUIRE(parsed.errors.size() == 1);
  CHECK(parsed.errors[0].message.find("invalid regular expression") != std::string::npos);
}

// Not timed: CTest gives this test a TIMEOUT (tests/ownership/CMakeLists.txt). A
// backtracking engine tries about 2^100000 ways to split the subject among the groups of
// ^(a+)+$, and the glob's eight stars cost it about 100000^8 steps: neither would finish
// in any timeout. RE2 scans the subject once.
TEST_CASE("patterns that backtrack catastrophically elsewhere finish in linear time") {
  const auto rules = parse_ok("name~^(a+)+$ team=redos\nname:*a*a*a*a*a*a*a*b team=glob");
  warden::rule_subject alert;
  const std::string subject = std::string(100'000, 'a') + "!";
  alert.name = subject;
  CHECK_FALSE(rules.match(alert));
}

TEST_CASE("the combined matcher and the rule-by-rule fallback agree") {
  const std::string text =
      "path:src/**          team=platform function=infra\n"
      "path:src/payments/   team=payments function=backend\n"
      "symbol:payments::    team=payments-symbols function=backend\n"
      "url:/api/*           team=api function=backend\n"
      "name~^\\[team-(?P<team>[a-z]+)\\]\n";
  warden::rule_limits no_set;
  no_set.max_set_memory = 1;  // too small for any combined matcher: every rule is tried
  const auto fast = *warden::ownership_rules::parse(text).rules;
  const auto slow = *warden::ownership_rules::parse(text, no_set).rules;

  std::vector<warden::rule_subject> subjects(6);
  subjects[0].path = "src/payments/a.cpp";
  subjects[1].path = "src/other/a.cpp";
  subjects[2].path = "src/payments/a.cpp";
  subjects[2].symbol = "payments::charge()";  // a later rule on another field wins
  subjects[3].url = "https://x.example/api/orders";
  subjects[4].name = "[team-search] slow";
  subjects[5].name = "unrelated";
  const char* expected[] = {"payments", "platform", "payments-symbols", "api", "search", "-"};
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    CAPTURE(i);
    const auto a = fast.match(subjects[i]);
    const auto b = slow.match(subjects[i]);
    CHECK((a ? a->owner.team : "-") == expected[i]);
    CHECK((b ? b->owner.team : "-") == expected[i]);
    CHECK((a ? a->line : 0) == (b ? b->line : 0));
  }
}

TEST_CASE("an empty rule set matches nothing") {
  const warden::ownership_rules rules;
  CHECK(rules.size() == 0);
  warden::rule_subject frame;
  frame.path = "src/a.cpp";
  CHECK_FALSE(rules.match(frame));
}

// Notification routing with Alertmanager's semantics: the four matcher operators
// (patterns anchored), missing labels, tags, first match wins, `continue`, the parent
// taking what no child does, inheritance of every option, route and group keys in
// Alertmanager's format, the routing tree of ALERTING-PLAN.md §1.1, compile errors
// naming the route; then the flush policy, table-driven on a fake clock.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alerting/notify_policy.hpp"
#include "alerting/route_tree.hpp"

namespace {

using namespace std::chrono_literals;
using warden::sink::decide_flush;
using warden::sink::flush_action;
using warden::sink::flush_decision;
using warden::sink::group_state;
using warden::sink::kNever;
using warden::sink::label_matcher;
using warden::sink::notification_labels;
using warden::sink::pending_items;
using warden::sink::route_config;
using warden::sink::route_match;
using warden::sink::route_timers;
using warden::sink::route_tree;
using op = label_matcher::op;
using label_list = std::vector<std::pair<std::string, std::string>>;

label_matcher matcher(std::string label, op how, std::string value) {
  label_matcher result;
  result.label = std::move(label);
  result.how = how;
  result.value = std::move(value);
  return result;
}

route_config route(std::vector<label_matcher> matchers, std::string receiver = {}) {
  route_config result;
  result.matchers = std::move(matchers);
  result.receiver = std::move(receiver);
  return result;
}

route_config root_with(std::vector<route_config> routes) {
  route_config root = route({}, "root");
  root.routes = std::move(routes);
  return root;
}

route_tree compile_ok(const route_config& root) {
  absl::StatusOr<route_tree> tree = route_tree::compile(root);
  REQUIRE_MESSAGE(tree.ok(), tree.status().ToString());
  return *std::move(tree);
}

notification_labels labels_of(const label_list& entries) {
  notification_labels labels;
  for (const auto& [label, value] : entries) labels.set(label, value);
  return labels;
}

std::vector<route_match> match(const route_tree& tree, const label_list& entries) {
  std::vector<route_match> matches;
  tree.match(labels_of(entries), matches);
  return matches;
}

std::vector<std::string> receivers(const route_tree& tree, const label_list& entries) {
  std::vector<std::string> names;
  for (const route_match& found : match(tree, entries)) names.push_back(found.receiver);
  return names;
}

using names = std::vector<std::string>;

}  // namespace

TEST_CASE("notification labels: find returns the first entry, set replaces, missing is empty") {
  notification_labels labels;
  labels.set("team", "payments");
  labels.set("tags.region", "eu");
  labels.set("team", "search");
  CHECK(labels.entries.size() == 2);
  CHECK(labels.find("team") == "search");
  CHECK(labels.find("tags.region") == "eu");
  CHECK(labels.find("tags.browser").empty());
  labels.entries.emplace_back("level", "error");
  labels.entries.emplace_back("level", "fatal");
  CHECK(labels.find("level") == "error");
}

TEST_CASE("equality matchers compare whole values") {
  const route_tree tree =
      compile_ok(root_with({route({matcher("team", op::eq, "payments")}, "pay")}));
  CHECK(receivers(tree, {{"team", "payments"}}) == names{"pay"});
  CHECK(receivers(tree, {{"team", "payments-eu"}}) == names{"root"});
  CHECK(receivers(tree, {{"team", "Payments"}}) == names{"root"});
  CHECK(receivers(tree, {}) == names{"root"});
}

TEST_CASE("inequality matchers and missing labels") {
  const route_tree tree =
      compile_ok(root_with({route({matcher("team", op::ne, "payments")}, "other")}));
  CHECK(receivers(tree, {{"team", "search"}}) == names{"other"});
  CHECK(receivers(tree, {{"team", "payments"}}) == names{"root"});
  // A missing label is the empty string, which is not "payments".
  CHECK(receivers(tree, {}) == names{"other"});

  const route_tree has_team =
      compile_ok(root_with({route({matcher("team", op::ne, "")}, "owned")}));
  CHECK(receivers(has_team, {{"team", "search"}}) == names{"owned"});
  CHECK(receivers(has_team, {}) == names{"root"});
  CHECK(receivers(has_team, {{"team", ""}}) == names{"root"});

  const route_tree no_team =
      compile_ok(root_with({route({matcher("team", op::eq, "")}, "unowned")}));
  CHECK(receivers(no_team, {}) == names{"unowned"});
  CHECK(receivers(no_team, {{"team", "search"}}) == names{"root"});
}

TEST_CASE("pattern matchers are anchored at both ends") {
  const route_tree tree =
      compile_ok(root_with({route({matcher("environment", op::matches, "prod|production")}, "prod"),
                            route({matcher("environment", op::matches, "stag")}, "stag")}));
  CHECK(receivers(tree, {{"environment", "prod"}}) == names{"prod"});
  CHECK(receivers(tree, {{"environment", "production"}}) == names{"prod"});
  CHECK(receivers(tree, {{"environment", "preproduction"}}) == names{"root"});
  CHECK(receivers(tree, {{"environment", "production-eu"}}) == names{"root"});
  CHECK(receivers(tree, {{"environment", "staging"}}) == names{"root"});
  CHECK(receivers(tree, {{"environment", "stag"}}) == names{"stag"});
  CHECK(receivers(tree, {{"environment", "Prod"}}) == names{"root"});
  CHECK(receivers(tree, {{"environment", "prod|production"}}) == names{"root"});

  const route_tree regions = compile_ok(
      root_with({route({matcher("tags.region", op::matches, "us-east-1|eu_west-1|x")}, "listed")}));
  CHECK(receivers(regions, {{"tags.region", "eu_west-1"}}) == names{"listed"});
  CHECK(receivers(regions, {{"tags.region", "x"}}) == names{"listed"});
  CHECK(receivers(regions, {{"tags.region", "us-east-10"}}) == names{"root"});
  CHECK(receivers(regions, {{"tags.region", "us-east"}}) == names{"root"});

  const route_tree prefix =
      compile_ok(root_with({route({matcher("release", op::matches, "checkout@2\\..*")}, "v2")}));
  CHECK(receivers(prefix, {{"release", "checkout@2.14.1"}}) == names{"v2"});
  CHECK(receivers(prefix, {{"release", "web-checkout@2.14.1"}}) == names{"root"});
}

TEST_CASE("negative pattern matchers, on present and missing labels") {
  const route_tree tree = compile_ok(
      root_with({route({matcher("environment", op::not_matches, "staging|development")}, "live")}));
  CHECK(receivers(tree, {{"environment", "production"}}) == names{"live"});
  CHECK(receivers(tree, {{"environment", "staging"}}) == names{"root"});
  // Anchored: "staging-2" is not "staging".
  CHECK(receivers(tree, {{"environment", "staging-2"}}) == names{"live"});
  // Missing: "" does not match the pattern, so !~ holds.
  CHECK(receivers(tree, {}) == names{"live"});

  // A pattern that matches "" makes !~ fail on a missing label, and =~ hold.
  const route_tree optional =
      compile_ok(root_with({route({matcher("team", op::not_matches, "(search)?")}, "not-search"),
                            route({matcher("team", op::matches, "|x")}, "empty-or-x")}));
  CHECK(receivers(optional, {}) == names{"empty-or-x"});
  CHECK(receivers(optional, {{"team", "x"}}) == names{"not-search"});
  CHECK(receivers(optional, {{"team", "search"}}) == names{"root"});
}

TEST_CASE("one pattern shared by =~ and !~ matchers of several routes gives each its answer") {
  route_config live = route({matcher("environment", op::matches, "prod|production")}, "live");
  live.continue_matching = true;
  route_config not_live =
      route({matcher("environment", op::not_matches, "prod|production")}, "not-live");
  not_live.continue_matching = true;
  route_config live_again = route(
      {matcher("environment", op::matches, "prod|production"), matcher("team", op::eq, "payments")},
      "live-payments");
  const route_tree tree = compile_ok(root_with({live, not_live, live_again}));
  CHECK(receivers(tree, {{"environment", "prod"}, {"team", "payments"}}) ==
        names{"live", "live-payments"});
  CHECK(receivers(tree, {{"environment", "staging"}, {"team", "payments"}}) == names{"not-live"});
  CHECK(receivers(tree, {{"environment", "production"}}) == names{"live"});
}

TEST_CASE("tags are labels named tags.<key>") {
  const route_tree tree = compile_ok(
      root_with({route({matcher("tags.region", op::eq, "eu")}, "eu"),
                 route({matcher("tags.browser.name", op::matches, "Chrome.*")}, "chrome")}));
  CHECK(receivers(tree, {{"team", "payments"}, {"tags.region", "eu"}}) == names{"eu"});
  CHECK(receivers(tree, {{"tags.region", "us"}, {"tags.browser.name", "Chrome 120"}}) ==
        names{"chrome"});
  CHECK(receivers(tree, {{"region", "eu"}}) == names{"root"});
}

TEST_CASE("all matchers of a route must hold") {
  const route_tree tree = compile_ok(root_with(
      {route({matcher("team", op::eq, "payments"), matcher("level", op::matches, "error|fatal")},
             "both")}));
  CHECK(receivers(tree, {{"team", "payments"}, {"level", "fatal"}}) == names{"both"});
  CHECK(receivers(tree, {{"team", "payments"}, {"level", "warning"}}) == names{"root"});
  CHECK(receivers(tree, {{"team", "search"}, {"level", "fatal"}}) == names{"root"});
}

TEST_CASE("the first matching child wins unless it continues") {
  SUBCASE("first match wins") {
    const route_tree tree =
        compile_ok(root_with({route({matcher("team", op::eq, "payments")}, "a"),
                              route({matcher("level", op::eq, "fatal")}, "b")}));
    CHECK(receivers(tree, {{"team", "payments"}, {"level", "fatal"}}) == names{"a"});
    CHECK(receivers(tree, {{"team", "search"}, {"level", "fatal"}}) == names{"b"});
  }
  SUBCASE("continue tries the later siblings, up to one without continue") {
    route_config first = route({matcher("level", op::eq, "fatal")}, "a");
    first.continue_matching = true;
    route_config third = route({matcher("team", op::ne, "")}, "c");
    third.continue_matching = true;
    const route_tree tree = compile_ok(root_with(
        {first, route({matcher("team", op::eq, "payments")}, "b"), third, route({}, "d")}));
    CHECK(receivers(tree, {{"team", "payments"}, {"level", "fatal"}}) == names{"a", "b"});
    CHECK(receivers(tree, {{"team", "search"}, {"level", "fatal"}}) == names{"a", "c", "d"});
    CHECK(receivers(tree, {{"level", "error"}}) == names{"d"});
  }
  SUBCASE("a continuing child that does not match changes nothing") {
    route_config first = route({matcher("level", op::eq, "fatal")}, "a");
    first.continue_matching = true;
    const route_tree tree = compile_ok(root_with({first}));
    CHECK(receivers(tree, {{"level", "error"}}) == names{"root"});
  }
}

TEST_CASE("a node none of whose children match takes the notification itself") {
  route_config payments = route({matcher("team", op::eq, "payments")}, "payments");
  payments.routes = {route({matcher("level", op::eq, "fatal")}, "payments-fatal")};
  const route_tree tree = compile_ok(root_with({payments, route({}, "catch-all")}));
  CHECK(receivers(tree, {{"team", "payments"}, {"level", "fatal"}}) == names{"payments-fatal"});
  // payments matched, so its siblings are not tried, and it takes what its child does not.
  CHECK(receivers(tree, {{"team", "payments"}, {"level", "error"}}) == names{"payments"});
  CHECK(receivers(tree, {{"team", "search"}}) == names{"catch-all"});

  const std::vector<route_match> unmatched = match(compile_ok(root_with({payments})), {});
  REQUIRE(unmatched.size() == 1);
  CHECK(unmatched[0].route_key == "{}");
  CHECK(unmatched[0].receiver == "root");
}

TEST_CASE("the root's defaults and the inheritance of every option") {
  route_config grandchild = route({matcher("level", op::eq, "fatal")});
  route_config child = route({matcher("team", op::eq, "payments")}, "payments");
  child.group_by = std::vector<std::string>{"team"};
  child.group_wait = 10s;
  child.routes = {grandchild};
  route_config sibling = route({matcher("team", op::eq, "search")});
  sibling.group_interval = 1min;
  sibling.repeat_interval = 4h;
  sibling.group_by = std::vector<std::string>{};
  const route_tree tree = compile_ok(root_with({child, sibling}));

  SUBCASE("root defaults") {
    const std::vector<route_match> found = match(tree, {{"issue", "1"}, {"team", "data"}});
    REQUIRE(found.size() == 1);
    CHECK(found[0].receiver == "root");
    CHECK(found[0].group_wait == 30s);
    CHECK(found[0].group_interval == 5min);
    CHECK(found[0].repeat_interval == kNever);
    CHECK(found[0].group_key == "{}:{issue=\"1\"}");
  }
  SUBCASE("a grandchild inherits from its parent, which inherits from the root") {
    const std::vector<route_match> found =
        match(tree, {{"issue", "1"}, {"team", "payments"}, {"level", "fatal"}});
    REQUIRE(found.size() == 1);
    CHECK(found[0].route_key == "{}/{team=\"payments\"}/{level=\"fatal\"}");
    CHECK(found[0].receiver == "payments");
    CHECK(found[0].group_wait == 10s);
    CHECK(found[0].group_interval == 5min);
    CHECK(found[0].repeat_interval == kNever);
    CHECK(found[0].group_labels == label_list{{"team", "payments"}});
  }
  SUBCASE("set options replace the root's, unset ones stay") {
    const std::vector<route_match> found = match(tree, {{"issue", "1"}, {"team", "search"}});
    REQUIRE(found.size() == 1);
    CHECK(found[0].receiver == "root");
    CHECK(found[0].group_wait == 30s);
    CHECK(found[0].group_interval == 1min);
    CHECK(found[0].repeat_interval == 4h);
    // group_by: [] is one group for the whole route.
    CHECK(found[0].group_labels.empty());
    CHECK(found[0].group_key == "{}/{team=\"search\"}:{}");
  }
}

TEST_CASE("group keys in Alertmanager's format") {
  const label_list labels{{"issue", "42"},         {"team", "payments"}, {"level", "fatal"},
                          {"environment", "prod"}, {"release", ""},      {"tags.region", "eu"}};
  auto group_of = [&labels](std::optional<std::vector<std::string>> group_by) {
    route_config root = route({}, "root");
    root.group_by = std::move(group_by);
    const std::vector<route_match> found = match(compile_ok(root), labels);
    REQUIRE(found.size() == 1);
    return found[0];
  };
  SUBCASE("by issue") {
    const route_match found = group_of(std::vector<std::string>{"issue"});
    CHECK(found.group_key == "{}:{issue=\"42\"}");
    CHECK(found.group_labels == label_list{{"issue", "42"}});
  }
  SUBCASE("by team") {
    CHECK(group_of(std::vector<std::string>{"team"}).group_key == "{}:{team=\"payments\"}");
  }
  SUBCASE("several labels, sorted, missing and empty ones left out") {
    const route_match found = group_of(
        std::vector<std::string>{"team", "tags.region", "environment", "function", "release"});
    CHECK(found.group_key == "{}:{environment=\"prod\", tags.region=\"eu\", team=\"payments\"}");
    CHECK(found.group_labels ==
          label_list{{"environment", "prod"}, {"tags.region", "eu"}, {"team", "payments"}});
  }
  SUBCASE("every label") {
    const route_match found = group_of(std::vector<std::string>{"..."});
    CHECK(found.group_key ==
          "{}:{environment=\"prod\", issue=\"42\", level=\"fatal\", tags.region=\"eu\", "
          "team=\"payments\"}");
    CHECK(found.group_labels.size() == 5);
  }
  SUBCASE("values quoted as Go's %q") {
    route_config root = route({}, "root");
    root.group_by = std::vector<std::string>{"release"};
    const std::vector<route_match> found =
        match(compile_ok(root), {{"release", "a\"b\\c\nd\te\x01"}});
    REQUIRE(found.size() == 1);
    CHECK(found[0].group_key == "{}:{release=\"a\\\"b\\\\c\\nd\\te\\x01\"}");
    CHECK(found[0].group_labels == label_list{{"release", "a\"b\\c\nd\te\x01"}});
  }
}

TEST_CASE("route keys: sorted matcher sets, quoting, and siblings with the same matchers") {
  route_config critical = route({matcher("severity", op::eq, "critical"),
                                 matcher("environment", op::matches, "production|prod")},
                                "pd");
  critical.continue_matching = true;
  route_config duplicate = route({matcher("severity", op::eq, "critical"),
                                  matcher("environment", op::matches, "production|prod")},
                                 "pd-backup");
  duplicate.continue_matching = true;
  route_config odd =
      route({matcher("tags.odd key", op::ne, "x\"y"), matcher("release", op::not_matches, "a\\.b")},
            "odd");
  const route_tree tree = compile_ok(root_with({critical, duplicate, odd}));
  const std::vector<route_match> found = match(
      tree, {{"issue", "9"}, {"severity", "critical"}, {"environment", "prod"}, {"release", "1"}});
  REQUIRE(found.size() == 3);
  CHECK(found[0].route_key == "{}/{environment=~\"production|prod\",severity=\"critical\"}");
  CHECK(found[1].route_key == "{}/{environment=~\"production|prod\",severity=\"critical\"}/1");
  CHECK(found[1].group_key ==
        "{}/{environment=~\"production|prod\",severity=\"critical\"}/1:{issue=\"9\"}");
  CHECK(found[2].route_key == "{}/{release!~\"a\\\\.b\",\"tags.odd key\"!=\"x\\\"y\"}");
}

TEST_CASE("reads_label: the labels matchers and group_by name") {
  route_config child =
      route({matcher("team", op::eq, "payments"), matcher("tags.region", op::matches, "eu|us")},
            "payments");
  child.group_by = std::vector<std::string>{"environment"};
  const route_tree tree = compile_ok(root_with({child}));
  for (const char* label : {"team", "tags.region", "environment", "issue"}) {
    CAPTURE(label);
    CHECK(tree.reads_label(label));
  }
  CHECK_FALSE(tree.reads_label("rule"));
  CHECK_FALSE(tree.reads_label("reason"));
  CHECK_FALSE(tree.reads_label("tags"));

  child.group_by = std::vector<std::string>{"..."};
  CHECK(compile_ok(root_with({child})).reads_label("rule"));
}

TEST_CASE("a reused result vector is refilled, shrunk and holds no stale labels") {
  route_config every = route({matcher("team", op::eq, "payments")}, "every");
  every.group_by = std::vector<std::string>{"..."};
  every.continue_matching = true;
  const route_tree tree = compile_ok(root_with({every, route({}, "catch-all")}));
  std::vector<route_match> matches;
  tree.match(labels_of({{"issue", "1"}, {"team", "payments"}, {"level", "fatal"}}), matches);
  REQUIRE(matches.size() == 2);
  CHECK(matches[0].group_labels.size() == 3);
  tree.match(labels_of({{"issue", "2"}, {"team", "search"}}), matches);
  REQUIRE(matches.size() == 1);
  CHECK(matches[0].receiver == "catch-all");
  CHECK(matches[0].group_key == "{}/{}:{issue=\"2\"}");
  tree.match(labels_of({{"team", "payments"}}), matches);
  REQUIRE(matches.size() == 2);
  CHECK(matches[0].group_labels == label_list{{"team", "payments"}});
  CHECK(matches[0].group_key == "{}/{team=\"payments\"}:{team=\"payments\"}");
  CHECK(matches[1].group_labels.empty());
  CHECK(matches[1].group_key == "{}/{}:{}");
}

TEST_CASE("the routing tree of the plan's example") {
  route_config root = route({}, "general-slack");
  root.group_by = std::vector<std::string>{"issue"};
  root.group_wait = 30s;
  root.group_interval = 5min;
  root.repeat_interval = kNever;
  route_config pager = route({matcher("severity", op::eq, "critical"),
                              matcher("environment", op::matches, "production|prod")},
                             "pagerduty-main");
  pager.group_wait = 0s;
  pager.continue_matching = true;
  route_config general = route({matcher("level", op::matches, "error|fatal"),
                                matcher("environment", op::matches, "production|prod")},
                               "general-slack");
  general.group_by = std::vector<std::string>{"team"};
  general.continue_matching = true;
  root.routes = {pager, general, route({matcher("team", op::eq, "payments")}, "payments-slack"),
                 route({matcher("team", op::eq, "search")}, "search-slack")};
  const route_tree tree = compile_ok(root);

  SUBCASE("a production fatal of payments: PagerDuty, the general channel, the team's") {
    const std::vector<route_match> found = match(tree, {{"issue", "7"},
                                                        {"team", "payments"},
                                                        {"level", "fatal"},
                                                        {"severity", "critical"},
                                                        {"environment", "production"},
                                                        {"rule", "prod-errors"},
                                                        {"reason", "first_seen"}});
    REQUIRE(found.size() == 3);
    CHECK(found[0].receiver == "pagerduty-main");
    CHECK(found[0].group_wait == 0s);
    CHECK(found[0].group_key ==
          "{}/{environment=~\"production|prod\",severity=\"critical\"}:{issue=\"7\"}");
    CHECK(found[1].receiver == "general-slack");
    CHECK(found[1].group_wait == 30s);
    CHECK(found[1].group_key ==
          "{}/{environment=~\"production|prod\",level=~\"error|fatal\"}:{team=\"payments\"}");
    CHECK(found[2].receiver == "payments-slack");
    CHECK(found[2].group_key == "{}/{team=\"payments\"}:{issue=\"7\"}");
    CHECK(found[2].group_interval == 5min);
    CHECK(found[2].repeat_interval == kNever);
  }
  SUBCASE("a staging error of search: the team's channel only") {
    CHECK(receivers(tree, {{"issue", "8"},
                           {"team", "search"},
                           {"level", "error"},
                           {"severity", "error"},
                           {"environment", "staging"}}) == names{"search-slack"});
  }
  SUBCASE("an unowned team: the root's receiver") {
    const std::vector<route_match> found = match(tree, {{"issue", "9"},
                                                        {"team", "data"},
                                                        {"level", "warning"},
                                                        {"severity", "warning"},
                                                        {"environment", "production"}});
    REQUIRE(found.size() == 1);
    CHECK(found[0].receiver == "general-slack");
    CHECK(found[0].route_key == "{}");
    CHECK(found[0].group_key == "{}:{issue=\"9\"}");
  }
  SUBCASE("a production error of an unowned team: the general channel, not the root too") {
    const std::vector<route_match> found = match(
        tree,
        {{"issue", "10"}, {"level", "error"}, {"severity", "error"}, {"environment", "prod"}});
    REQUIRE(found.size() == 1);
    CHECK(found[0].receiver == "general-slack");
    CHECK(found[0].group_key == "{}/{environment=~\"production|prod\",level=~\"error|fatal\"}:{}");
  }
}

TEST_CASE("compile errors name the route") {
  auto error_of = [](const route_config& root) {
    absl::StatusOr<route_tree> tree = route_tree::compile(root);
    REQUIRE_FALSE(tree.ok());
    return std::string{tree.status().message()};
  };
  SUBCASE("a bad pattern, with its line and RE2's message") {
    route_config bad = route({matcher("environment", op::matches, "prod(")}, "x");
    bad.line = 17;
    route_config parent = route({matcher("team", op::eq, "payments")});
    parent.routes = {bad};
    const std::string message = error_of(root_with({parent}));
    CHECK(message.find("route (line 17): matcher environment=~\"prod(\": bad RE2 pattern") == 0);
    CHECK(message.find("missing )") != std::string::npos);
  }
  SUBCASE("without a line, the route's key") {
    const std::string message =
        error_of(root_with({route({matcher("team", op::not_matches, "[z-a]")}, "x")}));
    CHECK(message.find("route {}/{team!~\"[z-a]\"}: matcher team!~\"[z-a]\"") == 0);
  }
  SUBCASE("the root") {
    route_config root = route({matcher("team", op::eq, "x")}, "root");
    root.line = 3;
    CHECK(error_of(root).find("route (line 3): the root route takes every notification") == 0);
    CHECK(error_of(route({}, "")).find("the root route needs a receiver") != std::string::npos);
  }
  SUBCASE("every label next to others") {
    route_config child = route({matcher("team", op::eq, "x")});
    child.group_by = std::vector<std::string>{"...", "team"};
    child.line = 9;
    CHECK(error_of(root_with({child})).find("route (line 9): group_by \"...\"") == 0);
  }
  SUBCASE("timers") {
    route_config child = route({matcher("team", op::eq, "x")});
    child.group_interval = 0s;
    CHECK(error_of(root_with({child})).find("group_interval must be positive") !=
          std::string::npos);
    child.group_interval = 1s;
    child.group_wait = -1s;
    CHECK(error_of(root_with({child})).find("group_wait must not be negative") !=
          std::string::npos);
    child.group_wait = 1s;
    child.repeat_interval = 0s;
    CHECK(error_of(root_with({child})).find("repeat_interval must be positive") !=
          std::string::npos);
  }
}

namespace {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;

// One row of the flush table.
struct flush_case {
  const char* name;
  group_state group;
  pending_items pending;
  route_timers timers;
  std::int64_t now_ms;
  bool send_resolved;
  flush_action action;
  std::optional<std::int64_t> next_flush_ms;
};

constexpr route_timers kTimers{30s, 5min, 4h};
constexpr route_timers kNoRepeat{30s, 5min, kNever};

group_state created_at(std::int64_t created_ms) {
  group_state group;
  group.created_ms = created_ms;
  return group;
}

// A group created at 0 that last sent at `sent_ms` (a message with firing issues, or
// only resolutions).
group_state sent_at(std::int64_t sent_ms, bool had_firing = true) {
  group_state group = created_at(0);
  group.last_flush_ms = sent_ms;
  group.last_sent_ms = sent_ms;
  group.last_sent_had_firing = had_firing;
  return group;
}

const char* action_name(flush_action action) {
  switch (action) {
    case flush_action::wait:
      return "wait";
    case flush_action::send_firing:
      return "send_firing";
    case flush_action::send_resolved:
      return "send_resolved";
    case flush_action::repeat:
      return "repeat";
    case flush_action::nothing:
      return "nothing";
  }
  return "?";
}

}  // namespace

TEST_CASE("flush decisions") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const pending_items one_new{1, 0, 1};
  const pending_items all_sent_open{0, 0, 2};
  const pending_items all_resolved{0, 2, 0};
  const std::vector<flush_case> cases{
      // group_wait
      {"new group waits group_wait", created_at(0), one_new, kTimers, 10 * kSecond, true,
       flush_action::wait, 30 * kSecond},
      {"new group sends at group_wait, repeat after repeat_interval", created_at(0), one_new,
       kTimers, 30 * kSecond, true, flush_action::send_firing, 30 * kSecond + 4 * kHour},
      {"new group sends late if the dispatcher was late", created_at(0), one_new, kNoRepeat,
       2 * kHour, true, flush_action::send_firing, std::nullopt},
      {"group_wait 0s sends at once",
       created_at(5),
       one_new,
       {0s, 5min, kNever},
       5,
       true,
       flush_action::send_firing,
       std::nullopt},
      {"no repeat: nothing due after the send", created_at(0), one_new, kNoRepeat, 30 * kSecond,
       true, flush_action::send_firing, std::nullopt},
      // group_interval
      {"new items wait group_interval after the last flush",
       sent_at(kMinute),
       {2, 0, 3},
       kTimers,
       2 * kMinute,
       true,
       flush_action::wait,
       6 * kMinute},
      {"new items send group_interval after the last flush",
       sent_at(kMinute),
       {2, 0, 3},
       kTimers,
       6 * kMinute,
       true,
       flush_action::send_firing,
       6 * kMinute + 4 * kHour},
      {"new items and resolutions send as firing",
       sent_at(0),
       {1, 1, 1},
       kNoRepeat,
       5 * kMinute,
       false,
       flush_action::send_firing,
       std::nullopt},
      // send_resolved
      {"all resolved waits group_interval", sent_at(0), all_resolved, kTimers, kMinute, true,
       flush_action::wait, 5 * kMinute},
      {"all resolved sends the resolution", sent_at(0), all_resolved, kTimers, 5 * kMinute, true,
       flush_action::send_resolved, std::nullopt},
      {"all resolved without send_resolved sends nothing", sent_at(0), all_resolved, kTimers,
       5 * kMinute, false, flush_action::nothing, std::nullopt},
      {"resolution already sent", sent_at(0, false), all_resolved, kTimers, kHour, true,
       flush_action::nothing, std::nullopt},
      {"resolved before group_wait sends nothing",
       created_at(0),
       {0, 1, 0},
       kTimers,
       10 * kSecond,
       true,
       flush_action::nothing,
       std::nullopt},
      {"resolved before group_wait sends nothing, even when due",
       created_at(0),
       {0, 1, 0},
       kTimers,
       kMinute,
       true,
       flush_action::nothing,
       std::nullopt},
      {"some resolved, others open, no repeat: nothing",
       sent_at(0),
       {0, 1, 1},
       kNoRepeat,
       10 * kMinute,
       true,
       flush_action::nothing,
       std::nullopt},
      // repeat
      {"open issues wait for repeat_interval", sent_at(0), all_sent_open, kTimers, kHour, true,
       flush_action::wait, 4 * kHour},
      {"open issues repeat after repeat_interval", sent_at(0), all_sent_open, kTimers, 4 * kHour,
       true, flush_action::repeat, 8 * kHour},
      {"repeat counts from the last send, not the last flush",
       [] {
         group_state group = sent_at(3 * kHour);
         group.last_sent_ms = kHour;
         return group;
       }(),
       all_sent_open, kTimers, 4 * kHour, true, flush_action::wait, 5 * kHour},
      {"repeat never comes before group_interval",
       sent_at(0),
       all_sent_open,
       {30s, 5min, 1min},
       2 * kMinute,
       true,
       flush_action::wait,
       5 * kMinute},
      {"a short repeat then waits group_interval",
       sent_at(0),
       all_sent_open,
       {30s, 5min, 1min},
       5 * kMinute,
       true,
       flush_action::repeat,
       10 * kMinute},
      {"repeat never", sent_at(0), all_sent_open, kNoRepeat, 1000 * kHour, true,
       flush_action::nothing, std::nullopt},
      {"no repeat after a resolution-only message", sent_at(0, false), all_sent_open, kTimers,
       10 * kHour, true, flush_action::nothing, std::nullopt},
      {"nothing pending at all",
       created_at(0),
       {0, 0, 0},
       kTimers,
       kHour,
       true,
       flush_action::nothing,
       std::nullopt},
      // times saturate
      {"huge group_wait does not overflow", created_at(kMax - kSecond), one_new, kTimers,
       kMax - kSecond, true, flush_action::wait, kMax},
  };
  for (const flush_case& row : cases) {
    CAPTURE(row.name);
    const flush_decision decision =
        decide_flush(row.group, row.pending, row.timers, row.now_ms, row.send_resolved);
    CHECK(std::string{action_name(decision.action)} == action_name(row.action));
    CHECK(decision.next_flush_ms == row.next_flush_ms);
  }
}

TEST_CASE("a route match carries the timers decide_flush reads") {
  route_config root = route({}, "root");
  root.group_wait = 0s;
  const std::vector<route_match> found = match(compile_ok(root), {{"issue", "1"}});
  REQUIRE(found.size() == 1);
  const flush_decision decision =
      decide_flush(created_at(100), pending_items{1, 0, 1}, found[0], 100, true);
  CHECK(decision.action == flush_action::send_firing);
  CHECK_FALSE(decision.next_flush_ms.has_value());
}

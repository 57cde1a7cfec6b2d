// The targets' pure parts against the protocol fixtures (tests/fixtures/webhooks/outbound):
// YouTrack request builders reproduce the fixtures as JSON documents, parsers read the
// fixture answers; the ticket's text (templates, summary, description, comments); the
// Standard Webhooks test vector and GitHub's signature check. Then the receivers: Slack
// messages and PagerDuty events against their fixtures (field by field where a snapshot
// can reproduce the fixture's values), their answers, Slack's escaping and limits,
// signed generic webhook events, and secrets that appear only where they must.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "server/alerting_config.hpp"
#include "target_fixtures.hpp"
#include "targets/notification.hpp"
#include "targets/pagerduty.hpp"
#include "targets/signing.hpp"
#include "targets/slack.hpp"
#include "targets/ticket_text.hpp"
#include "targets/tracker_hooks.hpp"
#include "targets/webhook.hpp"
#include "targets/youtrack.hpp"

namespace {

using warden::testing::check_same_json;
using warden::testing::fixture_snapshot;
using warden::testing::header;
using warden::testing::parse;
using warden::testing::read_fixture;
using warden::testing::serialize;

using warden::sink::created_ticket;
using warden::sink::custom_field_config;
using warden::sink::http_request;
using warden::sink::http_response;
using warden::sink::secret;
using warden::sink::template_values;
using warden::sink::ticket_snapshot;
using warden::sink::youtrack_config;

constexpr std::string_view kToken = "perm:cm9vdA==.d2FyZGVu.T0k3nV4lu3";

bool has_header(const http_request& request, std::string_view name) {
  for (const auto& entry : request.headers) {
    if (entry.first == name) return true;
  }
  return false;
}

// The tracker of the fixtures: fields in the fixture's order, Assignee from the owner.
youtrack_config fixture_config() {
  youtrack_config config;
  config.url = "https://youtrack.example.internal/";
  config.token = secret(std::string(kToken));
  config.incident_key_field = "Incident key";
  config.fields = {{"Priority", "enum", "{priority}"},
                   {"Type", "enum", "Incident"},
                   {"Subsystem", "owned", "{product}"},
                   {"Team", "enum", "{team}"}};
  return config;
}

const std::vector<custom_field_config> kOwnerFields{{"Assignee", "user", "payments-oncall"}};

template_values fixture_values() {
  return warden::sink::ticket_template_values(fixture_snapshot(), fixture_config().priority, "OPS");
}

http_request fixture_create() {
  auto request = warden::sink::youtrack_create_issue(
      fixture_config(), "0-12", kOwnerFields, warden::sink::ticket_content_of(fixture_snapshot()),
      fixture_values());
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  return *request;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Abseil's string_view is not std::string_view in Debian's build.
std::string message_of(const absl::Status& status) { return std::string(status.message()); }

}  // namespace

TEST_CASE("templates expand every variable and the brace escapes") {
  const template_values values = fixture_values();
  auto expanded = warden::sink::expand_template(
      "{team}/{function}/{product} {level}={severity} {priority} in {project} "
      "rule {rule} #{issue_id} {incident_key} {environment}@{release}: {title} ({culprit})",
      values);
  REQUIRE(expanded.ok());
  CHECK(*expanded ==
        "team-payments/backend/checkout fatal=critical Critical in OPS rule prod-errors #42 "
        "am:c6110dd6075a4fcb production@shop@1.4.3: High error rate (checkout.api.charge)");

  for (const std::string_view variable : warden::sink::kTemplateVariables) {
    CAPTURE(variable);
    auto one = warden::sink::expand_template("{" + std::string(variable) + "}", values);
    REQUIRE(one.ok());
    CHECK(!one->empty());
  }

  CHECK(*warden::sink::expand_template("{{team}} is {team}", values) == "{team} is team-payments");
  CHECK(*warden::sink::expand_template("a }} b {{", values) == "a } b {");
  CHECK(*warden::sink::expand_template("no variables", values) == "no variables");
  CHECK(warden::sink::expand_template("", values).value().empty());
}

TEST_CASE("templates refuse unknown variables and unmatched braces") {
  const template_values values = fixture_values();
  auto unknown = warden::sink::expand_template("sev:{sevrity}", values);
  REQUIRE(!unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(contains(message_of(unknown.status()), "unknown variable {sevrity}"));

  CHECK(!warden::sink::expand_template("{}", values).ok());
  CHECK(!warden::sink::expand_template("{team", values).ok());
  CHECK(!warden::sink::expand_template("team}", values).ok());
  CHECK(!warden::sink::expand_template("{Team}", values).ok());  // names are case-sensitive
}

TEST_CASE("levels map to severities and to the tracker's priorities") {
  CHECK(warden::sink::severity_of_level("fatal") == "critical");
  CHECK(warden::sink::severity_of_level("error") == "error");
  CHECK(warden::sink::severity_of_level("warning") == "warning");
  CHECK(warden::sink::severity_of_level("info") == "info");
  CHECK(warden::sink::severity_of_level("debug") == "info");
  CHECK(warden::sink::severity_of_level("nonsense") == "error");

  const std::vector<std::string> priorities{"Lowest", "Low", "Normal", "Major", "Critical"};
  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.level = "warning";
  snapshot.last_release.clear();
  template_values values = warden::sink::ticket_template_values(snapshot, priorities, "PAY");
  CHECK(values.priority == "Normal");
  CHECK(values.severity == "warning");
  CHECK(values.release == "shop@1.4.2");  // no last release: the first
  CHECK(values.project == "PAY");
  CHECK(values.issue_id == "42");
  snapshot.level = "debug";
  CHECK(warden::sink::ticket_template_values(snapshot, priorities, "PAY").priority == "Lowest");
  CHECK(warden::sink::ticket_template_values(snapshot, {}, "PAY").priority.empty());
}

TEST_CASE("the summary follows the naming convention") {
  CHECK(warden::sink::ticket_summary(fixture_snapshot()) ==
        "[team-payments][backend][checkout] High error rate");

  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.product.clear();
  snapshot.title = "Timeout\ncalling\tbank";
  CHECK(warden::sink::ticket_summary(snapshot) == "[team-payments][backend] Timeout calling bank");
}

TEST_CASE("the summary is cut to 250 bytes on a UTF-8 boundary") {
  ticket_snapshot snapshot;
  snapshot.team = "t";
  snapshot.function = "f";
  // "[t][f] " is 7 bytes, the x's end at byte 246, where a 3-byte "€" starts: cutting
  // at 247 would split it.
  snapshot.title = std::string(239, 'x');
  for (int i = 0; i < 10; ++i) snapshot.title += "\xE2\x82\xAC";
  const std::string summary = warden::sink::ticket_summary(snapshot);
  CHECK(summary.size() <= warden::sink::kMaxSummaryBytes);
  CHECK(summary == "[t][f] " + std::string(239, 'x') + "\xE2\x80\xA6");

  CHECK(warden::sink::truncate_utf8("short", 5) == "short");
  CHECK(warden::sink::truncate_utf8("abcdef", 5) == "ab\xE2\x80\xA6");
  CHECK(warden::sink::truncate_utf8("\xC3\xA9\xC3\xA9\xC3\xA9", 5) == "\xC3\xA9\xE2\x80\xA6");
  CHECK(warden::sink::truncate_utf8("a\xC3\xA9\xC3\xA9\xC3\xA9", 5) == "a\xE2\x80\xA6");
  CHECK(warden::sink::truncate_utf8("abcdef", 2) == "ab");
}

TEST_CASE("the description carries everything a ticket reader needs") {
  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.frames = {"f1 at a.py:1", "f2 at b.py:2", "f3", "f4", "f5", "f6 never shown"};
  const std::string description = warden::sink::ticket_description(snapshot);
  CAPTURE(description);
  CHECK(description.rfind("**High error rate**", 0) == 0);
  CHECK(
      contains(description, "**Owner:** team-payments / backend / checkout (owner source: rules)"));
  CHECK(contains(description, "**Level:** fatal"));
  CHECK(contains(description, "**Events:** 1234 (users: 56)"));
  CHECK(contains(description, "**First seen:** 2025-03-14T09:12:41Z"));
  CHECK(contains(description, "**Last seen:** 2025-03-14T09:27:03Z"));
  CHECK(contains(description, "**First release:** `shop@1.4.2`"));
  CHECK(contains(description, "**Last release:** `shop@1.4.3`"));
  CHECK(contains(description, "**Environment:** production"));
  CHECK(contains(description, "**Culprit:** `checkout.api.charge`"));
  CHECK(contains(description, "```\nf1 at a.py:1\nf2 at b.py:2\nf3\nf4\nf5\n```\n"));
  CHECK(!contains(description, "f6 never shown"));
  CHECK(contains(description, "**Rule:** prod-errors (first\\_seen)"));
  CHECK(contains(description, "**In Warden:** <https://warden.example.internal/api/0/issues/42>"));
  CHECK(contains(description, "**Incident key:** `am:c6110dd6075a4fcb`"));
}

TEST_CASE("the description escapes Markdown and leaves out what is unknown") {
  ticket_snapshot snapshot;
  snapshot.title = "Null *pointer* in vector<int>";
  snapshot.team = "team";
  snapshot.function = "fn";
  snapshot.level = "error";
  snapshot.frames = {"uses ``` inside"};
  const std::string description = warden::sink::ticket_description(snapshot);
  CAPTURE(description);
  CHECK(description.rfind("**Null \\*pointer\\* in vector\\<int\\>**", 0) == 0);
  CHECK(contains(description, "**Owner:** team / fn  \n"));  // no product, no source
  CHECK(contains(description, "````\nuses ``` inside\n````"));
  CHECK(!contains(description, "First seen"));
  CHECK(!contains(description, "release"));
  CHECK(!contains(description, "Culprit"));
  CHECK(!contains(description, "Incident key"));
}

TEST_CASE("regression and resolve comments") {
  const std::string regressed = warden::sink::regression_comment(fixture_snapshot());
  CHECK(regressed ==
        "Regressed in shop@1.4.3: seen again at 2025-03-14T09:27:03Z (1234 events, 56 users in "
        "total).\n\nIn Warden: <https://warden.example.internal/api/0/issues/42>");
  ticket_snapshot no_release = fixture_snapshot();
  no_release.last_release.clear();
  no_release.link.clear();
  CHECK(warden::sink::regression_comment(no_release).rfind("Regressed: seen again at", 0) == 0);

  CHECK(warden::sink::resolve_comment("jdoe") == "Resolved in Warden by jdoe.");
  CHECK(warden::sink::resolve_comment("api_user") == "Resolved in Warden by api\\_user.");
  CHECK(warden::sink::resolve_comment("") == "Resolved in Warden.");
}

TEST_CASE("youtrack create reproduces the fixture") {
  const http_request request = fixture_create();
  CHECK(request.method == "POST");
  CHECK(request.url == "https://youtrack.example.internal/api/issues?fields=id,idReadable,summary");

  rapidjson::Document actual = parse(request.body);
  rapidjson::Document expected = parse(read_fixture("youtrack_create_issue_request.json"));
  REQUIRE(actual.HasMember("description"));
  CHECK(std::string(actual["description"].GetString()) ==
        warden::sink::ticket_description(fixture_snapshot()));
  actual.RemoveMember("description");
  expected.RemoveMember("description");
  check_same_json(actual, expected);
}

TEST_CASE("youtrack create writes each custom field type as YouTrack expects") {
  youtrack_config config = fixture_config();
  config.incident_key_field.clear();
  config.fields = {{"Tags", "multi_enum", "{team}, {product},"},
                   {"State", "state", "Open"},
                   {"Fix versions", "version", "{release}"},
                   {"Fixed in build", "build", "build-7"},
                   {"Environment", "string", "{environment}"},
                   {"Notes", "text", "from {rule}"},
                   {"Estimation", "period", "2d 4h"},
                   {"Subsystem", "owned", "{product}"},
                   {"Assignee", "user", "nobody"}};
  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.product.clear();  // Subsystem is left out, Tags holds the team only
  const template_values values =
      warden::sink::ticket_template_values(snapshot, config.priority, "OPS");
  auto request = warden::sink::youtrack_create_issue(
      config, "0-12", kOwnerFields, warden::sink::ticket_content_of(snapshot), values);
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());

  const rapidjson::Document expected = parse(R"([
    {"name": "Tags", "$type": "MultiEnumIssueCustomField", "value": [{"name": "team-payments"}]},
    {"name": "State", "$type": "StateIssueCustomField", "value": {"name": "Open"}},
    {"name": "Fix versions", "$type": "SingleVersionIssueCustomField",
     "value": {"name": "shop@1.4.3"}},
    {"name": "Fixed in build", "$type": "SingleBuildIssueCustomField", "value": {"name": "build-7"}},
    {"name": "Environment", "$type": "SimpleIssueCustomField", "value": "production"},
    {"name": "Notes", "$type": "TextIssueCustomField", "value": {"text": "from prod-errors"}},
    {"name": "Estimation", "$type": "PeriodIssueCustomField", "value": {"presentation": "2d 4h"}},
    {"name": "Assignee", "$type": "SingleUserIssueCustomField",
     "value": {"login": "payments-oncall"}}
  ])");
  const rapidjson::Document body = parse(request->body);
  check_same_json(body["customFields"], expected);

  config.fields = {{"Tags", "multi_enum", "a,b , c"}};
  auto multi = warden::sink::youtrack_create_issue(
      config, "0-12", {}, warden::sink::ticket_content_of(snapshot), values);
  REQUIRE(multi.ok());
  check_same_json(parse(multi->body)["customFields"],
                  parse(R"([{"name": "Tags", "$type": "MultiEnumIssueCustomField",
                             "value": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}])"));
}

TEST_CASE("youtrack create refuses unknown field types and bad templates") {
  youtrack_config config = fixture_config();
  config.fields = {{"Priority", "enumeration", "Critical"}};
  auto unknown_type = warden::sink::youtrack_create_issue(
      config, "0-12", {}, warden::sink::ticket_content_of(fixture_snapshot()), fixture_values());
  REQUIRE(!unknown_type.ok());
  CHECK(unknown_type.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(contains(message_of(unknown_type.status()), "\"Priority\" has the unknown type"));

  config.fields = {{"Priority", "enum", "{prio}"}};
  auto bad_template = warden::sink::youtrack_create_issue(
      config, "0-12", {}, warden::sink::ticket_content_of(fixture_snapshot()), fixture_values());
  REQUIRE(!bad_template.ok());
  CHECK(contains(message_of(bad_template.status()), "unknown variable {prio}"));
}

TEST_CASE("youtrack requests carry the token in the header only") {
  const youtrack_config config = fixture_config();
  const ticket_snapshot snapshot = fixture_snapshot();
  const std::vector<http_request> requests{
      warden::sink::youtrack_project_lookup(config, "OPS"),
      fixture_create(),
      warden::sink::youtrack_search_issue(config, "OPS", warden::sink::ticket_content_of(snapshot)),
      warden::sink::youtrack_command(config, "OPS-1532", "State Fixed", "done"),
      warden::sink::youtrack_comment(config, "OPS-1532", "hello"),
  };
  for (const http_request& request : requests) {
    CAPTURE(request.url);
    CHECK(header(request, "Authorization") == "Bearer " + std::string(kToken));
    CHECK(header(request, "Accept") == "application/json");
    CHECK(header(request, "User-Agent") == "warden-sink");
    CHECK(has_header(request, "Content-Type") == (request.method == "POST"));
    if (request.method == "POST") CHECK(header(request, "Content-Type") == "application/json");
    CHECK(!contains(request.body, kToken));
    CHECK(!contains(request.body, "T0k3n"));
    CHECK(!contains(request.url, "T0k3n"));
  }
}

TEST_CASE("youtrack parses the created issue") {
  auto ticket = warden::sink::parse_youtrack_created_issue(
      fixture_config(), read_fixture("youtrack_create_issue_response_200.json"));
  REQUIRE_MESSAGE(ticket.ok(), ticket.status().ToString());
  CHECK(ticket->id == "2-4711");
  CHECK(ticket->key == "OPS-1532");
  CHECK(ticket->url == "https://youtrack.example.internal/issue/OPS-1532");

  CHECK(!warden::sink::parse_youtrack_created_issue(fixture_config(), "<html>").ok());
  CHECK(!warden::sink::parse_youtrack_created_issue(fixture_config(),
                                                    R"({"id":"2-38","$type":"Issue"})")
             .ok());
}

TEST_CASE("youtrack project lookup picks the exact short name") {
  const http_request request = warden::sink::youtrack_project_lookup(fixture_config(), "PAY");
  CHECK(request.method == "GET");
  CHECK(request.body.empty());
  CHECK(request.url ==
        "https://youtrack.example.internal/api/admin/projects?fields=id,name,shortName&query=PAY");

  const std::string answer = R"([
    {"id": "0-3", "name": "Payments archive", "shortName": "PAYX", "$type": "Project"},
    {"id": "0-12", "name": "Payments", "shortName": "PAY", "$type": "Project"},
    {"id": "0-14", "name": "Pay day", "shortName": "PAYDAY", "$type": "Project"}])";
  auto id = warden::sink::parse_youtrack_project_id(answer, "PAY");
  REQUIRE(id.ok());
  CHECK(*id == "0-12");
  CHECK(*warden::sink::parse_youtrack_project_id(answer, "pay") == "0-12");  // as YouTrack

  auto missing = warden::sink::parse_youtrack_project_id(answer, "PA");
  REQUIRE(!missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(contains(message_of(missing.status()), "no project with the short name \"PA\""));
  CHECK(contains(message_of(missing.status()), "PAYX, PAY, PAYDAY"));
  CHECK(warden::sink::parse_youtrack_project_id("[]", "PAY").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(warden::sink::parse_youtrack_project_id("{}", "PAY").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("youtrack reconcile search by incident key") {
  const youtrack_config config = fixture_config();
  const ticket_snapshot snapshot = fixture_snapshot();
  const http_request request =
      warden::sink::youtrack_search_issue(config, "OPS", warden::sink::ticket_content_of(snapshot));
  CHECK(request.method == "GET");
  // project: OPS {Incident key}: {am:c6110dd6075a4fcb}
  CHECK(request.url ==
        "https://youtrack.example.internal/api/issues?query="
        "project%3A%20OPS%20%7BIncident%20key%7D%3A%20%7Bam%3Ac6110dd6075a4fcb%7D"
        "&fields=id,idReadable,summary,resolved,customFields(name,value)&$top=2");

  auto none =
      warden::sink::parse_youtrack_search(config, "[]", warden::sink::ticket_content_of(snapshot));
  REQUIRE(none.ok());
  CHECK(!none->has_value());

  // The key is checked when the answer lists the custom fields.
  auto found = warden::sink::parse_youtrack_search(config, R"([
    {"id": "2-1", "idReadable": "OPS-1", "summary": "x", "resolved": null,
     "customFields": [{"name": "Incident key", "value": "am:c6110dd6075a4fcbXX"}]},
    {"id": "2-4711", "idReadable": "OPS-1532", "summary": "x", "resolved": 1741944423000,
     "customFields": [{"name": "Priority", "value": {"name": "Critical"}},
                      {"name": "Incident key", "value": "am:c6110dd6075a4fcb"}]}])",
                                                   warden::sink::ticket_content_of(snapshot));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "2-4711");
  CHECK((*found)->key == "OPS-1532");
  CHECK((*found)->url == "https://youtrack.example.internal/issue/OPS-1532");

  // Without custom fields in the answer, the exact query is trusted.
  auto trusted = warden::sink::parse_youtrack_search(
      config, R"([{"id": "2-9", "idReadable": "OPS-9", "summary": "x"}])",
      warden::sink::ticket_content_of(snapshot));
  REQUIRE(trusted.ok());
  REQUIRE(trusted->has_value());
  CHECK((*trusted)->key == "OPS-9");

  auto other_key = warden::sink::parse_youtrack_search(config, R"([
    {"id": "2-1", "idReadable": "OPS-1",
     "customFields": [{"name": "Incident key", "value": "am:0000000000000000"}]}])",
                                                       warden::sink::ticket_content_of(snapshot));
  REQUIRE(other_key.ok());
  CHECK(!other_key->has_value());

  CHECK(!warden::sink::parse_youtrack_search(config, R"({"error":"x"})",
                                             warden::sink::ticket_content_of(snapshot))
             .ok());
  CHECK(!warden::sink::parse_youtrack_search(config, "not json",
                                             warden::sink::ticket_content_of(snapshot))
             .ok());
}

TEST_CASE("youtrack reconcile search by summary without an incident key field") {
  youtrack_config config = fixture_config();
  config.incident_key_field.clear();
  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.title = "Card \"declined\" & retried";
  const http_request request =
      warden::sink::youtrack_search_issue(config, "OPS", warden::sink::ticket_content_of(snapshot));
  // project: OPS summary: "[team-payments][backend][checkout] Card declined & retried"
  CHECK(request.url ==
        "https://youtrack.example.internal/api/issues?query="
        "project%3A%20OPS%20summary%3A%20%22%5Bteam-payments%5D%5Bbackend%5D%5Bcheckout%5D%20"
        "Card%20declined%20%26%20retried%22&fields=id,idReadable,summary,resolved&$top=20");

  auto found = warden::sink::parse_youtrack_search(config, R"([
    {"id": "2-1", "idReadable": "OPS-1",
     "summary": "[team-payments][backend][checkout] Card \"declined\" & retried twice"},
    {"id": "2-2", "idReadable": "OPS-2",
     "summary": "[team-payments][backend][checkout] Card \"declined\" & retried"}])",
                                                   warden::sink::ticket_content_of(snapshot));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key == "OPS-2");
}

TEST_CASE("youtrack command reproduces the fixture") {
  const http_request request = warden::sink::youtrack_command(
      fixture_config(), "OPS-1532", "State Fixed",
      "Resolved by source (alertmanager, endsAt 2025-03-14T09:31:26Z).");
  CHECK(request.method == "POST");
  CHECK(request.url == "https://youtrack.example.internal/api/commands");
  check_same_json(parse(request.body), parse(read_fixture("youtrack_command_request.json")));

  const http_request silent_comment =
      warden::sink::youtrack_command(fixture_config(), "OPS-1532", "State Reopened", "");
  check_same_json(parse(silent_comment.body),
                  parse(R"({"query": "State Reopened", "issues": [{"idReadable": "OPS-1532"}],
                            "silent": false})"));
}

TEST_CASE("youtrack comment reproduces the fixture") {
  const http_request request = warden::sink::youtrack_comment(
      fixture_config(), "OPS-1532", "Re-fired 3 times since 09:12Z (last 09:27Z).");
  CHECK(request.method == "POST");
  CHECK(request.url == "https://youtrack.example.internal/api/issues/OPS-1532/comments?fields=id");
  check_same_json(parse(request.body), parse(read_fixture("youtrack_comment_request.json")));
}

TEST_CASE("youtrack error messages are one readable line") {
  http_response response;
  response.status = 400;
  response.body = read_fixture("youtrack_error_400.json");
  CHECK(warden::sink::youtrack_error_message(response) ==
        "HTTP 400 invalid_properties: Priority is required");

  response.body = R"({"error": "invalid_properties", "error_description": "Issue is invalid",
    "error_children": [{"error": "a", "error_description": "Priority is required"},
                       {"error": "b", "error_description": "Team is required"}]})";
  CHECK(warden::sink::youtrack_error_message(response) ==
        "HTTP 400 invalid_properties: Issue is invalid; Priority is required; Team is required");

  response.status = 502;
  response.body = "<html>\n<body>Bad gateway</body>\n</html>" + std::string(500, '.');
  const std::string html = warden::sink::youtrack_error_message(response);
  CHECK(html.rfind("HTTP 502: <html> <body>Bad gateway</body> </html>...", 0) == 0);
  CHECK(html.size() <= std::string("HTTP 502: ").size() + 200);
  CHECK(html.find('\n') == std::string::npos);

  response.body.clear();
  CHECK(warden::sink::youtrack_error_message(response) == "HTTP 502 (empty body)");

  http_response no_answer;
  no_answer.error = "Connection refused";
  CHECK(warden::sink::youtrack_error_message(no_answer) ==
        "no answer from YouTrack: Connection refused");
}

TEST_CASE("standard webhooks signature matches the spec's test vector") {
  const std::string body = R"({"test": 2432232314})";
  auto signature =
      warden::sink::standard_webhook_signature({secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},
                                               "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
  REQUIRE_MESSAGE(signature.ok(), signature.status().ToString());
  CHECK(*signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

  // The prefix is optional.
  auto bare =
      warden::sink::standard_webhook_signature({secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},
                                               "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
  REQUIRE(bare.ok());
  CHECK(*bare == *signature);

  // Rotation: one entry per secret, separated by a space (second one checked with Python).
  auto rotated = warden::sink::standard_webhook_signature(
      {secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
       secret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")},
      "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
  REQUIRE(rotated.ok());
  CHECK(*rotated ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "
        "v1,O4Gjv1HqPqsMrjmczoggs/sWA8gZD0VyHG+fLh4+ktI=");

  // Another timestamp or id signs differently.
  CHECK(*warden::sink::standard_webhook_signature(
            {secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")}, "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265331, body) != *signature);
}

TEST_CASE("standard webhooks refuse invalid secrets without showing them") {
  const std::string not_base64 = "whsec_not*base64!SecretValue";
  auto invalid = warden::sink::standard_webhook_signature(
      {secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), secret(not_base64)}, "msg_1", 1, "{}");
  REQUIRE(!invalid.ok());
  CHECK(invalid.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(contains(message_of(invalid.status()), "secret 2 of 2 is not base64"));
  CHECK(!contains(message_of(invalid.status()), "SecretValue"));

  const std::string short_key = "whsec_AAAAAAAAAAAAAAAAAAAAAA==";  // 16 bytes
  auto too_short = warden::sink::standard_webhook_signature({secret(short_key)}, "msg_1", 1, "{}");
  REQUIRE(!too_short.ok());
  CHECK(contains(message_of(too_short.status()), "decodes to 16 bytes, fewer than 24"));
  CHECK(!contains(message_of(too_short.status()), "AAAAAAAA"));

  CHECK(!warden::sink::standard_webhook_signature({secret("whsec_")}, "msg_1", 1, "{}").ok());
  CHECK(!warden::sink::standard_webhook_signature({}, "msg_1", 1, "{}").ok());
}

TEST_CASE("github signatures are verified over the raw body") {
  // GitHub's documented example ("Validating webhook deliveries").
  const std::string secret_text = "It's a Secret to Everybody";
  const std::string body = "Hello, World!";
  const std::string digest = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  CHECK(warden::sink::verify_github_signature(secret_text, "sha256=" + digest, body));

  std::string upper = digest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(warden::sink::verify_github_signature(secret_text, "sha256=" + upper, body));

  std::string flipped = digest;
  flipped.back() = flipped.back() == '7' ? '8' : '7';
  CHECK(!warden::sink::verify_github_signature(secret_text, "sha256=" + flipped, body));
  CHECK(!warden::sink::verify_github_signature(secret_text, "sha256=" + digest, body + " "));
  CHECK(!warden::sink::verify_github_signature("another secret", "sha256=" + digest, body));
  CHECK(!warden::sink::verify_github_signature(secret_text, digest, body));  // no prefix
  CHECK(!warden::sink::verify_github_signature(secret_text, "sha1=" + digest, body));
  CHECK(!warden::sink::verify_github_signature(secret_text, "", body));
  CHECK(!warden::sink::verify_github_signature(secret_text, "sha256=" + digest.substr(1), body));
  CHECK(!warden::sink::verify_github_signature(secret_text, "sha256=" + digest + "00", body));
  CHECK(!warden::sink::verify_github_signature(secret_text, "sha256=" + digest.substr(2) + "zz",
                                               body));
  CHECK(!warden::sink::verify_github_signature("", "sha256=" + digest, body));
}

TEST_CASE("constant time comparison") {
  CHECK(warden::sink::constant_time_equal("s3cret-token", "s3cret-token"));
  CHECK(!warden::sink::constant_time_equal("s3cret-token", "s3cret-tokeN"));
  CHECK(!warden::sink::constant_time_equal("s3cret-token", "s3cret-token "));
  CHECK(!warden::sink::constant_time_equal("", "x"));
  CHECK(warden::sink::constant_time_equal("", ""));
}

// ---- Receivers: Slack, PagerDuty, generic webhooks ----

namespace {

using warden::sink::notification;
using warden::sink::notified_issue;
using warden::sink::pagerduty_receiver;
using warden::sink::receiver_verdict;
using warden::sink::slack_receiver;
using warden::sink::webhook_receiver;

constexpr std::string_view kSlackWebhookUrl =
    "https://hooks.slack.com/services/T0WARDEN/B0WARDEN/sl4ckW3bh00kS3cr3t";
constexpr std::string_view kSlackWebhookSecretPart = "sl4ckW3bh00kS3cr3t";
constexpr std::string_view kRoutingKey = "e93facc04764012d7bfb002500d5d1a6";  // the fixtures'
constexpr std::string_view kTicketUrl = "https://youtrack.example.internal/issue/OPS-1532";
constexpr std::string_view kGroupLink =
    "https://warden.example.internal/api/0/issues?team=team-payments&status=unresolved";
// The Standard Webhooks spec's test vector.
constexpr std::string_view kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kWebhookMessageId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kWebhookTimestamp = 1614265330;  // 2021-02-25T15:02:10Z

std::string str(const rapidjson::Value& value) {
  REQUIRE(value.IsString());
  return {value.GetString(), value.GetStringLength()};
}

// Whether `text` is well-formed UTF-8 (no character cut in two).
bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80             ? 1
                               : (lead & 0xE0) == 0xC0 ? 2
                               : (lead & 0xF0) == 0xE0 ? 3
                               : (lead & 0xF8) == 0xF0 ? 4
                                                       : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t j = i + 1; j < i + length; ++j) {
      if ((static_cast<unsigned char>(text[j]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

std::size_t occurrences(std::string_view text, std::string_view part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string_view::npos;
       at = text.find(part, at + part.size())) {
    ++count;
  }
  return count;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The issue of the fixtures as receivers see it: first seen at the fixtures' millisecond.
ticket_snapshot receiver_snapshot() {
  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.first_seen_ms = 1741943561512;  // 2025-03-14T09:12:41.512Z
  return snapshot;
}

// The Slack fixture's issue: its culprit line is the fixture's second line.
notified_issue slack_fixture_issue() {
  ticket_snapshot snapshot = receiver_snapshot();
  snapshot.culprit = "5xx ratio 7.4% over 5m on checkout-api";
  return {snapshot, "first_seen", "OPS-1532", std::string(kTicketUrl)};
}

notification group_of(std::vector<notified_issue> issues) {
  notification message;
  message.receiver = "payments-slack";
  message.group_key = R"({}/{team="team-payments"}:{issue="42"})";
  message.group_labels = {{"team", "team-payments"}, {"issue", "42"}};
  message.issues = std::move(issues);
  message.link = std::string(kGroupLink);
  return message;
}

// `count` issues of team-payments, OPS-1... with ids 1...
std::vector<notified_issue> many_issues(int count) {
  std::vector<notified_issue> issues;
  for (int i = 1; i <= count; ++i) {
    notified_issue issue = slack_fixture_issue();
    issue.issue.issue_id = i;
    issue.issue.title = "Failure " + std::to_string(i);
    issue.issue.level = i == 1 ? "fatal" : "error";
    issue.ticket_key = "OPS-" + std::to_string(i);
    issue.ticket_url = "https://youtrack.example.internal/issue/OPS-" + std::to_string(i);
    issues.push_back(issue);
  }
  return issues;
}

slack_receiver slack_config() {
  slack_receiver receiver;
  receiver.webhook_url = secret(std::string(kSlackWebhookUrl));
  return receiver;
}

rapidjson::Document slack_body(const notification& message) {
  const http_request request = warden::sink::slack_message(slack_config(), message);
  rapidjson::Document body = parse(request.body);
  REQUIRE(body["blocks"].IsArray());
  CHECK(body["blocks"].Size() <= 50);
  return body;
}

// The PagerDuty fixture's issue: no culprit (its class is the title), environment
// "prod", 2 events.
notified_issue pagerduty_fixture_issue() {
  ticket_snapshot snapshot = receiver_snapshot();
  snapshot.culprit.clear();
  snapshot.environment = "prod";
  snapshot.event_count = 2;
  return {snapshot, "first_seen", "OPS-1532", std::string(kTicketUrl)};
}

pagerduty_receiver pagerduty_config() {
  pagerduty_receiver receiver;
  receiver.routing_key = secret(std::string(kRoutingKey));
  receiver.source = "{product}-api.{environment}";  // the fixture's "checkout-api.prod"
  return receiver;
}

rapidjson::Document trigger_body(const pagerduty_receiver& receiver, const notified_issue& issue) {
  auto request = warden::sink::pagerduty_trigger(receiver, issue);
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  return parse(request->body);
}

http_response answer(int status, std::string body) {
  http_response response;
  response.status = status;
  response.body = std::move(body);
  response.request_sent = true;
  return response;
}

webhook_receiver webhook_config() {
  webhook_receiver receiver;
  receiver.url = "https://hooks.example.internal/warden";
  receiver.secrets = {secret(std::string(kWebhookSecret))};
  return receiver;
}

}  // namespace

TEST_CASE("slack message reproduces the fixture for one issue") {
  const http_request request =
      warden::sink::slack_message(slack_config(), group_of({slack_fixture_issue()}));
  CHECK(request.method == "POST");
  CHECK(request.url == kSlackWebhookUrl);
  CHECK(header(request, "Content-Type") == "application/json");

  const rapidjson::Document actual = parse(request.body);
  const rapidjson::Document expected = parse(read_fixture("slack_incoming_webhook_message.json"));
  check_same_json(actual["text"], expected["text"]);
  const rapidjson::Value& blocks = actual["blocks"];
  REQUIRE(blocks.Size() == 3);
  check_same_json(blocks[0], expected["blocks"][0]);  // the header

  const rapidjson::Value& section = blocks[1];
  const rapidjson::Value& fixture_section = expected["blocks"][1];
  check_same_json(section["type"], fixture_section["type"]);
  check_same_json(section["text"], fixture_section["text"]);
  REQUIRE(section["fields"].Size() == 2);
  // The fixture's Source is the monitor that alerted ("alertmanager"); an issue's source
  // in Warden is its environment.
  CHECK(str(section["fields"][0]["type"]) == "mrkdwn");
  CHECK(str(section["fields"][0]["text"]) == "*Source*\nproduction");
  check_same_json(section["fields"][1], fixture_section["fields"][1]);  // First seen

  // The context adds a link to the issue in Warden to the fixture's incident key.
  const rapidjson::Value& context = blocks[2];
  check_same_json(context["type"], expected["blocks"][2]["type"]);
  REQUIRE(context["elements"].Size() == 2);
  check_same_json(context["elements"][0], expected["blocks"][2]["elements"][0]);
  CHECK(str(context["elements"][1]["text"]) ==
        "<https://warden.example.internal/api/0/issues/42|Open in Warden>");
}

TEST_CASE("slack message variants: severity, regressed, resolved, no ticket, several issues") {
  notified_issue regressed = slack_fixture_issue();
  regressed.reason = "regressed";
  rapidjson::Document body = slack_body(group_of({regressed}));
  CHECK(str(body["text"]) ==
        ":red_circle: CRITICAL regressed OPS-1532 [team-payments][backend][checkout] High error "
        "rate");
  CHECK(str(body["blocks"][0]["text"]["text"]) == "CRITICAL regressed: High error rate (checkout)");
  CHECK(contains(str(body["blocks"][1]["text"]["text"]),
                 "|OPS-1532>* regressed for *team-payments* / backend / checkout"));

  notified_issue resolved = slack_fixture_issue();
  resolved.reason = "resolved";
  notification resolved_group = group_of({resolved});
  resolved_group.resolved = true;
  body = slack_body(resolved_group);
  CHECK(str(body["text"]) ==
        ":white_check_mark: resolved OPS-1532 [team-payments][backend][checkout] High error rate");
  CHECK(str(body["blocks"][0]["text"]["text"]) == "RESOLVED: High error rate (checkout)");
  CHECK(contains(str(body["blocks"][1]["text"]["text"]), "|OPS-1532>* resolved for"));

  notified_issue error = slack_fixture_issue();
  error.issue.level = "error";
  error.issue.product.clear();
  body = slack_body(group_of({error}));
  CHECK(str(body["text"]) ==
        ":large_orange_circle: ERROR OPS-1532 [team-payments][backend] High error rate");
  CHECK(str(body["blocks"][0]["text"]["text"]) == "ERROR: High error rate");
  notified_issue warning = slack_fixture_issue();
  warning.issue.level = "warning";
  CHECK(str(slack_body(group_of({warning}))["blocks"][0]["text"]["text"]) ==
        "WARNING: High error rate (checkout)");

  // Without a ticket the issue in Warden is the reference; without an environment or
  // first seen, no fields.
  notified_issue no_ticket = slack_fixture_issue();
  no_ticket.ticket_key.clear();
  no_ticket.ticket_url.clear();
  no_ticket.issue.environment.clear();
  no_ticket.issue.first_seen_ms = 0;
  no_ticket.reason = "seen_more_than";
  body = slack_body(group_of({no_ticket}));
  CHECK(str(body["text"]) ==
        ":red_circle: CRITICAL [team-payments][backend][checkout] High error rate");
  CHECK(str(body["blocks"][1]["text"]["text"]) ==
        "*<https://warden.example.internal/api/0/issues/42|#42>* seen more often than its rule "
        "allows for *team-payments* / backend / checkout\n5xx ratio 7.4% over 5m on checkout-api");
  CHECK_FALSE(body["blocks"][1].HasMember("fields"));

  // Several issues: counted in the header, each section names its issue, the worst
  // severity leads.
  body = slack_body(group_of(many_issues(3)));
  CHECK(str(body["text"]) == ":red_circle: CRITICAL 3 issues for team-payments");
  CHECK(str(body["blocks"][0]["text"]["text"]) == "CRITICAL: 3 issues for team-payments");
  REQUIRE(body["blocks"].Size() == 1 + 3 * 2);
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    const std::string text = str(body["blocks"][1 + 2 * i]["text"]["text"]);
    CAPTURE(text);
    const std::string number = std::to_string(i + 1);
    CHECK(text.rfind("Failure " + number + "\n*<https://youtrack.example.internal/issue/OPS-" +
                         number + "|OPS-" + number + ">* opened for *team-payments*",
                     0) == 0);
    CHECK(str(body["blocks"][2 + 2 * i]["type"]) == "context");
  }
  std::vector<notified_issue> errors = many_issues(2);
  errors[0].issue.level = "warning";
  errors[1].issue.level = "error";
  errors[1].issue.team = "team-search";
  notification mixed = group_of(errors);
  mixed.group_labels.clear();  // the team comes from the issues when they share one
  CHECK(str(slack_body(mixed)["blocks"][0]["text"]["text"]) == "ERROR: 2 issues");
  errors[1].issue.team = "team-payments";
  mixed.issues = errors;
  CHECK(str(slack_body(mixed)["blocks"][0]["text"]["text"]) == "ERROR: 2 issues for team-payments");
}

TEST_CASE("slack escapes ampersands and angle brackets and keeps within Slack's limits") {
  notified_issue issue = slack_fixture_issue();
  issue.issue.title = "Null <ptr> & co\nsecond line";
  issue.issue.culprit = "vector<int>::at & friends";
  issue.issue.team = "r&d";
  issue.ticket_url = "https://tracker.example/issue?id=1&view=a|b>";
  rapidjson::Document body = slack_body(group_of({issue}));
  CHECK(str(body["text"]) ==
        ":red_circle: CRITICAL OPS-1532 [r&amp;d][backend][checkout] Null &lt;ptr&gt; &amp; co "
        "second line");
  // plain_text is not mrkdwn: nothing to escape there.
  CHECK(str(body["blocks"][0]["text"]["text"]) ==
        "CRITICAL: Null <ptr> & co second line (checkout)");
  CHECK(str(body["blocks"][1]["text"]["text"]) ==
        "*<https://tracker.example/issue?id=1&amp;view=a%7Cb%3E|OPS-1532>* opened for *r&amp;d* / "
        "backend / checkout\nvector&lt;int&gt;::at &amp; friends");

  // A long multi-byte title: the header stays within 150 bytes, cut between characters.
  notified_issue long_title = slack_fixture_issue();
  long_title.issue.title.clear();
  for (int i = 0; i < 400; ++i) long_title.issue.title += "\xC3\xA9";  // "é"
  body = slack_body(group_of({long_title}));
  const std::string header_text = str(body["blocks"][0]["text"]["text"]);
  CHECK(header_text.size() <= 150);
  CHECK(valid_utf8(header_text));
  CHECK(header_text.rfind("CRITICAL: \xC3\xA9\xC3\xA9", 0) == 0);
  CHECK(header_text.substr(header_text.size() - 3) == "\xE2\x80\xA6");

  // A culprit of 5000 '&': the section stays within 3000 bytes and is cut between
  // entities, never inside one.
  notified_issue long_culprit = slack_fixture_issue();
  long_culprit.issue.culprit = std::string(5000, '&');
  body = slack_body(group_of({long_culprit}));
  const std::string section = str(body["blocks"][1]["text"]["text"]);
  CHECK(section.size() <= 3000);
  const std::vector<std::string> lines = lines_of(section);
  REQUIRE(lines.size() == 2);
  const std::string culprit = lines[1];
  REQUIRE(culprit.size() > 3);
  CHECK(culprit.substr(culprit.size() - 3) == "\xE2\x80\xA6");
  const std::string entities = culprit.substr(0, culprit.size() - 3);
  CHECK(entities.size() % 5 == 0);
  CHECK(occurrences(entities, "&amp;") * 5 == entities.size());
  CHECK(entities.size() >= 500);
}

TEST_CASE("slack shows at most 20 issues then and N more with the group's link") {
  for (const int count : {20, 21, 25, 200}) {
    CAPTURE(count);
    rapidjson::Document body = slack_body(group_of(many_issues(count)));
    const rapidjson::Value& blocks = body["blocks"];
    const std::string request_body = serialize(body);
    CHECK(contains(request_body, "|OPS-20>"));
    CHECK_FALSE(contains(request_body, "|OPS-21>"));
    if (count == 20) {
      CHECK(blocks.Size() == 1 + 20 * 2);
      continue;
    }
    REQUIRE(blocks.Size() == 1 + 20 * 2 + 1);
    CHECK(str(blocks[blocks.Size() - 1]["text"]["text"]) ==
          "and " + std::to_string(count - 20) +
              " more: <https://warden.example.internal/api/0/issues?team=team-payments&amp;"
              "status=unresolved|all " +
              std::to_string(count) + " issues in Warden>");
  }
}

TEST_CASE("slack summary lists the held back notifications in one message") {
  notified_issue resolved_issue = many_issues(2)[1];
  resolved_issue.reason = "resolved";
  notification resolved = group_of({resolved_issue});
  resolved.resolved = true;
  const std::vector<notification> held_back{group_of({slack_fixture_issue()}), resolved,
                                            group_of(many_issues(3))};
  const http_request request = warden::sink::slack_summary(slack_config(), held_back);
  CHECK(request.url == kSlackWebhookUrl);
  CHECK(header(request, "Content-Type") == "application/json");
  const rapidjson::Document body = parse(request.body);
  CHECK(str(body["text"]) == "3 notifications held back");
  REQUIRE(body["blocks"].Size() == 2);
  CHECK(str(body["blocks"][0]["type"]) == "header");
  CHECK(str(body["blocks"][0]["text"]["text"]) == "3 notifications held back");
  const std::vector<std::string> lines = lines_of(str(body["blocks"][1]["text"]["text"]));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "\xE2\x80\xA2 :red_circle: CRITICAL <https://youtrack.example.internal/issue/OPS-1532|"
        "OPS-1532> [team-payments][backend][checkout] High error rate");
  CHECK(lines[1] ==
        "\xE2\x80\xA2 :white_check_mark: resolved <https://youtrack.example.internal/issue/OPS-2|"
        "OPS-2> [team-payments][backend][checkout] Failure 2");
  CHECK(lines[2] ==
        "\xE2\x80\xA2 :red_circle: CRITICAL <https://warden.example.internal/api/0/issues?"
        "team=team-payments&amp;status=unresolved|3 issues for team-payments>");

  CHECK(str(parse(warden::sink::slack_summary(slack_config(), {resolved}).body)["text"]) ==
        "1 notification held back");

  // Far more than 50 blocks' worth: sections up to 3000 bytes, then "and N more".
  const std::vector<notification> flood(2000, group_of({slack_fixture_issue()}));
  const rapidjson::Document big = parse(warden::sink::slack_summary(slack_config(), flood).body);
  const rapidjson::Value& blocks = big["blocks"];
  CHECK(blocks.Size() == 50);
  std::size_t listed = 0;
  for (rapidjson::SizeType i = 1; i + 1 < blocks.Size(); ++i) {
    CHECK(str(blocks[i]["type"]) == "section");
    const std::string text = str(blocks[i]["text"]["text"]);
    CHECK(text.size() <= 3000);
    listed += lines_of(text).size();
  }
  const rapidjson::Value& more = blocks[blocks.Size() - 1];
  CHECK(str(more["type"]) == "context");
  CHECK(str(more["elements"][0]["text"]) == "and " + std::to_string(2000 - listed) + " more");
  CHECK(listed > 48);
}

TEST_CASE("slack answers: ok, broken webhooks, permanent and retryable errors") {
  const receiver_verdict ok = warden::sink::slack_answer(answer(200, "ok"));
  CHECK(ok.ok);
  CHECK_FALSE(ok.permanent);
  CHECK_FALSE(ok.broken);
  CHECK(ok.error.empty());
  CHECK(warden::sink::slack_answer(answer(200, "ok\n")).ok);

  // A 200 that is not Slack's "ok" (a proxy's login page, say) is no delivery.
  const receiver_verdict other = warden::sink::slack_answer(answer(200, "<html>Sign in</html>"));
  CHECK_FALSE(other.ok);
  CHECK(other.permanent);
  CHECK_FALSE(other.broken);
  CHECK(other.error == "HTTP 200: <html>Sign in</html>");

  for (const auto& status_and_body :
       std::vector<std::pair<int, std::string>>{{404, "no_service"},
                                                {404, "channel_not_found"},
                                                {410, "channel_is_archived"},
                                                {403, "invalid_token"},
                                                {403, "action_prohibited"},
                                                {404, ""},
                                                {400, "no_team"}}) {
    const int status = status_and_body.first;
    const std::string& body = status_and_body.second;
    CAPTURE(status);
    CAPTURE(body);
    const receiver_verdict broken = warden::sink::slack_answer(answer(status, body));
    CHECK_FALSE(broken.ok);
    CHECK(broken.permanent);
    CHECK(broken.broken);
    CHECK(contains(broken.error, "HTTP " + std::to_string(status)));
    CHECK(contains(broken.error, body.empty() ? "(empty body)" : body));
  }

  for (const std::string body : {"invalid_payload", "invalid_blocks", "user_not_found"}) {
    const receiver_verdict invalid = warden::sink::slack_answer(answer(400, body));
    CHECK_FALSE(invalid.ok);
    CHECK(invalid.permanent);
    CHECK_FALSE(invalid.broken);
    CHECK(invalid.error == "HTTP 400: " + body);
  }

  for (const auto& status_and_body : std::vector<std::pair<int, std::string>>{
           {429, "rate_limited"}, {500, "rollup_error"}, {503, ""}, {408, ""}}) {
    const int status = status_and_body.first;
    const std::string& body = status_and_body.second;
    CAPTURE(status);
    const receiver_verdict later = warden::sink::slack_answer(answer(status, body));
    CHECK_FALSE(later.ok);
    CHECK_FALSE(later.permanent);
    CHECK_FALSE(later.broken);
    CHECK(contains(later.error, std::to_string(status)));
  }
  CHECK(warden::sink::slack_answer(answer(503, "")).error == "HTTP 503 (empty body)");

  http_response refused;
  refused.error = "Connection refused";
  const receiver_verdict none = warden::sink::slack_answer(refused);
  CHECK_FALSE(none.ok);
  CHECK_FALSE(none.permanent);
  CHECK(none.error == "no answer from Slack: Connection refused");
}

TEST_CASE("pagerduty dedup key is the issue's, whatever its counts") {
  const ticket_snapshot issue = receiver_snapshot();
  CHECK(warden::sink::pagerduty_dedup_key(issue) == "warden:team-payments:am:c6110dd6075a4fcb");
  ticket_snapshot later = issue;
  later.event_count = 99999;
  later.level = "error";
  later.title = "Renamed";
  later.last_seen_ms += 3600000;
  CHECK(warden::sink::pagerduty_dedup_key(later) == warden::sink::pagerduty_dedup_key(issue));
  ticket_snapshot other = issue;
  other.incident_key = "wd:1:00ff00ff00ff00ff";
  CHECK(warden::sink::pagerduty_dedup_key(other) == "warden:team-payments:wd:1:00ff00ff00ff00ff");

  ticket_snapshot long_team = issue;
  long_team.team.clear();
  for (int i = 0; i < 200; ++i) long_team.team += "\xC3\xA9";
  const std::string key = warden::sink::pagerduty_dedup_key(long_team);
  CHECK(key.size() <= warden::sink::kPagerdutyMaxDedupKeyBytes);
  CHECK(key.size() >= warden::sink::kPagerdutyMaxDedupKeyBytes - 1);
  CHECK(valid_utf8(key));
  CHECK(key.rfind("warden:\xC3\xA9", 0) == 0);
  CHECK(key.substr(key.size() - 20) == ":am:c6110dd6075a4fcb");
}

TEST_CASE("pagerduty trigger matches the fixture where a snapshot can reproduce it") {
  auto request = warden::sink::pagerduty_trigger(pagerduty_config(), pagerduty_fixture_issue());
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  CHECK(request->method == "POST");
  CHECK(request->url == "https://events.pagerduty.com/v2/enqueue");
  CHECK(header(*request, "Content-Type") == "application/json");
  CHECK_FALSE(has_header(*request, "Authorization"));

  const rapidjson::Document actual = parse(request->body);
  const rapidjson::Document expected = parse(read_fixture("pagerduty_trigger.json"));
  check_same_json(actual["routing_key"], expected["routing_key"]);
  check_same_json(actual["event_action"], expected["event_action"]);
  // The fixture's keys start "sink:", Warden's "warden:"; the rest is the same.
  CHECK(str(expected["dedup_key"]).rfind("sink:", 0) == 0);
  CHECK(str(actual["dedup_key"]) == "warden:" + str(expected["dedup_key"]).substr(5));

  const rapidjson::Value& payload = actual["payload"];
  for (const auto& member : expected["payload"].GetObject()) {
    const std::string name = member.name.GetString();
    CAPTURE(name);
    REQUIRE(payload.HasMember(name.c_str()));
    if (name == "custom_details") continue;
    check_same_json(payload[name.c_str()], member.value);
  }
  // custom_details: the fixture's, plus release, environment and the issue in Warden.
  const rapidjson::Value& details = payload["custom_details"];
  for (const auto& member : expected["payload"]["custom_details"].GetObject()) {
    const std::string name = member.name.GetString();
    CAPTURE(name);
    REQUIRE(details.HasMember(name.c_str()));
    check_same_json(details[name.c_str()], member.value);
  }
  CHECK(str(details["release"]) == "shop@1.4.3");
  CHECK(str(details["environment"]) == "prod");
  CHECK(str(details["warden_issue"]) == "https://warden.example.internal/api/0/issues/42");
  CHECK(details.MemberCount() == expected["payload"]["custom_details"].MemberCount() + 3);
  CHECK(payload.MemberCount() == expected["payload"].MemberCount());

  // The fixture's client is "incident-sink"; its link a runbook, which Warden does not
  // know: Warden links the ticket and the issue.
  CHECK(str(actual["client"]) == "warden-sink");
  check_same_json(actual["client_url"], expected["client_url"]);
  const rapidjson::Document links = parse(
      R"([{"href":"https://youtrack.example.internal/issue/OPS-1532","text":"OPS-1532"},)"
      R"({"href":"https://warden.example.internal/api/0/issues/42","text":"Warden issue 42"}])");
  check_same_json(actual["links"], links);
}

TEST_CASE("pagerduty trigger: severity by level, the source template, missing values") {
  pagerduty_receiver receiver = pagerduty_config();
  const auto severity_of = [&](const std::string& level) {
    notified_issue issue = pagerduty_fixture_issue();
    issue.issue.level = level;
    return str(trigger_body(receiver, issue)["payload"]["severity"]);
  };
  CHECK(severity_of("fatal") == "critical");
  CHECK(severity_of("error") == "error");
  CHECK(severity_of("warning") == "warning");
  CHECK(severity_of("info") == "info");
  CHECK(severity_of("debug") == "info");
  CHECK(severity_of("nonsense") == "error");
  receiver.severity = {"info", "info", "info", "critical", "critical"};
  CHECK(severity_of("error") == "critical");
  CHECK(severity_of("warning") == "info");

  receiver.severity[4] = "urgent";
  auto invalid = warden::sink::pagerduty_trigger(receiver, pagerduty_fixture_issue());
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(contains(message_of(invalid.status()), "\"urgent\" for level fatal"));

  receiver = pagerduty_config();
  receiver.source = "{product}.{environment}";  // the default
  notified_issue issue = pagerduty_fixture_issue();
  CHECK(str(trigger_body(receiver, issue)["payload"]["source"]) == "checkout.prod");
  issue.issue.product.clear();
  CHECK(str(trigger_body(receiver, issue)["payload"]["source"]) == "prod");
  issue.issue.environment.clear();
  CHECK(str(trigger_body(receiver, issue)["payload"]["source"]) == "warden");
  receiver.source = "{service}";
  auto bad_template = warden::sink::pagerduty_trigger(receiver, issue);
  REQUIRE_FALSE(bad_template.ok());
  CHECK(contains(message_of(bad_template.status()), "unknown variable {service}"));

  // No ticket, a culprit, no owner, no first seen: the issue in Warden is the client URL
  // and the only link, the culprit is the class, and what is unknown is left out.
  notified_issue bare = pagerduty_fixture_issue();
  bare.ticket_key.clear();
  bare.ticket_url.clear();
  bare.issue.culprit = "checkout.api.charge";
  bare.issue.team.clear();
  bare.issue.function.clear();
  bare.issue.product.clear();
  bare.issue.first_seen_ms = 0;
  const rapidjson::Document body = trigger_body(pagerduty_config(), bare);
  CHECK(str(body["dedup_key"]) == "warden::am:c6110dd6075a4fcb");
  CHECK(str(body["payload"]["summary"]) == "High error rate");
  CHECK(str(body["payload"]["class"]) == "checkout.api.charge");
  CHECK(str(body["payload"]["source"]) == "api.prod");
  for (const char* absent : {"timestamp", "component", "group"}) {
    CAPTURE(absent);
    CHECK_FALSE(body["payload"].HasMember(absent));
  }
  for (const char* absent : {"function", "tracker_issue", "first_seen"}) {
    CAPTURE(absent);
    CHECK_FALSE(body["payload"]["custom_details"].HasMember(absent));
  }
  CHECK(str(body["client_url"]) == "https://warden.example.internal/api/0/issues/42");
  REQUIRE(body["links"].Size() == 1);
  CHECK(str(body["links"][0]["text"]) == "Warden issue 42");

  // A long title: the summary stays within PagerDuty's 1024 characters.
  notified_issue long_title = pagerduty_fixture_issue();
  long_title.issue.title = std::string(3000, 'x');
  CHECK(str(trigger_body(pagerduty_config(), long_title)["payload"]["summary"]).size() <= 1024);
}

TEST_CASE("pagerduty resolve is exactly the fixture") {
  const std::string fixture = read_fixture("pagerduty_resolve.json");
  const rapidjson::Document expected = parse(fixture);
  const http_request request =
      warden::sink::pagerduty_resolve(pagerduty_config(), str(expected["dedup_key"]));
  CHECK(request.method == "POST");
  CHECK(request.url == "https://events.pagerduty.com/v2/enqueue");
  CHECK(header(request, "Content-Type") == "application/json");
  check_same_json(parse(request.body), expected);
  CHECK(request.body == serialize(expected));  // the fixture's members, in its order

  pagerduty_receiver eu = pagerduty_config();
  eu.url = "https://events.eu.pagerduty.com/v2/enqueue";
  CHECK(warden::sink::pagerduty_resolve(eu, "k").url == eu.url);
}

TEST_CASE("pagerduty answers on the fixtures") {
  const receiver_verdict accepted =
      warden::sink::pagerduty_answer(answer(202, read_fixture("pagerduty_response_202.json")));
  CHECK(accepted.ok);
  CHECK_FALSE(accepted.permanent);
  CHECK(accepted.error.empty());

  const receiver_verdict invalid =
      warden::sink::pagerduty_answer(answer(400, read_fixture("pagerduty_response_400.json")));
  CHECK_FALSE(invalid.ok);
  CHECK(invalid.permanent);
  CHECK_FALSE(invalid.broken);
  CHECK(invalid.error ==
        "HTTP 400 invalid event: Event object is invalid; 'payload.severity' is invalid (must "
        "be one of: critical, error, warning, info)");
  const receiver_verdict not_json = warden::sink::pagerduty_answer(answer(400, "bad\nrequest"));
  CHECK(not_json.permanent);
  CHECK(not_json.error == "HTTP 400: bad request");

  // The rest is the retry policy's: 429 and 5xx are retried, other 4xx fail there.
  for (const int status : {429, 500, 502, 503, 404, 413}) {
    CAPTURE(status);
    const receiver_verdict later = warden::sink::pagerduty_answer(answer(
        status,
        R"({"status":"throttle event","message":"Requests for this service are arriving too quickly"})"));
    CHECK_FALSE(later.ok);
    CHECK_FALSE(later.permanent);
    CHECK(contains(later.error, "HTTP " + std::to_string(status) + " throttle event"));
  }
  http_response timed_out;
  timed_out.error = "Timeout was reached";
  timed_out.request_sent = true;
  const receiver_verdict none = warden::sink::pagerduty_answer(timed_out);
  CHECK_FALSE(none.ok);
  CHECK_FALSE(none.permanent);
  CHECK(none.error == "no answer from PagerDuty: Timeout was reached");
}

TEST_CASE("webhook event carries the group and is signed over its exact body") {
  notification message = group_of({slack_fixture_issue()});
  message.receiver = "ops-hook";
  auto request =
      warden::sink::webhook_event(webhook_config(), message, kWebhookMessageId, kWebhookTimestamp);
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  CHECK(request->method == "POST");
  CHECK(request->url == "https://hooks.example.internal/warden");
  CHECK(header(*request, "Content-Type") == "application/json");
  CHECK(header(*request, "webhook-id") == kWebhookMessageId);
  CHECK(header(*request, "Idempotency-Key") == kWebhookMessageId);
  CHECK(header(*request, "webhook-timestamp") == "1614265330");

  // The receiver's check: the signature over "<id>.<timestamp>.<body>" with the shared
  // secret (whose HMAC the spec's test vector pins in the signing test).
  const std::string signature = header(*request, "webhook-signature");
  CHECK(signature.rfind("v1,", 0) == 0);
  CHECK(signature == *warden::sink::standard_webhook_signature(
                         {secret(std::string(kWebhookSecret))}, kWebhookMessageId,
                         kWebhookTimestamp, request->body));
  std::string tampered = request->body;
  tampered.replace(tampered.find("fatal"), 5, "error");
  CHECK(signature !=
        *warden::sink::standard_webhook_signature({secret(std::string(kWebhookSecret))},
                                                  kWebhookMessageId, kWebhookTimestamp, tampered));

  const rapidjson::Document expected = parse(R"({
    "type": "issue.alert",
    "timestamp": "2021-02-25T15:02:10Z",
    "data": {
      "receiver": "ops-hook",
      "group_key": "{}/{team=\"team-payments\"}:{issue=\"42\"}",
      "labels": {"team": "team-payments", "issue": "42"},
      "link": "https://warden.example.internal/api/0/issues?team=team-payments&status=unresolved",
      "issues": [{
        "id": 42,
        "title": "High error rate",
        "culprit": "5xx ratio 7.4% over 5m on checkout-api",
        "owner": {"team": "team-payments", "function": "backend", "product": "checkout"},
        "level": "fatal",
        "environment": "production",
        "counts": {"events": 1234, "users": 56},
        "first_seen": "2025-03-14T09:12:41Z",
        "last_seen": "2025-03-14T09:27:03Z",
        "incident_key": "am:c6110dd6075a4fcb",
        "ticket": {"key": "OPS-1532", "url": "https://youtrack.example.internal/issue/OPS-1532"},
        "rule": "prod-errors",
        "reason": "first_seen",
        "link": "https://warden.example.internal/api/0/issues/42"
      }]
    }
  })");
  check_same_json(parse(request->body), expected);

  // Resolved, without a ticket, signed with two secrets during a rotation.
  notified_issue no_ticket = slack_fixture_issue();
  no_ticket.ticket_key.clear();
  no_ticket.ticket_url.clear();
  no_ticket.reason = "resolved";
  no_ticket.issue.first_seen_ms = 0;
  message.issues = {no_ticket};
  message.resolved = true;
  webhook_receiver rotating = webhook_config();
  rotating.secrets.push_back(secret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
  auto resolved = warden::sink::webhook_event(rotating, message, "webhook:ops-hook:7:2", 1);
  REQUIRE(resolved.ok());
  const rapidjson::Document body = parse(resolved->body);
  CHECK(str(body["type"]) == "issue.resolved");
  CHECK(str(body["timestamp"]) == "1970-01-01T00:00:01Z");
  CHECK(body["data"]["issues"][0]["ticket"].IsNull());
  CHECK(body["data"]["issues"][0]["first_seen"].IsNull());
  CHECK(str(body["data"]["issues"][0]["reason"]) == "resolved");
  const std::string two = header(*resolved, "webhook-signature");
  CHECK(occurrences(two, "v1,") == 2);
  CHECK(two == *warden::sink::standard_webhook_signature(rotating.secrets, "webhook:ops-hook:7:2",
                                                         1, resolved->body));

  webhook_receiver unsigned_receiver = webhook_config();
  unsigned_receiver.secrets.clear();
  auto refused = warden::sink::webhook_event(unsigned_receiver, message, "id", 1);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("receiver secrets appear only where they must") {
  // Slack: the webhook URL is the request's URL, nowhere else.
  const notification message = group_of(many_issues(3));
  for (const http_request& request : {warden::sink::slack_message(slack_config(), message),
                                      warden::sink::slack_summary(slack_config(), {message})}) {
    CHECK(request.url == kSlackWebhookUrl);
    CHECK_FALSE(contains(request.body, kSlackWebhookSecretPart));
    CHECK_FALSE(contains(request.body, "hooks.slack.com"));
    for (const auto& name_and_value : request.headers) {
      const std::string& name = name_and_value.first;
      const std::string& value = name_and_value.second;
      CAPTURE(name);
      CHECK_FALSE(contains(value, kSlackWebhookSecretPart));
    }
  }

  // PagerDuty: the routing key once, as the body's routing_key.
  auto trigger = warden::sink::pagerduty_trigger(pagerduty_config(), pagerduty_fixture_issue());
  REQUIRE(trigger.ok());
  for (const http_request& request :
       {*trigger, warden::sink::pagerduty_resolve(pagerduty_config(), "warden:t:wd:1:00ff")}) {
    CHECK_FALSE(contains(request.url, kRoutingKey));
    for (const auto& name_and_value : request.headers) {
      const std::string& name = name_and_value.first;
      const std::string& value = name_and_value.second;
      CAPTURE(name);
      CHECK_FALSE(contains(value, kRoutingKey));
    }
    CHECK(occurrences(request.body, kRoutingKey) == 1);
    CHECK(str(parse(request.body)["routing_key"]) == kRoutingKey);
  }
  pagerduty_receiver bad = pagerduty_config();
  bad.severity = {"x", "x", "x", "x", "x"};
  CHECK_FALSE(
      contains(message_of(warden::sink::pagerduty_trigger(bad, pagerduty_fixture_issue()).status()),
               kRoutingKey));

  // Webhooks: the signing secret nowhere.
  auto event = warden::sink::webhook_event(webhook_config(), message, "id-1", 1);
  REQUIRE(event.ok());
  const std::string_view key = kWebhookSecret.substr(6);  // without "whsec_"
  CHECK_FALSE(contains(event->url, key));
  CHECK_FALSE(contains(event->body, key));
  for (const auto& name_and_value : event->headers) {
    const std::string& name = name_and_value.first;
    const std::string& value = name_and_value.second;
    CAPTURE(name);
    CHECK_FALSE(contains(value, key));
  }
}

TEST_CASE("youtrack workflow reports become ticket changes") {
  using warden::sink::ticket_change;
  auto resolved = warden::sink::parse_youtrack_hook(
      R"({"idReadable":"OPS-12","resolved":true,"state":"Fixed","updatedBy":"jdoe"})");
  REQUIRE(resolved.ok());
  CHECK(resolved->what == ticket_change::kind::resolved);
  CHECK(resolved->ticket == "OPS-12");
  CHECK(resolved->actor == "youtrack:jdoe");
  CHECK(resolved->event == "youtrack.resolved (Fixed)");
  auto reopened = warden::sink::parse_youtrack_hook(R"({"idReadable":"OPS-12","resolved":false})");
  REQUIRE(reopened.ok());
  CHECK(reopened->what == ticket_change::kind::reopened);
  CHECK(reopened->actor.empty());
  for (const char* bad : {"", "[]", "{\"idReadable\":\"OPS-1\"}", "{\"resolved\":true}",
                          "{\"idReadable\":\"OPS-1\",\"resolved\":\"yes\"}",
                          "{\"idReadable\":\"\xff\",\"resolved\":true}"}) {
    CAPTURE(bad);
    CHECK(warden::sink::parse_youtrack_hook(bad).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("github issues events become ticket changes, other events are ignored") {
  using warden::sink::ticket_change;
  const auto delivery = [](const std::string& action, const std::string& reason) {
    return R"({"action":")" + action + R"(","issue":{"number":7,"state_reason":)" + reason +
           R"(},"repository":{"full_name":"acme/shop"},"sender":{"login":"octocat"}})";
  };
  auto closed =
      warden::sink::parse_github_hook("issues", delivery("closed", "\"completed\""), false);
  REQUIRE(closed.ok());
  CHECK(closed->what == ticket_change::kind::resolved);
  CHECK(closed->ticket == "acme/shop#7");
  CHECK(closed->actor == "github:octocat");
  CHECK(closed->event == "issues.closed");
  auto reopened = warden::sink::parse_github_hook("issues", delivery("reopened", "null"), false);
  REQUIRE(reopened.ok());
  CHECK(reopened->what == ticket_change::kind::reopened);
  // Closed as not planned resolves only when configured so.
  const std::string not_planned = delivery("closed", "\"not_planned\"");
  CHECK(warden::sink::parse_github_hook("issues", not_planned, false)->what ==
        ticket_change::kind::ignored);
  CHECK(warden::sink::parse_github_hook("issues", not_planned, true)->what ==
        ticket_change::kind::resolved);
  auto labeled = warden::sink::parse_github_hook("issues", delivery("labeled", "null"), false);
  REQUIRE(labeled.ok());
  CHECK(labeled->what == ticket_change::kind::ignored);
  CHECK(labeled->note.find("labeled") != std::string::npos);
  auto ping =
      warden::sink::parse_github_hook("ping", R"({"zen":"Keep it logically awesome."})", false);
  REQUIRE(ping.ok());
  CHECK(ping->what == ticket_change::kind::ignored);
  CHECK(ping->event == "ping");
  CHECK(!warden::sink::parse_github_hook("issues", R"({"action":"closed"})", false).ok());
  CHECK(!warden::sink::parse_github_hook("issues", "not json", false).ok());
}

// The targets' pure parts against the protocol fixtures (tests/fixtures/webhooks/outbound):
// YouTrack request builders reproduce the fixtures as JSON documents, parsers read the
// fixture answers; the ticket's text (templates, summary, description, comments); the
// Standard Webhooks test vector and GitHub's signature check.
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
#include "targets/signing.hpp"
#include "targets/ticket_text.hpp"
#include "targets/youtrack.hpp"

namespace {

using warden::sink::created_ticket;
using warden::sink::custom_field_config;
using warden::sink::http_request;
using warden::sink::http_response;
using warden::sink::secret;
using warden::sink::template_values;
using warden::sink::ticket_snapshot;
using warden::sink::youtrack_config;

constexpr std::string_view kToken = "perm:cm9vdA==.d2FyZGVu.T0k3nV4lu3";

std::string read_fixture(const std::string& name) {
  std::ifstream file(std::string(WARDEN_WEBHOOK_FIXTURES) + "/outbound/" + name, std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "fixture " << name << " is missing");
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  REQUIRE_MESSAGE(!document.HasParseError(), "not JSON: " << json);
  return document;
}

std::string serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// Compares two JSON documents as values (member order ignored, array order kept) and
// shows both when they differ.
void check_same_json(const rapidjson::Value& actual, const rapidjson::Value& expected) {
  CHECK_MESSAGE(actual == expected,
                "actual:   " << serialize(actual) << "\nexpected: " << serialize(expected));
}

std::string header(const http_request& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return {};
}

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

// The issue of the fixtures: [team-payments][backend][checkout] High error rate.
ticket_snapshot fixture_snapshot() {
  ticket_snapshot snapshot;
  snapshot.issue_id = 42;
  snapshot.incident_key = "am:c6110dd6075a4fcb";
  snapshot.title = "High error rate";
  snapshot.culprit = "checkout.api.charge";
  snapshot.team = "team-payments";
  snapshot.function = "backend";
  snapshot.product = "checkout";
  snapshot.owner_source = "rules";
  snapshot.level = "fatal";
  snapshot.environment = "production";
  snapshot.first_release = "shop@1.4.2";
  snapshot.last_release = "shop@1.4.3";
  snapshot.event_count = 1234;
  snapshot.user_count = 56;
  snapshot.first_seen_ms = 1741943561000;  // 2025-03-14T09:12:41Z
  snapshot.last_seen_ms = 1741944423000;   // 2025-03-14T09:27:03Z
  snapshot.frames = {"charge_card at checkout/api/charge.py:88",
                     "authorize at checkout/payments/gateway.py:41"};
  snapshot.rule = "prod-errors";
  snapshot.reason = "first_seen";
  snapshot.link = "https://warden.example.internal/api/0/issues/42";
  return snapshot;
}

template_values fixture_values() {
  return warden::sink::ticket_template_values(fixture_snapshot(), fixture_config().priority, "OPS");
}

http_request fixture_create() {
  auto request = warden::sink::youtrack_create_issue(fixture_config(), "0-12", kOwnerFields,
                                                     fixture_snapshot(), fixture_values());
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
  auto request =
      warden::sink::youtrack_create_issue(config, "0-12", kOwnerFields, snapshot, values);
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
  auto multi = warden::sink::youtrack_create_issue(config, "0-12", {}, snapshot, values);
  REQUIRE(multi.ok());
  check_same_json(parse(multi->body)["customFields"],
                  parse(R"([{"name": "Tags", "$type": "MultiEnumIssueCustomField",
                             "value": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}])"));
}

TEST_CASE("youtrack create refuses unknown field types and bad templates") {
  youtrack_config config = fixture_config();
  config.fields = {{"Priority", "enumeration", "Critical"}};
  auto unknown_type =
      warden::sink::youtrack_create_issue(config, "0-12", {}, fixture_snapshot(), fixture_values());
  REQUIRE(!unknown_type.ok());
  CHECK(unknown_type.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(contains(message_of(unknown_type.status()), "\"Priority\" has the unknown type"));

  config.fields = {{"Priority", "enum", "{prio}"}};
  auto bad_template =
      warden::sink::youtrack_create_issue(config, "0-12", {}, fixture_snapshot(), fixture_values());
  REQUIRE(!bad_template.ok());
  CHECK(contains(message_of(bad_template.status()), "unknown variable {prio}"));
}

TEST_CASE("youtrack requests carry the token in the header only") {
  const youtrack_config config = fixture_config();
  const ticket_snapshot snapshot = fixture_snapshot();
  const std::vector<http_request> requests{
      warden::sink::youtrack_project_lookup(config, "OPS"),
      fixture_create(),
      warden::sink::youtrack_search_issue(config, "OPS", snapshot),
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
  const http_request request = warden::sink::youtrack_search_issue(config, "OPS", snapshot);
  CHECK(request.method == "GET");
  // project: OPS {Incident key}: {am:c6110dd6075a4fcb}
  CHECK(request.url ==
        "https://youtrack.example.internal/api/issues?query="
        "project%3A%20OPS%20%7BIncident%20key%7D%3A%20%7Bam%3Ac6110dd6075a4fcb%7D"
        "&fields=id,idReadable,summary,resolved,customFields(name,value)&$top=2");

  auto none = warden::sink::parse_youtrack_search(config, "[]", snapshot);
  REQUIRE(none.ok());
  CHECK(!none->has_value());

  // The key is checked when the answer lists the custom fields.
  auto found = warden::sink::parse_youtrack_search(config, R"([
    {"id": "2-1", "idReadable": "OPS-1", "summary": "x", "resolved": null,
     "customFields": [{"name": "Incident key", "value": "am:c6110dd6075a4fcbXX"}]},
    {"id": "2-4711", "idReadable": "OPS-1532", "summary": "x", "resolved": 1741944423000,
     "customFields": [{"name": "Priority", "value": {"name": "Critical"}},
                      {"name": "Incident key", "value": "am:c6110dd6075a4fcb"}]}])",
                                                   snapshot);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "2-4711");
  CHECK((*found)->key == "OPS-1532");
  CHECK((*found)->url == "https://youtrack.example.internal/issue/OPS-1532");

  // Without custom fields in the answer, the exact query is trusted.
  auto trusted = warden::sink::parse_youtrack_search(
      config, R"([{"id": "2-9", "idReadable": "OPS-9", "summary": "x"}])", snapshot);
  REQUIRE(trusted.ok());
  REQUIRE(trusted->has_value());
  CHECK((*trusted)->key == "OPS-9");

  auto other_key = warden::sink::parse_youtrack_search(config, R"([
    {"id": "2-1", "idReadable": "OPS-1",
     "customFields": [{"name": "Incident key", "value": "am:0000000000000000"}]}])",
                                                       snapshot);
  REQUIRE(other_key.ok());
  CHECK(!other_key->has_value());

  CHECK(!warden::sink::parse_youtrack_search(config, R"({"error":"x"})", snapshot).ok());
  CHECK(!warden::sink::parse_youtrack_search(config, "not json", snapshot).ok());
}

TEST_CASE("youtrack reconcile search by summary without an incident key field") {
  youtrack_config config = fixture_config();
  config.incident_key_field.clear();
  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.title = "Card \"declined\" & retried";
  const http_request request = warden::sink::youtrack_search_issue(config, "OPS", snapshot);
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
                                                   snapshot);
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

// The GitHub, Jira Cloud and webhook trackers (tracker.hpp's interface): each request's
// method, URL, headers and JSON body (against the protocol fixtures where they apply),
// the readers of their answers, malformed ones included, the reconcile searches and
// their matching rules, the follow-up requests of resolve, reopen and comment, error
// lines for the delivery log, secrets only where they must be, and the Markdown to ADF
// conversion of real ticket text. Then each tracker's requests sent with a real HTTP
// client to its fake (tests/support/fake_github.hpp, fake_jira.hpp, a recording server
// for the webhook), proving that the fakes and the adapters agree.
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../support/fake_github.hpp"
#include "../support/fake_jira.hpp"
#include "../support/recording_server.hpp"
#include "absl/status/status.h"
#include "server/alerting_config.hpp"
#include "target_fixtures.hpp"
#include "targets/detail/adf.hpp"
#include "targets/github.hpp"
#include "targets/jira.hpp"
#include "targets/signing.hpp"
#include "targets/ticket_text.hpp"
#include "targets/tracker.hpp"
#include "targets/webhook_tracker.hpp"

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
using warden::sink::ticket_content;
using warden::sink::ticket_snapshot;
using warden::sink::tracker_api;
using warden::sink::tracker_call;

constexpr std::string_view kGitHubToken = "ghp_S3cr3tT0kenV4lu3";
constexpr std::string_view kJiraToken = "ATATT3xFfGF0-jira-t0ken";
constexpr std::string_view kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kIncidentKey = "am:c6110dd6075a4fcb";

const tracker_call kCall{"ticket:42", 1614265330};  // 2021-02-25T15:02:10Z

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Abseil's string_view is not std::string_view in Debian's build.
std::string message_of(const absl::Status& status) { return std::string(status.message()); }

// `secret_value` appears in no request's URL or body, nor in any header but `allowed`.
void check_secret_only_in(const std::vector<http_request>& requests, std::string_view secret_value,
                          std::string_view allowed) {
  for (const http_request& request : requests) {
    CHECK_FALSE(contains(request.url, secret_value));
    CHECK_FALSE(contains(request.body, secret_value));
    for (const auto& [name, value] : request.headers) {
      if (name != allowed) CHECK_FALSE(contains(value, secret_value));
    }
  }
}

// The content of the fixtures' tickets: one sentence of description.
ticket_content fixture_content() {
  return {"[team-payments][backend][checkout] High error rate",
          "5xx ratio 7.4% over 5m on checkout-api.", std::string(kIncidentKey)};
}

template_values values_for(const std::vector<std::string>& priorities) {
  return warden::sink::ticket_template_values(fixture_snapshot(), priorities, "OPS");
}

// Sends `request` with a real HTTP client, as the delivery worker would.
http_response send_request(const http_request& request) {
  const std::size_t path_start = request.url.find('/', request.url.find("//") + 2);
  httplib::Client client(request.url.substr(0, path_start));
  client.set_url_encode(false);  // the builders encoded it
  httplib::Request out;
  out.method = request.method;
  out.path = request.url.substr(path_start);
  for (const auto& [name, value] : request.headers) out.headers.emplace(name, value);
  out.body = request.body;
  const httplib::Result result = client.send(out);
  http_response response;
  if (!result) {
    response.error = httplib::to_string(result.error());
    return response;
  }
  response.status = result->status;
  response.body = result->body;
  for (const auto& [name, value] : result->headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    response.headers.emplace_back(lower, value);
  }
  return response;
}

http_response answer(int status, std::string body) {
  http_response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace

// ---- GitHub ----

namespace {

warden::sink::github_config github_config(std::string url = "https://api.github.com") {
  warden::sink::github_config config;
  config.url = std::move(url);
  config.token = secret(std::string(kGitHubToken));
  config.labels = {"incident", "sev:{severity}"};
  return config;
}

// The fixture's owner: its team and product labels and its assignee.
const std::vector<custom_field_config> kGitHubOwner{{"Team", "label", "team:payments"},
                                                    {"Product", "label", "product:{product}"},
                                                    {"Assignee", "assignee", "payments-oncall"}};

http_request github_create(const std::vector<custom_field_config>& owner = kGitHubOwner,
                           const ticket_content& content = fixture_content()) {
  auto request = warden::sink::github_tracker_api(github_config())
                     ->create_ticket(kCall, "acme/shop", owner, content, values_for({}));
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  return *request;
}

// An issue as GitHub answers it (create, search item).
std::string github_issue(int number, const std::string& body,
                         const std::string& repo = "acme/shop") {
  rapidjson::Document issue(rapidjson::kObjectType);
  auto& allocator = issue.GetAllocator();
  issue.AddMember("number", number, allocator);
  issue.AddMember(
      "html_url",
      rapidjson::Value("https://github.com/" + repo + "/issues/" + std::to_string(number),
                       allocator),
      allocator);
  issue.AddMember("repository_url",
                  rapidjson::Value("https://api.github.com/repos/" + repo, allocator), allocator);
  issue.AddMember("state", "open", allocator);
  issue.AddMember("body", rapidjson::Value(body, allocator), allocator);
  return serialize(issue);
}

const created_ticket kGitHubTicket{"1532", "acme/shop#1532",
                                   "https://github.com/acme/shop/issues/1532"};

}  // namespace

TEST_CASE("github create reproduces the fixture with the incident key marker") {
  const http_request request = github_create();
  CHECK(request.method == "POST");
  CHECK(request.url == "https://api.github.com/repos/acme/shop/issues");
  CHECK(request.headers == std::vector<std::pair<std::string, std::string>>{
                               {"Authorization", "Bearer " + std::string(kGitHubToken)},
                               {"Accept", "application/vnd.github+json"},
                               {"X-GitHub-Api-Version", "2022-11-28"},
                               {"User-Agent", "warden-sink"},
                               {"Content-Type", "application/json"}});
  // The fixture's marker is an early draft's "incident-key"; Warden's is namespaced.
  std::string expected = read_fixture("github_create_issue_request.json");
  expected.replace(expected.find("<!-- incident-key:"), 18, "<!-- warden-incident-key:");
  check_same_json(request.body, expected);
  CHECK(parse(request.body)["body"].GetString() ==
        std::string("5xx ratio 7.4% over 5m on checkout-api.\n\n"
                    "<!-- warden-incident-key: am:c6110dd6075a4fcb -->"));
}

TEST_CASE("github labels, assignees and milestone come from the config and the owner") {
  const http_request request =
      github_create({{"Team", "label", "team:{team}"},
                     {"Again", "label", "incident"},            // a duplicate: once
                     {"Function", "label", "{culprit}{rule}"},  // expands
                     {"Nothing", "label", "{release}{{}}"},     // braces: kept
                     {"Owners", "assignee", " alice, bob,,alice "},
                     {"Milestone", "milestone", "12"}});
  check_same_json(request.body, R"({
    "title": "[team-payments][backend][checkout] High error rate",
    "body": "5xx ratio 7.4% over 5m on checkout-api.\n\n<!-- warden-incident-key: am:c6110dd6075a4fcb -->",
    "labels": ["incident", "sev:critical", "team:team-payments",
               "checkout.api.chargeprod-errors", "shop@1.4.3{}"],
    "assignees": ["alice", "bob"],
    "milestone": 12})");

  // Empty expansions are left out, and so are empty lists and a milestone.
  warden::sink::github_config bare = github_config();
  bare.labels = {"{product}"};
  template_values values = values_for({});
  values.product.clear();
  auto request_without = warden::sink::github_tracker_api(bare)->create_ticket(
      kCall, "acme/shop", {{"Milestone", "milestone", "{product}"}}, fixture_content(), values);
  REQUIRE(request_without.ok());
  const rapidjson::Document without = parse(request_without->body);
  CHECK_FALSE(without.HasMember("labels"));
  CHECK_FALSE(without.HasMember("assignees"));
  CHECK_FALSE(without.HasMember("milestone"));
}

TEST_CASE("github create refuses bad milestones, unknown field types, bad templates and repos") {
  const auto api = warden::sink::github_tracker_api(github_config());
  const auto create = [&](std::vector<custom_field_config> owner, std::string_view project) {
    return api->create_ticket(kCall, project, owner, fixture_content(), values_for({}));
  };
  auto milestone = create({{"Milestone", "milestone", "v1.2"}}, "acme/shop");
  CHECK(milestone.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(contains(message_of(milestone.status()), "\"v1.2\" is not a number"));
  CHECK(create({{"Milestone", "milestone", "-3"}}, "acme/shop").status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto unknown = create({{"Priority", "enum", "P1"}}, "acme/shop");
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(contains(message_of(unknown.status()), "label, assignee, milestone"));
  CHECK(create({{"Team", "label", "{nope}"}}, "acme/shop").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(create({}, "shop").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(create({}, "acme/shop/x").status().code() == absl::StatusCode::kInvalidArgument);

  warden::sink::github_config bad_label = github_config();
  bad_label.labels = {"team:{team"};
  CHECK(warden::sink::github_tracker_api(bad_label)
            ->create_ticket(kCall, "acme/shop", {}, fixture_content(), values_for({}))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("github body is cut to 65536 bytes on a character boundary and keeps the marker") {
  ticket_content content = fixture_content();
  content.description.clear();
  for (int i = 0; i < 40000; ++i) content.description += "\xC3\xA9";  // "é": 2 bytes
  const http_request request = github_create({}, content);
  const std::string body = parse(request.body)["body"].GetString();
  CHECK(body.size() <= 65536);
  CHECK(body.size() > 65000);
  const std::string marker = "\n\n<!-- warden-incident-key: am:c6110dd6075a4fcb -->";
  REQUIRE(body.size() > marker.size());
  CHECK(body.substr(body.size() - marker.size()) == marker);
  CHECK(contains(body, "\xC3\xA9\xE2\x80\xA6\n\n<!--"));  // whole characters, then "…"
}

TEST_CASE("github parses the created issue into owner/repo#number") {
  const auto api = warden::sink::github_tracker_api(github_config());
  auto ticket = api->parse_created(fixture_content(), answer(201, github_issue(1532, "x")));
  REQUIRE_MESSAGE(ticket.ok(), ticket.status().ToString());
  CHECK(ticket->id == "1532");
  CHECK(ticket->key == "acme/shop#1532");
  CHECK(ticket->url == "https://github.com/acme/shop/issues/1532");

  // GitHub Enterprise: the API root has a path.
  auto enterprise = api->parse_created(
      fixture_content(),
      answer(201, R"({"number": 7, "html_url": "https://ghe.example/acme/shop/issues/7",
                      "repository_url": "https://ghe.example/api/v3/repos/acme/shop"})"));
  REQUIRE(enterprise.ok());
  CHECK(enterprise->key == "acme/shop#7");

  for (const std::string body :
       {"<html>", "[]", R"({"number": "7", "html_url": "u", "repository_url": "x/repos/a/b"})",
        R"({"number": 7, "repository_url": "x/repos/a/b"})", R"({"number": 7, "html_url": "u"})",
        R"({"number": 7, "html_url": "u",
           "repository_url": "https://api.github.com/users/a"})"}) {
    auto bad = api->parse_created(fixture_content(), answer(201, body));
    CHECK_MESSAGE(bad.status().code() == absl::StatusCode::kInvalidArgument, body);
  }
}

TEST_CASE("github search looks for the marker in bodies and matches whole marker lines") {
  const auto api = warden::sink::github_tracker_api(github_config("https://api.github.com/"));
  CHECK_FALSE(api->project_lookup("acme/shop").has_value());
  const std::optional<http_request> search = api->search_ticket("acme/shop", fixture_content());
  REQUIRE(search.has_value());
  CHECK(search->method == "GET");
  CHECK(search->url ==
        "https://api.github.com/search/issues?q=repo%3Aacme%2Fshop%20is%3Aissue%20in%3Abody%20"
        "%22am%3Ac6110dd6075a4fcb%22");
  CHECK(search->body.empty());
  CHECK(header(*search, "Content-Type").empty());

  const std::string marker = "<!-- warden-incident-key: am:c6110dd6075a4fcb -->";
  const std::string items =
      "{\"total_count\": 4, \"items\": [" +
      github_issue(1, "Mentions am:c6110dd6075a4fcb in text only") + "," +
      github_issue(2, "Quoted: `" + marker + "` inline") + "," +
      github_issue(3, "Other\n\n<!-- warden-incident-key: am:c6110dd6075a4fcb0 -->") + "," +
      github_issue(4, "Ours\r\n\r\n" + marker + "\r\n") + "," +
      github_issue(5, "Also\n\n" + marker) + "]}";
  auto found = api->parse_search(items, fixture_content());
  REQUIRE_MESSAGE(found.ok(), found.status().ToString());
  REQUIRE(found->has_value());
  CHECK((*found)->key == "acme/shop#4");
  CHECK((*found)->id == "4");

  auto none = api->parse_search(R"({"total_count": 0, "items": []})", fixture_content());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  for (const char* bad : {"nope", "[]", R"({"total_count": 0})", R"({"items": {}})"}) {
    CHECK_MESSAGE(api->parse_search(bad, fixture_content()).status().code() ==
                      absl::StatusCode::kInvalidArgument,
                  bad);
  }
}

TEST_CASE("github resolve and reopen patch the state, then comment") {
  const auto api = warden::sink::github_tracker_api(github_config());
  const std::vector<http_request> resolve =
      api->resolve(kCall, kGitHubTicket, "Resolved in Warden by alice.");
  REQUIRE(resolve.size() == 2);
  CHECK(resolve[0].method == "PATCH");
  CHECK(resolve[0].url == "https://api.github.com/repos/acme/shop/issues/1532");
  check_same_json(resolve[0].body, R"({"state": "closed", "state_reason": "completed"})");
  CHECK(resolve[1].method == "POST");
  CHECK(resolve[1].url == "https://api.github.com/repos/acme/shop/issues/1532/comments");
  check_same_json(resolve[1].body, R"({"body": "Resolved in Warden by alice."})");

  const std::vector<http_request> quiet = api->resolve(kCall, kGitHubTicket, "");
  REQUIRE(quiet.size() == 1);
  CHECK(quiet[0].method == "PATCH");

  const std::vector<http_request> reopen = api->reopen(kCall, kGitHubTicket, "Regressed.");
  REQUIRE(reopen.size() == 2);
  check_same_json(reopen[0].body, R"({"state": "open"})");
  CHECK(reopen[0].url == resolve[0].url);
  check_same_json(reopen[1].body, R"({"body": "Regressed."})");

  const http_request comment = api->comment(kCall, kGitHubTicket, "Now **3** issues");
  CHECK(comment.url == "https://api.github.com/repos/acme/shop/issues/1532/comments");
  check_same_json(comment.body, R"({"body": "Now **3** issues"})");
  for (const http_request& request : {resolve[0], resolve[1], reopen[0], comment}) {
    CHECK(header(request, "X-GitHub-Api-Version") == "2022-11-28");
    CHECK(header(request, "Content-Type") == "application/json");
  }
  check_secret_only_in({github_create(), resolve[0], resolve[1], reopen[0], comment,
                        *api->search_ticket("acme/shop", fixture_content())},
                       kGitHubToken, "Authorization");
  CHECK(api->priorities().empty());
}

TEST_CASE("github error messages are one readable line") {
  const auto api = warden::sink::github_tracker_api(github_config());
  CHECK(api->error_message(answer(422, R"({"message": "Validation Failed",
      "errors": [{"resource": "Issue", "field": "labels", "code": "invalid"}],
      "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue"})")) ==
        "HTTP 422 Validation Failed: labels invalid");
  CHECK(api->error_message(answer(422, R"json({"message": "Validation Failed",
      "errors": [{"resource": "Issue", "code": "custom", "field": "body",
                  "message": "body is too long (maximum is 65536 characters)"}, "a string"]})json")) ==
        "HTTP 422 Validation Failed: body is too long (maximum is 65536 characters); a string");
  CHECK(api->error_message(answer(401, R"({"message": "Bad credentials"})")) ==
        "HTTP 401 Bad credentials");
  const std::string html = api->error_message(
      answer(502, "<html>\n<body>Bad gateway</body>\n</html>" + std::string(500, '.')));
  CHECK(html.rfind("HTTP 502: <html> <body>Bad gateway</body> </html>...", 0) == 0);
  CHECK(html.size() <= std::string("HTTP 502: ").size() + 200);
  CHECK(api->error_message(answer(410, "")) == "HTTP 410 (empty body)");
  http_response no_answer;
  no_answer.error = "Connection refused";
  CHECK(api->error_message(no_answer) == "no answer from GitHub: Connection refused");
}

// ---- Markdown to Atlassian Document Format ----

namespace {

std::string adf(std::string_view markdown) {
  return warden::sink::detail::markdown_to_adf(markdown);
}

// The document's content, for short comparisons.
std::string adf_content(std::string_view markdown) {
  const rapidjson::Document document = parse(adf(markdown));
  REQUIRE(std::string(document["type"].GetString()) == "doc");
  REQUIRE(document["version"].GetInt() == 1);
  return serialize(document["content"]);
}

// Every node of `node` has a type, every text node a non-empty text, code marks go with
// link marks only: what Jira checks.
void check_valid_adf(const rapidjson::Value& node) {
  REQUIRE(node.IsObject());
  REQUIRE(node.HasMember("type"));
  const std::string type = node["type"].GetString();
  if (type == "text") {
    CHECK(node["text"].GetStringLength() > 0);
    if (node.HasMember("marks")) {
      bool code = false;
      bool other = false;
      for (const rapidjson::Value& mark : node["marks"].GetArray()) {
        const std::string mark_type = mark["type"].GetString();
        code = code || mark_type == "code";
        other = other || (mark_type != "code" && mark_type != "link");
      }
      CHECK_FALSE((code && other));
    }
  }
  if (node.HasMember("content")) {
    for (const rapidjson::Value& child : node["content"].GetArray()) check_valid_adf(child);
  }
}

}  // namespace

TEST_CASE("adf of a real ticket description") {
  const std::string description = warden::sink::ticket_description(fixture_snapshot());
  const rapidjson::Document document = parse(adf(description));
  check_valid_adf(document);
  const auto marked = [](const std::string& value, const std::string& mark) {
    return R"({"type":"text","text":")" + value + R"(","marks":[{"type":")" + mark + R"("}]})";
  };
  const auto strong = [&](const std::string& value) { return marked(value, "strong"); };
  const auto code = [&](const std::string& value) { return marked(value, "code"); };
  const auto text = [](const std::string& value) {
    return R"({"type":"text","text":")" + value + R"("})";
  };
  const auto paragraph = [](const std::vector<std::string>& nodes) {
    std::string out = R"({"type":"paragraph","content":[)";
    for (std::size_t i = 0; i < nodes.size(); ++i) out += (i == 0 ? "" : ",") + nodes[i];
    return out + "]}";
  };
  const std::string hard_break = R"({"type":"hardBreak"})";
  const std::string link =
      R"({"type":"text","text":"https://warden.example.internal/api/0/issues/42",
      "marks":[{"type":"link","attrs":{"href":"https://warden.example.internal/api/0/issues/42"}}]})";
  const std::string expected =
      R"({"type":"doc","version":1,"content":[)" + paragraph({strong("High error rate")}) + "," +
      // the owner and the facts, one line each
      paragraph({strong("Owner:"),
                 text(" team-payments / backend / checkout (owner source: rules)"),
                 hard_break,
                 strong("Level:"),
                 text(" fatal"),
                 hard_break,
                 strong("Events:"),
                 text(" 1234 (users: 56)"),
                 hard_break,
                 strong("First seen:"),
                 text(" 2025-03-14T09:12:41Z"),
                 hard_break,
                 strong("Last seen:"),
                 text(" 2025-03-14T09:27:03Z"),
                 hard_break,
                 strong("First release:"),
                 text(" "),
                 code("shop@1.4.2"),
                 hard_break,
                 strong("Last release:"),
                 text(" "),
                 code("shop@1.4.3"),
                 hard_break,
                 strong("Environment:"),
                 text(" production"),
                 hard_break,
                 strong("Culprit:"),
                 text(" "),
                 code("checkout.api.charge")}) +
      "," + paragraph({strong("Innermost in-app frames (latest event):")}) + "," +
      R"({"type":"codeBlock","content":[{"type":"text",
          "text":"charge_card at checkout/api/charge.py:88\nauthorize at checkout/payments/gateway.py:41"}]},)" +
      // rule, link, key; "first\_seen" unescaped
      paragraph({strong("Rule:"), text(" prod-errors (first_seen)"), hard_break,
                 strong("In Warden:"), text(" "), link, hard_break, strong("Incident key:"),
                 text(" "), code("am:c6110dd6075a4fcb")}) +
      "]}";
  check_same_json(document, parse(expected));
}

TEST_CASE("adf of comments and digests: paragraphs, lists and links") {
  ticket_snapshot snapshot = fixture_snapshot();
  snapshot.last_release = "shop@1.4_3";
  CHECK(
      adf_content(warden::sink::regression_comment(snapshot)) ==
      R"([{"type":"paragraph","content":[{"type":"text","text":"Regressed in shop@1.4_3: seen again at 2025-03-14T09:27:03Z (1234 events, 56 users in total)."}]},)"
      R"({"type":"paragraph","content":[{"type":"text","text":"In Warden: "},)"
      R"({"type":"text","text":"https://warden.example.internal/api/0/issues/42","marks":[{"type":"link","attrs":{"href":"https://warden.example.internal/api/0/issues/42"}}]}]}])");

  const ticket_content digest = warden::sink::digest_ticket(
      "payments", "wd:1:digest",
      {{"Timeout [x]", "error", 12, "https://warden.test/api/0/issues/7"},
       {"Null *ptr*", "fatal", 3, "https://warden.test/api/0/issues/8"}});
  const rapidjson::Document document = parse(adf(digest.description));
  check_valid_adf(document);
  const rapidjson::Value& content = document["content"];
  REQUIRE(content.Size() == 3);
  CHECK(
      serialize(content[0]) ==
      R"({"type":"paragraph","content":[{"type":"text","text":"Team "},{"type":"text","text":"payments","marks":[{"type":"strong"}]},{"type":"text","text":" had more new issues in an hour than its ticket cap (escalation.tickets_per_team_per_hour); these are listed here instead of one ticket each:"}]})");
  CHECK(
      serialize(content[1]) ==
      R"({"type":"bulletList","content":[)"
      R"({"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"Timeout [x]","marks":[{"type":"link","attrs":{"href":"https://warden.test/api/0/issues/7"}}]},{"type":"text","text":" — error, 12 events"}]}]},)"
      R"({"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"Null *ptr*","marks":[{"type":"link","attrs":{"href":"https://warden.test/api/0/issues/8"}}]},{"type":"text","text":" — fatal, 3 events"}]}]}]})");
  CHECK(
      serialize(content[2]) ==
      R"({"type":"paragraph","content":[{"type":"text","text":"Incident key: "},{"type":"text","text":"wd:1:digest","marks":[{"type":"code"}]}]})");
}

TEST_CASE("adf inline details: escapes, code spans, bare URLs and what stays text") {
  CHECK(adf_content("") == "[]");
  CHECK(adf_content("\n  \n\n") == "[]");
  CHECK(adf_content(R"(a \*b\* \[c\] \\ \` d_e)") ==
        R"([{"type":"paragraph","content":[{"type":"text","text":"a *b* [c] \\ ` d_e"}]}])");
  // Code spans with backticks inside, and their padding.
  CHECK(
      adf_content("run `` a`b `` and ` `` ` now") ==
      R"([{"type":"paragraph","content":[{"type":"text","text":"run "},{"type":"text","text":"a`b","marks":[{"type":"code"}]},)"
      R"({"type":"text","text":" and "},{"type":"text","text":"``","marks":[{"type":"code"}]},{"type":"text","text":" now"}]}])");
  // Unclosed constructs stay text; "****" is no empty strong node.
  CHECK(
      adf_content("**open `tick [link](  ) <https://x y> [a](b") ==
      R"([{"type":"paragraph","content":[{"type":"text","text":"**open `tick [link](  ) <https://x y> [a](b"}]}])");
  CHECK(adf_content("a **** b") ==
        R"([{"type":"paragraph","content":[{"type":"text","text":"a **** b"}]}])");
  // A bare URL without its final punctuation, and not in the middle of a word.
  CHECK(
      adf_content("See https://x.test/a?b=1. Or xhttps://y.test") ==
      R"([{"type":"paragraph","content":[{"type":"text","text":"See "},)"
      R"({"type":"text","text":"https://x.test/a?b=1","marks":[{"type":"link","attrs":{"href":"https://x.test/a?b=1"}}]},)"
      R"({"type":"text","text":". Or xhttps://y.test"}]}])");
  // Strong around a code span: the code mark alone (ADF allows no other mark with it).
  CHECK(
      adf_content("**a `b` c**") ==
      R"([{"type":"paragraph","content":[{"type":"text","text":"a ","marks":[{"type":"strong"}]},)"
      R"({"type":"text","text":"b","marks":[{"type":"code"}]},{"type":"text","text":" c","marks":[{"type":"strong"}]}]}])");
  // Line breaks inside a paragraph, trailing spaces and a backslash break alike.
  CHECK(adf_content("one  \ntwo\\\nthree\nfour") ==
        R"([{"type":"paragraph","content":[{"type":"text","text":"one"},{"type":"hardBreak"},)"
        R"({"type":"text","text":"two"},{"type":"hardBreak"},{"type":"text","text":"three"},)"
        R"({"type":"hardBreak"},{"type":"text","text":"four"}]}])");
}

TEST_CASE("adf blocks: fences with languages, empty and unclosed ones, lists") {
  CHECK(
      adf_content("````python\nprint(\"```\")\n\n  x\n````\nafter") ==
      R"([{"type":"codeBlock","attrs":{"language":"python"},"content":[{"type":"text","text":"print(\"```\")\n\n  x"}]},)"
      R"({"type":"paragraph","content":[{"type":"text","text":"after"}]}])");
  CHECK(adf_content("```\n```") == R"([{"type":"codeBlock"}])");
  CHECK(adf_content("```\nnever closed") ==
        R"([{"type":"codeBlock","content":[{"type":"text","text":"never closed"}]}])");
  CHECK(
      adf_content("intro\n- one\n  more\n* two\n-\n\nend") ==
      R"([{"type":"paragraph","content":[{"type":"text","text":"intro"}]},)"
      R"({"type":"bulletList","content":[)"
      R"({"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one"},{"type":"hardBreak"},{"type":"text","text":"more"}]}]},)"
      R"({"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"two"}]}]},)"
      R"({"type":"listItem","content":[{"type":"paragraph","content":[]}]}]},)"
      R"({"type":"paragraph","content":[{"type":"text","text":"end"}]}])");
  CHECK(adf_content("-notalist") ==
        R"([{"type":"paragraph","content":[{"type":"text","text":"-notalist"}]}])");
}

// ---- Jira Cloud ----

namespace {

warden::sink::jira_config jira_config(std::string url = "https://example.atlassian.net") {
  warden::sink::jira_config config;
  config.url = std::move(url);
  config.email = "warden@example.com";
  config.token = secret(std::string(kJiraToken));
  config.fields = {{"priority", "name", "{priority}"},
                   {"labels", "labels", "incident, {team}"},
                   {"components", "components", "{product}"}};
  config.resolve_transition = "31";
  config.reopen_transition = "11";
  return config;
}

const created_ticket kJiraTicket{"10532", "OPS-1532",
                                 "https://example.atlassian.net/browse/OPS-1532"};

absl::StatusOr<http_request> jira_create(const warden::sink::jira_config& config,
                                         const std::vector<custom_field_config>& owner,
                                         const ticket_content& content = fixture_content()) {
  return warden::sink::jira_tracker_api(config)->create_ticket(kCall, "OPS", owner, content,
                                                               values_for(config.priority));
}

// The fields object of a create request with `owner`'s fields, as JSON.
rapidjson::Document jira_fields(const std::vector<custom_field_config>& owner,
                                std::vector<custom_field_config> tracker_fields = {}) {
  warden::sink::jira_config config = jira_config();
  config.fields = std::move(tracker_fields);
  auto request = jira_create(config, owner);
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  rapidjson::Document body = parse(request->body);
  rapidjson::Document fields;
  fields.CopyFrom(body["fields"], fields.GetAllocator());
  return fields;
}

}  // namespace

TEST_CASE("jira create reproduces the fixture, with Warden's labels") {
  auto request = jira_create(jira_config(), {});
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  CHECK(request->method == "POST");
  CHECK(request->url == "https://example.atlassian.net/rest/api/3/issue");
  CHECK(request->headers ==
        std::vector<std::pair<std::string, std::string>>{
            {"Authorization", "Basic d2FyZGVuQGV4YW1wbGUuY29tOkFUQVRUM3hGZkdGMC1qaXJhLXQwa2Vu"},
            {"Accept", "application/json"},
            {"User-Agent", "warden-sink"},
            {"Content-Type", "application/json"}});

  ticket_content content = fixture_content();
  content.description = "5xx ratio 7.4% over 5m on checkout-api. Incident key am:c6110dd6075a4fcb";
  request = jira_create(jira_config(), {}, content);
  REQUIRE(request.ok());
  // The fixture's labels are an early draft's; Warden's are its own two, then the
  // configured ones.
  rapidjson::Document expected = parse(read_fixture("jira_cloud_v3_create_issue_request.json"));
  const rapidjson::Document labels =
      parse(R"(["warden", "wd-am-c6110dd6075a4fcb", "incident", "team-payments"])");
  expected["fields"]["labels"].CopyFrom(labels, expected.GetAllocator());
  check_same_json(parse(request->body), expected);
}

TEST_CASE("jira writes each field type, owner fields replacing the tracker's") {
  const rapidjson::Document fields =
      jira_fields({{"customfield_1", "string", "{culprit}"},
                   {"customfield_2", "number", "{issue_id}"},
                   {"customfield_3", "number", "2.5"},
                   {"customfield_4", "option", "{environment}"},
                   {"customfield_5", "id", "10042"},
                   {"assignee", "user", "5b10a2844c20165700ede21g"},
                   {"customfield_6", "labels", "a, ,b,{team}"},
                   {"components", "components", "{product}, api ,"},
                   {"priority", "name", "P1"},             // replaces the tracker's
                   {"labels", "labels", "{team},warden"},  // merged, without duplicates
                   {"customfield_7", "string", "{product}{function}"},
                   {"customfield_8", "components", " , "}},
                  {{"priority", "name", "{priority}"}, {"customfield_9", "string", "kept"}});
  check_same_json(fields, parse(R"({
    "project": {"key": "OPS"},
    "issuetype": {"name": "Bug"},
    "summary": "[team-payments][backend][checkout] High error rate",
    "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph",
                    "content": [{"type": "text", "text": "5xx ratio 7.4% over 5m on checkout-api."}]}]},
    "priority": {"name": "P1"},
    "customfield_9": "kept",
    "customfield_1": "checkout.api.charge",
    "customfield_2": 42,
    "customfield_3": 2.5,
    "customfield_4": {"value": "production"},
    "customfield_5": {"id": "10042"},
    "assignee": {"accountId": "5b10a2844c20165700ede21g"},
    "customfield_6": ["a", "b", "team-payments"],
    "components": [{"name": "checkout"}, {"name": "api"}],
    "customfield_7": "checkoutbackend",
    "labels": ["warden", "wd-am-c6110dd6075a4fcb", "team-payments"]})"));

  // Empty values are left out.
  template_values values = values_for({});
  values.product.clear();
  auto empty = warden::sink::jira_tracker_api(jira_config())
                   ->create_ticket(kCall, "OPS", {{"customfield_1", "string", "{product}"}},
                                   fixture_content(), values);
  REQUIRE(empty.ok());
  const rapidjson::Document body = parse(empty->body);
  CHECK_FALSE(body["fields"].HasMember("customfield_1"));
  CHECK_FALSE(body["fields"].HasMember("components"));
  CHECK_FALSE(body["fields"].HasMember("priority"));  // no priority names: values_for({})
}

TEST_CASE("jira create refuses numbers that are none, unknown types and Warden's own fields") {
  const auto refused = [](std::vector<custom_field_config> owner) {
    auto request = jira_create(jira_config(), owner);
    CHECK(request.status().code() == absl::StatusCode::kInvalidArgument);
    return message_of(request.status());
  };
  CHECK(contains(refused({{"customfield_2", "number", "{team}"}}), "is not a number"));
  refused({{"customfield_2", "number", "nan"}});
  refused({{"customfield_2", "number", "1e999"}});
  CHECK(contains(refused({{"customfield_2", "enum", "x"}}), "string, number, option"));
  CHECK(contains(refused({{"summary", "string", "x"}}), "Warden sets that field itself"));
  refused({{"description", "string", "x"}});
  refused({{"customfield_2", "string", "{unknown}"}});
}

TEST_CASE("jira summary is cut to 255 bytes, and Bearer auth goes without an email") {
  ticket_content content = fixture_content();
  content.summary = std::string(300, 's');
  warden::sink::jira_config config = jira_config();
  config.email.clear();
  auto request = jira_create(config, {}, content);
  REQUIRE(request.ok());
  CHECK(std::string(parse(request->body)["fields"]["summary"].GetString()).size() == 255);
  CHECK(header(*request, "Authorization") == "Bearer " + std::string(kJiraToken));
}

TEST_CASE("jira parses the created issue from the fixture") {
  const auto api = warden::sink::jira_tracker_api(jira_config("https://example.atlassian.net/"));
  auto ticket = api->parse_created(
      fixture_content(), answer(201, read_fixture("jira_cloud_create_issue_response_201.json")));
  REQUIRE_MESSAGE(ticket.ok(), ticket.status().ToString());
  CHECK(ticket->id == "10532");
  CHECK(ticket->key == "OPS-1532");
  CHECK(ticket->url == "https://example.atlassian.net/browse/OPS-1532");
  for (const char* body : {"", "<html>", "[]", R"({"id": "1"})", R"({"key": "OPS-1"})",
                           R"({"id": 10532, "key": "OPS-1"})"}) {
    CHECK_MESSAGE(api->parse_created(fixture_content(), answer(201, body)).status().code() ==
                      absl::StatusCode::kInvalidArgument,
                  body);
  }
}

TEST_CASE("jira search by the incident label with JQL") {
  const auto api = warden::sink::jira_tracker_api(jira_config());
  CHECK_FALSE(api->project_lookup("OPS").has_value());
  const std::optional<http_request> search = api->search_ticket("OPS", fixture_content());
  REQUIRE(search.has_value());
  CHECK(search->method == "GET");
  CHECK(search->url ==
        "https://example.atlassian.net/rest/api/3/search/jql?jql=project%20%3D%20%22OPS%22%20AND%20"
        "labels%20%3D%20%22wd-am-c6110dd6075a4fcb%22&fields=summary,labels&maxResults=5");
  CHECK(search->body.empty());

  auto found = api->parse_search(R"({"issues": [
      {"id": "1", "key": "OPS-1", "fields": {"labels": ["wd-am-c6110dd6075a4fcb0"]}},
      {"id": "2", "key": "OPS-2", "fields": {}},
      {"id": "3", "fields": {"labels": ["wd-am-c6110dd6075a4fcb"]}},
      {"id": "4", "key": "OPS-4", "fields": {"summary": "x", "labels": ["warden", "wd-am-c6110dd6075a4fcb"]}},
      {"id": "5", "key": "OPS-5", "fields": {"labels": ["wd-am-c6110dd6075a4fcb"]}}], "isLast": true})",
                                 fixture_content());
  REQUIRE_MESSAGE(found.ok(), found.status().ToString());
  REQUIRE(found->has_value());
  CHECK((*found)->key == "OPS-4");
  CHECK((*found)->id == "4");
  CHECK((*found)->url == "https://example.atlassian.net/browse/OPS-4");

  // A key already starting with "wd:" is not prefixed twice.
  ticket_content warden_key = fixture_content();
  warden_key.incident_key = "wd:1:c6110dd6075a4fcb";
  CHECK(contains(api->search_ticket("OPS", warden_key)->url, "%22wd-1-c6110dd6075a4fcb%22"));

  auto none = api->parse_search(R"({"issues": []})", fixture_content());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  for (const char* bad : {"nope", "[]", R"({"total": 0})", R"({"issues": {}})"}) {
    CHECK_MESSAGE(api->parse_search(bad, fixture_content()).status().code() ==
                      absl::StatusCode::kInvalidArgument,
                  bad);
  }
}

TEST_CASE("jira resolve and reopen are one transition with the comment, else a comment") {
  const auto api = warden::sink::jira_tracker_api(jira_config());
  const std::string resolved_adf =
      R"({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Resolved in Warden by "},{"type":"text","text":"alice","marks":[{"type":"strong"}]},{"type":"text","text":"."}]}]})";
  const std::vector<http_request> resolve =
      api->resolve(kCall, kJiraTicket, "Resolved in Warden by **alice**.");
  REQUIRE(resolve.size() == 1);
  CHECK(resolve[0].method == "POST");
  CHECK(resolve[0].url == "https://example.atlassian.net/rest/api/3/issue/OPS-1532/transitions");
  check_same_json(resolve[0].body, R"({"transition": {"id": "31"},
      "update": {"comment": [{"add": {"body": )" +
                                       resolved_adf + "}}]}}");

  const std::vector<http_request> reopen = api->reopen(kCall, kJiraTicket, "");
  REQUIRE(reopen.size() == 1);
  check_same_json(reopen[0].body, R"({"transition": {"id": "11"}})");

  warden::sink::jira_config no_workflow = jira_config();
  no_workflow.resolve_transition.clear();
  no_workflow.reopen_transition.clear();
  const auto comments_only = warden::sink::jira_tracker_api(no_workflow);
  const std::vector<http_request> comment =
      comments_only->resolve(kCall, kJiraTicket, "Resolved in Warden by **alice**.");
  REQUIRE(comment.size() == 1);
  CHECK(comment[0].url == "https://example.atlassian.net/rest/api/3/issue/OPS-1532/comment");
  check_same_json(comment[0].body, R"({"body": )" + resolved_adf + "}");
  CHECK(comments_only->reopen(kCall, kJiraTicket, "").empty());
  CHECK(comments_only->reopen(kCall, kJiraTicket, "Regressed.").size() == 1);

  const http_request direct = api->comment(kCall, kJiraTicket, "Now 3 issues");
  CHECK(direct.url == comment[0].url);
  check_same_json(direct.body, R"({"body": {"type":"doc","version":1,"content":[
      {"type":"paragraph","content":[{"type":"text","text":"Now 3 issues"}]}]}})");
  CHECK(api->priorities() == jira_config().priority);
  check_secret_only_in({*jira_create(jira_config(), {}), resolve[0], reopen[0], comment[0], direct,
                        *api->search_ticket("OPS", fixture_content())},
                       kJiraToken, "Authorization");
  CHECK_FALSE(contains(header(direct, "Authorization"), kJiraToken));  // base64 of it
}

TEST_CASE("jira error messages are one readable line") {
  const auto api = warden::sink::jira_tracker_api(jira_config());
  CHECK(api->error_message(answer(400, read_fixture("jira_cloud_error_400.json"))) ==
        "HTTP 400: priority: Specify a valid priority name");
  CHECK(api->error_message(answer(400, R"({"errorMessages": ["Issue does not exist"],
      "errors": {"summary": "Summary is required", "labels": "bad"}})")) ==
        "HTTP 400: Issue does not exist; summary: Summary is required; labels: bad");
  CHECK(api->error_message(answer(429, R"({"errorMessages": [], "errors": {}})")) ==
        R"(HTTP 429: {"errorMessages": [], "errors": {}})");
  CHECK(api->error_message(answer(503, "")) == "HTTP 503 (empty body)");
  http_response no_answer;
  no_answer.error = "Read timeout";
  CHECK(api->error_message(no_answer) == "no answer from Jira: Read timeout");
}

// ---- Webhook tracker ----

namespace {

warden::sink::webhook_tracker_config webhook_config(std::string url = "https://hooks.test/t") {
  warden::sink::webhook_tracker_config config;
  config.url = std::move(url);
  config.secrets = {secret(std::string(kWebhookSecret))};
  return config;
}

const created_ticket kWebhookTicket{"T-9", "TICKET-9", "https://tickets.test/9"};

// Checks the Standard Webhooks headers of `request`, its signature recomputed over the
// exact body with the shared secret.
void check_signed(const http_request& request, std::string_view message_id,
                  std::int64_t unix_seconds) {
  CHECK(request.method == "POST");
  CHECK(header(request, "Content-Type") == "application/json");
  CHECK(header(request, "User-Agent") == "warden-sink");
  CHECK(header(request, "webhook-id") == message_id);
  CHECK(header(request, "Idempotency-Key") == message_id);
  CHECK(header(request, "webhook-timestamp") == std::to_string(unix_seconds));
  const auto expected = warden::sink::standard_webhook_signature(
      {secret(std::string(kWebhookSecret))}, message_id, unix_seconds, request.body);
  REQUIRE(expected.ok());
  CHECK(header(request, "webhook-signature") == *expected);
}

}  // namespace

TEST_CASE("webhook tracker create is a signed ticket.create event") {
  const auto api = warden::sink::webhook_tracker_api(webhook_config());
  CHECK_FALSE(api->project_lookup("payments").has_value());
  CHECK(api->priorities().empty());
  auto request =
      api->create_ticket(kCall, "payments",
                         {{"Assignee", "string", "oncall-{team}"},
                          {"Empty", "string", "{culprit}{{}}"},
                          {"Gone", "string", "{release}"}},
                         fixture_content(), [] {
                           template_values values = values_for({"p5", "p4", "p3", "p2", "p1"});
                           values.release.clear();
                           return values;
                         }());
  REQUIRE_MESSAGE(request.ok(), request.status().ToString());
  CHECK(request->url == "https://hooks.test/t");
  check_signed(*request, "ticket:42", 1614265330);
  check_same_json(request->body, R"({
    "type": "ticket.create",
    "timestamp": "2021-02-25T15:02:10Z",
    "data": {
      "project": "payments",
      "incident_key": "am:c6110dd6075a4fcb",
      "summary": "[team-payments][backend][checkout] High error rate",
      "description": "5xx ratio 7.4% over 5m on checkout-api.",
      "fields": {"team": "team-payments", "function": "backend", "product": "checkout",
                 "level": "fatal", "severity": "critical", "priority": "p1",
                 "environment": "production", "release": "", "issue_id": "42",
                 "title": "High error rate", "culprit": "checkout.api.charge",
                 "rule": "prod-errors"},
      "custom_fields": {"Assignee": "oncall-team-payments", "Empty": "checkout.api.charge{}"}}})");

  // A tampered body no longer matches the signature.
  std::string tampered = request->body;
  tampered.replace(tampered.find("payments"), 8, "security");
  CHECK(header(*request, "webhook-signature") !=
        *warden::sink::standard_webhook_signature({secret(std::string(kWebhookSecret))},
                                                  "ticket:42", 1614265330, tampered));
  check_secret_only_in({*request}, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "");

  CHECK(api->create_ticket(kCall, "payments", {{"X", "string", "{nope}"}}, fixture_content(),
                           values_for({}))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  warden::sink::webhook_tracker_config unusable = webhook_config();
  unusable.secrets = {secret("whsec_tooshort")};
  auto unsigned_create = warden::sink::webhook_tracker_api(unusable)->create_ticket(
      kCall, "payments", {}, fixture_content(), values_for({}));
  CHECK(unsigned_create.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(contains(message_of(unsigned_create.status()), "tooshort"));
}

TEST_CASE("webhook tracker follow-ups are one signed event each") {
  const auto api = warden::sink::webhook_tracker_api(webhook_config());
  const tracker_call resolve_call{"resolve:42:3", 1700000000};  // 2023-11-14T22:13:20Z
  const std::vector<http_request> resolve = api->resolve(resolve_call, kWebhookTicket, "Done.");
  REQUIRE(resolve.size() == 1);
  check_signed(resolve[0], "resolve:42:3", 1700000000);
  const std::string ticket =
      R"("ticket": {"id": "T-9", "key": "TICKET-9", "url": "https://tickets.test/9"})";
  check_same_json(resolve[0].body,
                  R"({"type": "ticket.resolve", "timestamp": "2023-11-14T22:13:20Z",
      "data": {)" + ticket +
                      R"(, "comment": "Done."}})");

  const std::vector<http_request> reopen = api->reopen(resolve_call, kWebhookTicket, "");
  REQUIRE(reopen.size() == 1);
  check_signed(reopen[0], "resolve:42:3", 1700000000);
  check_same_json(reopen[0].body, R"({"type": "ticket.reopen", "timestamp": "2023-11-14T22:13:20Z",
      "data": {)" + ticket + "}}");

  const http_request comment = api->comment(kCall, kWebhookTicket, "Now **3**");
  check_signed(comment, "ticket:42", 1614265330);
  check_same_json(comment.body, R"({"type": "ticket.comment", "timestamp": "2021-02-25T15:02:10Z",
      "data": {)" + ticket + R"(, "text": "Now **3**"}})");
  check_secret_only_in({resolve[0], reopen[0], comment}, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "");

  // Should an unusable secret get past the config check, the event goes unsigned.
  warden::sink::webhook_tracker_config unusable = webhook_config();
  unusable.secrets = {};
  const http_request unsigned_comment =
      warden::sink::webhook_tracker_api(unusable)->comment(kCall, kWebhookTicket, "x");
  CHECK(header(unsigned_comment, "webhook-signature").empty());
  CHECK(unsigned_comment.url == "https://hooks.test/t");
}

TEST_CASE("webhook tracker answers: a ticket when the receiver names one, else the key") {
  const auto api = warden::sink::webhook_tracker_api(webhook_config());
  const auto parsed = [&](std::string body) {
    auto ticket = api->parse_created(fixture_content(), answer(200, std::move(body)));
    REQUIRE(ticket.ok());
    return *ticket;
  };
  created_ticket full = parsed(R"({"id": "77", "key": "INC-77", "url": "https://t.test/77"})");
  CHECK(full.id == "77");
  CHECK(full.key == "INC-77");
  CHECK(full.url == "https://t.test/77");
  created_ticket key_only = parsed(R"({"key": "INC-78"})");
  CHECK(key_only.id == "INC-78");
  CHECK(key_only.key == "INC-78");
  CHECK(key_only.url.empty());
  for (const char* body : {"", "ok", "{}", R"({"key": 78})", "[\"INC-1\"]", R"({"id": "x"})"}) {
    const created_ticket fallback = parsed(body);
    CHECK_MESSAGE(fallback.id == kIncidentKey, body);
    CHECK(fallback.key == kIncidentKey);
    CHECK(fallback.url.empty());
  }
  CHECK_FALSE(api->search_ticket("payments", fixture_content()).has_value());
  auto search = api->parse_search("anything", fixture_content());
  REQUIRE(search.ok());
  CHECK_FALSE(search->has_value());
  CHECK(api->error_message(answer(500, "oops")) == "HTTP 500: oops");
  http_response no_answer;
  no_answer.error = "Connection refused";
  CHECK(api->error_message(no_answer) == "no answer from the webhook: Connection refused");
}

// ---- Against the fakes, over HTTP ----

TEST_CASE("github adapter and fake_github agree: create, search, close, reopen, comment") {
  warden::testing::fake_github github;
  REQUIRE(github.port() > 0);
  warden::sink::github_config config = github_config(github.base_url());
  config.token = secret(github.token());
  const auto api = warden::sink::github_tracker_api(config);
  const ticket_content content = fixture_content();

  auto create = api->create_ticket(kCall, "acme/shop", kGitHubOwner, content, values_for({}));
  REQUIRE(create.ok());
  const http_response created = send_request(*create);
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto ticket = api->parse_created(content, created);
  REQUIRE_MESSAGE(ticket.ok(), ticket.status().ToString());
  CHECK(ticket->key == "acme/shop#1");
  CHECK(ticket->url == github.base_url() + "/acme/shop/issues/1");
  REQUIRE(github.wait_for_issues(1, std::chrono::seconds{5}));
  const auto issue = github.find_issue("acme/shop", 1);
  REQUIRE(issue.has_value());
  CHECK(issue->labels ==
        std::vector<std::string>{"incident", "sev:critical", "team:payments", "product:checkout"});
  CHECK(issue->assignees == std::vector<std::string>{"payments-oncall"});

  // Another repository's issue with the same key, and one of another key: not found.
  ticket_content other = content;
  other.incident_key = "am:0000000000000000";
  REQUIRE(
      send_request(*api->create_ticket(kCall, "acme/other", {}, content, values_for({}))).status ==
      201);
  REQUIRE(send_request(*api->create_ticket(kCall, "acme/shop", {}, other, values_for({}))).status ==
          201);
  const http_response searched = send_request(*api->search_ticket("acme/shop", content));
  REQUIRE(searched.status == 200);
  auto found = api->parse_search(searched.body, content);
  REQUIRE_MESSAGE(found.ok(), found.status().ToString());
  REQUIRE(found->has_value());
  CHECK((*found)->key == "acme/shop#1");
  CHECK((*found)->url == ticket->url);

  for (const http_request& request : api->resolve(kCall, **found, "Resolved in Warden.")) {
    CHECK(send_request(request).status / 100 == 2);
  }
  CHECK(github.find_issue("acme/shop", 1)->state == "closed");
  CHECK(github.find_issue("acme/shop", 1)->state_reason == "completed");
  for (const http_request& request : api->reopen(kCall, *ticket, "Regressed.")) {
    CHECK(send_request(request).status / 100 == 2);
  }
  CHECK(send_request(api->comment(kCall, *ticket, "Seen again.")).status == 201);
  const auto reopened = github.find_issue("acme/shop", 1);
  CHECK(reopened->state == "open");
  CHECK(reopened->comments ==
        std::vector<std::string>{"Resolved in Warden.", "Regressed.", "Seen again."});

  // Refusals read as GitHub's error lines.
  github.fail_next(1, 403, {{"Retry-After", "1"}});
  const http_response limited = send_request(api->comment(kCall, *ticket, "x"));
  CHECK(limited.status == 403);
  CHECK(limited.header("retry-after") == "1");
  CHECK(api->error_message(limited) == "HTTP 403 failure injected by fake_github");
  config.token = secret("wrong");
  const http_response refused =
      send_request(warden::sink::github_tracker_api(config)->comment(kCall, *ticket, "x"));
  CHECK(api->error_message(refused) == "HTTP 401 Bad credentials");
  const http_response missing = send_request(api->comment(kCall, {"99", "acme/shop#99", ""}, "x"));
  CHECK(api->error_message(missing) == "HTTP 404 Not Found");
}

TEST_CASE("jira adapter and fake_jira agree: create, search, transitions, comments") {
  warden::testing::fake_jira jira;
  REQUIRE(jira.port() > 0);
  warden::sink::jira_config config = jira_config(jira.base_url());
  config.email = jira.options().email;
  config.token = secret(jira.options().token);
  const auto api = warden::sink::jira_tracker_api(config);
  ticket_content content = fixture_content();
  content.description = warden::sink::ticket_description(fixture_snapshot());

  auto create = api->create_ticket(kCall, "OPS", {}, content, values_for(config.priority));
  REQUIRE(create.ok());
  const http_response created = send_request(*create);
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto ticket = api->parse_created(content, created);
  REQUIRE_MESSAGE(ticket.ok(), ticket.status().ToString());
  CHECK(ticket->key == "OPS-1");
  CHECK(ticket->url == jira.base_url() + "/browse/OPS-1");
  REQUIRE(jira.wait_for_issues(1, std::chrono::seconds{5}));
  const auto issue = jira.find_issue("OPS-1");
  REQUIRE(issue.has_value());
  CHECK(issue->labels ==
        std::vector<std::string>{"warden", "wd-am-c6110dd6075a4fcb", "incident", "team-payments"});
  CHECK(contains(issue->description, "Owner: team-payments / backend / checkout"));
  CHECK(contains(issue->description, "charge_card at checkout/api/charge.py:88\nauthorize"));

  ticket_content other = content;
  other.incident_key = "am:0000000000000000";
  REQUIRE(send_request(*api->create_ticket(kCall, "OPS", {}, other, values_for({}))).status == 201);
  const http_response searched = send_request(*api->search_ticket("OPS", content));
  REQUIRE(searched.status == 200);
  auto found = api->parse_search(searched.body, content);
  REQUIRE_MESSAGE(found.ok(), found.status().ToString());
  REQUIRE(found->has_value());
  CHECK((*found)->key == "OPS-1");

  for (const http_request& request :
       api->resolve(kCall, *ticket, "Resolved in Warden by **alice**.")) {
    CHECK(send_request(request).status == 204);
  }
  CHECK(jira.find_issue("OPS-1")->status == "Done");
  for (const http_request& request : api->reopen(kCall, *ticket, "")) {
    CHECK(send_request(request).status == 204);
  }
  CHECK(send_request(
            api->comment(kCall, *ticket, warden::sink::regression_comment(fixture_snapshot())))
            .status == 201);
  const auto changed = jira.find_issue("OPS-1");
  CHECK(changed->status == "Reopened");
  CHECK(changed->transitions == std::vector<std::string>{"31", "11"});
  REQUIRE(changed->comments.size() == 2);
  CHECK(changed->comments[0] == "Resolved in Warden by alice.");
  CHECK(
      contains(changed->comments[1], "In Warden: https://warden.example.internal/api/0/issues/42"));

  // Refusals read as Jira's error lines.
  const http_response wrong_project =
      send_request(*api->create_ticket(kCall, "NOPE", {}, content, values_for({})));
  CHECK(api->error_message(wrong_project) == "HTTP 400: project: valid project is required");
  warden::sink::jira_config bad_transition = config;
  bad_transition.resolve_transition = "99";
  const http_response refused = send_request(
      warden::sink::jira_tracker_api(bad_transition)->resolve(kCall, *ticket, "").front());
  CHECK(api->error_message(refused) == "HTTP 400: Transition id '99' is not valid for this issue.");
  config.token = secret("wrong");
  const http_response unauthorized =
      send_request(warden::sink::jira_tracker_api(config)->comment(kCall, *ticket, "x"));
  CHECK(unauthorized.status == 401);
  jira.fail_next(1, 429, {{"Retry-After", "2"}});
  const http_response limited = send_request(api->comment(kCall, *ticket, "x"));
  CHECK(limited.header("retry-after") == "2");
  CHECK(api->error_message(limited) == "HTTP 429: failure injected by fake_jira");
}

TEST_CASE("webhook tracker events arrive signed over the bytes sent") {
  warden::testing::recording_server receiver;
  REQUIRE(receiver.port() > 0);
  receiver.script({{201, {}, R"({"id": "5", "key": "HOOK-5", "url": "https://t.test/5"})"},
                   {202, {{"Content-Type", "text/plain"}}, "ok"}});
  const auto api = warden::sink::webhook_tracker_api(webhook_config(receiver.base_url() + "/hook"));
  auto create = api->create_ticket(kCall, "payments", {}, fixture_content(), values_for({}));
  REQUIRE(create.ok());
  auto ticket = api->parse_created(fixture_content(), send_request(*create));
  REQUIRE(ticket.ok());
  CHECK(ticket->key == "HOOK-5");
  CHECK(send_request(api->comment({"comment:42:1", 1700000000}, *ticket, "hello")).status == 202);

  const auto received = receiver.requests();
  REQUIRE(received.size() == 2);
  for (const auto& request : received) {
    CHECK(request.path == "/hook");
    const auto expected = warden::sink::standard_webhook_signature(
        {secret(std::string(kWebhookSecret))}, request.header("webhook-id"),
        std::stoll(request.header("webhook-timestamp")), request.body);
    REQUIRE(expected.ok());
    CHECK(request.header("webhook-signature") == *expected);
    CHECK(request.header("Idempotency-Key") == request.header("webhook-id"));
  }
  CHECK(received[1].header("webhook-id") == "comment:42:1");
  CHECK(std::string(parse(received[1].body)["type"].GetString()) == "ticket.comment");
}

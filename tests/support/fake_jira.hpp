// A fake Jira Cloud for tests of warden-sink's Jira tracker: the REST API v3 endpoints it
// uses, on a recording_server at 127.0.0.1, with an issue store, a workflow of
// transitions and failures on demand. Thread-safe; every request is recorded.
//
//   POST /rest/api/3/issue                      creates "<KEY>-<n>" (id 10000 + n) from
//                                               fields: project.key (a configured project),
//                                               issuetype.name, summary (≤ 255), description
//                                               (an ADF document), labels (strings without
//                                               spaces); 201 {id, key, self}
//   POST /rest/api/3/issue/<key>/transitions    applies transition.id (the status it leads
//                                               to from options.transitions) and the
//                                               comments of update.comment[].add.body; 204
//   POST /rest/api/3/issue/<key>/comment        adds {body: ADF}; 201 {id, self}
//   GET  /rest/api/3/search/jql?jql=...         the issues of the jql's `project = "P"`
//                                               with its `labels = "L"`: a substring
//                                               reading, not JQL; {issues: [{id, key,
//                                               fields: {summary, labels}}], isLast}
//
// ADF is checked the way Jira refuses it: a doc of version 1 with a content array, every
// node an object with a type, every text node a non-empty text. Anything else is 404, a
// wrong or missing "Authorization: Basic base64(email:token)" 401, a bad body 400, each
// with Jira's error JSON {errorMessages, errors}.
//
// Example:
//
//   fake_jira jira;                  // warden@example.com, token "jira-test-token", OPS
//   jira.fail_next(1, 429, {{"Retry-After", "1"}});
//   ... the sink creates a ticket at jira.base_url() in OPS ...
//   REQUIRE(jira.wait_for_issues(1, 10s));
//   CHECK(jira.issues().front().key == "OPS-1");
#pragma once

#include <httplib.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fake_json.hpp"
#include "fault_queue.hpp"
#include "recording_fake.hpp"

namespace warden::testing {

/// How a fake_jira is set up.
struct fake_jira_options {
  std::string email = "warden@example.com";  ///< With the token: the Basic credentials.
  std::string token = "jira-test-token";
  std::vector<std::string> projects{"OPS"};  ///< The project keys issues may be created in.
  /// The workflow: transition id → the status it leads to.
  std::map<std::string, std::string> transitions{{"31", "Done"}, {"11", "Reopened"}};
  int port = 0;  ///< 0: a port the system picks; else this one.
};

class fake_jira final : public recording_fake {
 public:
  using reply = recording_server::reply;

  /// An issue as created and changed through the API.
  struct issue {
    std::string id;   ///< "10001", ...
    std::string key;  ///< "<PROJECT>-<n>", n counting the project's issues.
    std::string project;
    std::string issue_type;
    std::string summary;
    std::string description;  ///< The text of the ADF description (see adf_text).
    std::string fields;       ///< The fields object as sent (compact JSON).
    std::vector<std::string> labels;
    std::string status = "To Do";          ///< Set by transitions.
    std::vector<std::string> transitions;  ///< The ids applied, in order.
    std::vector<std::string> comments;     ///< The text of each ADF comment, in order.
  };

  explicit fake_jira(fake_jira_options options = {})
      : recording_fake{options.port}, options_(std::move(options)) {
    serve([this](const recording_server::request& in) { return handle(in); });
  }
  ~fake_jira() { stop_serving(); }  // before the state goes

  /// What it is set up with (credentials, projects, workflow).
  const fake_jira_options& options() const { return options_; }

  /// Answers `count` requests, whatever they are, with `status`, `headers` and an error
  /// body, and does nothing else for them. Failures queue up (fault_queue.hpp).
  void fail_next(int count, int status, std::map<std::string, std::string> headers = {}) {
    const std::lock_guard<std::mutex> lock{mutex_};
    faults_.fail_next(count, status, headers, error_json({"failure injected by fake_jira"}, {}));
  }

  /// The issues, in the order they were created.
  std::vector<issue> issues() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return issues_;
  }
  /// The issue with this key or id, if any.
  std::optional<issue> find_issue(const std::string& key) const {
    const std::lock_guard<std::mutex> lock{mutex_};
    for (const issue& each : issues_) {
      if (each.key == key || each.id == key) return each;
    }
    return std::nullopt;
  }
  /// Waits until at least `count` issues exist; false on timeout.
  bool wait_for_issues(std::size_t count, std::chrono::milliseconds timeout) {
    return wait_until(timeout, [&] { return issues_.size() >= count; });
  }

  /// The text of an ADF document as the fake reads it: its text nodes, a line break for
  /// each hardBreak and after each paragraph, code block and list item; nullopt when Jira
  /// would refuse the document (see above).
  static std::optional<std::string> adf_text(const rapidjson::Value& document) {
    if (!document.IsObject() || fake_json::string_member(document, "type") != "doc" ||
        !document.HasMember("version") || !document["version"].IsInt() ||
        document["version"].GetInt() != 1 || !document.HasMember("content") ||
        !document["content"].IsArray()) {
      return std::nullopt;
    }
    std::string text;
    if (!add_text(document, text)) return std::nullopt;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

 private:
  using json_writer = fake_json::writer;

  // Appends the text of `node`'s content; false when a node is malformed.
  static bool add_text(const rapidjson::Value& node, std::string& text) {
    const auto content = node.FindMember("content");
    if (content == node.MemberEnd()) return true;
    if (!content->value.IsArray()) return false;
    for (const rapidjson::Value& child : content->value.GetArray()) {
      const std::string type = fake_json::string_member(child, "type");
      if (type.empty()) return false;
      if (type == "text") {
        const std::string piece = fake_json::string_member(child, "text");
        if (piece.empty()) return false;  // Jira: "text node must not be empty"
        text += piece;
      } else if (type == "hardBreak") {
        text += '\n';
      } else if (!add_text(child, text)) {
        return false;
      }
      if (type == "paragraph" || type == "codeBlock" || type == "listItem") text += '\n';
    }
    return true;
  }

  static std::string error_json(std::vector<std::string> messages,
                                std::map<std::string, std::string> errors) {
    return fake_json::to_json([&](json_writer& out) {
      out.StartObject();
      out.Key("errorMessages");
      out.StartArray();
      for (const std::string& message : messages) fake_json::put(out, message);
      out.EndArray();
      out.Key("errors");
      out.StartObject();
      for (const auto& [field, message] : errors) {
        out.Key(field.c_str());
        fake_json::put(out, message);
      }
      out.EndObject();
      out.EndObject();
    });
  }
  static reply error_reply(int status, std::vector<std::string> messages,
                           std::map<std::string, std::string> errors = {}) {
    return reply{status,
                 {},
                 error_json(std::move(messages), std::move(errors)),
                 std::chrono::milliseconds{0}};
  }
  static reply field_error(const std::string& field, const std::string& message) {
    return error_reply(400, {}, {{field, message}});
  }

  issue* find(const std::string& key) {
    for (issue& each : issues_) {
      if (each.key == key || each.id == key) return &each;
    }
    return nullptr;
  }

  // Runs on the server's threads.
  reply handle(const recording_server::request& in) {
    const std::lock_guard<std::mutex> lock{mutex_};
    if (std::optional<reply> failure = faults_.next_failure()) return *std::move(failure);
    const auto [name, credentials] =
        httplib::make_basic_authentication_header(options_.email, options_.token, false);
    if (in.header(name) != credentials) {
      return error_reply(401, {"You are not authenticated. Authentication required to perform "
                               "this operation."});
    }
    if (in.path == "/rest/api/3/search/jql" && in.method == "GET") return search(in);
    rapidjson::Document body;
    body.Parse(in.body.data(), in.body.size());
    if (in.method == "POST" && (body.HasParseError() || !body.IsObject())) {
      return error_reply(400, {"Unexpected character in the request body"});
    }
    if (in.path == "/rest/api/3/issue" && in.method == "POST") return create(body);
    constexpr std::string_view kIssue = "/rest/api/3/issue/";
    const std::string_view path = in.path;
    const std::size_t slash = path.find('/', kIssue.size());
    if (in.method == "POST" && path.substr(0, kIssue.size()) == kIssue &&
        slash != std::string_view::npos) {
      issue* target = find(std::string(path.substr(kIssue.size(), slash - kIssue.size())));
      if (target == nullptr) {
        return error_reply(404, {"Issue does not exist or you do not have permission to see it."});
      }
      const std::string_view action = path.substr(slash + 1);
      if (action == "transitions") return transition(*target, body);
      if (action == "comment") return add_comment(*target, body);
    }
    return error_reply(404, {"No such endpoint: " + in.method + " " + in.path});
  }

  reply create(const rapidjson::Value& body) {
    const auto fields = body.FindMember("fields");
    if (fields == body.MemberEnd() || !fields->value.IsObject()) {
      return error_reply(400, {"No fields in the request"});
    }
    const rapidjson::Value& in = fields->value;
    issue created;
    created.project = in.HasMember("project") ? fake_json::string_member(in["project"], "key") : "";
    if (std::find(options_.projects.begin(), options_.projects.end(), created.project) ==
        options_.projects.end()) {
      return field_error("project", "valid project is required");
    }
    created.issue_type =
        in.HasMember("issuetype") ? fake_json::string_member(in["issuetype"], "name") : "";
    if (created.issue_type.empty()) return field_error("issuetype", "Specify an issue type");
    created.summary = fake_json::string_member(in, "summary");
    if (created.summary.empty()) return field_error("summary", "You must specify a summary.");
    if (created.summary.size() > 255) {
      return field_error("summary", "Summary must be less than 255 characters.");
    }
    if (in.HasMember("description")) {
      std::optional<std::string> text = adf_text(in["description"]);
      if (!text) return field_error("description", "Operation value must be an Atlassian Document");
      created.description = *std::move(text);
    }
    if (in.HasMember("labels")) {
      const rapidjson::Value& labels = in["labels"];
      if (!labels.IsArray()) return field_error("labels", "labels must be an array");
      for (const rapidjson::Value& label : labels.GetArray()) {
        if (!label.IsString() ||
            std::string_view(label.GetString()).find(' ') != std::string_view::npos) {
          return field_error("labels", "The label '" + fake_json::serialize(label) +
                                           "' contains spaces which is invalid.");
        }
        created.labels.emplace_back(label.GetString(), label.GetStringLength());
      }
    }
    created.fields = fake_json::serialize(in);
    created.id = std::to_string(10000 + issues_.size() + 1);
    created.key = created.project + "-" + std::to_string(++numbers_[created.project]);
    issues_.push_back(created);
    changed_.notify_all();
    return reply{201,
                 {},
                 fake_json::to_json([&](json_writer& out) {
                   out.StartObject();
                   out.Key("id");
                   fake_json::put(out, created.id);
                   out.Key("key");
                   fake_json::put(out, created.key);
                   out.Key("self");
                   fake_json::put(out, base_url() + "/rest/api/3/issue/" + created.id);
                   out.EndObject();
                 }),
                 std::chrono::milliseconds{0}};
  }

  reply transition(issue& target, const rapidjson::Value& body) {
    const std::string id =
        body.HasMember("transition") ? fake_json::string_member(body["transition"], "id") : "";
    const auto to = options_.transitions.find(id);
    if (to == options_.transitions.end()) {
      return error_reply(400, {"Transition id '" + id + "' is not valid for this issue."});
    }
    std::vector<std::string> comments;
    if (body.HasMember("update") && body["update"].IsObject() &&
        body["update"].HasMember("comment")) {
      const rapidjson::Value& operations = body["update"]["comment"];
      if (!operations.IsArray()) return field_error("comment", "comment must be a list");
      for (const rapidjson::Value& operation : operations.GetArray()) {
        std::optional<std::string> text;
        if (operation.IsObject() && operation.HasMember("add") && operation["add"].IsObject() &&
            operation["add"].HasMember("body")) {
          text = adf_text(operation["add"]["body"]);
        }
        if (!text) return field_error("comment", "Comment body is not valid");
        comments.push_back(*std::move(text));
      }
    }
    target.status = to->second;
    target.transitions.push_back(id);
    target.comments.insert(target.comments.end(), comments.begin(), comments.end());
    return reply{204, {}, "", std::chrono::milliseconds{0}};
  }

  reply add_comment(issue& target, const rapidjson::Value& body) {
    std::optional<std::string> text =
        body.HasMember("body") ? adf_text(body["body"]) : std::nullopt;
    if (!text || text->empty()) return field_error("comment", "Comment body can not be empty!");
    target.comments.push_back(*std::move(text));
    const std::string id = std::to_string(20000 + ++comments_);
    return reply{201,
                 {},
                 fake_json::to_json([&](json_writer& out) {
                   out.StartObject();
                   out.Key("id");
                   fake_json::put(out, id);
                   out.Key("self");
                   fake_json::put(out,
                                  base_url() + "/rest/api/3/issue/" + target.id + "/comment/" + id);
                   out.EndObject();
                 }),
                 std::chrono::milliseconds{0}};
  }

  // The quoted value of `name = "..."` in `jql`, or "".
  static std::string jql_value(const std::string& jql, const std::string& name) {
    const std::string prefix = name + " = \"";
    const std::size_t start = jql.find(prefix);
    if (start == std::string::npos) return {};
    const std::size_t end = jql.find('"', start + prefix.size());
    return end == std::string::npos
               ? std::string{}
               : jql.substr(start + prefix.size(), end - start - prefix.size());
  }

  reply search(const recording_server::request& in) const {
    const auto jql = in.query.find("jql");
    const std::string query = jql == in.query.end() ? std::string{} : jql->second;
    const std::string project = jql_value(query, "project");
    const std::string label = jql_value(query, "labels");
    return reply{200,
                 {},
                 fake_json::to_json([&](json_writer& out) {
                   out.StartObject();
                   out.Key("issues");
                   out.StartArray();
                   for (const issue& each : issues_) {
                     if ((!project.empty() && each.project != project) ||
                         (!label.empty() && std::find(each.labels.begin(), each.labels.end(),
                                                      label) == each.labels.end())) {
                       continue;
                     }
                     out.StartObject();
                     out.Key("id");
                     fake_json::put(out, each.id);
                     out.Key("key");
                     fake_json::put(out, each.key);
                     out.Key("fields");
                     out.StartObject();
                     out.Key("summary");
                     fake_json::put(out, each.summary);
                     out.Key("labels");
                     out.StartArray();
                     for (const std::string& each_label : each.labels)
                       fake_json::put(out, each_label);
                     out.EndArray();
                     out.EndObject();
                     out.EndObject();
                   }
                   out.EndArray();
                   out.Key("isLast");
                   out.Bool(true);
                   out.EndObject();
                 }),
                 std::chrono::milliseconds{0}};
  }

  const fake_jira_options options_;
  std::vector<issue> issues_;
  std::map<std::string, int> numbers_;  // the last issue number per project
  int comments_ = 0;
  fault_queue faults_;
};

}  // namespace warden::testing

// A fake YouTrack for tests of warden-sink's escalation: the REST endpoints its YouTrack
// tracker uses, on a recording_server at 127.0.0.1, with an issue store and faults on
// demand. Thread-safe; every request is recorded, failed ones too.
//
//   GET  /api/admin/projects?query=OPS   [{id, name, shortName, $type}] whose shortName or
//                                        name contains the query (any case)
//   POST /api/issues                     creates "<SHORT>-<n>" (id "2-<n>") from project.id,
//                                        summary, description, customFields; answers
//                                        {id, idReadable, summary, $type: "Issue"}
//   GET  /api/issues?query=...&$top=n    the issues whose incident key (the value of the
//                                        custom field named options.incident_key_field)
//                                        appears anywhere in the query: a substring check,
//                                        not YouTrack's search language
//   POST /api/commands                   "State <name>" on the listed issues (by idReadable
//                                        or id), plus its comment; 200, empty body
//   POST /api/issues/<key>/comments      adds {text}; answers {id, $type: "IssueComment"}
//
// Anything else is 404, a wrong or missing "Authorization: Bearer <token>" is 401, a bad
// body 400, each with YouTrack's error JSON {error, error_description}. The `fields`
// parameter is ignored: answers always have the fields above.
//
// Example:
//
//   fake_youtrack youtrack;                         // token "perm:warden-test"
//   const std::string ops = youtrack.add_project("OPS");  // its entity id, "0-1"
//   youtrack.fail_next(1, 503, {{"Retry-After", "1"}});
//   ... the sink creates a ticket at youtrack.base_url() ...
//   REQUIRE(youtrack.wait_for_issues(1, 10s));
//   CHECK(youtrack.issues().front().id_readable == "OPS-1");
#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
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

/// How a fake_youtrack is set up.
struct fake_youtrack_options {
  std::string token = "perm:warden-test";           ///< The Bearer token it accepts.
  std::string incident_key_field = "Incident key";  ///< The custom field searches look in.
  int port = 0;  ///< 0: a port the system picks; else this one (a restarted tracker).
};

class fake_youtrack final : public recording_fake {
 public:
  using reply = recording_server::reply;

  /// An issue as created and changed through the API.
  struct issue {
    std::string id;           ///< "2-<n>", n counting all issues.
    std::string id_readable;  ///< "<SHORT>-<n>", n counting the project's issues.
    std::string project;      ///< The project's short name.
    std::string summary;
    std::string description;
    std::string custom_fields;   ///< The customFields array as sent (compact JSON), or "".
    std::string incident_key;    ///< The incident-key field's value; "" when not sent.
    std::string state = "Open";  ///< Set by "State <name>" commands.
    std::optional<std::int64_t> resolved;  ///< Epoch ms, while in a resolved state.
    std::vector<std::string> comments;     ///< From comments and commands, in order.
  };

  /// A command as applied.
  struct command {
    std::string query;                ///< e.g. "State Fixed".
    std::vector<std::string> issues;  ///< idReadable of each issue it was applied to.
    std::string comment;
  };

  explicit fake_youtrack(fake_youtrack_options options = {})
      : recording_fake{options.port}, options_(std::move(options)) {
    serve([this](const recording_server::request& in) { return handle(in); });
  }
  ~fake_youtrack() { stop_serving(); }  // before the state goes

  /// The token it accepts.
  const std::string& token() const { return options_.token; }

  /// Adds a project; returns its entity id ("0-<n>"), which creates must name.
  std::string add_project(const std::string& short_name, const std::string& name = {}) {
    const std::lock_guard<std::mutex> lock{mutex_};
    projects_.push_back({"0-" + std::to_string(projects_.size() + 1), short_name,
                         name.empty() ? short_name : name, 0});
    return projects_.back().id;
  }

  /// Answers `count` requests, whatever they are, with `status`, `headers` and an error
  /// body, and does nothing else for them (e.g. 500, 503, or 429 with {"Retry-After",
  /// "1"}). Failures queue up: fail_next(1, 500) then fail_next(1, 503) fails the next
  /// request with 500 and the one after with 503.
  void fail_next(int count, int status, std::map<std::string, std::string> headers = {}) {
    const std::lock_guard<std::mutex> lock{mutex_};
    faults_.fail_next(count, status, headers,
                      error_json("server_error", "failure injected by fake_youtrack"));
  }
  /// The next successful create stores the issue at once but answers only after `delay`:
  /// a client that gives up sooner has made a ticket it does not know about.
  void hang_next_create(std::chrono::milliseconds delay) {
    const std::lock_guard<std::mutex> lock{mutex_};
    faults_.hang_next(delay);
  }

  /// The issues, in the order they were created.
  std::vector<issue> issues() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return issues_;
  }
  /// The issue with this idReadable or id, if any.
  std::optional<issue> find_issue(const std::string& key) const {
    const std::lock_guard<std::mutex> lock{mutex_};
    const issue* found = find(key);
    return found == nullptr ? std::nullopt : std::optional<issue>{*found};
  }
  /// How many issues were created.
  std::size_t creates() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return issues_.size();
  }
  /// The commands applied, in order.
  std::vector<command> commands() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return commands_;
  }
  /// Waits until at least `count` issues exist; false on timeout.
  bool wait_for_issues(std::size_t count, std::chrono::milliseconds timeout) {
    return wait_until(timeout, [&] { return issues_.size() >= count; });
  }

 private:
  using json_writer = fake_json::writer;

  struct project {
    std::string id;
    std::string short_name;
    std::string name;
    int issues = 0;  // numbers its idReadable
  };

  // The states of YouTrack's default workflow that count as resolved.
  static bool is_resolved_state(std::string_view state) {
    constexpr std::array<std::string_view, 7> kResolved{
        "Fixed", "Verified", "Won't fix", "Can't Reproduce", "Duplicate", "Obsolete", "Done"};
    return std::find(kResolved.begin(), kResolved.end(), state) != kResolved.end();
  }

  static std::string error_json(std::string_view error, std::string_view description) {
    return fake_json::to_json([&](json_writer& out) {
      out.StartObject();
      out.Key("error");
      fake_json::put(out, error);
      out.Key("error_description");
      fake_json::put(out, description);
      out.EndObject();
    });
  }
  static reply error_reply(int status, std::string_view error, std::string_view description) {
    return reply{status, {}, error_json(error, description), std::chrono::milliseconds{0}};
  }
  static reply json_reply(std::string body) {
    return reply{200, {}, std::move(body), std::chrono::milliseconds{0}};
  }
  static std::string parameter(const recording_server::request& in, const std::string& name) {
    const auto found = in.query.find(name);
    return found == in.query.end() ? std::string{} : found->second;
  }
  static std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
  }
  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  issue* find(const std::string& key) { return find_in(issues_, key); }
  const issue* find(const std::string& key) const { return find_in(issues_, key); }
  template <typename Issues>
  static auto find_in(Issues& issues, const std::string& key) -> decltype(&issues.front()) {
    for (auto& each : issues) {
      if (each.id_readable == key || each.id == key) return &each;
    }
    return nullptr;
  }

  // Runs on the server's threads.
  reply handle(const recording_server::request& in) {
    const std::lock_guard<std::mutex> lock{mutex_};
    if (std::optional<reply> failure = faults_.next_failure()) return *std::move(failure);
    if (in.header("Authorization") != "Bearer " + options_.token) {
      return error_reply(401, "Unauthorized", "You are not logged in.");
    }
    const std::string_view path = in.path;
    if (path == "/api/admin/projects" && in.method == "GET") return list_projects(in);
    if (path == "/api/issues" && in.method == "POST") return create_issue(in);
    if (path == "/api/issues" && in.method == "GET") return search_issues(in);
    if (path == "/api/commands" && in.method == "POST") return apply_command(in);
    constexpr std::string_view kIssues = "/api/issues/";
    constexpr std::string_view kComments = "/comments";
    if (in.method == "POST" && path.size() > kIssues.size() + kComments.size() &&
        path.substr(0, kIssues.size()) == kIssues &&
        path.substr(path.size() - kComments.size()) == kComments) {
      return add_comment(in, std::string{path.substr(
                                 kIssues.size(), path.size() - kIssues.size() - kComments.size())});
    }
    return error_reply(404, "Not Found", "No such endpoint: " + in.method + " " + in.path);
  }

  reply list_projects(const recording_server::request& in) const {
    const std::string wanted = lowercase(parameter(in, "query"));
    return json_reply(fake_json::to_json([&](json_writer& out) {
      out.StartArray();
      for (const project& each : projects_) {
        if (lowercase(each.short_name).find(wanted) == std::string::npos &&
            lowercase(each.name).find(wanted) == std::string::npos) {
          continue;
        }
        out.StartObject();
        out.Key("id");
        fake_json::put(out, each.id);
        out.Key("name");
        fake_json::put(out, each.name);
        out.Key("shortName");
        fake_json::put(out, each.short_name);
        out.Key("$type");
        fake_json::put(out, "Project");
        out.EndObject();
      }
      out.EndArray();
    }));
  }

  reply create_issue(const recording_server::request& in) {
    rapidjson::Document body;
    body.Parse(in.body.data(), in.body.size());
    if (body.HasParseError() || !body.IsObject()) {
      return error_reply(400, "invalid_request", "The body is not a JSON object");
    }
    const auto project_member = body.FindMember("project");
    if (project_member == body.MemberEnd()) {
      return error_reply(400, "invalid_properties", "Project is required");
    }
    const std::string project_id = fake_json::string_member(project_member->value, "id");
    const auto target = std::find_if(projects_.begin(), projects_.end(),
                                     [&](const project& each) { return each.id == project_id; });
    if (target == projects_.end()) {
      return error_reply(404, "Not Found", "Entity with id " + project_id + " not found");
    }
    issue created;
    created.summary = fake_json::string_member(body, "summary");
    if (created.summary.empty()) {
      return error_reply(400, "invalid_properties", "Summary is required");
    }
    created.description = fake_json::string_member(body, "description");
    if (const auto fields = body.FindMember("customFields"); fields != body.MemberEnd()) {
      if (!fields->value.IsArray()) {
        return error_reply(400, "invalid_properties", "customFields must be an array");
      }
      for (const rapidjson::Value& field : fields->value.GetArray()) {
        if (fake_json::string_member(field, "name").empty() ||
            fake_json::string_member(field, "$type").empty()) {
          return error_reply(400, "invalid_properties", "A custom field lacks name or $type");
        }
        const auto value = field.FindMember("value");
        if (fake_json::string_member(field, "name") == options_.incident_key_field &&
            value != field.MemberEnd() && value->value.IsString()) {
          created.incident_key = {value->value.GetString(), value->value.GetStringLength()};
        }
      }
      created.custom_fields = fake_json::serialize(fields->value);
    }
    ++target->issues;
    created.id = "2-" + std::to_string(issues_.size() + 1);
    created.id_readable = target->short_name + "-" + std::to_string(target->issues);
    created.project = target->short_name;
    issues_.push_back(created);
    changed_.notify_all();

    reply answer = json_reply(fake_json::to_json([&](json_writer& out) {
      out.StartObject();
      out.Key("id");
      fake_json::put(out, created.id);
      out.Key("idReadable");
      fake_json::put(out, created.id_readable);
      out.Key("summary");
      fake_json::put(out, created.summary);
      out.Key("$type");
      fake_json::put(out, "Issue");
      out.EndObject();
    }));
    faults_.delay_if_hanging(answer);
    return answer;
  }

  reply search_issues(const recording_server::request& in) const {
    const std::string query = parameter(in, "query");
    const std::string top = parameter(in, "$top");
    const std::size_t limit =
        top.empty() ? issues_.size()
                    : static_cast<std::size_t>(std::strtoull(top.c_str(), nullptr, 10));
    return json_reply(fake_json::to_json([&](json_writer& out) {
      out.StartArray();
      std::size_t listed = 0;
      for (const issue& each : issues_) {
        if (listed == limit) break;
        if (each.incident_key.empty() || query.find(each.incident_key) == std::string::npos) {
          continue;
        }
        ++listed;
        out.StartObject();
        out.Key("id");
        fake_json::put(out, each.id);
        out.Key("idReadable");
        fake_json::put(out, each.id_readable);
        out.Key("summary");
        fake_json::put(out, each.summary);
        out.Key("resolved");
        if (each.resolved) {
          out.Int64(*each.resolved);
        } else {
          out.Null();
        }
        out.Key("$type");
        fake_json::put(out, "Issue");
        out.EndObject();
      }
      out.EndArray();
    }));
  }

  reply apply_command(const recording_server::request& in) {
    rapidjson::Document body;
    body.Parse(in.body.data(), in.body.size());
    if (body.HasParseError() || !body.IsObject()) {
      return error_reply(400, "invalid_request", "The body is not a JSON object");
    }
    command applied;
    applied.query = fake_json::string_member(body, "query");
    applied.comment = fake_json::string_member(body, "comment");
    constexpr std::string_view kState = "State ";
    if (applied.query.size() <= kState.size() ||
        applied.query.compare(0, kState.size(), kState) != 0) {
      return error_reply(400, "invalid_query", "Command [" + applied.query + "] is not supported");
    }
    const std::string state = applied.query.substr(kState.size());
    const auto listed = body.FindMember("issues");
    if (listed == body.MemberEnd() || !listed->value.IsArray() || listed->value.Empty()) {
      return error_reply(400, "invalid_request", "No issues to apply the command to");
    }
    std::vector<issue*> targets;
    for (const rapidjson::Value& entry : listed->value.GetArray()) {
      std::string key = fake_json::string_member(entry, "idReadable");
      if (key.empty()) key = fake_json::string_member(entry, "id");
      issue* found = find(key);
      if (found == nullptr) return error_reply(404, "Not Found", "No issue " + key);
      targets.push_back(found);
    }
    for (issue* target : targets) {
      target->state = state;
      if (!is_resolved_state(state)) {
        target->resolved.reset();
      } else if (!target->resolved) {
        target->resolved = now_ms();
      }
      if (!applied.comment.empty()) target->comments.push_back(applied.comment);
      applied.issues.push_back(target->id_readable);
    }
    commands_.push_back(std::move(applied));
    return reply{200, {}, "", std::chrono::milliseconds{0}};
  }

  reply add_comment(const recording_server::request& in, const std::string& key) {
    issue* target = find(key);
    if (target == nullptr) return error_reply(404, "Not Found", "No issue " + key);
    rapidjson::Document body;
    body.Parse(in.body.data(), in.body.size());
    const std::string text =
        body.HasParseError() ? std::string{} : fake_json::string_member(body, "text");
    if (text.empty()) return error_reply(400, "invalid_properties", "Comment text is required");
    target->comments.push_back(text);
    const std::string id = "4-" + std::to_string(++comments_);
    return json_reply(fake_json::to_json([&](json_writer& out) {
      out.StartObject();
      out.Key("id");
      fake_json::put(out, id);
      out.Key("$type");
      fake_json::put(out, "IssueComment");
      out.EndObject();
    }));
  }

  const fake_youtrack_options options_;
  std::vector<project> projects_;
  std::vector<issue> issues_;
  std::vector<command> commands_;
  int comments_ = 0;
  fault_queue faults_;  // failures and the hang of the next create
};

}  // namespace warden::testing

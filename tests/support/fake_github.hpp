// A fake GitHub for tests of warden-sink's GitHub tracker: the REST endpoints of Issues
// and issue search it uses, on a recording_server at 127.0.0.1, with an issue store and
// failures on demand. Thread-safe; every request is recorded, failed ones too.
//
//   POST  /repos/<o>/<r>/issues               creates issue <n> of o/r (numbered per
//                                             repository) from title, body, labels,
//                                             assignees, milestone; 201 with the issue
//   PATCH /repos/<o>/<r>/issues/<n>           sets state (open, closed), state_reason; 200
//   POST  /repos/<o>/<r>/issues/<n>/comments  adds {body}; 201 {id, body, html_url}
//   GET   /search/issues?q=...                the issues whose body contains every "quoted"
//                                             phrase of q, of the repository its repo:o/r
//                                             names: a substring check, not GitHub's
//                                             search; {total_count, incomplete_results,
//                                             items}
//
// An issue is {number, title, body, state, state_reason, html_url
// (<base>/<o>/<r>/issues/<n>), repository_url (<base>/repos/<o>/<r>), labels [{name}],
// assignees [{login}], milestone {number} | null}. Anything else is 404, a wrong or
// missing "Authorization: Bearer <token>" 401, a bad body 422 Validation Failed, each
// with GitHub's error JSON {message, errors, documentation_url}.
//
// Example:
//
//   fake_github github;                              // token "ghp_warden-test"
//   github.fail_next(1, 403, {{"Retry-After", "1"}});  // a secondary rate limit
//   ... the sink creates a ticket at github.base_url() in "acme/shop" ...
//   REQUIRE(github.wait_for_issues(1, 10s));
//   CHECK(github.issues().front().number == 1);
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
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

/// How a fake_github is set up.
struct fake_github_options {
  std::string token = "ghp_warden-test";  ///< The Bearer token it accepts.
  int port = 0;  ///< 0: a port the system picks; else this one (a restarted tracker).
};

class fake_github final : public recording_fake {
 public:
  using reply = recording_server::reply;

  /// An issue as created and changed through the API.
  struct issue {
    std::string repo;  ///< "owner/name".
    std::uint64_t number = 0;
    std::string title;
    std::string body;
    std::vector<std::string> labels;
    std::vector<std::string> assignees;
    std::optional<std::int64_t> milestone;
    std::string state = "open";
    std::string state_reason;           ///< "" when none was given.
    std::vector<std::string> comments;  ///< In order.
  };

  explicit fake_github(fake_github_options options = {})
      : recording_fake{options.port}, options_(std::move(options)) {
    serve([this](const recording_server::request& in) { return handle(in); });
  }
  ~fake_github() { stop_serving(); }  // before the state goes

  /// The token it accepts.
  const std::string& token() const { return options_.token; }

  /// Answers `count` requests, whatever they are, with `status`, `headers` and an error
  /// body, and does nothing else for them (500, 502, 403 or 429 with Retry-After: the
  /// secondary rate limits). Failures queue up (fault_queue.hpp).
  void fail_next(int count, int status, std::map<std::string, std::string> headers = {}) {
    const std::lock_guard<std::mutex> lock{mutex_};
    faults_.fail_next(count, status, headers, error_json("failure injected by fake_github"));
  }

  /// The issues, in the order they were created.
  std::vector<issue> issues() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return issues_;
  }
  /// The issue `number` of `repo`, if any.
  std::optional<issue> find_issue(const std::string& repo, std::uint64_t number) const {
    const std::lock_guard<std::mutex> lock{mutex_};
    for (const issue& each : issues_) {
      if (each.repo == repo && each.number == number) return each;
    }
    return std::nullopt;
  }
  /// Waits until at least `count` issues exist; false on timeout.
  bool wait_for_issues(std::size_t count, std::chrono::milliseconds timeout) {
    return wait_until(timeout, [&] { return issues_.size() >= count; });
  }

 private:
  using json_writer = fake_json::writer;

  static std::string error_json(std::string_view message,
                                std::vector<std::pair<std::string, std::string>> errors = {}) {
    return fake_json::to_json([&](json_writer& out) {
      out.StartObject();
      out.Key("message");
      fake_json::put(out, message);
      if (!errors.empty()) {
        out.Key("errors");
        out.StartArray();
        for (const auto& [field, code] : errors) {
          out.StartObject();
          out.Key("resource");
          fake_json::put(out, "Issue");
          out.Key("field");
          fake_json::put(out, field);
          out.Key("code");
          fake_json::put(out, code);
          out.EndObject();
        }
        out.EndArray();
      }
      out.Key("documentation_url");
      fake_json::put(out, "https://docs.github.com/rest/issues/issues");
      out.EndObject();
    });
  }
  static reply error_reply(int status, std::string_view message,
                           std::vector<std::pair<std::string, std::string>> errors = {}) {
    return reply{status, {}, error_json(message, std::move(errors)), std::chrono::milliseconds{0}};
  }
  static reply invalid(std::string field, std::string code) {
    return error_reply(422, "Validation Failed", {{std::move(field), std::move(code)}});
  }

  // The path's segments: "/repos/o/r/issues/1" → repos, o, r, issues, 1.
  static std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    for (std::size_t start = 1; start <= path.size();) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      out.push_back(path.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }

  // The strings of the array member `name` into `out`; false when it is there but not an
  // array of strings.
  static bool string_array(const rapidjson::Value& object, const char* name,
                           std::vector<std::string>& out) {
    const auto found = object.FindMember(name);
    if (found == object.MemberEnd()) return true;
    if (!found->value.IsArray()) return false;
    for (const rapidjson::Value& each : found->value.GetArray()) {
      if (!each.IsString()) return false;
      out.emplace_back(each.GetString(), each.GetStringLength());
    }
    return true;
  }

  // Writes key: [{member: item}, ...], as GitHub lists labels and assignees.
  static void put_objects(json_writer& out, const char* key, const char* member,
                          const std::vector<std::string>& items) {
    out.Key(key);
    out.StartArray();
    for (const std::string& item : items) {
      out.StartObject();
      out.Key(member);
      fake_json::put(out, item);
      out.EndObject();
    }
    out.EndArray();
  }

  std::string issue_json(const issue& each) const {
    return fake_json::to_json([&](json_writer& out) {
      out.StartObject();
      out.Key("number");
      out.Uint64(each.number);
      out.Key("title");
      fake_json::put(out, each.title);
      out.Key("body");
      fake_json::put(out, each.body);
      out.Key("state");
      fake_json::put(out, each.state);
      out.Key("state_reason");
      if (each.state_reason.empty()) {
        out.Null();
      } else {
        fake_json::put(out, each.state_reason);
      }
      out.Key("html_url");
      fake_json::put(out, base_url() + "/" + each.repo + "/issues/" + std::to_string(each.number));
      out.Key("repository_url");
      fake_json::put(out, base_url() + "/repos/" + each.repo);
      put_objects(out, "labels", "name", each.labels);
      put_objects(out, "assignees", "login", each.assignees);
      out.Key("milestone");
      if (each.milestone) {
        out.StartObject();
        out.Key("number");
        out.Int64(*each.milestone);
        out.EndObject();
      } else {
        out.Null();
      }
      out.EndObject();
    });
  }

  issue* find(const std::string& repo, const std::string& number) {
    for (issue& each : issues_) {
      if (each.repo == repo && std::to_string(each.number) == number) return &each;
    }
    return nullptr;
  }

  // Runs on the server's threads.
  reply handle(const recording_server::request& in) {
    const std::lock_guard<std::mutex> lock{mutex_};
    if (std::optional<reply> failure = faults_.next_failure()) return *std::move(failure);
    if (in.header("Authorization") != "Bearer " + options_.token) {
      return error_reply(401, "Bad credentials");
    }
    if (in.path == "/search/issues" && in.method == "GET") return search(in);
    const std::vector<std::string> parts = segments(in.path);
    if (parts.size() >= 4 && parts[0] == "repos" && parts[3] == "issues") {
      const std::string repo = parts[1] + "/" + parts[2];
      rapidjson::Document body;
      body.Parse(in.body.data(), in.body.size());
      if (in.method != "GET" && (body.HasParseError() || !body.IsObject())) {
        return error_reply(400, "Problems parsing JSON");
      }
      if (parts.size() == 4 && in.method == "POST") return create(repo, body);
      issue* target = parts.size() >= 5 ? find(repo, parts[4]) : nullptr;
      if (target == nullptr) return error_reply(404, "Not Found");
      if (parts.size() == 5 && in.method == "PATCH") return update(*target, body);
      if (parts.size() == 6 && parts[5] == "comments" && in.method == "POST") {
        return add_comment(*target, body);
      }
    }
    return error_reply(404, "Not Found");
  }

  reply create(const std::string& repo, const rapidjson::Value& body) {
    issue created;
    created.repo = repo;
    created.title = fake_json::string_member(body, "title");
    if (created.title.empty()) return invalid("title", "missing_field");
    created.body = fake_json::string_member(body, "body");
    if (created.body.size() > 65536) return invalid("body", "custom");
    if (!string_array(body, "labels", created.labels)) return invalid("labels", "invalid");
    if (!string_array(body, "assignees", created.assignees)) return invalid("assignees", "invalid");
    if (const auto milestone = body.FindMember("milestone"); milestone != body.MemberEnd()) {
      if (!milestone->value.IsInt64()) return invalid("milestone", "invalid");
      created.milestone = milestone->value.GetInt64();
    }
    created.number = ++numbers_[repo];
    issues_.push_back(created);
    changed_.notify_all();
    return reply{201, {}, issue_json(created), std::chrono::milliseconds{0}};
  }

  reply update(issue& target, const rapidjson::Value& body) {
    const std::string state = fake_json::string_member(body, "state");
    if (body.HasMember("state") && state != "open" && state != "closed") {
      return invalid("state", "invalid");
    }
    if (!state.empty()) target.state = state;
    target.state_reason = fake_json::string_member(body, "state_reason");
    return reply{200, {}, issue_json(target), std::chrono::milliseconds{0}};
  }

  reply add_comment(issue& target, const rapidjson::Value& body) {
    const std::string text = fake_json::string_member(body, "body");
    if (text.empty()) return invalid("body", "missing_field");
    target.comments.push_back(text);
    const std::string id = std::to_string(++comments_);
    return reply{201,
                 {},
                 fake_json::to_json([&](json_writer& out) {
                   out.StartObject();
                   out.Key("id");
                   out.Uint64(comments_);
                   out.Key("body");
                   fake_json::put(out, text);
                   out.Key("html_url");
                   fake_json::put(out, base_url() + "/" + target.repo + "/issues/" +
                                           std::to_string(target.number) + "#issuecomment-" + id);
                   out.EndObject();
                 }),
                 std::chrono::milliseconds{0}};
  }

  reply search(const recording_server::request& in) const {
    const auto q = in.query.find("q");
    const std::string query = q == in.query.end() ? std::string{} : q->second;
    std::string repo;
    std::vector<std::string> phrases;
    for (std::size_t at = 0; at < query.size();) {
      if (query.compare(at, 5, "repo:") == 0) {
        const std::size_t end = query.find(' ', at);
        repo = query.substr(at + 5, end == std::string::npos ? std::string::npos : end - at - 5);
        at = end == std::string::npos ? query.size() : end;
      } else if (query[at] == '"') {
        const std::size_t end = query.find('"', at + 1);
        if (end == std::string::npos) break;
        phrases.push_back(query.substr(at + 1, end - at - 1));
        at = end + 1;
      } else {
        ++at;
      }
    }
    std::vector<const issue*> found;
    for (const issue& each : issues_) {
      if (!repo.empty() && each.repo != repo) continue;
      bool all = true;
      for (const std::string& phrase : phrases)
        all = all && each.body.find(phrase) != std::string::npos;
      if (all) found.push_back(&each);
    }
    rapidjson::Document answer(rapidjson::kObjectType);
    auto& allocator = answer.GetAllocator();
    answer.AddMember("total_count", static_cast<std::uint64_t>(found.size()), allocator);
    answer.AddMember("incomplete_results", false, allocator);
    rapidjson::Value items(rapidjson::kArrayType);
    for (const issue* each : found) {
      rapidjson::Document item;
      item.Parse(issue_json(*each).c_str());
      items.PushBack(rapidjson::Value(item, allocator), allocator);
    }
    answer.AddMember("items", items, allocator);
    return reply{200, {}, fake_json::serialize(answer), std::chrono::milliseconds{0}};
  }

  const fake_github_options options_;
  std::vector<issue> issues_;
  std::map<std::string, std::uint64_t> numbers_;  // the last issue number per repository
  std::uint64_t comments_ = 0;
  fault_queue faults_;
};

}  // namespace warden::testing

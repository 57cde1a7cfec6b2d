// A fake Slack for tests of warden-sink's notifications: incoming webhooks on a
// recording_server at 127.0.0.1, answering as Slack does (plain-text bodies), with
// Slack's rate limit and broken webhooks on demand. Thread-safe; every request is
// recorded, refused ones too.
//
//   POST <any path>   a message: 200 "ok" (text/plain), recorded per path (each path is
//                     one webhook, i.e. one channel)
//
// Refused as Slack refuses them: a body that is not a JSON object 400 invalid_payload;
// neither `text` nor `blocks` 400 no_text; more than 50 blocks, a header over 150
// characters, a section text over 3000, more than 10 fields or context elements
// 400 invalid_blocks; another method 405 invalid_method. A revoked webhook answers 404
// no_service, an archived channel 410 channel_is_archived. In strict mode, a message
// that comes less than a second after the last accepted one on its path gets 429
// rate_limited with Retry-After: 1 (Slack allows about one message a second per webhook).
//
// Example:
//
//   fake_slack slack({/*strict=*/true});
//   const std::string url = slack.webhook_url("T0/B0/payments");  // a receiver's webhook_url
//   slack.fail_next(1, 500, "rollup_error");
//   ... the sink posts to url ...
//   REQUIRE(slack.wait_for_messages(1, 10s));
//   CHECK(slack.messages().front().header == "CRITICAL: High error rate (checkout)");
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recording_fake.hpp"

namespace warden::testing {

/// How a fake_slack is set up.
struct fake_slack_options {
  /// Answer a message less than a second after the last accepted one on the same path
  /// with 429 and Retry-After: 1, as Slack does.
  bool strict = false;
  int port = 0;  ///< 0: a port the system picks.
};

/// Slack's incoming webhooks, faked; see the file comment.
class fake_slack final : public recording_fake {
 public:
  using reply = recording_server::reply;
  using clock = std::chrono::steady_clock;

  /// A message Slack accepted.
  struct message {
    std::string path;    ///< The webhook's path, e.g. "/services/T0/B0/payments".
    std::string body;    ///< The JSON as sent.
    std::string text;    ///< Its `text` (the notification's fallback), or "".
    std::string header;  ///< The text of its first header block, or "".
    std::size_t blocks = 0;
    clock::time_point arrived;
  };

  explicit fake_slack(fake_slack_options options = {})
      : recording_fake{options.port}, options_(options) {
    serve([this](const recording_server::request& in) { return handle(in); });
  }
  ~fake_slack() { stop_serving(); }  // before the state goes

  /// The URL of the webhook named `name`: base_url() + "/services/" + name.
  std::string webhook_url(const std::string& name = "T0/B0/warden") const {
    return base_url() + path_of(name);
  }
  /// The path of the webhook named `name`, as messages() and arrival_times() name it.
  static std::string path_of(const std::string& name) { return "/services/" + name; }

  /// Answers `count` requests, whatever they are, with `status`, the plain-text `body`
  /// and `headers`, and records no message for them. Failures queue up.
  void fail_next(int count, int status, std::string body,
                 std::map<std::string, std::string> headers = {}) {
    const std::lock_guard<std::mutex> lock{mutex_};
    headers.emplace("Content-Type", "text/plain");
    for (int i = 0; i < count; ++i) {
      failures_.push_back(reply{status, headers, body, std::chrono::milliseconds{0}});
    }
  }
  /// From now on the webhook at `path` answers 404 no_service (the app was uninstalled
  /// or the webhook revoked).
  void revoke(const std::string& path) {
    const std::lock_guard<std::mutex> lock{mutex_};
    revoked_.insert(path);
  }
  /// From now on the webhook at `path` answers 410 channel_is_archived.
  void archive(const std::string& path) {
    const std::lock_guard<std::mutex> lock{mutex_};
    archived_.insert(path);
  }

  /// The messages accepted, in order.
  std::vector<message> messages() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return messages_;
  }
  /// The messages accepted on `path`, in order.
  std::vector<message> messages(const std::string& path) const {
    const std::lock_guard<std::mutex> lock{mutex_};
    std::vector<message> on_path;
    for (const message& each : messages_) {
      if (each.path == path) on_path.push_back(each);
    }
    return on_path;
  }
  /// When each message accepted on `path` arrived, in order.
  std::vector<clock::time_point> arrival_times(const std::string& path) const {
    std::vector<clock::time_point> times;
    for (const message& each : messages(path)) times.push_back(each.arrived);
    return times;
  }
  /// How many requests got 429 from strict mode (not from fail_next).
  std::size_t rate_limited() const {
    const std::lock_guard<std::mutex> lock{mutex_};
    return rate_limited_;
  }
  /// Waits until at least `count` messages were accepted; false on timeout.
  bool wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) {
    return wait_until(timeout, [&] { return messages_.size() >= count; });
  }

 private:
  static constexpr std::size_t kMaxBlocks = 50;
  static constexpr std::size_t kMaxHeaderChars = 150;
  static constexpr std::size_t kMaxSectionChars = 3000;
  static constexpr std::size_t kMaxFieldChars = 2000;
  static constexpr std::size_t kMaxElements = 10;

  static reply text_reply(int status, std::string body) {
    return reply{
        status, {{"Content-Type", "text/plain"}}, std::move(body), std::chrono::milliseconds{0}};
  }

  // Characters, as Slack counts them, not bytes.
  static std::size_t characters(std::string_view text) {
    std::size_t count = 0;
    for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return count;
  }

  // The string member `name` of `object`, or "" when absent or not a string.
  static std::string string_member(const rapidjson::Value& object, const char* name) {
    if (!object.IsObject()) return {};
    const auto found = object.FindMember(name);
    if (found == object.MemberEnd() || !found->value.IsString()) return {};
    return {found->value.GetString(), found->value.GetStringLength()};
  }

  // The text of the text object `name` of `block`, or "".
  static std::string text_of(const rapidjson::Value& block, const char* name) {
    const auto found = block.FindMember(name);
    return found == block.MemberEnd() ? std::string{} : string_member(found->value, "text");
  }

  // Whether the member `name` of `block`, if any, is an array of at most kMaxElements
  // text objects of at most `max_chars` characters each.
  static bool valid_texts(const rapidjson::Value& block, const char* name, std::size_t max_chars) {
    const auto found = block.FindMember(name);
    if (found == block.MemberEnd()) return true;
    if (!found->value.IsArray() || found->value.Size() > kMaxElements) return false;
    for (const rapidjson::Value& element : found->value.GetArray()) {
      if (characters(string_member(element, "text")) > max_chars) return false;
    }
    return true;
  }

  // Whether the blocks are within Block Kit's limits.
  static bool valid_blocks(const rapidjson::Value& blocks) {
    if (!blocks.IsArray() || blocks.Size() > kMaxBlocks) return false;
    for (const rapidjson::Value& block : blocks.GetArray()) {
      const std::string type = string_member(block, "type");
      if (type.empty()) return false;
      if (type == "header" && (text_of(block, "text").empty() ||
                               characters(text_of(block, "text")) > kMaxHeaderChars)) {
        return false;
      }
      if (type == "section" && (characters(text_of(block, "text")) > kMaxSectionChars ||
                                !valid_texts(block, "fields", kMaxFieldChars))) {
        return false;
      }
      if (type == "context" && !valid_texts(block, "elements", kMaxSectionChars)) return false;
    }
    return true;
  }

  // Runs on the server's threads.
  reply handle(const recording_server::request& in) {
    const std::lock_guard<std::mutex> lock{mutex_};
    if (!failures_.empty()) {
      reply failure = std::move(failures_.front());
      failures_.pop_front();
      return failure;
    }
    if (revoked_.count(in.path) != 0) return text_reply(404, "no_service");
    if (archived_.count(in.path) != 0) return text_reply(410, "channel_is_archived");
    if (in.method != "POST") return text_reply(405, "invalid_method");

    rapidjson::Document body;
    body.Parse(in.body.data(), in.body.size());
    if (body.HasParseError() || !body.IsObject()) return text_reply(400, "invalid_payload");
    message accepted;
    accepted.path = in.path;
    accepted.body = in.body;
    accepted.text = string_member(body, "text");
    const auto blocks = body.FindMember("blocks");
    if (accepted.text.empty() && blocks == body.MemberEnd()) return text_reply(400, "no_text");
    if (blocks != body.MemberEnd()) {
      if (!valid_blocks(blocks->value)) return text_reply(400, "invalid_blocks");
      accepted.blocks = blocks->value.Size();
      for (const rapidjson::Value& block : blocks->value.GetArray()) {
        if (string_member(block, "type") == "header") {
          accepted.header = text_of(block, "text");
          break;
        }
      }
    }

    accepted.arrived = clock::now();
    if (options_.strict) {
      const auto last = last_accepted_.find(in.path);
      if (last != last_accepted_.end() &&
          accepted.arrived - last->second < std::chrono::seconds{1}) {
        ++rate_limited_;
        reply limited = text_reply(429, "rate_limited");
        limited.headers.emplace("Retry-After", "1");
        return limited;
      }
    }
    last_accepted_[in.path] = accepted.arrived;
    messages_.push_back(std::move(accepted));
    changed_.notify_all();
    return text_reply(200, "ok");
  }

  const fake_slack_options options_;
  std::vector<message> messages_;
  std::map<std::string, clock::time_point> last_accepted_;
  std::set<std::string> revoked_;
  std::set<std::string> archived_;
  std::deque<reply> failures_;
  std::size_t rate_limited_ = 0;
};

}  // namespace warden::testing

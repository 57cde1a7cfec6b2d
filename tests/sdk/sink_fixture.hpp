// Helpers for SDK tests against a recording HTTP sink on 127.0.0.1: options pointing at
// it, what it received, parsed, and the JSON, stack-frame and temporary-directory helpers
// the SDK tests share.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <doctest/doctest.h>

#include "../support/envelope_reader.hpp"
#include "../support/recording_server.hpp"
#include "warden/sdk.hpp"

namespace warden::testing {

using namespace std::chrono_literals;

/// Options that send to a sink on 127.0.0.1:`port` with short retry delays.
inline warden::options options_for(int port) {
  warden::options options;
  options.dsn = "http://testkey@127.0.0.1:" + std::to_string(port) + "/42";
  options.release = "shop@1.2.3";
  options.environment = "staging";
  options.retry_initial_delay = 20ms;
  options.retry_max_delay = 100ms;
  return options;
}

/// Options that send to `server` with short retry delays.
inline warden::options options_for(const recording_server& server) {
  return options_for(server.port());
}

/// Every envelope received so far, parsed.
inline std::vector<parsed_envelope> received(const recording_server& server) {
  std::vector<parsed_envelope> envelopes;
  for (const auto& request : server.requests()) envelopes.push_back(parse_envelope(request.body));
  return envelopes;
}

/// The event payloads received so far.
inline std::vector<rapidjson::Document> events(const recording_server& server) {
  std::vector<rapidjson::Document> found;
  for (const auto& envelope : received(server)) {
    if (const auto* item = envelope.find("event")) {
      rapidjson::Document copy;
      copy.CopyFrom(item->json, copy.GetAllocator());
      found.push_back(std::move(copy));
    }
  }
  return found;
}

/// The event among `all` with `event_id`. Events captured together may arrive in any
/// order: the SDK sends a batch on several connections at once.
inline const rapidjson::Document& event_with_id(const std::vector<rapidjson::Document>& all,
                                                const std::string& event_id) {
  for (const auto& event : all) {
    if (event.HasMember("event_id") && event["event_id"].IsString() &&
        event["event_id"].GetString() == event_id) {
      return event;
    }
  }
  FAIL("no event ", event_id, " among the ", all.size(), " received");
  return all.front();
}

/// Sum of the client-report quantities for `reason` (and `category`, unless empty) over
/// everything received.
inline std::uint64_t reported(const recording_server& server, std::string_view reason,
                              std::string_view category = {}) {
  std::uint64_t total = 0;
  for (const auto& envelope : received(server)) {
    for (const auto& item : envelope.items) {
      if (item.type() != "client_report") continue;
      for (const auto& line : item.json["discarded_events"].GetArray()) {
        if (line["reason"].GetString() != reason) continue;
        if (!category.empty() && line["category"].GetString() != category) continue;
        total += line["quantity"].GetUint64();
      }
    }
  }
  return total;
}

/// A port on which nothing listens (taken from a server that was stopped).
inline int closed_port() {
  recording_server probe;
  return probe.port();
}

/// The value of tag `name` of `event`, empty when it has none.
inline std::string tag(const rapidjson::Value& event, const char* name) {
  if (!event.HasMember("tags") || !event["tags"].HasMember(name)) return {};
  return event["tags"][name].GetString();
}

/// The string member `name` of `object`, empty when it has none.
inline std::string text(const rapidjson::Value& object, const char* name) {
  return object.HasMember(name) && object[name].IsString() ? object[name].GetString() : "";
}

/// The function names of stack `frames`, outermost first.
inline std::vector<std::string> frame_functions(const rapidjson::Value& frames) {
  std::vector<std::string> names;
  for (const auto& frame : frames.GetArray()) names.push_back(text(frame, "function"));
  return names;
}

/// True when the stack of `exception` (or thread) has a frame in `function`.
inline bool has_frame(const rapidjson::Value& exception, const std::string& function) {
  const auto names = frame_functions(exception["stacktrace"]["frames"]);
  return std::find(names.begin(), names.end(), function) != names.end();
}

/// An empty directory of the system's temporary directory, named after `name` and this
/// process (test programs may run side by side); removed with everything in it when the
/// object goes. It is the directory's path.
class fresh_directory final : public std::filesystem::path {
 public:
  explicit fresh_directory(const std::string& name)
      : std::filesystem::path(std::filesystem::temp_directory_path() /
                              ("warden-test-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(*this);
    std::filesystem::create_directories(*this);
  }
  ~fresh_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(*this, ignored);
  }
  fresh_directory(const fresh_directory&) = delete;
  fresh_directory& operator=(const fresh_directory&) = delete;
};

}  // namespace warden::testing

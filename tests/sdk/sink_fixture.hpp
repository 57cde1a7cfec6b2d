// Helpers for SDK tests against a recording HTTP sink on 127.0.0.1: options pointing at
// it, and what it received, parsed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "../support/envelope_reader.hpp"
#include "../support/recording_server.hpp"
#include "warden/sdk.hpp"

namespace warden::testing {

using namespace std::chrono_literals;

/// Options that send to `server` with short retry delays.
inline warden::options options_for(const recording_server& server) {
  warden::options options;
  options.dsn = "http://testkey@127.0.0.1:" + std::to_string(server.port()) + "/42";
  options.release = "shop@1.2.3";
  options.environment = "staging";
  options.retry_initial_delay = 20ms;
  options.retry_max_delay = 100ms;
  return options;
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

/// The value of tag `name` of `event`, empty when it has none.
inline std::string tag(const rapidjson::Value& event, const char* name) {
  if (!event.HasMember("tags") || !event["tags"].HasMember(name)) return {};
  return event["tags"][name].GetString();
}

}  // namespace warden::testing

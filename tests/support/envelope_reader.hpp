// Splits a Sentry envelope into its header and items and parses the JSON ones, so tests
// can check what a sink received field by field.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace warden::testing {

struct envelope_item {
  rapidjson::Document header;
  std::string payload;
  rapidjson::Document json;  // the payload parsed, when it is JSON
  std::string type() const { return header.HasMember("type") ? header["type"].GetString() : ""; }
};

struct parsed_envelope {
  rapidjson::Document header;
  std::vector<envelope_item> items;

  /// The first item of `type`, or nullptr.
  const envelope_item* find(std::string_view type) const {
    for (const auto& item : items) {
      if (item.type() == type) return &item;
    }
    return nullptr;
  }
};

/// Parses `body`; items with a `length` are read by length, others up to the newline.
inline parsed_envelope parse_envelope(std::string_view body) {
  parsed_envelope envelope;
  std::size_t at = body.find('\n');
  envelope.header.Parse(body.data(), at == std::string_view::npos ? body.size() : at);
  while (at != std::string_view::npos && at + 1 < body.size()) {
    const std::size_t header_start = at + 1;
    const std::size_t header_end = body.find('\n', header_start);
    if (header_end == std::string_view::npos) break;
    envelope_item item;
    item.header.Parse(body.data() + header_start, header_end - header_start);
    if (item.header.HasParseError()) break;
    const std::size_t payload_start = header_end + 1;
    std::size_t payload_end;
    if (item.header.HasMember("length")) {
      payload_end = payload_start + item.header["length"].GetUint64();
    } else {
      payload_end = body.find('\n', payload_start);
      if (payload_end == std::string_view::npos) payload_end = body.size();
    }
    item.payload = std::string{body.substr(payload_start, payload_end - payload_start)};
    item.json.Parse(item.payload.data(), item.payload.size());
    envelope.items.push_back(std::move(item));
    at = payload_end < body.size() && body[payload_end] == '\n' ? payload_end : payload_end - 1;
    if (payload_end >= body.size()) break;
  }
  return envelope;
}

}  // namespace warden::testing

// JSON helpers of the fakes of warden-sink's targets (fake_youtrack.hpp, fake_github.hpp,
// fake_jira.hpp): writing an answer with RapidJSON and reading members of a request.
//
//   std::string body = fake_json::to_json([&](fake_json::writer& out) {
//     out.StartObject();
//     out.Key("key");
//     fake_json::put(out, issue.key);
//     out.EndObject();
//   });
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace warden::testing::fake_json {

/// Compact JSON into a string buffer.
using writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// What `write` writes, as a string.
template <typename Write>
std::string to_json(Write write) {
  rapidjson::StringBuffer buffer;
  writer out{buffer};
  write(out);
  return {buffer.GetString(), buffer.GetSize()};
}

/// `value` (a request's member, a whole answer) as compact JSON.
inline std::string serialize(const rapidjson::Value& value) {
  return to_json([&](writer& out) { value.Accept(out); });
}

/// Writes `text` as a JSON string.
inline void put(writer& out, std::string_view text) {
  out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

/// The string member `name` of `object`; "" when absent or not a string.
inline std::string string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  const auto found = object.FindMember(name);
  if (found == object.MemberEnd() || !found->value.IsString()) return {};
  return {found->value.GetString(), found->value.GetStringLength()};
}

}  // namespace warden::testing::fake_json

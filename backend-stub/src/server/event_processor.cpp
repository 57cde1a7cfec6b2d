#include "server/event_processor.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cmath>
#include <string_view>
#include <utility>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "fmt/format.h"
#include "grouping/detail/event_fields.hpp"
#include "grouping/group_key.hpp"
#include "grouping/owner.hpp"
#include "ingest/envelope.hpp"

namespace warden::sink {
namespace {

std::string string_member(const rapidjson::Value& object, const char* name) {
  const auto found = object.FindMember(name);
  if (found == object.MemberEnd() || !found->value.IsString()) return {};
  return {found->value.GetString(), found->value.GetStringLength()};
}

// Sentry's levels; the aliases SDKs use are mapped as Relay does; anything else is error.
std::string normalized_level(const rapidjson::Value& event) {
  const std::string level = string_member(event, "level");
  for (const std::string_view known : {"fatal", "error", "warning", "info", "debug"}) {
    if (level == known) return level;
  }
  if (level == "critical") return "fatal";
  if (level == "warn") return "warning";
  if (level == "log") return "info";
  return "error";
}

// "timestamp" as seconds (a number) or RFC 3339 text; `fallback` otherwise.
std::int64_t timestamp_ms(const rapidjson::Value& event, std::int64_t fallback) {
  const auto found = event.FindMember("timestamp");
  if (found == event.MemberEnd()) return fallback;
  if (found->value.IsNumber()) {
    const double seconds = found->value.GetDouble();
    return std::isfinite(seconds) ? static_cast<std::int64_t>(seconds * 1000.0) : fallback;
  }
  absl::Time parsed;
  std::string error;
  if (found->value.IsString() &&
      absl::ParseTime(absl::RFC3339_full, found->value.GetString(), &parsed, &error)) {
    return absl::ToUnixMillis(parsed);
  }
  return fallback;
}

// Who was affected: the first of the user's id, email, username and IP.
std::string user_key(const rapidjson::Value& event) {
  const auto user = event.FindMember("user");
  if (user == event.MemberEnd() || !user->value.IsObject()) return {};
  for (const char* field : {"id", "email", "username", "ip_address"}) {
    const auto value = user->value.FindMember(field);
    if (value == user->value.MemberEnd()) continue;
    if (value->value.IsString() && value->value.GetStringLength() > 0) {
      return fmt::format("{}:{}", field, value->value.GetString());
    }
    if (value->value.IsInt64()) return fmt::format("{}:{}", field, value->value.GetInt64());
  }
  return {};
}

std::string new_event_id() {
  absl::BitGen random;
  return fmt::format("{:016x}{:016x}", absl::Uniform<std::uint64_t>(random),
                     absl::Uniform<std::uint64_t>(random));
}

std::string components_json(const std::vector<std::string>& components) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> out{buffer};
  out.StartArray();
  for (const std::string& component : components) {
    out.String(component.data(), static_cast<rapidjson::SizeType>(component.size()));
  }
  out.EndArray();
  return buffer.GetString();
}

}  // namespace

event_processor::event_processor(warden::ownership_rules rules, owner_config fallback,
                                 bool collect_tags)
    : rules_(std::move(rules)),
      fallback_{std::move(fallback.team), std::move(fallback.function),
                std::move(fallback.product)},
      collect_tags_{collect_tags} {}

absl::StatusOr<event_record> event_processor::process(rapidjson::Document& event,
                                                      std::string_view text,
                                                      const project_config& project,
                                                      std::string event_id,
                                                      std::int64_t received_ms) const {
  if (!event.IsObject()) return absl::InvalidArgumentError("the event is not a JSON object");
  if (event_id.empty()) {
    if (absl::StatusOr<std::string> own = normalize_event_id(string_member(event, "event_id"));
        own.ok()) {
      event_id = *std::move(own);
    } else {
      event_id = new_event_id();
    }
  }
  // Writing the event out again costs more than all of grouping: only when its id changes.
  const bool carries_id = string_member(event, "event_id") == event_id;
  if (!carries_id) {
    auto& allocator = event.GetAllocator();
    event.RemoveMember("event_id");
    event.AddMember("event_id", rapidjson::Value{event_id.c_str(), allocator}, allocator);
  }

  event_record record;
  record.project_id = static_cast<std::int64_t>(project.id);
  record.event_id = std::move(event_id);
  record.received_ms = received_ms;
  record.timestamp_ms = timestamp_ms(event, received_ms);
  record.level = normalized_level(event);
  record.environment = string_member(event, "environment");
  record.release = string_member(event, "release");
  record.user_key = user_key(event);
  if (collect_tags_) record.tags = detail::tags_of(event);

  event_owner owner = resolve_owner(event, rules_, fallback_);
  record.owner_source = std::string{owner_source_name(owner.source)};
  // A project declared for one team owns what its events do not claim themselves.
  if (owner.source != owner_source::sdk && project.owner && !project.owner->team.empty()) {
    owner.team = project.owner->team;
    owner.function = project.owner->function;
    owner.product = project.owner->product;
    record.owner_source = "project";
  }
  record.team = owner.team;
  record.function = owner.function;
  record.product = owner.product;

  const group_key key = compute_group_key(event, owner);
  record.group_hash = key.hash;
  record.grouping_version = key.version;
  record.grouping_kind = std::string{grouping_kind_name(key.kind)};
  record.grouping_components = components_json(key.components);
  record.title = key.title;
  record.culprit = key.culprit;

  if (carries_id) {
    record.payload.assign(text);
    return record;
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> out{buffer};
  event.Accept(out);
  record.payload.assign(buffer.GetString(), buffer.GetSize());
  return record;
}

}  // namespace warden::sink

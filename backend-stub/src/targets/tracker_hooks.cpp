// Readers of the trackers' webhook payloads.
#include "targets/tracker_hooks.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace warden::sink {
namespace {

// `body` as a JSON object, UTF-8 checked.
absl::StatusOr<rapidjson::Document> parse_object(std::string_view body, std::string_view what) {
  rapidjson::Document parsed;
  parsed.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (parsed.HasParseError()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: not JSON ({} at byte {})", what,
                    rapidjson::GetParseError_En(parsed.GetParseError()), parsed.GetErrorOffset()));
  }
  if (!parsed.IsObject()) {
    return absl::InvalidArgumentError(fmt::format("{}: not a JSON object", what));
  }
  return parsed;
}

// The member `name` of `object` when it is an object, else nullptr.
const rapidjson::Value* object_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const auto found = object.FindMember(name);
  return found != object.MemberEnd() && found->value.IsObject() ? &found->value : nullptr;
}

// The string member `name` of `object`, or "".
std::string string_member(const rapidjson::Value* object, const char* name) {
  if (object == nullptr || !object->IsObject()) return {};
  const auto found = object->FindMember(name);
  if (found == object->MemberEnd() || !found->value.IsString()) return {};
  return {found->value.GetString(), found->value.GetStringLength()};
}

}  // namespace

absl::StatusOr<ticket_change> parse_youtrack_hook(std::string_view body) {
  absl::StatusOr<rapidjson::Document> report = parse_object(body, "YouTrack report");
  if (!report.ok()) return report.status();
  ticket_change change;
  change.ticket = string_member(&*report, "idReadable");
  const auto resolved = report->FindMember("resolved");
  if (change.ticket.empty() || resolved == report->MemberEnd() || !resolved->value.IsBool()) {
    return absl::InvalidArgumentError(
        "YouTrack report: needs \"idReadable\" (a string) and \"resolved\" (true or false)");
  }
  change.what =
      resolved->value.GetBool() ? ticket_change::kind::resolved : ticket_change::kind::reopened;
  change.event = resolved->value.GetBool() ? "youtrack.resolved" : "youtrack.unresolved";
  if (const std::string state = string_member(&*report, "state"); !state.empty()) {
    change.event += fmt::format(" ({})", state);
  }
  if (const std::string login = string_member(&*report, "updatedBy"); !login.empty()) {
    change.actor = fmt::format("youtrack:{}", login);
  }
  return change;
}

absl::StatusOr<ticket_change> parse_github_hook(std::string_view event, std::string_view body,
                                                bool resolve_not_planned) {
  absl::StatusOr<rapidjson::Document> delivery = parse_object(body, "GitHub delivery");
  if (!delivery.ok()) return delivery.status();
  ticket_change change;
  const std::string action = string_member(&*delivery, "action");
  change.event = action.empty() ? std::string{event} : fmt::format("{}.{}", event, action);
  if (const std::string login = string_member(object_member(*delivery, "sender"), "login");
      !login.empty()) {
    change.actor = fmt::format("github:{}", login);
  }
  if (event != "issues") {
    change.note = fmt::format("'{}' events change no ticket", event);
    return change;
  }
  const rapidjson::Value* issue = object_member(*delivery, "issue");
  const std::string repository = string_member(object_member(*delivery, "repository"), "full_name");
  const auto number = issue != nullptr ? issue->FindMember("number") : delivery->MemberEnd();
  if (issue == nullptr || repository.empty() || number == issue->MemberEnd() ||
      !number->value.IsInt64()) {
    return absl::InvalidArgumentError(
        "GitHub delivery: an issues event needs issue.number and repository.full_name");
  }
  change.ticket = fmt::format("{}#{}", repository, number->value.GetInt64());
  const std::string reason = string_member(issue, "state_reason");
  if (action == "reopened") {
    change.what = ticket_change::kind::reopened;
  } else if (action != "closed") {
    change.note = fmt::format("action '{}' changes no state", action);
  } else if (reason == "not_planned" && !resolve_not_planned) {
    change.note = "closed as not planned (resolve_not_planned is off)";
  } else {
    change.what = ticket_change::kind::resolved;
  }
  return change;
}

}  // namespace warden::sink

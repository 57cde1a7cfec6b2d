#include "grouping/owner.hpp"

#include <optional>
#include <vector>

#include "grouping/detail/event_fields.hpp"

namespace warden::sink {
namespace {

std::optional<event_owner> owner_from_tags(const rapidjson::Value& event) {
  const std::string_view team = detail::tag_value(event, "team");
  if (team.empty()) return std::nullopt;
  return event_owner{std::string{team}, std::string{detail::tag_value(event, "function")},
                     std::string{detail::tag_value(event, "product")}, owner_source::sdk};
}

// Warden's SDK tags every event with an owner; when no owner scope was active it uses
// the program's fallback owner ("unowned" unless the program chose one) and says so in
// the "ownership" context.
bool tags_are_sdk_fallback(const rapidjson::Value& event) {
  const rapidjson::Value* contexts = detail::find_member(event, "contexts");
  const rapidjson::Value* ownership =
      contexts != nullptr ? detail::find_member(*contexts, "ownership") : nullptr;
  return ownership != nullptr && detail::string_member(*ownership, "source") == "fallback";
}

// What the rules are matched against, in order of precedence.
std::vector<warden::rule_subject> rule_subjects(const rapidjson::Value& event) {
  std::vector<warden::rule_subject> subjects;
  for (const rapidjson::Value* frame : detail::location_frames(event)) {
    warden::rule_subject subject;
    subject.path = detail::string_member(*frame, "abs_path");
    if (subject.path.empty()) subject.path = detail::string_member(*frame, "filename");
    subject.symbol = detail::string_member(*frame, "function");
    subject.module = detail::string_member(*frame, "module");
    if (subject.module.empty()) {
      subject.module = detail::base_name(detail::string_member(*frame, "package"));
    }
    subjects.push_back(subject);
  }
  const rapidjson::Value* request = detail::find_member(event, "request");
  if (request != nullptr) {
    warden::rule_subject url;
    url.url = detail::string_member(*request, "url");
    subjects.push_back(url);
  }
  warden::rule_subject transaction;
  transaction.name = detail::string_member(event, "transaction");
  subjects.push_back(transaction);
  return subjects;
}

}  // namespace

event_owner resolve_owner(const rapidjson::Value& event, const warden::ownership_rules& rules,
                          const warden::rule_owner& fallback) {
  std::optional<event_owner> tagged = owner_from_tags(event);
  if (tagged && !tags_are_sdk_fallback(event)) return *std::move(tagged);
  if (std::optional<warden::rule_match> found = rules.match_first(rule_subjects(event))) {
    warden::rule_owner& owner = found->owner;
    return event_owner{std::move(owner.team), std::move(owner.function), std::move(owner.product),
                       owner_source::rules};
  }
  if (tagged) {
    tagged->source = owner_source::fallback;
    return *std::move(tagged);
  }
  return event_owner{fallback.team, fallback.function, fallback.product, owner_source::fallback};
}

std::string_view owner_source_name(owner_source source) noexcept {
  switch (source) {
    case owner_source::sdk:
      return "sdk";
    case owner_source::rules:
      return "rules";
    case owner_source::fallback:
      break;
  }
  return "fallback";
}

}  // namespace warden::sink

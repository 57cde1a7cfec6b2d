#include "grouping/detail/event_fields.hpp"

#include <algorithm>
#include <functional>

namespace warden::sink::detail {
namespace {

const rapidjson::Value& empty_array() {
  static const rapidjson::Value kEmpty{rapidjson::kArrayType};
  return kEmpty;
}

std::string_view string_of(const rapidjson::Value& value) {
  return value.IsString() ? std::string_view{value.GetString(), value.GetStringLength()}
                          : std::string_view{};
}

// The thread whose stack tells where the event happened: the crashed one, else the
// current one, else the first that has frames.
const rapidjson::Value* location_thread(const rapidjson::Value& event) {
  const rapidjson::Value* first = nullptr;
  const rapidjson::Value* current = nullptr;
  for (const rapidjson::Value& thread : values_of(find_member(event, "threads")).GetArray()) {
    if (frames_of(thread).Empty()) continue;
    if (is_true(thread, "crashed")) return &thread;
    if (current == nullptr && is_true(thread, "current")) current = &thread;
    if (first == nullptr) first = &thread;
  }
  return current != nullptr ? current : first;
}

}  // namespace

const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  // A Value key: a bare StringRef would decay to const char* and be read up to a NUL.
  const rapidjson::Value key{
      rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))};
  const auto found = object.FindMember(key);
  return found != object.MemberEnd() ? &found->value : nullptr;
}

bool is_true(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = find_member(object, name);
  return value != nullptr && value->IsTrue();
}

std::string_view string_member(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = find_member(object, name);
  return value != nullptr ? string_of(*value) : std::string_view{};
}

const rapidjson::Value& values_of(const rapidjson::Value* list) {
  if (list == nullptr) return empty_array();
  if (list->IsArray()) return *list;
  const rapidjson::Value* values = find_member(*list, "values");
  return values != nullptr && values->IsArray() ? *values : empty_array();
}

const rapidjson::Value& frames_of(const rapidjson::Value& holder) {
  const rapidjson::Value* stacktrace = find_member(holder, "stacktrace");
  const rapidjson::Value* frames =
      stacktrace != nullptr ? find_member(*stacktrace, "frames") : nullptr;
  return frames != nullptr && frames->IsArray() ? *frames : empty_array();
}

std::string_view tag_value(const rapidjson::Value& event, std::string_view key) {
  const rapidjson::Value* tags = find_member(event, "tags");
  if (tags == nullptr) return {};
  if (tags->IsObject()) return string_member(*tags, key);
  if (!tags->IsArray()) return {};
  for (const rapidjson::Value& pair : tags->GetArray()) {
    if (pair.IsArray() && pair.Size() == 2 && string_of(pair[0]) == key) return string_of(pair[1]);
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> tags_of(const rapidjson::Value& event) {
  std::vector<std::pair<std::string, std::string>> tags;
  const rapidjson::Value* sent = find_member(event, "tags");
  if (sent != nullptr && sent->IsObject()) {
    for (const auto& tag : sent->GetObject()) {
      if (tag.value.IsString()) tags.emplace_back(string_of(tag.name), string_of(tag.value));
    }
  } else if (sent != nullptr && sent->IsArray()) {
    for (const rapidjson::Value& pair : sent->GetArray()) {
      if (pair.IsArray() && pair.Size() == 2 && pair[0].IsString() && pair[1].IsString()) {
        tags.emplace_back(string_of(pair[0]), string_of(pair[1]));
      }
    }
  }
  return tags;
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_in_app(const rapidjson::Value& frame) { return is_true(frame, "in_app"); }

message_text message_of(const rapidjson::Value& event) {
  message_text text;
  const rapidjson::Value* message = find_member(event, "message");
  const rapidjson::Value* logentry = find_member(event, "logentry");
  if (logentry == nullptr || !logentry->IsObject()) logentry = message;
  if (logentry != nullptr && logentry->IsObject()) {
    text.message_template = string_member(*logentry, "message");
    text.formatted = string_member(*logentry, "formatted");
  }
  if (text.formatted.empty() && message != nullptr) {
    text.formatted =
        message->IsString() ? string_of(*message) : string_member(*message, "formatted");
  }
  return text;
}

std::vector<const rapidjson::Value*> location_frames(const rapidjson::Value& event) {
  std::vector<const rapidjson::Value*> frames;
  const rapidjson::Value& exceptions = values_of(find_member(event, "exception"));
  for (rapidjson::SizeType i = exceptions.Size(); i-- > 0;) {
    const rapidjson::Value& stack = frames_of(exceptions[i]);
    for (rapidjson::SizeType k = stack.Size(); k-- > 0;) frames.push_back(&stack[k]);
  }
  if (frames.empty()) {
    if (const rapidjson::Value* thread = location_thread(event)) {
      const rapidjson::Value& stack = frames_of(*thread);
      for (rapidjson::SizeType k = stack.Size(); k-- > 0;) frames.push_back(&stack[k]);
    }
  }
  const auto in_app = [](const rapidjson::Value* frame) { return is_in_app(*frame); };
  if (std::any_of(frames.begin(), frames.end(), in_app)) {
    frames.erase(std::remove_if(frames.begin(), frames.end(), std::not_fn(in_app)), frames.end());
  }
  return frames;
}

}  // namespace warden::sink::detail

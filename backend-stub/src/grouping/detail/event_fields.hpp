// Read access to the parts of a Sentry event that grouping and owner resolution use,
// in every shape SDKs send them (develop docs, sdk/event-payloads). Missing or mistyped
// fields read as empty: an event is never rejected here. Internal to warden_sink_grouping.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::sink::detail {

/// `object[name]`, or nullptr when `object` is not an object or has no such member.
const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name);

/// True when `object[name]` is the JSON literal true.
bool is_true(const rapidjson::Value& object, std::string_view name);

/// `object[name]` when it is a string, else empty.
std::string_view string_member(const rapidjson::Value& object, std::string_view name);

/// The items of a list that SDKs send either as an array or as `{"values": [...]}`
/// (exception, threads); an empty array for anything else.
const rapidjson::Value& values_of(const rapidjson::Value* list);

/// `holder.stacktrace.frames` (an exception or a thread), outermost caller first; an
/// empty array when there is none.
const rapidjson::Value& frames_of(const rapidjson::Value& holder);

/// The value of tag `key`, from tags sent as an object or as [key, value] pairs; empty
/// when the tag is missing or not a string.
std::string_view tag_value(const rapidjson::Value& event, std::string_view key);
/// Every tag with a string value, in the order sent (object or [key, value] pairs).
std::vector<std::pair<std::string, std::string>> tags_of(const rapidjson::Value& event);

/// The last component of a path ("/usr/lib/libpq.so.5" -> "libpq.so.5"), either slash.
std::string_view base_name(std::string_view path);

/// True when the frame says it is application code (`"in_app": true`).
bool is_in_app(const rapidjson::Value& frame);

/// The event's message in its two forms; either may be empty.
struct message_text {
  /// `logentry.message` (or the legacy `message.message`): the text before parameters
  /// were filled in.
  std::string_view message_template;
  /// `logentry.formatted`, else `message` when it is a plain string, else
  /// `message.formatted`.
  std::string_view formatted;

  /// True when neither form has text.
  bool empty() const noexcept { return message_template.empty() && formatted.empty(); }
};

/// The message of `event`, whichever way the SDK sent it.
message_text message_of(const rapidjson::Value& event);

/// The frames that say where the event happened, innermost first: those of the
/// exceptions (the newest, i.e. the last in the list, first), or of the crashed or
/// current thread when no exception has frames. Only in-app frames, unless none is
/// in app: then all of them, as grouping does.
std::vector<const rapidjson::Value*> location_frames(const rapidjson::Value& event);

}  // namespace warden::sink::detail

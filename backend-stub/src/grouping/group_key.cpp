#include "grouping/group_key.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <new>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "grouping/detail/event_fields.hpp"
#include "grouping/normalize.hpp"
#include "warden/ownership/detail/utf8.hpp"

namespace warden::sink {
namespace {

using detail::base_name;
using detail::find_member;
using detail::string_member;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// `text` as valid UTF-8 of at most kMaxTitleBytes.
std::string bounded(std::string_view text) {
  std::string out;
  warden::detail::append_valid_utf8(out, text, kMaxTitleBytes);
  return out;
}

// The first line of `text` that is not blank, trimmed.
std::string_view first_line(std::string_view text) {
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = trim(text.substr(0, newline));
    if (!line.empty() || newline == std::string_view::npos) return line;
    text.remove_prefix(newline + 1);
  }
  return {};
}

// Frames of native code, where compilers append clone suffixes to symbol names.
bool is_native(const rapidjson::Value& event, const rapidjson::Value& frame) {
  std::string_view platform = string_member(frame, "platform");
  if (platform.empty()) platform = string_member(event, "platform");
  return platform == "native" || platform == "c" ||
         find_member(frame, "instruction_addr") != nullptr;
}

// True when `part` is one of GCC's and Clang's clone suffixes, without its dot:
// "cold", "isra.0", "constprop.3", "part.1", "lto_priv.0", "localalias".
bool is_clone_suffix(std::string_view part) {
  for (const std::string_view numbered : {"isra.", "constprop.", "part.", "lto_priv.", "cold."}) {
    if (starts_with(part, numbered) && part.size() > numbered.size() &&
        std::all_of(part.begin() + static_cast<std::ptrdiff_t>(numbered.size()), part.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      return true;
    }
  }
  return part == "cold" || part == "localalias";
}

// `function` without its last clone suffix, if it has one.
std::string_view without_clone_suffix(std::string_view function) {
  const std::size_t last = function.rfind('.');
  if (last == std::string_view::npos || last == 0) return function;
  if (is_clone_suffix(function.substr(last + 1))) return function.substr(0, last);
  const std::size_t before = function.rfind('.', last - 1);
  if (before == std::string_view::npos || before == 0) return function;
  return is_clone_suffix(function.substr(before + 1)) ? function.substr(0, before) : function;
}

// A frame's function as grouping sees it: the same function whichever copy the compiler
// made of it. Demangled names end in " [clone .cold]" (possibly several); names the
// demangler did not touch in ".cold", ".isra.0", ".constprop.0.isra.0", ... (native
// frames only: elsewhere a dot separates a class from its method).
std::string_view grouping_function(std::string_view function, bool native) {
  constexpr std::string_view kClone = " [clone .";
  for (std::size_t clone = function.rfind(kClone);
       clone != std::string_view::npos && ends_with(function, "]");
       clone = function.rfind(kClone)) {
    function = function.substr(0, clone);
  }
  if (!native) return function;
  for (std::string_view shorter = without_clone_suffix(function); shorter.size() < function.size();
       shorter = without_clone_suffix(function)) {
    function = shorter;
  }
  return function;
}

// The function of `frame` of `event`, as grouping sees it.
std::string_view frame_function(const rapidjson::Value& event, const rapidjson::Value& frame) {
  return grouping_function(string_member(frame, "function"), is_native(event, frame));
}

// Function names that say nothing: such frames do not contribute.
bool is_unknown_function(std::string_view function) {
  return function.empty() || function == "?" || function == "??" || function == "<unknown>";
}

// Where a frame's code lives: its module, else its file's name (lowercased: the same
// file on a case-insensitive system), else its library's name without the version
// ("libssl.so.3" -> "libssl.so", so that an upgrade does not split issues).
std::string frame_location(const rapidjson::Value& frame) {
  if (const std::string_view module = string_member(frame, "module"); !module.empty()) {
    return std::string{module};
  }
  if (const std::string_view file = base_name(string_member(frame, "filename")); !file.empty()) {
    std::string lowered{file};
    absl::AsciiStrToLower(&lowered);
    return lowered;
  }
  std::string_view package = base_name(string_member(frame, "package"));
  if (const std::size_t so = package.find(".so."); so != std::string_view::npos) {
    package = package.substr(0, so + 3);
  }
  return std::string{package};
}

// What the default strategies computed.
struct default_grouping {
  grouping_kind kind = grouping_kind::message;
  std::vector<std::string> components;
  std::string title;
};

bool is_synthetic(const rapidjson::Value& exception) {
  const rapidjson::Value* mechanism = find_member(exception, "mechanism");
  return mechanism != nullptr && detail::is_true(*mechanism, "synthetic");
}

// The type that grouping uses: none for synthetic exceptions (a made-up type such as
// a signal name, or none at all).
std::string_view grouping_type(const rapidjson::Value& exception) {
  return is_synthetic(exception) ? std::string_view{} : string_member(exception, "type");
}

// Appends the components of one exception: its type, then its frames outermost first
// (consecutive repeats of one frame, i.e. recursion, once), or its normalized value
// when no frame contributes; "type: <none>" marks an exception without a usable type.
// Returns whether the exception contributes: a type, a frame or a value.
bool add_exception(const rapidjson::Value& event, const rapidjson::Value& exception, bool app_only,
                   std::vector<std::string>& components) {
  const std::string_view type = grouping_type(exception);
  // Compiled formats: an event has dozens of components, parsing each format string
  // at run time was a tenth of the ingest path.
  components.push_back(fmt::format(FMT_COMPILE("type: {}"), type.empty() ? "<none>" : type));
  const std::size_t first_frame = components.size();
  for (const rapidjson::Value& frame : detail::frames_of(exception).GetArray()) {
    if (app_only && !detail::is_in_app(frame)) continue;
    const std::string_view function = frame_function(event, frame);
    if (is_unknown_function(function)) continue;
    const std::string location = frame_location(frame);
    std::string component = location.empty()
                                ? fmt::format(FMT_COMPILE("frame: {}"), function)
                                : fmt::format(FMT_COMPILE("frame: {} | {}"), location, function);
    if (components.size() > first_frame && components.back() == component) continue;
    components.push_back(std::move(component));
  }
  if (components.size() > first_frame) return true;
  const std::string_view value = string_member(exception, "value");
  if (value.empty()) return !type.empty();
  components.push_back("value: " + normalize_message(value));
  return true;
}

std::string message_title(const detail::message_text& message) {
  const std::string_view line =
      first_line(message.formatted.empty() ? message.message_template : message.formatted);
  return line.empty() ? std::string{"<untitled>"} : bounded(line);
}

// "Type: first line of the value" of the newest exception; the message instead when
// that exception is synthetic and the event has one.
std::string exception_title(const rapidjson::Value& exception,
                            const detail::message_text& message) {
  if (is_synthetic(exception) && !message.empty()) return message_title(message);
  const std::string_view type = string_member(exception, "type");
  const std::string_view value = first_line(string_member(exception, "value"));
  if (type.empty() && value.empty()) return "<untitled>";
  if (type.empty()) return bounded(value);
  if (value.empty()) return bounded(type);
  return bounded(fmt::format("{}: {}", type, value));
}

// The exception strategy, when it applies: some exception has a type, or the event has
// no message to stand for and its exceptions have frames or values.
bool exception_grouping(const rapidjson::Value& event, const detail::message_text& message,
                        default_grouping& grouping) {
  const rapidjson::Value& exceptions = detail::values_of(find_member(event, "exception"));
  if (exceptions.Empty()) return false;
  const auto chain = exceptions.GetArray();
  const bool typed = std::any_of(chain.begin(), chain.end(), [](const rapidjson::Value& exception) {
    return !grouping_type(exception).empty();
  });
  if (!typed && !message.empty()) return false;
  const bool app_only =
      std::any_of(chain.begin(), chain.end(), [](const rapidjson::Value& exception) {
        const auto frames = detail::frames_of(exception).GetArray();
        return std::any_of(frames.begin(), frames.end(), detail::is_in_app);
      });
  bool contributes = false;
  for (const rapidjson::Value& exception : chain) {
    contributes = add_exception(event, exception, app_only, grouping.components) || contributes;
  }
  if (!contributes) {
    grouping.components.clear();
    return false;
  }
  grouping.kind = grouping_kind::exception;
  grouping.title = exception_title(chain[chain.Size() - 1], message);
  return true;
}

default_grouping default_key(const rapidjson::Value& event, const detail::message_text& message) {
  default_grouping grouping;
  if (exception_grouping(event, message, grouping)) return grouping;
  const bool templated = !message.message_template.empty();
  grouping.kind = templated ? grouping_kind::message_template : grouping_kind::message;
  grouping.components.push_back(
      "message: " + normalize_message(templated ? message.message_template : message.formatted));
  grouping.title = message_title(message);
  return grouping;
}

// What fingerprint variables refer to.
struct fingerprint_context {
  const rapidjson::Value& event;
  const rapidjson::Value* newest_exception;  // the last in the list; nullptr if none
  const detail::message_text& message;
  const rapidjson::Value* culprit_frame;  // nullptr if no frame has a known function
};

std::string_view or_placeholder(std::string_view value, std::string_view placeholder) {
  return value.empty() ? placeholder : value;
}

// The value of fingerprint variable `name` (Sentry's resolve_fingerprint_variable),
// with Sentry's "<no-...>" placeholders; nothing for unknown names.
std::optional<std::string> variable_value(std::string_view name,
                                          const fingerprint_context& context) {
  const rapidjson::Value& event = context.event;
  const auto exception_field = [&context](std::string_view field) {
    return context.newest_exception != nullptr ? string_member(*context.newest_exception, field)
                                               : std::string_view{};
  };
  const auto frame_field = [&context](std::string_view field) {
    return context.culprit_frame != nullptr ? string_member(*context.culprit_frame, field)
                                            : std::string_view{};
  };
  if (name == "type" || name == "error.type") {
    return std::string{or_placeholder(exception_field("type"), "<no-type>")};
  }
  if (name == "value" || name == "error.value") {
    return std::string{or_placeholder(exception_field("value"), "<no-value>")};
  }
  if (name == "message") {
    std::string_view text = context.message.formatted;
    if (text.empty()) text = context.message.message_template;
    if (text.empty()) text = exception_field("value");
    return std::string{or_placeholder(text, "<no-message>")};
  }
  if (name == "transaction") {
    return std::string{or_placeholder(string_member(event, "transaction"), "<no-transaction>")};
  }
  if (name == "level") {
    // Relay gives every event a level; "error" is its default.
    return std::string{or_placeholder(string_member(event, "level"), "error")};
  }
  if (name == "function" || name == "stack.function") {
    const std::string_view function = context.culprit_frame != nullptr
                                          ? frame_function(event, *context.culprit_frame)
                                          : std::string_view{};
    return std::string{or_placeholder(function, "<no-function>")};
  }
  if (name == "module" || name == "stack.module") {
    return std::string{or_placeholder(frame_field("module"), "<no-module>")};
  }
  if (constexpr std::string_view kTags = "tags.";
      starts_with(name, kTags) && name.size() > kTags.size()) {
    const std::string_view tag = name.substr(kTags.size());
    const std::string_view value = detail::tag_value(event, tag);
    return value.empty() ? fmt::format("<no-value-for-tag-{}>", tag) : std::string{value};
  }
  return std::nullopt;
}

// The variable named by `part` when all of it is one "{{ name }}" (any spacing).
std::string_view whole_variable(std::string_view part) {
  if (!starts_with(part, "{{") || !ends_with(part, "}}") || part.size() < 4) return {};
  const std::string_view name = trim(part.substr(2, part.size() - 4));
  return std::any_of(name.begin(), name.end(), is_space) ? std::string_view{} : name;
}

// `part` with every "{{ name }}" of a known variable replaced by its value.
std::string resolve_variables(std::string_view part, const fingerprint_context& context) {
  std::string resolved;
  while (!part.empty()) {
    const std::size_t open = part.find("{{");
    const std::size_t close = open == std::string_view::npos ? open : part.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    resolved.append(part.substr(0, open));
    const std::string_view variable = part.substr(open, close + 2 - open);
    const std::optional<std::string> value = variable_value(whole_variable(variable), context);
    resolved.append(value ? std::string_view{*value} : variable);
    part.remove_prefix(close + 2);
  }
  resolved.append(part);
  return resolved;
}

// A fingerprint element as text: strings as they are, integers in decimal (SDKs send
// status codes so); anything else is skipped.
bool fingerprint_part(const rapidjson::Value& element, std::string& text) {
  if (element.IsString()) {
    text.assign(element.GetString(), element.GetStringLength());
  } else if (element.IsInt64()) {
    text = std::to_string(element.GetInt64());
  } else if (element.IsUint64()) {
    text = std::to_string(element.GetUint64());
  } else {
    return false;
  }
  return true;
}

// The fingerprint's components ("{{ default }}" replaced by `defaults`); false when the
// event has no usable fingerprint.
bool fingerprint_components(const rapidjson::Value& event, const fingerprint_context& context,
                            const std::vector<std::string>& defaults,
                            std::vector<std::string>& components) {
  const rapidjson::Value* fingerprint = find_member(event, "fingerprint");
  if (fingerprint == nullptr || !fingerprint->IsArray()) return false;
  std::string part;
  for (const rapidjson::Value& element : fingerprint->GetArray()) {
    if (!fingerprint_part(element, part)) continue;
    if (whole_variable(part) == "default") {
      components.insert(components.end(), defaults.begin(), defaults.end());
    } else {
      components.push_back("fingerprint: " + resolve_variables(part, context));
    }
  }
  return !components.empty();
}

const rapidjson::Value* culprit_frame(const rapidjson::Value& event) {
  for (const rapidjson::Value* frame : detail::location_frames(event)) {
    if (!is_unknown_function(frame_function(event, *frame))) return frame;
  }
  return nullptr;
}

// SHA-256 as OpenSSL implements it, fetched once: fetching it for each digest (what
// EVP_sha256() with EVP_Digest does) cost as much as hashing a key.
const EVP_MD* sha256() {
  static const EVP_MD* const fetched = [] {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr) throw std::bad_alloc{};  // the default provider always has it
    return md;
  }();
  return fetched;
}

void append_field(std::string& preimage, std::string_view field) {
  fmt::format_to(std::back_inserter(preimage), FMT_COMPILE("{}:"), field.size());
  preimage.append(field);
}

// SHA-256 of the version, the owner and the components, each length-prefixed so that
// no two different lists hash the same text.
std::string hash_key(const event_owner& owner, const std::vector<std::string>& components) {
  std::string preimage = fmt::format(FMT_COMPILE("warden-group-key/{}\n"), kGroupingVersion);
  append_field(preimage, owner.team);
  append_field(preimage, owner.function);
  append_field(preimage, owner.product);
  for (const std::string& component : components) append_field(preimage, component);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // Hashing in memory fails only when OpenSSL cannot allocate.
  if (EVP_Digest(preimage.data(), preimage.size(), digest.data(), &size, sha256(), nullptr) != 1) {
    throw std::bad_alloc{};
  }
  return absl::BytesToHexString(
      absl::string_view{reinterpret_cast<const char*>(digest.data()), size});
}

}  // namespace

std::string_view grouping_kind_name(grouping_kind kind) noexcept {
  switch (kind) {
    case grouping_kind::fingerprint:
      return "fingerprint";
    case grouping_kind::exception:
      return "exception";
    case grouping_kind::message_template:
      return "template";
    case grouping_kind::message:
      return "message";
  }
  return "message";
}

group_key compute_group_key(const rapidjson::Value& event, const event_owner& owner) {
  const detail::message_text message = detail::message_of(event);
  default_grouping grouping = default_key(event, message);
  group_key key;
  const rapidjson::Value* frame = culprit_frame(event);
  key.culprit = bounded(frame != nullptr ? frame_function(event, *frame)
                                         : string_member(event, "transaction"));
  const rapidjson::Value& exceptions = detail::values_of(find_member(event, "exception"));
  const fingerprint_context context{
      event, exceptions.Empty() ? nullptr : &exceptions[exceptions.Size() - 1], message, frame};
  if (fingerprint_components(event, context, grouping.components, key.components)) {
    key.kind = grouping_kind::fingerprint;
  } else {
    key.kind = grouping.kind;
    key.components = std::move(grouping.components);
  }
  key.title = std::move(grouping.title);
  key.hash = hash_key(owner, key.components);
  return key;
}

}  // namespace warden::sink

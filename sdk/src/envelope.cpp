#include "envelope.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <algorithm>
#include <iterator>

#include "warden/ownership/detail/utf8.hpp"

namespace warden::sdk::detail {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// How much of the event to keep; each step of fit_event() shrinks one of these.
struct payload_budget {
  payload_limits limits;
  bool keep_breadcrumbs = true;
  bool keep_extra = true;
};

double unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

void write_string(json_writer& writer, std::string_view text, std::size_t max_bytes) {
  std::string valid;
  valid.reserve(std::min(text.size(), max_bytes));
  warden::detail::append_valid_utf8(valid, text, max_bytes);
  writer.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

void write_key(json_writer& writer, std::string_view key) {
  writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

// Writes "key": "value" when value is not empty.
void write_field(json_writer& writer, std::string_view key, std::string_view value,
                 std::size_t max_bytes) {
  if (value.empty()) return;
  write_key(writer, key);
  write_string(writer, value, max_bytes);
}

void write_string_map(json_writer& writer, std::string_view key,
                      const std::map<std::string, std::string>& values, std::size_t max_key_bytes,
                      std::size_t max_value_bytes) {
  if (values.empty()) return;
  write_key(writer, key);
  writer.StartObject();
  for (const auto& [name, value] : values) {
    write_string(writer, name, max_key_bytes);
    write_string(writer, value, max_value_bytes);
  }
  writer.EndObject();
}

void write_frames(json_writer& writer, const std::vector<stack_frame>& frames,
                  const payload_limits& limits) {
  write_key(writer, "stacktrace");
  writer.StartObject();
  write_key(writer, "frames");
  writer.StartArray();
  // Too many frames: keep the outermost and the innermost halves, as Sentry does.
  const std::size_t keep = std::min(frames.size(), limits.max_frames);
  const std::size_t head = keep / 2;
  const std::size_t tail = keep - head;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i >= head && i < frames.size() - tail) continue;
    const stack_frame& frame = frames[i];
    writer.StartObject();
    write_field(writer, "function", frame.function, limits.max_string_bytes);
    write_field(writer, "package", frame.package, limits.max_string_bytes);
    write_field(writer, "filename", frame.filename, limits.max_string_bytes);
    if (frame.line > 0) {
      write_key(writer, "lineno");
      writer.Int(frame.line);
    }
    if (frame.instruction_address != 0) {
      write_key(writer, "instruction_addr");
      const std::string address = fmt::format("{:#x}", frame.instruction_address);
      writer.String(address.data(), static_cast<rapidjson::SizeType>(address.size()));
    }
    write_key(writer, "in_app");
    writer.Bool(frame.in_app);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
}

void write_exceptions(json_writer& writer, const event& event, const payload_limits& limits) {
  if (event.exceptions.empty()) return;
  write_key(writer, "exception");
  writer.StartObject();
  write_key(writer, "values");
  writer.StartArray();
  for (const exception_value& exception : event.exceptions) {
    writer.StartObject();
    write_field(writer, "type", exception.type, limits.max_string_bytes);
    write_field(writer, "value", exception.value, limits.max_message_bytes);
    write_key(writer, "mechanism");
    writer.StartObject();
    write_field(writer, "type", exception.mechanism.type, limits.max_string_bytes);
    write_key(writer, "handled");
    writer.Bool(exception.mechanism.handled);
    if (exception.mechanism.synthetic) {
      write_key(writer, "synthetic");
      writer.Bool(true);
    }
    if (event.exceptions.size() > 1) {
      write_key(writer, "exception_id");
      writer.Int(exception.mechanism.exception_id);
      if (exception.mechanism.parent_id) {
        write_key(writer, "parent_id");
        writer.Int(*exception.mechanism.parent_id);
      }
    }
    writer.EndObject();
    if (!exception.frames.empty()) write_frames(writer, exception.frames, limits);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
}

void write_message(json_writer& writer, const event& event, const payload_limits& limits) {
  if (event.message_template.empty()) {
    write_field(writer, "message", event.message, limits.max_message_bytes);
    return;
  }
  write_key(writer, "logentry");
  writer.StartObject();
  write_field(writer, "message", event.message_template, limits.max_message_bytes);
  write_field(writer, "formatted", event.message, limits.max_message_bytes);
  if (!event.message_params.empty()) {
    write_key(writer, "params");
    writer.StartArray();
    for (const std::string& param : event.message_params) {
      write_string(writer, param, limits.max_string_bytes);
    }
    writer.EndArray();
  }
  writer.EndObject();
}

void write_breadcrumbs(json_writer& writer, const event& event, const payload_limits& limits) {
  if (event.breadcrumbs.empty() || limits.max_breadcrumbs == 0) return;
  write_key(writer, "breadcrumbs");
  writer.StartObject();
  write_key(writer, "values");
  writer.StartArray();
  const std::size_t first =
      event.breadcrumbs.size() - std::min(event.breadcrumbs.size(), limits.max_breadcrumbs);
  for (std::size_t i = first; i < event.breadcrumbs.size(); ++i) {
    const breadcrumb& crumb = event.breadcrumbs[i];
    writer.StartObject();
    write_key(writer, "timestamp");
    writer.Double(unix_seconds(crumb.timestamp));
    write_field(writer, "type", crumb.type, limits.max_string_bytes);
    write_field(writer, "category", crumb.category, limits.max_string_bytes);
    write_field(writer, "message", crumb.message, limits.max_message_bytes);
    write_key(writer, "level");
    const std::string_view crumb_level = level_name(crumb.level);
    writer.String(crumb_level.data(), static_cast<rapidjson::SizeType>(crumb_level.size()));
    write_string_map(writer, "data", crumb.data, limits.max_string_bytes, limits.max_string_bytes);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
}

std::string write_event(const event& event, const sdk_identity& sdk, const payload_budget& budget) {
  const payload_limits& limits = budget.limits;
  rapidjson::StringBuffer buffer;
  json_writer writer{buffer};
  writer.StartObject();
  write_field(writer, "event_id", event.event_id, 64);
  write_key(writer, "timestamp");
  writer.Double(unix_seconds(event.timestamp));
  write_key(writer, "platform");
  writer.String("native");
  write_key(writer, "level");
  const std::string_view event_level = level_name(event.level);
  writer.String(event_level.data(), static_cast<rapidjson::SizeType>(event_level.size()));
  write_field(writer, "logger", event.logger, limits.max_string_bytes);
  write_message(writer, event, limits);
  write_exceptions(writer, event, limits);
  if (!event.stack.empty()) {
    write_key(writer, "threads");
    writer.StartObject();
    write_key(writer, "values");
    writer.StartArray();
    writer.StartObject();
    write_key(writer, "current");
    writer.Bool(true);
    write_frames(writer, event.stack, limits);
    writer.EndObject();
    writer.EndArray();
    writer.EndObject();
  }
  write_string_map(writer, "tags", event.tags, limits.max_string_bytes, limits.max_tag_value_bytes);
  if (budget.keep_extra) {
    write_string_map(writer, "extra", event.extra, limits.max_string_bytes,
                     limits.max_message_bytes);
  }
  if (!event.contexts.empty()) {
    write_key(writer, "contexts");
    writer.StartObject();
    for (const auto& [name, fields] : event.contexts) {
      write_string(writer, name, limits.max_string_bytes);
      writer.StartObject();
      for (const auto& [field, value] : fields) {
        write_string(writer, field, limits.max_string_bytes);
        write_string(writer, value, limits.max_string_bytes);
      }
      writer.EndObject();
    }
    writer.EndObject();
  }
  if (event.user) {
    write_key(writer, "user");
    writer.StartObject();
    write_field(writer, "id", event.user->id, limits.max_string_bytes);
    write_field(writer, "email", event.user->email, limits.max_string_bytes);
    write_field(writer, "username", event.user->username, limits.max_string_bytes);
    write_field(writer, "ip_address", event.user->ip_address, limits.max_string_bytes);
    writer.EndObject();
  }
  if (!event.fingerprint.empty()) {
    write_key(writer, "fingerprint");
    writer.StartArray();
    for (const std::string& part : event.fingerprint) {
      write_string(writer, part, limits.max_string_bytes);
    }
    writer.EndArray();
  }
  if (budget.keep_breadcrumbs) write_breadcrumbs(writer, event, limits);
  write_field(writer, "release", event.release, limits.max_string_bytes);
  write_field(writer, "environment", event.environment, limits.max_string_bytes);
  write_field(writer, "dist", event.dist, limits.max_string_bytes);
  write_field(writer, "server_name", event.server_name, limits.max_string_bytes);
  write_field(writer, "transaction", event.transaction, limits.max_string_bytes);
  write_key(writer, "sdk");
  writer.StartObject();
  write_field(writer, "name", sdk.name, limits.max_string_bytes);
  write_field(writer, "version", sdk.version, limits.max_string_bytes);
  writer.EndObject();
  writer.EndObject();
  return std::string{buffer.GetString(), buffer.GetSize()};
}

// The envelope's dynamic sampling context, when `event` belongs to a trace.
void write_trace_header(json_writer& writer, const event& event, std::string_view public_key) {
  const auto trace = event.contexts.find("trace");
  if (trace == event.contexts.end()) return;
  const auto trace_id = trace->second.find("trace_id");
  if (trace_id == trace->second.end()) return;
  write_key(writer, "trace");
  writer.StartObject();
  write_field(writer, "trace_id", trace_id->second, 64);
  write_field(writer, "public_key", public_key, 256);
  write_field(writer, "release", event.release, 256);
  write_field(writer, "environment", event.environment, 256);
  write_field(writer, "transaction", event.transaction, 256);
  writer.EndObject();
}

}  // namespace

std::string_view level_name(level value) noexcept {
  switch (value) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warning:
      return "warning";
    case level::error:
      return "error";
    case level::fatal:
      return "fatal";
  }
  return "error";
}

std::string rfc3339(std::chrono::system_clock::time_point time) {
  const auto millis = std::chrono::time_point_cast<std::chrono::milliseconds>(time);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(millis)),
                     millis.time_since_epoch().count() % 1000);
}

std::string event_payload(const event& event, const sdk_identity& sdk,
                          const payload_limits& limits) {
  payload_budget budget{limits};
  std::string payload = write_event(event, sdk, budget);
  // Shrink step by step until the event fits; the last step always fits because every
  // string is then short and every list bounded.
  for (int step = 0; payload.size() > limits.max_event_bytes && step < 4; ++step) {
    switch (step) {
      case 0:
        budget.keep_breadcrumbs = false;
        break;
      case 1:
        budget.keep_extra = false;
        break;
      case 2:
        budget.limits.max_frames = std::min<std::size_t>(budget.limits.max_frames, 50);
        break;
      default:
        budget.limits.max_message_bytes = std::min<std::size_t>(limits.max_message_bytes, 1024);
        budget.limits.max_string_bytes = std::min<std::size_t>(limits.max_string_bytes, 128);
        budget.limits.max_frames = std::min<std::size_t>(budget.limits.max_frames, 20);
        break;
    }
    payload = write_event(event, sdk, budget);
  }
  return payload;
}

std::string event_envelope(const event& event, const sdk_identity& sdk,
                           std::chrono::system_clock::time_point sent_at,
                           std::string_view public_key, const payload_limits& limits) {
  std::string envelope = envelope_header(sent_at, sdk, &event, public_key);
  append_item(envelope, "event", event_payload(event, sdk, limits));
  return envelope;
}

std::string envelope_header(std::chrono::system_clock::time_point sent_at, const sdk_identity& sdk,
                            const event* event, std::string_view public_key) {
  rapidjson::StringBuffer header;
  json_writer writer{header};
  writer.StartObject();
  if (event != nullptr) write_field(writer, "event_id", event->event_id, 64);
  write_key(writer, "sent_at");
  const std::string sent = rfc3339(sent_at);
  writer.String(sent.data(), static_cast<rapidjson::SizeType>(sent.size()));
  write_key(writer, "sdk");
  writer.StartObject();
  write_field(writer, "name", sdk.name, 256);
  write_field(writer, "version", sdk.version, 256);
  writer.EndObject();
  if (event != nullptr) write_trace_header(writer, *event, public_key);
  writer.EndObject();
  std::string line{header.GetString(), header.GetSize()};
  line += '\n';
  return line;
}

void append_item(std::string& envelope, std::string_view type, std::string_view payload) {
  fmt::format_to(std::back_inserter(envelope), "{{\"type\":\"{}\",\"length\":{}}}\n{}\n", type,
                 payload.size(), payload);
}

}  // namespace warden::sdk::detail

#include "ingest/envelope.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "ingest/json.hpp"

namespace warden::sink {
namespace {

/// Item types that share Relay's "event" size budget (relay-server utils/sizes.rs).
constexpr std::array<std::string_view, 7> kEventLikeTypes = {
    "event",        "transaction",    "security", "raw_security",
    "replay_event", "user_report_v2", "form_data"};

std::string_view message_of(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}

absl::Status malformed(std::string_view where, std::size_t offset, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("malformed envelope: {} at byte {}: {}", where, offset, why));
}

absl::Status over_limit(std::string_view what, std::size_t size, std::size_t limit,
                        std::string_view field) {
  return absl::OutOfRangeError(
      fmt::format("{} is {} bytes, over the {}-byte limit ({})", what, size, limit, field));
}

/// `object[name]` as a string in `out`. Absent or null leaves `out` as it is; false for
/// any other type.
bool read_string(const rapidjson::Value& object, const char* name, std::string& out) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || member->value.IsNull()) return true;
  if (!member->value.IsString()) return false;
  out.assign(member->value.GetString(), member->value.GetStringLength());
  return true;
}

/// `object[name]` as a non-negative integer in `out`, as read_string() does for strings.
bool read_count(const rapidjson::Value& object, const char* name,
                std::optional<std::uint64_t>& out) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || member->value.IsNull()) return true;
  if (!member->value.IsUint64()) return false;
  out = member->value.GetUint64();
  return true;
}

/// Splits one envelope, keeping its position and what it has found so far.
class envelope_parser {
 public:
  envelope_parser(std::string_view body, const envelope_limits& limits)
      : body_(body), limits_(limits) {}

  absl::StatusOr<envelope> run() && {
    if (body_.size() > limits_.max_envelope_bytes) {
      return over_limit("the envelope", body_.size(), limits_.max_envelope_bytes,
                        "max_envelope_bytes");
    }
    if (absl::Status status = read_envelope_header(); !status.ok()) return status;
    while (position_ < body_.size()) {
      if (result_.items.size() == limits_.max_items) {
        return absl::OutOfRangeError(
            fmt::format("the envelope has more than {} items (max_items)", limits_.max_items));
      }
      if (absl::Status status = read_item(); !status.ok()) return status;
    }
    return std::move(result_);
  }

 private:
  /// Parses the header line at position_, called `where` in messages, and moves past its
  /// newline. `line` is set to the line as received.
  absl::StatusOr<rapidjson::Document> read_header(std::string_view where, std::string_view& line) {
    const std::size_t start = position_;
    const std::size_t end = std::min(body_.find('\n', start), body_.size());
    line = body_.substr(start, end - start);
    position_ = std::min(end + 1, body_.size());
    if (line.size() > limits_.max_header_bytes) {
      return over_limit(fmt::format("{} at byte {}", where, start), line.size(),
                        limits_.max_header_bytes, "max_header_bytes");
    }
    if (line.empty()) {
      return malformed(where, start,
                       "an empty line where a header was due (only one newline may follow "
                       "the last item)");
    }
    absl::StatusOr<rapidjson::Document> header = parse_json(line);
    if (!header.ok()) return malformed(where, start, message_of(header.status()));
    if (!header->IsObject()) return malformed(where, start, "not a JSON object");
    return header;
  }

  absl::Status read_envelope_header() {
    constexpr std::string_view kWhere = "the envelope header";
    std::string_view line;
    const absl::StatusOr<rapidjson::Document> header = read_header(kWhere, line);
    if (!header.ok()) return header.status();
    result_.header_json = std::string(line);

    std::string event_id;
    if (!read_string(*header, "event_id", event_id)) {
      return malformed(kWhere, 0, "\"event_id\" must be a string");
    }
    if (!event_id.empty()) {
      absl::StatusOr<std::string> normalized = normalize_event_id(event_id);
      if (!normalized.ok()) return malformed(kWhere, 0, message_of(normalized.status()));
      result_.event_id = *std::move(normalized);
    }
    if (!read_string(*header, "dsn", result_.dsn)) {
      return malformed(kWhere, 0, "\"dsn\" must be a string");
    }
    // sdk is informational: a malformed one is ignored, not a reason to lose the event.
    if (const auto sdk = header->FindMember("sdk");
        sdk != header->MemberEnd() && sdk->value.IsObject()) {
      read_string(sdk->value, "name", result_.sdk_name);
      read_string(sdk->value, "version", result_.sdk_version);
    }
    return absl::OkStatus();
  }

  absl::Status read_item() {
    const std::size_t ordinal = result_.items.size() + 1;
    const std::size_t start = position_;
    const std::string where = fmt::format("the header of item {}", ordinal);
    std::string_view line;
    const absl::StatusOr<rapidjson::Document> header = read_header(where, line);
    if (!header.ok()) return header.status();

    envelope_item item;
    item.header_json = std::string(line);
    if (!read_string(*header, "type", item.type) || item.type.empty()) {
      return malformed(where, start, "\"type\" must be a non-empty string");
    }
    std::optional<std::uint64_t> length;
    std::optional<std::uint64_t> count;
    if (!read_count(*header, "length", length)) {
      return malformed(where, start, "\"length\" must be a non-negative integer");
    }
    if (!read_count(*header, "item_count", count)) {
      return malformed(where, start, "\"item_count\" must be a non-negative integer");
    }
    item.item_count = count.value_or(0);
    for (const auto& [name, field] :
         {std::pair{"content_type", &item.content_type}, std::pair{"filename", &item.filename},
          std::pair{"attachment_type", &item.attachment_type}}) {
      if (!read_string(*header, name, *field)) {
        return malformed(where, start, fmt::format("\"{}\" must be a string", name));
      }
    }

    const std::string what = fmt::format("item {} ({})", ordinal, item.type);
    const std::size_t payload_start = position_;
    std::size_t payload_end = 0;
    if (length) {
      const std::size_t left = body_.size() - payload_start;
      if (*length > left) {
        return malformed(what, payload_start,
                         fmt::format("its length is {} but only {} bytes are left", *length, left));
      }
      payload_end = payload_start + *length;
      if (payload_end < body_.size() && body_[payload_end] != '\n') {
        return malformed(what, payload_end,
                         fmt::format("its {}-byte payload is followed by {:?}, not by a newline "
                                     "or the end",
                                     *length, body_[payload_end]));
      }
    } else {
      payload_end = std::min(body_.find('\n', payload_start), body_.size());
    }
    item.payload = body_.substr(payload_start, payload_end - payload_start);
    position_ = std::min(payload_end + 1, body_.size());

    if (absl::Status status = check_item(item, what, count.has_value()); !status.ok()) {
      return status;
    }
    if (item.type == "event" || item.type == "transaction") event_ordinal_ = ordinal;
    result_.items.push_back(std::move(item));
    return absl::OkStatus();
  }

  /// The rules on one item's size and on how many of its type an envelope may hold.
  absl::Status check_item(const envelope_item& item, std::string_view what, bool container) {
    const bool event_like = std::find(kEventLikeTypes.begin(), kEventLikeTypes.end(), item.type) !=
                                kEventLikeTypes.end() ||
                            (item.type == "span" && !container);
    if (event_like && item.payload.size() > limits_.max_event_bytes) {
      return over_limit(what, item.payload.size(), limits_.max_event_bytes, "max_event_bytes");
    }
    if (!event_like && container && item.payload.size() > limits_.max_container_bytes) {
      return over_limit(what, item.payload.size(), limits_.max_container_bytes,
                        "max_container_bytes");
    }
    if (item.type == "attachment" && item.payload.size() > limits_.max_attachment_bytes) {
      return over_limit(what, item.payload.size(), limits_.max_attachment_bytes,
                        "max_attachment_bytes");
    }
    if ((item.type == "event" || item.type == "transaction") && event_ordinal_ != 0) {
      return absl::InvalidArgumentError(fmt::format(
          "malformed envelope: {} is a second event or transaction (item {} is one); an "
          "envelope carries at most one",
          what, event_ordinal_));
    }
    if (item.type == "session" && ++sessions_ > limits_.max_sessions) {
      return absl::OutOfRangeError(fmt::format(
          "the envelope has more than {} session items (max_sessions)", limits_.max_sessions));
    }
    return absl::OkStatus();
  }

  std::string_view body_;
  const envelope_limits& limits_;
  std::size_t position_ = 0;       // the next byte to read
  std::size_t event_ordinal_ = 0;  // which item is the event or transaction; 0: none yet
  std::size_t sessions_ = 0;       // session items so far
  envelope result_;
};

}  // namespace

absl::StatusOr<envelope> parse_envelope(std::string_view body, const envelope_limits& limits) {
  return envelope_parser(body, limits).run();
}

absl::StatusOr<std::string> normalize_event_id(std::string_view text) {
  const bool dashed = text.size() == 36;
  std::string hex;
  if (text.size() == 32 || dashed) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
        if (c != '-') break;
      } else if (absl::ascii_isxdigit(c)) {
        hex.push_back(absl::ascii_tolower(c));
      } else {
        break;
      }
    }
  }
  if (hex.size() != 32) {
    return absl::InvalidArgumentError(fmt::format(
        "event_id {:?} is not a UUID: send 32 hex digits, with or without the dashes of the "
        "8-4-4-4-12 form",
        text));
  }
  return hex;
}

}  // namespace warden::sink

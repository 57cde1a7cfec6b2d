#include "ingest/json.hpp"

#include <fmt/format.h>
#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace warden::sink {
namespace {

/// RapidJSON SAX handler that builds `document` (whose own handler functions do the
/// building) and stops the parse at the first value that passes the limits, saying why
/// in `failure`.
class limited_builder {
 public:
  limited_builder(rapidjson::Document& document, const json_limits& limits)
      : document_(document),
        limits_(limits),
        max_depth_(std::min(limits.max_depth, kMaxJsonDepth)) {}

  bool Null() { return document_.Null(); }
  bool Bool(bool value) { return document_.Bool(value); }
  bool Int(int value) { return document_.Int(value); }
  bool Uint(unsigned value) { return document_.Uint(value); }
  bool Int64(std::int64_t value) { return document_.Int64(value); }
  bool Uint64(std::uint64_t value) { return document_.Uint64(value); }
  bool Double(double value) { return document_.Double(value); }
  // Called only with kParseNumbersAsStringsFlag, which parse_json does not set; the
  // reader's handler concept needs it all the same.
  bool RawNumber(const char* text, rapidjson::SizeType size, bool copy) {
    return document_.RawNumber(text, size, copy);
  }
  bool String(const char* text, rapidjson::SizeType size, bool copy) {
    return fits(size) && document_.String(text, size, copy);
  }
  bool Key(const char* text, rapidjson::SizeType size, bool copy) {
    return fits(size) && document_.Key(text, size, copy);
  }
  bool StartObject() { return enter() && document_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return document_.EndObject(members);
  }
  bool StartArray() { return enter() && document_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return document_.EndArray(elements);
  }

  /// Why the parse was stopped; empty when the handler did not stop it.
  std::string failure;

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    failure = fmt::format("nested deeper than the limit of {} arrays and objects", max_depth_);
    return false;
  }
  bool fits(rapidjson::SizeType size) {
    if (size <= limits_.max_string_bytes) return true;
    failure =
        fmt::format("a string of {} bytes, over the {}-byte limit", size, limits_.max_string_bytes);
    return false;
  }

  rapidjson::Document& document_;
  const json_limits& limits_;
  const std::size_t max_depth_;  // the recursion's bound
  std::size_t depth_ = 0;
};

// The offset of the first byte of `text` that does not begin valid UTF-8 (RapidJSON's
// check: no overlong forms, surrogates or code points past U+10FFFF); none when it is
// valid. ASCII is skipped eight bytes at a time.
std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080;
  rapidjson::MemoryStream stream(text.data(), text.size());
  struct ignored {
    void Put(char) {}
  } decoded;  // where Validate copies what it reads
  while (stream.src_ != stream.end_) {
    if (std::uint64_t word = 0; stream.end_ - stream.src_ >= 8) {
      std::memcpy(&word, stream.src_, sizeof word);
      if ((word & kHighBits) == 0) {
        stream.src_ += sizeof word;
        continue;
      }
    }
    const std::size_t at = stream.Tell();
    if (!rapidjson::UTF8<>::Validate(stream, decoded)) return at;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<rapidjson::Document> parse_json(std::string_view text, const json_limits& limits) {
  // The UTF-8 is checked here, not by the parser: RapidJSON scans strings 16 bytes at a
  // time (RAPIDJSON_SSE2) only when it does not validate them. The ingest path of a
  // 50 kB event takes 14% less time (4.4 kB: 3%).
  if (const std::optional<std::size_t> invalid = invalid_utf8_at(text)) {
    return absl::InvalidArgumentError(
        fmt::format("invalid JSON at byte {}: invalid UTF-8", *invalid));
  }
  // The scan reads aligned 16-byte blocks up to the one holding the text's end: a copy
  // ends with a NUL and 15 more bytes, so that no read leaves it.
  constexpr std::size_t kScanPadding = 15;
  std::string terminated;
  terminated.reserve(text.size() + 1 + kScanPadding);
  terminated.append(text).append(1 + kScanPadding, '\0');
  // Recursive, which costs 7% less than RapidJSON's iterative parser: the builder stops
  // the parse at the depth limit, so the recursion is as deep as that limit at most.
  rapidjson::Document document;
  limited_builder builder(document, limits);
  rapidjson::StringStream stream(terminated.c_str());
  rapidjson::Reader reader;
  rapidjson::ParseResult result;
  auto parse = [&](rapidjson::Document&) {
    result = reader.Parse<rapidjson::kParseNoFlags>(stream, builder);
    return !result.IsError();
  };
  document.Populate(parse);

  if (!builder.failure.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("JSON over a limit at byte {}: {}", result.Offset(), builder.failure));
  }
  if (result.IsError()) {
    return absl::InvalidArgumentError(fmt::format("invalid JSON at byte {}: {}", result.Offset(),
                                                  rapidjson::GetParseError_En(result.Code())));
  }
  // The stream reads a NUL byte as the end of the text: what follows one is not JSON.
  if (stream.Tell() != text.size()) {
    return absl::InvalidArgumentError(
        fmt::format("invalid JSON at byte {}: a NUL byte after the value", stream.Tell()));
  }
  absl::StatusOr<rapidjson::Document> parsed(std::move(document));
  return parsed;
}

}  // namespace warden::sink

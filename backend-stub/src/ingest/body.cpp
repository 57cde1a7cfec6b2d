#include "ingest/body.hpp"

#define ZLIB_CONST  // next_in becomes a pointer to const: the body is never written to
#include <zlib.h>

#include <brotli/decode.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "absl/strings/ascii.h"

namespace warden::sink {
namespace {

/// How much output the zlib decoder writes per call. Memory use is at most the limit plus
/// this: each chunk is checked against the limit before it is appended.
constexpr std::size_t kChunkBytes = 64 * 1024;

enum class coding { identity, gzip, deflate, brotli };

/// The coding a Content-Encoding value names (see body.hpp for the accepted values).
absl::StatusOr<coding> parse_coding(std::string_view value) {
  while (!value.empty() && absl::ascii_isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && absl::ascii_isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  std::string name(value);
  absl::AsciiStrToLower(&name);
  if (name.empty() || name == "identity" || name == "utf-8") return coding::identity;
  if (name == "gzip" || name == "x-gzip") return coding::gzip;
  if (name == "deflate") return coding::deflate;
  if (name == "br") return coding::brotli;
  return absl::InvalidArgumentError(fmt::format(
      "unsupported Content-Encoding {:?}: send gzip, deflate, br or no encoding", value));
}

absl::Status too_large(std::string_view name, std::size_t compressed, std::size_t limit) {
  return absl::OutOfRangeError(
      fmt::format("the {} request body ({} bytes) decodes to more than the {}-byte limit; "
                  "send less per request",
                  name, compressed, limit));
}

absl::Status truncated(std::string_view name, std::size_t compressed) {
  return absl::InvalidArgumentError(fmt::format(
      "the {} request body ends after {} bytes, before its compressed data does (truncated?)", name,
      compressed));
}

absl::Status corrupt(std::string_view name, std::size_t offset, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("the {} request body is corrupt near byte {}: {}", name, offset, why));
}

/// Appends `size` bytes to `out` unless that would take it past `limit`.
bool append_within(std::string& out, const char* data, std::size_t size, std::size_t limit) {
  if (size > limit - out.size()) return false;
  out.append(data, size);
  return true;
}

/// True when `body` opens with a zlib header (RFC 1950 section 2.2): method 8, a window
/// of at most 32 KiB and check bits that make the first two bytes a multiple of 31. Raw
/// deflate data would have to start with a non-final stored block with non-zero padding
/// bits to look like that, which no encoder writes.
bool has_zlib_header(std::string_view body) {
  if (body.size() < 2) return false;
  const auto cmf = static_cast<unsigned char>(body[0]);
  const auto flg = static_cast<unsigned char>(body[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

/// Inflates `body` with zlib's `window_bits` (31: gzip, 15: zlib, -15: raw deflate).
/// `several_members`: after the end of one gzip member another may follow (RFC 1952
/// section 2.2), as `cat a.gz b.gz` makes.
absl::StatusOr<std::string> inflate_body(std::string_view body, int window_bits,
                                         bool several_members, std::string_view name,
                                         std::size_t limit) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) {
    return absl::InternalError("zlib could not start a decoder (out of memory?)");
  }
  const std::unique_ptr<z_stream, int (*)(z_streamp)> end_stream(&stream, inflateEnd);

  std::string out;
  const std::unique_ptr<char[]> chunk(new char[kChunkBytes]);
  std::size_t handed_over = 0;  // bytes of `body` given to zlib so far (avail_in is 32-bit)
  for (;;) {
    if (stream.avail_in == 0 && handed_over < body.size()) {
      const std::size_t size =
          std::min<std::size_t>(body.size() - handed_over, std::numeric_limits<uInt>::max());
      stream.next_in = reinterpret_cast<const Bytef*>(body.data() + handed_over);
      stream.avail_in = static_cast<uInt>(size);
      handed_over += size;
    }
    stream.next_out = reinterpret_cast<Bytef*>(chunk.get());
    stream.avail_out = static_cast<uInt>(kChunkBytes);
    const int result = inflate(&stream, Z_NO_FLUSH);
    if (!append_within(out, chunk.get(), kChunkBytes - stream.avail_out, limit)) {
      return too_large(name, body.size(), limit);
    }
    const std::size_t unread = stream.avail_in + (body.size() - handed_over);
    switch (result) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        if (unread == 0) return out;
        if (!several_members) {
          return corrupt(
              name, body.size() - unread,
              fmt::format("{} more bytes follow the end of the compressed data", unread));
        }
        inflateReset(&stream);
        break;
      case Z_BUF_ERROR:  // no progress possible: the input ran out inside the stream
        if (unread == 0) return truncated(name, body.size());
        break;
      case Z_NEED_DICT:
        return corrupt(name, body.size() - unread, "it needs a preset dictionary");
      case Z_DATA_ERROR:
        return corrupt(name, body.size() - unread,
                       stream.msg != nullptr ? stream.msg : "invalid data");
      default:
        return absl::InternalError(
            fmt::format("zlib failed with code {} decoding the {} body", result, name));
    }
  }
}

absl::StatusOr<std::string> brotli_body(std::string_view body, std::size_t limit) {
  const std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (!state) return absl::InternalError("could not start a Brotli decoder (out of memory?)");

  std::string out;
  auto next_in = reinterpret_cast<const std::uint8_t*>(body.data());
  std::size_t available_in = body.size();
  for (;;) {
    // No output buffer: the decoder keeps what it decodes in its window (at most 16 MiB)
    // and BrotliDecoderTakeOutput lends it out, so nothing is copied twice.
    std::size_t available_out = 0;
    const BrotliDecoderResult result = BrotliDecoderDecompressStream(
        state.get(), &available_in, &next_in, &available_out, nullptr, nullptr);
    while (BrotliDecoderHasMoreOutput(state.get())) {  // the window may wrap: take twice
      std::size_t size = 0;
      const std::uint8_t* data = BrotliDecoderTakeOutput(state.get(), &size);
      if (!append_within(out, reinterpret_cast<const char*>(data), size, limit)) {
        return too_large("br", body.size(), limit);
      }
    }
    switch (result) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        if (available_in == 0) return out;
        return corrupt(
            "br", body.size() - available_in,
            fmt::format("{} more bytes follow the end of the compressed data", available_in));
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        break;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:  // the whole body was given
        return truncated("br", body.size());
      case BROTLI_DECODER_RESULT_ERROR:
        return corrupt("br", body.size() - available_in,
                       BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get())));
    }
  }
}

}  // namespace

absl::StatusOr<std::string> decode_body(std::string_view content_encoding, std::string body,
                                        std::size_t max_decoded_bytes) {
  const absl::StatusOr<coding> parsed = parse_coding(content_encoding);
  if (!parsed.ok()) return parsed.status();
  switch (*parsed) {
    case coding::identity:
      if (body.size() > max_decoded_bytes) {
        return absl::OutOfRangeError(
            fmt::format("the request body is {} bytes, over the {}-byte limit; send less per "
                        "request",
                        body.size(), max_decoded_bytes));
      }
      return body;  // as it came (moved): nothing to copy
    case coding::gzip:
      return inflate_body(body, 15 + 16, true, "gzip", max_decoded_bytes);
    case coding::deflate:
      return inflate_body(body, has_zlib_header(body) ? 15 : -15, false, "deflate",
                          max_decoded_bytes);
    case coding::brotli:
      return brotli_body(body, max_decoded_bytes);
  }
  return absl::InternalError("unhandled content coding");
}

}  // namespace warden::sink

// The sink's ingest layer: HTTP status mapping, request body decoding within limits,
// bounded JSON parsing, envelope splitting and authentication, with the failure paths a
// real SDK or a hostile client can reach, and the requests @sentry/node 11 really sent.
#include <doctest/doctest.h>

#include <brotli/encode.h>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ingest/auth.hpp"
#include "ingest/body.hpp"
#include "ingest/envelope.hpp"
#include "ingest/json.hpp"
#include "ingest/status.hpp"

namespace {

using warden::sink::auth_inputs;
using warden::sink::authenticate;
using warden::sink::decode_body;
using warden::sink::envelope_limits;
using warden::sink::http_status;
using warden::sink::json_limits;
using warden::sink::kMaxJsonDepth;
using warden::sink::normalize_event_id;
using warden::sink::parse_envelope;
using warden::sink::parse_json;

constexpr std::size_t kMiB = 1024 * 1024;

#define WARDEN_REQUIRE_OK(result) REQUIRE_MESSAGE((result).ok(), (result).status().ToString())

/// The message of a failed status, to check what the client is told.
std::string message(const absl::Status& status) {
  REQUIRE_FALSE(status.ok());
  return std::string(status.message());
}

/// The error message of a failed result.
template <typename T>
std::string message(const absl::StatusOr<T>& result) {
  return message(result.status());
}

/// The HTTP status a failed result maps to.
template <typename T>
int status_of(const absl::StatusOr<T>& result) {
  return http_status(result.status());
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// `data` compressed by zlib with `window_bits` (31: gzip, 15: zlib, -15: raw deflate).
std::string zlib_compress(std::string_view data, int window_bits) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8,
                       Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  REQUIRE(result == Z_STREAM_END);
  return out;
}

std::string gzip(std::string_view data) { return zlib_compress(data, 15 + 16); }

std::string brotli(std::string_view data) {
  std::string out(BrotliEncoderMaxCompressedSize(data.size()) + 64, '\0');
  std::size_t size = out.size();
  // Quality 5: fast enough for 10 MB under the sanitizers, small enough for a bomb.
  REQUIRE(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, data.size(),
                                reinterpret_cast<const std::uint8_t*>(data.data()), &size,
                                reinterpret_cast<std::uint8_t*>(out.data())) == BROTLI_TRUE);
  out.resize(size);
  return out;
}

/// A body as an SDK may send it: the Content-Encoding and the bytes.
struct encoded_body {
  std::string_view encoding;
  std::string bytes;
};

/// `data` in every compressed form the sink accepts: gzip, zlib and raw deflate, br.
std::vector<encoded_body> compressed_forms(std::string_view data) {
  return {{"gzip", gzip(data)},
          {"deflate", zlib_compress(data, 15)},
          {"deflate", zlib_compress(data, -15)},
          {"br", brotli(data)}};
}

/// Text that compresses a little but not absurdly, so that it spans several chunks.
std::string sample_text(std::size_t size) {
  std::string text;
  for (std::size_t i = 0; text.size() < size; ++i) {
    text += "line " + std::to_string(i * 7919 % 100003) + " of the sample body\n";
  }
  text.resize(size);
  return text;
}

/// The items of `parsed` as "type=payload" lines, so that one CHECK shows them all.
std::string item_list(const warden::sink::envelope& parsed) {
  std::string list;
  for (const warden::sink::envelope_item& item : parsed.items) {
    list += item.type + "=" + std::string(item.payload) + "\n";
  }
  return list;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "cannot open " << path);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace

// ---------------------------------------------------------------------------- status

TEST_CASE("http_status maps each status code the ingest layer uses") {
  CHECK(http_status(absl::OkStatus()) == 200);
  CHECK(http_status(absl::InvalidArgumentError("x")) == 400);
  CHECK(http_status(absl::UnauthenticatedError("x")) == 401);
  CHECK(http_status(absl::PermissionDeniedError("x")) == 403);
  CHECK(http_status(absl::OutOfRangeError("x")) == 413);
  CHECK(http_status(absl::ResourceExhaustedError("x")) == 429);
  CHECK(http_status(absl::UnavailableError("x")) == 503);
  CHECK(http_status(absl::InternalError("x")) == 500);
  CHECK(http_status(absl::NotFoundError("x")) == 500);
  CHECK(http_status(absl::UnknownError("x")) == 500);
}

// ------------------------------------------------------------------------------ body

TEST_CASE("identity bodies, and the bogus encodings SDKs send, are passed through") {
  for (const std::string_view encoding :
       {"", "identity", " Identity ", "utf-8", "UTF-8", "\tUTF-8 "}) {
    CAPTURE(encoding);
    const auto body = decode_body(encoding, "{}\n{\"type\":\"event\"}\n{}", 100);
    WARDEN_REQUIRE_OK(body);
    CHECK(*body == "{}\n{\"type\":\"event\"}\n{}");
  }
}

TEST_CASE("an identity body over the limit is 413 naming the limit and the size") {
  const auto body = decode_body("", std::string(101, 'x'), 100);
  CHECK(status_of(body) == 413);
  CHECK(contains(message(body), "101 bytes"));
  CHECK(contains(message(body), "100-byte limit"));
  CHECK(decode_body("", std::string(100, 'x'), 100).ok());
}

TEST_CASE("unknown encodings and lists of encodings are 400 naming them") {
  for (const std::string_view encoding : {"zstd", "gzip, br", "compress", "x-brotli"}) {
    CAPTURE(encoding);
    const auto body = decode_body(encoding, "abc", kMiB);
    CHECK(status_of(body) == 400);
    CHECK(contains(message(body), encoding));
  }
}

TEST_CASE("gzip and x-gzip bodies decode, in any case, over many chunks") {
  const std::string text = sample_text(300 * 1024);
  for (const std::string_view encoding : {"gzip", "x-gzip", " GZip ", "X-GZIP"}) {
    CAPTURE(encoding);
    const auto body = decode_body(encoding, gzip(text), kMiB);
    WARDEN_REQUIRE_OK(body);
    CHECK(*body == text);
  }
  const auto empty = decode_body("gzip", gzip(""), kMiB);
  WARDEN_REQUIRE_OK(empty);
  CHECK(empty->empty());
}

TEST_CASE("concatenated gzip members decode to the concatenated data") {
  const auto body = decode_body("gzip", gzip("first member, ") + gzip("second member"), kMiB);
  WARDEN_REQUIRE_OK(body);
  CHECK(*body == "first member, second member");
}

TEST_CASE("deflate bodies decode with or without the zlib wrapper") {
  const std::string text = sample_text(200 * 1024);
  SUBCASE("zlib (RFC 1950), what the Sentry docs mean") {
    const auto body = decode_body("deflate", zlib_compress(text, 15), kMiB);
    WARDEN_REQUIRE_OK(body);
    CHECK(*body == text);
  }
  SUBCASE("raw (RFC 1951), what Bugsink expects") {
    const auto body = decode_body("Deflate", zlib_compress(text, -15), kMiB);
    WARDEN_REQUIRE_OK(body);
    CHECK(*body == text);
  }
  SUBCASE("short raw data that cannot carry a zlib header") {
    const auto body = decode_body("deflate", zlib_compress("a", -15), kMiB);
    WARDEN_REQUIRE_OK(body);
    CHECK(*body == "a");
  }
}

TEST_CASE("br bodies decode") {
  const std::string text = sample_text(300 * 1024);
  const auto body = decode_body("br", brotli(text), kMiB);
  WARDEN_REQUIRE_OK(body);
  CHECK(*body == text);
  const auto upper = decode_body(" BR", brotli("x"), kMiB);
  WARDEN_REQUIRE_OK(upper);
  CHECK(*upper == "x");
}

TEST_CASE("the decoded size may reach the limit exactly, and not one byte more") {
  const std::string text = sample_text(100 * 1024);
  for (const encoded_body& body : compressed_forms(text)) {
    CAPTURE(body.encoding);
    CHECK(decode_body(body.encoding, body.bytes, text.size()).ok());
    const auto over = decode_body(body.encoding, body.bytes, text.size() - 1);
    CHECK(status_of(over) == 413);
    CHECK(contains(message(over), body.encoding));
  }
}

TEST_CASE("compression bombs are refused with 413 once the output passes the limit") {
  const std::string zeros(10 * 1000 * 1000, '\0');
  for (const encoded_body& bomb : compressed_forms(zeros)) {
    CAPTURE(bomb.encoding);
    CHECK(bomb.bytes.size() < 20 * 1024);  // 10 MB in at most ~10 KB: a real bomb
    const auto body = decode_body(bomb.encoding, bomb.bytes, kMiB);
    CHECK(status_of(body) == 413);
    CHECK(contains(message(body), "1048576-byte limit"));
    CHECK(contains(message(body), std::to_string(bomb.bytes.size()) + " bytes"));
  }
}

TEST_CASE("a bomb is refused before its end is read: decoding stops at the limit") {
  // Cut the compressed bomb in half: read whole, it would be truncated (400). Refused as
  // too large (413) instead, the decoder cannot have gone past the first ~1 KB of input.
  const std::string zeros(10 * 1000 * 1000, '\0');
  for (const int window_bits : {15 + 16, 15, -15}) {
    CAPTURE(window_bits);
    std::string half = zlib_compress(zeros, window_bits);
    half.resize(half.size() / 2);
    const char* encoding = window_bits == 15 + 16 ? "gzip" : "deflate";
    CHECK(status_of(decode_body(encoding, half, 100 * kMiB)) == 400);
    CHECK(status_of(decode_body(encoding, half, kMiB)) == 413);
  }
}

TEST_CASE("truncated compressed bodies are 400 saying so") {
  const std::string text = sample_text(64 * 1024);
  for (const encoded_body& whole : compressed_forms(text)) {
    CAPTURE(whole.encoding);
    const std::string cut = whole.bytes.substr(0, whole.bytes.size() - 5);
    const auto body = decode_body(whole.encoding, cut, kMiB);
    CHECK(status_of(body) == 400);
    CHECK(contains(message(body), "truncated"));
  }
  for (const std::string_view encoding : {"gzip", "deflate", "br"}) {
    CAPTURE(encoding);
    CHECK(status_of(decode_body(encoding, "", kMiB)) == 400);
  }
}

TEST_CASE("corrupt compressed bodies are 400 with the byte offset") {
  SUBCASE("not compressed at all") {
    for (const std::string_view encoding : {"gzip", "deflate", "br"}) {
      CAPTURE(encoding);
      const auto body =
          decode_body(encoding, "{\"this is\": \"plain JSON, not compressed\"}", kMiB);
      CHECK(status_of(body) == 400);
      CHECK(contains(message(body), "corrupt near byte"));
    }
  }
  SUBCASE("a wrong gzip checksum") {
    std::string body = gzip("hello checksum");
    body[body.size() - 6] = static_cast<char>(body[body.size() - 6] ^ 0x55);
    const auto decoded = decode_body("gzip", body, kMiB);
    CHECK(status_of(decoded) == 400);
    CHECK(contains(message(decoded), "incorrect data check"));
  }
  SUBCASE("bytes after the end of the compressed data") {
    CHECK(contains(message(decode_body("gzip", gzip("x") + "junk", kMiB)), "corrupt"));
    const auto deflate = decode_body("deflate", zlib_compress("x", 15) + "junk", kMiB);
    CHECK(status_of(deflate) == 400);
    CHECK(contains(message(deflate), "4 more bytes follow"));
    const auto br = decode_body("br", brotli("x") + "junk", kMiB);
    CHECK(status_of(br) == 400);
    CHECK(contains(message(br), "4 more bytes follow"));
  }
}

// ------------------------------------------------------------------------------ json

TEST_CASE("parse_json builds a document that does not depend on the text") {
  std::string text = R"({"a":[1,-2,3.5,true,null,"s\u00e9"],"b":{"c":"d"}})";
  const auto document = parse_json(text);
  text.assign(text.size(), 'x');
  WARDEN_REQUIRE_OK(document);
  REQUIRE(document->IsObject());
  const rapidjson::Value& a = (*document)["a"];
  REQUIRE(a.Size() == 6);
  CHECK(a[0].GetInt() == 1);
  CHECK(a[1].GetInt() == -2);
  CHECK(a[2].GetDouble() == 3.5);
  CHECK(a[3].GetBool());
  CHECK(a[4].IsNull());
  CHECK(std::string(a[5].GetString()) == "s\xC3\xA9");
  CHECK(std::string((*document)["b"]["c"].GetString()) == "d");
}

TEST_CASE("invalid JSON is 400 with the byte offset") {
  const auto missing_colon = parse_json(R"({"a" 1})");
  CHECK(status_of(missing_colon) == 400);
  CHECK(contains(message(missing_colon), "at byte 5"));
  for (const std::string_view text : {"", "   ", "{", "[1,]", "{} {}", "{}x", "nul", "'a'"}) {
    CAPTURE(text);
    CHECK(status_of(parse_json(text)) == 400);
  }
  CHECK(parse_json(" {}\n").ok());  // whitespace around the value is JSON
}

TEST_CASE("a NUL byte, inside or after the value, is invalid") {
  using namespace std::string_literals;
  CHECK(status_of(parse_json("{}\0{}"s)) == 400);
  CHECK(contains(message(parse_json("{}\0"s)), "NUL"));
  CHECK(status_of(parse_json("[\"a\0b\"]"s)) == 400);
  CHECK(status_of(parse_json("[1,\0 2]"s)) == 400);
}

TEST_CASE("invalid UTF-8 is 400") {
  for (const std::string_view text :
       {"[\"\xC3\"]", "[\"\xFF\"]", "[\"\xED\xA0\x80\"]", "{\"\xC0\xAF\":1}", "[\xC3\xA9]"}) {
    CAPTURE(text);
    CHECK(status_of(parse_json(text)) == 400);
  }
  CHECK(contains(message(parse_json("[\"ok\xC3\"]")), "invalid UTF-8"));
  CHECK(status_of(parse_json(R"(["\ud800"])")) == 400);  // a lone surrogate escape
}

TEST_CASE("invalid UTF-8 and control characters are found at their byte, wherever a string ends") {
  // Every length across a few 16-byte blocks, ASCII and multi-byte, with an invalid byte
  // and a cut character at each offset.
  for (std::size_t length = 0; length < 40; ++length) {
    CAPTURE(length);
    const std::string ascii(length, 'a');
    const auto parsed = parse_json("[\"" + ascii + "\"]");
    REQUIRE(parsed.ok());
    CHECK((*parsed)[0].GetString() == ascii);
    const std::string accented = ascii + "\xC3\xA9";  // "é"
    const auto multi_byte = parse_json("[\"" + accented + "\"]");
    REQUIRE(multi_byte.ok());
    CHECK((*multi_byte)[0].GetString() == accented);
    const auto invalid = parse_json("[\"" + ascii + "\xFF\"]");
    CHECK(status_of(invalid) == 400);
    CHECK(contains(message(invalid), fmt::format("at byte {}: invalid UTF-8", length + 2)));
    const auto cut = parse_json("[\"" + ascii + "\xE2\x82\"]");  // "€" without its last byte
    CHECK(contains(message(cut), fmt::format("at byte {}: invalid UTF-8", length + 2)));
  }
  const auto control = parse_json("[\"a\tb\"]");  // unescaped: RFC 8259 forbids it
  CHECK(status_of(control) == 400);
  CHECK(contains(message(control), "at byte 3"));
}

TEST_CASE("a 100k-deep nesting bomb is refused at the depth limit") {
  const std::string arrays = std::string(100000, '[') + std::string(100000, ']');
  const auto document = parse_json(arrays);
  CHECK(status_of(document) == 400);
  CHECK(contains(message(document), "nested deeper than the limit of 64"));
  CHECK(contains(message(document), "at byte 65"));

  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  const auto unterminated = parse_json(objects);  // never closed: the limit comes first
  CHECK(contains(message(unterminated), "nested deeper"));
}

TEST_CASE("no limit lets the recursive parse go deeper than kMaxJsonDepth") {
  const json_limits unbounded{std::numeric_limits<std::size_t>::max(), 100};
  const std::string arrays = std::string(100000, '[') + std::string(100000, ']');
  const auto document = parse_json(arrays, unbounded);
  CHECK(status_of(document) == 400);
  CHECK(contains(message(document), fmt::format("the limit of {} arrays", kMaxJsonDepth)));
  const std::string deepest = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK(parse_json(deepest, unbounded).ok());
}

TEST_CASE("the depth limit allows exactly max_depth levels") {
  const json_limits limits{3, 100};
  CHECK(parse_json("[[[1]]]", limits).ok());
  CHECK(parse_json(R"({"a":[{"b":1}]})", limits).ok());
  CHECK(status_of(parse_json("[[[[1]]]]", limits)) == 400);
  CHECK(status_of(parse_json(R"({"a":[{"b":[]}]})", limits)) == 400);
}

TEST_CASE("strings and keys longer than max_string_bytes are refused") {
  const json_limits limits{64, 5};
  CHECK(parse_json(R"({"abcde":"12345"})", limits).ok());
  const auto value = parse_json(R"({"a":"123456"})", limits);
  CHECK(status_of(value) == 400);
  CHECK(contains(message(value), "6 bytes, over the 5-byte limit"));
  CHECK(status_of(parse_json(R"({"abcdef":1})", limits)) == 400);
  // The limit counts bytes after unescaping: six escapes are six bytes.
  CHECK(status_of(parse_json(R"(["\n\n\n\n\n\n"])", limits)) == 400);
  CHECK(parse_json(R"(["\n\n\n\n\n"])", limits).ok());
}

// -------------------------------------------------------------------------- envelope

/// Whether parse_envelope() accepts an argument of type `Body`.
template <typename Body, typename = void>
struct parses_envelope : std::false_type {};
template <typename Body>
struct parses_envelope<Body, std::void_t<decltype(parse_envelope(std::declval<Body>()))>>
    : std::true_type {};

// The payloads point into the body: a temporary string, gone at the end of the call's
// statement, does not compile; a variable, a view or a literal does.
static_assert(!parses_envelope<std::string>::value);
static_assert(!parses_envelope<std::string&&>::value);
static_assert(parses_envelope<const std::string&>::value);
static_assert(parses_envelope<std::string&>::value);
static_assert(parses_envelope<std::string_view>::value);
static_assert(parses_envelope<const char*>::value);

TEST_CASE("an envelope with only a header is valid, with or without a newline") {
  for (const std::string_view body : {"{}", "{}\n"}) {
    CAPTURE(body);
    const auto parsed = parse_envelope(body);
    WARDEN_REQUIRE_OK(parsed);
    CHECK(parsed->items.empty());
    CHECK(parsed->event_id.empty());
    CHECK(parsed->header_json == "{}");
  }
}

TEST_CASE("the envelope header's event_id, dsn and sdk are read, other fields kept") {
  const std::string body =
      R"({"event_id":"9EC79C33-EC99-42AB-8353-589FCB2E04DC","dsn":"https://k@h/1",)"
      R"("sdk":{"name":"sentry.native","version":"0.7.0"},"x":[1]})"
      "\n{\"type\":\"event\"}\n{}";
  const auto parsed = parse_envelope(body);
  WARDEN_REQUIRE_OK(parsed);
  CHECK(parsed->event_id == "9ec79c33ec9942ab8353589fcb2e04dc");
  CHECK(parsed->dsn == "https://k@h/1");
  CHECK(parsed->sdk_name == "sentry.native");
  CHECK(parsed->sdk_version == "0.7.0");
  CHECK(contains(parsed->header_json, R"("x":[1])"));
}

TEST_CASE("a missing event_id is left empty even with an event, a malformed one is 400") {
  const auto missing = parse_envelope("{}\n{\"type\":\"event\"}\n{}");
  WARDEN_REQUIRE_OK(missing);
  CHECK(missing->event_id.empty());
  CHECK(parse_envelope("{\"event_id\":null}").ok());

  const auto bad = parse_envelope(R"({"event_id":"not-a-uuid"})");
  CHECK(status_of(bad) == 400);
  CHECK(contains(message(bad), "not-a-uuid"));
  CHECK(status_of(parse_envelope(R"({"event_id":42})")) == 400);
  CHECK(status_of(parse_envelope(R"({"dsn":42})")) == 400);
  // sdk is informational: a strange one is ignored.
  const auto sdk = parse_envelope(R"({"sdk":"x"})");
  WARDEN_REQUIRE_OK(sdk);
  CHECK(sdk->sdk_name.empty());
}

TEST_CASE("normalize_event_id accepts the plain and dashed forms only") {
  CHECK(*normalize_event_id("50cb65d444ad475596010a9eb86fb901") ==
        "50cb65d444ad475596010a9eb86fb901");
  CHECK(*normalize_event_id("50CB65D4-44AD-4755-9601-0A9EB86FB901") ==
        "50cb65d444ad475596010a9eb86fb901");
  for (const std::string_view bad :
       {"", "50cb65d444ad475596010a9eb86fb90", "50cb65d444ad475596010a9eb86fb9011",
        "50cb65d444ad475596010a9eb86fb90g", "50cb65d4-44ad-4755-9601-0a9eb86fb9-1",
        "50cb65d444-ad-4755-9601-0a9eb86fb901", "{50cb65d4-44ad-4755-9601-0a9eb86fb901}"}) {
    CAPTURE(bad);
    CHECK(http_status(normalize_event_id(bad).status()) == 400);
  }
}

TEST_CASE("well-formed envelopes split into items as the spec says") {
  struct split_case {
    std::string_view what;
    std::string_view body;
    std::string_view items;  // item_list() of the result
  };
  const split_case cases[] = {
      {"without length, a payload runs to the next newline or the end",
       "{}\n{\"type\":\"session\"}\n{\"a\":1}\n{\"type\":\"client_report\"}\n{\"b\":2}",
       "session={\"a\":1}\nclient_report={\"b\":2}\n"},
      {"one newline may follow the last item", "{}\n{\"type\":\"session\"}\n{\"a\":1}\n",
       "session={\"a\":1}\n"},
      {"an empty payload is an empty line, or nothing at the end",
       "{}\n{\"type\":\"a\"}\n\n{\"type\":\"b\",\"length\":0}\n\n{\"type\":\"c\"}", "a=\nb=\nc=\n"},
      {"a length-delimited payload may end the envelope",
       "{}\n{\"type\":\"event\",\"length\":2}\n{}", "event={}\n"},
      {"a \\r before the newline stays in the payload (in a header it is JSON whitespace)",
       "{}\r\n{\"type\":\"event\"}\r\n{}\r\n{\"type\":\"session\"}\n{}",
       "event={}\r\nsession={}\n"},
      {"unknown item types are kept",
       "{}\n{\"type\":\"future_thing\"}\nopaque\n{\"type\":\"statsd\"}\nx:1|c",
       "future_thing=opaque\nstatsd=x:1|c\n"},
  };
  for (const split_case& split : cases) {
    CAPTURE(split.what);
    const auto parsed = parse_envelope(split.body);
    WARDEN_REQUIRE_OK(parsed);
    CHECK(item_list(*parsed) == split.items);
  }
}

TEST_CASE("item headers are kept as received, unknown fields included") {
  const auto parsed = parse_envelope("{}\n{\"type\":\"future_thing\",\"flavour\":\"new\"}\n{}");
  WARDEN_REQUIRE_OK(parsed);
  REQUIRE(parsed->items.size() == 1);
  CHECK(parsed->items[0].header_json == "{\"type\":\"future_thing\",\"flavour\":\"new\"}");
}

TEST_CASE("with a length, the byte after the payload must be the newline itself") {
  const auto carriage_return = parse_envelope("{}\n{\"type\":\"event\",\"length\":2}\n{}\r\n");
  CHECK(status_of(carriage_return) == 400);
  CHECK(contains(message(carriage_return), "followed by '\\r'"));
  const auto other = parse_envelope("{}\n{\"type\":\"event\",\"length\":2}\n{}x\n");
  CHECK(status_of(other) == 400);
  CHECK(contains(message(other), "at byte 33"));
  CHECK(contains(message(other), "followed by 'x'"));
}

TEST_CASE("an empty line where an item header is due is malformed") {
  const auto twice = parse_envelope("{}\n{\"type\":\"session\"}\n{\"a\":1}\n\n");
  CHECK(status_of(twice) == 400);
  CHECK(contains(message(twice), "item 2"));
  CHECK(contains(message(twice), "at byte 30"));
  CHECK(contains(message(twice), "empty line"));
  CHECK(status_of(parse_envelope("{}\n\n{\"type\":\"session\"}\n{}")) == 400);
  CHECK(status_of(parse_envelope("")) == 400);
  CHECK(status_of(parse_envelope("\n{}")) == 400);
}

TEST_CASE("a length-delimited payload may hold newlines and any bytes") {
  using namespace std::string_literals;
  const std::string payload = "line 1\nline 2\n\0\xFF\r\n"s;
  const std::string body =
      "{}\n{\"type\":\"attachment\",\"length\":" + std::to_string(payload.size()) +
      ",\"filename\":\"dump.bin\",\"attachment_type\":\"event.minidump\","
      "\"content_type\":\"application/octet-stream\"}\n" +
      payload + "\n{\"type\":\"event\"}\n{}";
  const auto parsed = parse_envelope(body);
  WARDEN_REQUIRE_OK(parsed);
  REQUIRE(parsed->items.size() == 2);
  const warden::sink::envelope_item& attachment = parsed->items[0];
  CHECK(attachment.payload == payload);
  CHECK(attachment.payload.data() == body.data() + body.find("line 1"));  // not copied
  CHECK(attachment.filename == "dump.bin");
  CHECK(attachment.attachment_type == "event.minidump");
  CHECK(attachment.content_type == "application/octet-stream");
  CHECK(parsed->items[1].type == "event");
}

TEST_CASE("a length past the end of the envelope is 400 with the offset") {
  const auto parsed = parse_envelope("{}\n{\"type\":\"attachment\",\"length\":10}\n12345");
  CHECK(status_of(parsed) == 400);
  CHECK(contains(message(parsed), "item 1 (attachment) at byte 37"));
  CHECK(contains(message(parsed), "length is 10 but only 5 bytes are left"));
  CHECK(status_of(parse_envelope("{}\n{\"type\":\"event\",\"length\":1}")) == 400);
}

TEST_CASE("headers must be JSON objects") {
  for (const std::string_view body :
       {"[]", "\"x\"", "1", "null", "{}\n[]\n{}", "{}\n\"event\"\n{}"}) {
    CAPTURE(body);
    const auto parsed = parse_envelope(body);
    CHECK(status_of(parsed) == 400);
    CHECK(contains(message(parsed), "not a JSON object"));
  }
  const auto broken = parse_envelope("{}\n{\"type\":\"event\"\n{}");
  CHECK(status_of(broken) == 400);
  CHECK(contains(message(broken), "the header of item 1 at byte 3: invalid JSON at byte 15"));
}

TEST_CASE("headers must be valid UTF-8") {
  CHECK(status_of(parse_envelope("{\"x\":\"\xC3\x28\"}")) == 400);
  const auto item = parse_envelope("{}\n{\"type\":\"ev\xFFnt\"}\n{}");
  CHECK(status_of(item) == 400);
  CHECK(contains(message(item), "invalid UTF-8"));
}

TEST_CASE("an item header must have a type, and known fields their JSON types") {
  const auto empty_header = parse_envelope("{}\n{}\n{}");
  CHECK(status_of(empty_header) == 400);
  CHECK(contains(message(empty_header), "\"type\" must be a non-empty string"));
  for (const std::string_view header :
       {R"({"type":""})", R"({"type":1})", R"({"type":"a","length":-1})",
        R"({"type":"a","length":1.5})", R"({"type":"a","length":"2"})",
        R"({"type":"a","item_count":-2})", R"({"type":"a","filename":7})",
        R"({"type":"a","content_type":{}})", R"({"type":"a","attachment_type":[]})"}) {
    CAPTURE(header);
    const std::string body = "{}\n" + std::string(header) + "\n{}";
    CHECK(status_of(parse_envelope(body)) == 400);
  }
}

TEST_CASE("a span v2 container carries its item_count and content type") {
  const auto parsed = parse_envelope(
      "{}\n{\"type\":\"span\",\"item_count\":2,"
      "\"content_type\":\"application/"
      "vnd.sentry.items.span.v2+json\"}\n{\"version\":2,\"items\":[]}");
  WARDEN_REQUIRE_OK(parsed);
  REQUIRE(parsed->items.size() == 1);
  CHECK(parsed->items[0].item_count == 2);
  CHECK(parsed->items[0].content_type == "application/vnd.sentry.items.span.v2+json");
}

TEST_CASE("at most one event or transaction item") {
  const auto events = parse_envelope("{}\n{\"type\":\"event\"}\n{}\n{\"type\":\"event\"}\n{}");
  CHECK(status_of(events) == 400);
  CHECK(contains(message(events), "item 2 (event) is a second event or transaction (item 1"));
  CHECK(status_of(parse_envelope("{}\n{\"type\":\"transaction\"}\n{}\n{\"type\":\"session\"}\n{}\n{"
                                 "\"type\":\"event\"}\n{}")) == 400);
  CHECK(parse_envelope("{}\n{\"type\":\"event\"}\n{}\n{\"type\":\"attachment\",\"length\":1}\nx")
            .ok());
}

TEST_CASE("an event item over max_event_bytes is 413 naming the limit and the size") {
  std::string body = "{}\n{\"type\":\"event\"}\n" + std::string(kMiB + 1, 'x');
  const auto parsed = parse_envelope(body);
  CHECK(status_of(parsed) == 413);
  CHECK(message(parsed) ==
        "item 1 (event) is 1048577 bytes, over the 1048576-byte limit (max_event_bytes)");
  body.pop_back();
  CHECK(parse_envelope(body).ok());
}

TEST_CASE("each item kind has its own size limit") {
  envelope_limits limits;
  limits.max_event_bytes = 4;
  limits.max_container_bytes = 8;
  limits.max_attachment_bytes = 6;
  const auto item = [&](const std::string& header, std::size_t size) {
    const std::string body = "{}\n" + header + "\n" + std::string(size, 'x');
    return parse_envelope(body, limits).status();
  };
  CHECK(item(R"({"type":"transaction"})", 4).ok());
  CHECK(contains(message(item(R"({"type":"transaction"})", 5)), "max_event_bytes"));
  CHECK(contains(message(item(R"({"type":"span"})", 5)), "max_event_bytes"));
  CHECK(item(R"({"type":"span","item_count":3})", 8).ok());
  CHECK(contains(message(item(R"({"type":"span","item_count":3})", 9)), "max_container_bytes"));
  CHECK(contains(message(item(R"({"type":"log","item_count":3})", 9)), "max_container_bytes"));
  CHECK(item(R"({"type":"attachment"})", 6).ok());
  CHECK(http_status(item(R"({"type":"attachment"})", 7)) == 413);
  CHECK(contains(message(item(R"({"type":"attachment"})", 7)), "max_attachment_bytes"));
  CHECK(item(R"({"type":"session"})", 100).ok());  // only the envelope limit
}

TEST_CASE("envelope-wide limits are 413 naming them") {
  envelope_limits limits;
  limits.max_envelope_bytes = 10;
  CHECK(contains(message(parse_envelope("{}\n{\"type\":\"a\"}", limits)), "max_envelope_bytes"));

  limits = {};
  limits.max_header_bytes = 16;
  const auto header = parse_envelope("{}\n{\"type\":\"event\",\"x\":1}\n{}", limits);
  CHECK(status_of(header) == 413);
  CHECK(contains(message(header), "the header of item 1 at byte 3 is 22 bytes"));
  CHECK(contains(message(header), "max_header_bytes"));

  limits = {};
  limits.max_items = 3;
  std::string body = "{}";
  for (int i = 0; i < 3; ++i) body += "\n{\"type\":\"x\"}\n";
  CHECK(parse_envelope(body, limits).ok());
  body += "\n{\"type\":\"x\"}\n";
  CHECK(contains(message(parse_envelope(body, limits)), "more than 3 items (max_items)"));

  limits = {};
  limits.max_sessions = 2;
  body = "{}";
  for (int i = 0; i < 3; ++i) body += "\n{\"type\":\"session\"}\n{}";
  const auto sessions = parse_envelope(body, limits);
  CHECK(status_of(sessions) == 413);
  CHECK(contains(message(sessions), "more than 2 session items (max_sessions)"));
}

TEST_CASE("a thousand tiny items are accepted by default, one more is not") {
  std::string body = "{}";
  for (int i = 0; i < 1000; ++i) body += "\n{\"type\":\"x\"}\n";
  CHECK(parse_envelope(body).ok());
  body += "\n{\"type\":\"x\"}\n";
  CHECK(status_of(parse_envelope(body)) == 413);
}

// ---------------------------------------------------------------------------- auth

TEST_CASE("X-Sentry-Auth gives the key, version and client") {
  auth_inputs inputs;
  inputs.x_sentry_auth =
      "Sentry sentry_version=7, sentry_client=sentry.native/0.7.0, sentry_key=abc123, "
      "sentry_secret=ignored";
  const auto who = authenticate(inputs);
  WARDEN_REQUIRE_OK(who);
  CHECK(who->public_key == "abc123");
  CHECK(who->version == 7);
  CHECK(who->client == "sentry.native/0.7.0");
  CHECK_FALSE(who->dsn_project_id.has_value());
}

TEST_CASE("the Sentry prefix is matched in any case, spaces are tolerated") {
  for (const std::string_view header :
       {"sentry sentry_key=abc", "SENTRY\tsentry_key=abc", "  Sentry   sentry_key = abc ,",
        "Sentry sentry_version=7,sentry_key=abc,sentry_client=x",
        "Sentry garbage, sentry_key=abc"}) {
    CAPTURE(header);
    auth_inputs inputs;
    inputs.x_sentry_auth = header;
    const auto who = authenticate(inputs);
    WARDEN_REQUIRE_OK(who);
    CHECK(who->public_key == "abc");
  }
}

TEST_CASE("a malformed X-Sentry-Auth is 401 with the reason") {
  auth_inputs inputs;
  inputs.x_sentry_auth = "sentry_key=abc";
  CHECK(status_of(authenticate(inputs)) == 401);
  CHECK(contains(message(authenticate(inputs)), "must start with \"Sentry \""));
  inputs.x_sentry_auth = "Sentry";
  CHECK(status_of(authenticate(inputs)) == 401);
  inputs.x_sentry_auth = "Sentrysentry_key=abc";
  CHECK(status_of(authenticate(inputs)) == 401);
  inputs.x_sentry_auth = "Sentry sentry_version=7";
  CHECK(message(authenticate(inputs)) == "X-Sentry-Auth has no sentry_key");
  inputs.x_sentry_auth = "Sentry sentry_key=";
  CHECK(status_of(authenticate(inputs)) == 401);
}

TEST_CASE("Authorization: Sentry works like X-Sentry-Auth") {
  auth_inputs inputs;
  inputs.authorization = "Sentry sentry_key=abc, sentry_version=7";
  const auto who = authenticate(inputs);
  WARDEN_REQUIRE_OK(who);
  CHECK(who->public_key == "abc");
  inputs.authorization = "sentry sentry_version=7";
  CHECK(message(authenticate(inputs)) == "Authorization has no sentry_key");
}

TEST_CASE("Authorization: Basic carries the key before the colon") {
  for (const std::string_view header : {"Basic YWJjOg==", "basic YWJjOnNlY3JldA==", "BASIC YWJj",
                                        "Basic YWJjOg"}) {  // "abc:", "abc:secret", "abc", unpadded
    CAPTURE(header);
    auth_inputs inputs;
    inputs.authorization = header;
    const auto who = authenticate(inputs);
    WARDEN_REQUIRE_OK(who);
    CHECK(who->public_key == "abc");
  }
  auth_inputs inputs;
  inputs.authorization = "Basic !!!not base64";
  CHECK(status_of(authenticate(inputs)) == 401);
  CHECK(contains(message(authenticate(inputs)), "not valid base64"));
  inputs.authorization = "Basic OnNlY3JldA==";  // ":secret"
  CHECK(contains(message(authenticate(inputs)), "empty key"));
}

TEST_CASE("other Authorization schemes belong to a proxy and are ignored") {
  auth_inputs inputs;
  inputs.authorization = "Bearer eyJhbGciOi";
  CHECK(contains(message(authenticate(inputs)), "missing authorization information"));
  inputs.query_sentry_key = "abc";
  const auto who = authenticate(inputs);
  WARDEN_REQUIRE_OK(who);
  CHECK(who->public_key == "abc");
}

TEST_CASE("the query string alone authenticates, as @sentry/node does") {
  auth_inputs inputs;
  inputs.query_sentry_key = "pubkey";
  inputs.query_sentry_version = "7";
  inputs.query_sentry_client = "sentry.javascript.node/11.12.0";
  inputs.user_agent = "node";
  const auto who = authenticate(inputs);
  WARDEN_REQUIRE_OK(who);
  CHECK(who->public_key == "pubkey");
  CHECK(who->version == 7);
  CHECK(who->client == "sentry.javascript.node/11.12.0");
}

TEST_CASE("the client falls back to the User-Agent, the version to 7") {
  auth_inputs inputs;
  inputs.query_sentry_key = "abc";
  inputs.user_agent = "sentry.python/2.0";
  const auto who = authenticate(inputs);
  WARDEN_REQUIRE_OK(who);
  CHECK(who->client == "sentry.python/2.0");
  CHECK(who->version == 7);
}

TEST_CASE("no credentials at all is 401 missing authorization information") {
  auth_inputs inputs;
  inputs.user_agent = "curl/8";
  inputs.query_sentry_version = "7";
  const auto who = authenticate(inputs);
  CHECK(status_of(who) == 401);
  CHECK(contains(message(who), "missing authorization information"));
}

TEST_CASE("several forms naming the same key are fine, different keys are 401") {
  auth_inputs inputs;
  inputs.x_sentry_auth = "Sentry sentry_key=abc";
  inputs.authorization = "Basic YWJjOg==";
  inputs.query_sentry_key = "abc";
  WARDEN_REQUIRE_OK(authenticate(inputs));
  inputs.query_sentry_key = "xyz";
  const auto who = authenticate(inputs);
  CHECK(status_of(who) == 401);
  CHECK(message(who) ==
        R"(multiple different keys: "abc" in X-Sentry-Auth and "xyz" in the query string)");
}

TEST_CASE("sentry_version: the major part counts, above 7 is 400, unreadable is 401") {
  auth_inputs inputs;
  inputs.query_sentry_key = "abc";
  for (const std::string_view version : {"7", "7.0", "6", "5.1"}) {
    CAPTURE(version);
    inputs.query_sentry_version = version;
    WARDEN_REQUIRE_OK(authenticate(inputs));
  }
  inputs.query_sentry_version = "7.0";
  CHECK(authenticate(inputs)->version == 7);
  inputs.query_sentry_version = "8";
  CHECK(status_of(authenticate(inputs)) == 400);
  CHECK(contains(message(authenticate(inputs)), "unsupported protocol version 8"));
  for (const std::string_view version : {"seven", "-1", ".7", "99999999999999999999"}) {
    CAPTURE(version);
    inputs.query_sentry_version = version;
    CHECK(status_of(authenticate(inputs)) == 401);
  }
  inputs.query_sentry_version = {};
  inputs.x_sentry_auth = "Sentry sentry_key=abc, sentry_version=9";
  CHECK(status_of(authenticate(inputs)) == 400);
}

TEST_CASE("the envelope DSN authenticates only when nothing else does") {
  auth_inputs inputs;
  inputs.envelope_dsn = "https://dsnkey:secret@sentry.example.com/prefix/42/";
  const auto who = authenticate(inputs);
  WARDEN_REQUIRE_OK(who);
  CHECK(who->public_key == "dsnkey");
  CHECK(who->dsn_project_id == 42u);

  inputs.query_sentry_key = "other";  // a request credential wins; the DSN is not compared
  const auto query = authenticate(inputs);
  WARDEN_REQUIRE_OK(query);
  CHECK(query->public_key == "other");
  CHECK_FALSE(query->dsn_project_id.has_value());
}

TEST_CASE("a malformed envelope DSN is 401 with the reason") {
  struct bad_case {
    std::string_view dsn;
    std::string_view reason;
  };
  const bad_case cases[] = {
      {"sentry.example.com/1", "no scheme://"},  {"ftp://k@h/1", "not an http or https URL"},
      {"https://h/1", "no public key"},          {"https://k@/1", "no host"},
      {"https://k@h", "numeric project id"},     {"https://k@h/", "numeric project id"},
      {"https://k@h/abc", "numeric project id"}, {"https://k@h/1?x=y", "numeric project id"},
      {"https://@h/1", "public key \"\""},       {"https://k!@h/1", "public key \"k!\""},
  };
  for (const bad_case& bad : cases) {
    CAPTURE(bad.dsn);
    auth_inputs inputs;
    inputs.envelope_dsn = bad.dsn;
    const auto who = authenticate(inputs);
    CHECK(status_of(who) == 401);
    CHECK(contains(message(who), bad.reason));
  }
}

TEST_CASE("keys outside the URL-safe characters or over 128 bytes are 401") {
  auth_inputs inputs;
  inputs.x_sentry_auth = "Sentry sentry_key=a b";
  CHECK(contains(message(authenticate(inputs)), "A-Z a-z 0-9"));
  inputs.x_sentry_auth = {};
  const std::string long_key(129, 'k');
  inputs.query_sentry_key = long_key;
  CHECK(status_of(authenticate(inputs)) == 401);
  inputs.query_sentry_key = std::string_view(long_key).substr(0, 128);
  CHECK(authenticate(inputs).ok());
  inputs.query_sentry_key = "9ec79c33ec9942ab8353589fcb2e04dc";
  CHECK(authenticate(inputs).ok());
}

// ----------------------------------------------------- captured @sentry/node requests

namespace {

/// `text` with %XX escapes decoded, as the HTTP layer hands query values over.
std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

/// The value of query parameter `name` in the request line of a `.head.txt` capture.
std::string query_parameter(const std::string& head, std::string_view name) {
  const std::size_t query = head.find('?');
  const std::string_view line =
      std::string_view(head).substr(query + 1, head.find(' ', query) - query - 1);
  for (std::size_t start = 0; start < line.size();) {
    const std::size_t end = std::min(line.find('&', start), line.size());
    const std::string_view pair = line.substr(start, end - start);
    if (pair.substr(0, pair.find('=')) == name) return percent_decode(pair.substr(name.size() + 1));
    start = end + 1;
  }
  return {};
}

struct capture_case {
  std::string_view request;    // path below the fixture directory, without extension
  std::string_view item_type;  // the one item it carries
  std::string_view event_id;   // the envelope header's, or "" for none
};

}  // namespace

TEST_CASE("every captured @sentry/node request decodes, authenticates and parses") {
  const capture_case captures[] = {
      {"req01", "span", ""},
      {"req02", "session", ""},
      {"req03", "event", "50cb65d444ad475596010a9eb86fb901"},
      {"req04", "event", "bd610927a5fe4851ae7f3e64f6ba3833"},
      {"run2/req01", "transaction", "3e991cd9acf247369999fa3f819e3293"},
      {"run2/req02", "session", ""},
      {"run2/req03", "event", "8836d18c95a94b8e8ff858aaf3f91ce7"},
      {"run2/req04", "event", "d41b1988b91648969aa4fcfd0e85015a"},  // gzip
      {"ratelimit/req04", "client_report", ""},
  };
  for (const capture_case& capture : captures) {
    CAPTURE(capture.request);
    const std::string base =
        std::string(WARDEN_SENTRY_NODE_FIXTURES) + "/" + std::string(capture.request);
    const std::string head = read_file(base + ".head.txt");
    const std::string raw = read_file(base + ".raw");

    const bool gzipped = contains(head, "content-encoding: gzip");
    const auto body = decode_body(gzipped ? "gzip" : "", raw, envelope_limits{}.max_envelope_bytes);
    WARDEN_REQUIRE_OK(body);
    CHECK(*body == read_file(base + ".body.txt"));

    const std::string key = query_parameter(head, "sentry_key");
    const std::string version = query_parameter(head, "sentry_version");
    const std::string client = query_parameter(head, "sentry_client");
    auth_inputs inputs;
    inputs.query_sentry_key = key;
    inputs.query_sentry_version = version;
    inputs.query_sentry_client = client;
    const auto who = authenticate(inputs);
    WARDEN_REQUIRE_OK(who);
    CHECK(who->public_key == "pubkey");
    CHECK(who->client == "sentry.javascript.node/11.12.0");

    const auto parsed = parse_envelope(*body);
    WARDEN_REQUIRE_OK(parsed);
    CHECK(parsed->event_id == capture.event_id);
    REQUIRE(parsed->items.size() == 1);
    const warden::sink::envelope_item& item = parsed->items[0];
    CHECK(item.type == capture.item_type);
    const auto payload = parse_json(item.payload);
    WARDEN_REQUIRE_OK(payload);
    CHECK(payload->IsObject());
    if (item.type != "client_report") {
      CHECK(parsed->sdk_name == "sentry.javascript.node");
      CHECK(parsed->sdk_version == "11.12.0");
    }
  }
}

TEST_CASE("the captured span v2 request carries its container fields") {
  const std::string body = read_file(std::string(WARDEN_SENTRY_NODE_FIXTURES) + "/req01.body.txt");
  const auto parsed = parse_envelope(body);
  WARDEN_REQUIRE_OK(parsed);
  REQUIRE(parsed->items.size() == 1);
  CHECK(parsed->items[0].item_count == 2);
  CHECK(parsed->items[0].content_type == "application/vnd.sentry.items.span.v2+json");
  const auto spans = parse_json(parsed->items[0].payload);
  WARDEN_REQUIRE_OK(spans);
  CHECK((*spans)["items"].Size() == 2);
}

// Envelopes as a server reads them: framing by `length`, JSON fields, truncation that
// keeps the event under Sentry's limits, and invalid UTF-8 made valid.
#include <chrono>
#include <string>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "envelope.hpp"

using namespace std::chrono_literals;
using namespace std::string_literals;
using warden::sdk::detail::event_envelope;
using warden::sdk::detail::event_payload;
using warden::sdk::detail::payload_limits;
using warden::sdk::detail::sdk_identity;

namespace {

const sdk_identity kSdk{"warden.cpp", "0.1.0"};
const auto kSentAt = std::chrono::system_clock::time_point{} + 1'795'462'448'303ms;

struct parsed_envelope {
  rapidjson::Document header;
  rapidjson::Document item_header;
  rapidjson::Document payload;
};

// Splits an envelope with one length-prefixed item, as a Sentry server would.
parsed_envelope parse(const std::string& envelope) {
  parsed_envelope parsed;
  const std::size_t header_end = envelope.find('\n');
  REQUIRE(header_end != std::string::npos);
  parsed.header.Parse(envelope.data(), header_end);
  REQUIRE_FALSE(parsed.header.HasParseError());
  const std::size_t item_end = envelope.find('\n', header_end + 1);
  REQUIRE(item_end != std::string::npos);
  parsed.item_header.Parse(envelope.data() + header_end + 1, item_end - header_end - 1);
  REQUIRE_FALSE(parsed.item_header.HasParseError());
  const auto length = parsed.item_header["length"].GetUint64();
  REQUIRE(item_end + 1 + length + 1 == envelope.size());
  CHECK(envelope.back() == '\n');
  parsed.payload.Parse<rapidjson::kParseValidateEncodingFlag>(envelope.data() + item_end + 1,
                                                              length);
  REQUIRE_FALSE(parsed.payload.HasParseError());
  return parsed;
}

warden::event exception_event() {
  warden::event event;
  event.event_id = "50cb65d4a3f54a5e9f4b3a2c1d0e9f8a";
  event.timestamp = kSentAt;
  event.level = warden::level::error;
  warden::exception_value cause;
  cause.type = "std::out_of_range";
  cause.value = "index 7";
  cause.mechanism.exception_id = 1;
  cause.mechanism.parent_id = 0;
  warden::exception_value outer;
  outer.type = "std::runtime_error";
  outer.value = "checkout failed";
  outer.mechanism.exception_id = 0;
  outer.frames = {{0x401000, "main", "shop", "src/main.cpp", 12, true},
                  {0x402000, "payments::charge(order const&)", "shop", "src/pay.cpp", 40, true}};
  event.exceptions = {cause, outer};
  event.tags = {{"team", "payments"}, {"function", "backend"}, {"product", "checkout"}};
  event.contexts["os"] = {{"name", "Linux"}};
  event.contexts["trace"] = {{"trace_id", "575b297c62874e1988fb6665a4027e4b"}};
  event.release = "shop@1.2.3";
  event.environment = "production";
  event.user = warden::user_info{"42", "", "", ""};
  event.fingerprint = {"{{ default }}", "checkout"};
  warden::breadcrumb crumb;
  crumb.timestamp = kSentAt - 1s;
  crumb.category = "db";
  crumb.message = "SELECT 1";
  event.breadcrumbs = {crumb};
  return event;
}

}  // namespace

TEST_CASE("an exception event becomes a well-formed envelope") {
  const auto envelope = parse(event_envelope(exception_event(), kSdk, kSentAt, "pubkey"));
  CHECK(std::string{envelope.header["event_id"].GetString()} == "50cb65d4a3f54a5e9f4b3a2c1d0e9f8a");
  CHECK(std::string{envelope.header["sent_at"].GetString()} == "2026-11-23T19:34:08.303Z");
  CHECK(std::string{envelope.header["sdk"]["name"].GetString()} == "warden.cpp");
  CHECK(std::string{envelope.header["trace"]["trace_id"].GetString()} ==
        "575b297c62874e1988fb6665a4027e4b");
  CHECK(std::string{envelope.header["trace"]["public_key"].GetString()} == "pubkey");
  CHECK(std::string{envelope.item_header["type"].GetString()} == "event");

  const auto& event = envelope.payload;
  CHECK(std::string{event["level"].GetString()} == "error");
  CHECK(std::string{event["platform"].GetString()} == "native");
  CHECK(event["timestamp"].GetDouble() == doctest::Approx(1'795'462'448.303));
  const auto& values = event["exception"]["values"];
  REQUIRE(values.Size() == 2);
  CHECK(std::string{values[0]["type"].GetString()} == "std::out_of_range");
  CHECK(values[0]["mechanism"]["exception_id"].GetInt() == 1);
  CHECK(values[0]["mechanism"]["parent_id"].GetInt() == 0);
  CHECK(values[0]["mechanism"]["handled"].GetBool());
  const auto& frames = values[1]["stacktrace"]["frames"];
  REQUIRE(frames.Size() == 2);
  CHECK(std::string{frames[1]["function"].GetString()} == "payments::charge(order const&)");
  CHECK(std::string{frames[1]["instruction_addr"].GetString()} == "0x402000");
  CHECK(frames[1]["lineno"].GetInt() == 40);
  CHECK(frames[1]["in_app"].GetBool());
  CHECK(std::string{event["tags"]["team"].GetString()} == "payments");
  CHECK(std::string{event["contexts"]["os"]["name"].GetString()} == "Linux");
  CHECK(std::string{event["user"]["id"].GetString()} == "42");
  CHECK_FALSE(event["user"].HasMember("email"));
  CHECK(event["fingerprint"].Size() == 2);
  CHECK(event["breadcrumbs"]["values"].Size() == 1);
  CHECK(std::string{event["release"].GetString()} == "shop@1.2.3");
  CHECK(std::string{event["sdk"]["version"].GetString()} == "0.1.0");
}

TEST_CASE("a message keeps its template in logentry, a plain one is a message string") {
  warden::event event;
  event.event_id = "00000000000000000000000000000001";
  event.level = warden::level::warning;
  event.message = "disk 93% full on db-01";
  event.message_template = "disk {}% full on {}";
  event.message_params = {"93", "db-01"};
  auto parsed = parse(event_envelope(event, kSdk, kSentAt, "k"));
  CHECK(std::string{parsed.payload["level"].GetString()} == "warning");
  CHECK(std::string{parsed.payload["logentry"]["message"].GetString()} == "disk {}% full on {}");
  CHECK(std::string{parsed.payload["logentry"]["formatted"].GetString()} ==
        "disk 93% full on db-01");
  CHECK(parsed.payload["logentry"]["params"].Size() == 2);
  CHECK_FALSE(parsed.header.HasMember("trace"));

  event.message_template.clear();
  event.message_params.clear();
  parsed = parse(event_envelope(event, kSdk, kSentAt, "k"));
  CHECK(std::string{parsed.payload["message"].GetString()} == "disk 93% full on db-01");
}

TEST_CASE("invalid UTF-8 and control characters still give valid JSON") {
  warden::event event;
  event.event_id = "00000000000000000000000000000002";
  event.message = "bad \xC3\x28 byte, nul \0 and \x1F ok \xE2\x82\xAC\"q\""s;
  event.tags["k\xFF"] = "v\xFE";
  const auto parsed = parse(event_envelope(event, kSdk, kSentAt, "k"));
  const std::string message{parsed.payload["message"].GetString(),
                            parsed.payload["message"].GetStringLength()};
  CHECK(message.find("bad \xEF\xBF\xBD( byte") == 0);
  CHECK(message.find("nul \0 and \x1F ok"s) != std::string::npos);  // escaped, then decoded
  CHECK(message.find("\xE2\x82\xAC\"q\"") != std::string::npos);
  CHECK(parsed.payload["tags"].HasMember("k\xEF\xBF\xBD"));
}

TEST_CASE("strings, breadcrumbs and stacks are bounded, huge events still fit") {
  payload_limits limits;
  limits.max_breadcrumbs = 3;
  limits.max_frames = 4;
  limits.max_tag_value_bytes = 10;
  warden::event event = exception_event();
  event.tags["long"] = std::string(500, 'x');
  event.exceptions[1].frames.clear();
  for (int i = 0; i < 10; ++i) {
    event.exceptions[1].frames.push_back({0, "frame" + std::to_string(i), "", "", 0, false});
    event.breadcrumbs.push_back({});
  }
  auto parsed = parse(event_envelope(event, kSdk, kSentAt, "k", limits));
  CHECK(std::string{parsed.payload["tags"]["long"].GetString()}.size() == 10);
  CHECK(parsed.payload["breadcrumbs"]["values"].Size() == 3);
  const auto& frames = parsed.payload["exception"]["values"][1]["stacktrace"]["frames"];
  REQUIRE(frames.Size() == 4);
  CHECK(std::string{frames[0]["function"].GetString()} == "frame0");  // outermost kept
  CHECK(std::string{frames[3]["function"].GetString()} == "frame9");  // innermost kept

  // 2 MB of extras and breadcrumbs against the default 1 MB event limit.
  warden::event huge = exception_event();
  for (int i = 0; i < 2000; ++i) {
    huge.extra["key" + std::to_string(i)] = std::string(1000, 'e');
    warden::breadcrumb crumb;
    crumb.message = std::string(1000, 'b');
    huge.breadcrumbs.push_back(crumb);
  }
  const std::string payload = event_payload(huge, kSdk);
  CHECK(payload.size() <= payload_limits{}.max_event_bytes);
  rapidjson::Document document;
  document.Parse(payload.c_str());
  REQUIRE_FALSE(document.HasParseError());
  CHECK_FALSE(document.HasMember("breadcrumbs"));
  CHECK(document.HasMember("exception"));  // what matters survives
  CHECK(std::string{document["tags"]["team"].GetString()} == "payments");
}

// What the tests of the request builders share: the protocol fixtures
// (tests/fixtures/webhooks/outbound, WARDEN_WEBHOOK_FIXTURES), JSON compared as values,
// a request's headers, and the issue the fixtures describe.
#pragma once

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "targets/http.hpp"
#include "targets/ticket.hpp"

namespace warden::testing {

/// The fixture `name` of tests/fixtures/webhooks/outbound; fails the test when missing.
inline std::string read_fixture(const std::string& name) {
  std::ifstream file(std::string(WARDEN_WEBHOOK_FIXTURES) + "/outbound/" + name, std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "fixture " << name << " is missing");
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

/// `json` parsed; fails the test when it is not JSON.
inline rapidjson::Document parse(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  REQUIRE_MESSAGE(!document.HasParseError(), "not JSON: " << json);
  return document;
}

/// `value` as compact JSON.
inline std::string serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

/// Compares two JSON documents as values (member order ignored, array order kept) and
/// shows both when they differ.
inline void check_same_json(const rapidjson::Value& actual, const rapidjson::Value& expected) {
  CHECK_MESSAGE(actual == expected,
                "actual:   " << serialize(actual) << "\nexpected: " << serialize(expected));
}

/// The same for two JSON texts.
inline void check_same_json(const std::string& actual, const std::string& expected) {
  check_same_json(parse(actual), parse(expected));
}

/// The request's header `name`, or "".
inline std::string header(const sink::http_request& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return {};
}

/// The issue of the fixtures: [team-payments][backend][checkout] High error rate.
inline sink::ticket_snapshot fixture_snapshot() {
  sink::ticket_snapshot snapshot;
  snapshot.issue_id = 42;
  snapshot.incident_key = "am:c6110dd6075a4fcb";
  snapshot.title = "High error rate";
  snapshot.culprit = "checkout.api.charge";
  snapshot.team = "team-payments";
  snapshot.function = "backend";
  snapshot.product = "checkout";
  snapshot.owner_source = "rules";
  snapshot.level = "fatal";
  snapshot.environment = "production";
  snapshot.first_release = "shop@1.4.2";
  snapshot.last_release = "shop@1.4.3";
  snapshot.event_count = 1234;
  snapshot.user_count = 56;
  snapshot.first_seen_ms = 1741943561000;  // 2025-03-14T09:12:41Z
  snapshot.last_seen_ms = 1741944423000;   // 2025-03-14T09:27:03Z
  snapshot.frames = {"charge_card at checkout/api/charge.py:88",
                     "authorize at checkout/payments/gateway.py:41"};
  snapshot.rule = "prod-errors";
  snapshot.reason = "first_seen";
  snapshot.link = "https://warden.example.internal/api/0/issues/42";
  return snapshot;
}

}  // namespace warden::testing

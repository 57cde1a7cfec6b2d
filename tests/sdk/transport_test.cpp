// The libcurl transport and request building against a real HTTP server on loopback.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "../support/recording_server.hpp"
#include "curl_transport.hpp"
#include "dsn.hpp"
#include "http_request.hpp"

using namespace std::chrono_literals;
using warden::sdk::detail::curl_settings;
using warden::sdk::detail::curl_transport;
using warden::sdk::detail::envelope_request;
using warden::sdk::detail::parse_dsn;
using warden::testing::recording_server;

namespace {

const warden::sdk::detail::sdk_identity kSdk{"warden.cpp", "0.1.0"};

warden::sdk::detail::dsn dsn_for(const recording_server& server) {
  auto parsed = parse_dsn("http://pubkey@127.0.0.1:" + std::to_string(server.port()) + "/7");
  REQUIRE(parsed.ok());
  return *parsed;
}

}  // namespace

TEST_CASE("an envelope arrives with auth, type and the body intact, large ones gzipped") {
  recording_server server;
  curl_transport transport{curl_settings{}};
  const auto target = dsn_for(server);

  const std::string small = "{}\n{\"type\":\"client_report\"}\n{}";
  auto response = transport.send(envelope_request(small, target, kSdk), 2000ms);
  CHECK(response.status == 200);
  CHECK(response.error.empty());

  const std::string large =
      "{}\n{\"type\":\"event\"}\n{\"message\":\"" + std::string(5000, 'x') + "\"}";
  response = transport.send(envelope_request(large, target, kSdk), 2000ms);
  CHECK(response.status == 200);

  REQUIRE(server.wait_for_requests(2, 2000ms));
  const auto requests = server.requests();
  CHECK(requests[0].path == "/api/7/envelope/");
  CHECK(requests[0].header("Content-Type") == "application/x-sentry-envelope");
  CHECK(requests[0].header("X-Sentry-Auth") ==
        "Sentry sentry_version=7, sentry_client=warden.cpp/0.1.0, sentry_key=pubkey");
  CHECK(requests[0].header("Content-Encoding").empty());
  CHECK(requests[0].body == small);
  CHECK(requests[1].header("Content-Encoding") == "gzip");
  CHECK(requests[1].body == large);  // the server undid the gzip
}

TEST_CASE("rate-limit headers come back from any status") {
  recording_server server;
  server.script({{429, {{"Retry-After", "60"}, {"X-Sentry-Rate-Limits", "60:error:organization"}}},
                 {200, {{"X-Sentry-Rate-Limits", "30:transaction:key"}}},
                 {503, {}}});
  curl_transport transport{curl_settings{}};
  const auto request = envelope_request("{}\n", dsn_for(server), kSdk);
  auto response = transport.send(request, 2000ms);
  CHECK(response.status == 429);
  CHECK(response.retry_after == "60");
  CHECK(response.sentry_rate_limits == "60:error:organization");
  response = transport.send(request, 2000ms);
  CHECK(response.status == 200);
  CHECK(response.retry_after.empty());
  CHECK(response.sentry_rate_limits == "30:transaction:key");
  response = transport.send(request, 2000ms);
  CHECK(response.status == 503);
}

TEST_CASE("the connection is reused between envelopes") {
  recording_server server;
  curl_transport transport{curl_settings{}};
  const auto request = envelope_request("{}\n", dsn_for(server), kSdk);
  for (int i = 0; i < 5; ++i) CHECK(transport.send(request, 2000ms).status == 200);
  REQUIRE(server.wait_for_requests(5, 2000ms));
  // httplib reports the client's port; one connection means one port for all requests.
  const auto requests = server.requests();
  for (const auto& received : requests) {
    CHECK(received.header("REMOTE_PORT") == requests.front().header("REMOTE_PORT"));
  }
}

TEST_CASE("send_all sends a batch at once, one connection each, answers in order") {
  recording_server slow;
  slow.set_default_reply({200, {}, "{}", 1000ms});
  int closed_port = 0;
  {
    recording_server gone;
    closed_port = gone.port();
  }
  auto unreachable = parse_dsn("http://k@127.0.0.1:" + std::to_string(closed_port) + "/1");
  REQUIRE(unreachable.ok());
  const auto good = envelope_request("{}\n", dsn_for(slow), kSdk);
  const std::vector<warden::http_request> batch{good, envelope_request("{}\n", *unreachable, kSdk),
                                                good, good};
  curl_transport transport{curl_settings{}};
  const std::vector<warden::http_response> responses = transport.send_all(batch, 5000ms);
  REQUIRE(responses.size() == 4);
  CHECK(responses[0].status == 200);
  CHECK(responses[1].status == 0);
  CHECK_FALSE(responses[1].error.empty());
  CHECK(responses[2].status == 200);
  CHECK(responses[3].status == 200);
  // Each reply took a second: all three were being answered at once.
  CHECK(slow.max_in_flight() == 3);
  const auto requests = slow.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].header("REMOTE_PORT") != requests[1].header("REMOTE_PORT"));
  CHECK(requests[1].header("REMOTE_PORT") != requests[2].header("REMOTE_PORT"));
  CHECK(requests[0].header("REMOTE_PORT") != requests[2].header("REMOTE_PORT"));
}

TEST_CASE("cancel() ends every transfer of a batch") {
  recording_server stalled;
  stalled.set_default_reply({200, {}, "{}", 30000ms});
  curl_transport transport{curl_settings{}};
  const auto request = envelope_request("{}\n", dsn_for(stalled), kSdk);
  std::thread canceller{[&] {
    stalled.wait_for_requests(2, 10000ms);
    transport.cancel();
  }};
  const std::vector<warden::http_response> responses =
      transport.send_all({request, request}, 60000ms);
  canceller.join();
  REQUIRE(responses.size() == 2);
  for (const warden::http_response& response : responses) {
    CHECK(response.status == 0);
    CHECK(response.error.find("cancelled") != std::string::npos);
  }
}

TEST_CASE("a closed port and a stalled sink give errors within the timeout") {
  int closed_port = 0;
  {
    recording_server gone;
    closed_port = gone.port();
  }
  curl_transport transport{curl_settings{}};
  auto target = parse_dsn("http://k@127.0.0.1:" + std::to_string(closed_port) + "/1");
  REQUIRE(target.ok());
  auto response = transport.send(envelope_request("{}\n", *target, kSdk), 1000ms);
  CHECK(response.status == 0);
  CHECK_FALSE(response.error.empty());

  recording_server stalled;
  stalled.set_default_reply({200, {}, "{}", 5000ms});
  const auto started = std::chrono::steady_clock::now();
  response = transport.send(envelope_request("{}\n", dsn_for(stalled), kSdk), 300ms);
  const auto waited = std::chrono::steady_clock::now() - started;
  CHECK(response.status == 0);
  CHECK(response.error.find("timed out") != std::string::npos);
  CHECK(waited < 3000ms);  // generous: a loaded CI machine must not make this flaky
}

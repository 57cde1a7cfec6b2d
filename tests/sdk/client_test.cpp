// The SDK end to end: init, capture and scopes on the application side, and what a real
// HTTP sink on 127.0.0.1 receives, parsed envelope by envelope; then the faults a sink
// can have (down, 429, 5xx, slow, stalled) and what the SDK does about them.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "../support/envelope_reader.hpp"
#include "../support/recording_server.hpp"
#include "payments_module.hpp"
#include "sink_fixture.hpp"
#include "warden/ownership.hpp"
#include "warden/sdk.hpp"

using namespace std::chrono_literals;
using warden::testing::closed_port;
using warden::testing::event_with_id;
using warden::testing::events;
using warden::testing::fresh_directory;
using warden::testing::options_for;
using warden::testing::parse_envelope;
using warden::testing::parsed_envelope;
using warden::testing::received;
using warden::testing::recording_server;
using warden::testing::reported;
using warden::testing::tag;

WARDEN_MODULE_OWNER("storefront", "frontend", "shop");

TEST_CASE("before init and after close every capture is a no-op") {
  CHECK(warden::capture_message("nobody listens").empty());
  recording_server server;
  {
    auto sdk = warden::init(options_for(server));
    REQUIRE(sdk.ok());
    CHECK(sdk.active());
    CHECK(sdk.close(2s));
    CHECK_FALSE(sdk.active());
  }
  CHECK(warden::capture_message("after close").empty());
  CHECK(server.requests().empty());
}

TEST_CASE("an invalid DSN or cache directory is a clear error, and the SDK stays off") {
  warden::options options;
  options.dsn = "http://127.0.0.1:9/42";
  std::string logged;
  options.debug_logger = [&](warden::level, std::string_view message) { logged = message; };
  auto sdk = warden::init(options);
  CHECK_FALSE(sdk.ok());
  CHECK(sdk.error().find("key") != std::string::npos);
  CHECK(logged.find("warden::init failed") != std::string::npos);
  CHECK(warden::capture_message("dropped").empty());

  const auto directory = fresh_directory("not-a-directory");
  const auto file = directory / "file";
  { std::ofstream{file} << "x"; }
  options.dsn = "http://key@127.0.0.1:9/42";
  options.cache_directory = (file / "cache").string();
  auto cached = warden::init(options);
  CHECK_FALSE(cached.ok());
  CHECK(cached.error().find("cache directory") != std::string::npos);
  std::filesystem::remove_all(directory);
}

TEST_CASE("messages arrive with template, owner tags, scope data and system contexts") {
  recording_server server;
  auto sdk = warden::init(options_for(server));
  REQUIRE(sdk.ok());
  warden::configure_scope([](warden::scope& scope) {
    scope.set_tag("region", "eu-1");
    scope.set_tag("shared", "global");
  });
  warden::configure_thread_scope([](warden::scope& scope) { scope.set_tag("shared", "thread"); });
  warden::breadcrumb crumb;
  crumb.category = "db";
  crumb.message = "SELECT orders";
  warden::add_breadcrumb(crumb);

  std::string first;
  {
    WARDEN_ENDPOINT("GET /cart", warden::team("cart"));
    first = warden::capture_message(warden::level::warning, "cart {} has {} items ({:.1f}%)",
                                    "c-17", 3, 12.5);
  }
  std::string second;
  {
    warden::scoped_override request{[](warden::scope& scope) {
      scope.set_tag("order", "o-1");
      scope.set_level(warden::level::fatal);
      scope.set_user(warden::user_info{"u-9", "", "", ""});
    }};
    second = warden::capture_message("plain text");
  }
  CHECK(first.size() == 32);
  CHECK(warden::last_event_id() == second);
  REQUIRE(sdk.flush(5s));
  warden::configure_thread_scope([](warden::scope& scope) { scope.clear(); });

  const auto all = events(server);
  REQUIRE(all.size() == 2);
  const auto& message = event_with_id(all, first);
  CHECK(std::string{message["level"].GetString()} == "warning");
  CHECK(std::string{message["logentry"]["message"].GetString()} ==
        "cart {} has {} items ({:.1f}%)");
  CHECK(std::string{message["logentry"]["formatted"].GetString()} ==
        "cart c-17 has 3 items (12.5%)");
  CHECK(message["logentry"]["params"].Size() == 3);
  CHECK(tag(message, "team") == "cart");
  CHECK(tag(message, "function") == "frontend");
  CHECK(tag(message, "product") == "shop");
  CHECK(tag(message, "region") == "eu-1");
  CHECK(tag(message, "shared") == "thread");
  CHECK(std::string{message["release"].GetString()} == "shop@1.2.3");
  CHECK(std::string{message["environment"].GetString()} == "staging");
  CHECK(message["contexts"]["os"].HasMember("kernel_version"));
  CHECK(message["contexts"]["device"].HasMember("arch"));
  CHECK(message["contexts"]["runtime"].HasMember("name"));
  CHECK(std::string{message["contexts"]["ownership"]["source"].GetString()} == "capture");
  REQUIRE(message["breadcrumbs"]["values"].Size() == 1);
  CHECK(std::string{message["breadcrumbs"]["values"][0]["message"].GetString()} == "SELECT orders");

  const auto& plain = event_with_id(all, second);
  CHECK(std::string{plain["message"].GetString()} == "plain text");
  CHECK(std::string{plain["level"].GetString()} == "fatal");
  CHECK(tag(plain, "order") == "o-1");
  CHECK(std::string{plain["user"]["id"].GetString()} == "u-9");
  // No scope was active: the fallback owner, marked as such and counted.
  CHECK(tag(plain, "team") == "unowned");
  CHECK(std::string{plain["contexts"]["ownership"]["source"].GetString()} == "fallback");
  CHECK(warden::statistics().unowned == 1);
}

TEST_CASE("exceptions carry their nested chain and the throw-site owner across modules") {
  recording_server server;
  auto sdk = warden::init(options_for(server));
  REQUIRE(sdk.ok());
  std::string nested_id;
  std::string plain_id;
  {
    WARDEN_OWNED();  // storefront catches what payments threw
    try {
      payments::fail_checkout();
    } catch (const std::exception& error) {
      nested_id = warden::capture_exception(error);
    }
    try {
      payments::decline_card(3);
    } catch (...) {
      plain_id = warden::capture_exception(std::current_exception());
    }
  }
  CHECK(nested_id.size() == 32);
  REQUIRE(sdk.flush(5s));
  const auto all = events(server);
  REQUIRE(all.size() == 2);

  const auto& nested = event_with_id(all, nested_id);
  const auto& values = nested["exception"]["values"];
  REQUIRE(values.Size() == 2);
  // Sentry's order: the cause first, the outermost exception last.
  CHECK(std::string{values[0]["type"].GetString()} == "std::runtime_error");
  CHECK(std::string{values[0]["value"].GetString()} == "card declined");
  CHECK(std::string{values[0]["mechanism"]["type"].GetString()} == "chained");
  CHECK(values[0]["mechanism"]["parent_id"].GetInt() == 0);
  // The type thrown, not std::throw_with_nested's wrapper around it.
  CHECK(std::string{values[1]["type"].GetString()} == "std::logic_error");
  CHECK(values[1]["mechanism"]["exception_id"].GetInt() == 0);
  CHECK(tag(nested, "team") == "payments");
  CHECK(tag(nested, "product") == "checkout");
  CHECK(tag(nested, "captured_by.team") == "storefront");
  CHECK(std::string{nested["contexts"]["ownership"]["source"].GetString()} == "throw");

  const auto& plain = event_with_id(all, plain_id);
  CHECK(tag(plain, "team") == "payments");
  CHECK(std::string{plain["exception"]["values"][0]["type"].GetString()} == "std::runtime_error");
}

TEST_CASE("sampling and before_send drop events and say so in a client report") {
  recording_server server;
  auto options = options_for(server);
  options.before_send = [](warden::event& event) {
    event.tags["seen_by"] = "before_send";
    return event.message != "secret";
  };
  auto sdk = warden::init(options);
  warden::capture_message("secret");
  warden::capture_message("public");
  REQUIRE(sdk.flush(5s));
  REQUIRE(sdk.close(5s));
  const auto all = events(server);
  REQUIRE(all.size() == 1);
  CHECK(tag(all[0], "seen_by") == "before_send");
  CHECK(reported(server, "before_send") == 1);

  recording_server sampled;
  auto none = options_for(sampled);
  none.sample_rate = 0.0;
  auto off = warden::init(none);
  for (int i = 0; i < 10; ++i) CHECK(warden::capture_message("sampled out").empty());
  CHECK(warden::statistics().dropped["sample_rate"] == 10);
  REQUIRE(off.close(5s));
  CHECK(events(sampled).empty());
  CHECK(reported(sampled, "sample_rate") == 10);
}

TEST_CASE("oversized events are truncated, invalid UTF-8 replaced, never refused") {
  recording_server server;
  auto sdk = warden::init(options_for(server));
  warden::event big;
  big.message = std::string(3'000'000, 'x') + "\xff";
  for (int i = 0; i < 5000; ++i) big.extra["key" + std::to_string(i)] = std::string(500, 'y');
  CHECK(warden::capture_event(big).size() == 32);
  REQUIRE(sdk.flush(5s));
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto envelope = parse_envelope(requests[0].body);
  const auto* item = envelope.find("event");
  REQUIRE(item != nullptr);
  CHECK(item->payload.size() <= 1'000'000);
  CHECK_FALSE(item->json.HasParseError());
}

TEST_CASE("a sink that is down and comes back gets every cached event exactly once") {
  const auto cache = fresh_directory("down-up");
  const int port = closed_port();
  warden::options options;
  options.dsn = "http://key@127.0.0.1:" + std::to_string(port) + "/1";
  options.cache_directory = cache.string();
  options.retry_initial_delay = 50ms;
  options.retry_max_delay = 200ms;
  std::set<std::string> ids;
  {
    auto sdk = warden::init(options);
    REQUIRE(sdk.ok());
    for (int i = 0; i < 20; ++i)
      ids.insert(warden::capture_message(warden::level::error, "down {}", i));
    CHECK_FALSE(sdk.flush(300ms));  // nothing can go out
    CHECK(warden::statistics().cached > 0);
    CHECK(sdk.close(200ms) == false);
  }
  CHECK(std::distance(std::filesystem::directory_iterator{cache}, {}) == 20);

  // The next start delivers what the last one cached.
  recording_server server{port};
  REQUIRE(server.port() == port);
  auto sdk = warden::init(options);
  REQUIRE(sdk.flush(10s));
  std::set<std::string> arrived;
  for (const auto& event : events(server)) {
    CHECK(arrived.insert(event["event_id"].GetString()).second);  // never twice
  }
  CHECK(arrived == ids);
  CHECK(std::filesystem::is_empty(cache));
  std::filesystem::remove_all(cache);
}

TEST_CASE("5xx and resets are retried with backoff until the sink takes the event") {
  recording_server server;
  server.script({{503, {}}, {500, {}}});
  auto sdk = warden::init(options_for(server));
  const std::string id = warden::capture_message("retry me");
  REQUIRE(sdk.flush(5s));
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& request : requests) {
    CHECK(std::string{parse_envelope(request.body).header["event_id"].GetString()} == id);
  }
  CHECK(warden::statistics().delivered == 1);
}

TEST_CASE("429 with X-Sentry-Rate-Limits holds that category back and reports it") {
  recording_server server;
  server.script({{429, {{"X-Sentry-Rate-Limits", "60:error:key"}}}});
  auto sdk = warden::init(options_for(server));
  warden::capture_message("limited");
  REQUIRE(sdk.flush(5s));
  for (int i = 0; i < 5; ++i) warden::capture_message("held back");
  REQUIRE(sdk.flush(5s));
  CHECK(warden::statistics().dropped["ratelimit_backoff"] == 5);
  REQUIRE(sdk.close(5s));  // the client report (category internal) is not limited
  CHECK(events(server).size() == 1);
  CHECK(reported(server, "ratelimit_backoff") == 5);
}

TEST_CASE("429 with only Retry-After holds everything back until it expires") {
  recording_server server;
  server.script({{429, {{"Retry-After", "1"}}}});
  auto sdk = warden::init(options_for(server));
  warden::capture_message("limited");
  REQUIRE(sdk.flush(5s));
  warden::capture_message("held back");
  REQUIRE(sdk.flush(5s));
  CHECK(server.requests().size() == 1);
  std::this_thread::sleep_for(1100ms);
  warden::capture_message("after the limit");
  REQUIRE(sdk.flush(5s));
  REQUIRE(sdk.close(5s));
  CHECK(events(server).size() == 2);
  CHECK(reported(server, "ratelimit_backoff") == 1);
}

TEST_CASE("a slow sink with a full queue: callers never wait, drops are counted and reported") {
  recording_server server;
  server.set_default_reply({200, {}, "{}", 200ms});
  auto options = options_for(server);
  options.queue_capacity = 5;
  auto sdk = warden::init(options);
  int accepted = 0;
  for (int i = 0; i < 100; ++i) {
    if (!warden::capture_message(warden::level::error, "flood {}", i).empty()) ++accepted;
  }
  CHECK(accepted < 100);
  CHECK(warden::statistics().dropped["queue_overflow"] ==
        static_cast<std::uint64_t>(100 - accepted));
  REQUIRE(sdk.flush(10s));
  REQUIRE(sdk.close(5s));
  CHECK(events(server).size() == static_cast<std::size_t>(accepted));
  CHECK(reported(server, "queue_overflow") == static_cast<std::uint64_t>(100 - accepted));
}

TEST_CASE("close against a stalled sink returns within its timeout") {
  recording_server server;
  server.set_default_reply({200, {}, "{}", 20s});
  auto sdk = warden::init(options_for(server));
  for (int i = 0; i < 50; ++i) warden::capture_message("stalled");
  REQUIRE(server.wait_for_requests(1, 5s));
  const auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(sdk.close(500ms));
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < 1500ms);  // the budget is 500 ms; the margin absorbs a loaded machine
}

TEST_CASE("captures from many threads all arrive") {
  recording_server server;
  auto options = options_for(server);
  options.queue_capacity = 10000;
  auto sdk = warden::init(options);
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&accepted, t] {
      for (int i = 0; i < 50; ++i) {
        warden::configure_thread_scope(
            [t](warden::scope& scope) { scope.set_tag("thread", std::to_string(t)); });
        warden::breadcrumb crumb;
        crumb.message = "step";
        warden::add_breadcrumb(crumb);
        if (!warden::capture_message(warden::level::error, "thread {} event {}", t, i).empty()) {
          ++accepted;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(sdk.flush(20s));
  CHECK(accepted == 200);
  CHECK(events(server).size() == 200);
}

TEST_CASE("an exception that is not a std::exception is captured by its type") {
  recording_server server;
  auto sdk = warden::init(options_for(server));
  try {
    throw 42;
  } catch (...) {
    CHECK(warden::capture_exception(std::current_exception()).size() == 32);
  }
  REQUIRE(sdk.flush(5s));
  const auto all = events(server);
  REQUIRE(all.size() == 1);
  CHECK(std::string{all[0]["exception"]["values"][0]["type"].GetString()} == "int");
}

// Stack traces end to end: taken on the capturing thread (capture site, and throw site
// with the throw hook), symbolized on the worker, received by a real HTTP sink.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "captured_event.hpp"
#include "payments_module.hpp"
#include "sink_fixture.hpp"
#include "stacktrace.hpp"
#include "warden/ownership.hpp"
#include "warden/ownership/throw_hook.hpp"
#include "warden/sdk.hpp"

using namespace std::chrono_literals;
using warden::testing::events;
using warden::testing::frame_functions;
using warden::testing::options_for;
using warden::testing::recording_server;
using warden::testing::text;

WARDEN_MODULE_OWNER("storefront", "frontend", "shop");

namespace checkout {

// A named, non-inlined application frame that catches and captures.
[[gnu::noinline]] void report_declined_card() {
  try {
    payments::decline_card(2);
  } catch (const std::exception& error) {
    warden::capture_exception(error);
  }
}

[[gnu::noinline]] void report_failed_checkout() {
  try {
    payments::fail_checkout();
  } catch (const std::exception& error) {
    warden::capture_exception(error);
  }
}

[[gnu::noinline]] void log_slow_request() {
  warden::capture_message(warden::level::warning, "request took {} ms", 1200);
}

}  // namespace checkout

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The frames of the exception Sentry shows (the last of the chain).
const rapidjson::Value& exception_frames(const rapidjson::Value& event, unsigned index = 0) {
  return event["exception"]["values"][index]["stacktrace"]["frames"];
}

}  // namespace

TEST_CASE("an exception carries the capture-site stack, symbolized, without the SDK's frames") {
  recording_server server;
  auto sdk = warden::init(options_for(server));
  REQUIRE(sdk.ok());
  checkout::report_declined_card();
  REQUIRE(sdk.flush(5s));
  const auto all = events(server);
  REQUIRE(all.size() == 1);
  const auto& frames = exception_frames(all[0]);
  REQUIRE(frames.Size() >= 3);
  const auto& innermost = frames[frames.Size() - 1];
  // The capture site is the last frame; nothing of warden's capture code above it.
  CHECK(text(innermost, "function") == "checkout::report_declined_card()");
  CHECK(innermost["in_app"].GetBool());
  CHECK(text(innermost, "instruction_addr").rfind("0x", 0) == 0);
  CHECK(text(innermost, "package").find("warden_sdk_tests") != std::string::npos);
  const auto names = frame_functions(frames);
  CHECK(contains(names, "main"));
  for (const auto& name : names) CHECK(name.find("capture_exception") == std::string::npos);
  // The C library's frames are not application code.
  bool system_frame_seen = false;
  for (const auto& frame : frames.GetArray()) {
    if (text(frame, "package").find("libc.so") != std::string::npos) {
      system_frame_seen = true;
      CHECK_FALSE(frame["in_app"].GetBool());
    }
  }
  CHECK(system_frame_seen);
}

TEST_CASE("with throw_site_stacks the stack is where the exception was thrown") {
  REQUIRE(warden::throw_hook_installed());
  recording_server server;
  auto options = options_for(server);
  options.throw_site_stacks = true;
  auto sdk = warden::init(std::move(options));
  REQUIRE(sdk.ok());
  checkout::report_declined_card();
  checkout::report_failed_checkout();
  REQUIRE(sdk.flush(5s));
  const auto all = events(server);
  REQUIRE(all.size() == 2);

  // Sent together, they may arrive in either order: the chain has two exceptions.
  const bool chain_first = all[0]["exception"]["values"].Size() == 2;
  const auto& single = all[chain_first ? 1 : 0];
  const auto& chain = all[chain_first ? 0 : 1];
  const auto& thrown = exception_frames(single);
  const auto names = frame_functions(thrown);
  REQUIRE(!names.empty());
  CHECK(names.back() == "payments::decline_card()");  // the throwing frame, not __cxa_throw
  CHECK(std::count(names.begin(), names.end(), "payments::decline_card()") == 3);
  CHECK(contains(names, "checkout::report_declined_card()"));

  // Each exception of a nested chain has its own throw site.
  const auto cause = frame_functions(exception_frames(chain, 0));
  const auto outer = frame_functions(exception_frames(chain, 1));
  REQUIRE(!cause.empty());
  CHECK(cause.back() == "payments::decline_card()");
  CHECK(contains(outer, "payments::fail_checkout()"));
  CHECK_FALSE(contains(outer, "payments::decline_card()"));
}

TEST_CASE("in_app follows the configured prefixes") {
  recording_server server;
  auto options = options_for(server);
  options.throw_site_stacks = true;
  options.in_app_prefixes = {"payments::"};
  auto sdk = warden::init(std::move(options));
  REQUIRE(sdk.ok());
  checkout::report_declined_card();
  REQUIRE(sdk.flush(5s));
  const auto all = events(server);
  REQUIRE(all.size() == 1);
  int in_app = 0;
  for (const auto& frame : exception_frames(all[0]).GetArray()) {
    const bool payments = text(frame, "function").rfind("payments::", 0) == 0;
    CHECK(frame["in_app"].GetBool() == payments);
    in_app += payments ? 1 : 0;
  }
  CHECK(in_app == 3);
}

TEST_CASE("messages carry a stack only with attach_stacktrace, unwinder none takes none") {
  recording_server server;
  {
    auto options = options_for(server);
    options.attach_stacktrace = true;
    auto sdk = warden::init(std::move(options));
    REQUIRE(sdk.ok());
    checkout::log_slow_request();
    REQUIRE(sdk.flush(5s));
  }
  {
    auto sdk = warden::init(options_for(server));
    checkout::log_slow_request();
    REQUIRE(sdk.flush(5s));
  }
  {
    auto options = options_for(server);
    options.unwinder = warden::stack_unwinder::none;
    auto sdk = warden::init(std::move(options));
    checkout::report_declined_card();
    REQUIRE(sdk.flush(5s));
  }
  const auto all = events(server);
  REQUIRE(all.size() == 3);
  const auto& thread = all[0]["threads"]["values"][0];
  const auto names = frame_functions(thread["stacktrace"]["frames"]);
  REQUIRE(!names.empty());
  CHECK(names.back() == "checkout::log_slow_request()");
  CHECK_FALSE(all[1].HasMember("threads"));
  CHECK_FALSE(all[2]["exception"]["values"][0].HasMember("stacktrace"));
}

TEST_CASE("function names lose the suffixes of compiler clones") {
  using warden::sdk::detail::without_clone_suffix;
  CHECK(without_clone_suffix("checkout::pay(int) [clone .cold]") == "checkout::pay(int)");
  CHECK(without_clone_suffix("f() [clone .isra.0] [clone .cold]") == "f()");
  CHECK(without_clone_suffix("main.cold") == "main");
  CHECK(without_clone_suffix("parse.isra.0") == "parse");
  CHECK(without_clone_suffix("parse.constprop.0.cold") == "parse");
  // Names that only look alike stay as they are.
  CHECK(without_clone_suffix("std::vector<int>::at(unsigned long) const") ==
        "std::vector<int>::at(unsigned long) const");
  CHECK(without_clone_suffix("operator.()") == "operator.()");
  CHECK(without_clone_suffix(".hidden") == ".hidden");
  CHECK(without_clone_suffix("") == "");
}

TEST_CASE("exception types are reported as thrown, not as their wrappers") {
  using warden::sdk::detail::exception_type_name;
  CHECK(exception_type_name(typeid(std::logic_error).name()) == "std::logic_error");
  try {
    std::throw_with_nested(std::logic_error{"outer"});
  } catch (const std::exception& nested) {
    CHECK(exception_type_name(typeid(nested).name()) == "std::logic_error");
  }
  const warden::owned<std::runtime_error> owned{"declined"};
  CHECK(exception_type_name(typeid(owned).name()) == "std::runtime_error");
  CHECK(exception_type_name("not a mangled name") == "not a mangled name");
}

TEST_CASE("a message captured through the capture template starts at its caller") {
  recording_server server;
  auto options = options_for(server);
  options.attach_stacktrace = true;
  options.in_app_prefixes = {"checkout::", "warden::"};  // even when Warden counts as app code
  auto sdk = warden::init(std::move(options));
  REQUIRE(sdk.ok());
  checkout::log_slow_request();
  REQUIRE(sdk.flush(5s));
  const auto all = events(server);
  REQUIRE(all.size() == 1);
  const auto names = frame_functions(all[0]["threads"]["values"][0]["stacktrace"]["frames"]);
  REQUIRE_FALSE(names.empty());
  CHECK(names.back() == "checkout::log_slow_request()");
  for (const auto& name : names) CHECK(name.rfind("warden::capture_", 0) != 0);
}

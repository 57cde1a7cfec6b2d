// The sink's grouping layer: message normalization, owner resolution and group keys.
// Near-duplicates (other line numbers, addresses, ids in messages, template parameters)
// must merge; other call paths, exception types and owners must not. Events are written
// the way real SDKs send them: @sentry/node's captures from shared/fixtures, and the
// payloads Warden's own SDK writes (sdk/src/envelope.cpp).
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "grouping/group_key.hpp"
#include "grouping/normalize.hpp"
#include "grouping/owner.hpp"
#include "warden/ownership/rules.hpp"

namespace doctest {
// Lists of components print element by element when a check fails.
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& values) {
    std::string text = "{";
    for (const std::string& value : values) text += "\n  \"" + value + "\"";
    text += "}";
    return String{text.c_str()};
  }
};
}  // namespace doctest

namespace {

using warden::sink::compute_group_key;
using warden::sink::event_owner;
using warden::sink::group_key;
using warden::sink::grouping_kind;
using warden::sink::grouping_kind_name;
using warden::sink::kMaxNormalizedLineBytes;
using warden::sink::kMaxTitleBytes;
using warden::sink::normalize_message;
using warden::sink::owner_source;
using warden::sink::resolve_owner;

rapidjson::Document parse(std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  REQUIRE_MESSAGE(!document.HasParseError(), "not JSON: " << json);
  return document;
}

const event_owner kPayments{"payments", "backend", "checkout", owner_source::sdk};

group_key key_of(std::string_view json, const event_owner& owner = kPayments) {
  return compute_group_key(parse(json), owner);
}

std::string hash_of(std::string_view json, const event_owner& owner = kPayments) {
  return key_of(json, owner).hash;
}

warden::ownership_rules rules_from(std::string_view text) {
  auto parsed = warden::ownership_rules::parse(text);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.errors.empty() ? "" : parsed.errors[0].to_string()));
  return *parsed.rules;
}

const warden::rule_owner kFallback{"platform", "sre", ""};

event_owner owner_of(std::string_view json, const warden::ownership_rules& rules) {
  return resolve_owner(parse(json), rules, kFallback);
}

// A C++ exception as Warden's SDK sends it: demangled type, what(), the throw-site
// stack outermost first with `function`, `package`, `instruction_addr` and `in_app`.
std::string sdk_exception(
    std::string_view type, std::string_view value, std::string_view inner_function,
    std::string_view address = "0x55d0c0de12a4",
    std::string_view system_library = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6") {
  std::ostringstream json;
  json
      << R"({"event_id":"0f5c0c9d6a0e4f2bb1a6f5bb0c1f6a3e","timestamp":1795462448.3,)"
      << R"("platform":"native","level":"error","exception":{"values":[{"type":")" << type
      << R"(","value":")" << value
      << R"(","mechanism":{"type":"generic","handled":true},"stacktrace":{"frames":[)"
      << R"({"function":"main","package":"/opt/shop/bin/shop","instruction_addr":"0x55d0c0de0100","in_app":true},)"
      << R"j({"function":"checkout::submit_order(checkout::order const&)","package":"/opt/shop/bin/shop","instruction_addr":"0x55d0c0de0f10","in_app":true},)j"
      << R"({"function":")" << inner_function
      << R"(","package":"/opt/shop/bin/shop","instruction_addr":")" << address
      << R"(","in_app":true},)"
      << R"({"function":"__cxa_throw","package":")" << system_library
      << R"(","instruction_addr":"0x7f3a1c0a9e11","in_app":false}]}}]},)"
      << R"("tags":{"team":"payments","function":"backend","product":"checkout"},)"
      << R"("contexts":{"ownership":{"source":"throw","owner":"payments/backend/checkout"}},)"
      << R"("sdk":{"name":"warden.native","version":"0.1.0"}})";
  return json.str();
}

// A JavaScript exception as @sentry/node sends it, with its frames' positions.
std::string node_exception(std::string_view type, std::string_view value,
                           std::string_view inner_function, int line, int column) {
  std::ostringstream json;
  json
      << R"({"platform":"node","level":"error","exception":{"values":[{"type":")" << type
      << R"(","value":")" << value << R"(","stacktrace":{"frames":[)"
      << R"({"filename":"node:internal/modules/cjs/loader","module":"loader","function":"Module._compile","lineno":1521,"colno":14,"in_app":false},)"
      << R"({"filename":"/srv/app/server.js","module":"server","function":"handle","lineno":)"
      << line + 30 << R"(,"colno":5,"in_app":true},)"
      << R"({"filename":"/srv/app/orders.js","module":"orders","function":")" << inner_function
      << R"(","lineno":)" << line << R"(,"colno":)" << column
      << R"(,"in_app":true}]},"mechanism":{"type":"generic","handled":true}}]}})";
  return json.str();
}

std::string message_event(std::string_view message) {
  return std::string{R"({"level":"warning","message":")"} + std::string{message} + R"("})";
}

}  // namespace

TEST_SUITE("normalize_message") {
  TEST_CASE("every kind of variable part becomes its placeholder") {
    const std::vector<std::pair<std::string_view, std::string_view>> cases{
        {"mail bob.smith+x@example.co.uk now", "mail <email> now"},
        {"GET https://api.example.com/v1/orders?id=7 failed", "GET <url> failed"},
        {"from 192.168.10.254:8080", "from <ip>:<int>"},
        {"peer 2001:db8::8a2e:370:7334 and ::1 and fe80::1ff:fe23:4567:890a",
         "peer <ip> and <ip> and <ip>"},
        {"mapped ::ffff:10.0.0.1 gone", "mapped <ip> gone"},
        {"request 550e8400-e29b-41d4-a716-446655440000 lost", "request <uuid> lost"},
        {"commit da39a3ee5e6b4b0d3255bfef95601890afd80709", "commit <sha1>"},
        {"digest d41d8cd98f00b204e9800998ecf8427e", "digest <md5>"},
        {"at 2024-01-15T10:30:00.123Z", "at <date>"},
        {"at 2024-01-15 10:30:00+01:00 then 2024-01-16", "at <date> then <date>"},
        {"expires Tue, 3 Jun 2008 11:05:30 GMT", "expires <date>"},
        {"js Mon Jan 02 2006 15:04:05 GMT-0700 (Mountain Standard Time) end", "js <date> end"},
        {"ctime Mon Jan  2 15:04:05 2006 end", "ctime <date> end"},
        {"at 23:59 or 9:30 pm", "at <date> or <date>"},
        {"pointer 0x7ffee3b8a9c0 freed twice", "pointer <hex> freed twice"},
        {"took 12.75 ms, ratio -0.5", "took <float> ms, ratio <float>"},
        {"retry 3 of 5, offset -42", "retry <int> of <int>, offset <int>"},
        {"key='abc def' other=\"x\" 'kept'", "key=<quoted_str> other=<quoted_str> 'kept'"},
    };
    for (const auto& example : cases) {
      CAPTURE(example.first);
      CHECK(normalize_message(example.first) == example.second);
    }
  }

  TEST_CASE("words, names and code stay as they are") {
    CHECK(normalize_message("std::vector::at: out of range") == "std::vector::at: out of range");
    CHECK(normalize_message("db::bad_connection in abc123 v2") ==
          "db::bad_connection in abc123 v2");
    CHECK(normalize_message("order-12 failed") == "order-<int> failed");  // a dash, not a sign
    CHECK(normalize_message("") == "");
  }

  TEST_CASE("the first two non-blank lines are kept, trimmed, '...' says more followed") {
    CHECK(normalize_message("  first 1  \r\n\n\t\nsecond 2\r\n") == "first <int>\nsecond <int>");
    CHECK(normalize_message("one\ntwo\nthree") == "one\ntwo...");
    CHECK(normalize_message("one\n\n  \ntwo\n \n") == "one\ntwo");
    CHECK(normalize_message("\n\n") == "");
  }

  TEST_CASE("a long line is cut at a character boundary and marked") {
    std::string line(kMaxNormalizedLineBytes - 1, 'a');
    line += "\xC3\xA9 tail";  // "é" straddles the limit
    const std::string normalized = normalize_message(line);
    CHECK(normalized == std::string(kMaxNormalizedLineBytes - 1, 'a') + "...");
  }

  TEST_CASE("messages that differ only in ids, numbers, addresses and dates normalize alike") {
    CHECK(normalize_message("user 42 (bob@example.com) from 10.0.0.7 at 2024-01-15T10:30:00Z: "
                            "order 550e8400-e29b-41d4-a716-446655440000, ptr 0x1f, 2.5 s") ==
          normalize_message("user 9001 (ann@example.org) from 172.16.3.1 at 2025-12-31T23:59:59Z: "
                            "order 123e4567-e89b-12d3-a456-426614174000, ptr 0xdeadbeef, 17.25 s"));
  }

  TEST_CASE("input of any shape is normalized in bounded time") {
    // Inputs that keep a naive scan re-reading the rest of the line for every match.
    for (const std::string_view unit :
         {"1.1.", "1:1:", "a@", "-1 ", "::1 ", "='x ", "Mon Jan 1 "}) {
      std::string text;
      while (text.size() < 64 * 1024) text.append(unit);
      CAPTURE(unit);
      CHECK(normalize_message(text).size() <= 2 * kMaxNormalizedLineBytes + 3);
    }
  }
}

TEST_SUITE("group key") {
  TEST_CASE("the hash is 64 lowercase hex digits and the key says how it was made") {
    const group_key key = key_of(node_exception("TypeError", "boom", "submit", 10, 3));
    CHECK(key.hash.size() == 64);
    CHECK(key.hash.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(key.version == warden::sink::kGroupingVersion);
    CHECK(key.kind == grouping_kind::exception);
    CHECK(grouping_kind_name(key.kind) == "exception");
    CHECK(key.components.size() == 3);
  }

  TEST_CASE("the same exception at other lines, columns and addresses is one issue") {
    const group_key first = key_of(node_exception("TypeError", "x is undefined", "submit", 10, 3));
    CHECK(first.components == std::vector<std::string>{"type: TypeError", "frame: server | handle",
                                                       "frame: orders | submit"});
    CHECK(hash_of(node_exception("TypeError", "x is undefined", "submit", 250, 17)) == first.hash);
    // Values do not count when frames do.
    CHECK(hash_of(node_exception("TypeError", "y is undefined", "submit", 12, 1)) == first.hash);

    const std::string native = hash_of(
        sdk_exception("std::runtime_error", "card declined", "checkout::report_declined_card()"));
    CHECK(hash_of(sdk_exception("std::runtime_error", "card declined",
                                "checkout::report_declined_card()", "0x5612aa000f00")) == native);
  }

  TEST_CASE("another innermost in-app function or exception type is another issue") {
    const std::string submit = hash_of(node_exception("TypeError", "boom", "submit", 10, 3));
    CHECK(hash_of(node_exception("TypeError", "boom", "cancel", 10, 3)) != submit);
    CHECK(hash_of(node_exception("RangeError", "boom", "submit", 10, 3)) != submit);

    const std::string declined = hash_of(
        sdk_exception("std::runtime_error", "card declined", "checkout::report_declined_card()"));
    CHECK(hash_of(sdk_exception("std::runtime_error", "card declined",
                                "checkout::report_expired_card()")) != declined);
    CHECK(hash_of(sdk_exception("std::logic_error", "card declined",
                                "checkout::report_declined_card()")) != declined);
  }

  TEST_CASE("two teams never share an issue") {
    const std::string event =
        sdk_exception("std::runtime_error", "card declined", "checkout::report_declined_card()");
    const std::string payments = hash_of(event, kPayments);
    CHECK(hash_of(event, {"refunds", "backend", "checkout", owner_source::sdk}) != payments);
    CHECK(hash_of(event, {"payments", "frontend", "checkout", owner_source::sdk}) != payments);
    CHECK(hash_of(event, {"payments", "backend", "", owner_source::sdk}) != payments);
    // Where the owner came from does not matter, only who it is.
    CHECK(hash_of(event, {"payments", "backend", "checkout", owner_source::rules}) == payments);
    // Fields are delimited: moving text from one field to the next changes the hash.
    CHECK(hash_of(event, {"pay", "mentsbackend", "checkout", owner_source::sdk}) != payments);
  }

  TEST_CASE("Warden's SDK: native frames by library and function, clone suffixes ignored") {
    const group_key key = key_of(sdk_exception("std::runtime_error", "card 4242 declined",
                                               "checkout::report_declined_card()"));
    CHECK(key.kind == grouping_kind::exception);
    CHECK(key.components ==
          std::vector<std::string>{"type: std::runtime_error", "frame: shop | main",
                                   "frame: shop | checkout::submit_order(checkout::order const&)",
                                   "frame: shop | checkout::report_declined_card()"});
    CHECK(key.title == "std::runtime_error: card 4242 declined");
    CHECK(key.culprit == "checkout::report_declined_card()");
    // The same function, other copies made by the compiler.
    for (const std::string_view clone :
         {"checkout::report_declined_card() [clone .cold]",
          "checkout::report_declined_card() [clone .isra.0] [clone .cold]",
          "checkout::report_declined_card().constprop.0.isra.1",
          "checkout::report_declined_card().cold"}) {
      CAPTURE(clone);
      CHECK(hash_of(sdk_exception("std::runtime_error", "card declined", clone)) == key.hash);
    }
  }

  TEST_CASE("clone suffixes are native only: elsewhere a dot names a method") {
    CHECK(key_of(node_exception("Error", "boom", "Thermostat.cold", 1, 1)).components.back() ==
          "frame: orders | Thermostat.cold");
  }

  TEST_CASE("in-app frames only, all frames when none is in app") {
    // Other system frames around the same in-app frames: one issue.
    const std::string app = hash_of(
        sdk_exception("std::runtime_error", "declined", "checkout::report_declined_card()"));
    CHECK(
        hash_of(sdk_exception("std::runtime_error", "declined", "checkout::report_declined_card()",
                              "0x55d0c0de12a4", "/usr/lib/libc++abi.so.1")) == app);

    const auto system_only = [](std::string_view library, std::string_view function) {
      return std::string{
                 R"({"platform":"native","exception":{"values":[{"type":"std::bad_alloc","stacktrace":{"frames":[)"
                 R"({"function":"start_thread","package":"/usr/lib/libc.so.6","in_app":false},)"
                 R"({"function":")"} +
             std::string{function} + R"(","package":")" + std::string{library} +
             R"(","in_app":false}]}}]}})";
    };
    const group_key all =
        key_of(system_only("/usr/lib/libstdc++.so.6", "operator new(unsigned long)"));
    CHECK(all.components ==
          std::vector<std::string>{"type: std::bad_alloc", "frame: libc.so | start_thread",
                                   "frame: libstdc++.so | operator new(unsigned long)"});
    CHECK(all.culprit == "operator new(unsigned long)");
    // The library's version does not matter; the function does.
    CHECK(hash_of(system_only("/usr/lib/libstdc++.so.6.0.32", "operator new(unsigned long)")) ==
          all.hash);
    CHECK(hash_of(system_only("/usr/lib/libstdc++.so.6", "operator new[](unsigned long)")) !=
          all.hash);
  }

  TEST_CASE("recursion depth and unknown frames do not split issues") {
    const auto recursive = [](int depth, bool unknown) {
      std::string frames = R"({"function":"main","module":"app","in_app":true})";
      for (int i = 0; i < depth; ++i) {
        frames += R"(,{"function":"walk","module":"tree","lineno":)" + std::to_string(10 + i) +
                  R"(,"in_app":true})";
        if (unknown) frames += R"(,{"function":"<unknown>","in_app":true},{"in_app":true})";
      }
      return R"({"exception":{"values":[{"type":"StackOverflow","stacktrace":{"frames":[)" +
             frames + "]}}]}}";
    };
    const group_key three = key_of(recursive(3, false));
    CHECK(three.components == std::vector<std::string>{"type: StackOverflow", "frame: app | main",
                                                       "frame: tree | walk"});
    CHECK(hash_of(recursive(40, false)) == three.hash);
    CHECK(hash_of(recursive(2, true)) == three.hash);
  }

  TEST_CASE("an exception without frames groups by type and normalized value") {
    const auto bare = [](std::string_view type, std::string_view value) {
      return std::string{R"({"exception":{"values":[{"type":")"} + std::string{type} +
             R"(","value":")" + std::string{value} + R"("}]}})";
    };
    const group_key key = key_of(bare("std::out_of_range", "index 7 out of range (size 3)"));
    CHECK(key.components ==
          std::vector<std::string>{"type: std::out_of_range",
                                   "value: index <int> out of range (size <int>)"});
    CHECK(key.title == "std::out_of_range: index 7 out of range (size 3)");
    CHECK(hash_of(bare("std::out_of_range", "index 12 out of range (size 10)")) == key.hash);
    CHECK(hash_of(bare("std::out_of_range", "key missing")) != key.hash);
  }

  TEST_CASE("chained exceptions: every link counts, the newest one titles the issue") {
    // Warden's SDK: std::throw_with_nested, oldest cause first.
    const auto chain = [](std::string_view cause) {
      return std::string{R"({"platform":"native","exception":{"values":[)"
                         R"({"type":")"} +
             std::string{cause} +
             R"(","value":"connection reset","mechanism":{"type":"chained","exception_id":1,"parent_id":0}},)"
             R"({"type":"std::runtime_error","value":"order 7 failed","mechanism":{"type":"generic","exception_id":0},)"
             R"j("stacktrace":{"frames":[{"function":"shop::place_order()","package":"/opt/shop/bin/shop","instruction_addr":"0x1","in_app":true}]}}]}})j";
    };
    const group_key key = key_of(chain("std::system_error"));
    CHECK(key.components == std::vector<std::string>{
                                "type: std::system_error", "value: connection reset",
                                "type: std::runtime_error", "frame: shop | shop::place_order()"});
    CHECK(key.title == "std::runtime_error: order 7 failed");
    CHECK(hash_of(chain("std::ios_base::failure")) != key.hash);
  }

  TEST_CASE("messages that differ only in variable parts are one issue") {
    const std::vector<std::pair<std::string_view, std::string_view>> pairs{
        {"order 1234 not found", "order 98 not found"},
        {"payment 550e8400-e29b-41d4-a716-446655440000 stuck",
         "payment 123e4567-e89b-12d3-a456-426614174000 stuck"},
        {"mail to bob@example.com bounced", "mail to ann@example.org bounced"},
        {"upstream 10.0.0.7 timed out", "upstream 2001:db8::1 timed out"},
        {"GET https://a.example.com/x?id=1 failed", "GET http://b.example.org/ failed"},
        {"batch from 2024-01-15T10:30:00Z late", "batch from 2025-06-01 08:00:00 late"},
        {"bad pointer 0x7ffee3b8a9c0", "bad pointer 0x10"},
        {"ratio 0.25 too low", "ratio 17.5 too low"},
    };
    for (const auto& pair : pairs) {
      CAPTURE(pair.first);
      const group_key key = key_of(message_event(pair.first));
      CHECK(key.kind == grouping_kind::message);
      CHECK(key.title == pair.first);
      CHECK(hash_of(message_event(pair.second)) == key.hash);
    }
    CHECK(hash_of(message_event("order 1 not found")) !=
          hash_of(message_event("user 1 not found")));
  }

  TEST_CASE("a message template groups whatever its parameters were") {
    const auto logged = [](std::string_view formatted, std::string_view param) {
      return std::string{R"({"logentry":{"message":"user {} has no cart","params":[")"} +
             std::string{param} + R"("],"formatted":")" + std::string{formatted} + R"("}})";
    };
    const group_key bob = key_of(logged("user bob has no cart", "bob"));
    CHECK(bob.kind == grouping_kind::message_template);
    CHECK(grouping_kind_name(bob.kind) == "template");
    CHECK(bob.components == std::vector<std::string>{"message: user {} has no cart"});
    CHECK(bob.title == "user bob has no cart");
    CHECK(hash_of(logged("user ann has no cart", "ann")) == bob.hash);
    // The legacy form: "message" as an object, and a template without formatted text.
    const group_key legacy =
        key_of(R"({"message":{"message":"user {} has no cart","params":["x"]}})");
    CHECK(legacy.hash == bob.hash);
    CHECK(legacy.title == "user {} has no cart");
    // The template is normalized too.
    CHECK(hash_of(R"({"logentry":{"message":"shard 3: user %s has no cart"}})") ==
          hash_of(R"({"logentry":{"message":"shard 12: user %s has no cart"}})"));
  }

  TEST_CASE("captureMessage's synthetic exception groups like the message") {
    const std::string plain = hash_of(message_event("hello message"));
    // @sentry/node: the message plus a type-less synthetic exception with frames.
    const group_key synthetic = key_of(
        R"({"level":"warning","message":"hello message","exception":{"values":[{"value":"hello message",)"
        R"("stacktrace":{"frames":[{"filename":"/srv/app/a.js","module":"a","function":"main","lineno":3,"in_app":true}]},)"
        R"("mechanism":{"type":"generic","handled":true,"synthetic":true}}]}})");
    CHECK(synthetic.kind == grouping_kind::message);
    CHECK(synthetic.hash == plain);
    CHECK(synthetic.title == "hello message");
    CHECK(synthetic.culprit == "main");
  }

  TEST_CASE("a crash's synthetic signal type does not count, its frames do") {
    const auto crash = [](std::string_view signal, std::string_view function) {
      return std::string{
                 R"({"platform":"native","level":"fatal","exception":{"values":[{"type":")"} +
             std::string{signal} +
             R"j(","value":"Segmentation fault (signal 11, code 1, address 0x0)",)j"
             R"("mechanism":{"type":"signalhandler","handled":false,"synthetic":true},"stacktrace":{"frames":[)"
             R"({"function":"main","package":"/opt/shop/bin/shop","instruction_addr":"0x10","in_app":true},)"
             R"({"function":")" +
             std::string{function} +
             R"(","package":"/opt/shop/bin/shop","instruction_addr":"0x20","in_app":true}]}}]}})";
    };
    const group_key key = key_of(crash("SIGSEGV", "cache::evict()"));
    CHECK(key.kind == grouping_kind::exception);
    CHECK(key.components == std::vector<std::string>{"type: <none>", "frame: shop | main",
                                                     "frame: shop | cache::evict()"});
    CHECK(key.title == "SIGSEGV: Segmentation fault (signal 11, code 1, address 0x0)");
    CHECK(hash_of(crash("SIGBUS", "cache::evict()")) == key.hash);
    CHECK(hash_of(crash("SIGSEGV", "cache::insert()")) != key.hash);
  }

  TEST_CASE("a message with a thread stack groups by its message, the stack names the culprit") {
    // Warden's SDK with attach_stacktrace: the capture site's stack under threads.
    const auto captured = [](std::string_view message) {
      return std::string{R"({"platform":"native","message":")"} + std::string{message} +
             R"(","threads":{"values":[{"current":true,"stacktrace":{"frames":[)"
             R"({"function":"main","package":"/opt/shop/bin/shop","in_app":true},)"
             R"({"function":"inventory::restock() [clone .cold]","package":"/opt/shop/bin/shop","in_app":true}]}}]}})";
    };
    const group_key low = key_of(captured("stock low for sku 42"));
    CHECK(low.kind == grouping_kind::message);
    CHECK(low.culprit == "inventory::restock()");
    CHECK(hash_of(captured("stock low for sku 7")) == low.hash);
    CHECK(hash_of(captured("supplier unreachable")) != low.hash);
  }

  TEST_CASE("fingerprint: custom, hybrid with {{ default }}, and variables") {
    const std::string declined =
        sdk_exception("std::runtime_error", "card declined", "checkout::report_declined_card()");
    const auto with_fingerprint = [&declined](std::string_view fingerprint) {
      std::string event = declined;
      event.insert(1, std::string{R"("fingerprint":)"} + std::string{fingerprint} + ",");
      return event;
    };
    // A custom fingerprint replaces the default key: other code, same issue.
    const group_key custom = key_of(with_fingerprint(R"(["payment-declined"])"));
    CHECK(custom.kind == grouping_kind::fingerprint);
    CHECK(custom.components == std::vector<std::string>{"fingerprint: payment-declined"});
    CHECK(custom.title == "std::runtime_error: card declined");
    CHECK(hash_of(R"({"message":"x","fingerprint":["payment-declined"]})") == custom.hash);

    // {{ default }} alone is the default key; with more parts it splits the default key.
    const std::string plain = hash_of(declined);
    CHECK(hash_of(with_fingerprint(R"(["{{ default }}"])")) == plain);
    CHECK(hash_of(with_fingerprint(R"(["{{default}}"])")) == plain);
    const group_key eu = key_of(with_fingerprint(R"(["{{  default }}", "eu"])"));
    CHECK(eu.kind == grouping_kind::fingerprint);
    CHECK(eu.components.size() == 5);
    CHECK(eu.components.back() == "fingerprint: eu");
    CHECK(eu.hash != plain);
    CHECK(hash_of(with_fingerprint(R"(["{{ default }}", "us"])")) != eu.hash);
    CHECK(hash_of(sdk_exception("std::runtime_error", "card declined",
                                "checkout::report_expired_card()")
                      .insert(1, R"("fingerprint":["{{ default }}","eu"],)")) != eu.hash);

    // Variables, inline too; unknown ones and elements that are not text stay literal
    // or are skipped.
    const group_key variables = key_of(with_fingerprint(
        R"(["{{ type }}", "{{error.value}}", "{{ message }}", "{{ function }}", "{{ module }}",)"
        R"("{{ level }}", "{{ transaction }}", "{{ tags.team }}", "{{ tags.region }}",)"
        R"("db-{{ type }}-x", "{{ nope }}", "{{ default }}x", 503, null, {"a":1}])"));
    CHECK(variables.components ==
          std::vector<std::string>{
              "fingerprint: std::runtime_error", "fingerprint: card declined",
              "fingerprint: card declined", "fingerprint: checkout::report_declined_card()",
              "fingerprint: <no-module>", "fingerprint: error", "fingerprint: <no-transaction>",
              "fingerprint: payments", "fingerprint: <no-value-for-tag-region>",
              "fingerprint: db-std::runtime_error-x", "fingerprint: {{ nope }}",
              "fingerprint: {{ default }}x", "fingerprint: 503"});
    const group_key empty =
        key_of(R"({"fingerprint":["{{ type }}","{{ value }}","{{ message }}","{{ function }}"]})");
    CHECK(empty.components ==
          std::vector<std::string>{"fingerprint: <no-type>", "fingerprint: <no-value>",
                                   "fingerprint: <no-message>", "fingerprint: <no-function>"});
    // No usable element: the default key.
    CHECK(hash_of(with_fingerprint("[]")) == plain);
    CHECK(hash_of(with_fingerprint("[null]")) == plain);
    CHECK(hash_of(with_fingerprint(R"("not a list")")) == plain);
  }

  TEST_CASE("titles: first line, bounded, valid UTF-8, culprit: innermost in-app function") {
    const group_key multi =
        key_of(R"({"exception":[{"type":"ValueError","value":"\n  bad input\nmore"}],)"
               R"("transaction":"POST /orders"})");
    CHECK(multi.title == "ValueError: bad input");
    CHECK(multi.culprit == "POST /orders");  // no frames: the transaction

    std::string long_value(400, 'x');
    long_value.replace(250, 2, "\xC3\xA9");
    const group_key bounded =
        key_of(R"({"exception":{"values":[{"type":"E","value":")" + long_value + R"("}]}})");
    CHECK(bounded.title.size() <= kMaxTitleBytes);
    CHECK(bounded.title.size() >= kMaxTitleBytes - 1);
    CHECK(bounded.title.rfind("E: xx", 0) == 0);

    CHECK(key_of(R"({"exception":{"values":[{"type":"OnlyType"}]}})").title == "OnlyType");
    CHECK(key_of(R"({"exception":{"values":[{"value":"only value"}]}})").title == "only value");
    const group_key nothing = key_of("{}");
    CHECK(nothing.title == "<untitled>");
    CHECK(nothing.kind == grouping_kind::message);
    CHECK(nothing.culprit.empty());
    CHECK(key_of(R"({"logentry":{"formatted":"formatted wins","message":"template"}})").title ==
          "formatted wins");
  }

  TEST_CASE("odd shapes read as absent, never as errors") {
    for (
        const std::string_view json :
        {R"({"exception":42,"message":7,"tags":"x","fingerprint":{},"threads":[1]})",
         R"({"exception":{"values":[null,{"type":3,"stacktrace":{"frames":[1,null,{"function":5}]}}]}})",
         R"({"logentry":"text","request":[],"contexts":{"ownership":7}})", "[]", "null"}) {
      CAPTURE(json);
      const group_key key = key_of(json);
      CHECK(key.hash.size() == 64);
      CHECK(!key.components.empty());
    }
  }

  TEST_CASE("@sentry/node 11.12.0: the captured exception and message events") {
    // The event items of the captured envelopes: the line after {"type":"event"}.
    std::vector<std::string> events;
    for (const char* request : {"req01", "req02", "req03", "req04"}) {
      std::ifstream body{std::string{WARDEN_SENTRY_NODE_FIXTURES} + "/" + request + ".body.txt"};
      REQUIRE_MESSAGE(body.good(), request);
      std::string line;
      bool event_next = false;
      while (std::getline(body, line)) {
        if (event_next) events.push_back(line);
        event_next = line.rfind(R"({"type":"event")", 0) == 0;
      }
    }
    REQUIRE(events.size() == 2);

    const group_key error = key_of(events[0]);
    CHECK(error.kind == grouping_kind::exception);
    CHECK(error.components == std::vector<std::string>{"type: TypeError",
                                                       "frame: capture | Object.?",
                                                       "frame: capture | main"});
    CHECK(error.title == "TypeError: boom value 42");
    CHECK(error.culprit == "main");
    // The same throw, other lines and columns, other node internals: the same issue.
    std::string moved = events[0];
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {R"("lineno":11,"colno":15)", R"("lineno":111,"colno":5)"},
             {R"("function":"Module._compile")", R"("function":"Module._compileV2")"}}) {
      const std::size_t at = moved.find(from);
      REQUIRE(at != std::string::npos);
      moved.replace(at, from.size(), to);
    }
    CHECK(hash_of(moved) == error.hash);

    const group_key message = key_of(events[1]);
    CHECK(message.kind == grouping_kind::message);
    CHECK(message.title == "hello message");
    CHECK(message.culprit == "main");
    CHECK(message.hash == hash_of(message_event("hello message")));
    CHECK(message.hash != error.hash);
  }
}

TEST_SUITE("resolve_owner") {
  const warden::ownership_rules& shop_rules() {
    static const warden::ownership_rules kRules = rules_from(
        "symbol:checkout::            team=checkout function=backend product=shop\n"
        "symbol:payments::            team=payments function=backend\n"
        "path:src/search/**           team=search\n"
        "module:libpq*                team=database function=infra\n"
        "url:/api/orders/*            team=orders function=api\n"
        "name:cron.*                  team=batch\n"
        "symbol~^legacy::(?P<team>[0-9]*) function=orphans\n");
    return kRules;
  }

  TEST_CASE("the SDK's tags win, as an object or as pairs") {
    const event_owner tagged =
        owner_of(sdk_exception("std::runtime_error", "x", "payments::charge()"), shop_rules());
    CHECK(tagged.team == "payments");
    CHECK(tagged.function == "backend");
    CHECK(tagged.product == "checkout");
    CHECK(tagged.source == owner_source::sdk);

    const event_owner pairs = owner_of(
        R"({"tags":[["env","prod"],["team","search"],["product","web"]],"transaction":"cron.nightly"})",
        shop_rules());
    CHECK(pairs.team == "search");
    CHECK(pairs.function.empty());
    CHECK(pairs.product == "web");
    CHECK(pairs.source == owner_source::sdk);

    // An empty team is no owner.
    CHECK(owner_of(R"({"tags":{"team":"","function":"x"},"transaction":"cron.nightly"})",
                   shop_rules())
              .team == "batch");
  }

  TEST_CASE("rules on frames: innermost in-app frame first") {
    const std::string event =
        R"({"exception":{"values":[{"type":"E","stacktrace":{"frames":[)"
        R"({"function":"main","in_app":true},)"
        R"j({"function":"checkout::submit(order const&)","in_app":true},)j"
        R"({"function":"payments::charge(card const&) [clone .cold]","package":"/opt/shop/bin/shop","in_app":true},)"
        R"({"function":"PQexec","package":"/usr/lib/x86_64-linux-gnu/libpq.so.5","in_app":false}]}}]},)"
        R"("request":{"url":"https://shop.example.com/api/orders/7"}})";
    const event_owner owner = owner_of(event, shop_rules());
    CHECK(owner.team == "payments");
    CHECK(owner.function == "backend");
    CHECK(owner.product.empty());  // the rule names none
    CHECK(owner.source == owner_source::rules);

    // No rule for the innermost in-app frame: the next one out.
    std::string outer = event;
    outer.replace(outer.find("payments::charge"), 8, "billing");
    CHECK(owner_of(outer, shop_rules()).team == "checkout");
    CHECK(owner_of(outer, shop_rules()).product == "shop");

    // Paths from abs_path or filename; no in-app frame at all: every frame counts.
    CHECK(owner_of(R"({"exception":{"values":[{"stacktrace":{"frames":[)"
                   R"({"filename":"/srv/src/search/query.cpp","function":"run"}]}}]}})",
                   shop_rules())
              .team == "search");
    CHECK(owner_of(R"({"exception":{"values":[{"stacktrace":{"frames":[)"
                   R"({"function":"PQexec","package":"/usr/lib/libpq.so.5","in_app":false}]}}]}})",
                   shop_rules())
              .team == "database");
  }

  TEST_CASE("a rule match without a team is no match") {
    const event_owner owner = owner_of(
        R"j({"exception":{"values":[{"stacktrace":{"frames":[{"function":"legacy::run()","in_app":true}]}}]}})j",
        shop_rules());
    CHECK(owner.team == "platform");
    CHECK(owner.source == owner_source::fallback);
  }

  TEST_CASE("then the request URL, then the transaction, then the fallback") {
    const event_owner url = owner_of(
        R"({"message":"slow","request":{"url":"https://shop.example.com/api/orders/42"},"transaction":"cron.x"})",
        shop_rules());
    CHECK(url.team == "orders");
    CHECK(url.function == "api");
    CHECK(url.source == owner_source::rules);

    CHECK(owner_of(R"({"message":"slow","transaction":"cron.cleanup"})", shop_rules()).team ==
          "batch");

    const event_owner fallback = owner_of(R"({"message":"who knows"})", shop_rules());
    CHECK(fallback.team == "platform");
    CHECK(fallback.function == "sre");
    CHECK(fallback.product.empty());
    CHECK(fallback.source == owner_source::fallback);
    CHECK(resolve_owner(parse(R"({"transaction":"cron.x"})"), warden::ownership_rules{}, kFallback)
              .source == owner_source::fallback);
  }

  TEST_CASE("the message event's thread stack is matched too") {
    CHECK(
        owner_of(
            R"({"message":"low stock","threads":{"values":[{"current":true,"stacktrace":{"frames":[)"
            R"j({"function":"main","in_app":true},{"function":"checkout::restock()","in_app":true}]}}]}})j",
            shop_rules())
            .team == "checkout");
  }

  TEST_CASE("the SDK's own fallback owner ranks after the rules and replaces the sink's") {
    const auto unscoped = [](std::string_view function) {
      return std::string{
                 R"({"exception":{"values":[{"type":"E","stacktrace":{"frames":[{"function":")"} +
             std::string{function} +
             R"(","in_app":true}]}}]},"tags":{"team":"unowned","function":"unowned"},)"
             R"("contexts":{"ownership":{"source":"fallback","owner":"unowned/unowned"}}})";
    };
    const event_owner ruled = owner_of(unscoped("payments::refund()"), shop_rules());
    CHECK(ruled.team == "payments");
    CHECK(ruled.source == owner_source::rules);
    const event_owner unowned = owner_of(unscoped("misc::run()"), shop_rules());
    CHECK(unowned.team == "unowned");
    CHECK(unowned.function == "unowned");
    CHECK(unowned.source == owner_source::fallback);  // still counted as unowned
  }
}

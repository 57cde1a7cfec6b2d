#include "sink_events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <string_view>

namespace warden::bench {
namespace {

// Placeholders, rewritten in every copy; no other text of an envelope contains them.
constexpr std::string_view kEventIdSlot = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";
constexpr std::string_view kUserSlot = "######";
constexpr std::uint64_t kUsers = 5000;

constexpr std::array<std::string_view, 20> kExceptionTypes = {
    "std::runtime_error",      "std::out_of_range",        "std::bad_alloc",
    "std::system_error",       "std::invalid_argument",    "std::logic_error",
    "std::length_error",       "std::bad_optional_access", "std::bad_variant_access",
    "std::future_error",       "payments::card_declined",  "payments::gateway_timeout",
    "orders::stock_exhausted", "orders::invalid_state",    "search::index_unavailable",
    "auth::token_expired",     "storage::disk_full",       "storage::corrupt_page",
    "net::connection_reset",   "cache::eviction_storm"};

// Modules (the owning team) and what their innermost functions do: 10 x 5 functions.
constexpr std::array<std::string_view, 10> kModules = {"payments", "orders", "search", "auth",
                                                       "storage",  "net",    "cache",  "catalog",
                                                       "shipping", "pricing"};
constexpr std::array<std::string_view, 5> kVerbs = {"validate", "commit", "lookup", "serialize",
                                                    "refresh"};
constexpr std::array<std::string_view, 4> kProducts = {"checkout", "storefront", "backoffice",
                                                       "mobile-api"};

// Frames every request goes through, outermost first; module frames follow them.
constexpr std::array<std::string_view, 12> kOuterFrames = {"_start",
                                                           "__libc_start_main",
                                                           "main",
                                                           "shop::server::run",
                                                           "shop::server::event_loop",
                                                           "shop::http::worker::run",
                                                           "shop::http::worker::serve_connection",
                                                           "shop::http::router::dispatch",
                                                           "shop::http::middleware::auth",
                                                           "shop::http::middleware::tracing",
                                                           "shop::http::middleware::rate_limit",
                                                           "shop::http::handler::invoke"};

// Process-wide: ids stay unique across every sink_envelopes and every sink started.
std::atomic<std::uint64_t> next_event_number{0};

std::uint64_t process_id_prefix() {
  static const std::uint64_t prefix = [] {
    std::random_device seed;
    return (std::uint64_t{seed()} << 32) ^ seed();
  }();
  return prefix;
}

// Appends one stack frame; `system` frames are libc's.
void append_frame(std::string& out, std::string_view function, std::string_view file, int line,
                  std::uint64_t address, bool system, bool with_context) {
  if (system) {
    fmt::format_to(std::back_inserter(out),
                   R"({{"function":"{}","package":"libc.so.6","instruction_addr":"0x7f3a{:08x}",)"
                   R"("in_app":false}})",
                   function, address & 0xffffffffU);
    return;
  }
  fmt::format_to(std::back_inserter(out),
                 R"({{"function":"{}","filename":"{}.cpp","lineno":{},)"
                 R"("instruction_addr":"0x55d0{:08x}")",
                 function, file, line, address & 0xffffffffU);
  if (with_context) {
    // Five lines of source either side, as SDKs with source context send.
    out += R"(,"pre_context":[)";
    for (int i = 5; i > 0; --i) {
      fmt::format_to(std::back_inserter(out), R"({}"  auto value_{} = state.lookup(key, {});")",
                     i == 5 ? "" : ",", line - i, i);
    }
    fmt::format_to(std::back_inserter(out),
                   R"(],"context_line":"  return process(value_{}, options, deadline);",)", line);
    out += R"("post_context":[)";
    for (int i = 1; i <= 5; ++i) {
      fmt::format_to(std::back_inserter(out), R"({}"  if (!ok_{}) throw error(\"step {}\");")",
                     i == 1 ? "" : ",", line + i, i);
    }
    out += ']';
  }
  out += '}';
}

// Appends breadcrumb `n` at `seconds`; detailed ones carry an HTTP or SQL data object.
void append_breadcrumb(std::string& out, int n, double seconds, bool detailed) {
  if (n > 0) out += ',';
  if (n % 3 == 0) {
    fmt::format_to(std::back_inserter(out),
                   R"({{"timestamp":{:.3f},"type":"http","category":"http","level":"info",)"
                   R"("data":{{"method":"GET","url":"http://inventory.internal/v1/items/{}",)"
                   R"("status_code":200{}}}}})",
                   seconds, 1000 + n * 37,
                   detailed ? R"(,"reason":"OK","response_body_size":18342,)"
                              R"("request_headers":"accept: application/json; )"
                              R"(x-request-id: 5f1c2a9e-7b3d-4c8e-9a1f-2b6d8e0c4a7f")"
                            : "");
  } else if (n % 3 == 1) {
    fmt::format_to(std::back_inserter(out),
                   R"({{"timestamp":{:.3f},"type":"query","category":"db.sql","level":"info",)"
                   R"("message":"SELECT id, status, total FROM orders WHERE customer_id = ? )"
                   R"(AND created_at > ? LIMIT {}"{}}})",
                   seconds, 10 + n,
                   detailed ? R"(,"data":{"db.system":"postgresql","db.rows":42,)"
                              R"("duration_ms":3.8,"connection":"pool-2/conn-17"})"
                            : "");
  } else {
    fmt::format_to(std::back_inserter(out),
                   R"({{"timestamp":{:.3f},"type":"default","category":"cache","level":"debug",)"
                   R"("message":"cache miss for cart:{}"{}}})",
                   seconds, 77000 + n,
                   detailed ? R"(,"data":{"backend":"redis","shard":"cache-3","ttl_s":300,)"
                              R"("key_bytes":48,"evicted_before":true})"
                            : "");
  }
}

// Where the event id and user slots are in `text`, found after building it.
std::vector<std::size_t> offsets_of(const std::string& text, std::string_view slot) {
  std::vector<std::size_t> found;
  for (std::size_t at = text.find(slot); at != std::string::npos;
       at = text.find(slot, at + slot.size())) {
    found.push_back(at);
  }
  return found;
}

// The event of `group` with placeholder id and user.
std::string event_json(std::size_t group, envelope_size size, double now) {
  if (size == envelope_size::small) {
    return fmt::format(
        R"({{"event_id":"{}","timestamp":{:.3f},"platform":"native","level":"error",)"
        R"("message":{{"formatted":"order {} failed: payment declined"}},)"
        R"("user":{{"id":"u{}"}},"tags":{{"team":"payments","function":"backend"}}}})",
        kEventIdSlot, now, group, kUserSlot);
  }
  const bool large = size == envelope_size::large;
  std::mt19937 random{static_cast<std::mt19937::result_type>(group)};
  const std::string_view type = kExceptionTypes[group % kExceptionTypes.size()];
  const std::size_t function_index = (group / kExceptionTypes.size()) % 50;
  const std::string_view module = kModules[function_index % kModules.size()];
  const std::string_view verb = kVerbs[function_index / kModules.size()];
  const std::string_view product = kProducts[group % kProducts.size()];

  std::string out;
  out.reserve(large ? 56 * 1024 : 6 * 1024);
  fmt::format_to(std::back_inserter(out),
                 R"({{"event_id":"{}","timestamp":{:.3f},"platform":"native","level":"error",)"
                 R"("release":"shop@4.2.{}","environment":"production","server_name":"api-eu-{}",)"
                 R"("sdk":{{"name":"warden.native","version":"0.1.0"}},)"
                 R"("user":{{"id":"u{}","ip_address":"10.1.{}.{}"}},)"
                 R"("tags":{{"team":"{}","function":"backend","product":"{}",)"
                 R"("region":"eu-west-1","shard":"{}","http.method":"POST"}},)",
                 kEventIdSlot, now, group % 3, group % 8, kUserSlot, group % 250, group % 200,
                 module, product, group % 16);
  fmt::format_to(
      std::back_inserter(out),
      R"("contexts":{{"os":{{"name":"Linux","version":"6.1.0","kernel_version":"6.1.0-18-amd64"}},)"
      R"("device":{{"arch":"x86_64","cpu_description":"AMD EPYC","memory_size":25769803776}},)"
      R"("runtime":{{"name":"glibc","version":"2.36"}},)"
      R"("trace":{{"trace_id":"5f1c2a9e7b3d4c8e9a1f2b6d8e0c{:04x}","span_id":"9a1f2b6d8e0c{:04x}"}},)"
      R"("ownership":{{"source":"throw","owner":"{}/backend/{}",)"
      R"("declared_at":"src/{}/module.cpp:12"}}}},)",
      group, group, module, product, module);

  // 20-30 frames; fewer breadcrumbs with deeper stacks, so that sizes stay in 3-5 KB.
  const std::size_t frames = 20 + random() % 11;
  out += R"("breadcrumbs":{"values":[)";
  const int breadcrumbs = large ? 100 : 1 + static_cast<int>((30 - frames) * 3 / 10);
  for (int n = 0; n < breadcrumbs; ++n) {
    append_breadcrumb(out, n, now - 30.0 + n * 0.25, large);
  }
  out += "]},";

  fmt::format_to(std::back_inserter(out),
                 R"("exception":{{"values":[{{"type":"{}","value":"{} failed for order {} )"
                 "(attempt {})\",\"mechanism\":{{\"type\":\"cxx_exception\",\"handled\":false}},"
                 R"("stacktrace":{{"frames":[)",
                 type, verb, 100000 + group * 17, 1 + group % 3);
  for (std::size_t i = 0; i < frames; ++i) {
    if (i > 0) out += ',';
    const std::uint64_t address = random();
    const int line = 20 + static_cast<int>(random() % 900);
    if (i < 2) {
      append_frame(out, kOuterFrames[i], "", line, address, true, false);
    } else if (i < kOuterFrames.size()) {
      append_frame(out, kOuterFrames[i], "server/http", line, address, false, large);
    } else if (i + 1 < frames) {
      const std::string function = fmt::format("shop::{}::step_{}", module, i);
      append_frame(out, function, fmt::format("{}/steps", module), line, address, false, large);
    } else {
      const std::string function = fmt::format("shop::{}::{}_record", module, verb);
      append_frame(out, function, fmt::format("{}/{}", module, verb), line, address, false, large);
    }
  }
  out += "]}}]}";
  if (large) {
    // The loaded images, as native SDKs send them for symbolication.
    out += R"(,"debug_meta":{"images":[)";
    for (int image = 0; image < 40; ++image) {
      fmt::format_to(std::back_inserter(out),
                     R"({}{{"type":"elf","code_file":"/usr/lib/x86_64-linux-gnu/libshop_{:02}.so",)"
                     R"("image_addr":"0x7f3a{:04x}0000","image_size":2150400,)"
                     R"("debug_id":"3c2a{:04x}-9e1d-4f0b-8a7c-5d6e7f8091a2",)"
                     R"("code_id":"3c2a{:04x}9e1d4f0b8a7c5d6e7f8091a2b3c4d5e6"}})",
                     image == 0 ? "" : ",", image, image * 48, image, image);
    }
    out += "]}";
  }
  out += '}';
  return out;
}

}  // namespace

sink_envelopes::sink_envelopes(std::size_t groups, envelope_size size) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  templates_.reserve(groups);
  for (std::size_t group = 0; group < groups; ++group) {
    const std::string event = event_json(group, size, now);
    envelope_template envelope;
    envelope.text = fmt::format(R"({{"event_id":"{}","dsn":"http://benchkey@127.0.0.1/1",)"
                                R"("sdk":{{"name":"warden.native","version":"0.1.0"}}}})"
                                "\n"
                                R"({{"type":"event","length":{}}})"
                                "\n{}\n",
                                kEventIdSlot, event.size(), event);
    envelope.event_id_at = offsets_of(envelope.text, kEventIdSlot);
    envelope.user_at = offsets_of(envelope.text, kUserSlot).at(0);
    templates_.push_back(std::move(envelope));
  }
}

namespace {

// Writes a fresh event id (fresh_event_id()) into the 32 chars at `out`.
void write_event_id(char* out) {
  const std::uint64_t number = next_event_number.fetch_add(1, std::memory_order_relaxed);
  // splitmix64's finalizer, a bijection: unique ids that spread like random ones.
  std::uint64_t mixed = number;
  mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
  mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
  mixed ^= mixed >> 31;
  fmt::format_to_n(out, kEventIdSlot.size(), "{:016x}{:016x}", mixed, process_id_prefix());
}

}  // namespace

std::string fresh_event_id() {
  std::string id(kEventIdSlot.size(), '0');
  write_event_id(id.data());
  return id;
}

void sink_envelopes::make(std::size_t group, std::string& out) {
  const envelope_template& envelope = templates_[group % templates_.size()];
  out = envelope.text;
  char digits[40];
  write_event_id(digits);
  for (const std::size_t at : envelope.event_id_at) {
    std::memcpy(out.data() + at, digits, kEventIdSlot.size());
  }
  fmt::format_to_n(digits, sizeof digits, "{:06}", sent_++ % kUsers);
  std::memcpy(out.data() + envelope.user_at, digits, kUserSlot.size());
}

double sink_envelopes::mean_bytes() const {
  const std::size_t total = std::accumulate(
      templates_.begin(), templates_.end(), std::size_t{0},
      [](std::size_t sum, const envelope_template& t) { return sum + t.text.size(); });
  return static_cast<double>(total) / static_cast<double>(templates_.size());
}

std::size_t sink_envelopes::min_bytes() const {
  return std::min_element(templates_.begin(), templates_.end(),
                          [](const envelope_template& a, const envelope_template& b) {
                            return a.text.size() < b.text.size();
                          })
      ->text.size();
}

std::size_t sink_envelopes::max_bytes() const {
  return std::max_element(templates_.begin(), templates_.end(),
                          [](const envelope_template& a, const envelope_template& b) {
                            return a.text.size() < b.text.size();
                          })
      ->text.size();
}

}  // namespace warden::bench

// warden::sdk sending to the real warden-sink (tests/sink/sink_process.hpp): what the SDK
// captures in owned scopes becomes issues with the SDK's owners, grouped as the two sides
// agree (exception chains, message templates, the owner in the key), read back through
// the sink's query API; and a project quota answered 429 makes the SDK hold events back
// and report them in a client report the sink counts.
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sink_process.hpp"
#include "warden/ownership.hpp"
#include "warden/sdk.hpp"

WARDEN_MODULE_OWNER("payments", "backend", "checkout");

namespace {

using namespace std::chrono_literals;
using warden::testing::sink_process;
using warden::testing::temp_directory;

constexpr const char* kPublicKey = "5e1f0c2d9a8b47c3b6e4d2a1f0e9c8b7";
constexpr const char* kRelease = "shop@3.1.4";
constexpr const char* kEnvironment = "sink-interop";
// A loaded machine (two cores, sanitizers) may be slow; nothing here waits this long
// when it works.
constexpr auto kPatience = 30s;

// Project 42 with the SDK's key; `project_extra` is added to the project's settings.
std::string sink_config(const std::string& project_extra = {}) {
  return "projects:\n"
         "  - id: 42\n"
         "    name: shop\n"
         "    keys: [{public_key: " +
         std::string{kPublicKey} + "}]\n" + project_extra + "storage: {durable: false}\n";
}

sink_process start_sink(const temp_directory& directory, const std::string& config) {
  return sink_process{WARDEN_SINK_BINARY,
                      {"--config=" + directory.write("sink.yaml", config),
                       "--database=" + directory.file("sink.db")}};
}

// The SDK's diagnostics, shown when a check fails.
class sdk_log final {
 public:
  void add(warden::level, std::string_view message) {
    const std::lock_guard<std::mutex> lock{mu_};
    text_ += std::string{message} + '\n';
  }
  std::string text() const {
    const std::lock_guard<std::mutex> lock{mu_};
    return text_;
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
};

warden::options options_for(const sink_process& sink, sdk_log& log) {
  warden::options options;
  options.dsn =
      "http://" + std::string{kPublicKey} + "@127.0.0.1:" + std::to_string(sink.port()) + "/42";
  options.release = kRelease;
  options.environment = kEnvironment;
  options.throw_site_stacks = true;  // exceptions' stacks where thrown (warden::throw_hook)
  options.retry_initial_delay = 50ms;
  options.retry_max_delay = 200ms;
  options.debug_logger = [&log](warden::level severity, std::string_view message) {
    log.add(severity, message);
  };
  return options;
}

// The query API of `sink`.
class sink_api final {
 public:
  explicit sink_api(const sink_process& sink) : client_{"127.0.0.1", sink.port()} {
    client_.set_connection_timeout(10, 0);
    client_.set_read_timeout(30, 0);
  }

  // GET `path` as JSON; fails the test unless it is answered 200 with JSON.
  rapidjson::Document get(const std::string& path) {
    const auto answer = client_.Get(path);
    REQUIRE_MESSAGE(answer, "GET ", path, ": ", httplib::to_string(answer.error()));
    REQUIRE_MESSAGE(answer->status == 200, "GET ", path, ": ", answer->status, " ", answer->body);
    rapidjson::Document document;
    document.Parse(answer->body.c_str(), answer->body.size());
    REQUIRE_MESSAGE(!document.HasParseError(), "GET ", path, ": ", answer->body);
    return document;
  }

  std::string metrics() {
    const auto answer = client_.Get("/metrics");
    REQUIRE(answer);
    REQUIRE(answer->status == 200);
    return answer->body;
  }

  // The value of the /metrics series `series` (name and labels, as printed); 0 if absent.
  std::int64_t metric(const std::string& series) {
    const std::string text = metrics();
    const std::string prefix = series + ' ';
    for (std::size_t line = 0; line < text.size();) {
      std::size_t end = text.find('\n', line);
      if (end == std::string::npos) end = text.size();
      if (text.compare(line, prefix.size(), prefix) == 0) {
        return std::stoll(text.substr(line + prefix.size(), end - line - prefix.size()));
      }
      line = end + 1;
    }
    return 0;
  }

  // The sum of every warden_sink_rejected_total series.
  std::int64_t rejected() {
    const std::string text = metrics();
    const std::string prefix = "warden_sink_rejected_total{";
    std::int64_t total = 0;
    for (std::size_t at = text.find(prefix); at != std::string::npos;
         at = text.find(prefix, at + 1)) {
      const std::size_t value = text.find("} ", at) + 2;
      total += std::stoll(text.substr(value, text.find('\n', value) - value));
    }
    return total;
  }

 private:
  httplib::Client client_;
};

std::string text(const rapidjson::Value& object, const char* name) {
  return object.HasMember(name) && object[name].IsString() ? object[name].GetString() : "";
}

// One issue as the query API lists it.
struct issue_view {
  std::int64_t id = 0;
  std::string title, culprit, level, kind, hash, team, function, product, source;
  std::string first_release, components;
  std::int64_t count = 0;
};

// The issues of project 42, by "<title> | <team>".
std::map<std::string, issue_view> issues_by_title_and_team(sink_api& api) {
  const rapidjson::Document listed = api.get("/api/0/issues?project=42&limit=1000");
  std::map<std::string, issue_view> found;
  for (const auto& issue : listed["issues"].GetArray()) {
    issue_view view;
    view.id = issue["id"].GetInt64();
    view.title = text(issue, "title");
    view.culprit = text(issue, "culprit");
    view.level = text(issue, "level");
    view.kind = text(issue["grouping"], "kind");
    view.hash = text(issue["grouping"], "hash");
    for (const auto& component : issue["grouping"]["components"].GetArray()) {
      view.components += std::string{component.GetString()} + '\n';
    }
    view.team = text(issue["owner"], "team");
    view.function = text(issue["owner"], "function");
    view.product = text(issue["owner"], "product");
    view.source = text(issue["owner"], "source");
    view.first_release = text(issue, "first_release");
    view.count = issue["count"].GetInt64();
    const std::string key = view.title + " | " + view.team;
    CHECK_MESSAGE(found.emplace(key, view).second, "two issues are ", key);
  }
  return found;
}

// The ids of the events the sink keeps for issue `id`.
std::set<std::string> event_ids_of(sink_api& api, std::int64_t id) {
  const rapidjson::Document events =
      api.get("/api/0/issues/" + std::to_string(id) + "/events?limit=1000");
  std::set<std::string> ids;
  for (const auto& event : events["events"].GetArray()) ids.insert(text(event, "event_id"));
  return ids;
}

// Thrown where payments' module default owns the code.
[[noreturn]] [[gnu::noinline]] void charge_card(int cents) {
  WARDEN_OWNED();
  throw std::runtime_error("card declined for " + std::to_string(cents) + " cents");
}

// The checkout endpoint (team checkout-api): wraps what charge_card() threw in its own
// exception and captures the chain.
[[gnu::noinline]] std::string check_out(int cents) {
  WARDEN_ENDPOINT("POST /checkout", warden::team("checkout-api"));
  try {
    try {
      charge_card(cents);
    } catch (...) {
      std::throw_with_nested(std::logic_error("checkout failed"));
    }
  } catch (const std::exception& error) {
    return warden::capture_exception(error);
  }
  return {};
}

// Shared code: throws under whichever owner calls it.
[[noreturn]] [[gnu::noinline]] void look_up(const std::string& sku) {
  throw std::out_of_range("no item " + sku);
}

// The same function and the same throw under two endpoints of two teams.
[[gnu::noinline]] void serve(bool search, const std::string& sku) {
  if (search) {
    WARDEN_ENDPOINT("GET /search", warden::team("search"));
    look_up(sku);
  } else {
    WARDEN_ENDPOINT("GET /cart", warden::team("cart"));
    look_up(sku);
  }
}

}  // namespace

TEST_CASE("warden::sdk's exceptions and messages become issues with the SDK's owners") {
  temp_directory directory;
  auto sink = start_sink(directory, sink_config());
  REQUIRE(sink.port() > 0);
  sink_api api{sink};
  sdk_log log;
  auto sdk = warden::init(options_for(sink, log));
  REQUIRE_MESSAGE(sdk.ok(), sdk.error());
  INFO("SDK log:\n", log.text());

  std::string declined;
  try {
    charge_card(1250);
  } catch (const std::exception& error) {
    declined = warden::capture_exception(error);
  }
  const std::string chained = check_out(990);
  std::map<std::string, std::string> by_team;  // team -> event id
  for (const bool search : {true, false}) {
    try {
      serve(search, "sku-7");
    } catch (...) {
      by_team[search ? "search" : "cart"] = warden::capture_exception(std::current_exception());
    }
  }
  // Three messages from one template, differing only in their arguments.
  std::set<std::string> templated;
  std::set<std::string> formatted;
  {
    WARDEN_ENDPOINT("GET /orders", warden::team("orders"));
    const char* orders[] = {"o-1", "o-22", "o-333"};
    for (int i = 0; i < 3; ++i) {
      templated.insert(warden::capture_message(warden::level::warning,
                                               "order {} failed after {} retries", orders[i], i));
      formatted.insert("order " + std::string{orders[i]} + " failed after " + std::to_string(i) +
                       " retries");
    }
  }
  // No owner scope at all: the SDK's fallback owner, which the sink marks as such.
  const std::string unowned = warden::capture_message("nobody owns this", warden::level::error);

  for (const std::string& id : {declined, chained, by_team["search"], by_team["cart"], unowned}) {
    CHECK(id.size() == 32);
  }
  CHECK(templated.size() == 3);
  REQUIRE(sdk.flush(kPatience));
  const warden::sdk_statistics statistics = warden::statistics();
  CHECK(statistics.captured == 8);
  CHECK(statistics.delivered == 8);
  CHECK(statistics.dropped.empty());

  // Each envelope the SDK saw acknowledged is committed: no waiting needed from here on.
  std::map<std::string, issue_view> issues = issues_by_title_and_team(api);
  std::string listed;
  for (const auto& [key, issue] : issues) listed += key + '\n';
  INFO("issues:\n", listed);
  CHECK(issues.size() == 6);

  const std::string declined_title = "std::runtime_error: card declined for 1250 cents";
  REQUIRE(issues.count(declined_title + " | payments") == 1);
  const issue_view& plain = issues[declined_title + " | payments"];
  CHECK(plain.function == "backend");
  CHECK(plain.product == "checkout");
  CHECK(plain.source == "sdk");
  CHECK(plain.kind == "exception");
  CHECK(plain.level == "error");
  CHECK(plain.count == 1);
  CHECK(plain.first_release == kRelease);
  CHECK(plain.culprit.find("charge_card") != std::string::npos);
  CHECK(event_ids_of(api, plain.id) == std::set<std::string>{declined});

  // The chain: titled by the outermost exception, owned by the thrower of its root cause
  // (the SDK's rule), stored with every link.
  REQUIRE(issues.count("std::logic_error: checkout failed | payments") == 1);
  const issue_view* chain = &issues["std::logic_error: checkout failed | payments"];
  CHECK(chain->function == "backend");
  CHECK(chain->product == "checkout");
  CHECK(chain->source == "sdk");
  CHECK(chain->kind == "exception");
  CHECK(chain->count == 1);
  CHECK(chain->culprit.find("check_out") != std::string::npos);
  CHECK(chain->components.find("type: std::runtime_error") != std::string::npos);
  CHECK(chain->components.find("type: std::logic_error") != std::string::npos);
  CHECK(chain->hash != plain.hash);
  const rapidjson::Document shown = api.get("/api/0/issues/" + std::to_string(chain->id));
  const auto& latest = shown["latest_event"];
  CHECK(text(latest, "event_id") == chained);
  CHECK(text(latest, "release") == kRelease);
  CHECK(text(latest, "environment") == kEnvironment);
  const auto& values = latest["exception"]["values"];
  REQUIRE(values.Size() == 2);
  CHECK(text(values[0], "type") == "std::runtime_error");
  CHECK(text(values[0], "value") == "card declined for 990 cents");
  CHECK(text(values[1], "value") == "checkout failed");
  CHECK(text(latest["tags"], "team") == "payments");
  CHECK(text(latest["tags"], "captured_by.team") == "checkout-api");

  // One throw in one function under two teams: two issues that differ only by owner.
  const std::string missing = "std::out_of_range: no item sku-7";
  REQUIRE(issues.count(missing + " | search") == 1);
  REQUIRE(issues.count(missing + " | cart") == 1);
  const issue_view& search = issues[missing + " | search"];
  const issue_view& cart = issues[missing + " | cart"];
  CHECK(search.components == cart.components);
  CHECK(search.hash != cart.hash);
  CHECK(search.id != cart.id);
  for (const issue_view* each : {&search, &cart}) {
    CHECK(each->source == "sdk");
    CHECK(each->function == "backend");
    CHECK(each->product == "checkout");
    CHECK(each->count == 1);
    CHECK(event_ids_of(api, each->id) == std::set<std::string>{by_team[each->team]});
  }
  const rapidjson::Document cart_only = api.get("/api/0/issues?project=42&team=cart");
  REQUIRE(cart_only["issues"].Size() == 1);
  CHECK(cart_only["issues"][0]["id"].GetInt64() == cart.id);

  // The three messages: one issue by their template.
  const issue_view* orders = nullptr;
  for (const auto& [key, issue] : issues) {
    if (issue.team == "orders") orders = &issue;
  }
  REQUIRE(orders != nullptr);
  CHECK(orders->kind == "template");
  CHECK(orders->count == 3);
  CHECK(orders->level == "warning");
  CHECK(orders->source == "sdk");
  CHECK(orders->function == "backend");
  CHECK(orders->product == "checkout");
  CHECK(formatted.count(orders->title) == 1);  // whichever arrived first
  CHECK(orders->components.find("order {} failed after {} retries") != std::string::npos);
  CHECK(event_ids_of(api, orders->id) == templated);

  // No scope: the SDK says so in its ownership context, and the sink keeps it apart
  // from owners the code declared.
  REQUIRE(issues.count("nobody owns this | unowned") == 1);
  const issue_view& fallback = issues["nobody owns this | unowned"];
  CHECK(fallback.source == "fallback");
  CHECK(fallback.count == 1);
  CHECK(event_ids_of(api, fallback.id) == std::set<std::string>{unowned});

  // Owners: the events per owner, as the SDK tagged them.
  const rapidjson::Document owners = api.get("/api/0/owners");
  std::map<std::string, std::int64_t> events_by_owner;
  for (const auto& owner : owners["owners"].GetArray()) {
    events_by_owner[text(owner, "team") + "/" + text(owner, "function") + "/" +
                    text(owner, "product") + " " + text(owner, "source")] +=
        owner["events"].GetInt64();
  }
  CHECK(events_by_owner["payments/backend/checkout sdk"] == 2);
  CHECK(events_by_owner["search/backend/checkout sdk"] == 1);
  CHECK(events_by_owner["cart/backend/checkout sdk"] == 1);
  CHECK(events_by_owner["orders/backend/checkout sdk"] == 3);

  CHECK(api.metric("warden_sink_accepted_total{type=\"event\"}") == 8);
  CHECK(api.rejected() == 0);
  CHECK(sdk.close(kPatience));
}

TEST_CASE("a project over its quota: the SDK backs off on 429 and reports what it held back") {
  temp_directory directory;
  // Two events a minute: the third within 30 s is refused, and the limit lasts that long.
  auto sink = start_sink(directory, sink_config("    events_per_minute: 2\n"));
  REQUIRE(sink.port() > 0);
  sink_api api{sink};
  sdk_log log;
  auto options = options_for(sink, log);
  // Client reports go out only at flush and close (and with events, which the limit holds
  // back), so the counts below come from those and not from a timer.
  options.client_report_interval = std::chrono::hours{1};
  auto sdk = warden::init(options);
  REQUIRE_MESSAGE(sdk.ok(), sdk.error());
  INFO("SDK log:\n", log.text());

  const auto quota_error = [] {
    WARDEN_OWNED();
    return warden::capture_message(warden::level::error, "quota event {}", 1);
  };
  for (int i = 0; i < 3; ++i) CHECK(quota_error().size() == 32);
  REQUIRE(sdk.flush(kPatience));
  // The sink took two and answered the third 429 with Retry-After and X-Sentry-Rate-Limits
  // "<seconds>:error;default:project:project_quota"; the SDK counts none of it as dropped
  // (the sink counted the refusal).
  CHECK(api.metric("warden_sink_accepted_total{type=\"event\"}") == 2);
  CHECK(api.metric("warden_sink_rejected_total{reason=\"rate_limited\"}") == 1);
  CHECK(warden::statistics().delivered == 2);
  CHECK(warden::statistics().dropped.empty());

  // While the limit lasts the SDK sends no events: it drops them and says so in a client
  // report, which is not an error and so goes out despite the limit.
  const std::string discarded =
      R"(warden_sink_sdk_discarded_total{reason="ratelimit_backoff",category="error"})";
  for (int i = 0; i < 5; ++i) CHECK(quota_error().size() == 32);
  REQUIRE(sdk.flush(kPatience));
  CHECK(warden::statistics().dropped["ratelimit_backoff"] == 5);
  // flush() returns once every event is settled and the drops are reported: all five,
  // and not one of them reached the sink.
  CHECK(api.metric(discarded) == 5);
  CHECK(api.metric("warden_sink_accepted_total{type=\"client_report\"}") >= 1);
  REQUIRE(sdk.close(kPatience));
  CHECK(api.metric(discarded) == 5);
  CHECK(api.metric("warden_sink_accepted_total{type=\"event\"}") == 2);
  CHECK(api.metric("warden_sink_rejected_total{reason=\"rate_limited\"}") == 1);
  CHECK(api.rejected() == 1);

  const rapidjson::Document listed = api.get("/api/0/issues?project=42");
  REQUIRE(listed["issues"].Size() == 1);
  CHECK(listed["issues"][0]["count"].GetInt64() == 2);
  CHECK(std::string{listed["issues"][0]["owner"]["team"].GetString()} == "payments");
  CHECK(std::string{listed["issues"][0]["grouping"]["kind"].GetString()} == "template");
}

// Coverage reports (text and JSON) and the CI check, over the sites declared by the
// other files of this test program.
#include <locale>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <warden/ownership.hpp>
#include <warden/ownership/coverage.hpp>

#include "inventory_api.hpp"

namespace {

void shared_database_layer() { WARDEN_EXPECT_OWNED(); }

const warden::coverage_site* find_site(const warden::coverage_report& report,
                                       std::string_view name) {
  for (const auto& site : report.sites) {
    if (site.site.name == name) return &site;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a probe records only runs with no owner") {
  inventory::reserve();  // owned: the probe below is not involved
  {
    WARDEN_OWNED_BY("coverage-owned-call", warden::team("qa"), warden::function("backend"));
    shared_database_layer();
  }
  warden::coverage_report report = warden::collect_coverage();
  bool probe_listed = false;
  for (const auto& probe : report.probes) {
    if (probe.site.name == "shared_database_layer") {
      probe_listed = true;
      CHECK_FALSE(probe.ran_unowned);
    }
  }
  CHECK(probe_listed);

  shared_database_layer();  // no owner now
  report = warden::collect_coverage();
  for (const auto& probe : report.probes) {
    if (probe.site.name == "shared_database_layer") CHECK(probe.ran_unowned);
  }
}

TEST_CASE("the report lists modules once, sites with their run state, and problems") {
  inventory::count_endpoint();
  const warden::coverage_report report = warden::collect_coverage();

  int inventory_modules = 0;
  for (const auto& module : report.modules) {
    if (module.team == "inventory") ++inventory_modules;
  }
  CHECK(inventory_modules == 1);

  const warden::coverage_site* never = find_site(report, "DELETE /items/never");
  REQUIRE(never != nullptr);
  CHECK_FALSE(never->ran);
  CHECK(never->kind == warden::owner_kind::endpoint);
  const warden::coverage_site* counted = find_site(report, "GET /inventory/count");
  REQUIRE(counted != nullptr);
  CHECK(counted->ran);
  CHECK(counted->product == "warehouse");

  bool orphan_reported = false;
  for (const std::string& problem : report.problems) {
    if (problem.find("\"GET /orphan\"") != std::string::npos &&
        problem.find("has no team") != std::string::npos) {
      orphan_reported = true;
    }
  }
  CHECK(orphan_reported);

  std::ostringstream text;
  warden::write_coverage_text(text, report);
  CHECK(text.str().find("Ownership coverage:") == 0);
  CHECK(text.str().find("[   ] endpoint DELETE /items/never  catalog/backend/search") !=
        std::string::npos);
  CHECK(text.str().find("[ran] endpoint GET /inventory/count  inventory/backend/warehouse") !=
        std::string::npos);
}

TEST_CASE("the JSON report is valid JSON with every site") {
  const warden::coverage_report report = warden::collect_coverage();
  std::ostringstream json;
  warden::write_coverage_json(json, report);
  rapidjson::Document document;
  document.Parse(json.str().c_str());
  REQUIRE_FALSE(document.HasParseError());
  REQUIRE(document.IsObject());
  CHECK(document["modules"].Size() == report.modules.size());
  CHECK(document["sites"].Size() == report.sites.size());
  CHECK(document["probes"].Size() == report.probes.size());
  CHECK(document["problems"].Size() == report.problems.size());
  bool found = false;
  for (const auto& site : document["sites"].GetArray()) {
    if (std::string_view{site["name"].GetString()} == "DELETE /items/never") {
      found = true;
      CHECK(std::string_view{site["kind"].GetString()} == "endpoint");
      CHECK(std::string_view{site["team"].GetString()} == "catalog");
      CHECK(site["ran"].IsFalse());
      CHECK(site["line"].GetInt() > 0);
    }
  }
  CHECK(found);
}

namespace {

// Groups thousands with a comma, as some locales do: numbers in JSON must not.
struct grouping_numpunct final : std::numpunct<char> {
  char do_thousands_sep() const override { return ','; }
  std::string do_grouping() const override { return "\3"; }
};

}  // namespace

TEST_CASE("JSON stays valid with awkward strings and a grouping locale") {
  warden::coverage_report report;
  const std::string awkward = std::string{"quote\" back\\ tab\t nl\n ctl\x01 del\x7f "} +
                              "utf8 \xC3\xA9 latin1 \xE9 cut \xE2\x82";
  report.sites.push_back({warden::owner_kind::endpoint,
                          warden::source_site{"weird.cpp", 123456, awkward},
                          "team",
                          "backend",
                          {},
                          true});
  std::ostringstream json;
  json.imbue(std::locale(std::locale::classic(), new grouping_numpunct));
  warden::write_coverage_json(json, report);
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(json.str().c_str());
  REQUIRE_FALSE(document.HasParseError());
  const auto& site = document["sites"][0];
  CHECK(site["line"].GetInt() == 123456);
  const std::string name = site["name"].GetString();
  CHECK(name.find("quote\" back\\ tab\t nl\n ctl\x01 del\x7f") == 0);
  CHECK(name.find("utf8 \xC3\xA9") != std::string::npos);                 // valid UTF-8 kept
  CHECK(name.find("latin1 \xEF\xBF\xBD") != std::string::npos);           // invalid byte -> U+FFFD
  CHECK(name.find("cut \xEF\xBF\xBD\xEF\xBF\xBD") != std::string::npos);  // truncated sequence
}

namespace teamless {
// A module default whose team was forgotten.
WARDEN_MODULE_OWNER("", "backend");
}  // namespace teamless

TEST_CASE("modules without a team are problems") {
  const warden::coverage_report report = warden::collect_coverage();
  bool reported = false;
  for (const std::string& problem : report.problems) {
    reported |= problem.find("module at tests/ownership/coverage_test.cpp:") == 0 &&
                problem.find("has no team") != std::string::npos;
  }
  CHECK(reported);
}

TEST_CASE("the check fails and names each problem") {
  const warden::coverage_report report = warden::collect_coverage();
  std::ostringstream out;
  CHECK(warden::check_coverage(report, out) == 1);
  CHECK(out.str().find("ownership: endpoint \"GET /orphan\"") != std::string::npos);

  warden::coverage_report clean;
  std::ostringstream clean_out;
  CHECK(warden::check_coverage(clean, clean_out) == 0);
  CHECK(clean_out.str().find("all owned") != std::string::npos);
}

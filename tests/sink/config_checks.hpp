// What the config tests check a parsed file with: its errors as the lines --check-config
// prints, and the config of a file that must have none.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "server/config.hpp"

namespace warden::testing {

/// Every error of `result`, as "c.yaml:line:column: message" lines (doctest prints a
/// string on failure, not a vector).
inline std::string errors_of(const sink::config_result& result) {
  CHECK(result.config.has_value() == result.errors.empty());
  std::string errors;
  for (const auto& error : result.errors) errors += error.to_string("c.yaml") + "\n";
  return errors;
}

/// The errors of the YAML text `yaml`, relative paths resolved against `base`.
inline std::string errors_of(const std::string& yaml, const std::string& base = "") {
  return errors_of(sink::parse_config(yaml, base));
}

/// The config `yaml` gives; fails the test when it has errors.
inline sink::sink_config config_of(const std::string& yaml, const std::string& base = "") {
  const sink::config_result result = sink::parse_config(yaml, base);
  for (const auto& error : result.errors) FAIL_CHECK(error.to_string("c.yaml"));
  REQUIRE(result.config.has_value());
  return *result.config;
}

/// A YAML text and the errors it must give, one per line.
struct bad_config {
  std::string yaml;
  std::string errors;
};

/// Checks each case's errors.
inline void check_errors(const std::vector<bad_config>& cases, const std::string& base = "") {
  for (const bad_config& c : cases) {
    CAPTURE(c.yaml);
    CHECK(errors_of(c.yaml, base) == c.errors + "\n");
  }
}

}  // namespace warden::testing

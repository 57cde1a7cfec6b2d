// warden-sink's configuration file: the documented example, defaults, every validation
// error at its exact line and column, several errors at once, YAML syntax errors,
// ownership rules errors (inline block scalar and separate file, real temporary files),
// sizes with units, and unreadable files.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/temp_directory.hpp"
#include "config_checks.hpp"
#include "server/config.hpp"

namespace {

using warden::sink::config_result;
using warden::sink::load_config;
using warden::sink::parse_config;
using warden::sink::sink_config;
using warden::testing::bad_config;
using warden::testing::check_errors;
using warden::testing::config_of;
using warden::testing::errors_of;

// The example from config.hpp's header comment, verbatim.
constexpr const char* kDocumentedExample = R"(listen: 127.0.0.1:9000
database: /var/lib/warden/sink.db
public_url: https://sink.example.com      # links in tickets and the printed DSNs
log_level: info                           # debug, info, warning, error
api_token: "s3cret"                       # Bearer token of the query API
fallback_owner: {team: unowned, function: unknown}
ownership_rules: |                        # or ownership_rules_file: rules.txt
  path:src/payments/**  team=payments function=backend
projects:
  - id: 1
    name: shop
    owner: {team: payments, function: backend, product: checkout}  # optional default
    keys:
      - public_key: 0123456789abcdef0123456789abcdef
      - public_key: fedcba9876543210fedcba9876543210
        revoked: true
    events_per_minute: 6000                # quota of the project (0: none)
limits: {max_request_bytes: 20MiB, max_event_bytes: 1MiB, max_items: 1000}
storage: {durable: true, max_events_per_issue: 100, retention_days: 90}
rate_limits: {events_per_minute_per_owner: 3000, spike_factor: 10}
attachments: drop                         # or store
)";

void check_defaults(const sink_config& config) {
  CHECK(config.listen == "127.0.0.1:9000");
  CHECK(config.database == "warden-sink.db");
  CHECK(config.public_url.empty());
  CHECK(config.log_level == "info");
  CHECK(config.api_token.empty());
  CHECK(config.fallback_owner.team == "unowned");
  CHECK(config.fallback_owner.function == "unknown");
  CHECK(config.fallback_owner.product.empty());
  CHECK(config.ownership_rules.empty());
  CHECK(config.projects.empty());
  CHECK(config.limits.max_request_bytes == 20 * 1024 * 1024);
  CHECK(config.limits.max_decoded_bytes == 100 * 1024 * 1024);
  CHECK(config.limits.max_event_bytes == 1024 * 1024);
  CHECK(config.limits.max_attachment_bytes == 20 * 1024 * 1024);
  CHECK(config.limits.max_items == 1000);
  CHECK(config.limits.max_json_depth == 64);
  CHECK(config.limits.max_string_bytes == 1024 * 1024);
  CHECK(config.limits.max_connections == 512);
  CHECK(config.storage.durable);
  CHECK(config.storage.max_events_per_issue == 100);
  CHECK(config.storage.retention_days == 90);
  CHECK(config.rate_limits.events_per_minute_per_owner == 0);
  CHECK(config.rate_limits.spike_factor == 0);
  CHECK(config.rate_limits.spike_floor == 600);
  CHECK_FALSE(config.store_attachments);
}

using warden::testing::temp_directory;

}  // namespace

TEST_CASE("the example in config.hpp parses to its values") {
  const sink_config config = config_of(kDocumentedExample);
  CHECK(config.listen == "127.0.0.1:9000");
  CHECK(config.database == "/var/lib/warden/sink.db");
  CHECK(config.public_url == "https://sink.example.com");
  CHECK(config.log_level == "info");
  CHECK(config.api_token == "s3cret");
  CHECK(config.fallback_owner.team == "unowned");
  CHECK(config.fallback_owner.function == "unknown");
  CHECK(config.fallback_owner.product.empty());
  CHECK(config.ownership_rules == "path:src/payments/**  team=payments function=backend\n");
  REQUIRE(config.projects.size() == 1);
  const auto& project = config.projects[0];
  CHECK(project.id == 1);
  CHECK(project.name == "shop");
  REQUIRE(project.owner.has_value());
  CHECK(project.owner->team == "payments");
  CHECK(project.owner->function == "backend");
  CHECK(project.owner->product == "checkout");
  REQUIRE(project.keys.size() == 2);
  CHECK(project.keys[0].public_key == "0123456789abcdef0123456789abcdef");
  CHECK_FALSE(project.keys[0].revoked);
  CHECK(project.keys[1].public_key == "fedcba9876543210fedcba9876543210");
  CHECK(project.keys[1].revoked);
  CHECK_FALSE(project.disabled);
  CHECK(project.events_per_minute == 6000);
  CHECK(config.limits.max_request_bytes == 20 * 1024 * 1024);
  CHECK(config.limits.max_event_bytes == 1024 * 1024);
  CHECK(config.limits.max_items == 1000);
  CHECK(config.limits.max_decoded_bytes == 100 * 1024 * 1024);  // not given: default
  CHECK(config.storage.durable);
  CHECK(config.storage.max_events_per_issue == 100);
  CHECK(config.storage.retention_days == 90);
  CHECK(config.rate_limits.events_per_minute_per_owner == 3000);
  CHECK(config.rate_limits.spike_factor == 10);
  CHECK(config.rate_limits.spike_floor == 600);
  CHECK_FALSE(config.store_attachments);
}

TEST_CASE("the other keys: disabled, the remaining limits, spike_floor, attachments: store") {
  const sink_config config = config_of(R"(
projects:
  - {id: 7, disabled: yes, keys: [{public_key: abcdefgh}]}
  - id: 8
limits:
  max_decoded_bytes: 50MB
  max_attachment_bytes: 2GiB
  max_json_depth: 10
  max_string_bytes: 4096
  max_connections: 64
rate_limits: {spike_factor: 2.5, spike_floor: 0}
storage: {durable: false}
attachments: store
fallback_owner: {team: core}
)");
  REQUIRE(config.projects.size() == 2);
  CHECK(config.projects[0].id == 7);
  CHECK(config.projects[0].disabled);
  CHECK(config.projects[0].keys.at(0).public_key == "abcdefgh");
  CHECK_FALSE(config.projects[0].owner.has_value());
  CHECK(config.projects[1].id == 8);
  CHECK(config.projects[1].keys.empty());
  CHECK(config.limits.max_decoded_bytes == 50'000'000);
  CHECK(config.limits.max_attachment_bytes == std::size_t{2} << 30);
  CHECK(config.limits.max_json_depth == 10);
  CHECK(config.limits.max_string_bytes == 4096);
  CHECK(config.limits.max_connections == 64);
  CHECK(config.rate_limits.spike_factor == 2.5);
  CHECK(config.rate_limits.spike_floor == 0);
  CHECK_FALSE(config.storage.durable);
  CHECK(config.store_attachments);
  // A mapping overlays its defaults: the fallback owner keeps function "unknown".
  CHECK(config.fallback_owner.team == "core");
  CHECK(config.fallback_owner.function == "unknown");
}

TEST_CASE("an empty document, only comments, or keys without values give the defaults") {
  for (const char* yaml : {"", "\n\n", "# nothing here\n  # indented comment\n", "---\n",
                           "listen:\nlimits:\nfallback_owner: ~\nprojects:\n"}) {
    CAPTURE(yaml);
    check_defaults(config_of(yaml));
  }
}

TEST_CASE("unknown keys, with a suggestion when one is close") {
  check_errors({
      {"lisen: 127.0.0.1:9000\n", "c.yaml:1:1: unknown key 'lisen' (did you mean 'listen'?)"},
      {"limits:\n  max_itemz: 5\n",
       "c.yaml:2:3: unknown key 'max_itemz' (did you mean 'max_items'?)"},
      {"projects:\n  - id: 1\n    keys: [{public_key: abcdefgh12, revokd: true}]\n",
       "c.yaml:3:37: unknown key 'revokd' (did you mean 'revoked'?)"},
      {"storage: {colour: blue}\n",
       "c.yaml:1:11: unknown key 'colour' (known keys: durable, max_events_per_issue, "
       "retention_days)"},
      {"database: a.db\ndatabase: b.db\n",
       "c.yaml:2:1: duplicate key 'database' (first at line 1)"},
  });
}

TEST_CASE("wrong types name the expected type") {
  check_errors({
      {"- listen\n", "c.yaml:1:1: the configuration: expected a mapping, got a sequence"},
      {"listen: [a, b]\n", "c.yaml:1:9: listen: expected host:port, got a sequence"},
      {"database: {a: 1}\n", "c.yaml:1:11: database: expected a string, got a mapping"},
      {"limits:\n  max_items: many\n",
       "c.yaml:2:14: limits.max_items: expected an integer, got 'many'"},
      {"limits:\n  max_connections: lots\n",
       "c.yaml:2:20: limits.max_connections: expected an integer, got 'lots'"},
      {"limits: {max_connections: 1.5}\n",
       "c.yaml:1:27: limits.max_connections: expected an integer, got '1.5'"},
      {"storage: {durable: maybe}\n",
       "c.yaml:1:20: storage.durable: expected a boolean (true or false), got 'maybe'"},
      {"projects: {id: 1}\n", "c.yaml:1:11: projects: expected a sequence, got a mapping"},
      {"projects:\n  - 5\n", "c.yaml:2:5: projects[0]: expected a mapping, got '5'"},
      {"rate_limits: {spike_factor: lots}\n",
       "c.yaml:1:29: rate_limits.spike_factor: expected a number, got 'lots'"},
      {"fallback_owner: nobody\n", "c.yaml:1:17: fallback_owner: expected a mapping, got 'nobody'"},
      {"ownership_rules_file: [a]\n",
       "c.yaml:1:23: ownership_rules_file: expected a file name, got a sequence"},
  });
}

TEST_CASE("listen is host:port, port 0-65535, IPv6 in brackets") {
  for (const char* listen : {"127.0.0.1:0", "127.0.0.1:65535", "localhost:9000", "[::1]:9000"}) {
    CAPTURE(listen);
    CHECK(config_of(std::string{"listen: \""} + listen + "\"\n").listen == listen);
  }
  check_errors({
      {"listen: 127.0.0.1:65536\n",
       "c.yaml:1:9: listen: the port must be a number from 0 to 65535; got '127.0.0.1:65536'"},
      {"listen: 127.0.0.1:http\n",
       "c.yaml:1:9: listen: the port must be a number from 0 to 65535; got '127.0.0.1:http'"},
      {"listen: 127.0.0.1\n",
       "c.yaml:1:9: listen: expected host:port, e.g. 127.0.0.1:9000; got '127.0.0.1'"},
      {"listen: \":9000\"\n",
       "c.yaml:1:9: listen: expected host:port, e.g. 127.0.0.1:9000 (the host is missing); got "
       "':9000'"},
      {"listen: ::1:9000\n",
       "c.yaml:1:9: listen: an IPv6 address is written in brackets, e.g. [::1]:9000; got "
       "'::1:9000'"},
      {"listen: \"[::1]9000\"\n",
       "c.yaml:1:9: listen: expected [IPv6 address]:port, e.g. [::1]:9000; got '[::1]9000'"},
  });
}

TEST_CASE("api_token is required unless listening on a loopback address") {
  for (const char* listen :
       {"127.0.0.1:9000", "127.1.2.3:9000", "localhost:80", "LocalHost:80", "[::1]:9000"}) {
    CAPTURE(listen);
    CHECK(config_of(std::string{"listen: \""} + listen + "\"\n").api_token.empty());
  }
  CHECK(config_of("listen: 0.0.0.0:9000\napi_token: t0ken\n").api_token == "t0ken");
  check_errors({
      {"log_level: info\nlisten: 0.0.0.0:9000\n",
       "c.yaml:2:9: api_token is required when listening on 0.0.0.0"},
      {"listen: \"[::]:9000\"\napi_token: \"\"\n",
       "c.yaml:1:9: api_token is required when listening on ::"},
      {"listen: 127.0.0.256:9000\n",
       "c.yaml:1:9: api_token is required when listening on 127.0.0.256"},
      {"listen: sink.example.com:9000\n",
       "c.yaml:1:9: api_token is required when listening on sink.example.com"},
  });
}

TEST_CASE("log_level, attachments and public_url take documented values") {
  CHECK(config_of("log_level: debug\n").log_level == "debug");
  CHECK(config_of("public_url: HTTP://sink:9000\n").public_url == "HTTP://sink:9000");
  check_errors({
      {"log_level: verbose\n",
       "c.yaml:1:12: log_level must be one of debug, info, warning, error; got 'verbose'"},
      {"attachments: keep\n", "c.yaml:1:14: attachments must be one of store, drop; got 'keep'"},
      {"public_url: sink.example.com\n",
       "c.yaml:1:13: public_url must start with http:// or https://, got 'sink.example.com'"},
  });
}

TEST_CASE("projects: ids unique and positive, keys unique everywhere and well formed") {
  check_errors({
      {"projects:\n  - id: 0\n", "c.yaml:2:9: projects[0].id must be at least 1, got '0'"},
      {"projects:\n  - id: -4\n", "c.yaml:2:9: projects[0].id must be at least 1, got '-4'"},
      {"projects:\n  - name: shop\n", "c.yaml:2:5: projects[0]: 'id' is required"},
      {"projects:\n  - id:\n", "c.yaml:2:5: projects[0].id needs a value"},
      {"projects:\n  - id: 3\n  - id: 3\n",
       "c.yaml:3:9: duplicate project id '3' (first at line 2)"},
      {"projects:\n  - id: 1\n    keys:\n      - revoked: true\n",
       "c.yaml:4:9: projects[0].keys[0]: 'public_key' is required"},
      {"projects:\n  - id: 1\n    keys: [{public_key: \"abc def\"}]\n",
       "c.yaml:3:25: projects[0].keys[0].public_key must be 1 to 128 characters of A-Z a-z 0-9 - "
       ". _ ~, got 'abc def'"},
      {"projects:\n  - id: 1\n    keys: [{public_key: \"abcdefgh!\"}]\n",
       "c.yaml:3:25: projects[0].keys[0].public_key must be 1 to 128 characters of A-Z a-z 0-9 - "
       ". _ ~, got 'abcdefgh!'"},
      {"projects:\n  - id: 1\n    keys: [{public_key: " + std::string(129, 'k') + "}]\n",
       "c.yaml:3:25: projects[0].keys[0].public_key must be 1 to 128 characters of A-Z a-z 0-9 - "
       ". _ ~, got '" +
           std::string(129, 'k') + "'"},
      {"projects:\n"
       "  - id: 1\n"
       "    keys: [{public_key: key_one-1}]\n"
       "  - id: 2\n"
       "    keys: [{public_key: key_two-2}, {public_key: key_one-1}]\n",
       "c.yaml:5:50: duplicate public key 'key_one-1' (first at line 3)"},
      {"projects:\n  - id: 1\n    events_per_minute: -1\n",
       "c.yaml:3:24: projects[0].events_per_minute must be at least 0, got '-1'"},
      {"projects:\n  - id: 1\n    owner: {team: a, tema: b}\n",
       "c.yaml:3:22: unknown key 'tema' (did you mean 'team'?)"},
  });
}

TEST_CASE("limits positive, storage at least 1, spike_factor at least 0") {
  check_errors({
      {"limits: {max_event_bytes: 0}\n",
       "c.yaml:1:27: limits.max_event_bytes must be at least 1, got '0'"},
      {"limits: {max_items: 0}\n", "c.yaml:1:21: limits.max_items must be at least 1, got '0'"},
      {"limits: {max_json_depth: 0}\n",
       "c.yaml:1:26: limits.max_json_depth must be at least 1, got '0'"},
      {"limits: {max_json_depth: 1001}\n",
       "c.yaml:1:26: limits.max_json_depth is too large: '1001' (at most 1000)"},
      {"limits: {max_connections: 0}\n",
       "c.yaml:1:27: limits.max_connections must be at least 1, got '0'"},
      {"storage: {durable: true}\nlimits:\n  max_connections: -4\n",
       "c.yaml:3:20: limits.max_connections must be at least 1, got '-4'"},
      {"limits: {max_items: 99999999999999999999}\n",
       "c.yaml:1:21: limits.max_items is too large: '99999999999999999999' (at most "
       "18446744073709551615)"},
      {"storage:\n  retention_days: 0\n",
       "c.yaml:2:19: storage.retention_days must be at least 1, got '0'"},
      {"storage:\n  max_events_per_issue: 0\n",
       "c.yaml:2:25: storage.max_events_per_issue must be at least 1, got '0'"},
      {"storage:\n  retention_days: 9223372036854775808\n",
       "c.yaml:2:19: storage.retention_days is too large: '9223372036854775808' (at most "
       "9223372036854775807)"},
      {"rate_limits: {spike_factor: -1}\n",
       "c.yaml:1:29: rate_limits.spike_factor must be a finite number >= 0, got '-1'"},
      {"rate_limits: {spike_factor: .inf}\n",
       "c.yaml:1:29: rate_limits.spike_factor must be a finite number >= 0, got '.inf'"},
  });
}

TEST_CASE("sizes are bytes or an integer with a unit") {
  const struct {
    const char* text;
    std::size_t bytes;
  } sizes[] = {
      {"7", 7},
      {"100B", 100},
      {"3kB", 3000},
      {"3KB", 3000},
      {"1MB", 1'000'000},
      {"2GB", 2'000'000'000},
      {"512KiB", 512 * 1024},
      {"512 KiB", 512 * 1024},
      {"20MiB", 20 * 1024 * 1024},
      {"3GiB", std::size_t{3} << 30},
  };
  for (const auto& size : sizes) {
    CAPTURE(size.text);
    CHECK(config_of(std::string{"limits: {max_request_bytes: "} + size.text + "}\n")
              .limits.max_request_bytes == size.bytes);
  }
  const std::string expected =
      "limits.max_request_bytes: expected a size (a number of bytes, or with a unit: B, kB, KB, "
      "MB, GB, KiB, MiB, GiB), got ";
  check_errors({
      {"limits: {max_request_bytes: 1.5MiB}\n", "c.yaml:1:29: " + expected + "'1.5MiB'"},
      {"limits: {max_request_bytes: 20 mb}\n", "c.yaml:1:29: " + expected + "'20 mb'"},
      {"limits: {max_request_bytes: MiB}\n", "c.yaml:1:29: " + expected + "'MiB'"},
      {"limits: {max_request_bytes: 0MiB}\n",
       "c.yaml:1:29: limits.max_request_bytes must be at least 1, got '0MiB'"},
      {"limits: {max_request_bytes: 17179869184GiB}\n",
       "c.yaml:1:29: limits.max_request_bytes is too large: '17179869184GiB' (at most "
       "18446744073709551615)"},
  });
}

TEST_CASE("every error is reported, in line order, and the config is withheld") {
  const config_result result = parse_config(R"(listen: 0.0.0.0:99999
log_level: loud
projects:
  - id: 0
    keys: [{public_key: "not ok"}]
limits:
  max_items: 0
  max_itmes: 3
storage: {retention_days: 0}
)",
                                            "");
  CHECK_FALSE(result.config.has_value());
  CHECK(errors_of(result) ==
        "c.yaml:1:9: listen: the port must be a number from 0 to 65535; got '0.0.0.0:99999'\n"
        "c.yaml:2:12: log_level must be one of debug, info, warning, error; got 'loud'\n"
        "c.yaml:4:9: projects[0].id must be at least 1, got '0'\n"
        "c.yaml:5:25: projects[0].keys[0].public_key must be 1 to 128 characters of A-Z a-z 0-9 "
        "- . _ ~, got 'not ok'\n"
        "c.yaml:7:14: limits.max_items must be at least 1, got '0'\n"
        "c.yaml:8:3: unknown key 'max_itmes' (did you mean 'max_items'?)\n"
        "c.yaml:9:27: storage.retention_days must be at least 1, got '0'\n");
}

TEST_CASE("a YAML syntax error is one error at its place") {
  CHECK(errors_of("listen: 127.0.0.1:9000\nprojects: [{id: 1}\nlimits: {}\n") ==
        "c.yaml:3:1: end of sequence flow not found\n");
  CHECK(errors_of("limits:\n  max_items: 5\n   max_json_depth: 3\n") ==
        "c.yaml:3:18: illegal map value\n");
  CHECK(errors_of("log_level: info\n\tdatabase: a.db\n") ==
        "c.yaml:2:1: illegal tab when looking for indentation\n");
  CHECK(errors_of("listen: 127.0.0.1:9000\n---\nlisten: 127.0.0.1:9001\n") ==
        "c.yaml:3:1: a second YAML document; the config is one document\n");
  CHECK(config_of("listen: 127.0.0.1:9001\n---\n").listen == "127.0.0.1:9001");
}

TEST_CASE("ownership rules errors point into the YAML block scalar") {
  const std::string yaml = R"(listen: 127.0.0.1:9000
ownership_rules: |   # owners of the monolith
  path:src/a/**  team=a

  bogus:x team=b
  path:src/c/**  owner=c
projects: [{id: 1}]
)";
  CHECK(errors_of(yaml) ==
        "c.yaml:5:3: ownership_rules: unknown matcher 'bogus:' (use path, symbol, module, url "
        "or name)\n"
        "c.yaml:6:18: ownership_rules: unknown key 'owner' (use team, function or product)\n");

  // An explicit indentation indicator keeps the extra spaces in the rules text.
  CHECK(errors_of("ownership_rules: |2\n    path:a  team=a\n     bogus:x team=b\n") ==
        "c.yaml:3:6: ownership_rules: unknown matcher 'bogus:' (use path, symbol, module, url or "
        "name)\n");

  // Not a block scalar: the rules line and column follow the key.
  CHECK(errors_of("ownership_rules: \"bogus:x team=b\"\n") ==
        "c.yaml:1:18: ownership_rules:1:1: unknown matcher 'bogus:' (use path, symbol, module, "
        "url or name)\n");

  CHECK(errors_of("ownership_rules: a\nownership_rules_file: b\n") ==
        "c.yaml:2:23: ownership_rules and ownership_rules_file exclude each other\n");
}

TEST_CASE("ownership_rules_file is read next to the config, its errors are file:line") {
  const temp_directory directory;
  const std::string rules_file =
      directory.write("rules.txt", "# owners\npath:src/a/**  team=a\nsymbol:b::  function=x\n");
  const std::string config_file =
      directory.write("sink.yaml", "log_level: debug\nownership_rules_file: rules.txt\n");
  const config_result result = load_config(config_file);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].to_string("sink.yaml") ==
        "sink.yaml:2:23: " + rules_file +
            ":3:1: rule gives no team: add team=... or a (?P<team>...) group");

  const std::string good = "path:src/a/**  team=a\n";
  directory.write("good.txt", good);
  CHECK(config_of("ownership_rules_file: good.txt\n", directory.path()).ownership_rules == good);

  CHECK(errors_of("ownership_rules_file: missing.txt\n", directory.path()) ==
        "c.yaml:1:23: cannot read ownership_rules_file '" + directory.path() +
            "/missing.txt': No such file or directory\n");
}

TEST_CASE("load_config reads a file, an unreadable one is one error at line 0") {
  const temp_directory directory;
  const std::string file = directory.write("sink.yaml", kDocumentedExample);
  const config_result good = load_config(file);
  CHECK(good.errors.empty());
  CHECK(good.config.has_value());

  const config_result missing = load_config(directory.path() + "/absent.yaml");
  REQUIRE(missing.errors.size() == 1);
  CHECK_FALSE(missing.config.has_value());
  CHECK(missing.errors[0].line == 0);
  CHECK(missing.errors[0].to_string("absent.yaml") ==
        "absent.yaml: cannot read: No such file or directory");

  const config_result directory_itself = load_config(directory.path());
  REQUIRE(directory_itself.errors.size() == 1);
  CHECK(directory_itself.errors[0].to_string("dir") == "dir: cannot read: Is a directory");

  const std::string bad = directory.write("bad.yaml", "\nlisen: x\n");
  const config_result with_errors = load_config(bad);
  REQUIRE(with_errors.errors.size() == 1);
  CHECK(with_errors.errors[0].to_string(bad) ==
        bad + ":2:1: unknown key 'lisen' (did you mean 'listen'?)");
}

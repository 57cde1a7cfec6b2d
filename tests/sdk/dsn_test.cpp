// DSN parsing: the forms Sentry documents, and clear errors for everything else.
#include <doctest/doctest.h>

#include "dsn.hpp"

using warden::sdk::detail::parse_dsn;

TEST_CASE("a plain DSN gives the envelope URL and the auth header") {
  const auto dsn = parse_dsn("https://public@o123.ingest.example.com/42");
  REQUIRE(dsn.ok());
  CHECK(dsn->scheme == "https");
  CHECK(dsn->public_key == "public");
  CHECK(dsn->secret_key.empty());
  CHECK(dsn->host == "o123.ingest.example.com");
  CHECK(dsn->path.empty());
  CHECK(dsn->project_id == "42");
  CHECK(dsn->envelope_url() == "https://o123.ingest.example.com/api/42/envelope/");
  CHECK(dsn->auth_header("warden.cpp/0.1.0") ==
        "Sentry sentry_version=7, sentry_client=warden.cpp/0.1.0, sentry_key=public");
}

TEST_CASE("ports, path prefixes, secrets, IPv6 and a trailing slash are understood") {
  auto dsn = parse_dsn("http://key:secret@127.0.0.1:9000/sentry/prefix/7/");
  REQUIRE(dsn.ok());
  CHECK(dsn->host == "127.0.0.1:9000");
  CHECK(dsn->path == "/sentry/prefix");
  CHECK(dsn->project_id == "7");
  CHECK(dsn->secret_key == "secret");
  CHECK(dsn->envelope_url() == "http://127.0.0.1:9000/sentry/prefix/api/7/envelope/");
  CHECK(dsn->auth_header("c/1").find(", sentry_secret=secret") != std::string::npos);

  dsn = parse_dsn("  HTTP://k@[::1]:8080/3\n");
  REQUIRE(dsn.ok());
  CHECK(dsn->scheme == "http");
  CHECK(dsn->host == "[::1]:8080");
  CHECK(dsn->envelope_url() == "http://[::1]:8080/api/3/envelope/");
}

TEST_CASE("invalid DSNs are refused with the reason") {
  struct bad_case {
    const char* dsn;
    const char* reason;
  };
  const bad_case cases[] = {
      {"", "empty"},
      {"example.com/1", "missing \"scheme://\""},
      {"ftp://k@example.com/1", "scheme must be http or https"},
      {"https://example.com/1", "missing \"public_key@\""},
      {"https://@example.com/1", "the public key is empty"},
      {"https://k@/1", "the host is empty"},
      {"https://k@example.com", "missing \"/project_id\""},
      {"https://k@example.com/", "the project id must be a number"},
      {"https://k@example.com/abc", "the project id must be a number"},
      {"https://k@example.com:port/1", "the port is not a number"},
      {"https://k@example.com/1?x=1", "no query or fragment"},
      {"https://k@exa mple.com/1", "control or non-ASCII"},
      {"https://k@ex\xC3\xA4mple.com/1", "control or non-ASCII"},
  };
  for (const bad_case& bad : cases) {
    CAPTURE(bad.dsn);
    const auto dsn = parse_dsn(bad.dsn);
    REQUIRE_FALSE(dsn.ok());
    CHECK(dsn.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string{dsn.status().message()}.find(bad.reason) != std::string::npos);
    CHECK(std::string{dsn.status().message()}.find("invalid DSN") == 0);
  }
}

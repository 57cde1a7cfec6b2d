#include "dsn.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "string_bridge.hpp"

namespace warden::sdk::detail {
namespace {

absl::Status invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("invalid DSN \"{}\": {}", text, why));
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
}

}  // namespace

std::string dsn::envelope_url() const {
  return fmt::format("{}://{}{}/api/{}/envelope/", scheme, host, path, project_id);
}

std::string dsn::auth_header(std::string_view client) const {
  std::string header =
      fmt::format("Sentry sentry_version=7, sentry_client={}, sentry_key={}", client, public_key);
  if (!secret_key.empty()) header += fmt::format(", sentry_secret={}", secret_key);
  return header;
}

absl::StatusOr<dsn> parse_dsn(std::string_view text) {
  const std::string_view original = text;
  text = to_std(absl::StripAsciiWhitespace(to_absl(text)));
  if (text.empty()) return invalid(original, "empty");
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return invalid(original, "contains a space, control or non-ASCII character");
    }
  }

  dsn parsed;
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return invalid(original, "missing \"scheme://\"");
  parsed.scheme = absl::AsciiStrToLower(to_absl(text.substr(0, scheme_end)));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return invalid(original,
                   fmt::format("scheme must be http or https, not \"{}\"", parsed.scheme));
  }
  text.remove_prefix(scheme_end + 3);
  if (text.find_first_of("?#") != std::string_view::npos) {
    return invalid(original, "a DSN has no query or fragment");
  }

  const std::size_t at = text.rfind('@');
  if (at == std::string_view::npos) return invalid(original, "missing \"public_key@\"");
  std::string_view credentials = text.substr(0, at);
  text.remove_prefix(at + 1);
  const std::size_t colon = credentials.find(':');
  if (colon != std::string_view::npos) {
    parsed.secret_key = std::string{credentials.substr(colon + 1)};
    credentials = credentials.substr(0, colon);
  }
  if (credentials.empty()) return invalid(original, "the public key is empty");
  parsed.public_key = std::string{credentials};

  const std::size_t host_end = text.find('/');
  if (host_end == std::string_view::npos) return invalid(original, "missing \"/project_id\"");
  const std::string_view host = text.substr(0, host_end);
  if (host.empty() || host.front() == ':') return invalid(original, "the host is empty");
  if (const std::size_t port_colon = host.rfind(':');
      port_colon != std::string_view::npos && host.back() != ']') {
    if (!all_digits(host.substr(port_colon + 1))) {
      return invalid(original, "the port is not a number");
    }
  }
  parsed.host = std::string{host};

  std::string_view path = text.substr(host_end);  // "/[prefix/]project_id[/]"
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::size_t last_slash = path.rfind('/');
  const std::string_view project = path.substr(last_slash + 1);
  if (!all_digits(project)) {
    return invalid(original, fmt::format("the project id must be a number, not \"{}\"", project));
  }
  parsed.project_id = std::string{project};
  parsed.path = std::string{path.substr(0, last_slash)};
  return parsed;
}

}  // namespace warden::sdk::detail

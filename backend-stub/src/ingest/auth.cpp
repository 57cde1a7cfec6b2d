#include "ingest/auth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace warden::sink {
namespace {

// Debian 12's Abseil has its own absl::string_view, distinct from std::string_view.
absl::string_view to_absl(std::string_view text) { return {text.data(), text.size()}; }
std::string_view to_std(absl::string_view text) { return {text.data(), text.size()}; }

constexpr std::size_t kMaxKeyBytes = 128;

/// What one authentication form says. Views point into the auth_inputs.
struct auth_form {
  std::string_view source;  ///< Where it came from, for messages.
  std::string key;          ///< sentry_key; empty if the form names none.
  std::string_view version;
  std::string_view client;
};

absl::Status unauthenticated(std::string message) {
  return absl::UnauthenticatedError(std::move(message));
}

/// What follows `scheme` in `value` when `value` starts, after any whitespace, with
/// `scheme` (in any case) and a space or tab; nullopt otherwise.
std::optional<absl::string_view> after_scheme(std::string_view value, std::string_view scheme) {
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(to_absl(value));
  if (rest.size() <= scheme.size() || !absl::StartsWithIgnoreCase(rest, to_absl(scheme)) ||
      (rest[scheme.size()] != ' ' && rest[scheme.size()] != '\t')) {
    return std::nullopt;
  }
  rest.remove_prefix(scheme.size());
  return rest;
}

/// The pairs of `Sentry sentry_key=..., sentry_version=...` (already without "Sentry ").
/// Items without '=' are skipped, as Relay skips them; a missing key is an error.
absl::StatusOr<auth_form> parse_sentry_pairs(absl::string_view pairs, std::string_view source) {
  auth_form form{source, {}, {}, {}};
  for (const absl::string_view item : absl::StrSplit(pairs, ',')) {
    const std::pair<absl::string_view, absl::string_view> split =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (split.first.size() == item.size()) continue;  // no '='
    const absl::string_view name = absl::StripAsciiWhitespace(split.first);
    const std::string_view value = to_std(absl::StripAsciiWhitespace(split.second));
    if (name == "sentry_key") {
      form.key = std::string(value);
    } else if (name == "sentry_version") {
      form.version = value;
    } else if (name == "sentry_client") {
      form.client = value;
    }
  }
  if (form.key.empty()) return unauthenticated(fmt::format("{} has no sentry_key", source));
  return form;
}

/// `Authorization: Basic base64(key:secret)`, given what follows "Basic ".
absl::StatusOr<auth_form> parse_basic(absl::string_view encoded) {
  std::string decoded;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(encoded), &decoded)) {
    return unauthenticated("Authorization: Basic credentials are not valid base64");
  }
  std::string key = decoded.substr(0, decoded.find(':'));
  if (key.empty()) return unauthenticated("Authorization: Basic credentials have an empty key");
  return auth_form{"Authorization: Basic", std::move(key), {}, {}};
}

/// The major protocol version in `text` ("7", "7.0"), as Relay reads it.
absl::StatusOr<int> parse_version(std::string_view text, std::string_view source) {
  const std::string_view major = text.substr(0, text.find('.'));
  int version = 0;
  if (major.empty() || !std::all_of(major.begin(), major.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(to_absl(major), &version)) {
    return unauthenticated(
        fmt::format("{}: sentry_version {:?} is not a version number", source, text));
  }
  if (version > kSentryProtocolVersion) {
    return absl::InvalidArgumentError(
        fmt::format("unsupported protocol version {} (from {}): this sink speaks {}", version,
                    source, kSentryProtocolVersion));
  }
  return version;
}

/// The key and project id of a DSN, `{scheme}://{key}[:{secret}]@{host}{path}/{project}`.
absl::StatusOr<credentials> credentials_from_dsn(std::string_view dsn) {
  const auto bad = [dsn](std::string_view why) {
    return unauthenticated(fmt::format("the envelope header's dsn {:?} {}", dsn, why));
  };
  std::string_view rest = to_std(absl::StripAsciiWhitespace(to_absl(dsn)));
  const std::size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) return bad("has no scheme://");
  const std::string scheme = absl::AsciiStrToLower(to_absl(rest.substr(0, scheme_end)));
  if (scheme != "http" && scheme != "https") return bad("is not an http or https URL");
  rest.remove_prefix(scheme_end + 3);

  const std::string_view authority = rest.substr(0, rest.find('/'));
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return bad("has no public key (scheme://KEY@host/PROJECT)");
  if (at + 1 == authority.size()) return bad("has no host");
  const std::string_view user_info = authority.substr(0, at);  // KEY or KEY:SECRET
  credentials result;
  result.public_key = std::string(user_info.substr(0, user_info.find(':')));

  std::string_view path = rest.substr(authority.size());
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  const std::string_view project =
      slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  std::uint64_t project_id = 0;
  if (project.empty() || !std::all_of(project.begin(), project.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(to_absl(project), &project_id)) {
    return bad("does not end in a numeric project id");
  }
  result.dsn_project_id = project_id;
  return result;
}

}  // namespace

bool is_valid_public_key(std::string_view key) {
  return !key.empty() && key.size() <= kMaxKeyBytes &&
         std::all_of(key.begin(), key.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
                  c == '_' || c == '~';
         });
}

absl::StatusOr<credentials> authenticate(const auth_inputs& inputs) {
  std::array<auth_form, 3> forms;
  std::size_t form_count = 0;
  if (!inputs.x_sentry_auth.empty()) {
    const std::optional<absl::string_view> pairs = after_scheme(inputs.x_sentry_auth, "sentry");
    if (!pairs) {
      return unauthenticated(
          "X-Sentry-Auth must start with \"Sentry \" and then key=value pairs, as in "
          "\"Sentry sentry_key=KEY, sentry_version=7\"");
    }
    absl::StatusOr<auth_form> form = parse_sentry_pairs(*pairs, "X-Sentry-Auth");
    if (!form.ok()) return form.status();
    forms[form_count++] = *std::move(form);
  }
  // Any other scheme (Bearer...) belongs to a proxy in front of the sink: not ours.
  if (const auto pairs = after_scheme(inputs.authorization, "sentry")) {
    absl::StatusOr<auth_form> form = parse_sentry_pairs(*pairs, "Authorization");
    if (!form.ok()) return form.status();
    forms[form_count++] = *std::move(form);
  } else if (const auto encoded = after_scheme(inputs.authorization, "basic")) {
    absl::StatusOr<auth_form> form = parse_basic(*encoded);
    if (!form.ok()) return form.status();
    forms[form_count++] = *std::move(form);
  }
  // The query may carry only sentry_version or sentry_client next to a header's key.
  forms[form_count++] = auth_form{"the query string", std::string(inputs.query_sentry_key),
                                  inputs.query_sentry_version, inputs.query_sentry_client};

  credentials result;
  const auth_form* keyed = nullptr;  // the first form that names a key
  bool version_given = false;
  for (std::size_t i = 0; i < form_count; ++i) {
    const auth_form& form = forms[i];
    if (!form.version.empty()) {
      const absl::StatusOr<int> version = parse_version(form.version, form.source);
      if (!version.ok()) return version.status();
      if (!version_given) result.version = *version;
      version_given = true;
    }
    if (result.client.empty()) result.client = std::string(form.client);
    if (form.key.empty()) continue;
    if (keyed == nullptr) {
      keyed = &form;
    } else if (form.key != keyed->key) {
      return unauthenticated(fmt::format("multiple different keys: {:?} in {} and {:?} in {}",
                                         keyed->key, keyed->source, form.key, form.source));
    }
  }
  std::string_view source;
  if (keyed != nullptr) {
    result.public_key = keyed->key;
    source = keyed->source;
  } else if (!inputs.envelope_dsn.empty()) {
    absl::StatusOr<credentials> from_dsn = credentials_from_dsn(inputs.envelope_dsn);
    if (!from_dsn.ok()) return from_dsn.status();
    result.public_key = std::move(from_dsn->public_key);
    result.dsn_project_id = from_dsn->dsn_project_id;
    source = "the envelope header's dsn";
  } else {
    return unauthenticated(
        "missing authorization information: send the public key in X-Sentry-Auth, in "
        "Authorization or as ?sentry_key= in the URL");
  }
  if (!is_valid_public_key(result.public_key)) {
    return unauthenticated(
        fmt::format("the public key {:?} in {} is not 1 to {} characters of A-Z a-z 0-9 - . _ ~",
                    result.public_key, source, kMaxKeyBytes));
  }
  if (result.client.empty()) result.client = std::string(inputs.user_agent);
  return result;
}

}  // namespace warden::sink

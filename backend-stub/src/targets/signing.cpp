// Webhook signatures with OpenSSL's HMAC-SHA256.
#include "targets/signing.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace warden::sink {
namespace {

constexpr std::size_t kSha256Bytes = 32;
// Standard Webhooks: a secret decodes to 24 to 64 bytes.
constexpr std::size_t kMinWebhookKeyBytes = 24;
constexpr std::string_view kWebhookSecretPrefix = "whsec_";
constexpr std::string_view kGithubPrefix = "sha256=";

using sha256_digest = std::array<unsigned char, kSha256Bytes>;

absl::string_view to_absl(std::string_view text) { return {text.data(), text.size()}; }

// HMAC-SHA256 of `message` with `key`; nullopt only if OpenSSL fails.
std::optional<sha256_digest> hmac_sha256(std::string_view key, std::string_view message) {
  sha256_digest digest{};
  unsigned int length = 0;
  // A non-null key pointer even for an empty key: OpenSSL reads no byte of it then.
  static constexpr unsigned char kNoKey = 0;
  const auto* key_bytes =
      key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data());
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
           &length) == nullptr ||
      length != kSha256Bytes) {
    return std::nullopt;
  }
  return digest;
}

// The bytes of the hex digest `hex` (either case); nullopt unless exactly 64 hex digits.
std::optional<sha256_digest> parse_hex_digest(std::string_view hex) {
  if (hex.size() != 2 * kSha256Bytes) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  sha256_digest digest{};
  for (std::size_t i = 0; i < kSha256Bytes; ++i) {
    const int high = nibble(hex[2 * i]);
    const int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return digest;
}

}  // namespace

absl::StatusOr<std::string> standard_webhook_signature(const std::vector<secret>& secrets,
                                                       std::string_view message_id,
                                                       std::int64_t unix_seconds,
                                                       std::string_view body) {
  if (secrets.empty()) return absl::InvalidArgumentError("no webhook signing secret");
  const std::string signed_content = fmt::format("{}.{}.{}", message_id, unix_seconds, body);
  std::string header;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    std::string_view encoded = secrets[i].reveal();
    if (encoded.substr(0, kWebhookSecretPrefix.size()) == kWebhookSecretPrefix) {
      encoded.remove_prefix(kWebhookSecretPrefix.size());
    }
    std::string key;
    if (encoded.empty() || !absl::Base64Unescape(to_absl(encoded), &key)) {
      return absl::InvalidArgumentError(
          fmt::format("webhook signing secret {} of {} is not base64 after its whsec_ prefix",
                      i + 1, secrets.size()));
    }
    if (key.size() < kMinWebhookKeyBytes) {
      return absl::InvalidArgumentError(
          fmt::format("webhook signing secret {} of {} decodes to {} bytes, fewer than {}", i + 1,
                      secrets.size(), key.size(), kMinWebhookKeyBytes));
    }
    const std::optional<sha256_digest> digest = hmac_sha256(key, signed_content);
    if (!digest) return absl::InternalError("HMAC-SHA256 failed in OpenSSL");
    if (!header.empty()) header += ' ';
    header += "v1,";
    header += absl::Base64Escape(
        absl::string_view(reinterpret_cast<const char*>(digest->data()), digest->size()));
  }
  return header;
}

bool verify_github_signature(std::string_view secret, std::string_view header,
                             std::string_view raw_body) {
  if (secret.empty() || header.substr(0, kGithubPrefix.size()) != kGithubPrefix) return false;
  const std::optional<sha256_digest> presented =
      parse_hex_digest(header.substr(kGithubPrefix.size()));
  const std::optional<sha256_digest> expected = hmac_sha256(secret, raw_body);
  return presented && expected &&
         CRYPTO_memcmp(presented->data(), expected->data(), kSha256Bytes) == 0;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace warden::sink

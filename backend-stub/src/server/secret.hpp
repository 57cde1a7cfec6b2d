// A secret from the configuration (API token, webhook URL, routing key, signing key):
// kept as a value that prints as "***" everywhere (fmt, streams), so that a log line or
// an API answer cannot show it by accident. Only request builders call reveal().
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <utility>

namespace warden::sink {

/// A configured secret; empty when the config gives none.
class secret {
 public:
  secret() = default;
  /// Takes the value, e.g. read from `{env: NAME}` when the config is loaded.
  explicit secret(std::string value) : value_{std::move(value)} {}

  /// The value itself, for the request that needs it (never for logs or answers).
  [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
  /// Whether none was configured.
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  /// Prints "***" (or "" when empty): a secret is never written out.
  friend std::ostream& operator<<(std::ostream& out, const secret& s) {
    return out << (s.empty() ? "" : "***");
  }

 private:
  std::string value_;
};

}  // namespace warden::sink

/// fmt prints a secret as "***" too.
template <>
struct fmt::formatter<warden::sink::secret> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const warden::sink::secret& s, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format(s.empty() ? "" : "***", context);
  }
};

// Which kinds of data the sink asked us to hold back, and until when.
//
// Follows Sentry's client rate-limiting rules (develop docs, sdk/rate-limiting):
// X-Sentry-Rate-Limits may come with any response and limits listed categories (none
// listed = all); a 429 without it falls back to Retry-After (seconds or an HTTP-date)
// for all categories, or 60 s when neither header is present. The longest limit wins.
// Owned by the transport worker; not thread-safe. Internal to the SDK.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/time/time.h"

namespace warden::sdk::detail {

/// Sentry's data categories that this SDK sends.
enum class data_category : unsigned char {
  error,        ///< event items (errors and messages)
  transaction,  ///< transaction items
  span,         ///< span items
  session,      ///< session and sessions items
  attachment,   ///< attachment items
  internal,     ///< client_report items
};
inline constexpr std::size_t kDataCategoryCount = 6;

/// The category named in a rate-limit header, if this SDK knows it.
std::optional<data_category> category_from_name(std::string_view name) noexcept;
/// The category an envelope item of `item_type` counts against.
std::optional<data_category> category_for_item(std::string_view item_type) noexcept;
/// The name used in client reports ("error", "transaction", ...).
std::string_view category_name(data_category category) noexcept;

/// The limits currently in force.
class rate_limits final {
 public:
  using clock = std::chrono::steady_clock;

  /// Limits never last longer than this, whatever a header says.
  static constexpr std::chrono::hours kMaxLimit{24};

  /// Applies one response: its status and the values of its Retry-After and
  /// X-Sentry-Rate-Limits headers (empty when absent). `wall_now` converts an HTTP-date.
  void update(int status, std::string_view retry_after, std::string_view sentry_rate_limits,
              clock::time_point now, absl::Time wall_now);

  /// True while `category` is held back.
  bool is_limited(data_category category, clock::time_point now) const noexcept;

  /// When `category` may be sent again (in the past when it may be sent now).
  clock::time_point limited_until(data_category category) const noexcept;

 private:
  void extend(std::optional<data_category> category, clock::time_point until) noexcept;

  std::array<clock::time_point, kDataCategoryCount> until_{};
  clock::time_point all_until_{};
};

/// Seconds to wait from a Retry-After value: a number of seconds or an HTTP-date (all
/// three forms of RFC 9110). nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           absl::Time wall_now);

}  // namespace warden::sdk::detail

#include "rate_limits.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "string_bridge.hpp"

namespace warden::sdk::detail {
namespace {

constexpr std::array<std::string_view, kDataCategoryCount> kCategoryNames{
    "error", "transaction", "span", "session", "attachment", "internal"};

constexpr std::chrono::seconds kDefaultRetry{60};

// A non-negative number of seconds, clamped to kMaxLimit; nullopt if not a number.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) {
  double seconds = 0;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(to_absl(text)), &seconds) ||
      std::isnan(seconds) || seconds < 0) {
    return std::nullopt;
  }
  const double max_seconds =
      std::chrono::duration<double>(
          std::chrono::duration_cast<std::chrono::seconds>(rate_limits::kMaxLimit))
          .count();
  return std::chrono::milliseconds{
      static_cast<std::int64_t>(std::ceil(std::min(seconds, max_seconds) * 1000))};
}

}  // namespace

std::optional<data_category> category_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kCategoryNames.size(); ++i) {
    if (kCategoryNames[i] == name) return static_cast<data_category>(i);
  }
  return std::nullopt;  // e.g. "default": this SDK sends messages as "error" events
}

std::optional<data_category> category_for_item(std::string_view item_type) noexcept {
  if (item_type == "event") return data_category::error;
  if (item_type == "transaction") return data_category::transaction;
  if (item_type == "span") return data_category::span;
  if (item_type == "session" || item_type == "sessions") return data_category::session;
  if (item_type == "attachment") return data_category::attachment;
  if (item_type == "client_report") return data_category::internal;
  return std::nullopt;
}

std::string_view category_name(data_category category) noexcept {
  return kCategoryNames[static_cast<std::size_t>(category)];
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           absl::Time wall_now) {
  value = to_std(absl::StripAsciiWhitespace(to_absl(value)));
  if (value.empty()) return std::nullopt;
  if (auto seconds = parse_seconds(value)) return seconds;
  // IMF-fixdate, then the obsolete RFC 850 and asctime forms recipients must accept.
  static constexpr const char* kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                             "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
  const std::string text{value};
  for (const char* format : kFormats) {
    absl::Time when;
    std::string error;
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &when, &error)) {
      const absl::Duration wait = std::max(when - wall_now, absl::ZeroDuration());
      return std::chrono::milliseconds{
          absl::ToInt64Milliseconds(std::min(wait, absl::FromChrono(rate_limits::kMaxLimit)))};
    }
  }
  return std::nullopt;
}

void rate_limits::extend(std::optional<data_category> category, clock::time_point until) noexcept {
  clock::time_point& slot = category ? until_[static_cast<std::size_t>(*category)] : all_until_;
  slot = std::max(slot, until);
}

void rate_limits::update(int status, std::string_view retry_after,
                         std::string_view sentry_rate_limits, clock::time_point now,
                         absl::Time wall_now) {
  if (!absl::StripAsciiWhitespace(to_absl(sentry_rate_limits)).empty()) {
    // "retry_after:categories:scope:reason:namespaces, ..." — scope, reason and
    // namespaces do not matter to a client.
    for (const absl::string_view limit : absl::StrSplit(to_absl(sentry_rate_limits), ',')) {
      const std::vector<absl::string_view> fields = absl::StrSplit(limit, ':');
      const auto wait = parse_seconds(to_std(fields[0]));
      if (!wait) continue;
      const clock::time_point until = now + *wait;
      const absl::string_view categories =
          fields.size() > 1 ? absl::StripAsciiWhitespace(fields[1]) : absl::string_view{};
      if (categories.empty()) {
        extend(std::nullopt, until);
        continue;
      }
      for (const absl::string_view name : absl::StrSplit(categories, ';', absl::SkipEmpty())) {
        if (const auto category = category_from_name(to_std(absl::StripAsciiWhitespace(name)))) {
          extend(category, until);  // unknown categories are ignored
        }
      }
    }
    return;
  }
  if (status == 429) {
    const auto wait = parse_retry_after(retry_after, wall_now);
    extend(std::nullopt, now + (wait ? *wait : std::chrono::milliseconds{kDefaultRetry}));
  }
}

bool rate_limits::is_limited(data_category category, clock::time_point now) const noexcept {
  return limited_until(category) > now;
}

rate_limits::clock::time_point rate_limits::limited_until(data_category category) const noexcept {
  return std::max(all_until_, until_[static_cast<std::size_t>(category)]);
}

}  // namespace warden::sdk::detail

// Counting what the SDK threw away, by Sentry's client-report reason and data category,
// and the client_report item that tells the sink (develop docs, sdk/client-reports).
// Counters are lock-free so any thread may record. Internal to the SDK.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rate_limits.hpp"

namespace warden::sdk::detail {

/// Why an item was dropped (the names are Sentry's).
enum class discard_reason : unsigned char {
  queue_overflow,     ///< The worker's queue was full, or closing left it undrained.
  cache_overflow,     ///< The disk cache was full; the oldest envelope went.
  ratelimit_backoff,  ///< The sink had asked us to hold this category back.
  network_error,      ///< Retries ran out without a cache to keep it in.
  sample_rate,        ///< Not picked by options::sample_rate.
  before_send,        ///< before_send returned false.
  send_error,         ///< The sink refused it for good (4xx other than 429).
};
inline constexpr std::size_t kDiscardReasonCount = 7;

/// Sentry's name of `reason`.
std::string_view discard_reason_name(discard_reason reason) noexcept;

/// One line of a client report.
struct discard_count {
  discard_reason reason;
  data_category category;
  std::uint64_t quantity;
};

/// Dropped-item counters: since start for statistics, and pending until reported.
class discard_counters final {
 public:
  /// Counts `quantity` items of `category` dropped for `reason`.
  void record(discard_reason reason, data_category category, std::uint64_t quantity = 1) noexcept;
  /// The counts not yet reported, which are then reset.
  std::vector<discard_count> take_pending() noexcept;
  /// Puts counts back that could not be reported after all.
  void restore_pending(const std::vector<discard_count>& counts) noexcept;
  /// True when something waits to be reported.
  bool has_pending() const noexcept;
  /// Everything dropped since start, by reason.
  std::array<std::uint64_t, kDiscardReasonCount> totals() const noexcept;

 private:
  using table =
      std::array<std::array<std::atomic<std::uint64_t>, kDataCategoryCount>, kDiscardReasonCount>;
  table pending_{};
  table total_{};
};

/// The client_report payload: {"timestamp": ..., "discarded_events": [...]}.
std::string client_report_payload(const std::vector<discard_count>& counts,
                                  std::chrono::system_clock::time_point now);

}  // namespace warden::sdk::detail

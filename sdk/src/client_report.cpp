#include "client_report.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace warden::sdk::detail {

std::string_view discard_reason_name(discard_reason reason) noexcept {
  switch (reason) {
    case discard_reason::queue_overflow:
      return "queue_overflow";
    case discard_reason::cache_overflow:
      return "cache_overflow";
    case discard_reason::ratelimit_backoff:
      return "ratelimit_backoff";
    case discard_reason::network_error:
      return "network_error";
    case discard_reason::sample_rate:
      return "sample_rate";
    case discard_reason::before_send:
      return "before_send";
    case discard_reason::send_error:
      return "send_error";
  }
  return "internal_sdk_error";
}

void discard_counters::record(discard_reason reason, data_category category,
                              std::uint64_t quantity) noexcept {
  const auto r = static_cast<std::size_t>(reason);
  const auto c = static_cast<std::size_t>(category);
  pending_[r][c].fetch_add(quantity, std::memory_order_relaxed);
  total_[r][c].fetch_add(quantity, std::memory_order_relaxed);
}

std::vector<discard_count> discard_counters::take_pending() noexcept {
  std::vector<discard_count> counts;
  for (std::size_t r = 0; r < kDiscardReasonCount; ++r) {
    for (std::size_t c = 0; c < kDataCategoryCount; ++c) {
      if (const std::uint64_t quantity = pending_[r][c].exchange(0, std::memory_order_relaxed)) {
        counts.push_back({static_cast<discard_reason>(r), static_cast<data_category>(c), quantity});
      }
    }
  }
  return counts;
}

void discard_counters::restore_pending(const std::vector<discard_count>& counts) noexcept {
  for (const discard_count& count : counts) {
    pending_[static_cast<std::size_t>(count.reason)][static_cast<std::size_t>(count.category)]
        .fetch_add(count.quantity, std::memory_order_relaxed);
  }
}

bool discard_counters::has_pending() const noexcept {
  for (const auto& row : pending_) {
    for (const auto& cell : row) {
      if (cell.load(std::memory_order_relaxed) != 0) return true;
    }
  }
  return false;
}

std::array<std::uint64_t, kDiscardReasonCount> discard_counters::totals() const noexcept {
  std::array<std::uint64_t, kDiscardReasonCount> sums{};
  for (std::size_t r = 0; r < kDiscardReasonCount; ++r) {
    for (const auto& cell : total_[r]) sums[r] += cell.load(std::memory_order_relaxed);
  }
  return sums;
}

std::string client_report_payload(const std::vector<discard_count>& counts,
                                  std::chrono::system_clock::time_point now) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
  writer.StartObject();
  writer.Key("timestamp");
  writer.Double(std::chrono::duration<double>(now.time_since_epoch()).count());
  writer.Key("discarded_events");
  writer.StartArray();
  for (const discard_count& count : counts) {
    writer.StartObject();
    const std::string_view reason = discard_reason_name(count.reason);
    const std::string_view category = category_name(count.category);
    writer.Key("reason");
    writer.String(reason.data(), static_cast<rapidjson::SizeType>(reason.size()));
    writer.Key("category");
    writer.String(category.data(), static_cast<rapidjson::SizeType>(category.size()));
    writer.Key("quantity");
    writer.Uint64(count.quantity);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return std::string{buffer.GetString(), buffer.GetSize()};
}

}  // namespace warden::sdk::detail

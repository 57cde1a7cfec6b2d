// Envelopes kept on disk while the sink cannot take them, and across restarts.
//
// One file per envelope, named so that names sort by age:
// `<unix ms>-<pid>-<sequence>.<category>.envelope`. A file is written under a `.tmp`
// name and renamed, so a crash never leaves half an envelope behind. Bounded by total
// size and count: storing past a bound drops the oldest files first. One process per
// directory. Owned by the worker thread; count() may be read from any thread.
// Internal to the SDK.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rate_limits.hpp"

namespace warden::sdk::detail {

class disk_cache final {
 public:
  /// One cached envelope.
  struct entry {
    std::string name;  ///< File name within the directory.
    std::size_t bytes = 0;
    data_category category = data_category::error;
  };

  /// Opens (creating it if needed) `directory` and lists the envelopes already there,
  /// removing temporary files a crash left. Fails when it cannot be created or written.
  static absl::StatusOr<std::unique_ptr<disk_cache>> open(std::string directory,
                                                          std::size_t max_bytes,
                                                          std::size_t max_envelopes);

  /// Stores `envelope`; the categories of older envelopes dropped to make room are added
  /// to `evicted`. Fails (disk full, directory gone) without changing the cache.
  absl::Status store(std::string_view envelope, data_category category,
                     std::vector<data_category>& evicted);
  /// The oldest envelope, or nullptr when the cache is empty.
  const entry* oldest() const noexcept;
  /// The contents of `item`; an error when the file vanished or cannot be read.
  absl::StatusOr<std::string> read(const entry& item) const;
  /// Deletes the oldest envelope (after it was delivered or dropped).
  void remove_oldest();

  /// Envelopes cached now.
  std::size_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  /// The directory.
  const std::string& directory() const noexcept { return directory_; }

 private:
  disk_cache(std::string directory, std::size_t max_bytes, std::size_t max_envelopes);
  void remove_front();

  std::string directory_;
  std::size_t max_bytes_;
  std::size_t max_envelopes_;
  std::deque<entry> entries_;  // oldest first
  std::size_t total_bytes_ = 0;
  std::uint64_t sequence_ = 0;
  std::atomic<std::size_t> count_{0};
};

}  // namespace warden::sdk::detail

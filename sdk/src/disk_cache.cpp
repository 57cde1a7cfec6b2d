#include "disk_cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace warden::sdk::detail {
namespace {

constexpr std::string_view kSuffix = ".envelope";
constexpr std::string_view kTemporarySuffix = ".tmp";

// Writes `data` to a new file at `path`; the errno of the first failure, or 0. POSIX
// calls rather than a stream, so that the log can say why (ENOSPC, EFBIG, ENOTDIR...).
int write_file(const std::string& path, std::string_view data) {
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (file < 0) return errno;
  int error = 0;
  while (!data.empty()) {
    const ssize_t written = ::write(file, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      error = written < 0 ? errno : EIO;
      break;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::close(file) != 0 && error == 0) error = errno;
  return error;
}

std::string error_text(int error) {
  return std::error_code{error, std::generic_category()}.message();
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The category encoded in a cached file's name, "...<category>.envelope"; error when
// the name does not say (files from older versions).
data_category category_of(std::string_view name) {
  name.remove_suffix(kSuffix.size());
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return data_category::error;
  return category_from_name(name.substr(dot + 1)).value_or(data_category::error);
}

}  // namespace

disk_cache::disk_cache(std::string directory, std::size_t max_bytes, std::size_t max_envelopes)
    : directory_(std::move(directory)), max_bytes_(max_bytes), max_envelopes_(max_envelopes) {}

absl::StatusOr<std::unique_ptr<disk_cache>> disk_cache::open(std::string directory,
                                                             std::size_t max_bytes,
                                                             std::size_t max_envelopes) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) {
    return absl::UnavailableError(
        fmt::format("cache directory {}: cannot create it: {}", directory, error.message()));
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(fmt::format("cache directory {}: not writable", directory));
  }
  std::unique_ptr<disk_cache> cache{new disk_cache(directory, max_bytes, max_envelopes)};
  for (const fs::directory_entry& file : fs::directory_iterator(directory, error)) {
    const std::string name = file.path().filename().string();
    if (ends_with(name, kTemporarySuffix)) {
      fs::remove(file.path(), error);  // half-written before a crash
    } else if (ends_with(name, kSuffix) && file.is_regular_file(error)) {
      const auto bytes = static_cast<std::size_t>(file.file_size(error));
      if (!error) cache->entries_.push_back({name, bytes, category_of(name)});
    }
  }
  std::sort(cache->entries_.begin(), cache->entries_.end(),
            [](const entry& a, const entry& b) { return a.name < b.name; });
  for (const entry& item : cache->entries_) cache->total_bytes_ += item.bytes;
  cache->count_.store(cache->entries_.size(), std::memory_order_relaxed);
  return cache;
}

absl::Status disk_cache::store(std::string_view envelope, data_category category,
                               std::vector<data_category>& evicted) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string name = fmt::format("{:013}-{:07}-{:08}.{}{}", now_ms, ::getpid(), sequence_++,
                                       category_name(category), kSuffix);
  const std::string path = fmt::format("{}/{}", directory_, name);
  const std::string temporary = fmt::format("{}{}", path, kTemporarySuffix);
  if (const int error = write_file(temporary, envelope); error != 0) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);  // no half envelope left behind
    const std::string message = fmt::format("cache directory {}: cannot write an envelope: {}",
                                            directory_, error_text(error));
    return error == ENOSPC || error == EFBIG || error == EDQUOT
               ? absl::ResourceExhaustedError(message)
               : absl::UnavailableError(message);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    return absl::UnavailableError(
        fmt::format("cache directory {}: rename failed: {}", directory_, error_text(error)));
  }
  entries_.push_back({name, envelope.size(), category});
  total_bytes_ += envelope.size();
  while (entries_.size() > 1 && (entries_.size() > max_envelopes_ || total_bytes_ > max_bytes_)) {
    evicted.push_back(entries_.front().category);
    remove_front();
  }
  count_.store(entries_.size(), std::memory_order_relaxed);
  return absl::OkStatus();
}

const disk_cache::entry* disk_cache::oldest() const noexcept {
  return entries_.empty() ? nullptr : &entries_.front();
}

absl::StatusOr<std::string> disk_cache::read(const entry& item) const {
  std::ifstream in{fmt::format("{}/{}", directory_, item.name), std::ios::binary};
  if (!in) return absl::NotFoundError(fmt::format("cached envelope {} vanished", item.name));
  std::string contents{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (in.bad()) return absl::DataLossError(fmt::format("cannot read {}", item.name));
  return contents;
}

void disk_cache::remove_oldest() {
  if (entries_.empty()) return;
  remove_front();
  count_.store(entries_.size(), std::memory_order_relaxed);
}

void disk_cache::remove_front() {
  std::error_code ignored;
  std::filesystem::remove(fmt::format("{}/{}", directory_, entries_.front().name), ignored);
  total_bytes_ -= entries_.front().bytes;
  entries_.pop_front();
}

}  // namespace warden::sdk::detail

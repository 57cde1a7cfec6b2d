// A temporary directory for tests' real files (configs, SQLite databases), removed with
// everything in it when the object goes.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace warden::testing {

/// A temporary directory, removed with everything in it.
class temp_directory final {
 public:
  temp_directory() {
    static std::atomic<int> next{0};
    path_ = std::filesystem::temp_directory_path() /
            ("warden-sink-test-" + std::to_string(::getpid()) + "-" + std::to_string(next++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_directory(const temp_directory&) = delete;
  temp_directory& operator=(const temp_directory&) = delete;

  /// The directory itself.
  std::string path() const { return path_.string(); }
  /// `name` inside the directory.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// Writes `text` to `name` inside the directory and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream{file(name), std::ios::binary} << text;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace warden::testing

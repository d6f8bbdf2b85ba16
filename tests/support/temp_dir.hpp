// A temporary directory that lives as long as a test: created with mkdtemp, removed with
// everything in it on destruction.
#pragma once

#include <stdlib.h> // mkdtemp

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace worldlog::test {

class TempDir {
public:
  /// Creates /tmp/<prefix>XXXXXX (or under $TMPDIR when set). Throws when it cannot, which
  /// doctest reports as a failure of the test that asked.
  explicit TempDir(std::string prefix = "worldlog-test-") {
    std::error_code ignored;
    std::filesystem::path base = std::filesystem::temp_directory_path(ignored);
    if (base.empty()) base = "/tmp";
    std::string pattern = (base / (prefix + "XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + pattern);
    }
    path_ = pattern;
  }

  ~TempDir() {
    std::error_code ignored; // a leftover directory in /tmp must not fail a test
    std::filesystem::remove_all(path_, ignored);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::filesystem::path& child) const {
    return path_ / child;
  }

private:
  std::filesystem::path path_;
};

} // namespace worldlog::test

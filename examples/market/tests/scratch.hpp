// A directory of the tests' own under the system's temporary directory.
#pragma once

#include <stdlib.h> // mkdtemp

#include <filesystem>
#include <string>
#include <system_error>

#include <doctest/doctest.h>

namespace worldlog::market {

/// A fresh directory, removed with everything in it.
class Scratch {
public:
  Scratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "market-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~Scratch() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

} // namespace worldlog::market

// A fresh, uniquely named directory for a benchmark's log, removed with everything in it at
// the end.
#pragma once

#include <filesystem>
#include <random>
#include <system_error>

#include <fmt/format.h>

#include "commands.hpp"

namespace worldlog::tools {

class ScratchDir {
public:
  /// Creates `parent`/worldlog-bench-<random>, under the system's temporary directory when
  /// `parent` is empty (a benchmark's --dir), creating `parent` if need be; ends the subcommand
  /// with an error if it cannot.
  explicit ScratchDir(const std::filesystem::path& parent) {
    std::error_code ec;
    const std::filesystem::path base =
        parent.empty() ? std::filesystem::temp_directory_path(ec) : parent;
    if (ec) fail(fmt::format("no temporary directory: {}", ec.message()));
    std::filesystem::create_directories(base, ec);
    std::random_device random;
    path_ = base / fmt::format("worldlog-bench-{:08x}{:08x}", random(), random());
    if (!std::filesystem::create_directories(path_, ec)) {
      fail(fmt::format("cannot create {}: {}", path_.string(),
                       ec ? ec.message() : "already exists"));
    }
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

} // namespace worldlog::tools

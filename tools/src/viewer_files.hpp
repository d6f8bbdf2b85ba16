// The viewer's page compiled into the binary: every file under tools/viewer/, which CMake turns
// into a generated source at build time (cmake/embed_files.cmake).
#pragma once

#include <span>
#include <string_view>

namespace worldlog::tools {

struct EmbeddedFile {
  std::string_view name;  ///< its path under tools/viewer/, '/'-separated: "index.html"
  std::string_view bytes; ///< its content
};

/// Every file of the page, by name in ascending order; none when the tree had none.
[[nodiscard]] std::span<const EmbeddedFile> viewer_files() noexcept;

} // namespace worldlog::tools

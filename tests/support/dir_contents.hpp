// Every byte under a directory, to show that a refused operation left it exactly as it was:
//
//   const auto before = dir_contents(dir);
//   CHECK_FALSE(EventLog::open(dir).ok());
//   CHECK_CONTENTS_UNCHANGED(before, dir_contents(dir));
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace worldlog::test {

/// Relative path -> bytes of every regular file under `root` ("<directory>" for a directory,
/// "<other>" for anything else); a regular file `root` itself is keyed ".". Empty when `root`
/// does not exist.
[[nodiscard]] inline std::map<std::string, std::string>
dir_contents(const std::filesystem::path& root) {
  std::map<std::string, std::string> contents;
  const auto bytes_of = [](const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  if (std::filesystem::is_regular_file(root)) {
    contents["."] = bytes_of(root);
    return contents;
  }
  if (!std::filesystem::exists(root)) return contents;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string name = entry.path().lexically_relative(root).string();
    if (entry.is_regular_file()) {
      contents[name] = bytes_of(entry.path());
    } else {
      contents[name] = entry.is_directory() ? "<directory>" : "<other>";
    }
  }
  return contents;
}

/// What differs between two dir_contents, one line per path; empty when nothing does.
[[nodiscard]] inline std::string contents_diff(const std::map<std::string, std::string>& before,
                                               const std::map<std::string, std::string>& after) {
  std::string diff;
  for (const auto& [name, bytes] : before) {
    const auto found = after.find(name);
    if (found == after.end()) {
      diff += fmt::format("removed  {}\n", name);
    } else if (found->second != bytes) {
      diff +=
          fmt::format("changed  {} ({} -> {} bytes)\n", name, bytes.size(), found->second.size());
    }
  }
  for (const auto& [name, bytes] : after) {
    if (before.count(name) == 0)
      diff += fmt::format("added    {} ({} bytes)\n", name, bytes.size());
  }
  return diff;
}

} // namespace worldlog::test

/// CHECKs that two dir_contents are equal, listing every path that differs otherwise.
#define CHECK_CONTENTS_UNCHANGED(before, after)                                                    \
  CHECK_MESSAGE((before) == (after), ::worldlog::test::contents_diff((before), (after)))

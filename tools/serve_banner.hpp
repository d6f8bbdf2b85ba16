// The line `worldlog serve` prints once it listens, and how the programs that start a server on
// port 0 (`bench serve`, the CLI tests) read the port the kernel picked back from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace worldlog::tools {

/// "worldlog: serving Z zones from DIR on HOST:PORT, metrics on http://HOST:PORT/metrics,
/// viewer at URL" (URL: tools::viewer_url, with the token when there is one).
[[nodiscard]] inline std::string serve_banner(std::uint64_t zones, std::string_view data,
                                              std::string_view host, std::uint16_t port,
                                              std::string_view http_host, std::uint16_t http_port,
                                              std::string_view viewer) {
  return fmt::format(
      "worldlog: serving {} zones from {} on {}:{}, metrics on http://{}:{}/metrics, viewer at {}",
      zones, data, host, port, http_host, http_port, viewer);
}

/// The viewer's URL in the banner, in `out` (what the server printed so far); nullopt before
/// the banner is out.
[[nodiscard]] inline std::optional<std::string> served_viewer(const std::string& out) {
  constexpr std::string_view at = ", viewer at ";
  const auto begin = out.find(at);
  if (begin == std::string::npos) return std::nullopt;
  const auto end = out.find('\n', begin);
  if (end == std::string::npos) return std::nullopt;
  return out.substr(begin + at.size(), end - begin - at.size());
}

/// The game port in the banner of a server listening on 127.0.0.1, in `out` (what the server
/// printed so far); nullopt before the banner is out.
[[nodiscard]] inline std::optional<std::string> served_port(const std::string& out) {
  constexpr std::string_view on = " on 127.0.0.1:";
  const auto at = out.find(on);
  if (at == std::string::npos) return std::nullopt;
  const auto begin = at + on.size();
  const auto end = out.find(',', begin);
  if (end == std::string::npos) return std::nullopt;
  return out.substr(begin, end - begin);
}

} // namespace worldlog::tools

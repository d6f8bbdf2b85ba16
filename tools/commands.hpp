// The reference game's subcommands of the stock `worldlog` binary, which main.cpp adds to the
// log tools of worldlog::tools (worldlog/tools/cli.hpp), and a helper they share.
//
// Each add_X_command registers one subcommand (its options and its callback) on the app it is
// given, so main.cpp only lists them. A callback that fails calls tools::fail, which prints its
// error to stderr and throws CLI::RuntimeError; Cli::run turns that into exit status 1.
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/tools/cli.hpp>

namespace worldlog::tools {

/// Registers `append` under the app given, which is the `bench` group.
void add_bench_append_command(CLI::App& app);
/// Registers `aoi` under the app given, which is the `bench` group.
void add_bench_aoi_command(CLI::App& app);
/// Registers `zone` under the app given, which is the `bench` group.
void add_bench_zone_command(CLI::App& app);
void add_demo_command(CLI::App& app);
/// Registers `bench replay` under the app given, which is the `bench` group.
void add_bench_replay_command(CLI::App& app);
/// Registers `bench serve` under the app given, which is the `bench` group.
void add_bench_serve_command(CLI::App& app);
/// `worldlog serve` (with the viewer, over `models`) and `worldlog token`.
void add_serve_commands(CLI::App& app, const Models& models);
/// `worldlog bots`.
void add_bots_command(CLI::App& app);
/// `worldlog sim`.
void add_sim_command(CLI::App& app);

/// A "HOST:PORT" option (an IPv6 host in brackets) split into the host, brackets removed, and
/// the port. Fails naming `option` when the text is not of that form or the port is not a
/// number from 0 to 65535.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
[[nodiscard]] inline HostPort split_host_port(std::string_view text, std::string_view option) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    fail(fmt::format("{} '{}' is not HOST:PORT", option, text));
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string_view digits = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      port > 65535) {
    fail(fmt::format("{} '{}': the port is not a number from 0 to 65535", option, text));
  }
  return {std::string(host), static_cast<std::uint16_t>(port)};
}

} // namespace worldlog::tools

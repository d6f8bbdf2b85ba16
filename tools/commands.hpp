// The subcommands of the `worldlog` command line, and the two helpers they share.
//
// Each add_X_command registers one subcommand (its options and its callback) on the app it is
// given, so main.cpp only lists them. A callback that fails prints its error to stderr and
// throws CLI::RuntimeError, which main turns into a non-zero exit without printing more.
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

namespace worldlog::tools {

void add_events_command(CLI::App& app);
void add_verify_command(CLI::App& app);
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
/// Registers state, step, verify, diff and bisect under the `replay` group given.
void add_replay_commands(CLI::App& app);
/// Registers export and import under the `replay` group given.
void add_replay_export_commands(CLI::App& app);
/// Registers the `audit` group and its subcommands.
void add_audit_commands(CLI::App& app);
/// `worldlog serve` and `worldlog token`.
void add_serve_commands(CLI::App& app);
/// `worldlog bots`.
void add_bots_command(CLI::App& app);
/// `worldlog sim`.
void add_sim_command(CLI::App& app);
/// `worldlog repair`.
void add_repair_command(CLI::App& app);

/// Prints "worldlog: <message>" to stderr and ends the subcommand with exit status 1.
[[noreturn]] inline void fail(std::string_view message) {
  fmt::print(stderr, "worldlog: {}\n", message);
  throw CLI::RuntimeError(1);
}

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

/// Opens the log in `dir` for reading; a missing directory or a directory that holds no log is
/// an error, never a new empty log. Read-only, so it works beside a server that is writing the
/// log (the view is the log as of opening) and on a copy, and never changes the files.
[[nodiscard]] inline std::unique_ptr<log::EventLog>
open_existing_log(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    fail(fmt::format("no worldlog data at {}: not a directory", dir.string()));
  }
  auto opened = log::EventLog::open(dir, {.create_if_missing = false, .read_only = true});
  if (!opened) fail(fmt::format("cannot open the log at {}: {}", dir.string(), opened.error()));
  return std::move(opened).value();
}

} // namespace worldlog::tools

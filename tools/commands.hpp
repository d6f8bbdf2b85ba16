// The reference game's subcommands of the stock `worldlog` binary, which main.cpp adds to the
// log tools of worldlog::tools (worldlog/tools/cli.hpp).
//
// Each add_X_command registers one subcommand (its options and its callback) on the app it is
// given, so main.cpp only lists them. A callback that fails calls tools::fail, which prints its
// error to stderr and throws CLI::RuntimeError; Cli::run turns that into exit status 1.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

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

} // namespace worldlog::tools

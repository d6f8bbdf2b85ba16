// `worldlog`: one binary, subcommands like git.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app("worldlog: an event-sourced game state engine on a RocksDB event log", "worldlog");
  app.require_subcommand(1);

  worldlog::tools::add_events_command(app);
  worldlog::tools::add_verify_command(app);

  auto* bench = app.add_subcommand("bench", "Measure the engine (programs that print figures)");
  bench->require_subcommand(1);
  worldlog::tools::add_bench_append_command(*bench);
  worldlog::tools::add_bench_aoi_command(*bench);
  worldlog::tools::add_bench_zone_command(*bench);
  worldlog::tools::add_bench_replay_command(*bench);
  worldlog::tools::add_bench_serve_command(*bench);

  worldlog::tools::add_demo_command(app);

  auto* replay =
      app.add_subcommand("replay", "Rebuild, step through, verify and export past states");
  replay->require_subcommand(1);
  worldlog::tools::add_replay_commands(*replay);
  worldlog::tools::add_replay_export_commands(*replay);
  worldlog::tools::add_audit_commands(app);
  worldlog::tools::add_serve_commands(app);
  worldlog::tools::add_bots_command(app);
  worldlog::tools::add_sim_command(app);
  worldlog::tools::add_repair_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // Help, usage errors, and the RuntimeError a failed subcommand throws after its message.
    return app.exit(error);
  } catch (const std::exception& error) {
    fmt::print(stderr, "worldlog: {}\n", error.what());
    return 1;
  }
  return 0;
}

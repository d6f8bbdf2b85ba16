// `worldlog`: one binary, subcommands like git. The log tools are worldlog::tools over the
// reference game's model (and, built in worldlog's own tree, the market example's), the way an
// embedder builds their own (worldlog/tools/cli.hpp); the reference game's own commands (`demo`,
// `serve`, `token`, `bots`, `sim`, `bench`) are added to the same app.
#include <worldlog/game/behaviour.hpp>
#include <worldlog/game/invariants.hpp>
#include <worldlog/game/model.hpp>
#include <worldlog/tools/cli.hpp>

#ifdef WORLDLOG_WITH_MARKET
#include <market/invariants.hpp>
#include <market/model.hpp>
#endif

#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace worldlog;
  tools::Cli cli("worldlog", "worldlog: an event-sourced game state engine on a RocksDB event log");
  cli.models().add<game::Model>(
      {.invariants = game::invariants(), .behaviour = game::behaviour_signals});
#ifdef WORLDLOG_WITH_MARKET
  cli.models().add<market::Model>({.invariants = market::invariants()});
#endif

  CLI::App& app = cli.app();
  auto* bench = app.add_subcommand("bench", "Measure the engine (programs that print figures)");
  bench->require_subcommand(1);
  tools::add_bench_append_command(*bench);
  tools::add_bench_aoi_command(*bench);
  tools::add_bench_zone_command(*bench);
  tools::add_bench_replay_command(*bench);
  tools::add_bench_serve_command(*bench);
  tools::add_demo_command(app);
  tools::add_serve_commands(app, cli.models());
  tools::add_bots_command(app);
  tools::add_sim_command(app);

  return cli.run(argc, argv);
}

// `worldlog sim`: the deterministic, fault-injecting simulation of a whole world
// (worldlog/replay/simulation.hpp), for one seed or a range of seeds (a soak).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/game/simulation.hpp>

#include "commands.hpp"
#include "rules_file.hpp"

namespace worldlog::tools {
namespace {

struct SimCliOptions {
  game::SimOptions sim;
  std::uint64_t seeds = 1;
  std::optional<double> seconds; ///< with --seeds: start no seed after this long
  unsigned jobs = 1;
  std::string data;
  bool json = false;
};

boost::json::object counts_json(const game::SimCounts& counts) {
  return {{"commands", counts.commands},
          {"acknowledged", counts.acknowledged},
          {"duplicates", counts.duplicates},
          {"retries", counts.retries},
          {"duplicated_frames", counts.duplicated_frames},
          {"crossings", counts.crossings},
          {"disconnects", counts.disconnects},
          {"reconnects", counts.reconnects},
          {"process_crashes", counts.process_crashes},
          {"power_losses", counts.power_losses},
          {"disk_fulls", counts.disk_fulls},
          {"storage_errors", counts.storage_errors},
          {"zone_crashes", counts.zone_crashes},
          {"lost_appends", counts.lost_appends},
          {"lost_events", counts.lost_events},
          {"lost_acknowledged", counts.lost_acknowledged},
          {"settled_checks", counts.settled_checks}};
}

boost::json::object violation_json(const game::SimReport& report) {
  const game::SimViolation& broken = *report.violation;
  return {{"seed", report.seed},
          {"step", broken.step},
          {"invariant", broken.invariant},
          {"what", broken.what},
          {"repro", broken.repro}};
}

void print_violation(const game::SimReport& report) {
  const game::SimViolation& broken = *report.violation;
  fmt::print(stderr, "seed {} step {}: {} broken: {}\n  reproduce: {}\n", report.seed, broken.step,
             broken.invariant, broken.what, broken.repro);
}

void run_one(const SimCliOptions& options) {
  game::SimOptions sim = options.sim;
  sim.dir = options.data;
  auto report = game::simulate(sim);
  if (!report) fail(fmt::format("sim failed: {}", report.error()));
  const double per_second = report->seconds > 0 ? report->steps / report->seconds : 0;
  if (options.json) {
    boost::json::object out{{"seed", report->seed},
                            {"steps", report->steps},
                            {"players", sim.players},
                            {"zones", sim.zones},
                            {"log_hash", report->log_hash},
                            {"events", report->events},
                            {"violations", report->violation ? 1 : 0},
                            {"counts", counts_json(report->counts)},
                            {"seconds", report->seconds},
                            {"steps_per_second", per_second}};
    if (report->violation) out["violation"] = violation_json(*report);
    fmt::print("{}\n", boost::json::serialize(out));
  } else {
    const game::SimCounts& c = report->counts;
    fmt::print("seed {}: {} steps in {:.1f} s ({:.0f} steps/s), {} players in {} zones\n",
               report->seed, report->steps, report->seconds, per_second, sim.players, sim.zones);
    fmt::print("  {} events; {} commands ({} acknowledged, {} retried, {} duplicated frames, {} "
               "answered as duplicates), {} crossings\n",
               report->events, c.commands, c.acknowledged, c.retries, c.duplicated_frames,
               c.duplicates, c.crossings);
    fmt::print("  faults: {} process crashes, {} full disks ({} commands refused) and {} power "
               "losses ({} appends lost "
               "uncommitted, {} "
               "events lost unsynced, {} of them acknowledged), {} zone crashes, {} disconnects; "
               "{} settled checks\n",
               c.process_crashes, c.disk_fulls, c.storage_errors, c.power_losses, c.lost_appends,
               c.lost_events, c.lost_acknowledged, c.zone_crashes, c.disconnects, c.settled_checks);
    fmt::print("  log_hash {}\n", report->log_hash);
    if (!report->violation) fmt::print("  0 violations\n");
  }
  if (report->violation) {
    print_violation(*report);
    throw CLI::RuntimeError(1);
  }
}

/// Seeds seed..seed+seeds-1, `jobs` at a time; each in its own temporary directory.
void run_soak(const SimCliOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> next{0};
  std::mutex mutex;
  std::vector<game::SimReport> failed;
  std::optional<std::string> error;
  std::uint64_t steps = 0;
  std::uint64_t runs = 0;
  const auto out_of_time = [&] {
    return options.seconds &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() >=
               *options.seconds;
  };
  const auto work = [&] {
    for (std::uint64_t index = next++; index < options.seeds && !out_of_time(); index = next++) {
      game::SimOptions sim = options.sim;
      sim.seed = options.sim.seed + index;
      auto report = game::simulate(sim);
      const std::lock_guard lock(mutex);
      if (!report) {
        error = fmt::format("seed {}: {}", sim.seed, report.error());
        next = options.seeds;
        return;
      }
      steps += report->steps;
      ++runs;
      if (report->violation) {
        if (!options.json) print_violation(*report);
        failed.push_back(std::move(*report));
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned job = 1; job < options.jobs; ++job)
    workers.emplace_back(work);
  work();
  for (auto& worker : workers)
    worker.join();
  if (error) fail(fmt::format("sim failed: {}", *error));
  std::sort(failed.begin(), failed.end(),
            [](const auto& a, const auto& b) { return a.seed < b.seed; });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double per_minute = seconds > 0 ? runs * 60.0 / seconds : 0;
  // Time runs out for every worker at once, so the seeds run are always seed..seed+runs-1.
  if (options.json) {
    boost::json::array broken;
    for (const auto& report : failed)
      broken.push_back(violation_json(report));
    boost::json::object out{{"first_seed", options.sim.seed},
                            {"seeds", runs},
                            {"steps", steps},
                            {"violations", failed.size()},
                            {"failed", std::move(broken)},
                            {"seconds", seconds},
                            {"seeds_per_minute", per_minute},
                            {"steps_per_second", seconds > 0 ? steps / seconds : 0}};
    fmt::print("{}\n", boost::json::serialize(out));
  } else {
    fmt::print("seeds {}..{}: {} runs of {} steps ({} players, {} zones) in {:.1f} s, {} jobs: "
               "{:.0f} seeds/min, {:.0f} steps/s; {} violations\n",
               options.sim.seed, options.sim.seed + runs - 1, runs, options.sim.steps,
               options.sim.players, options.sim.zones, seconds, options.jobs, per_minute,
               seconds > 0 ? steps / seconds : 0, failed.size());
  }
  if (!failed.empty()) throw CLI::RuntimeError(1);
}

} // namespace

void add_sim_command(CLI::App& app) {
  auto options = std::make_shared<SimCliOptions>();
  auto* sim = app.add_subcommand(
      "sim", "Simulate a whole world with injected faults, deterministically, and check it");
  sim->add_option("--seed", options->sim.seed, "Seed of the run (the first, with --seeds)")
      ->capture_default_str();
  sim->add_option("--seeds", options->seeds, "Run this many seeds, from --seed on (a soak)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sim->add_option("--steps", options->sim.steps, "Scheduler steps per run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sim->add_option("--players", options->sim.players, "Simulated players")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sim->add_option("--zones", options->sim.zones, "Zones, in a row")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sim->add_option("--check-every", options->sim.check_every,
                  "Steps between the settled checks (refolds)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sim->add_option("--seconds", options->seconds,
                  "With --seeds: start no new seed after this many seconds (a bounded soak)")
      ->check(CLI::PositiveNumber);
  sim->add_option("--jobs", options->jobs, "Seeds run at once, with --seeds")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sim->add_option("--data", options->data,
                  "Keep the log of a single run in DIR (new or empty); default: a temporary "
                  "directory, removed");
  sim->add_option("--rules", options->sim.rules_file,
                  "Rules file (docs/rules.md) the zones are created with; default: the game's");
  sim->add_flag("--json", options->json, "Print one JSON object");
  sim->callback([options] {
    if (!options->sim.rules_file.empty())
      options->sim.rules = read_rules_file(options->sim.rules_file);
    if (options->seeds > 1) {
      if (!options->data.empty()) fail("--data keeps the log of one run: not with --seeds");
      run_soak(*options);
    } else {
      run_one(*options);
    }
  });
}

} // namespace worldlog::tools

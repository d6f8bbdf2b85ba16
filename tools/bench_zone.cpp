// `worldlog bench zone`: commands through the zones of the reference game with durable acks,
// offered on a fixed schedule (open loop).
//
// Every player sends a Move `rate` times a second, at times fixed in advance; latency runs from
// the time a command was due, not from when it was actually sent, so a stalled sender does not
// hide the stall (no coordinated omission). A command counts as achieved when its outcome
// (accepted, or rejected and recorded) is durable in the log.
//
// Each run starts on a fresh log after a sync and a pause (--settle-ms), so that the run before
// is written back, and a probe times fdatasync on the log's file system beside it; with --runs R
// the figures are printed per run and as medians with their spread. What the log wrote per
// event is counted once the run's memtables are flushed and their compactions are done.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/game/model.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/ticker.hpp>
#include <worldlog/zone/zone_set.hpp>

#include "commands.hpp"
#include "disk_probe.hpp"
#include "disk_writes.hpp"
#include "latency.hpp"
#include "median.hpp"
#include "scratch_dir.hpp"
#include "stride.hpp"

namespace worldlog::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Zones = zone::ZoneSet<game::Model>;

struct ZoneBenchOptions {
  std::uint64_t players = 10'000;
  std::uint64_t rate = 10;
  std::uint64_t zones = 8;
  std::uint64_t seconds = 20;
  unsigned threads = 2;
  std::uint64_t runs = 1;
  std::uint64_t settle_ms = 5'000;
  std::string dir;
  bool json = false;
};

/// How many errors of one code were answered, and the first one's message.
struct ErrorKind {
  std::uint64_t count = 0;
  std::string first;
};

/// Counts answers and records their latency; shared with the reply callbacks.
struct Tally {
  LatencyHistogram latency;
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> errors{0};
  std::mutex error_mutex;
  /// Errors by code, each with the first message seen; under error_mutex.
  std::map<std::string_view, ErrorKind> error_kinds;
};

zone::Reply reply_into(const std::shared_ptr<Tally>& tally, SteadyClock::time_point due) {
  return [tally, due](Result<zone::Outcome> outcome) {
    tally->latency.record(SteadyClock::now() - due);
    if (!outcome.ok()) {
      tally->errors.fetch_add(1, std::memory_order_relaxed);
      const std::scoped_lock lock(tally->error_mutex);
      auto& kind = tally->error_kinds[to_string(outcome.error().code())];
      if (kind.count++ == 0) kind.first = outcome.error().message();
    } else if (outcome->accepted) {
      tally->accepted.fetch_add(1, std::memory_order_relaxed);
    } else {
      tally->rejected.fetch_add(1, std::memory_order_relaxed);
    }
    tally->answered.fetch_add(1, std::memory_order_release);
  };
}

/// Waits until `tally` has `expected` answers, or `limit` passed; returns whether it has.
bool wait_for_answers(const Tally& tally, std::uint64_t expected, std::chrono::seconds limit) {
  const auto deadline = SteadyClock::now() + limit;
  while (tally.answered.load(std::memory_order_acquire) < expected) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

/// One run's figures.
struct RunFigures {
  double achieved = 0; ///< commands/s durable
  std::uint64_t answered = 0;
  std::uint64_t total = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t errors = 0;
  std::map<std::string_view, ErrorKind> error_kinds;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
  double send_lag_p99_ms = 0;
  double send_lag_max_ms = 0;
  std::uint64_t appends = 0;
  std::uint64_t zones_without_stats = 0; ///< zones that did not answer for their append count
  std::string stats_error;               ///< the first such zone's answer
  /// p99 of each stage of a command inside the zones (zone::StageTimes), in ms.
  double mailbox_p99_ms = 0;
  double batching_p99_ms = 0;
  double log_p99_ms = 0;
  WritesPerEvent written;
  DiskProbe::Figures disk;
};

double as_ms(std::uint64_t us) { return static_cast<double>(us) / 1000; }

RunFigures run_once(const ZoneBenchOptions& options) {
  ScratchDir scratch(options.dir);
  // The run before left its table files to write back; they would land in this run's syncs.
  ::sync();
  std::this_thread::sleep_for(std::chrono::milliseconds(options.settle_ms));
  auto opened = log::EventLog::open(scratch.path() / "log", {.storage_statistics = true});
  if (!opened)
    fail(fmt::format("cannot open a log in {}: {}", scratch.path().string(), opened.error()));
  auto& log = **opened;

  runtime::SystemClock clock;
  boost::asio::thread_pool pool(options.threads);
  const auto stages = std::make_shared<zone::StageTimes>();
  Zones zones(pool.get_executor(), log, clock,
              {.zones = options.zones, .seed = 1, .zone = {.stage_times = stages}});
  auto world = zones.make_supervisor();
  world->start();
  runtime::Ticker ticker(std::chrono::microseconds(50'000), [&zones] { zones.tick_all(); });

  std::vector<game::Map> maps;
  for (zone::ZoneId z = 1; z <= options.zones; ++z) {
    maps.push_back(game::map_for({z, options.zones, 1, 50'000}));
  }
  auto zone_of = [&](std::uint64_t player) { return player % options.zones + 1; };
  auto actor_of = [](std::uint64_t player) {
    return log::Actor{log::ActorKind::player, player + 1};
  };

  // Everyone joins first (not measured).
  auto joins = std::make_shared<Tally>();
  for (std::uint64_t player = 0; player < options.players; ++player) {
    while (!zones.zone(zone_of(player)))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    static_cast<void>(zones.submit(zone_of(player), actor_of(player), 0, game::join(player + 1),
                                   reply_into(joins, SteadyClock::now())));
  }
  if (!wait_for_answers(*joins, options.players, std::chrono::seconds(60)) ||
      joins->accepted != options.players) {
    fail(fmt::format("only {} of {} players could join ({} errors)", joins->accepted.load(),
                     options.players, joins->errors.load()));
  }

  const DiskWrites disk(log); // the measured commands only, not the joins
  stages->reset();
  DiskProbe probe(scratch.path());
  // The open-loop schedule: command k is due at start + k / (players * rate).
  const std::uint64_t total = options.players * options.rate * options.seconds;
  const auto interval = std::chrono::nanoseconds(1'000'000'000 / (options.players * options.rate));
  auto tally = std::make_shared<Tally>();
  LatencyHistogram send_lag; // how late the sender itself was: a lag here is the bench's own
  const auto start = SteadyClock::now();
  for (std::uint64_t k = 0; k < total; ++k) {
    const auto due = start + interval * static_cast<std::int64_t>(k);
    if (const auto now = SteadyClock::now(); now < due) {
      std::this_thread::sleep_until(due);
    } else {
      send_lag.record(now - due);
    }
    const std::uint64_t player = k % options.players;
    const std::uint64_t round = k / options.players;
    const Stride stride = stride_for(maps[zone_of(player) - 1], player);
    const zone::Point to = round % 2 == 0 ? stride.away : stride.home;
    static_cast<void>(zones.submit(zone_of(player), actor_of(player), 0, game::move(player + 1, to),
                                   reply_into(tally, due)));
  }
  const bool complete = wait_for_answers(*tally, total, std::chrono::seconds(60));
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  probe.stop();
  ticker.stop();
  if (!complete) {
    fail(fmt::format("only {} of {} commands were answered within 60 s of the last one's send",
                     tally->answered.load(), total));
  }

  std::uint64_t appends = 0;
  std::uint64_t zones_without_stats = 0;
  std::string stats_error;
  for (zone::ZoneId z = 1; z <= options.zones; ++z) {
    auto target = zones.zone(z);
    auto stats = target
                     ? runtime::call_blocking(
                           *target, [target] { return target->stats(); }, std::chrono::seconds(10))
                     : Result<zone::ZoneStats>(make_error(Errc::not_found, "not running"));
    if (stats.ok()) {
      appends += stats->appends;
    } else if (zones_without_stats++ == 0) {
      stats_error = fmt::format("zone {}: {}", z, stats.error().message());
    }
  }
  if (Status drained = zones.drain_all(std::chrono::seconds(30)); !drained.ok()) {
    fail(fmt::format("the zones did not shut down cleanly: {}", drained.error()));
  }
  world->stop();

  const std::uint64_t answered = tally->answered.load();
  return {.achieved = static_cast<double>(answered) / elapsed,
          .answered = answered,
          .total = total,
          .accepted = tally->accepted.load(),
          .rejected = tally->rejected.load(),
          .errors = tally->errors.load(),
          .error_kinds = tally->error_kinds, // every answer is in: no reply writes it now
          .p50_ms = as_ms(tally->latency.percentile_us(0.50)),
          .p99_ms = as_ms(tally->latency.percentile_us(0.99)),
          .p999_ms = as_ms(tally->latency.percentile_us(0.999)),
          .max_ms = as_ms(tally->latency.max_us()),
          .send_lag_p99_ms = as_ms(send_lag.percentile_us(0.99)),
          .send_lag_max_ms = as_ms(send_lag.max_us()),
          .appends = appends,
          .zones_without_stats = zones_without_stats,
          .stats_error = std::move(stats_error),
          .mailbox_p99_ms = as_ms(stages->mailbox.percentile_us(0.99)),
          .batching_p99_ms = as_ms(stages->batching.percentile_us(0.99)),
          .log_p99_ms = as_ms(stages->log.percentile_us(0.99)),
          .written = disk.settled(),
          .disk = probe.figures()};
}

void print_run(const ZoneBenchOptions& options, const RunFigures& run) {
  fmt::print("  achieved   {:>12.0f} commands/s durable ({} of {} answered)\n", run.achieved,
             run.answered, run.total);
  fmt::print("  outcomes   {} accepted, {} rejected (recorded), {} errors\n", run.accepted,
             run.rejected, run.errors);
  for (const auto& [code, kind] : run.error_kinds)
    fmt::print("  errors     {} {} (the first: {})\n", kind.count, code, kind.first);
  fmt::print("  latency    p50 {:.2f} ms, p99 {:.2f} ms, p999 {:.2f} ms, max {:.2f} ms (due -> "
             "durable ack)\n",
             run.p50_ms, run.p99_ms, run.p999_ms, run.max_ms);
  fmt::print("  send lag   p99 {:.2f} ms, max {:.2f} ms (the sender's own delay, included above)\n",
             run.send_lag_p99_ms, run.send_lag_max_ms);
  fmt::print("  appends    {} ({:.1f} commands per append, joins included)\n", run.appends,
             run.appends == 0 ? 0.0
                              : static_cast<double>(run.answered + options.players) /
                                    static_cast<double>(run.appends));
  if (run.zones_without_stats > 0) {
    fmt::print("  appends    counted in {} of {} zones; the others did not answer ({})\n",
               options.zones - run.zones_without_stats, options.zones, run.stats_error);
  }
  fmt::print("  stages     p99 in the mailbox {:.2f} ms, decided to appended {:.2f} ms, appended "
             "to durable {:.2f} ms\n",
             run.mailbox_p99_ms, run.batching_p99_ms, run.log_p99_ms);
  run.written.print();
  fmt::print("  probe      fdatasync p99 {:.1f} ms, max {:.1f} ms, {} over 20 ms\n",
             run.disk.p99_ms, run.disk.max_ms, run.disk.over_20ms);
}

/// "median M (lowest–highest)" of one figure over the runs.
struct Spread {
  double median = 0;
  double low = 0;
  double high = 0;
};

template <typename Figure> Spread spread_of(const std::vector<RunFigures>& runs, Figure figure) {
  std::vector<double> values;
  for (const auto& run : runs)
    values.push_back(figure(run));
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  return {median(values), *low, *high};
}

boost::json::object to_json(const Spread& spread) {
  return {{"median", spread.median}, {"low", spread.low}, {"high", spread.high}};
}

void run_bench(const ZoneBenchOptions& options) {
  if (options.players == 0 || options.rate == 0 || options.zones == 0 || options.seconds == 0 ||
      options.runs == 0) {
    fail("--players, --rate, --zones, --seconds and --runs must be positive");
  }
  fmt::print("zone bench: {} players x {} Hz in {} zones for {} s ({} commands/s offered), {} "
             "run{}\n",
             options.players, options.rate, options.zones, options.seconds,
             options.players * options.rate, options.runs, options.runs == 1 ? "" : "s");
  std::fflush(stdout);
  std::vector<RunFigures> runs;
  for (std::uint64_t run = 1; run <= options.runs; ++run) {
    runs.push_back(run_once(options));
    fmt::print("run {}:\n", run);
    print_run(options, runs.back());
    std::fflush(stdout);
  }

  const Spread achieved = spread_of(runs, [](const RunFigures& run) { return run.achieved; });
  const Spread p50 = spread_of(runs, [](const RunFigures& run) { return run.p50_ms; });
  const Spread p99 = spread_of(runs, [](const RunFigures& run) { return run.p99_ms; });
  const Spread p999 = spread_of(runs, [](const RunFigures& run) { return run.p999_ms; });
  const Spread written = spread_of(runs, [](const RunFigures& run) { return run.written.written; });
  if (runs.size() > 1) {
    const auto line = [](std::string_view name, const Spread& spread, std::string_view unit) {
      fmt::print("  {:<10} median {:.2f}{} ({:.2f}-{:.2f})\n", name, spread.median, unit,
                 spread.low, spread.high);
    };
    fmt::print("over {} runs (median, lowest-highest):\n", runs.size());
    line("commands/s", achieved, "");
    line("p50", p50, " ms");
    line("p99", p99, " ms");
    line("p999", p999, " ms");
    line("B/event", written, "");
  }
  if (options.json) {
    boost::json::array each;
    for (const auto& run : runs) {
      boost::json::object error_kinds;
      for (const auto& [code, kind] : run.error_kinds)
        error_kinds[code] = kind.count;
      boost::json::object figures{{"commands_per_s", std::llround(run.achieved)},
                                  {"accepted", run.accepted},
                                  {"rejected", run.rejected},
                                  {"errors", run.errors},
                                  {"error_kinds", std::move(error_kinds)},
                                  {"p50_ms", run.p50_ms},
                                  {"p99_ms", run.p99_ms},
                                  {"p999_ms", run.p999_ms},
                                  {"max_ms", run.max_ms},
                                  {"appends", run.appends},
                                  {"zones_without_stats", run.zones_without_stats},
                                  {"mailbox_p99_ms", run.mailbox_p99_ms},
                                  {"batching_p99_ms", run.batching_p99_ms},
                                  {"log_p99_ms", run.log_p99_ms},
                                  {"disk_sync_p99_ms", run.disk.p99_ms},
                                  {"disk_sync_max_ms", run.disk.max_ms},
                                  {"disk_syncs_over_20ms", run.disk.over_20ms}};
      run.written.add_to(figures);
      each.push_back(std::move(figures));
    }
    const boost::json::object out{{"players", options.players},
                                  {"rate", options.rate},
                                  {"zones", options.zones},
                                  {"seconds", options.seconds},
                                  {"offered_per_s", options.players * options.rate},
                                  {"commands_per_s", to_json(achieved)},
                                  {"p50_ms", to_json(p50)},
                                  {"p99_ms", to_json(p99)},
                                  {"p999_ms", to_json(p999)},
                                  {"written_bytes_per_event", to_json(written)},
                                  {"runs", std::move(each)}};
    fmt::print("{}\n", boost::json::serialize(out));
  }
}

} // namespace

void add_bench_zone_command(CLI::App& app) {
  auto options = std::make_shared<ZoneBenchOptions>();
  auto* command = app.add_subcommand(
      "zone", "Commands/s and durable-ack latency through the zones (open loop)");
  command->add_option("--players", options->players, "Simulated players")->capture_default_str();
  command->add_option("--rate", options->rate, "Commands per second per player")
      ->capture_default_str();
  command->add_option("--zones", options->zones, "Zones")->capture_default_str();
  command->add_option("--seconds", options->seconds, "Measured seconds")->capture_default_str();
  command->add_option("--threads", options->threads, "Threads running the zones")
      ->capture_default_str();
  command->add_option("--runs", options->runs, "Runs, each on a fresh log")->capture_default_str();
  command
      ->add_option("--settle-ms", options->settle_ms,
                   "Pause after syncing, before each run, for the disk to settle")
      ->capture_default_str();
  command->add_option("--dir", options->dir,
                      "Parent directory of the scratch log (default: TMPDIR)");
  command->add_flag("--json", options->json, "Print a JSON object as the last line");
  command->callback([options] { run_bench(*options); });
}

} // namespace worldlog::tools

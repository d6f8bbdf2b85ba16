// `worldlog bench zone`: commands through the zones of the reference game with durable acks,
// offered on a fixed schedule (open loop).
//
// Every player sends a Move `rate` times a second, at times fixed in advance; latency runs from
// the time a command was due, not from when it was actually sent, so a stalled sender does not
// hide the stall (no coordinated omission). A command counts as achieved when its outcome
// (accepted, or rejected and recorded) is durable in the log.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
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
#include "disk_writes.hpp"
#include "latency.hpp"
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
  std::string dir;
  bool json = false;
};

/// Counts answers and records their latency; shared with the reply callbacks.
struct Tally {
  LatencyHistogram latency;
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> errors{0};
};

zone::Reply reply_into(const std::shared_ptr<Tally>& tally, SteadyClock::time_point due) {
  return [tally, due](Result<zone::Outcome> outcome) {
    tally->latency.record(SteadyClock::now() - due);
    if (!outcome.ok()) {
      tally->errors.fetch_add(1, std::memory_order_relaxed);
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

void run_bench(const ZoneBenchOptions& options) {
  if (options.players == 0 || options.rate == 0 || options.zones == 0 || options.seconds == 0) {
    fail("--players, --rate, --zones and --seconds must be positive");
  }
  ScratchDir scratch(options.dir);
  auto opened = log::EventLog::open(scratch.path() / "log", {.storage_statistics = true});
  if (!opened)
    fail(fmt::format("cannot open a log in {}: {}", scratch.path().string(), opened.error()));
  auto& log = **opened;

  runtime::SystemClock clock;
  boost::asio::thread_pool pool(options.threads);
  Zones zones(pool.get_executor(), log, clock, {.zones = options.zones, .seed = 1});
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
  ticker.stop();

  std::uint64_t appends = 0;
  for (zone::ZoneId z = 1; z <= options.zones; ++z) {
    auto target = zones.zone(z);
    if (!target) continue;
    auto stats = runtime::call_blocking(
        *target, [target] { return target->stats(); }, std::chrono::seconds(10));
    if (stats.ok()) appends += stats->appends;
  }
  if (Status drained = zones.drain_all(std::chrono::seconds(30)); !drained.ok()) {
    fail(fmt::format("the zones did not shut down cleanly: {}", drained.error()));
  }
  world->stop();

  const std::uint64_t answered = tally->answered.load();
  const double offered = static_cast<double>(options.players * options.rate);
  const double achieved = static_cast<double>(answered) / elapsed;
  const auto p50 = tally->latency.percentile_us(0.50);
  const auto p99 = tally->latency.percentile_us(0.99);
  const auto p999 = tally->latency.percentile_us(0.999);
  fmt::print("zone bench: {} players x {} Hz in {} zones for {} s ({:.0f} commands/s offered)\n",
             options.players, options.rate, options.zones, options.seconds, offered);
  fmt::print("  achieved   {:>12.0f} commands/s durable ({} of {} answered{})\n", achieved,
             answered, total, complete ? "" : ", gave up waiting");
  fmt::print("  outcomes   {} accepted, {} rejected (recorded), {} errors\n",
             tally->accepted.load(), tally->rejected.load(), tally->errors.load());
  fmt::print("  latency    p50 {} µs, p99 {} µs, p999 {} µs, max {} µs (due -> durable ack)\n", p50,
             p99, p999, tally->latency.max_us());
  fmt::print("  send lag   p99 {} µs, max {} µs (the sender's own delay, included above)\n",
             send_lag.percentile_us(0.99), send_lag.max_us());
  fmt::print("  appends    {} ({:.1f} commands per append, joins included)\n", appends,
             appends == 0 ? 0.0 : static_cast<double>(answered + options.players) / appends);
  const WritesPerEvent written = disk.since_mark();
  written.print();
  if (options.json) {
    boost::json::object out{{"players", options.players},
                            {"rate", options.rate},
                            {"zones", options.zones},
                            {"seconds", options.seconds},
                            {"offered_per_s", options.players * options.rate},
                            {"commands_per_s", std::llround(achieved)},
                            {"accepted", tally->accepted.load()},
                            {"rejected", tally->rejected.load()},
                            {"errors", tally->errors.load()},
                            {"p50_us", p50},
                            {"p99_us", p99},
                            {"p999_us", p999},
                            {"max_us", tally->latency.max_us()},
                            {"appends", appends}};
    written.add_to(out);
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
  command->add_option("--dir", options->dir,
                      "Parent directory of the scratch log (default: TMPDIR)");
  command->add_flag("--json", options->json, "Print a JSON object as the last line");
  command->callback([options] { run_bench(*options); });
}

} // namespace worldlog::tools

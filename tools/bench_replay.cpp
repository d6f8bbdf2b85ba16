// `worldlog bench replay`: how fast a zone's log folds back into its state.
//
// Builds one zone's log of N events by running the reference game for real (players moving and
// talking, mobs on their ticks, a snapshot every 10,000 events as the zone takes them), then
// measures in the same run:
//   - a raw RocksDB scan of the stream's records (the floor: no decoding at all);
//   - the log's scan of the stream (each record's hash and envelope checked);
//   - a full refold from seq 1 (records hash-checked and decoded on a second thread, evolved
//     on this one), and the same on one thread with the hashes trusted
//     (log::RecordCheck::envelope);
//   - `state_at` for random seqs (nearest snapshot + fold of the tail).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <rocksdb/db.h>

#include <worldlog/game/map.hpp>
#include <worldlog/game/model.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/ticker.hpp>
#include <worldlog/zone/zone_set.hpp>

#include "commands.hpp"
#include "median.hpp"
#include "scratch_dir.hpp"
#include "stride.hpp"

namespace worldlog::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Zones = zone::ZoneSet<game::Model>;

struct ReplayBenchOptions {
  std::uint64_t events = 2'000'000;
  std::uint64_t samples = 101; ///< random seqs for state_at
  std::uint64_t rounds = 5;    ///< of the scans and refolds
  std::string dir;
  bool json = false;
};

constexpr zone::ZoneId bench_zone = 1;
constexpr std::uint64_t players = 10'000;
/// Commands sent ahead of their answers. A game server's mailboxes are shallow; a deep one would
/// also hold back the zone's durable callbacks, and so its snapshots, behind the queue.
constexpr std::uint64_t in_flight = 1024;

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

/// Runs the reference game in one zone until its stream holds `events` events. The players
/// step to and fro (every 16th command is a chat line), so every command is legal and the
/// mobs act on the zone's ticks in between.
void build_log(log::EventLog& log, std::uint64_t events) {
  runtime::SystemClock clock;
  boost::asio::thread_pool pool(1);
  // Every snapshot is kept (a zone keeps 3 by default), so state_at can start near any seq.
  Zones zones(
      pool.get_executor(), log, clock,
      {.zones = 1, .seed = 1, .zone = {.keep_snapshots = std::numeric_limits<std::size_t>::max()}});
  auto world = zones.make_supervisor();
  world->start();
  runtime::Ticker ticker(std::chrono::microseconds(50'000), [&zones] { zones.tick_all(); });
  while (!zones.zone(bench_zone))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  const game::Map map = game::map_for({bench_zone, 1, 1, 50'000});
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::uint64_t> errors{0};
  const auto reply = [&](Result<zone::Outcome> outcome) {
    if (!outcome.ok()) errors.fetch_add(1, std::memory_order_relaxed);
    answered.fetch_add(1, std::memory_order_release);
  };
  std::uint64_t sent = 0;
  const auto send = [&](const game::Command& command, std::uint64_t player) {
    while (sent - answered.load(std::memory_order_acquire) >= in_flight)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    static_cast<void>(zones.submit(bench_zone, log::Actor{log::ActorKind::player, player + 1}, 0,
                                   command, reply));
    ++sent;
  };
  for (std::uint64_t player = 0; player < players; ++player)
    send(game::join(player + 1), player);
  for (std::uint64_t k = 0; log.head(bench_zone) < events; ++k) {
    const std::uint64_t player = k % players;
    if (k % 16 == 15) {
      send(game::say(player + 1, "anyone for the wolves by the river?"), player);
    } else {
      const Stride stride = stride_for(map, player);
      send(game::move(player + 1, (k / players) % 2 == 0 ? stride.away : stride.home), player);
    }
  }
  while (answered.load(std::memory_order_acquire) < sent)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ticker.stop();
  if (Status drained = zones.drain_all(std::chrono::seconds(60)); !drained.ok()) {
    fail(fmt::format("the zone did not shut down cleanly: {}", drained.error()));
  }
  world->stop();
  if (errors.load() != 0) fail(fmt::format("{} commands failed while building the log", errors));
}

/// Reads every record of the bench zone's stream straight from RocksDB, touching each byte
/// once (a checksum of the values), after the log is closed. The floor under any fold.
double raw_scan_eps(const std::filesystem::path& dir, std::uint64_t expected) {
  std::vector<std::string> names;
  if (auto listed = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names);
      !listed.ok()) {
    fail(fmt::format("cannot list the column families of {}: {}", dir.string(), listed.ToString()));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (auto opened = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir.string(), descriptors,
                                                 &handles, &raw);
      !opened.ok()) {
    fail(fmt::format("cannot open {} read-only: {}", dir.string(), opened.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const auto events_cf = std::find(names.begin(), names.end(), "events") - names.begin();

  // Keys are the stream then the seq, both big-endian; the zone is the only stream. Read as the
  // log's own scans read (no block cache fill), so the difference is the log's and the
  // model's work, not RocksDB's settings.
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  const auto start = SteadyClock::now();
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(read, handles[static_cast<std::size_t>(events_cf)]));
  std::uint64_t records = 0;
  std::uint64_t checksum = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto value = it->value();
    for (std::size_t i = 0; i < value.size(); i += 8)
      checksum += static_cast<unsigned char>(value[i]);
    ++records;
  }
  const double elapsed = seconds_since(start);
  if (!it->status().ok()) fail(fmt::format("raw scan failed: {}", it->status().ToString()));
  it.reset();
  for (auto* handle : handles)
    db->DestroyColumnFamilyHandle(handle);
  if (records != expected || checksum == 0) {
    fail(fmt::format("the raw scan saw {} records; the stream has {}", records, expected));
  }
  return static_cast<double>(records) / elapsed;
}

void run_bench(const ReplayBenchOptions& options) {
  if (options.events < 20'000) fail("--events must be at least 20000 (two snapshots)");
  ScratchDir scratch(options.dir);
  const auto dir = scratch.path() / "log";

  const auto build_start = SteadyClock::now();
  std::uint64_t head = 0;
  {
    auto opened = log::EventLog::open(dir);
    if (!opened) fail(fmt::format("cannot open a log in {}: {}", dir.string(), opened.error()));
    build_log(**opened, options.events);
    head = (*opened)->head(bench_zone);
  }
  const double build_seconds = seconds_since(build_start);

  // Opened as the replay tools open a log: read-only, so no compaction competes for the cores.
  auto opened = log::EventLog::open(dir, {.create_if_missing = false, .read_only = true});
  if (!opened) fail(fmt::format("cannot reopen {}: {}", dir.string(), opened.error()));
  const replay::Replayer<game::Model> replayer(**opened, bench_zone);
  const replay::Replayer<game::Model> trusting(**opened, bench_zone, replay::Progress{},
                                               log::RecordCheck::envelope);

  // The log's own scan (each record's hash and envelope checked, nothing decoded): what the
  // fold pays for reading, as opposed to decoding and evolving.
  const auto log_scan_eps = [&] {
    const auto start = SteadyClock::now();
    std::uint64_t read = 0;
    if (auto scanned = (*opened)->scan_stream(
            bench_zone, 1, head, [&read](const log::EventView&) { return ++read > 0; });
        !scanned.ok()) {
      fail(fmt::format("scanning the stream failed: {}", scanned.error()));
    }
    return static_cast<double>(read) / seconds_since(start);
  };
  const auto refold_eps = [](const replay::Replayer<game::Model>& folding) {
    const auto start = SteadyClock::now();
    auto folded = folding.fold_from_scratch(log::end_seq);
    const double elapsed = seconds_since(start);
    if (!folded.ok()) fail(fmt::format("refold failed: {}", folded.error()));
    return static_cast<double>(folded->seq) / elapsed;
  };

  // Rounds of every measurement side by side: a shared machine's speed drifts by a quarter
  // from one second to the next, so each ratio compares figures taken moments apart, and the
  // medians are reported.
  std::vector<double> scans, reads, folds, trusted_folds, ratios, trusted_ratios;
  for (std::uint64_t round = 0; round < options.rounds; ++round) {
    scans.push_back(raw_scan_eps(dir, head));
    reads.push_back(log_scan_eps());
    folds.push_back(refold_eps(replayer));
    trusted_folds.push_back(refold_eps(trusting));
    ratios.push_back(folds.back() / scans.back());
    trusted_ratios.push_back(trusted_folds.back() / scans.back());
    if (!options.json) {
      fmt::print(
          "  round {}: raw scan {:.0f}/s, refold {:.0f}/s (ratio {:.3f}), trusted {:.0f}/s\n",
          round + 1, scans.back(), folds.back(), ratios.back(), trusted_folds.back());
    }
  }
  const double scan_eps = median(scans);
  const double read_eps = median(reads);
  const double fold_eps = median(folds);
  const double trusted_eps = median(trusted_folds);
  const double ratio = median(ratios);
  const double trusted_ratio = median(trusted_ratios);

  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::uint64_t> pick(1, head);
  std::vector<double> state_at_ms;
  std::uint64_t tail_events = 0;
  for (std::uint64_t i = 0; i < options.samples; ++i) {
    const log::Seq seq = pick(random);
    const auto start = SteadyClock::now();
    auto state = replayer.state_at(seq);
    state_at_ms.push_back(seconds_since(start) * 1000.0);
    if (!state.ok()) fail(fmt::format("state_at({}) failed: {}", seq, state.error()));
    if (state->seq != seq) fail(fmt::format("state_at({}) gave the state at {}", seq, state->seq));
    tail_events += state->folded;
  }
  std::sort(state_at_ms.begin(), state_at_ms.end());
  const double median_ms = state_at_ms[state_at_ms.size() / 2];
  const double max_ms = state_at_ms.back();

  fmt::print("replay bench: one zone, {} events (built in {:.1f} s by the reference game); "
             "scans and refolds are medians of {} rounds\n",
             head, build_seconds, options.rounds);
  fmt::print("  raw scan   {:>12.0f} records/s (RocksDB iterator, no decoding)\n", scan_eps);
  fmt::print("  log scan   {:>12.0f} events/s (hash and envelope checked, not decoded)\n",
             read_eps);
  fmt::print(
      "  refold     {:>12.0f} events/s from seq 1 (hashes checked, decoded, evolved: 2 threads); "
      "ratio to the raw scan {:.3f}\n",
      fold_eps, ratio);
  fmt::print("  trusted    {:>12.0f} events/s from seq 1 (one thread, envelopes only, hashes left "
             "to verify); "
             "ratio {:.3f}\n",
             trusted_eps, trusted_ratio);
  fmt::print("  state_at   median {:.2f} ms, max {:.2f} ms over {} random seqs ({:.0f} events "
             "folded on average after the snapshot)\n",
             median_ms, max_ms, options.samples,
             static_cast<double>(tail_events) / static_cast<double>(options.samples));
  if (options.json) {
    boost::json::object out{{"events", head},
                            {"scan_eps", std::llround(scan_eps)},
                            {"read_eps", std::llround(read_eps)},
                            {"fold_eps", std::llround(fold_eps)},
                            {"trusted_fold_eps", std::llround(trusted_eps)},
                            {"trusted_ratio", std::round(trusted_ratio * 1000.0) / 1000.0},
                            {"ratio", std::round(ratio * 1000.0) / 1000.0},
                            {"state_at_ms", std::round(median_ms * 100.0) / 100.0},
                            {"state_at_max_ms", std::round(max_ms * 100.0) / 100.0}};
    fmt::print("{}\n", boost::json::serialize(out));
  }
}

} // namespace

void add_bench_replay_command(CLI::App& app) {
  auto options = std::make_shared<ReplayBenchOptions>();
  auto* command =
      app.add_subcommand("replay", "Refold and state_at speed against a raw RocksDB scan");
  command->add_option("--events", options->events, "Events in the zone's log")
      ->capture_default_str();
  command->add_option("--samples", options->samples, "Random seqs timed with state_at")
      ->capture_default_str();
  command->add_option("--rounds", options->rounds, "Rounds of the scans and refolds (medians)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--dir", options->dir,
                      "Parent directory of the scratch log (default: TMPDIR)");
  command->add_flag("--json", options->json, "Print a JSON object as the last line");
  command->callback([options] { run_bench(*options); });
}

} // namespace worldlog::tools

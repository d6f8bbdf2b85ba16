// `worldlog demo`: the reference game as a running world, played by bots.
//
// The world (zones, presence and chat under one root supervisor) runs on the system clock, a
// ticker advancing its zones every tick. Every player is a `game::Bot`: subscribed as a viewer
// of its zone (and of the next one after a handoff), it sees what its player sees and acts every
// 150-300 ms; now and then it also talks on a chat channel. After --seconds, or at Ctrl-C, the
// bots log out, the world shuts down cleanly (a snapshot per zone), and the summary is read back
// from the log, whose every stream's hash chain is then verified. A second run over the same
// --data continues the same world.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <worldlog/game/bot.hpp>
#include <worldlog/game/world.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/ticker.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/records.hpp>

#include "commands.hpp"
#include "fault.hpp"
#include "latency.hpp"
#include "rules_file.hpp"

namespace worldlog::tools {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using game::EntityId;
using game::ZoneId;

struct DemoOptions {
  std::string data = "./worldlog-data";
  std::uint64_t seconds = 10;
  std::uint64_t zones = 4;
  std::uint64_t players = 200;
  std::uint64_t seed = 1;
  std::optional<std::uint32_t> mobs; ///< mob spawn points per zone; none = the rules' default
  std::string fault;                 ///< --fault (fault.hpp), or empty
  std::string rules_file;            ///< --rules: a rules file (docs/rules.md), or empty
  std::string rules;                 ///< its canonical text, read before the log is opened
  /// --view: once played, serve the viewer on the log at this HOST:PORT (`worldlog view`)
  std::optional<std::string> view;
  /// The zones' model config that --mobs asks for (ZoneInfo::model_config).
  [[nodiscard]] std::string model_config() const {
    return mobs ? game::model_config(*mobs) : std::string();
  }
};

constexpr std::uint64_t tick_us = 50'000;
constexpr std::array<std::string_view, 3> channels{"world", "trade", "lfg"};
constexpr std::array<std::string_view, 6> channel_lines{"wts pelts, cheap",       "lfg wolves east",
                                                        "where is the waypoint?", "selling potions",
                                                        "anyone in zone 2?",      "gg all"};
/// One chat post per this many turns of a player, on average.
constexpr std::uint64_t turns_per_post = 40;

// ---- Ctrl-C --------------------------------------------------------------------------------

static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int signal) {
  interrupted.store(true);
  std::signal(signal, SIG_DFL); // a second Ctrl-C ends the process at once
}

/// Turns SIGINT and SIGTERM into a request to stop early while it lives.
class InterruptScope {
public:
  InterruptScope()
      : previous_int_(std::signal(SIGINT, on_interrupt)),
        previous_term_(std::signal(SIGTERM, on_interrupt)) {}
  ~InterruptScope() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

private:
  using Handler = void (*)(int);
  Handler previous_int_;
  Handler previous_term_;
};

// ---- the players -----------------------------------------------------------------------------

/// One player: its bot and the zone it watches. The mutex is taken by the driver thread (to
/// ask the bot for a command), the zones' strands (broadcasts) and the log's commit thread
/// (answers).
struct Seat {
  Seat(EntityId player, const zone::ZoneInfo& home, std::string_view second_channel)
      : id(player), channel(second_channel), bot(player, home) {}

  const EntityId id;
  const std::string_view channel; ///< its chat channel besides "world"
  std::mutex mutex;
  game::Bot bot;              ///< guarded by mutex
  ZoneId watching = 0;        ///< the zone it is a viewer of; guarded by mutex
  std::uint64_t commands = 0; ///< sent so far; the driver thread only
};

/// What the players' commands came to; written from any thread.
struct Tally {
  LatencyHistogram latency; ///< command sent -> durable answer
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> accepted{0};
  mutable std::mutex mutex;
  std::map<game::Reject, std::uint64_t> refused; ///< guarded by mutex
  std::map<Errc, std::uint64_t> lost;            ///< guarded by mutex

  void count(const Result<zone::Outcome>& outcome, SteadyClock::duration waited) {
    if (outcome.ok()) latency.record(waited);
    if (outcome.ok() && outcome->accepted) {
      accepted.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const std::lock_guard lock(mutex);
    if (outcome.ok()) {
      ++refused[static_cast<game::Reject>(outcome->code)];
    } else {
      ++lost[outcome.error().code()];
    }
  }
};

/// What the world looked like at the end of play, before the bots logged out.
struct Census {
  std::map<ZoneId, std::size_t> online;
  std::uint64_t snapshots = 0; ///< taken by the zones while playing
  world::ChatStats chat;
};

// ---- the run ---------------------------------------------------------------------------------

class Demo {
public:
  Demo(const DemoOptions& options, log::EventLog& log,
       std::function<bool(ZoneId, const game::Command&)> drop)
      : options_(options), log_(log), drop_(std::move(drop)) {}
  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  /// Starts the world, plays until the time is up or Ctrl-C, logs everyone out and shuts the
  /// world down. Returns how long play lasted.
  SteadyClock::duration run() {
    game::WorldOptions world_options{.zones = options_.zones,
                                     .seed = options_.seed,
                                     .tick_us = tick_us,
                                     .model_config = options_.model_config(),
                                     .rules = options_.rules};
    world_options.drop = drop_;
    world_ =
        std::make_unique<game::World>(pool_.get_executor(), log_, clock_, std::move(world_options));
    if (Status started = world_->start(); !started.ok())
      fail(fmt::format("the world did not start: {}", started.error()));
    // Zones of an earlier run under other rules adopt these, and their logs say so.
    if (!options_.rules.empty()) patch_rules(*world_, options_.zones, options_.rules);
    ghosts_ = world_->logged_out_on_start();
    runtime::Ticker ticker(std::chrono::microseconds(tick_us), [this] { world_->tick(); });
    seat_players();

    const auto start = SteadyClock::now();
    drive(start + std::chrono::seconds(options_.seconds), 150ms, 300ms,
          [] { return interrupted.load(); });
    const auto played = SteadyClock::now() - start;
    census_ = take_census();

    for (auto& seat : seats_) {
      const std::lock_guard lock(seat->mutex);
      seat->bot.log_out();
    }
    drive(SteadyClock::now() + 10s, 20ms, 40ms, [this] { return everyone_left(); });
    ticker.stop();
    if (Status stopped = world_->shutdown(30s); !stopped.ok())
      fmt::print(stderr, "worldlog: the world did not shut down cleanly: {}\n", stopped.error());
    return played;
  }

  [[nodiscard]] const Tally& tally() const noexcept { return tally_; }
  [[nodiscard]] const Census& census() const noexcept { return census_; }
  /// Players an earlier run left online (it was killed, say), logged out as the world started.
  [[nodiscard]] std::size_t world_ghosts() const noexcept { return ghosts_; }

private:
  using GameZone = zone::Zone<game::Model>;

  [[nodiscard]] std::uint64_t tick_now() const {
    return static_cast<std::uint64_t>(clock_.now_us()) / tick_us;
  }

  void seat_players() {
    auto chat = world_->chat();
    for (EntityId id = 1; id <= options_.players; ++id) {
      // Where the player's character is: it resumes there (a new one starts in its home zone).
      const ZoneId home = world_->zone_of(id);
      auto seat =
          std::make_shared<Seat>(id,
                                 zone::ZoneInfo{home, options_.zones, options_.seed, tick_us,
                                                options_.model_config(), options_.rules},
                                 channels[1 + id % (channels.size() - 1)]);
      if (chat) {
        // Bots do not read channel chat (no listener); the chat actor still counts deliveries.
        static_cast<void>(chat->join(std::string(channels[0]), id, nullptr));
        static_cast<void>(chat->join(std::string(seat->channel), id, nullptr));
      }
      seats_.push_back(std::move(seat));
    }
    for (ZoneId zone = 1; zone <= options_.zones; ++zone)
      incarnations_[zone] = world_->zones().zone(zone);
  }

  /// Gives every player a turn every [gap_min, gap_max] until `until`, or until `done()`.
  void drive(SteadyClock::time_point until, std::chrono::milliseconds gap_min,
             std::chrono::milliseconds gap_max, const std::function<bool()>& done) {
    using Turn = std::pair<SteadyClock::time_point, std::size_t>;
    std::priority_queue<Turn, std::vector<Turn>, std::greater<>> turns;
    const auto gap = [&] {
      return std::chrono::milliseconds(rng_.between(gap_min.count(), gap_max.count()));
    };
    const auto now = SteadyClock::now();
    for (std::size_t i = 0; i < seats_.size(); ++i)
      turns.emplace(now + gap(), i);
    auto next_look = now;        // at `done()`, which may be costly
    auto next_follow = now + 1s; // at restarted zones
    while (!turns.empty()) {
      const auto [due, index] = turns.top();
      if (due >= until) return;
      if (due >= next_look) {
        if (done()) return;
        next_look = due + 20ms;
      }
      if (SteadyClock::now() < due) {
        // Short naps, so that Ctrl-C is noticed at once.
        std::this_thread::sleep_until(std::min(due, SteadyClock::now() + 20ms));
        continue;
      }
      turns.pop();
      take_turn(seats_[index]);
      turns.emplace(due + gap(), index);
      if (due >= next_follow) {
        follow_restarted_zones();
        next_follow = due + 1s;
      }
    }
  }

  void take_turn(const std::shared_ptr<Seat>& seat) {
    std::optional<game::Command> command;
    ZoneId zone = 0;
    bool online = false;
    {
      const std::lock_guard lock(seat->mutex);
      watch(seat);
      command = seat->bot.next(tick_now(), rng_);
      zone = seat->bot.zone();
      online = seat->bot.view().joined && !seat->bot.logged_out();
    }
    if (command) {
      tally_.sent.fetch_add(1, std::memory_order_relaxed);
      static_cast<void>(world_->submit(zone, {log::ActorKind::player, seat->id}, command_id(*seat),
                                       std::move(*command), answer(seat, SteadyClock::now())));
    }
    if (online && rng_.below(turns_per_post) == 0) post(*seat);
  }

  /// What to do with the answer to a command of `seat` sent at `sent`.
  zone::Reply answer(std::shared_ptr<Seat> seat, SteadyClock::time_point sent) {
    return [this, seat = std::move(seat), sent](Result<zone::Outcome> outcome) {
      tally_.count(outcome, SteadyClock::now() - sent);
      const std::lock_guard lock(seat->mutex);
      seat->bot.on_outcome(outcome, tick_now());
      // After a departure: watch the destination now, before the zone hands the player over
      // (which it does only after this answer), so that the bot sees itself arrive.
      watch(seat);
    };
  }

  /// A command id this player never used before, also in earlier runs: the zones remember
  /// recent ids (in their snapshots too) and would answer a reused one as a retry. The run's
  /// start in ms (41 bits) above 20 bits of count: a million commands per player and run.
  std::uint64_t command_id(Seat& seat) { return (run_id_ << 20) | (++seat.commands & 0xf'ffff); }

  void post(const Seat& seat) {
    auto chat = world_->chat();
    if (!chat) return;
    const std::string_view channel = rng_.below(2) == 0 ? channels[0] : seat.channel;
    static_cast<void>(chat->post(std::string(channel), seat.id,
                                 std::string(channel_lines[rng_.below(channel_lines.size())])));
  }

  /// Makes the seat a viewer of the zone its bot is in, if it is not already.
  /// REQUIRES: seat->mutex is held.
  void watch(const std::shared_ptr<Seat>& seat) {
    const ZoneId zone = seat->bot.zone();
    if (zone == seat->watching) return;
    if (auto old = world_->zones().zone(seat->watching))
      static_cast<void>(old->unsubscribe(seat->id));
    auto target = world_->zones().zone(zone);
    if (!target) return; // restarting: the next turn tries again
    const auto sink = [seat](const zone::Broadcast<game::Event>& broadcast) {
      const std::lock_guard lock(seat->mutex);
      seat->bot.see(broadcast);
    };
    if (target->subscribe(seat->id, seat->bot.view().me.at, sink).ok()) seat->watching = zone;
  }

  /// A restarted zone has no viewers: its players subscribe again.
  void follow_restarted_zones() {
    for (auto& [zone, known] : incarnations_) {
      auto current = world_->zones().zone(zone);
      if (!current || current == known.lock()) continue;
      known = current;
      for (auto& seat : seats_) {
        const std::lock_guard lock(seat->mutex);
        if (seat->watching != zone) continue;
        seat->watching = 0;
        watch(seat);
      }
    }
  }

  [[nodiscard]] bool everyone_left() {
    return std::all_of(seats_.begin(), seats_.end(), [](const auto& seat) {
      const std::lock_guard lock(seat->mutex);
      return seat->bot.logged_out();
    });
  }

  Census take_census() {
    Census census;
    if (auto presence = world_->presence()) {
      auto online = runtime::call_blocking(
          *presence, [presence] { return presence->by_zone(); }, 10s);
      if (online.ok()) census.online = std::move(*online);
    }
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      auto target = world_->zones().zone(zone);
      if (!target) continue;
      auto stats = runtime::call_blocking(
          *target, [target] { return target->stats(); }, 10s);
      if (stats.ok()) census.snapshots += stats->snapshots;
    }
    if (auto chat = world_->chat()) {
      auto stats = runtime::call_blocking(
          *chat, [chat] { return chat->stats(); }, 10s);
      if (stats.ok()) census.chat = *stats;
    }
    return census;
  }

  const DemoOptions options_;
  log::EventLog& log_;
  const std::function<bool(ZoneId, const game::Command&)> drop_; ///< --fault; empty: none
  runtime::SystemClock clock_;
  /// Ids of this run's commands start here: milliseconds since the epoch, so a later run
  /// starts above every id an earlier one used.
  const std::uint64_t run_id_ = static_cast<std::uint64_t>(clock_.now_us() / 1000);
  zone::Rng rng_{run_id_}; ///< the driver thread's whims
  Tally tally_;            ///< outlives the world, whose callbacks write it
  std::vector<std::shared_ptr<Seat>> seats_;
  std::map<ZoneId, std::weak_ptr<GameZone>> incarnations_; ///< driver thread only
  Census census_;
  std::size_t ghosts_ = 0;
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<game::World> world_; ///< last: stopped before the pool and seats go
};

// ---- the summary ---------------------------------------------------------------------------

/// Events of this run, read back from the log.
struct Readback {
  std::uint64_t events = 0;
  std::map<std::string, std::uint64_t> by_type;
  std::map<std::string, std::uint64_t> refused; ///< CommandRejected records by reason
  std::uint64_t handoffs = 0;                   ///< Arrived events
};

Readback read_back(const log::EventLog& log, log::Position after) {
  Readback read;
  Status failed;
  const Status scanned = log.scan_all(
      after + 1, std::numeric_limits<std::size_t>::max(), [&](const log::EventView& event) {
        ++read.events;
        const std::uint32_t type = event.payload_type();
        if (type == zone::genesis_payload_type) {
          ++read.by_type["ZoneCreated"];
        } else if (type == zone::command_rejected_payload_type) {
          ++read.by_type["CommandRejected"];
          auto rejected = zone::decode_command_rejected(event.payload());
          if (!rejected.ok()) {
            failed = std::move(rejected).error();
            return false;
          }
          ++read.refused[std::string(game::to_string(static_cast<game::Reject>(rejected->code)))];
        } else {
          auto decoded = zone::decode_model_event<game::Model>(event);
          if (!decoded.ok()) {
            failed = std::move(decoded).error();
            return false;
          }
          for (const game::Event& model_event : *decoded) {
            ++read.by_type[std::string(game::Model::event_name(model_event))];
            read.handoffs += std::holds_alternative<game::Arrived>(model_event) ? 1 : 0;
          }
        }
        return true;
      });
  if (!scanned.ok())
    fail(fmt::format("reading this run's events back failed: {}", scanned.error()));
  if (!failed.ok()) fail(fmt::format("an event of this run does not decode: {}", failed.error()));
  return read;
}

/// "a 3 · b 2 · c 1", largest first, wrapped into lines of at most `width` after `indent`.
std::string counts_line(const std::map<std::string, std::uint64_t>& counts, std::size_t indent,
                        std::size_t width = 96) {
  std::vector<std::pair<std::string, std::uint64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  std::size_t column = indent;
  for (const auto& [name, count] : sorted) {
    const std::string item = fmt::format("{} {}", name, count);
    if (!out.empty()) {
      if (column + 3 + item.size() > width) {
        out += "\n" + std::string(indent, ' ');
        column = indent;
      } else {
        out += " · ";
        column += 3;
      }
    }
    out += item;
    column += item.size();
  }
  return out.empty() ? "none" : out;
}

double per_second(std::uint64_t count, SteadyClock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

/// A log made by an earlier run is continued only with its zone count and seed: another would
/// give other maps, and the zones would refuse to start.
void check_same_world(const log::EventLog& log, const DemoOptions& options) {
  for (const log::StreamId stream : log.streams()) {
    auto first = log.read_stream(stream, 1, 1);
    if (!first.ok()) fail(fmt::format("cannot read stream {}: {}", stream, first.error()));
    auto genesis = first->empty() ? Result<zone::Genesis>(make_error(Errc::not_found, "empty"))
                                  : zone::decode_genesis(first->front().payload());
    if (!genesis.ok() || genesis->model != game::Model::name) {
      fail(fmt::format("{} holds a log that is not a world of the reference game (stream {}); "
                       "use another --data",
                       options.data, stream));
    }
    const zone::ZoneInfo& was = genesis->info;
    if (was.zone_count != options.zones || was.seed != options.seed || was.tick_us != tick_us ||
        was.model_config != options.model_config()) {
      const std::string mobs =
          was.model_config.empty() ? std::string() : " --" + std::string(was.model_config);
      fail(fmt::format("{} holds a world of {} zones with seed {}{}; run with --zones {} --seed "
                       "{}{} to continue it, or use another --data",
                       options.data, was.zone_count, was.seed,
                       was.model_config.empty() ? "" : fmt::format(" and {}", was.model_config),
                       was.zone_count, was.seed, mobs));
    }
  }
}

/// Counts keyed by name, for counts_line.
template <typename Key, typename Name>
std::map<std::string, std::uint64_t> by_name(const std::map<Key, std::uint64_t>& counts,
                                             Name name) {
  std::map<std::string, std::uint64_t> named;
  for (const auto& [key, count] : counts)
    named[std::string(name(key))] += count;
  return named;
}

std::uint64_t total(const std::map<std::string, std::uint64_t>& counts) {
  std::uint64_t sum = 0;
  for (const auto& [name, count] : counts)
    sum += count;
  return sum;
}

std::uint64_t count_of(const std::map<std::string, std::uint64_t>& counts, const std::string& key) {
  const auto found = counts.find(key);
  return found == counts.end() ? 0 : found->second;
}

void print_summary(const DemoOptions& options, const log::EventLog& log, log::Position before,
                   const Demo& demo, SteadyClock::duration played, const Readback& read) {
  const Tally& tally = demo.tally();
  const Census& census = demo.census();
  if (interrupted)
    fmt::print("  (interrupted after {:.1f} s)\n", std::chrono::duration<double>(played).count());
  if (demo.world_ghosts() > 0)
    fmt::print("  ({} players left online by an earlier run were logged out first: "
               "session_lost)\n",
               demo.world_ghosts());

  std::map<std::string, std::uint64_t> refused;
  std::map<std::string, std::uint64_t> lost;
  {
    const std::lock_guard lock(tally.mutex);
    refused = by_name(tally.refused, [](game::Reject code) { return game::to_string(code); });
    lost = by_name(tally.lost, [](Errc code) { return to_string(code); });
  }
  const std::uint64_t sent = tally.sent.load();
  fmt::print("commands  {} sent ({:.0f}/s): {} accepted, {} refused, {} lost{}\n", sent,
             per_second(sent, played), tally.accepted.load(), total(refused), total(lost),
             lost.empty() ? "" : " (" + counts_line(lost, 0, 1000) + ")");
  fmt::print("          refused: {}\n", counts_line(refused, 19));
  fmt::print("latency   p50 {:.1f} ms · p99 {:.1f} ms · max {:.1f} ms (sent -> durable answer)\n",
             static_cast<double>(tally.latency.percentile_us(0.50)) / 1000.0,
             static_cast<double>(tally.latency.percentile_us(0.99)) / 1000.0,
             static_cast<double>(tally.latency.max_us()) / 1000.0);
  fmt::print("events    {} this run ({:.0f}/s), positions {}..{}, read back from the log:\n",
             read.events, per_second(read.events, played), before + 1, before + read.events);
  fmt::print("          {}\n", counts_line(read.by_type, 10));
  fmt::print("          CommandRejected by reason: {}\n", counts_line(read.refused, 37));

  std::uint64_t at_shutdown = 0;
  for (ZoneId zone = 1; zone <= options.zones; ++zone) {
    auto snapshot = log.latest_snapshot(zone);
    if (snapshot.ok() && snapshot->has_value() && (*snapshot)->seq == log.head(zone)) ++at_shutdown;
  }
  fmt::print("world     {} zones · {} handoffs · {} snapshots ({} while playing, {} at shutdown)\n",
             options.zones, read.handoffs, census.snapshots + at_shutdown, census.snapshots,
             at_shutdown);
  fmt::print("chat      {} channels: {} posted, {} delivered, {} refused · {} said nearby\n",
             channels.size(), census.chat.delivered, census.chat.deliveries, census.chat.refused,
             count_of(read.by_type, "Said"));
  std::string online;
  for (const auto& [zone, count] : census.online)
    online += fmt::format("{}zone {}: {}", online.empty() ? "" : " · ", zone, count);
  fmt::print("online    {} (presence at the end of play)\n", online.empty() ? "nobody" : online);
}

void run_demo(DemoOptions options) {
  if (!options.rules_file.empty()) options.rules = read_rules_file(options.rules_file);
  std::function<bool(ZoneId, const game::Command&)> drop;
  if (!options.fault.empty()) drop = parse_fault(options.fault, options.zones);
  auto opened = log::EventLog::open(
      options.data, {.create_if_missing = true, .on_storage_message = log::print_storage_message});
  if (!opened) fail(fmt::format("cannot open the log at {}: {}", options.data, opened.error()));
  std::unique_ptr<log::EventLog> log = std::move(opened).value();
  check_same_world(*log, options);
  const log::Position before = log->last_position();

  fmt::print(
      "worldlog demo: {} zones, {} players, seed {}, {} s in {} ({}); Ctrl-C ends it early\n",
      options.zones, options.players, options.seed, options.seconds, options.data,
      before == 0 ? "a new world" : fmt::format("continuing after position {}", before));
  std::fflush(stdout);
  std::uint64_t sent = 0;
  std::map<std::string, std::uint64_t> lost;
  {
    const InterruptScope interrupts;
    Demo demo(options, *log, std::move(drop));
    const SteadyClock::duration played = demo.run();
    print_summary(options, *log, before, demo, played, read_back(*log, before));
    sent = demo.tally().sent.load();
    const std::lock_guard lock(demo.tally().mutex);
    lost = by_name(demo.tally().lost, [](Errc code) { return to_string(code); });
  }

  std::uint64_t verified = 0;
  for (const log::StreamId stream : log->streams()) {
    auto checked = log->verify(stream);
    if (!checked) fail(fmt::format("verify failed: {}", checked.error()));
    verified += *checked;
  }
  // The log is sound, but the run was not: a command lost (its zone failed to append, say) was
  // never played, and a world that loses commands is a bug to look at, not a success.
  if (const std::uint64_t lost_commands = total(lost); lost_commands > 0) {
    fail(fmt::format("{} of {} commands were lost ({}): the world answered them with an error, "
                     "not an outcome; the {} events in the log verify",
                     lost_commands, sent, counts_line(lost, 0, 1000), verified));
  }
  fmt::print("worldlog: verified {} events\n", verified);
  if (!options.view) {
    fmt::print("worldlog: to see this world in a browser, run `worldlog view --data {}` and open "
               "http://127.0.0.1:7778/ (or run the demo with --view)\n",
               options.data);
    return;
  }
  // This process becomes `worldlog view` on the log it just wrote (closed first, as at a clean
  // exit), which prints the URL.
  log.reset();
  std::fflush(stdout);
  std::vector<std::string> args{"worldlog",   "view",   "--data",
                                options.data, "--http", *options.view};
  std::vector<char*> argv;
  for (std::string& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  fail(fmt::format("cannot run `worldlog view`: {}", std::strerror(errno)));
}

} // namespace

void add_demo_command(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  auto* command = app.add_subcommand(
      "demo", "Run the reference game as a world played by bots, then summarise and verify");
  command->add_option("--data", options->data, "Directory of the log (created if missing)")
      ->capture_default_str();
  command->add_option("--seconds", options->seconds, "How long the bots play")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86'400}))
      ->capture_default_str();
  command->add_option("--zones", options->zones, "Zones in a row, joined by exits")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{256}))
      ->capture_default_str();
  command->add_option("--players", options->players, "Bots, spread over the zones")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000}))
      ->capture_default_str();
  command->add_option("--seed", options->seed, "World seed (maps, mob spawn points)")
      ->capture_default_str();
  command
      ->add_option("--mobs", options->mobs,
                   "Mob spawn points per zone, two wolves to a boar (default: 8 wolves and 4 "
                   "boars, the game's rules)")
      ->check(CLI::Range(std::uint32_t{0}, std::uint32_t{32}));
  command->add_option("--rules", options->rules_file,
                      "Rules file (docs/rules.md): new zones record it in their genesis, zones "
                      "of an earlier run under other rules change to it");
  command->add_option("--fault", options->fault, std::string(fault_help));
  command
      ->add_option("--view", options->view,
                   "Once played, serve the viewer of the world on HOST:PORT until Ctrl-C "
                   "(`worldlog view`)")
      ->expected(0, 1)
      ->default_str("127.0.0.1:7778");
  command->callback([options] { run_demo(*options); });
}

} // namespace worldlog::tools

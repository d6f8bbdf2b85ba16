// Behaviour analytics end to end: the reference game's world writes a real log (on one thread, a
// manual clock), and the behaviour projection reads it back in position order with the game's
// signals. An unfaulted run raises nothing; a run where zone 2 silently loses three moves in
// four from a given window on is flagged on zone 2's moves, from that window, with its seqs.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/behaviour.hpp>
#include <worldlog/game/world.hpp>
#include <worldlog/replay/behaviour.hpp>

#include "game/stepped.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

using game::EntityId;

constexpr std::int64_t t0 = 1'700'000'000'000'000; // a multiple of the 10 s window
constexpr std::int64_t window = 10'000'000;
constexpr std::int64_t round_us = 500'000;
constexpr std::uint64_t rounds = 460;      // 230 s: windows 0..21 close
constexpr std::uint64_t fault_round = 319; // the first round at t0 + 160 s: window 16
constexpr EntityId players = 12;

/// A world of 2 zones where each player walks 1 m back and forth every half second and says
/// something every 5 s. With `faulted`, from `fault_round` on, three moves in four of zone 2's
/// players never reach the log: the log a zone writes that silently drops them.
struct Played {
  TempDir dir;
  std::unique_ptr<EventLog> log = open_log(dir / "log", [] {
    log::Options options = fast_options();
    options.commit_thread = false;
    return options;
  }());
  std::uint64_t accepted_moves = 0;
  std::uint64_t moves = 0;

  explicit Played(bool faulted) {
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    runtime::ManualClock clock{t0};
    // No mobs: the world's ticks run before every command, and a bitten player could not walk.
    game::World world{io.get_executor(), *log, clock,
                      game::WorldOptions{.zones = 2,
                                         .model_config = game::model_config(0),
                                         .pump = [&] { settle(io, *log); }}};
    REQUIRE_OK(world.start());
    std::vector<game::Point> home(players + 1);
    std::vector<std::uint64_t> ids(players + 1, 0);
    for (EntityId player = 1; player <= players; ++player) {
      auto joined = submit_settled(world, io, *log, player, ++ids[player], game::join(player));
      REQUIRE_OK(joined);
      REQUIRE(joined->accepted);
      home[player] = world.zones().zone(world.home_zone(player))->state().player(player)->at;
    }
    for (std::uint64_t round = 0; round < rounds; ++round) {
      clock.advance(std::chrono::microseconds(round_us));
      for (EntityId player = 1; player <= players; ++player) {
        const bool dropped = faulted && round >= fault_round && world.home_zone(player) == 2 &&
                             (round + player) % 4 != 0;
        if (!dropped) {
          game::Point to = home[player];
          if (round % 2 == 0) to.x += 1000;
          ++moves;
          static_cast<void>(world.submit_for(player, ++ids[player], game::move(player, to),
                                             [this](Result<zone::Outcome> got) {
                                               if (got.ok() && got->accepted) ++accepted_moves;
                                             }));
        }
        if ((round + 1) % 10 == 0) {
          static_cast<void>(world.submit_for(player, ++ids[player], game::say(player, "hi"),
                                             [](const Result<zone::Outcome>&) {}));
        }
      }
      settle(io, *log);
    }
  }

  [[nodiscard]] replay::Behaviour analyze() const {
    replay::Behaviour behaviour;
    std::optional<std::string> failed;
    REQUIRE_OK(log->scan_all(1, log->last_position(), [&](const log::EventView& event) {
      auto observed = replay::observe<game::Model>(event, game::behaviour_signals);
      if (!observed.ok()) {
        failed = observed.error().to_string();
        return false;
      }
      behaviour.feed(*observed);
      return true;
    }));
    REQUIRE_FALSE(failed.has_value());
    return behaviour;
  }

  /// Zone `zone`'s first and last seq in the window starting at `start`.
  [[nodiscard]] std::pair<log::Seq, log::Seq> seqs_in(zone::ZoneId zone, std::int64_t start) const {
    std::pair<log::Seq, log::Seq> span{0, 0};
    REQUIRE_OK(log->scan_stream(zone, 1, log->head(zone), [&](const log::EventView& event) {
      if (event.wall_time_us() >= start && event.wall_time_us() < start + window) {
        if (span.first == 0) span.first = event.seq();
        span.second = event.seq();
      }
      return true;
    }));
    return span;
  }
};

const replay::SignalStats& signal_of(const replay::ScopeStats& scope, std::string_view name) {
  for (const auto& signal : scope.signals)
    if (signal.name == name) return signal;
  FAIL("no signal ", std::string(name));
  return scope.signals.front();
}

TEST_SUITE_BEGIN("game/behaviour");

TEST_CASE("an unfaulted world's log raises no anomaly, and its signals are what was played") {
  const Played played(false);
  REQUIRE(played.accepted_moves == played.moves); // every move was legal: the log has them all
  const replay::Behaviour behaviour = played.analyze();
  CHECK(behaviour.anomalies().empty());
  CHECK(behaviour.closed_windows() == 22);
  const auto stats = behaviour.stats();
  REQUIRE(stats.size() == 3); // the world, zones 1 and 2
  for (std::size_t zone = 1; zone <= 2; ++zone) {
    CAPTURE(zone);
    CHECK(stats[zone].online == players / 2);
    // 6 players, 20 rounds a window: 120 moves, 20 a player; 2 lines each.
    CHECK(signal_of(stats[zone], "move").last == 120);
    CHECK(signal_of(stats[zone], "move_per_player").last == doctest::Approx(20.0));
    CHECK(signal_of(stats[zone], "chat_line").last == 12);
    CHECK(signal_of(stats[zone], "commands_accepted").last == 132);
  }
  CHECK(stats[0].online == players);
}

TEST_CASE("a zone that silently drops three moves in four is flagged on its moves where it began") {
  const Played played(true);
  const replay::Behaviour behaviour = played.analyze();
  std::vector<replay::Anomaly> zone_moves;
  for (const replay::Anomaly& anomaly : behaviour.anomalies()) {
    CAPTURE(anomaly.signal);
    CHECK(anomaly.zone != std::optional<zone::ZoneId>(1)); // the healthy zone: nothing
    if (anomaly.zone == std::optional<zone::ZoneId>(2) && anomaly.signal == "move")
      zone_moves.push_back(anomaly);
  }
  REQUIRE(zone_moves.size() == 1);
  const replay::Anomaly& anomaly = zone_moves.front();
  const std::int64_t start = t0 + 16 * window;
  CHECK(anomaly.direction == replay::Direction::drop);
  CHECK(anomaly.started.start_us == start);
  const auto [first, last] = played.seqs_in(2, start);
  CHECK(first != 0);
  CHECK(anomaly.started.first_seq == first);
  CHECK(anomaly.started.last_seq == last);
  CHECK(anomaly.value == 30);
  CHECK(anomaly.mean == doctest::Approx(120.0));
  CHECK_FALSE(anomaly.ended_us.has_value());
  // Per online player too: the players are still there, walking less.
  bool per_player = false;
  for (const replay::Anomaly& other : behaviour.anomalies()) {
    per_player =
        per_player || (other.zone == std::optional<zone::ZoneId>(2) &&
                       other.signal == "move_per_player" && other.started.start_us == start);
  }
  CHECK(per_player);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

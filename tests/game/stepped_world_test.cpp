// The world on one thread, stepped by hand: an io_context that only the test polls and a log
// without a commit thread (as `worldlog sim` runs it), so that a test can stop between any two
// steps: a zone failing with an append still queued, a logout dropped by a failing zone.
#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/map.hpp>
#include <worldlog/game/world.hpp>

#include "game/stepped.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

using game::EntityId;

struct SteppedWorld {
  TempDir dir;
  std::unique_ptr<EventLog> log = open_log(dir / "log", [] {
    log::Options options = fast_options();
    options.commit_thread = false;
    return options;
  }());
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  runtime::ManualClock clock{1'700'000'000'000'000};
  std::optional<game::Model::Handoff> last_handoff; ///< the handoff the world routed last
  game::World world{
      io.get_executor(), *log, clock,
      game::WorldOptions{
          .zones = 2,
          .before_arrival = [this](const game::Model::Handoff& handoff) { last_handoff = handoff; },
          .pump = [this] { settle(); }}};

  SteppedWorld() { REQUIRE_OK(world.start()); }

  void settle() { test::settle(io, *log); }

  Result<zone::Outcome> submit_for(EntityId player, std::uint64_t id, game::Command command) {
    return submit_settled(world, io, *log, player, id, std::move(command));
  }

  std::shared_ptr<zone::Zone<game::Model>> zone(zone::ZoneId id) { return world.zones().zone(id); }

  /// Walks `player`, online in zone 1 at its spawn, east along the spawn's row (free of rocks)
  /// to the last step before the exit, 5 m a second; the point past the edge that crosses
  /// (within 5 m: a move a second later may go there).
  game::Point walk_to_exit(EntityId player) {
    const game::Map map = game::map_for({1, 2, 1, 50'000});
    game::Point at = zone(1)->state().player(player)->at;
    std::uint64_t id = 100;
    while (map.width_mm() + 200 - at.x > 5000) {
      clock.advance(std::chrono::seconds(1));
      at.x += 5000;
      auto moved = submit_for(player, ++id, game::move(player, at));
      REQUIRE_OK(moved);
      REQUIRE_MESSAGE(moved->accepted, moved->reason);
    }
    return {map.width_mm() + 200, at.y};
  }
};

} // namespace

TEST_CASE("a failed zone's queued append lands before its successor recovers") {
  SteppedWorld w;
  const EntityId player = 2; // home zone 1
  REQUIRE(w.world.home_zone(player) == 1);
  REQUIRE_OK(w.submit_for(player, 1, game::join(player)));
  const auto first = w.zone(1);
  const runtime::ActorId first_id = first->id();

  // A Say, decided and sent to the log, but not committed; then the zone fails.
  std::optional<Result<zone::Outcome>> said;
  static_cast<void>(w.world.submit_for(player, 2, game::say(player, "hello"),
                                       [&](Result<zone::Outcome> got) { said = std::move(got); }));
  w.io.poll();
  REQUIRE_FALSE(said.has_value());
  static_cast<void>(first->cast([] { throw std::runtime_error("injected"); }));
  w.io.poll();
  // The failed incarnation waits for its append: no successor has recovered behind its back.
  CHECK_FALSE(first->exited());
  const auto meanwhile = w.zone(1);
  CHECK((meanwhile == nullptr || meanwhile->id() == first_id));

  w.settle();
  REQUIRE(said.has_value());
  REQUIRE_OK(*said);
  const auto second = w.zone(1);
  REQUIRE(second != nullptr);
  CHECK(second->id() != first_id);
  // The successor holds the Say: its state is the log's.
  CHECK(second->decided_seq() == w.log->head(1));
  CHECK(second->decided_seq() == (*said)->last_seq);
}

TEST_CASE("a logout that a failing zone dropped is sent again on the next tick") {
  SteppedWorld w;
  const EntityId player = 2;
  REQUIRE_OK(w.submit_for(player, 1, game::join(player)));
  // The zone fails before it reaches the Leave that the disconnect queues behind the failure.
  static_cast<void>(w.zone(1)->cast([] { throw std::runtime_error("injected"); }));
  bool done = false;
  w.world.disconnect(player, world::LogoutReason::disconnected, [&] { done = true; });
  w.settle();
  REQUIRE(w.zone(1) != nullptr);
  CHECK(w.zone(1)->state().player(player) != nullptr); // a ghost, for now
  CHECK_FALSE(done);

  w.clock.advance(std::chrono::milliseconds(50));
  w.world.tick();
  w.settle();
  CHECK(w.zone(1)->state().player(player) == nullptr);
  CHECK(w.zone(1)->state().offline_player(player) != nullptr);
  CHECK(done);
}

TEST_CASE("a player coming in is shown who was in view as of its own Joined, nothing later") {
  SteppedWorld w;
  // 2, 4 and 6 all start in zone 1, at its spawn point.
  REQUIRE_OK(w.submit_for(2, 1, game::join(2)));
  struct Shown {
    log::Seq seq;
    game::Event event;
  };
  std::vector<Shown> shown;
  w.world.follow(4, [&](const zone::Broadcast<game::Event>& b) {
    shown.push_back({b.seq, b.event});
  });
  std::optional<Result<zone::Outcome>> joined;
  static_cast<void>(w.world.submit_for(
      4, 1, game::join(4), [&](Result<zone::Outcome> got) { joined = std::move(got); }));
  // 4's Join is decided; 6 joins after it, before either is durable.
  w.io.poll();
  static_cast<void>(w.world.submit_for(6, 1, game::join(6), nullptr));
  w.settle();
  REQUIRE(joined.has_value());
  REQUIRE_OK(*joined);

  std::vector<EntityId> seen;
  bool joined_first = false;
  for (const Shown& one : shown) {
    if (const auto* view = std::get_if<game::Seen>(&one.event)) {
      CHECK(one.seq == 0);
      seen.push_back(view->entity);
    } else if (const auto* own = std::get_if<game::Joined>(&one.event); own && own->entity == 4) {
      joined_first = seen.empty();
    }
  }
  CHECK(joined_first);
  // 2 was there; 6 came later and is shown by its own Joined, not by the view.
  CHECK(std::count(seen.begin(), seen.end(), 2) == 1);
  CHECK(std::count(seen.begin(), seen.end(), 6) == 0);
  const bool sees_six_join = std::any_of(shown.begin(), shown.end(), [](const Shown& one) {
    const auto* other = std::get_if<game::Joined>(&one.event);
    return other != nullptr && other->entity == 6 && one.seq != 0;
  });
  CHECK(sees_six_join);
}

TEST_CASE("a tick drives no handoff whose departure is not yet durable") {
  SteppedWorld w;
  const EntityId player = 2;
  REQUIRE_OK(w.submit_for(player, 1, game::join(player)));
  const game::Point past_edge = w.walk_to_exit(player);
  // On to a tick at which zones drive their unfinished handoffs again.
  constexpr std::int64_t tick_us = 50'000;
  const std::int64_t retry_us = tick_us * zone::ZoneOptions{}.handoff_retry_ticks;
  w.clock.set((w.clock.now_us() / retry_us + 1) * retry_us);
  // The crossing is decided, its append queued but not committed; then the tick.
  std::optional<Result<zone::Outcome>> crossed;
  static_cast<void>(
      w.world.submit_for(player, 999, game::move(player, past_edge),
                         [&](Result<zone::Outcome> got) { crossed = std::move(got); }));
  w.io.poll();
  REQUIRE(w.zone(1)->state().departing_player(player));
  w.world.tick();
  w.io.poll();
  // Zone 2 has not taken a player that zone 1 might yet lose.
  CHECK(w.zone(2)->state().player(player) == nullptr);
  CHECK(w.world.directory().find(player)->zone == 1);

  w.settle();
  REQUIRE(crossed.has_value());
  REQUIRE_OK(*crossed);
  CHECK((*crossed)->accepted);
  CHECK(w.zone(2)->state().player(player) != nullptr);
  CHECK_FALSE(w.zone(1)->state().departing_player(player));
}

TEST_CASE("a retry of a command still in flight when its player crossed is not decided again") {
  // Found by `worldlog sim --seed 3486 --steps 3763` once it filled disks: a command decided in
  // the zone the player was leaving, not yet durable, and its retry sent on to the zone the
  // player went to, which decided it a second time.
  SteppedWorld w;
  const EntityId player = 2;
  REQUIRE_OK(w.submit_for(player, 1, game::join(player)));
  const game::Point past_edge = w.walk_to_exit(player);
  std::vector<Result<zone::Outcome>> answers;
  const auto keep = [&](Result<zone::Outcome> got) { answers.push_back(std::move(got)); };
  w.clock.advance(std::chrono::seconds(1)); // for the speed rule
  static_cast<void>(w.world.submit_for(player, 998, game::move(player, past_edge), keep));
  w.io.poll(); // the crossing is decided, its append queued
  static_cast<void>(w.world.submit_for(player, 999, game::say(player, "still here?"), keep));
  w.io.poll();                           // the Say is decided in zone 1 too, in an append behind it
  REQUIRE(w.log->commit_queued(1) == 1); // the crossing is durable, the Say is not
  while (w.io.poll() > 0) {
  }
  REQUIRE(w.world.directory().find(player)->zone == 2);
  static_cast<void>(w.world.submit_for(player, 999, game::say(player, "still here?"), keep));
  w.settle();
  w.clock.advance(std::chrono::milliseconds(50));
  w.world.tick();
  w.settle();

  REQUIRE(answers.size() == 3);
  for (const auto& answer : answers)
    REQUIRE_OK(answer);
  const zone::Outcome& said = *answers[1];
  const zone::Outcome& retried = *answers[2];
  CHECK(retried.duplicate);
  CHECK(retried.zone == said.zone);
  CHECK(retried.first_seq == said.first_seq);
  // Client id 999 is in the log once, in one zone.
  std::size_t applied = 0;
  for (const zone::ZoneId zone : {zone::ZoneId{1}, zone::ZoneId{2}}) {
    const auto events = read_stream_all(*w.log, zone);
    for (const auto& event : events)
      if (event.actor().id == player && event.command_id() == 999) ++applied;
  }
  CHECK(applied == 1);
}

TEST_CASE("a repeated arrival does not bring a player who logged out back online") {
  SteppedWorld w;
  const EntityId player = 2;
  REQUIRE_OK(w.submit_for(player, 1, game::join(player)));
  REQUIRE(w.world.directory().connected(player));
  const game::Point past_edge = w.walk_to_exit(player);
  w.clock.advance(std::chrono::seconds(1));
  auto crossed = w.submit_for(player, 999, game::move(player, past_edge));
  REQUIRE_OK(crossed);
  REQUIRE_MESSAGE(crossed->accepted, crossed->reason);
  w.settle();
  REQUIRE(w.last_handoff.has_value());
  REQUIRE(w.zone(2)->state().player(player) != nullptr);
  w.world.disconnect(player, world::LogoutReason::disconnected, nullptr);
  w.settle();
  REQUIRE(w.zone(2)->state().offline_player(player) != nullptr);

  // The handoff delivered again, as a source zone's restart or retry may.
  w.world.zones().route(*w.last_handoff);
  w.settle();
  const auto place = w.world.directory().find(player);
  REQUIRE(place.has_value());
  CHECK(place->zone == 2);
  CHECK_FALSE(place->online);
  CHECK(w.zone(2)->state().offline_player(player) != nullptr);
}

TEST_CASE("a census keeps each zone's newest outcomes of a player, whatever the zone order") {
  world::Directory directory(2);
  const auto outcome = [](zone::ZoneId zone, log::Seq seq) {
    return zone::Outcome{.accepted = true, .first_seq = seq, .last_seq = seq, .zone = zone};
  };
  // Zone 2's window holds the player's newest commands; zone 3's older ones come after them.
  directory.remember(7, 10, outcome(2, 100));
  directory.remember(7, 11, outcome(2, 101));
  directory.remember(7, 1, outcome(3, 5));
  directory.remember(7, 2, outcome(3, 6));
  const auto newest = directory.recall(7, 11);
  REQUIRE(newest.has_value());
  CHECK(newest->zone == 2);
  CHECK(newest->first_seq == 101);
  CHECK(newest->duplicate);
  // Each zone keeps its last two.
  directory.remember(7, 3, outcome(3, 7));
  CHECK_FALSE(directory.recall(7, 1).has_value());
  CHECK(directory.recall(7, 10).has_value());
}

} // namespace worldlog::test

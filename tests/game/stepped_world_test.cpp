// The world on one thread, stepped by hand: an io_context that only the test polls and a log
// without a commit thread (as `worldlog sim` runs it), so that a test can stop between any two
// steps: a zone failing with an append still queued, a logout dropped by a failing zone.
#include <memory>
#include <optional>
#include <stdexcept>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/world.hpp>

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
  game::World world{io.get_executor(), *log, clock,
                    game::WorldOptions{.zones = 2, .pump = [this] { settle(); }}};

  SteppedWorld() { REQUIRE_OK(world.start()); }

  /// Handlers and commits until neither has anything left.
  void settle() {
    for (;;) {
      const std::size_t handled = io.poll();
      if (handled == 0 && log->commit_queued() == 0) return;
    }
  }

  /// Submits and settles; the outcome.
  Result<zone::Outcome> submit_for(EntityId player, std::uint64_t id, game::Command command) {
    std::optional<Result<zone::Outcome>> outcome;
    static_cast<void>(
        world.submit_for(player, id, std::move(command),
                         [&](Result<zone::Outcome> got) { outcome = std::move(got); }));
    settle();
    REQUIRE(outcome.has_value());
    return std::move(*outcome);
  }

  std::shared_ptr<zone::Zone<game::Model>> zone(zone::ZoneId id) { return world.zones().zone(id); }
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
  w.world.disconnect(player, game::LogoutReason::disconnected, [&] { done = true; });
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

TEST_CASE("a census keeps each zone's newest outcomes of a player, whatever the zone order") {
  game::Directory directory(2);
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

// A player's character across logouts, rejoins and crossings, as the rules decide it: a logout
// keeps the character whole in its zone, a rejoin resumes it, epochs only grow, and a zone that
// has handed a character on does not make a second one.
#include <cstdint>
#include <variant>

#include <doctest/doctest.h>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

zone::ZoneInfo zone_info(ZoneId zone) { return {.zone = zone, .zone_count = 3, .seed = 42}; }

/// Delivers `departed` (from zone `from`) to `to` as the system would.
void arrive(World& to, const Departed& departed, ZoneId from) {
  to.send(system_actor, Arrive{departed.player, departed.epoch, from});
  REQUIRE_MESSAGE(to.accepted(), to.reason());
}

TEST_SUITE_BEGIN("game/lifecycle");

TEST_CASE("a logout keeps the character, and the player resumes with it") {
  World w(zone_info(2));
  w.join(hero);
  w.give(hero, ItemKind::potion);
  w.apply(QuestCompleted{hero, Quest::reach_waypoint, 150});
  w.apply(LevelUp{hero, 2, default_rules.max_hp_at(2)});
  const Point where = {w.map().spawn.x + 700, lane_y(w)};
  w.place(hero, where);
  const Player before = *w.state().player(hero);

  w.leave(hero);
  REQUIRE(w.accepted());
  REQUIRE(w.events().size() == 1);
  CHECK(w.events().front() == Event{LoggedOut{hero, LogoutReason::left}});
  CHECK(w.state().player(hero) == nullptr);
  REQUIRE(w.state().offline_player(hero) != nullptr);
  // Seen going where it stood: watchers nearby are told.
  const auto located = Model::locate(w.state(), w.events().front());
  REQUIRE(located.has_value());
  CHECK(located->at == where);
  // Resting characters are items of the zone still.
  CHECK(w.state().items_in_zone() == 1);

  w.advance(100);
  w.join(hero);
  REQUIRE_MESSAGE(w.accepted(), w.reason());
  const auto& joined = std::get<Joined>(w.events().front());
  REQUIRE(joined.character.has_value());
  CHECK(joined.at == where);
  const Player* after = w.state().player(hero);
  REQUIRE(after != nullptr);
  CHECK(after->level == 2);
  CHECK(after->xp == before.xp);
  CHECK(after->inventory == before.inventory);
  CHECK(after->done(Quest::reach_waypoint));
  CHECK(after->at == where);
  CHECK(after->last_move_tick == w.tick());
  CHECK(w.state().offline.empty());
}

TEST_CASE("a new player joins fresh at the spawn point, and a second join is refused") {
  World w(zone_info(2));
  w.join(hero);
  const auto& joined = std::get<Joined>(w.events().front());
  CHECK_FALSE(joined.character.has_value());
  CHECK(joined.at == w.map().spawn);
  w.join(hero);
  CHECK(w.rejection() == Reject::already_joined);
}

TEST_CASE("only the system logs a player out for another reason than leaving") {
  World w(zone_info(2));
  w.join(hero);
  w.as(hero, leave(hero, LogoutReason::session_lost));
  CHECK(w.rejection() == Reject::not_authorized);
  w.send(system_actor, leave(hero, LogoutReason::session_lost));
  REQUIRE(w.accepted());
  CHECK(w.events().front() == Event{LoggedOut{hero, LogoutReason::session_lost}});
  w.send(system_actor, leave(hero, LogoutReason::disconnected));
  CHECK(w.rejection() == Reject::not_in_zone);
}

TEST_CASE("an offline character is out of the game: no commands, no mob bites it") {
  World w(zone_info(2));
  w.join(hero);
  w.leave(hero);
  w.move(hero, {w.map().spawn.x + 100, lane_y(w)});
  CHECK(w.rejection() == Reject::not_in_zone);
  w.say(hero, "hello?");
  CHECK(w.rejection() == Reject::not_in_zone);
  w.populate();
  for (const auto& emitted : w.run_ticks(400)) {
    if (const auto* attacked = std::get_if<Attacked>(&emitted.event))
      CHECK(attacked->target != hero);
  }
}

TEST_CASE("epochs keep growing across a logout and a rejoin in another zone") {
  World two(zone_info(2));
  World three(zone_info(3));
  two.join(hero);
  const Departed first = walk_out(two, hero);
  CHECK(first.epoch == 1);
  arrive(three, first, 2);

  // The player logs out in zone 3 and comes back there: the same character, epoch 1.
  three.leave(hero);
  three.join(hero);
  REQUIRE_MESSAGE(three.accepted(), three.reason());
  CHECK(three.state().player(hero)->epoch == 1);

  // Crossing again is a new handoff, not a repeat of the first.
  const Departed second = walk_out(three, hero, false);
  CHECK(second.epoch == 2);
  CHECK(second.to == 2);
  const auto handoff = Model::handoff(three.state(), second);
  REQUIRE(handoff.has_value());
  CHECK(handoff->epoch == 2);
  arrive(two, second, 3);
  REQUIRE(two.events().size() == 1);
  CHECK(std::holds_alternative<Arrived>(two.events().front()));
  CHECK(two.state().player(hero)->epoch == 2);
}

TEST_CASE("a zone that handed a character on refuses to make it a second one") {
  World two(zone_info(2));
  two.join(hero);
  const Departed departed = walk_out(two, hero);
  two.send(system_actor, CompleteHandoff{hero, departed.epoch});
  REQUIRE(two.accepted());
  two.join(hero);
  CHECK(two.rejection() == Reject::elsewhere);
  CHECK(two.state().player(hero) == nullptr);
}

TEST_CASE("a join for a character still crossing into the zone is refused until it arrives") {
  World two(zone_info(2));
  World three(zone_info(3));
  two.join(hero);
  const Departed departed = walk_out(two, hero);
  three.as(hero, Join{hero, departed.epoch});
  CHECK(three.rejection() == Reject::in_transit);
  CHECK(three.state().players.empty());
  arrive(three, departed, 2);
  three.leave(hero);
  three.as(hero, Join{hero, departed.epoch});
  REQUIRE_MESSAGE(three.accepted(), three.reason());
  CHECK(three.state().player(hero)->epoch == 1);
}

TEST_CASE("a snapshot keeps the resting characters") {
  World w(zone_info(2));
  w.join(hero);
  w.give(hero, ItemKind::pelt);
  w.leave(hero);
  const std::string bytes = Model::snapshot(w.state());
  auto restored = Model::restore(bytes);
  REQUIRE_OK(restored);
  CHECK(*restored == w.state());
  REQUIRE(restored->offline_player(hero) != nullptr);
  CHECK(restored->offline_player(hero)->inventory == Inventory{{ItemKind::pelt, 1}});
}

} // namespace
} // namespace worldlog::game::test

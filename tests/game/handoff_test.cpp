// Zone handoffs: walking out through an exit, arriving (once, however often delivered),
// completing, and the world's outer edges.
#include <cstdint>

#include <doctest/doctest.h>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

zone::ZoneInfo zone_info(ZoneId zone) { return {.zone = zone, .zone_count = 3, .seed = 42}; }

TEST_SUITE_BEGIN("game/handoff");

TEST_CASE("walking past the east edge departs for the next zone with the whole player") {
  World w(zone_info(2));
  w.join(hero);
  w.give(hero, ItemKind::potion);
  w.apply(QuestCompleted{hero, Quest::reach_waypoint, 30});
  const Departed departed = walk_out(w, hero);
  CHECK(departed.to == 3);
  CHECK(departed.epoch == 1);
  CHECK(departed.player.id == hero);
  CHECK(departed.player.epoch == 1);
  CHECK(departed.player.inventory == Inventory{{ItemKind::potion, 1}});
  CHECK(departed.player.xp == 30);
  CHECK(departed.player.at == Point{w.map().width_mm() + 200, lane_y(w)});
  CHECK(w.state().player(hero) == nullptr);
  CHECK(w.state().departing.size() == 1);
  CHECK(w.state().epochs.at(hero) == 1);
  // Seen leaving at the edge it crossed, inside the map.
  const auto located = Model::locate(w.state(), departed);
  REQUIRE(located.has_value());
  CHECK(located->at == Point{w.map().width_mm() - 1, lane_y(w)});
  CHECK_FALSE(Model::locate(w.state(), HandoffCompleted{hero, 1}).has_value());
}

TEST_CASE("a departure's handoff names both zones and the epoch and the two system commands") {
  World w(zone_info(2));
  w.join(hero);
  const Departed departed = walk_out(w, hero);
  const auto handoff = Model::handoff(w.state(), departed);
  REQUIRE(handoff.has_value());
  CHECK(handoff->from == 2);
  CHECK(handoff->to == 3);
  CHECK(handoff->entity == hero);
  CHECK(handoff->epoch == 1);
  CHECK(handoff->arrive == Command{Arrive{departed.player, 1, 2}});
  CHECK(handoff->complete == Command{CompleteHandoff{hero, 1}});
  const auto pending = Model::pending_handoffs(w.state());
  REQUIRE(pending.size() == 1);
  CHECK(pending.front().arrive == handoff->arrive);
  CHECK_FALSE(Model::handoff(w.state(), Moved{hero, {}, 0}).has_value());
}

TEST_CASE("the destination places the arrival at its west edge at the same y with its state") {
  World from(zone_info(2));
  from.join(hero);
  from.give(hero, ItemKind::pelt);
  const auto handoff = Model::handoff(from.state(), walk_out(from, hero));
  World to(zone_info(3));
  to.send(system_actor, handoff->arrive);
  REQUIRE(to.accepted());
  const auto* arrived = find_event<Arrived>(to.events());
  REQUIRE(arrived != nullptr);
  CHECK(arrived->from == 2);
  CHECK(arrived->epoch == 1);
  const Player& p = to.player(hero);
  CHECK(p.at == Point{default_rules.tile_mm / 2, lane_y(from)});
  CHECK(p.inventory == Inventory{{ItemKind::pelt, 1}});
  CHECK(p.epoch == 1);
  CHECK(p.last_move_tick == to.tick());
  CHECK_FALSE(to.map().blocked(p.at));
}

TEST_CASE("a repeated arrival is accepted without events") {
  World from(zone_info(2));
  from.join(hero);
  const auto handoff = Model::handoff(from.state(), walk_out(from, hero));
  World to(zone_info(3));
  to.send(system_actor, handoff->arrive);
  REQUIRE(to.events().size() == 1);
  to.send(system_actor, handoff->arrive);
  CHECK(to.accepted());
  CHECK(to.events().empty());
  CHECK(to.state().players.size() == 1);
}

TEST_CASE("a late arrival of an older epoch is ignored after the player moved on") {
  World two(zone_info(2));
  two.join(hero);
  const auto first = Model::handoff(two.state(), walk_out(two, hero));
  World three(zone_info(3));
  three.send(system_actor, first->arrive);
  // The hero walks back west from zone 3 (epoch 2) before zone 2 completed epoch 1.
  three.place(hero, {300, lane_y(three)});
  three.advance(4);
  three.move(hero, {-200, lane_y(three)});
  REQUIRE(three.accepted());
  CHECK(std::get<Departed>(three.events().front()).epoch == 2);
  three.send(system_actor, first->arrive);
  CHECK(three.accepted());
  CHECK(three.events().empty());
  CHECK(three.state().player(hero) == nullptr);
}

TEST_CASE("completing settles the departure once and repeats change nothing") {
  World w(zone_info(2));
  w.join(hero);
  const auto handoff = Model::handoff(w.state(), walk_out(w, hero));
  w.send(system_actor, handoff->complete);
  REQUIRE(w.accepted());
  CHECK(*find_event<HandoffCompleted>(w.events()) == HandoffCompleted{hero, 1});
  CHECK(w.state().departing.empty());
  CHECK(Model::pending_handoffs(w.state()).empty());
  w.send(system_actor, handoff->complete);
  CHECK(w.accepted());
  CHECK(w.events().empty());
}

TEST_CASE("handoff commands come from the system actor only") {
  World w(zone_info(2));
  w.join(hero);
  const auto handoff = Model::handoff(w.state(), walk_out(w, hero));
  w.as(hero, handoff->complete);
  CHECK(w.rejection() == Reject::not_authorized);
  w.send({log::ActorKind::service, 1}, handoff->complete);
  CHECK(w.rejection() == Reject::not_authorized);
  World to(zone_info(3));
  to.as(hero, handoff->arrive);
  CHECK(to.rejection() == Reject::not_authorized);
  CHECK(to.state().players.empty());
}

TEST_CASE("a player crossing to another zone cannot join the zone it left meanwhile") {
  World w(zone_info(2));
  w.join(hero);
  static_cast<void>(walk_out(w, hero));
  w.join(hero);
  CHECK(w.rejection() == Reject::already_joined);
}

TEST_CASE("the west edge of the first zone and the east edge of the last are walls") {
  World first(zone_info(1));
  first.join(hero);
  first.place(hero, {300, lane_y(first)});
  first.advance(4);
  first.move(hero, {-200, lane_y(first)});
  CHECK(first.rejection() == Reject::out_of_bounds);
  World last(zone_info(3));
  last.join(hero);
  last.place(hero, {last.map().width_mm() - 300, lane_y(last)});
  last.advance(4);
  last.move(hero, {last.map().width_mm() + 200, lane_y(last)});
  CHECK(last.rejection() == Reject::out_of_bounds);
  CHECK(last.player(hero).at.x == last.map().width_mm() - 300);
}

TEST_CASE("a move through an exit is speed-checked like any other") {
  World w(zone_info(2));
  w.join(hero);
  w.advance(4);
  w.move(hero, {w.map().width_mm() + 200, lane_y(w)});
  CHECK(w.rejection() == Reject::teleport);
  CHECK(w.state().departing.empty());
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

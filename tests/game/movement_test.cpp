// Joining, leaving and walking: who may act for whom, the speed check, rocks, the map's edges
// and coordinates that would overflow.
#include <cstdint>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

TEST_SUITE_BEGIN("game/movement");

TEST_CASE("a zone starts with its map and nobody in it") {
  const State state = Model::initial_state(default_info);
  CHECK(state.map == map_for(default_info));
  CHECK(state.players.empty());
  CHECK(state.mobs.empty());
  CHECK(state.items.empty());
  CHECK(state.next_item_id == default_rules.first_item_id);
}

TEST_CASE("a player joins at the spawn point with level 1 stats") {
  World w;
  w.join(7);
  REQUIRE(w.accepted());
  CHECK(names_of(w.events()) == std::vector<std::string>{"Joined"});
  const Player& p = w.player(7);
  CHECK(p.at == w.map().spawn);
  CHECK(p.level == 1);
  CHECK(p.hp == default_rules.max_hp_at(1));
  CHECK(p.inventory.empty());
}

TEST_CASE("joining twice is rejected as already joined") {
  World w;
  w.join(7);
  w.join(7);
  CHECK(w.rejection() == Reject::already_joined);
  CHECK(w.state().players.size() == 1);
}

TEST_CASE("a player who leaves is gone and cannot leave or move again") {
  World w;
  w.join(7);
  w.leave(7);
  REQUIRE(w.accepted());
  CHECK(w.state().player(7) == nullptr);
  w.leave(7);
  CHECK(w.rejection() == Reject::not_in_zone);
  w.move(7, w.map().spawn);
  CHECK(w.rejection() == Reject::not_in_zone);
}

TEST_CASE("a move within the player's speed is accepted and recorded with its tick") {
  World w;
  w.join(7);
  w.advance(2); // 2 ticks x 250 mm + 100 mm allowance = 600 mm
  const Point to{w.map().spawn.x + 600, w.map().spawn.y};
  w.move(7, to);
  REQUIRE(w.accepted());
  const auto* moved = find_event<Moved>(w.events());
  REQUIRE(moved != nullptr);
  CHECK(moved->to == to);
  CHECK(moved->tick == w.tick());
  CHECK(w.player(7).at == to);
  const auto located = Model::locate(w.state(), *moved);
  REQUIRE(located.has_value());
  CHECK(located->subject == 7);
  CHECK(located->at == to);
}

TEST_CASE("a move farther than speed x ticks is rejected as a teleport with the distances in the "
          "reason") {
  World w;
  w.join(7);
  w.advance(3);
  w.move(7, {w.map().spawn.x + 12000, w.map().spawn.y});
  CHECK(w.rejection() == Reject::teleport);
  CHECK(w.reason() == "move of 12000 mm in 3 ticks exceeds 850 mm");
  CHECK(w.player(7).at == w.map().spawn);
}

TEST_CASE("two moves in one tick get only the allowance") {
  World w;
  w.join(7);
  w.advance(4);
  const Point spawn = w.map().spawn;
  w.move(7, {spawn.x + 1000, spawn.y});
  REQUIRE(w.accepted());
  w.move(7, {spawn.x + 1200, spawn.y});
  CHECK(w.rejection() == Reject::teleport);
  w.move(7, {spawn.x + 1100, spawn.y});
  CHECK(w.accepted());
}

TEST_CASE("idling banks at most move_bank_ticks of distance") {
  World w;
  w.join(7);
  w.advance(10'000);
  const Point spawn = w.map().spawn;
  const std::int64_t most = default_rules.player_speed_mm_per_tick *
                                static_cast<std::int64_t>(default_rules.move_bank_ticks) +
                            default_rules.move_allowance_mm;
  w.move(7, {spawn.x + most + 1, spawn.y});
  CHECK(w.rejection() == Reject::teleport);
  w.move(7, {spawn.x + most, spawn.y});
  CHECK(w.accepted());
}

TEST_CASE("a move onto a rock is rejected as blocked") {
  World w;
  w.join(7);
  const RockEdge edge = rock_next_to_lane(w.map(), w.map().spawn);
  w.place(7, edge.free);
  w.advance(20);
  w.move(7, edge.rock);
  CHECK(w.rejection() == Reject::blocked);
  CHECK(w.player(7).at == edge.free);
}

TEST_CASE("a move through a rock to a free tile beyond is rejected as blocked") {
  World w;
  w.join(7);
  const RockEdge edge = rock_next_to_lane(w.map(), w.map().spawn);
  // Rocks stand in blocks at most two tiles wide, so a free tile is at most two tiles beyond.
  Point beyond{edge.rock.x + default_rules.tile_mm, edge.rock.y};
  if (w.map().blocked(beyond)) beyond.x += default_rules.tile_mm;
  REQUIRE_FALSE(w.map().blocked(beyond));
  w.place(7, edge.free);
  w.advance(20);
  w.move(7, beyond);
  CHECK(w.rejection() == Reject::blocked);
  CHECK(w.reason().find("crosses a rock") != std::string::npos);
}

TEST_CASE("a move off the north or south edge is out of bounds") {
  World w;
  w.join(7);
  const Point spawn = w.map().spawn;
  w.place(7, {spawn.x, 300});
  w.advance(4);
  w.move(7, {spawn.x, -200});
  CHECK(w.rejection() == Reject::out_of_bounds);
  w.place(7, {spawn.x, w.map().height_mm() - 300});
  w.advance(4);
  w.move(7, {spawn.x, w.map().height_mm() + 200});
  CHECK(w.rejection() == Reject::out_of_bounds);
}

TEST_CASE("coordinates beyond the limit are rejected before any arithmetic") {
  World w;
  w.join(7);
  w.advance(20);
  constexpr auto huge = std::numeric_limits<std::int64_t>::max();
  constexpr auto tiny = std::numeric_limits<std::int64_t>::min();
  for (const Point to : {Point{huge, 0}, Point{0, tiny}, Point{huge, huge},
                         Point{-default_rules.coordinate_limit - 1, 0}}) {
    CAPTURE(to);
    w.move(7, to);
    CHECK(w.rejection() == Reject::invalid_coordinates);
  }
  // Within the limit but far away: the speed check still answers, without overflowing.
  w.move(7, {default_rules.coordinate_limit, -default_rules.coordinate_limit});
  CHECK(w.rejection() == Reject::teleport);
}

TEST_CASE("a player acting for another player is not authorized") {
  World w;
  w.join(7);
  w.join(8);
  w.advance(4);
  w.as(8, game::move(7, {w.map().spawn.x + 500, w.map().spawn.y}));
  CHECK(w.rejection() == Reject::not_authorized);
  CHECK(w.reason() == "player 8 cannot act for entity 7");
  w.as(8, game::leave(7));
  CHECK(w.rejection() == Reject::not_authorized);
  CHECK(w.state().player(7) != nullptr);
}

TEST_CASE("the system may act for a player but a mob actor may not") {
  World w;
  w.join(7);
  w.advance(4);
  const Command step = game::move(7, {w.map().spawn.x + 500, w.map().spawn.y});
  w.send({log::ActorKind::mob, mob_id(2, 0)}, step);
  CHECK(w.rejection() == Reject::not_authorized);
  w.send(system_actor, step);
  CHECK(w.accepted());
}

TEST_CASE("ids outside the players' range cannot join") {
  World w;
  w.send(system_actor, game::join(0));
  CHECK(w.rejection() == Reject::invalid_entity);
  w.send(system_actor, game::join(mob_id(2, 0)));
  CHECK(w.rejection() == Reject::invalid_entity);
  CHECK(w.state().players.empty());
}

TEST_CASE("a dead player cannot move") {
  World w;
  w.join(7);
  w.apply(Died{7, 0, w.tick()});
  w.advance(4);
  w.move(7, {w.map().spawn.x + 500, w.map().spawn.y});
  CHECK(w.rejection() == Reject::dead);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

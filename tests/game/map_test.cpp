// Maps: a pure function of the zone info, connected, with rocks where they may be and never
// on the places players and mobs must reach.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/game/geometry.hpp>
#include <worldlog/game/map.hpp>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

/// Free tiles reachable from `from` by steps to the four neighbours.
std::size_t reachable(const Map& map, Point from) {
  std::vector<bool> seen(static_cast<std::size_t>(map.width * map.height), false);
  const auto index = [&](std::int32_t tx, std::int32_t ty) {
    return static_cast<std::size_t>(ty * map.width + tx);
  };
  std::deque<std::pair<std::int32_t, std::int32_t>> queue{
      {static_cast<std::int32_t>(from.x / default_rules.tile_mm),
       static_cast<std::int32_t>(from.y / default_rules.tile_mm)}};
  seen[index(queue.front().first, queue.front().second)] = true;
  std::size_t count = 0;
  while (!queue.empty()) {
    const auto [tx, ty] = queue.front();
    queue.pop_front();
    ++count;
    const std::int32_t steps[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (const auto& step : steps) {
      const std::int32_t nx = tx + step[0];
      const std::int32_t ny = ty + step[1];
      if (nx < 0 || ny < 0 || nx >= map.width || ny >= map.height) continue;
      if (map.rock(nx, ny) || seen[index(nx, ny)]) continue;
      seen[index(nx, ny)] = true;
      queue.emplace_back(nx, ny);
    }
  }
  return count;
}

std::size_t rocks_of(const Map& map) {
  std::size_t rocks = 0;
  for (const std::uint8_t tile : map.rocks)
    rocks += tile;
  return rocks;
}

TEST_SUITE_BEGIN("game/map");

TEST_CASE("the same zone info gives the same map and other zones or seeds other maps") {
  const Map map = map_for(default_info);
  CHECK(map_for(default_info) == map);
  CHECK(map_for({.zone = 3, .zone_count = 3, .seed = 42}).rocks != map.rocks);
  CHECK(map_for({.zone = 2, .zone_count = 3, .seed = 43}).rocks != map.rocks);
}

TEST_CASE("every free tile of many maps is reachable from the spawn point") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    for (ZoneId zone = 1; zone <= 3; ++zone) {
      CAPTURE(seed);
      CAPTURE(zone);
      const Map map = map_for({.zone = zone, .zone_count = 3, .seed = seed});
      const std::size_t tiles = map.rocks.size();
      CHECK(reachable(map, map.spawn) == tiles - rocks_of(map));
      // About 8% rock: enough to walk around, never a maze.
      CHECK(rocks_of(map) * 100 >= tiles * 5);
      CHECK(rocks_of(map) * 100 <= tiles * 11);
    }
  }
}

TEST_CASE("a model config sets the mob spawn points per zone and keeps the rest of the map") {
  zone::ZoneInfo info = default_info;
  info.model_config = model_config(3);
  const Map three = map_for(info);
  const Map standard = map_for(default_info);
  REQUIRE(three.mob_spawns.size() == 3);
  CHECK(std::count_if(three.mob_spawns.begin(), three.mob_spawns.end(),
                      [](const MobSpawn& lair) { return lair.kind == MobKind::wolf; }) == 2);
  CHECK(three.rocks == standard.rocks);
  CHECK(three.spawn == standard.spawn);
  CHECK(three.waypoint == standard.waypoint);
  info.model_config = model_config(30);
  CHECK(map_for(info).mob_spawns.size() == 30);
  info.model_config = model_config(0);
  CHECK(map_for(info).mob_spawns.empty());
}

TEST_CASE("the spawn point and waypoint and mob spawns and the edges are free") {
  const Map map = map_for(default_info);
  CHECK_FALSE(map.blocked(map.spawn));
  CHECK_FALSE(map.blocked(map.waypoint));
  CHECK(map.mob_spawns.size() == default_rules.wolf_spawns + default_rules.boar_spawns);
  for (const MobSpawn& lair : map.mob_spawns) {
    CHECK_FALSE(map.blocked(lair.at));
    CHECK_FALSE(geometry::within(map.spawn, lair.at,
                                 default_rules.mob_spawn_min_tiles * default_rules.tile_mm));
    CHECK(lair.at != map.waypoint);
  }
  CHECK_FALSE(geometry::within(map.spawn, map.waypoint,
                               default_rules.waypoint_min_tiles * default_rules.tile_mm));
  for (std::int32_t ty = 0; ty < map.height; ++ty) {
    CHECK_FALSE(map.rock(0, ty));
    CHECK_FALSE(map.rock(map.width - 1, ty));
  }
}

TEST_CASE("zones form a row whose exits lead to the neighbours and whose outer edges are walls") {
  const Map first = map_for({.zone = 1, .zone_count = 3, .seed = 1});
  const Map middle = map_for({.zone = 2, .zone_count = 3, .seed = 1});
  const Map last = map_for({.zone = 3, .zone_count = 3, .seed = 1});
  CHECK_FALSE(first.west_exit.has_value());
  CHECK(first.east_exit == ZoneId{2});
  CHECK(middle.west_exit == ZoneId{1});
  CHECK(middle.east_exit == ZoneId{3});
  CHECK(last.west_exit == ZoneId{2});
  CHECK_FALSE(last.east_exit.has_value());
  CHECK(middle.entry_from(1, 7'250) == Point{default_rules.tile_mm / 2, 7'250});
  CHECK(middle.entry_from(3, -5) == Point{middle.width_mm() - default_rules.tile_mm / 2, 0});
  CHECK(middle.entry_from(9, 7'250) == middle.spawn);
}

TEST_CASE("blocked is true on rocks and off the map and false on free tiles") {
  const Map map = map_for(default_info);
  const RockEdge edge = rock_next_to_lane(map, map.spawn);
  CHECK(map.blocked(edge.rock));
  CHECK_FALSE(map.blocked(edge.free));
  CHECK(map.blocked({-1, 500}));
  CHECK(map.blocked({500, map.height_mm()}));
  CHECK(map.path_clear(edge.free, {edge.free.x - 900, edge.free.y}));
  CHECK_FALSE(map.path_clear(edge.free, {edge.rock.x + 400, edge.rock.y}));
}

TEST_CASE("integer geometry is exact") {
  CHECK(geometry::isqrt(0) == 0);
  CHECK(geometry::isqrt(15) == 3);
  CHECK(geometry::isqrt(16) == 4);
  CHECK(geometry::isqrt(~std::uint64_t{0}) == 4'294'967'295u);
  CHECK(geometry::distance({0, 0}, {3000, 4000}) == 5000);
  CHECK(geometry::within({0, 0}, {3000, 4000}, 5000));
  CHECK_FALSE(geometry::within({0, 0}, {3000, 4001}, 5000));
  CHECK(geometry::step_toward({0, 0}, {3000, 4000}, 1000) == Point{600, 800});
  CHECK(geometry::step_toward({0, 0}, {30, 40}, 1000) == Point{30, 40});
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

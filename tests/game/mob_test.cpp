// Mobs: spawning over the first ticks, wandering near their lair, aggro and chase, biting,
// killing and respawning players, and their own respawn; all deterministic for a fixed seed.
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/game/geometry.hpp>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

EntityId mob_at(std::uint32_t index) { return mob_id(default_info.zone, index); }

/// A populated world where only the mob at spawn point `index` (and `also`, if given) is alive:
/// the others were killed and respawn only after the test.
World only_mob(std::uint32_t index, std::optional<std::uint32_t> also = std::nullopt,
               zone::ZoneInfo info = default_info) {
  World w(info);
  w.populate();
  for (std::uint32_t i = 0; i < w.map().mob_spawns.size(); ++i)
    if (i != index && i != also) w.apply(Died{mob_at(i), 0, w.tick()});
  const Point lair = w.map().mob_spawns[index].at;
  w.place_mob(mob_at(index), lair);
  w.join(hero);
  return w;
}

/// A point `distance` mm from `from` along its lane row, towards the middle of the map.
Point along_row(const Map& map, Point from, std::int64_t distance) {
  return {from.x < map.width_mm() / 2 ? from.x + distance : from.x - distance, from.y};
}

TEST_SUITE_BEGIN("game/mobs");

TEST_CASE("the first ticks spawn every mob at its spawn point a few per tick") {
  World w;
  const auto first = w.run_tick();
  CHECK(count_events<MobSpawned>(first) == default_rules.max_spawns_per_tick);
  w.populate();
  REQUIRE(w.state().mobs.size() == w.map().mob_spawns.size());
  for (std::uint32_t i = 0; i < w.map().mob_spawns.size(); ++i) {
    const Mob& mob = w.mob(mob_at(i));
    CHECK(mob.at == w.map().mob_spawns[i].at);
    CHECK(mob.kind == w.map().mob_spawns[i].kind);
    CHECK(mob.hp == default_rules.stats_of(mob.kind).max_hp);
  }
  const auto* spawned = find_event<MobSpawned>(first);
  REQUIRE(spawned != nullptr);
  CHECK(first.front().actor == log::Actor{log::ActorKind::mob, spawned->mob});
}

TEST_CASE("a bot finds the live mobs near it through the state nearest first") {
  World w = only_mob(0, 1);
  const Point lair = w.map().mob_spawns[0].at;
  w.place_mob(mob_at(1), {lair.x + 2500, lair.y});
  const Point bot{lair.x + 1500, lair.y}; // 1500 mm from mob 0, 1000 mm from mob 1
  const std::vector<const Mob*> near = w.state().mobs_near(bot, 1500);
  REQUIRE(near.size() == 2);
  CHECK(near[0]->id == mob_at(1));
  CHECK(near[1]->id == mob_at(0));
  CHECK(w.state().mobs_near(bot, 1499).size() == 1);
  // The dead mobs of the other spawn points are not shown.
  CHECK(w.state().mobs_near(bot, 200'000).size() == 2);
}

TEST_CASE("a mob's moves are seen where it arrives") {
  World w = only_mob(0);
  const auto located = Model::locate(w.state(), MobMoved{mob_at(0), {123, 456}});
  REQUIRE(located.has_value());
  CHECK(located->subject == mob_at(0));
  CHECK(located->at == Point{123, 456});
}

TEST_CASE("idle mobs wander now and then but never onto rocks nor beyond their leash") {
  World w;
  w.populate();
  std::size_t steps = 0;
  for (int tick = 0; tick < 400; ++tick) {
    const auto emitted = w.run_tick();
    std::set<EntityId> acting;
    for (const auto& e : emitted) {
      const auto* moved = std::get_if<MobMoved>(&e.event);
      if (moved == nullptr) continue;
      ++steps;
      acting.insert(moved->mob);
      const Mob& mob = w.mob(moved->mob);
      CHECK_FALSE(w.map().blocked(mob.at));
      CHECK(geometry::within(w.map().mob_spawns[mob.spawn].at, mob.at,
                             default_rules.leash_radius_mm));
    }
    // Staggered thinking: at most two of the twelve mobs act on any one tick.
    CHECK(acting.size() <= 2);
  }
  // 12 mobs think 40 times each, wandering on about one think in four.
  CHECK(steps > 40);
  CHECK(steps < 240);
}

TEST_CASE("a mob chases the nearest player within its aggro radius") {
  World w = only_mob(0);
  const Point lair = w.map().mob_spawns[0].at;
  const Point near = along_row(w.map(), lair, default_rules.aggro_radius_mm - 2000);
  w.place(hero, near);
  const std::int64_t before = geometry::distance(lair, near);
  static_cast<void>(w.run_ticks(default_rules.mob_think_ticks));
  const std::int64_t after = geometry::distance(w.mob(mob_at(0)).at, near);
  CHECK(after < before);
  CHECK(before - after <= default_rules.wolf.speed_mm_per_tick *
                              static_cast<std::int64_t>(default_rules.mob_think_ticks));
}

TEST_CASE("a player beyond the aggro radius does not change what a mob does") {
  const auto mob_events = [](std::int64_t distance) {
    World w = only_mob(0);
    w.place(hero, along_row(w.map(), w.map().mob_spawns[0].at, distance));
    std::vector<Event> events;
    for (const auto& e : w.run_ticks(default_rules.mob_think_ticks))
      events.push_back(e.event);
    return events;
  };
  const std::vector<Event> unseen = mob_events(60'000); // across the map
  CHECK(mob_events(default_rules.aggro_radius_mm + 1) == unseen);
  CHECK(mob_events(default_rules.aggro_radius_mm - 2000) != unseen);
}

TEST_CASE("a mob catches up with a player and bites with its cooldown until the player dies") {
  World w = only_mob(0);
  const Point lair = w.map().mob_spawns[0].at;
  w.place(hero, along_row(w.map(), lair, 5000));
  std::vector<std::uint64_t> bite_ticks;
  std::uint64_t died_at = 0;
  for (int tick = 0; tick < 2000 && died_at == 0; ++tick) {
    const std::uint64_t now = w.tick();
    for (const auto& e : w.run_tick()) {
      if (const auto* bite = std::get_if<Attacked>(&e.event)) {
        CHECK(e.actor == log::Actor{log::ActorKind::mob, bite->attacker});
        if (bite->attacker != mob_at(0)) continue;
        CHECK(bite->target == hero);
        CHECK(bite->damage >= default_rules.wolf.damage_min);
        CHECK(bite->damage <= default_rules.wolf.damage_max);
        bite_ticks.push_back(now);
      }
      if (const auto* died = std::get_if<Died>(&e.event); died && died->entity == hero)
        died_at = now;
    }
  }
  REQUIRE(died_at != 0);
  REQUIRE(bite_ticks.size() >= 2);
  for (std::size_t i = 1; i < bite_ticks.size(); ++i)
    CHECK(bite_ticks[i] - bite_ticks[i - 1] >= default_rules.mob_attack_cooldown_ticks);
  const Player& dead = w.player(hero);
  CHECK(dead.dead);
  CHECK(dead.hp == 0);
  CHECK(dead.respawn_tick == died_at + default_rules.player_respawn_ticks);
}

TEST_CASE("a dead player respawns at the spawn point with full hp after the timer") {
  World w;
  w.join(hero);
  w.place(hero, {w.map().spawn.x + 3000, w.map().spawn.y});
  w.apply(Died{hero, mob_at(0), w.tick()});
  const std::uint64_t due = w.player(hero).respawn_tick;
  while (w.tick() < due)
    CHECK(find_event<Respawned>(w.run_tick()) == nullptr);
  const auto emitted = w.run_tick();
  const auto* back = find_event<Respawned>(emitted);
  REQUIRE(back != nullptr);
  CHECK(emitted.front().actor == system_actor);
  const Player& p = w.player(hero);
  CHECK_FALSE(p.dead);
  CHECK(p.hp == p.max_hp);
  CHECK(p.at == w.map().spawn);
  CHECK(w.state().respawns.empty());
}

TEST_CASE("two mobs biting one player on the same tick kill it only once") {
  // Spawn points 0 and 10 think on the same ticks; take the first seed that puts their lairs
  // close enough for both leashes to reach the point between them.
  zone::ZoneInfo info = default_info;
  const auto close = [](const Map& m) {
    return geometry::within(m.mob_spawns[0].at, m.mob_spawns[10].at,
                            2 * default_rules.leash_radius_mm - 2000);
  };
  while (!close(map_for(info)))
    ++info.seed;
  const std::uint32_t first = 0;
  const Map map = map_for(info);
  World w = only_mob(first, first + 10, info);
  const Point a = map.mob_spawns[first].at;
  const Point b = map.mob_spawns[first + 10].at;
  const Point between{(a.x + b.x) / 2, (a.y + b.y) / 2};
  w.place(hero, between);
  w.place_mob(mob_at(first), {between.x + 500, between.y});
  w.place_mob(mob_at(first + 10), {between.x, between.y + 500});
  w.apply(Attacked{mob_at(5), hero, w.player(hero).hp - 1, w.tick()});
  std::size_t bites = 0;
  std::size_t deaths = 0;
  for (int tick = 0; tick < static_cast<int>(default_rules.mob_think_ticks); ++tick) {
    const auto emitted = w.run_tick();
    bites += count_events<Attacked>(emitted);
    deaths += count_events<Died>(emitted);
  }
  CHECK(bites == 1);
  CHECK(deaths == 1);
  CHECK(w.player(hero).dead);
}

TEST_CASE("a killed mob respawns at its spawn point after the respawn timer") {
  World w;
  w.populate();
  w.apply(Died{mob_at(3), 0, w.tick()});
  const std::uint64_t due = w.mob(mob_at(3)).respawn_tick;
  bool respawned = false;
  while (w.tick() <= due && !respawned) {
    const std::uint64_t now = w.tick();
    for (const auto& e : w.run_tick())
      if (const auto* spawned = std::get_if<MobSpawned>(&e.event);
          spawned && spawned->mob == mob_at(3)) {
        respawned = true;
        CHECK(now == due);
      }
  }
  CHECK(respawned);
  const Mob& mob = w.mob(mob_at(3));
  CHECK_FALSE(mob.dead);
  CHECK(mob.at == w.map().mob_spawns[3].at);
}

TEST_CASE("the same seed gives the same mob events and another seed different ones") {
  const auto run = [](std::uint64_t seed) {
    World w({.zone = 2, .zone_count = 3, .seed = seed});
    w.populate();
    static_cast<void>(w.run_ticks(300));
    return w.payloads();
  };
  CHECK(run(42) == run(42));
  CHECK(run(42) != run(43));
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

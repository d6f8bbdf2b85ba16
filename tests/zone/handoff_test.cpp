// Handoffs between zones: an entity leaves one zone with its whole state and arrives in the
// other, and a crash between the two halves neither loses nor duplicates it.
#include <doctest/doctest.h>

#include "support/child_process.hpp"
#include "zone/zone_fixture.hpp"

#ifndef HANDOFF_CHILD_PATH
#error "HANDOFF_CHILD_PATH must name the handoff_child executable"
#endif

namespace worldlog::test {
namespace {

/// How many zones hold entity 7, and how many still list it as departing.
struct Whereabouts {
  int holding = 0;
  int departing = 0;
  std::int64_t total = 0;
};

Whereabouts whereabouts(ZoneWorld& world) {
  Whereabouts found;
  for (zone::ZoneId z = 1; z <= 2; ++z) {
    const auto state = world.state(z);
    if (const auto entity = state.entities.find(7); entity != state.entities.end()) {
      ++found.holding;
      found.total = entity->second.total;
    }
    found.departing += static_cast<int>(state.departing.count(7));
  }
  return found;
}

bool settled_in_zone_2(ZoneWorld& world) {
  const auto found = whereabouts(world);
  return found.holding == 1 && found.departing == 0 && world.state(2).entities.contains(7);
}

} // namespace

TEST_CASE("an entity handed to another zone leaves with its state and is in exactly one zone") {
  ZoneWorld world;
  REQUIRE_OK(world.submit(1, place(7, {1'000, 2'000})));
  REQUIRE_OK(world.submit(1, add(7, 5)));
  REQUIRE_OK(world.submit(1, Tally::Leave{7, 2}));
  REQUIRE(eventually([&] { return settled_in_zone_2(world); }));
  const auto entity = world.state(2).entities.at(7);
  CHECK(entity.total == 5);
  CHECK(entity.at == zone::Point{1'000, 2'000});
  CHECK(entity.epoch == 1);
  // Each zone's log replays alone to the same state. A zone applies an event as it decides it,
  // before it is durable, so zone 1's HandoffCompleted may still be on its way to the log.
  CHECK(eventually([&] { return world.hash(1) == world.fold_from_scratch(1); }));
  CHECK(eventually([&] { return world.hash(2) == world.fold_from_scratch(2); }));
}

TEST_CASE("a crash between the two halves of a handoff neither loses nor duplicates the entity") {
  for (const char* crash_point : {"after-departure", "after-arrival"}) {
    CAPTURE(crash_point);
    TempDir dir;
    const auto data = dir / "log";
    REQUIRE(run_child({HANDOFF_CHILD_PATH, data.string(), crash_point}) == 3);

    {
      ZoneWorld world({.zones = 2, .seed = 42}, data);
      // Recovery re-drives the unfinished handoff.
      REQUIRE(eventually([&] { return settled_in_zone_2(world); }));
      CHECK(whereabouts(world).total == 5);
    }
    // And again: a repeated delivery after the completion changes nothing.
    ZoneWorld world({.zones = 2, .seed = 42}, data);
    const auto found = whereabouts(world);
    CHECK(found.holding == 1);
    CHECK(found.departing == 0);
    CHECK(found.total == 5);
    CHECK(world.hash(2) == world.fold_from_scratch(2));
  }
}

} // namespace worldlog::test

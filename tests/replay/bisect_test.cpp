// bisect: the first event after which an invariant fails, found in O(log n) probes, with the
// reference game's built-in invariants and with invariants an embedder registers.
#include <bit>
#include <cstdint>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include <worldlog/game/invariants.hpp>
#include <worldlog/replay/bisect.hpp>

#include "replay/game_log.hpp"

namespace worldlog::test {
namespace {

using game::Model;
using Replayer = replay::Replayer<Model>;

constexpr zone::ZoneId zone_1 = 1;
constexpr zone::ZoneId zone_2 = 2;

/// Appends `n` moves of player `id` on the spawn point, with a snapshot every 50 events.
void wander(GameLog& world, zone::ZoneId z, game::EntityId id, int n) {
  for (int i = 0; i < n; ++i) {
    world.append(z, game::Moved{id, world.spawn(z), 0});
    if (world.log().head(z) % 50 == 0) world.snapshot(z);
  }
}

const replay::Invariant<Model>& builtin(const char* name) {
  static const replay::Invariants<Model> invariants = game::invariants();
  const auto* found = invariants.find(name);
  REQUIRE_MESSAGE(found != nullptr, name);
  return *found;
}

replay::Bisection bisect(GameLog& world, zone::ZoneId z, const replay::Invariant<Model>& inv) {
  auto found = replay::bisect(Replayer(world.log(), z), inv);
  REQUIRE_OK(found);
  return std::move(found).value();
}

/// Whether `invariant` holds after `seq` of zone `z`.
bool holds_at(GameLog& world, zone::ZoneId z, log::Seq seq, const replay::Invariant<Model>& inv) {
  const Replayer replayer(world.log(), z);
  auto state = replayer.state_at(seq);
  REQUIRE_OK(state);
  auto checked = replay::check_invariant(replayer, *state, inv);
  REQUIRE_OK(checked);
  return !checked->has_value();
}

/// A world where players 1, 2 and 3 joined zone 1 and wander, with `broken` appended after
/// `before` moves and `after` moves after it; returns the seq of `broken`.
log::Seq broken_at(GameLog& world, const game::Event& broken, int before = 300, int after = 200) {
  for (game::EntityId id = 1; id <= 3; ++id)
    world.append(zone_1, game::Joined{id, world.spawn(zone_1), 0});
  wander(world, zone_1, 1, before);
  const log::Seq seq = world.append(zone_1, broken);
  wander(world, zone_1, 1, after);
  return seq;
}

} // namespace

TEST_CASE("the reference game registers its four invariants") {
  const auto invariants = game::invariants();
  REQUIRE(invariants.all().size() == 4);
  CHECK(invariants.all()[0].name == "hp_in_bounds");
  CHECK(invariants.all()[1].name == "inside_map");
  CHECK(invariants.all()[2].name == "items_conserved");
  CHECK(invariants.all()[3].name == "one_zone_per_entity");
  CHECK(invariants.find("no_such_thing") == nullptr);
}

TEST_CASE("bisect finds the event after which hp leaves its bounds in O(log n) probes") {
  GameLog world;
  // A hit of -500 heals player 2 far beyond its max hp.
  const log::Seq bad = broken_at(world, game::Attacked{99, 2, -500, 0});
  const log::Seq head = world.log().head(zone_1);
  const auto found = bisect(world, zone_1, builtin("hp_in_bounds"));
  CHECK(found.head == head);
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == bad);
  CHECK(found.violation == "player 2 has 600 hp, outside [0, 100]");
  REQUIRE(found.event.has_value());
  CHECK(found.event->seq() == bad);
  CHECK(found.event->payload_type() == game::Attacked::type);
  // The head, the start, then one halving per probe.
  CHECK(found.probes <= 2 + static_cast<std::uint32_t>(std::bit_width(head)));
  CHECK(holds_at(world, zone_1, bad - 1, builtin("hp_in_bounds")));
  CHECK_FALSE(holds_at(world, zone_1, bad, builtin("hp_in_bounds")));
}

TEST_CASE("bisect reports an invariant that holds at the head") {
  GameLog world;
  broken_at(world, game::Said{1, "hello"}, 40, 40);
  const auto found = bisect(world, zone_1, builtin("hp_in_bounds"));
  CHECK_FALSE(found.first_bad.has_value());
  CHECK(found.probes == 1);
}

TEST_CASE("bisect searches up to a given seq for an invariant that broke and mended again") {
  GameLog world;
  const log::Seq bad = broken_at(world, game::Attacked{99, 2, -500, 0}, 100, 50);
  world.append(zone_1, game::Died{2, 99, 0}); // hp 0 again: within bounds
  wander(world, zone_1, 1, 50);
  CHECK_FALSE(bisect(world, zone_1, builtin("hp_in_bounds")).first_bad.has_value());

  auto found = replay::bisect(Replayer(world.log(), zone_1), builtin("hp_in_bounds"), bad + 30);
  REQUIRE_OK(found);
  CHECK(found->head == bad + 30);
  CHECK(found->first_bad == bad);
}

TEST_CASE("bisect blames the genesis for an invariant that never held") {
  GameLog world;
  wander(world, zone_1, 1, 20);
  const replay::Invariant<Model> never{
      "never", "fails everywhere",
      [](const game::State&, replay::InvariantContext<Model>&) -> std::optional<std::string> {
        return "never holds";
      }};
  const auto found = bisect(world, zone_1, never);
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == 1);
  REQUIRE(found.event.has_value());
  CHECK(found.event->payload_type() == zone::genesis_payload_type);
}

TEST_CASE("bisect finds an entity moved onto a rock") {
  GameLog world;
  const game::Map& map = world.state(zone_1).map;
  std::optional<game::Point> rock;
  for (std::int32_t ty = 0; ty < map.height && !rock; ++ty)
    for (std::int32_t tx = 0; tx < map.width && !rock; ++tx)
      if (map.rock(tx, ty)) rock = map.tile_centre(tx, ty);
  REQUIRE(rock.has_value());
  const log::Seq bad = broken_at(world, game::Moved{3, *rock, 0}, 120, 30);
  const auto found = bisect(world, zone_1, builtin("inside_map"));
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == bad);
  CHECK(found.violation.find("player 3 at") != std::string::npos);
  CHECK(found.violation.find("stands on a rock") != std::string::npos);
}

TEST_CASE("bisect finds a ground item with an id the zone never issued") {
  GameLog world;
  const log::Seq bad = broken_at(
      world, game::LootDropped{0, 5, game::ItemKind::potion, world.spawn(zone_1), 0}, 60, 60);
  const auto found = bisect(world, zone_1, builtin("items_conserved"));
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == bad);
  CHECK(found.violation.rfind("ground item 5 has an id the zone never issued", 0) == 0);
}

TEST_CASE("bisect finds the first event after which an item appears without a recorded loot") {
  GameLog world;
  for (game::EntityId id = 1; id <= 3; ++id)
    world.append(zone_1, game::Joined{id, world.spawn(zone_1), 0});
  // Items that come and go by the rules, so the ledger is not empty when it breaks.
  const game::Point spawn = world.spawn(zone_1);
  const game::ItemId first = game::default_rules.first_item_id;
  world.append(zone_1, game::LootDropped{0, first, game::ItemKind::potion, spawn, 0});
  world.append(zone_1, game::PickedUp{1, first, game::ItemKind::potion});
  world.append(zone_1, game::LootDropped{0, first + 1, game::ItemKind::pelt, spawn, 0});
  world.append(zone_1, game::ItemDespawned{first + 1, spawn});
  wander(world, zone_1, 1, 150);
  // Player 2 carries nothing, yet drops a pelt: a duplicated item, with no loot to explain it.
  const log::Seq bad =
      world.append(zone_1, game::Dropped{2, first + 2, game::ItemKind::pelt, spawn, 0});
  wander(world, zone_1, 1, 100);
  world.append(zone_1, game::Left{1}); // carries the potion out: still one item too many
  wander(world, zone_1, 3, 50);

  const auto found = bisect(world, zone_1, builtin("items_conserved"));
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == bad);
  CHECK(found.violation == "2 items in the zone (1 on the ground, 1 carried), but created 2 + "
                           "carried in 0 - used 0 - expired 1 - carried out 0 = 1");
  REQUIRE(found.event.has_value());
  CHECK(found.event->payload_type() == game::Dropped::type);
  CHECK(holds_at(world, zone_1, bad - 1, builtin("items_conserved")));
  CHECK_FALSE(holds_at(world, zone_1, world.log().head(zone_1), builtin("items_conserved")));
}

TEST_CASE("bisect finds a potion used that its player never carried") {
  GameLog world;
  const log::Seq bad = broken_at(world, game::Used{3, game::ItemKind::potion, 0}, 80, 80);
  const auto found = bisect(world, zone_1, builtin("items_conserved"));
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == bad);
  CHECK(found.violation == "0 items in the zone (0 on the ground, 0 carried), but created 0 + "
                           "carried in 0 - used 1 - expired 0 - carried out 0 = -1");
}

TEST_CASE("the item invariant checks inventories against the capacity") {
  game::State state = Model::initial_state({.zone = 1, .zone_count = 1, .seed = 42});
  Model::evolve(state, game::Joined{4, state.map.spawn, 0});
  for (game::ItemId id = 0; id <= game::default_rules.inventory_capacity; ++id) {
    CHECK(game::item_violation(state) == std::nullopt);
    const game::ItemId item = state.next_item_id;
    Model::evolve(state, game::LootDropped{0, item, game::ItemKind::pelt, state.map.spawn, 0});
    Model::evolve(state, game::PickedUp{4, item, game::ItemKind::pelt});
  }
  CHECK(game::item_violation(state) == "player 4 carries 17 items, more than the capacity of 16");
}

TEST_CASE("the hp invariant checks mobs against their kind's max hp") {
  game::State state = Model::initial_state({.zone = 1, .zone_count = 1, .seed = 42});
  const game::EntityId wolf = game::mob_id(1, 0);
  Model::evolve(state, game::MobSpawned{wolf, game::MobKind::wolf, 0, state.map.spawn});
  CHECK(game::hp_violation(state) == std::nullopt);
  Model::evolve(state, game::Attacked{1, wolf, -1, 0});
  CHECK(game::hp_violation(state) == fmt::format("wolf {} has 31 hp, outside [0, 30]", wolf));
}

TEST_CASE("bisect finds a character made anew in a second zone while it rests in the first") {
  GameLog world(2);
  world.append(zone_1, game::Joined{7, world.spawn(zone_1), 0});
  world.append(zone_1, game::LoggedOut{7, game::LogoutReason::disconnected});
  wander(world, zone_2, 8, 10);
  const log::Seq bad = world.append(zone_2, game::Joined{7, world.spawn(zone_2), 0});
  const auto found = bisect(world, zone_2, builtin("one_zone_per_entity"));
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == bad);
  CHECK(found.violation.rfind("player 7 is in zone 2 (online) and in zone 1 (offline)", 0) == 0);
}

TEST_CASE("bisect finds a player who joined a second zone without leaving the first") {
  GameLog world(2);
  world.append(zone_1, game::Joined{7, world.spawn(zone_1), 0});
  wander(world, zone_2, 8, 30);
  wander(world, zone_1, 7, 30);
  const log::Seq bad = world.append(zone_2, game::Joined{7, world.spawn(zone_2), 0});
  wander(world, zone_2, 8, 30);
  wander(world, zone_1, 7, 30);

  const auto found = bisect(world, zone_2, builtin("one_zone_per_entity"));
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == bad);
  CHECK(found.violation.rfind("player 7 is in zone 2 (online) and in zone 1 (online)", 0) == 0);
  // In zone 1 the same player breaks it from the first of its events after that time.
  const auto in_zone_1 = bisect(world, zone_1, builtin("one_zone_per_entity"));
  REQUIRE(in_zone_1.first_bad.has_value());
  REQUIRE(in_zone_1.event.has_value());
  CHECK(in_zone_1.event->wall_time_us() >
        read_stream_all(world.log(), zone_2)[bad - 1].wall_time_us());
}

TEST_CASE("a player handed off between zones is in one zone at a time and takes its items") {
  GameLog world(2);
  world.append(zone_1, game::Joined{7, world.spawn(zone_1), 0});
  const game::ItemId item = game::default_rules.first_item_id;
  world.append(zone_1, game::LootDropped{0, item, game::ItemKind::pelt, world.spawn(zone_1), 0});
  world.append(zone_1, game::PickedUp{7, item, game::ItemKind::pelt});
  wander(world, zone_1, 7, 20);
  game::Player leaving = world.state(zone_1).players.at(7);
  leaving.epoch = 1;
  world.append(zone_1, game::Departed{leaving, zone_2, 1});
  leaving.at = world.spawn(zone_2);
  world.append(zone_2, game::Arrived{leaving, zone_1, 1});
  world.append(zone_1, game::HandoffCompleted{7, 1});
  wander(world, zone_2, 7, 20);

  for (const zone::ZoneId z : {zone_1, zone_2}) {
    CAPTURE(z);
    CHECK_FALSE(bisect(world, z, builtin("one_zone_per_entity")).first_bad.has_value());
    CHECK_FALSE(bisect(world, z, builtin("items_conserved")).first_bad.has_value());
  }
  CHECK(world.state(zone_1).item_ledger.carried_out == 1);
  CHECK(world.state(zone_2).item_ledger.carried_in == 1);
}

TEST_CASE("embedders register invariants of their own") {
  replay::Invariants<Model> invariants = game::invariants();
  const auto at_most_two =
      [](const game::State& state,
         replay::InvariantContext<Model>& context) -> std::optional<std::string> {
    if (state.players.size() <= 2) return std::nullopt;
    return fmt::format("{} players in zone {} after seq {}", state.players.size(), context.zone(),
                       context.checked().seq);
  };
  REQUIRE_OK(invariants.add({"at_most_two_players", "a quiet zone", at_most_two}));
  CHECK(error_code(invariants.add({"at_most_two_players", "again", at_most_two})) ==
        Errc::invalid_argument);
  CHECK(error_code(invariants.add({"", "nameless", at_most_two})) == Errc::invalid_argument);
  CHECK(error_code(invariants.add({"unchecked", "no check", {}})) == Errc::invalid_argument);

  GameLog world;
  world.append(zone_1, game::Joined{1, world.spawn(zone_1), 0});
  world.append(zone_1, game::Joined{2, world.spawn(zone_1), 0});
  wander(world, zone_1, 1, 100);
  const log::Seq third = world.append(zone_1, game::Joined{3, world.spawn(zone_1), 0});
  wander(world, zone_1, 1, 100);
  const auto found = bisect(world, zone_1, *invariants.find("at_most_two_players"));
  REQUIRE(found.first_bad.has_value());
  CHECK(*found.first_bad == third);
  CHECK(found.violation == fmt::format("3 players in zone 1 after seq {}", third));
}

} // namespace worldlog::test

// Items: picking up within reach, the inventory's capacity, dropping (new ids from the
// state's counter), using potions, and ground items vanishing after their lifetime.
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

Point beside(Point p, std::int64_t dx) { return {p.x + dx, p.y}; }

TEST_SUITE_BEGIN("game/items");

TEST_CASE("a ground item within reach goes into the inventory") {
  World w = with_hero();
  const ItemId item = w.put_item(ItemKind::pelt, beside(w.map().spawn, default_rules.reach_mm));
  w.pick_up(hero, item);
  REQUIRE(w.accepted());
  CHECK(find_event<PickedUp>(w.events())->kind == ItemKind::pelt);
  CHECK(w.state().item(item) == nullptr);
  CHECK(w.player(hero).inventory == Inventory{{ItemKind::pelt, 1}});
}

TEST_CASE("a bot finds the ground items near it through the state nearest first") {
  World w = with_hero();
  const Point spawn = w.map().spawn;
  const ItemId far = w.put_item(ItemKind::pelt, beside(spawn, 3000));
  const ItemId near = w.put_item(ItemKind::potion, beside(spawn, -1000));
  static_cast<void>(w.put_item(ItemKind::pelt, beside(spawn, 9000)));
  const std::vector<const GroundItem*> found = w.state().items_near(spawn, 3000);
  REQUIRE(found.size() == 2);
  CHECK(found[0]->id == near);
  CHECK(found[1]->id == far);
}

TEST_CASE("an item out of reach or not on the ground cannot be picked up") {
  World w = with_hero();
  const ItemId item = w.put_item(ItemKind::pelt, beside(w.map().spawn, default_rules.reach_mm + 1));
  w.pick_up(hero, item);
  CHECK(w.rejection() == Reject::out_of_range);
  w.pick_up(hero, item + 1);
  CHECK(w.rejection() == Reject::no_such_item);
  CHECK(w.player(hero).inventory.empty());
}

TEST_CASE("a full inventory takes nothing more") {
  World w = with_hero();
  for (std::uint32_t i = 0; i < default_rules.inventory_capacity; ++i)
    w.give(hero, ItemKind::pelt);
  const ItemId item = w.put_item(ItemKind::potion, w.map().spawn);
  w.pick_up(hero, item);
  CHECK(w.rejection() == Reject::inventory_full);
  CHECK(w.state().item(item) != nullptr);
  CHECK(w.player(hero).carried() == default_rules.inventory_capacity);
}

TEST_CASE("dropping puts one item on the ground under a fresh id") {
  World w = with_hero();
  w.give(hero, ItemKind::potion);
  w.give(hero, ItemKind::potion);
  const ItemId next = w.state().next_item_id;
  w.drop(hero, ItemKind::potion);
  REQUIRE(w.accepted());
  const auto* dropped = find_event<Dropped>(w.events());
  REQUIRE(dropped != nullptr);
  CHECK(dropped->item == next);
  const GroundItem* item = w.state().item(next);
  REQUIRE(item != nullptr);
  CHECK(item->at == w.player(hero).at);
  CHECK(w.player(hero).inventory == Inventory{{ItemKind::potion, 1}});
  CHECK(w.state().next_item_id == next + 1);
}

TEST_CASE("dropping a kind the player does not carry is rejected") {
  World w = with_hero();
  w.drop(hero, ItemKind::pelt);
  CHECK(w.rejection() == Reject::no_such_item);
  CHECK(w.state().items.empty());
}

TEST_CASE("a potion heals up to max hp and is used up") {
  World w = with_hero();
  w.give(hero, ItemKind::potion);
  w.give(hero, ItemKind::potion);
  w.apply(Attacked{mob_id(2, 0), hero, 50, w.tick()});
  w.use(hero, ItemKind::potion);
  REQUIRE(w.accepted());
  CHECK(find_event<Used>(w.events())->healed == default_rules.potion_heal);
  CHECK(w.player(hero).hp == default_rules.max_hp_at(1) - 50 + default_rules.potion_heal);
  w.use(hero, ItemKind::potion);
  REQUIRE(w.accepted());
  CHECK(find_event<Used>(w.events())->healed == 50 - default_rules.potion_heal);
  CHECK(w.player(hero).hp == default_rules.max_hp_at(1));
  CHECK(w.player(hero).inventory.empty());
}

TEST_CASE("using a potion the player lacks or a pelt is rejected") {
  World w = with_hero();
  w.use(hero, ItemKind::potion);
  CHECK(w.rejection() == Reject::no_such_item);
  w.give(hero, ItemKind::pelt);
  w.use(hero, ItemKind::pelt);
  CHECK(w.rejection() == Reject::not_usable);
  CHECK(w.player(hero).inventory == Inventory{{ItemKind::pelt, 1}});
}

TEST_CASE("a dead player can neither pick up nor drop nor use items") {
  World w = with_hero();
  w.give(hero, ItemKind::potion);
  const ItemId item = w.put_item(ItemKind::pelt, w.map().spawn);
  w.apply(Died{hero, 0, w.tick()});
  w.pick_up(hero, item);
  CHECK(w.rejection() == Reject::dead);
  w.drop(hero, ItemKind::potion);
  CHECK(w.rejection() == Reject::dead);
  w.use(hero, ItemKind::potion);
  CHECK(w.rejection() == Reject::dead);
}

TEST_CASE("ground items vanish after their lifetime oldest first") {
  World w = with_hero();
  const ItemId first = w.put_item(ItemKind::pelt, w.map().spawn);
  w.advance(10);
  const ItemId second = w.put_item(ItemKind::pelt, w.map().spawn);
  w.advance(default_rules.item_lifetime_ticks - 10);
  const auto emitted = w.run_tick();
  const auto* gone = find_event<ItemDespawned>(emitted);
  REQUIRE(gone != nullptr);
  CHECK(gone->item == first);
  CHECK(count_events<ItemDespawned>(emitted) == 1);
  CHECK(w.state().item(first) == nullptr);
  CHECK(w.state().item(second) != nullptr);
  static_cast<void>(w.run_ticks(10));
  CHECK(w.state().items.empty());
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

// The item ledger: each way an item enters or leaves a zone moves its counter, moving an item
// within the zone moves none, and the ledger lives in the snapshot, the hash and the JSON.
#include <cstdint>
#include <string>

#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include <worldlog/schema/game_generated.h>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

TEST_SUITE_BEGIN("game/ledger");

TEST_CASE("a zone starts with nothing in it and an empty ledger") {
  const World w;
  CHECK(w.state().item_ledger == ItemLedger{});
  CHECK(w.state().items_in_zone() == 0);
}

TEST_CASE("loot counts as created and picking it up or dropping it again counts nothing") {
  World w = with_hero();
  const ItemId item = w.put_item(ItemKind::potion, w.map().spawn);
  CHECK(w.state().item_ledger == ItemLedger{.created = 1});
  CHECK(w.state().items_in_zone() == 1);
  w.pick_up(hero, item);
  REQUIRE(w.accepted());
  w.drop(hero, ItemKind::potion);
  REQUIRE(w.accepted());
  CHECK(w.state().item_ledger == ItemLedger{.created = 1});
  CHECK(w.state().items_in_zone() == 1);
  CHECK(items_balanced(w.state()));
}

TEST_CASE("a used potion counts as used") {
  World w = with_hero();
  w.give(hero, ItemKind::potion);
  w.use(hero, ItemKind::potion);
  REQUIRE(w.accepted());
  CHECK(w.state().item_ledger == ItemLedger{.created = 1, .used = 1});
  CHECK(w.state().items_in_zone() == 0);
  CHECK(items_balanced(w.state()));
}

TEST_CASE("a ground item that lay too long counts as expired") {
  World w = with_hero();
  static_cast<void>(w.put_item(ItemKind::pelt, w.map().spawn));
  w.advance(default_rules.item_lifetime_ticks);
  REQUIRE(count_events<ItemDespawned>(w.run_tick()) == 1);
  CHECK(w.state().item_ledger == ItemLedger{.created = 1, .expired = 1});
  CHECK(w.state().items_in_zone() == 0);
  CHECK(items_balanced(w.state()));
}

TEST_CASE("a player who logs out keeps its inventory in the zone, and one who Left took it") {
  World w = with_hero();
  w.give(hero, ItemKind::potion);
  w.give(hero, ItemKind::pelt);
  w.give(hero, ItemKind::pelt);
  w.leave(hero);
  REQUIRE(w.accepted());
  CHECK(w.state().item_ledger == ItemLedger{.created = 3});
  CHECK(w.state().items_in_zone() == 3);
  CHECK(items_balanced(w.state()));
  w.join(hero);
  CHECK(w.state().items_in_zone() == 3);
  CHECK(items_balanced(w.state()));

  // A Left, as logs from before LoggedOut hold it, erased the character and its items.
  w.apply(Left{hero});
  CHECK(w.state().item_ledger == ItemLedger{.created = 3, .carried_out = 3});
  CHECK(w.state().items_in_zone() == 0);
  CHECK(items_balanced(w.state()));
}

TEST_CASE("a departing player carries its inventory out and the destination counts it in") {
  World from = with_hero(); // zone 2 of 3
  from.give(hero, ItemKind::potion);
  from.give(hero, ItemKind::pelt);
  const Departed departed = walk_out(from, hero);
  const auto handoff = Model::handoff(from.state(), departed);
  REQUIRE(handoff.has_value());
  CHECK(from.state().item_ledger == ItemLedger{.created = 2, .carried_out = 2});
  CHECK(from.state().items_in_zone() == 0);
  CHECK(items_balanced(from.state()));
  // Completing the handoff settles the departure without counting its items again.
  from.send(system_actor, CompleteHandoff{hero, departed.epoch});
  REQUIRE(from.accepted());
  CHECK(from.state().item_ledger.carried_out == 2);

  World to(zone::ZoneInfo{.zone = 3, .zone_count = 3, .seed = 42});
  to.send(system_actor, handoff->arrive);
  REQUIRE(to.accepted());
  CHECK(to.state().item_ledger == ItemLedger{.carried_in = 2});
  CHECK(to.state().items_in_zone() == 2);
  CHECK(items_balanced(to.state()));
  // A repeated delivery records nothing, so nothing is counted twice.
  to.send(system_actor, handoff->arrive);
  REQUIRE(to.accepted());
  CHECK(to.events().empty());
  CHECK(to.state().item_ledger.carried_in == 2);
}

TEST_CASE("the ledger counts what an event claims even where the state cannot back it") {
  World w = with_hero();
  // A Used of a potion the hero never had: nothing to take, but the claim is counted.
  w.apply(Used{hero, ItemKind::potion, 0});
  CHECK(w.state().item_ledger.used == 1);
  CHECK(w.state().items_in_zone() == 0);
  CHECK_FALSE(items_balanced(w.state()));
  // A Dropped of a pelt the hero never had: an item from nowhere, which no counter explains.
  World dup = with_hero();
  dup.apply(Dropped{hero, dup.state().next_item_id, ItemKind::pelt, dup.map().spawn, dup.tick()});
  CHECK(dup.state().items_in_zone() == 1);
  CHECK(dup.state().item_ledger == ItemLedger{});
  CHECK_FALSE(items_balanced(dup.state()));
  // An expiry of an item that is not on the ground.
  World gone = with_hero();
  gone.apply(ItemDespawned{gone.state().next_item_id, gone.map().spawn});
  CHECK(gone.state().item_ledger.expired == 1);
  CHECK_FALSE(items_balanced(gone.state()));
}

TEST_CASE("the ledger is refolded the same from the events alone") {
  World w = with_hero();
  w.give(hero, ItemKind::potion);
  w.give(hero, ItemKind::potion);
  w.use(hero, ItemKind::potion);
  static_cast<void>(w.put_item(ItemKind::pelt, w.map().spawn));
  w.advance(default_rules.item_lifetime_ticks + 1);
  static_cast<void>(w.run_tick());
  w.leave(hero);
  const ItemLedger expected{.created = 3, .used = 1, .expired = 1};
  CHECK(w.state().item_ledger == expected);
  CHECK(w.replay().item_ledger == expected);
  CHECK(w.replay() == w.state());
}

TEST_CASE("the ledger is in the snapshot, the hash, equality and the JSON") {
  World w = with_hero();
  w.give(hero, ItemKind::potion);
  w.use(hero, ItemKind::potion);
  const std::string bytes = Model::snapshot(w.state());
  const auto restored = Model::restore(bytes);
  REQUIRE_OK(restored);
  CHECK(restored.value().item_ledger == ItemLedger{.created = 1, .used = 1});
  CHECK(Model::snapshot(restored.value()) == bytes);

  // The same world in every other respect.
  State other = w.state();
  ++other.item_ledger.expired;
  CHECK_FALSE(other == w.state());
  CHECK(Model::hash(other) != Model::hash(w.state()));

  const auto json = Model::to_json(w.state());
  const auto& ledger = json.as_object().at("item_ledger").as_object();
  CHECK(ledger.at("created").as_uint64() == 1);
  CHECK(ledger.at("used").as_uint64() == 1);
  CHECK(ledger.at("expired").as_uint64() == 0);
  CHECK(ledger.at("carried_in").as_uint64() == 0);
  CHECK(ledger.at("carried_out").as_uint64() == 0);
}

/// A snapshot of `state` as the code before the ledger wrote it (format 1), or with the given
/// format but no ledger.
std::string snapshot_without_ledger(const State& state, std::uint32_t format) {
  namespace fb = flatbuffers;
  namespace schema = worldlog::game::schema;
  fb::FlatBufferBuilder b;
  const zone::ZoneInfo& info = state.info;
  b.Finish(schema::CreateState(b, format, info.zone, info.zone_count, info.seed, info.tick_us,
                               state.next_item_id),
           "WLGS");
  return {reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()};
}

TEST_CASE("a snapshot from before the ledger is refused rather than read as an empty ledger") {
  const World w;
  // The verifier accepts it (the ledger is a field added at the end), so the format decides.
  const auto old = Model::restore(snapshot_without_ledger(w.state(), 1));
  CHECK(error_code(old) == Errc::incompatible_format);
  CHECK(error_message(old).find("format 1") != std::string::npos);
  CHECK(error_code(Model::restore(snapshot_without_ledger(w.state(), 2))) == Errc::corruption);
  CHECK(error_code(Model::restore(snapshot_without_ledger(w.state(), 3))) == Errc::corruption);
  CHECK(error_code(Model::restore(snapshot_without_ledger(w.state(), 4))) ==
        Errc::incompatible_format);
  REQUIRE_OK(Model::restore(Model::snapshot(w.state())));
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

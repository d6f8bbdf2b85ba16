// Encodings: every event and command survives encode -> decode, damage is refused as
// corruption naming the type, snapshots restore to an equal state with an equal hash, and the
// same seed and commands give byte-identical events.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include <worldlog/schema/game_generated.h>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

Player sample_player() {
  Player p;
  p.id = 7;
  p.at = {-12, 64'500};
  p.hp = 17;
  p.max_hp = default_rules.max_hp_at(3);
  p.level = 3;
  p.xp = 345;
  p.dead = true;
  p.respawn_tick = 99;
  p.last_move_tick = 98;
  p.next_attack_tick = 97;
  p.inventory = {{ItemKind::potion, 2}, {ItemKind::pelt, 5}};
  p.quests_done = 1u << static_cast<unsigned>(Quest::kill_wolves);
  p.wolves_killed = 6;
  p.epoch = 4;
  return p;
}

/// One event of every type, with no field left at its default.
std::vector<Event> every_event() {
  const EntityId mob = mob_id(2, 5);
  return {Joined{7, {1, 2}, 3, sample_player()},
          Left{7},
          Moved{7, {-4, 5}, 6},
          Attacked{mob, 7, 5, 8},
          Died{mob, 7, 9},
          Respawned{7, {30'500, 30'500}, 10},
          LevelUp{7, 2, default_rules.max_hp_at(2)},
          MobSpawned{mob, MobKind::boar, 5, {11, 12}},
          MobMoved{mob, {13, 14}},
          Dropped{7, default_rules.first_item_id, ItemKind::potion, {15, 16}, 17},
          LootDropped{mob, default_rules.first_item_id + 1, ItemKind::pelt, {18, 19}, 20},
          PickedUp{7, default_rules.first_item_id + 1, ItemKind::pelt},
          ItemDespawned{default_rules.first_item_id, {21, 22}},
          Used{7, ItemKind::potion, 23},
          Said{7, std::string("hi \0 there", 10)},
          QuestCompleted{7, Quest::kill_wolves, 100},
          Departed{sample_player(), 3, 4},
          Arrived{sample_player(), 1, 4},
          HandoffCompleted{7, 4},
          LoggedOut{7, LogoutReason::session_lost},
          Seen{mob, Seen::What::boar, {24, 25}, 26},
          XpGained{7, 25, mob},
          RulesChanged{2, rules_hash(default_rules), canonical_rules(default_rules)}};
}

std::vector<Command> every_command() {
  return {Join{7, 3},
          game::leave(7, LogoutReason::disconnected),
          game::move(7, {-1, 1'000'000'001}),
          game::attack(7, mob_id(2, 1)),
          game::pick_up(7, default_rules.first_item_id),
          game::drop(7, ItemKind::pelt),
          game::use(7, ItemKind::potion),
          game::say(7, "hello"),
          Arrive{sample_player(), 4, 1},
          CompleteHandoff{7, 4},
          ChangeRules{"{\"version\": 2}"}};
}

TEST_SUITE_BEGIN("game/codec");

TEST_CASE("every event type decodes to what was encoded under its own payload type") {
  const std::vector<Event> events = every_event();
  REQUIRE(events.size() == std::variant_size_v<Event>);
  for (const Event& event : events) {
    CAPTURE(Model::event_name(event));
    const zone::EncodedEvent encoded = Model::encode(event);
    CHECK(encoded.payload_type == std::visit([](const auto& e) { return e.type; }, event));
    CHECK(encoded.payload_type < zone::zone_payload_types);
    CHECK(encoded.version == zone::event_version<Model>(encoded.payload_type));
    const auto decoded = Model::decode(encoded.payload_type, encoded.payload);
    REQUIRE_OK(decoded);
    CHECK(decoded.value() == event);
  }
}

TEST_CASE("every command type decodes to what was encoded") {
  const std::vector<Command> commands = every_command();
  REQUIRE(commands.size() == std::variant_size_v<Command>);
  for (const Command& command : commands) {
    CAPTURE(Model::command_name(command));
    const auto decoded = Model::decode_command(Model::encode_command(command));
    REQUIRE_OK(decoded);
    CHECK(decoded.value() == command);
  }
}

TEST_CASE("a damaged event is a corruption error naming its type") {
  const zone::EncodedEvent encoded = Model::encode(Moved{7, {1, 2}, 3});
  const auto truncated = Model::decode(encoded.payload_type, encoded.payload.substr(0, 6));
  CHECK(error_code(truncated) == Errc::corruption);
  CHECK(error_message(truncated).find("Moved") != std::string::npos);
  const auto empty = Model::decode(Departed::type, "");
  CHECK(error_code(empty) == Errc::corruption);
  CHECK(error_message(empty).find("Departed") != std::string::npos);
}

TEST_CASE("an unknown payload type is a corruption error naming the number") {
  const zone::EncodedEvent encoded = Model::encode(Left{7});
  for (const std::uint32_t type : {0u, 24u, 999u}) {
    const auto decoded = Model::decode(type, encoded.payload);
    CHECK(error_code(decoded) == Errc::corruption);
    CHECK(error_message(decoded).find(std::to_string(type)) != std::string::npos);
  }
}

/// A Died as version 1 wrote it: {entity, killer, xp, tick}.
std::string died_v1(EntityId entity, EntityId killer, std::uint64_t xp, std::uint64_t tick) {
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(schema::CreateDied(builder, entity, killer, xp, tick));
  return {reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()};
}

TEST_CASE("Died is at version 2 and the other event types at version 1") {
  CHECK(zone::event_version<Model>(Died::type) == 2);
  CHECK(Model::encode(Died{8, 7, 9}).version == 2);
  for (const Event& event : every_event()) {
    if (std::holds_alternative<Died>(event)) continue;
    CAPTURE(Model::event_name(event));
    CHECK(Model::encode(event).version == 1);
  }
}

TEST_CASE("a version 1 Died of a mob by a player upcasts to Died and XpGained") {
  const EntityId mob = mob_id(2, 5);
  const auto upcast = Model::upcast(Died::type, 1, died_v1(mob, 7, 25, 9));
  REQUIRE_OK(upcast);
  const std::vector<Event> expected{Died{mob, 7, 9}, XpGained{7, 25, mob}};
  CHECK(upcast.value() == expected);
}

TEST_CASE("a version 1 Died that earned nothing upcasts to the Died alone") {
  const auto upcast = Model::upcast(Died::type, 1, died_v1(7, mob_id(2, 5), 0, 9));
  REQUIRE_OK(upcast);
  const std::vector<Event> expected{Died{7, mob_id(2, 5), 9}};
  CHECK(upcast.value() == expected);
}

TEST_CASE("an upcast of bytes that do not verify, or of a version never written, is refused") {
  const auto damaged = Model::upcast(Died::type, 1, "not a flatbuffer");
  CHECK(error_code(damaged) == Errc::corruption);
  CHECK(error_message(damaged).find("Died version 1") != std::string::npos);
  const auto unknown = Model::upcast(Moved::type, 1, Model::encode(Moved{7, {1, 2}, 3}).payload);
  CHECK(error_code(unknown) == Errc::corruption);
  CHECK(error_message(unknown).find("type 3 has no schema version 1") != std::string::npos);
}

TEST_CASE("XpGained counts only for a mob of the zone, as Died version 1's xp did") {
  World w;
  w.populate();
  w.join(7);
  const std::uint64_t before = w.player(7).xp;
  w.apply(XpGained{7, 25, mob_id(2, 0)});
  CHECK(w.player(7).xp == before + 25);
  w.apply(XpGained{7, 25, 8}); // not a mob
  CHECK(w.player(7).xp == before + 25);
}

TEST_CASE("an unknown item kind in a well-formed buffer is refused as corrupt") {
  Command use = game::use(7, ItemKind::potion);
  std::get<Use>(use).kind = static_cast<ItemKind>(9);
  CHECK(error_code(Model::decode_command(Model::encode_command(use))) == Errc::corruption);
  const zone::EncodedEvent encoded =
      Model::encode(PickedUp{7, default_rules.first_item_id, static_cast<ItemKind>(0)});
  CHECK(error_code(Model::decode(encoded.payload_type, encoded.payload)) == Errc::corruption);
}

TEST_CASE("bytes that are not a command are a corruption error") {
  CHECK(error_code(Model::decode_command("")) == Errc::corruption);
  CHECK(error_code(Model::decode_command("not a flatbuffer at all")) == Errc::corruption);
  const zone::EncodedEvent event = Model::encode(Joined{7, {1, 2}, 3});
  CHECK(error_code(Model::decode_command(event.payload)) == Errc::corruption);
}

/// A zone with a bit of everything: players (one dead), mobs, ground items, a departure and
/// an arrival.
World busy_world() {
  World w;
  w.populate();
  w.join(7);
  w.join(8);
  w.join(9);
  w.give(7, ItemKind::potion);
  static_cast<void>(w.put_item(ItemKind::pelt, {100, 200}));
  w.apply(Died{8, mob_id(2, 0), w.tick()});
  w.place(9, {w.map().width_mm() - 300, w.map().spawn.y});
  w.advance(4);
  w.move(9, {w.map().width_mm() + 100, w.map().spawn.y});
  REQUIRE(w.accepted());
  Player visitor;
  visitor.id = 11;
  w.send(system_actor, Arrive{visitor, 3, 1});
  REQUIRE(w.accepted());
  static_cast<void>(w.run_ticks(30));
  return w;
}

TEST_CASE("restoring a snapshot gives an equal state with an equal hash and equal bytes") {
  const World w = busy_world();
  const std::string bytes = Model::snapshot(w.state());
  const auto restored = Model::restore(bytes);
  REQUIRE_OK(restored);
  CHECK(restored.value() == w.state());
  CHECK(restored.value().respawns == w.state().respawns);
  CHECK(restored.value().next_item_id == w.state().next_item_id);
  CHECK(Model::snapshot(restored.value()) == bytes);
  CHECK(Model::hash(restored.value()) == Model::hash(w.state()));
  CHECK(Model::hash(w.state()) == log::sha256(bytes));
}

TEST_CASE("a restored state decides exactly as the original") {
  World w = busy_world();
  const auto restored = Model::restore(Model::snapshot(w.state()));
  REQUIRE_OK(restored);
  zone::Context a{.info = w.state().info, .tick = w.tick(), .now_us = 0, .rng = zone::Rng(5)};
  zone::Context b = a;
  CHECK(Model::on_tick(w.state(), a).size() == Model::on_tick(restored.value(), b).size());
  const auto da = Model::decide(w.state(), player_actor(7), game::drop(7, ItemKind::potion), a);
  const auto db =
      Model::decide(restored.value(), player_actor(7), game::drop(7, ItemKind::potion), b);
  CHECK(da.events == db.events);
}

TEST_CASE("states that differ have different hashes") {
  World a;
  World b;
  a.join(7);
  b.join(8);
  CHECK(Model::hash(a.state()) != Model::hash(b.state()));
  CHECK(Model::hash(World().state()) == Model::hash(World().state()));
}

TEST_CASE("a damaged or foreign snapshot is refused") {
  const std::string bytes = Model::snapshot(busy_world().state());
  CHECK(error_code(Model::restore(bytes.substr(0, bytes.size() / 2))) == Errc::corruption);
  CHECK(error_code(Model::restore(Model::encode_command(game::join(7)))) == Errc::corruption);
  CHECK(error_code(Model::restore("")) == Errc::corruption);
}

TEST_CASE("the same seed and the same commands give byte-identical events") {
  const auto play = [] {
    World w;
    w.populate();
    w.join(7);
    const Point lair = w.map().mob_spawns[0].at;
    w.place(7, {lair.x + 1000, lair.y});
    for (int i = 0; i < 8; ++i) {
      w.advance(default_rules.attack_cooldown_ticks);
      w.attack(7, mob_id(2, 0));
      static_cast<void>(w.run_ticks(3));
    }
    static_cast<void>(w.run_ticks(200));
    return std::make_pair(w.payloads(), Model::snapshot(w.state()));
  };
  const auto first = play();
  const auto second = play();
  CHECK(first.first.size() > 20);
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
}

TEST_CASE("to_json shows the players and mobs and items and departures by id") {
  const World w = busy_world();
  const boost::json::value json = Model::to_json(w.state());
  const auto& root = json.as_object();
  CHECK(root.at("model").as_string() == "worldlog.reference");
  CHECK(root.at("zone").as_uint64() == 2);
  const auto& players = root.at("players").as_array();
  REQUIRE(players.size() == w.state().players.size());
  CHECK(players.front().as_object().at("id").as_uint64() == 7);
  CHECK(players.front().as_object().at("inventory").as_object().at("potion").as_uint64() == 1);
  CHECK(root.at("mobs").as_array().size() == w.state().mobs.size());
  CHECK(root.at("departing").as_array().size() == 1);
}

TEST_CASE("the names of events and commands and rejections are stable") {
  CHECK(Model::event_name(Moved{}) == "Moved");
  CHECK(Model::event_name(HandoffCompleted{}) == "HandoffCompleted");
  CHECK(Model::command_name(game::attack(1, 2)) == "Attack");
  CHECK(to_string(Reject::teleport) == "teleport");
  CHECK(to_string(Reject::invalid_entity) == "invalid_entity");
  CHECK(to_string(static_cast<Reject>(999)) == "unknown");
  CHECK(static_cast<std::uint32_t>(Reject::not_in_zone) == 1);
  CHECK(static_cast<std::uint32_t>(Reject::bad_text) == 14);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

// Rules as data: parsing a rules file (defaults, changes, every kind of bad input named), the
// canonical form and its hash, the shipped rules files, decisions under other rules, the
// system's ChangeRules and the RulesChanged it gives, snapshots and the genesis record.
#include <fstream>
#include <iterator>
#include <string>

#include <doctest/doctest.h>

#include <worldlog/zone/records.hpp>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

std::string example(const std::string& name) {
  std::ifstream in(std::string(WORLDLOG_EXAMPLES_DIR) + "/rules/" + name, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Rules parsed(std::string_view text) {
  auto rules = parse_rules(text);
  REQUIRE_OK(rules);
  return std::move(rules).value();
}

/// The error parse_rules gives for `text`, which must be refused as invalid_argument.
std::string refusal(std::string_view text) {
  auto rules = parse_rules(text);
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.error().code() == Errc::invalid_argument);
  return rules.error().message();
}

/// Zone 2 of 3 under `rules` (a rules file's text).
zone::ZoneInfo info_under(std::string rules) {
  zone::ZoneInfo info = default_info;
  info.rules = std::move(rules);
  return info;
}

/// The damage of every bite the wolf at spawn point 0 gives `hero`, standing near it, until the
/// hero dies (a world where every other mob is dead).
std::vector<std::int32_t> wolf_bites(const zone::ZoneInfo& info) {
  World w(info);
  w.populate();
  const EntityId wolf = mob_id(info.zone, 0);
  REQUIRE(w.mob(wolf).kind == MobKind::wolf);
  for (std::uint32_t i = 1; i < w.map().mob_spawns.size(); ++i)
    w.apply(Died{mob_id(info.zone, i), 0, w.tick()});
  w.join(hero);
  w.place(hero, w.mob(wolf).at);
  std::vector<std::int32_t> bites;
  for (int tick = 0; tick < 4000 && !w.player(hero).dead; ++tick)
    for (const auto& emitted : w.run_tick())
      if (const auto* bite = std::get_if<Attacked>(&emitted.event);
          bite && bite->attacker == wolf && bite->target == hero)
        bites.push_back(bite->damage);
  return bites;
}

TEST_SUITE_BEGIN("game/rules");

TEST_CASE("an empty rules file is the built-in rules version 1") {
  CHECK(parsed("{}") == default_rules);
  CHECK(parsed(" {\n} ").version == 1);
  CHECK(rules_of_text("").value() == default_rules);
}

TEST_CASE("a rules file changes the fields it names and keeps the defaults of the others") {
  const Rules rules =
      parsed(R"({"version": 7, "potion_heal": 10, "wolf": {"damage_max": 9, "loot": "potion"}})");
  CHECK(rules.version == 7);
  CHECK(rules.potion_heal == 10);
  CHECK(rules.wolf.damage_max == 9);
  CHECK(rules.wolf.loot == ItemKind::potion);
  CHECK(rules.wolf.damage_min == default_rules.wolf.damage_min);
  CHECK(rules.boar == default_rules.boar);
  CHECK(rules.tile_mm == default_rules.tile_mm);
}

TEST_CASE("the shipped reference rules are the built-in ones and gentle-wolves halves the bite") {
  CHECK(parsed(example("reference.json")) == default_rules);
  const Rules gentle = parsed(example("gentle-wolves.json"));
  CHECK(gentle.version == 2);
  CHECK(gentle.wolf.damage_min == default_rules.wolf.damage_min / 2);
  CHECK(gentle.wolf.damage_max == default_rules.wolf.damage_max / 2);
  Rules only_wolves = default_rules;
  only_wolves.version = 2;
  only_wolves.wolf.damage_min = gentle.wolf.damage_min;
  only_wolves.wolf.damage_max = gentle.wolf.damage_max;
  CHECK(gentle == only_wolves);
}

TEST_CASE("bad rules are refused naming the field and what is wrong") {
  CHECK(refusal("{\"tile_mm\": ").find("not JSON") != std::string::npos);
  CHECK(refusal("[1, 2]").find("must be a JSON object") != std::string::npos);
  CHECK(refusal(R"({"speed": 3})") == "rules field 'speed' is not a field of the rules");
  CHECK(refusal(R"({"max_player_id": 3})") ==
        "rules field 'max_player_id' is fixed: no rules file may change it");
  CHECK(refusal(R"({"tile_mm": "big"})") ==
        "rules field 'tile_mm' must be an integer, not \"big\"");
  CHECK(refusal(R"({"tile_mm": 1.5})").find("'tile_mm' must be an integer") != std::string::npos);
  CHECK(refusal(R"({"tile_mm": 0})") == "rules field 'tile_mm' is 0: it must be 4 to 100000");
  CHECK(refusal(R"({"boulder_percent": 101})") ==
        "rules field 'boulder_percent' is 101: it must be 0 to 100");
  CHECK(refusal(R"({"rock_percent": 90})") ==
        "rules field 'rock_percent' is 90: with boulder_percent 13 it passes 100");
  CHECK(refusal(R"({"damage_min": 20})") == "rules field 'damage_min' is 20, above damage_max 12");
  CHECK(refusal(R"({"wolf": {"damage_min": 7}})") ==
        "rules field 'wolf.damage_min' is 7, above damage_max 6");
  CHECK(refusal(R"({"wolf": {"bite": 7}})") ==
        "rules field 'wolf.bite' is not a field of the rules");
  CHECK(refusal(R"({"boar": {"loot": "sword"}})") ==
        "rules field 'boar.loot' must be \"pelt\" or \"potion\", not \"sword\"");
  CHECK(refusal(R"({"wolf": 3})") == "rules field 'wolf' must be an object, not 3");
  CHECK(refusal(R"({"mob_think_ticks": -1})") ==
        "rules field 'mob_think_ticks' is -1: it must be 1 to 100000");
  CHECK(refusal(R"({"xp_per_level": 18446744073709551615})")
            .find("rules field 'xp_per_level' is 18446744073709551615") != std::string::npos);
}

TEST_CASE("the hash covers the rules, not the file: key order and whitespace do not matter") {
  const Rules a = parsed(R"({"version": 2, "wolf": {"damage_min": 1, "damage_max": 3}})");
  const Rules b = parsed("{ \"wolf\" : { \"damage_max\" : 3,\n\n \"damage_min\" : 1 },\n"
                         "  \"version\" : 2 }");
  CHECK(rules_hash(a) == rules_hash(b));
  CHECK(canonical_rules(a) == canonical_rules(b));
  CHECK(parsed(canonical_rules(a)) == a);
  CHECK(parsed(canonical_rules(default_rules)) == default_rules);
  CHECK(rules_hash(a) != rules_hash(default_rules));
  Rules other_version = a;
  other_version.version = 3;
  CHECK(rules_hash(other_version) != rules_hash(a));
  CHECK(Model::rules_id(a) == zone::RulesId{2, rules_hash(a)});
}

TEST_CASE("a state holds the rules of its genesis, and decide reads them") {
  const World plain;
  CHECK(*plain.state().rules == default_rules);
  CHECK(plain.state().rules == shared_default_rules());
  const World gentle(info_under(example("gentle-wolves.json")));
  CHECK(gentle.state().rules->version == 2);
  CHECK(Model::rules_version_of(gentle.state()) == 2);
  CHECK(gentle.state().map == plain.state().map);

  // A wolf bites within the rules in force: 3 to 6 by default, 1 to 3 under gentle-wolves.
  const std::vector<std::int32_t> normal = wolf_bites(default_info);
  const std::vector<std::int32_t> halved = wolf_bites(info_under(example("gentle-wolves.json")));
  REQUIRE_FALSE(normal.empty());
  REQUIRE_FALSE(halved.empty());
  for (const std::int32_t damage : normal)
    CHECK((damage >= 3 && damage <= 6));
  for (const std::int32_t damage : halved)
    CHECK((damage >= 1 && damage <= 3));
  CHECK(halved.size() > normal.size()); // the hero lasts longer
}

TEST_CASE("map rules give another map") {
  const World big(info_under(R"({"version": 2, "map_width": 90, "tile_mm": 500})"));
  CHECK(big.map().width == 90);
  CHECK(big.map().tile_mm == 500);
  CHECK(big.map().width_mm() == 45'000);
  CHECK(map_for(big.state().info) == big.map());
}

TEST_CASE("ChangeRules from a player is not authorized") {
  World w = with_hero();
  w.as(hero, ChangeRules{example("gentle-wolves.json")});
  CHECK(w.rejected(Reject::not_authorized));
  CHECK(w.reason() ==
        fmt::format("ChangeRules may be sent by the system only, not by player:{}", hero));
  CHECK(*w.state().rules == default_rules);
}

TEST_CASE("ChangeRules from the system gives RulesChanged and the next decisions use them") {
  World w = with_hero();
  w.say(hero, "hello");
  REQUIRE(w.accepted());

  const std::string text = R"({"version": 2, "max_say_bytes": 4})";
  w.send(system_actor, ChangeRules{text});
  REQUIRE(w.accepted());
  REQUIRE(w.events().size() == 1);
  const auto* changed = std::get_if<RulesChanged>(&w.events().front());
  REQUIRE(changed != nullptr);
  CHECK(changed->version == 2);
  CHECK(changed->hash == rules_hash(parsed(text)));
  CHECK(changed->rules == canonical_rules(parsed(text)));
  CHECK(Model::rules_changed(w.events().front()) == zone::RulesId{2, changed->hash});
  CHECK(*w.state().rules == parsed(text));

  w.say(hero, "hello");
  CHECK(w.rejected(Reject::bad_text));
  w.say(hero, "hi");
  CHECK(w.accepted());

  // The same rules again change nothing; rules that would change the map are refused.
  w.send(system_actor, ChangeRules{text});
  CHECK(w.accepted());
  CHECK(w.events().empty());
  w.send(system_actor, ChangeRules{R"({"version": 3, "map_width": 70})"});
  CHECK(w.rejected(Reject::bad_rules));
  CHECK(w.reason().find("would change the map of zone 2") != std::string::npos);
  w.send(system_actor, ChangeRules{R"({"version": 3, "tile_mm": "x"})"});
  CHECK(w.rejected(Reject::bad_rules));
  CHECK(w.reason() == "rules field 'tile_mm' must be an integer, not \"x\"");

  // The fold of the history gives the same state, rules included.
  CHECK(w.replay() == w.state());
}

TEST_CASE("a snapshot keeps rules other than the built-in ones and leaves the built-in ones out") {
  World w = with_hero();
  const std::string plain = Model::snapshot(w.state());
  w.send(system_actor, ChangeRules{example("gentle-wolves.json")});
  REQUIRE(w.accepted());
  const std::string patched = Model::snapshot(w.state());
  CHECK(patched.size() > plain.size());
  CHECK(Model::hash(w.state()) != log::sha256(plain));
  auto restored = Model::restore(patched);
  REQUIRE_OK(restored);
  CHECK(*restored == w.state());
  CHECK(restored->rules->version == 2);
  CHECK(Model::hash(*restored) == Model::hash(w.state()));

  // Back to the built-in rules: the bytes are those of a state that never changed its rules.
  State back = w.state();
  Model::set_rules(back, default_rules);
  CHECK(Model::snapshot(back) == plain);
}

TEST_CASE("the genesis records rules, and without them hashes as it always did") {
  const zone::Genesis plain{std::string(Model::name), 1, default_info};
  CHECK(plain.config_hash() == log::sha256("worldlog.reference|1|2|3|42|50000|"));
  auto decoded_plain = zone::decode_genesis(zone::encode_genesis(plain));
  REQUIRE_OK(decoded_plain);
  CHECK(decoded_plain->info.rules.empty());

  const zone::Genesis ruled{std::string(Model::name), 1,
                            info_under(canonical_rules(parsed(example("gentle-wolves.json"))))};
  CHECK(ruled.config_hash() != plain.config_hash());
  auto decoded = zone::decode_genesis(zone::encode_genesis(ruled));
  REQUIRE_OK(decoded);
  CHECK(decoded->info.rules == ruled.info.rules);
  CHECK(Model::initial_state(decoded->info).rules->version == 2);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

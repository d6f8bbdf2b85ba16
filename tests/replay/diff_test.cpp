// diff: entity by entity and field by field, through to_json, on documents written by hand and
// on states of the reference game.
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/model.hpp>
#include <worldlog/replay/diff.hpp>

namespace worldlog::test {
namespace {

namespace json = boost::json;
using replay::Change;

std::vector<std::string> lines(const json::value& a, const json::value& b) {
  std::vector<std::string> out;
  for (const Change& change : replay::diff(a, b))
    out.push_back(replay::to_string(change));
  return out;
}

std::vector<std::string> lines(const char* a, const char* b) {
  return lines(json::parse(a), json::parse(b));
}

} // namespace

TEST_CASE("equal documents have no differences") {
  const char* doc = R"({"players": [{"id": 1, "hp": 3}], "zone": 2})";
  CHECK(lines(doc, doc).empty());
}

TEST_CASE("a field of an entity is named by the entity's id, not its place in the array") {
  CHECK(
      lines(R"({"players": [{"id": 3, "hp": 5}, {"id": 17, "hp": 80, "level": 2}]})",
            R"({"players": [{"id": 17, "hp": 62, "level": 2}]})") ==
      std::vector<std::string>{R"(players.3: removed {"id":3,"hp":5})", "players.17.hp: 80 -> 62"});
}

TEST_CASE("added and removed entities and fields are listed with their values") {
  CHECK(lines(R"({"players": [{"id": 1, "inventory": {"potion": 2}}], "mobs": []})",
              R"({"players": [{"id": 1, "inventory": {"pelt": 1}}],
                  "mobs": [{"id": 9, "hp": 30}], "items": []})") ==
        std::vector<std::string>{"players.1.inventory.potion: removed 2",
                                 "players.1.inventory.pelt: added 1",
                                 R"(mobs.9: added {"id":9,"hp":30})", "items: added []"});
}

TEST_CASE("arrays that are not entities are compared as one value") {
  CHECK(lines(R"({"players": [{"id": 1, "at": [100, 200], "quests": ["a"]}]})",
              R"({"players": [{"id": 1, "at": [150, 200], "quests": ["a", "b"]}]})") ==
        std::vector<std::string>{"players.1.at: [100,200] -> [150,200]",
                                 R"(players.1.quests: ["a"] -> ["a","b"])"});
  // Ids that repeat do not identify anything: the array is one value.
  CHECK(lines(R"({"xs": [{"id": 1, "v": 1}, {"id": 1, "v": 2}]})",
              R"({"xs": [{"id": 1, "v": 1}, {"id": 1, "v": 3}]})") ==
        std::vector<std::string>{
            R"(xs: [{"id":1,"v":1},{"id":1,"v":2}] -> [{"id":1,"v":1},{"id":1,"v":3}])"});
}

TEST_CASE("entities are keyed by id, by entity, or by the id of a member object") {
  CHECK(lines(R"({"epochs": [{"entity": 4, "epoch": 1}],
                  "departing": [{"player": {"id": 8, "hp": 9}, "to": 2}]})",
              R"({"epochs": [{"entity": 4, "epoch": 2}],
                  "departing": [{"player": {"id": 8, "hp": 7}, "to": 2}]})") ==
        std::vector<std::string>{"epochs.4.epoch: 1 -> 2", "departing.8.player.hp: 9 -> 7"});
}

TEST_CASE("a diff from nothing lists everything as added") {
  CHECK(lines(json::value(nullptr), json::parse(R"({"zone": 1, "players": []})")) ==
        std::vector<std::string>{"zone: added 1", "players: added []"});
  CHECK(lines(json::parse(R"({"zone": 1})"), json::value(nullptr)) ==
        std::vector<std::string>{"zone: removed 1"});
}

TEST_CASE("a change as JSON has its path, its kind and the values on each side") {
  const auto changes =
      replay::diff(json::parse(R"({"a": 1, "b": 2})"), json::parse(R"({"a": 3, "c": 4})"));
  CHECK(json::serialize(replay::to_json(changes)) ==
        R"([{"path":"a","change":"changed","before":1,"after":3},)"
        R"({"path":"b","change":"removed","before":2},)"
        R"({"path":"c","change":"added","after":4}])");
}

TEST_CASE("the diff of two game states names the fields an event changed") {
  using namespace game;
  State before = Model::initial_state({.zone = 1, .zone_count = 1, .seed = 42});
  Model::evolve(before, Joined{7, before.map.spawn, 10});
  State after = before;
  Model::evolve(after, Attacked{99, 7, 15, 11});
  Model::evolve(after, Joined{8, before.map.spawn, 11});

  const auto changes = replay::diff_states<Model>(before, after);
  REQUIRE(changes.size() == 2);
  CHECK(replay::to_string(changes[0]) == "players.7.hp: 100 -> 85");
  CHECK(changes[1].kind == Change::Kind::added);
  CHECK(changes[1].path == "players.8");
  CHECK(changes[1].after.at("hp") == 100);

  Model::evolve(after, Left{7});
  const auto left = replay::diff_states<Model>(before, after);
  REQUIRE(left.size() == 2);
  CHECK(left[0].kind == Change::Kind::removed);
  CHECK(left[0].path == "players.7");
  CHECK(left[1].path == "players.8");
}

} // namespace worldlog::test

// Chat and quests: what may be said, and the "reach the waypoint" quest (the wolf quest is in
// combat_test.cpp).
#include <string>

#include <doctest/doctest.h>

#include "game/world_fixture.hpp"

namespace worldlog::game::test {
namespace {

TEST_SUITE_BEGIN("game/social");

TEST_CASE("saying something records the text for the players nearby") {
  World w;
  w.join(hero);
  w.say(hero, "hello, zone");
  REQUIRE(w.accepted());
  CHECK(*find_event<Said>(w.events()) == Said{hero, "hello, zone"});
  const auto located = Model::locate(w.state(), w.events().front());
  REQUIRE(located.has_value());
  CHECK(located->subject == hero);
  CHECK(located->at == w.map().spawn);
}

TEST_CASE("empty and overlong text is rejected but 256 bytes of any bytes are fine") {
  World w;
  w.join(hero);
  w.say(hero, "");
  CHECK(w.rejection() == Reject::bad_text);
  w.say(hero, std::string(default_rules.max_say_bytes + 1, 'a'));
  CHECK(w.rejection() == Reject::bad_text);
  CHECK(w.reason() == "257 bytes of text exceed 256");
  w.say(hero, std::string(default_rules.max_say_bytes, '\xff'));
  CHECK(w.accepted());
}

TEST_CASE("only players in the zone can speak and only for themselves") {
  World w;
  w.say(hero, "anyone?");
  CHECK(w.rejection() == Reject::not_in_zone);
  w.join(hero);
  w.join(8);
  w.as(8, game::say(hero, "I am 7"));
  CHECK(w.rejection() == Reject::not_authorized);
}

TEST_CASE("reaching the waypoint completes its quest once with experience") {
  World w;
  w.join(hero);
  const Point goal = w.map().waypoint;
  // The waypoint is on a lane crossing, so its row is free on both sides.
  const std::int64_t side = goal.x < w.map().width_mm() / 2 ? 1 : -1;
  w.place(hero, {goal.x + side * 4000, goal.y});
  w.advance(20);
  w.move(hero, {goal.x + side * (default_rules.waypoint_radius_mm + 1), goal.y});
  REQUIRE(w.accepted());
  CHECK(find_event<QuestCompleted>(w.events()) == nullptr);
  w.advance(20);
  w.move(hero, {goal.x + side * default_rules.waypoint_radius_mm, goal.y});
  REQUIRE(w.accepted());
  CHECK(names_of(w.events()) == std::vector<std::string>{"Moved", "QuestCompleted", "LevelUp"});
  CHECK(*find_event<QuestCompleted>(w.events()) ==
        QuestCompleted{hero, Quest::reach_waypoint, default_rules.quest_xp});
  CHECK(w.player(hero).done(Quest::reach_waypoint));
  CHECK(w.player(hero).xp == default_rules.quest_xp);

  w.advance(20);
  w.move(hero, goal);
  REQUIRE(w.accepted());
  CHECK(names_of(w.events()) == std::vector<std::string>{"Moved"});
  CHECK(w.player(hero).xp == default_rules.quest_xp);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

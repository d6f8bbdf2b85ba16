// The bot brain: fed a scripted sequence of broadcasts and answers, it makes the expected
// choices; played against the real rules for thousands of ticks, in three zones with handoffs,
// it never proposes a move longer than the speed allows, into a rock or off the world.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/game/bot.hpp>
#include <worldlog/game/geometry.hpp>

#include "game/world_fixture.hpp"

namespace doctest {
template <> struct StringMaker<worldlog::game::Command> {
  static String convert(const worldlog::game::Command& command) {
    return String(std::string(worldlog::game::Model::command_name(command)).c_str());
  }
};
template <> struct StringMaker<std::optional<worldlog::game::Command>> {
  static String convert(const std::optional<worldlog::game::Command>& command) {
    return command ? StringMaker<worldlog::game::Command>::convert(*command) : String("nothing");
  }
};
} // namespace doctest

namespace worldlog::game::test {
namespace {

constexpr EntityId me = 7;
const zone::ZoneInfo home{.zone = 2, .zone_count = 3, .seed = 42};
/// No whims in scripted tests: a Say would take the turn the test expects another choice in.
constexpr BotOptions quiet{.say_percent = 0};

/// A bot fed by hand: events arrive as broadcasts of its zone with growing seqs, answers as
/// outcomes, at a tick the test moves on.
class Script {
public:
  explicit Script(BotOptions options = quiet) : bot_(me, home, options), map_(map_for(home)) {}

  [[nodiscard]] std::optional<Command> next() { return bot_.next(tick_, rng_); }
  /// Accepts the command in flight; `events` are its events, shown after the answer as the
  /// zone does.
  void accept(const std::vector<Event>& events) {
    zone::Outcome outcome{.accepted = true};
    if (!events.empty()) {
      outcome.first_seq = seq_ + 1;
      outcome.last_seq = seq_ + events.size();
    }
    bot_.on_outcome(outcome, tick_);
    for (const Event& event : events)
      show(event, player_actor(me));
  }
  void reject(Reject code) {
    ++seq_;
    bot_.on_outcome(zone::Outcome{.accepted = false,
                                  .first_seq = seq_,
                                  .last_seq = seq_,
                                  .code = static_cast<std::uint32_t>(code)},
                    tick_);
  }
  /// Shows `event` as a broadcast of `zone`, seen where `at` says (the bot's own spot by
  /// default).
  void show(const Event& event, log::Actor actor = {log::ActorKind::system, 0},
            std::optional<Point> at = std::nullopt, ZoneId zone = home.zone) {
    const Point where = at.value_or(bot_.view().me.at);
    bot_.see({zone, ++seq_, actor, event, zone::Located{me, where}});
  }
  /// Joins: the Join, its answer and its Joined event.
  void join_zone() {
    REQUIRE(next() == Command{join(me)});
    accept({Joined{me, map_.spawn, tick_}});
    REQUIRE(bot_.view().joined);
  }
  void advance(std::uint64_t ticks) { tick_ += ticks; }

  [[nodiscard]] Bot& bot() noexcept { return bot_; }
  [[nodiscard]] const Map& map() const noexcept { return map_; }
  [[nodiscard]] std::uint64_t tick() const noexcept { return tick_; }

private:
  Bot bot_;
  Map map_;
  zone::Rng rng_{1};
  std::uint64_t tick_ = 1000;
  log::Seq seq_ = 1;
};

const EntityId wolf = mob_id(home.zone, 0);

TEST_SUITE_BEGIN("game/bot");

TEST_CASE("a bot joins its home zone first and sends nothing more until it is answered") {
  Script s;
  CHECK(s.next() == Command{join(me)});
  s.advance(5);
  CHECK(s.next() == std::nullopt);
  s.accept({Joined{me, s.map().spawn, s.tick()}});
  CHECK(s.bot().view().joined);
  CHECK(s.bot().view().me.at == s.map().spawn);
  CHECK(s.bot().zone() == home.zone);
}

TEST_CASE("a bot attacks a mob in range, and not again before its cooldown is over") {
  Script s;
  s.join_zone();
  const Point near{s.map().spawn.x + 1500, s.map().spawn.y};
  s.show(MobSpawned{wolf, MobKind::wolf, 0, near}, {log::ActorKind::mob, wolf}, near);
  REQUIRE(s.next() == Command{attack(me, wolf)});
  s.accept({Attacked{me, wolf, 8, s.tick()}});

  s.advance(default_rules.attack_cooldown_ticks - 1);
  CHECK(s.next() == std::nullopt); // in reach, cooling down: it waits rather than walks off
  s.advance(1);
  CHECK(s.next() == Command{attack(me, wolf)});
}

TEST_CASE("a bot forgets a mob it could not hit and goes back to walking") {
  Script s;
  s.join_zone();
  const Point near{s.map().spawn.x + 1500, s.map().spawn.y};
  s.show(MobSpawned{wolf, MobKind::wolf, 0, near}, {log::ActorKind::mob, wolf}, near);
  REQUIRE(s.next() == Command{attack(me, wolf)});
  s.reject(Reject::unknown_target);
  CHECK(s.bot().view().mobs.empty());
  s.advance(4);
  const auto next = s.next();
  REQUIRE(next.has_value());
  CHECK(std::holds_alternative<Move>(*next));
}

TEST_CASE("a bot picks up an item lying under it, and forgets it once taken") {
  Script s;
  s.join_zone();
  const ItemId item = default_rules.first_item_id + 3;
  s.show(LootDropped{wolf, item, ItemKind::pelt, s.map().spawn, s.tick()});
  REQUIRE(s.next() == Command{pick_up(me, item)});
  s.accept({PickedUp{me, item, ItemKind::pelt}});
  CHECK(s.bot().view().items.empty());
  CHECK(s.bot().view().me.inventory == Inventory{{ItemKind::pelt, 1}});
}

TEST_CASE("a hurt bot drinks a potion, a healthy one does not") {
  Script s;
  s.join_zone();
  s.show(PickedUp{me, default_rules.first_item_id, ItemKind::potion}, player_actor(me));
  s.advance(4);
  const auto healthy = s.next();
  REQUIRE(healthy.has_value());
  CHECK_FALSE(std::holds_alternative<Use>(*healthy));
  s.accept({});

  const Point bitten_from{s.bot().view().me.at.x, s.bot().view().me.at.y + 1000};
  s.show(Attacked{wolf, me, 60, s.tick()}, {log::ActorKind::mob, wolf}, bitten_from);
  REQUIRE(s.bot().view().me.hp == default_rules.max_hp_at(1) - 60);
  CHECK(s.next() == Command{use(me, ItemKind::potion)});
  s.accept({Used{me, ItemKind::potion, 40}});
  CHECK(s.bot().view().me.hp == default_rules.max_hp_at(1) - 20);
  CHECK(s.bot().view().me.inventory.empty());
}

TEST_CASE("a bot walks towards a mob it sees out of reach, no farther than its speed") {
  Script s;
  s.join_zone();
  // Down the spawn's lane column, which is free of rocks.
  const Point far{s.map().spawn.x, s.map().spawn.y + 6000};
  s.show(MobMoved{wolf, far}, {log::ActorKind::mob, wolf}, far);
  s.advance(4);
  const auto next = s.next();
  REQUIRE(next.has_value());
  const auto* walk = std::get_if<Move>(&*next);
  REQUIRE(walk != nullptr);
  CHECK(geometry::distance(walk->to, far) < geometry::distance(s.map().spawn, far));
  CHECK(geometry::distance(s.map().spawn, walk->to) <= 4 * default_rules.player_speed_mm_per_tick);
}

TEST_CASE("a bot does not count on the speed of a move whose event it has not seen yet") {
  Script s;
  s.join_zone();
  s.advance(4);
  const auto first = s.next();
  REQUIRE(first.has_value());
  REQUIRE(std::holds_alternative<Move>(*first));
  // Answered at this tick, its Moved not yet shown: the allowance counts from the answer.
  s.accept({});
  CHECK(s.next() == std::nullopt);
  s.advance(1);
  const auto second = s.next();
  REQUIRE(second.has_value());
  const auto* walk = std::get_if<Move>(&*second);
  REQUIRE(walk != nullptr);
  CHECK(geometry::distance(std::get<Move>(*first).to, walk->to) <=
        default_rules.player_speed_mm_per_tick);
}

TEST_CASE("a bot that sees its own departure before the answer moves to the next zone once") {
  Script s;
  s.join_zone();
  s.advance(4);
  REQUIRE(s.next().has_value());
  // Its Departed (east, into zone 3) arrives before the answer to the command in flight.
  Player leaving = s.bot().view().me;
  leaving.at = {s.map().width_mm() + 200, s.map().spawn.y};
  s.show(Departed{leaving, 3, 1}, player_actor(me));
  s.accept({});
  const Map east = map_for({3, home.zone_count, home.seed, home.tick_us});
  const Point entry = east.entry_from(home.zone, s.map().spawn.y);
  CHECK(s.bot().zone() == 3);
  CHECK(s.bot().view().arriving);
  CHECK(s.bot().view().me.at == entry);
  CHECK(s.next() == std::nullopt); // it waits for its arrival

  Player arrived = leaving;
  arrived.at = entry;
  arrived.epoch = 1;
  arrived.last_move_tick = s.tick();
  s.show(Arrived{arrived, home.zone, 1}, {log::ActorKind::system, 0}, entry, 3);
  CHECK_FALSE(s.bot().view().arriving);
  s.advance(4);
  const auto next = s.next();
  REQUIRE(next.has_value());
  CHECK(s.bot().zone() == 3);
}

TEST_CASE("a dead bot waits for its respawn, then walks from the spawn point") {
  Script s;
  s.join_zone();
  s.show(Died{me, wolf, s.tick()}, {log::ActorKind::mob, wolf});
  s.advance(50);
  CHECK(s.next() == std::nullopt);
  s.show(Respawned{me, s.map().spawn, s.tick()});
  s.advance(4);
  CHECK(s.next().has_value());
  CHECK_FALSE(s.bot().view().me.dead);
}

TEST_CASE("a bot that logs out leaves once, then sends nothing") {
  Script s;
  s.join_zone();
  s.bot().log_out();
  REQUIRE(s.next() == Command{leave(me)});
  s.accept({Left{me}});
  CHECK(s.bot().logged_out());
  s.advance(100);
  CHECK(s.next() == std::nullopt);
}

// ---- against the rules ------------------------------------------------------------------------

/// Three zones of the real rules (no zone actor), bots that act every few ticks, broadcasts by
/// view radius as the zone gives them, and handoffs delivered as the zone set does.
class Playground {
public:
  static constexpr ZoneId zones = 3;
  static constexpr std::int64_t view_radius_mm = 20'000;

  explicit Playground(std::size_t players) {
    for (ZoneId z = 1; z <= zones; ++z) {
      worlds_.push_back(std::make_unique<World>(zone::ZoneInfo{z, zones, 42, 50'000}));
      seqs_.push_back(0);
    }
    for (std::size_t i = 0; i < players; ++i) {
      const EntityId id = 100 + i;
      bots_.emplace_back(id, zone::ZoneInfo{i % zones + 1, zones, 42, 50'000});
    }
  }

  /// One tick: every bot whose turn it is acts (every 4 ticks, staggered), then the zones tick.
  void run_tick() {
    const std::uint64_t tick = worlds_.front()->tick();
    for (std::size_t i = 0; i < bots_.size(); ++i) {
      if ((tick + i) % 4 == 0) act(bots_[i], tick);
    }
    for (ZoneId z = 1; z <= zones; ++z) {
      for (const auto& emitted : world(z).run_tick())
        show(z, emitted.actor, emitted.event);
    }
  }

  [[nodiscard]] std::map<Reject, int>& rejections() noexcept { return rejections_; }
  [[nodiscard]] const State& state(ZoneId z) const { return worlds_[z - 1]->state(); }
  int moves = 0;    ///< moves proposed
  int too_long = 0; ///< moves longer than the speed rule allowed when proposed
  int attacks = 0;  ///< attacks accepted
  int pickups = 0;  ///< pick-ups accepted
  int handoffs = 0; ///< arrivals in another zone
  int commands = 0; ///< commands sent

private:
  World& world(ZoneId z) { return *worlds_[z - 1]; }

  void act(Bot& bot, std::uint64_t tick) {
    const auto command = bot.next(tick, rng_);
    if (!command) return;
    ++commands;
    World& w = world(bot.zone());
    if (const auto* walk = std::get_if<Move>(&*command)) check_move(w, *walk, tick);
    const Model::Decision decision = w.send(player_actor(bot.self()), *command);
    zone::Outcome outcome;
    log::Seq& seq = seqs_[bot.zone() - 1];
    if (decision.rejected()) {
      ++rejections_[reject_of(*decision.rejection)];
      outcome = {
          .accepted = false, .first_seq = ++seq, .last_seq = seq, .code = decision.rejection->code};
    } else {
      outcome.accepted = true;
      if (!decision.events.empty()) {
        outcome.first_seq = seq + 1;
        outcome.last_seq = seq + decision.events.size();
      }
      attacks += std::holds_alternative<Attack>(*command) ? 1 : 0;
      pickups += std::holds_alternative<PickUp>(*command) ? 1 : 0;
    }
    const ZoneId zone = bot.zone();
    bot.on_outcome(outcome, tick);
    for (const Event& event : decision.events) {
      show(zone, player_actor(bot.self()), event);
      if (const auto* departed = std::get_if<Departed>(&event)) hand_off(zone, *departed);
    }
  }

  /// The speed rule against the zone's own record of the player, as `decide` will apply it.
  void check_move(const World& w, const Move& walk, std::uint64_t tick) {
    ++moves;
    const Player* player = w.state().player(walk.entity);
    if (player == nullptr) return;
    const std::uint64_t idle = tick > player->last_move_tick ? tick - player->last_move_tick : 0;
    const std::int64_t allowed =
        default_rules.player_speed_mm_per_tick *
            static_cast<std::int64_t>(std::min(idle, default_rules.move_bank_ticks)) +
        default_rules.move_allowance_mm;
    if (!geometry::within(player->at, walk.to, allowed)) ++too_long;
  }

  void hand_off(ZoneId from, const Departed& departed) {
    World& to = world(departed.to);
    const Model::Decision arrival =
        to.send(system_actor, Arrive{departed.player, departed.epoch, from});
    REQUIRE_FALSE(arrival.rejected());
    for (const Event& event : arrival.events)
      show(departed.to, system_actor, event);
    ++handoffs;
    REQUIRE_FALSE(world(from)
                      .send(system_actor, CompleteHandoff{departed.player.id, departed.epoch})
                      .rejected());
  }

  /// Broadcasts `event` of zone `z` to the bots whose players stand within the view radius of
  /// where it happened, and to its subject.
  void show(ZoneId z, log::Actor actor, const Event& event) {
    const log::Seq seq = ++seqs_[z - 1];
    const auto where = Model::locate(world(z).state(), event);
    if (!where) return;
    for (Bot& bot : bots_) {
      const Player* viewer = world(z).state().player(bot.self());
      const bool near =
          viewer != nullptr && geometry::within(viewer->at, where->at, view_radius_mm);
      if (near || where->subject == bot.self()) bot.see({z, seq, actor, event, *where});
    }
  }

  std::vector<std::unique_ptr<World>> worlds_;
  std::vector<log::Seq> seqs_;
  std::vector<Bot> bots_;
  zone::Rng rng_{2024};
  std::map<Reject, int> rejections_;
};

TEST_CASE("bots playing the real rules never move too far, into a rock or off the world") {
  Playground playground(9);
  for (int tick = 0; tick < 3000; ++tick)
    playground.run_tick();

  auto& rejected = playground.rejections();
  CHECK(playground.too_long == 0);
  CHECK(rejected[Reject::teleport] == 0);
  CHECK(rejected[Reject::blocked] == 0);
  CHECK(rejected[Reject::out_of_bounds] == 0);
  CHECK(rejected[Reject::invalid_coordinates] == 0);
  // They did play: walked a lot, fought, looted and crossed into other zones.
  CHECK(playground.moves > 2000);
  CHECK(playground.attacks > 0);
  CHECK(playground.pickups > 0);
  CHECK(playground.handoffs > 0);
  int refused = 0;
  for (const auto& [code, count] : rejected)
    refused += count;
  MESSAGE(fmt::format("{} commands, {} moves, {} attacks, {} pick-ups, {} handoffs, {} refused",
                      playground.commands, playground.moves, playground.attacks, playground.pickups,
                      playground.handoffs, refused));
  CHECK(refused * 20 < playground.commands); // a few rejections are fine, not many
}

TEST_CASE("bots playing the real rules keep the items of every zone balanced with its ledger") {
  Playground playground(9);
  for (int tick = 0; tick < 3000; ++tick) {
    playground.run_tick();
    for (ZoneId z = 1; z <= Playground::zones; ++z) {
      CAPTURE(tick);
      CAPTURE(z);
      REQUIRE(items_balanced(playground.state(z)));
    }
  }
  // Items did come and go: looted, picked up and carried across zones.
  ItemLedger total;
  for (ZoneId z = 1; z <= Playground::zones; ++z) {
    const ItemLedger& ledger = playground.state(z).item_ledger;
    total.created += ledger.created;
    total.used += ledger.used;
    total.expired += ledger.expired;
    total.carried_in += ledger.carried_in;
    total.carried_out += ledger.carried_out;
  }
  MESSAGE(fmt::format("items created {}, used {}, expired {}, carried in {}, carried out {}",
                      total.created, total.used, total.expired, total.carried_in,
                      total.carried_out));
  CHECK(total.created > 0);
  CHECK(playground.pickups > 0);
  CHECK(total.carried_in > 0);
  // Every item carried into a zone was carried out of another (no one leaves the game here).
  CHECK(total.carried_in == total.carried_out);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game::test

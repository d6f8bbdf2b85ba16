// The market's rules through decide and evolve (as a zone runs them, without one), its codecs
// and snapshots, and its invariants over a long random session and against a broken ledger.
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <market/invariants.hpp>
#include <market/model.hpp>

namespace worldlog::market {
namespace {

constexpr log::Actor trader_actor(TraderId id) { return {log::ActorKind::player, id}; }
constexpr log::Actor system_actor{log::ActorKind::system, 0};

/// A market of zone 1 of 2, driven command by command: decide, then evolve what it decided.
struct Market {
  State state = Model::initial_state({.zone = 1, .zone_count = 2, .seed = 7});
  std::uint64_t tick = 1;
  std::uint64_t seq = 0;

  zone::Context context() {
    return {.info = state.info, .tick = tick, .now_us = 0, .rng = zone::Rng(++seq * 31 + tick)};
  }

  Model::Decision run(const Command& command, log::Actor actor) {
    auto ctx = context();
    auto decision = Model::decide(state, actor, command, ctx);
    for (const auto& event : decision.events)
      Model::evolve(state, event);
    return decision;
  }
  /// A command of the trader it names.
  Model::Decision act(const Command& command) {
    const TraderId id = std::visit(
        [](const auto& c) -> TraderId {
          if constexpr (std::is_same_v<std::decay_t<decltype(c)>, Arrive>) {
            return c.trader.id;
          } else {
            return c.trader;
          }
        },
        command);
    return run(command, trader_actor(id));
  }
  void tick_to(std::uint64_t to) {
    tick = to;
    auto ctx = context();
    for (const auto& emitted : Model::on_tick(state, ctx))
      Model::evolve(state, emitted.event);
  }
  [[nodiscard]] std::optional<Reject> rejection(const Model::Decision& decision) const {
    if (!decision.rejected()) return std::nullopt;
    return static_cast<Reject>(decision.rejection->code);
  }
  void check_balanced() const {
    CHECK(gold_violation(state) == std::nullopt);
    CHECK(goods_violation(state) == std::nullopt);
    CHECK(order_violation(state) == std::nullopt);
  }
};

/// Gives trader `id` at least `count` of `item` by gathering (cooldowns passed by ticking).
void gather(Market& m, TraderId id, Item item, std::uint32_t count) {
  while (m.state.online.at(id).count(item) < count) {
    m.tick += default_rules.gather_cooldown_ticks;
    REQUIRE_FALSE(m.act(Gather{id, item}).rejected());
  }
}

} // namespace

TEST_CASE("a newcomer is granted gold once, and a returning trader keeps what they had") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  CHECK(m.state.online.at(1).gold == default_rules.grant);
  CHECK(m.rejection(m.act(Join{1})) == Reject::already_joined);
  REQUIRE_FALSE(m.act(Leave{1}).rejected());
  CHECK(m.state.offline.contains(1));
  const auto back = m.act(Join{1});
  REQUIRE(back.events.size() == 1);
  CHECK(std::get<Joined>(back.events[0]).granted == 0);
  CHECK(m.state.online.at(1).gold == default_rules.grant);
  CHECK(m.state.ledger.gold_minted == default_rules.grant);
  m.check_balanced();
}

TEST_CASE("a trader acts only for themselves, and journeys are the system's") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  CHECK(m.rejection(m.run(Gather{1, Item::ore}, trader_actor(2))) == Reject::not_authorized);
  CHECK(m.rejection(m.run(Arrive{Trader{.id = 3}, 2}, trader_actor(3))) == Reject::not_authorized);
  CHECK(m.rejection(m.run(Join{4}, system_actor)) == Reject::not_authorized);
  CHECK(m.rejection(m.act(Gather{9, Item::ore})) == Reject::not_joined);
}

TEST_CASE("gathering yields what was drawn, recorded, and waits for its cooldown") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  const auto first = m.act(Gather{1, Item::ore});
  REQUIRE(first.events.size() == 1);
  const auto gathered = std::get<Gathered>(first.events[0]);
  CHECK(gathered.count >= 1);
  CHECK(gathered.count <= default_rules.gather_max);
  CHECK(m.state.online.at(1).count(Item::ore) == gathered.count);
  CHECK(m.rejection(m.act(Gather{1, Item::wood})) == Reject::cooldown);
  CHECK(m.rejection(m.act(Gather{1, Item::tool})) == Reject::bad_item);
  m.tick += default_rules.gather_cooldown_ticks;
  CHECK_FALSE(m.act(Gather{1, Item::wood}).rejected());
  m.check_balanced();
}

TEST_CASE("a sale moves goods and gold, burns the fee, and pays an offline seller") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  REQUIRE_FALSE(m.act(Join{2}).rejected());
  gather(m, 1, Item::ore, 3);
  const std::uint32_t had = m.state.online.at(1).count(Item::ore);
  const auto listed = m.act(List{1, Item::ore, 3, 20});
  REQUIRE_FALSE(listed.rejected());
  const OrderId order = std::get<Listed>(listed.events[0]).order;
  CHECK(m.state.online.at(1).count(Item::ore) == had - 3); // in escrow
  m.check_balanced();

  REQUIRE_FALSE(m.act(Leave{1}).rejected()); // the listing stays open
  CHECK(m.rejection(m.act(Buy{2, order, 4})) == Reject::bad_count);
  CHECK(m.rejection(m.act(Buy{2, order + 1, 1})) == Reject::no_such_order);
  const auto bought = m.act(Buy{2, order, 2});
  REQUIRE_FALSE(bought.rejected());
  const auto sale = std::get<Bought>(bought.events[0]);
  CHECK(sale.paid == 40);
  CHECK(sale.fee == 2); // 5 % of 40
  CHECK(m.state.online.at(2).gold == default_rules.grant - 40);
  CHECK(m.state.online.at(2).count(Item::ore) == 2);
  CHECK(m.state.offline.at(1).gold == default_rules.grant + 38);
  CHECK(m.state.orders.at(order).count == 1);
  CHECK(m.state.ledger.gold_burned == 2);
  m.check_balanced();

  CHECK_FALSE(m.act(Buy{2, order, 1}).rejected());                      // the last one
  CHECK(m.rejection(m.act(Buy{2, order, 1})) == Reject::no_such_order); // sold out
  m.check_balanced();
}

TEST_CASE("a buyer cannot buy their own listing or more than their gold") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  REQUIRE_FALSE(m.act(Join{2}).rejected());
  gather(m, 1, Item::wood, 1);
  const auto listed = m.act(List{1, Item::wood, 1, default_rules.grant + 1});
  const OrderId order = std::get<Listed>(listed.events[0]).order;
  CHECK(m.rejection(m.act(Buy{1, order, 1})) == Reject::own_order);
  CHECK(m.rejection(m.act(Buy{2, order, 1})) == Reject::not_enough_gold);
  CHECK(m.rejection(m.act(Cancel{2, order})) == Reject::not_your_order);
  CHECK(m.rejection(m.act(List{1, Item::wood, 5, 1})) == Reject::not_enough_goods);
  CHECK(m.rejection(m.act(List{1, Item::wood, 1, 0})) == Reject::bad_price);
  REQUIRE_FALSE(m.act(Cancel{1, order}).rejected());
  CHECK(m.state.online.at(1).count(Item::wood) >= 1); // back from escrow
  m.check_balanced();
}

TEST_CASE("an unsold listing expires on a tick and its goods go back") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  gather(m, 1, Item::ore, 1);
  const std::uint32_t had = m.state.online.at(1).count(Item::ore);
  REQUIRE_FALSE(m.act(List{1, Item::ore, 1, 5}).rejected());
  m.tick_to(m.tick + default_rules.listing_ttl_ticks - 1);
  CHECK(m.state.orders.size() == 1);
  m.tick_to(m.tick + 1);
  CHECK(m.state.orders.empty());
  CHECK(m.state.online.at(1).count(Item::ore) == had);
  m.check_balanced();
}

TEST_CASE("crafting turns one ore and one wood into a tool") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  CHECK(m.rejection(m.act(Craft{1})) == Reject::not_enough_goods);
  gather(m, 1, Item::ore, 1);
  gather(m, 1, Item::wood, 1);
  REQUIRE_FALSE(m.act(Craft{1}).rejected());
  CHECK(m.state.online.at(1).count(Item::tool) == 1);
  CHECK(m.state.ledger.goods.at(Item::tool).crafted == 1);
  m.check_balanced();
}

TEST_CASE("a journey carries everything out, arrives once, and completes") {
  Market from;
  REQUIRE_FALSE(from.act(Join{1}).rejected());
  gather(from, 1, Item::ore, 2);
  REQUIRE_FALSE(from.act(List{1, Item::ore, 1, 5}).rejected());
  CHECK(from.rejection(from.act(Travel{1, 2})) == Reject::open_orders);
  REQUIRE_FALSE(from.act(Cancel{1, 1}).rejected());
  CHECK(from.rejection(from.act(Travel{1, 1})) == Reject::no_such_market);
  CHECK(from.rejection(from.act(Travel{1, 3})) == Reject::no_such_market);
  const auto left = from.act(Travel{1, 2});
  REQUIRE_FALSE(left.rejected());
  CHECK(from.rejection(from.act(Gather{1, Item::ore})) == Reject::travelling);
  from.check_balanced();

  const auto handoff = Model::handoff(from.state, left.events[0]);
  REQUIRE(handoff.has_value());
  CHECK(handoff->to == 2);
  CHECK(handoff->epoch == 1);
  CHECK(Model::pending_handoffs(from.state).size() == 1);

  CHECK(Model::characters(from.state, 1) ==
        std::vector<world::Character>{
            {.player = 1, .zone = 2, .epoch = 1, .online = true, .arriving = true}});

  Market to;
  to.state.info.zone = 2;
  // A Join the world stamped with the journey's epoch waits for the arrival.
  CHECK(to.rejection(to.act(Join{1, 1})) == Reject::travelling);
  const auto arrived = to.run(handoff->arrive, system_actor);
  REQUIRE(arrived.events.size() == 1);
  CHECK(to.state.online.at(1) == std::get<Departed>(left.events[0]).trader);
  CHECK(to.run(handoff->arrive, system_actor).events.empty()); // delivered again: nothing
  to.check_balanced();

  CHECK(from.run(handoff->complete, system_actor).events.size() == 1);
  CHECK(from.state.departing.empty());
  CHECK(from.run(handoff->complete, system_actor).events.empty());
  CHECK(Model::pending_handoffs(from.state).empty());
  // Gone on: the market it left does not take it in again as a newcomer.
  CHECK(from.rejection(from.act(Join{1})) == Reject::travelling);
  CHECK(Model::characters(from.state, 1).empty());
  from.check_balanced();
}

TEST_CASE("the world logs a trader out with the system's Leave, and its goods stay") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  gather(m, 1, Item::ore, 1);
  const std::uint32_t ore = m.state.online.at(1).count(Item::ore);
  for (const auto reason : {world::LogoutReason::disconnected, world::LogoutReason::session_lost,
                            world::LogoutReason::server_stopped}) {
    CAPTURE(static_cast<int>(reason));
    const auto out = m.run(Model::logout(1, reason), system_actor);
    REQUIRE_FALSE(out.rejected());
    REQUIRE(out.events.size() == 1);
    CHECK(std::get<Left>(out.events[0]).trader == 1);
    CHECK(m.state.offline.at(1).count(Item::ore) == ore);
    CHECK(m.rejection(m.run(Model::logout(1, reason), system_actor)) == Reject::not_joined);
    REQUIRE_FALSE(m.act(Join{1}).rejected());
  }
  CHECK(m.rejection(m.run(Leave{1}, trader_actor(2))) == Reject::not_authorized);
  CHECK(m.rejection(m.run(Gather{1, Item::wood}, system_actor)) == Reject::not_authorized);
  m.check_balanced();
}

TEST_CASE("the world's hooks: sessions, a Join's epoch, and the traders of a market") {
  CHECK(Model::session_change(Join{3}) == world::SessionChange{3, true});
  CHECK(Model::session_change(Leave{3}) == world::SessionChange{3, false});
  CHECK(Model::session_change(Craft{3}) == std::nullopt);
  Command join = Join{3};
  Model::stamp_join(join, 4);
  CHECK(std::get<Join>(join).epoch == 4);
  Command craft = Craft{3};
  Model::stamp_join(craft, 4);
  CHECK(std::holds_alternative<Craft>(craft));

  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  REQUIRE_FALSE(m.act(Join{2}).rejected());
  REQUIRE_FALSE(m.act(Leave{2}).rejected());
  CHECK(Model::characters(m.state, 1) ==
        std::vector<world::Character>{
            {.player = 1, .zone = 1, .epoch = 0, .online = true, .arriving = false},
            {.player = 2, .zone = 1, .epoch = 0, .online = false, .arriving = false}});
}

TEST_CASE("every event and command survives its codec, and damage is corruption") {
  const Trader carried{.id = 4, .gold = 7, .goods = {{Item::tool, 2}}, .epoch = 3};
  const std::vector<Event> events = {Joined{1, 100},
                                     Left{1},
                                     Gathered{1, Item::wood, 2, 9},
                                     Listed{5, 1, Item::ore, 3, 20, 9},
                                     Cancelled{5},
                                     Bought{5, 2, 1, 20, 1},
                                     Crafted{1},
                                     Expired{5, 99},
                                     Departed{carried, 2},
                                     Arrived{carried, 1},
                                     JourneyCompleted{4, 3}};
  for (const auto& event : events) {
    CAPTURE(Model::event_name(event));
    const auto encoded = Model::encode(event);
    CHECK(encoded.payload_type == event.index() + 1);
    auto decoded = Model::decode(encoded.payload_type, encoded.payload);
    REQUIRE(decoded.ok());
    CHECK(Model::encode(*decoded).payload == encoded.payload);
    CHECK(Model::event_json(*decoded) == Model::event_json(event));
    CHECK(Model::decode(encoded.payload_type % 11 + 1, encoded.payload).error().code() ==
          Errc::corruption);
  }
  CHECK(Model::decode(1, "not a flatbuffer").error().code() == Errc::corruption);
  CHECK(Model::decode(12, "").error().code() == Errc::corruption);

  const std::vector<Command> commands = {Join{1, 2},
                                         Leave{1},
                                         Gather{1, Item::ore},
                                         List{1, Item::tool, 2, 9},
                                         Cancel{1, 5},
                                         Buy{2, 5, 1},
                                         Craft{1},
                                         Travel{1, 2},
                                         Arrive{carried, 1},
                                         CompleteJourney{4, 3}};
  for (const auto& command : commands) {
    CAPTURE(Model::command_name(command));
    auto decoded = Model::decode_command(Model::encode_command(command));
    REQUIRE(decoded.ok());
    CHECK(Model::command_json(*decoded) == Model::command_json(command));
  }
  CHECK(Model::decode_command("\x04\x00\x00\x00garbage").error().code() == Errc::corruption);
}

TEST_CASE("a long random session keeps every invariant, and its snapshots restore exactly") {
  Market m;
  zone::Rng dice(2026);
  for (int step = 0; step < 5000; ++step) {
    const TraderId who = 1 + dice.below(6);
    m.tick += dice.below(4);
    std::vector<OrderId> open;
    for (const auto& [id, order] : m.state.orders)
      open.push_back(id);
    const OrderId some = open.empty() ? 1 : open[dice.below(open.size())];
    switch (dice.below(9)) {
    case 0: static_cast<void>(m.act(Join{who})); break;
    case 1: static_cast<void>(m.act(Leave{who})); break;
    case 2:
    case 3:
      static_cast<void>(m.act(Gather{who, dice.below(2) == 0 ? Item::ore : Item::wood}));
      break;
    case 4:
      static_cast<void>(
          m.act(List{who, all_items[dice.below(3)], static_cast<std::uint32_t>(1 + dice.below(3)),
                     static_cast<std::int64_t>(1 + dice.below(30))}));
      break;
    case 5:
      static_cast<void>(m.act(Buy{who, some, static_cast<std::uint32_t>(1 + dice.below(2))}));
      break;
    case 6: static_cast<void>(m.act(Cancel{who, some})); break;
    case 7: static_cast<void>(m.act(Craft{who})); break;
    default: m.tick_to(m.tick + dice.below(100)); break;
    }
    if (step % 500 == 0) {
      auto restored = Model::restore(Model::snapshot(m.state));
      REQUIRE(restored.ok());
      CHECK(Model::hash(*restored) == Model::hash(m.state));
      CHECK(Model::to_json(*restored) == Model::to_json(m.state));
    }
  }
  CHECK(m.state.ledger.gold_burned > 0); // sales happened
  CHECK(m.state.ledger.goods.at(Item::tool).crafted > 0);
  m.check_balanced();
}

TEST_CASE("the invariants name what a broken ledger breaks") {
  Market m;
  REQUIRE_FALSE(m.act(Join{1}).rejected());
  gather(m, 1, Item::ore, 1);
  m.check_balanced();
  State gold = m.state;
  gold.online.at(1).gold += 5;
  CHECK(gold_violation(gold).value_or("").find("hold 105 gold") != std::string::npos);
  State goods = m.state;
  goods.ledger.goods[Item::ore].gathered += 1;
  CHECK(goods_violation(goods).value_or("").find("ore") != std::string::npos);
  State orders = m.state;
  orders.orders[9] = Order{9, 42, Item::ore, 1, 5, 0};
  CHECK(order_violation(orders).value_or("").find("trader 42") != std::string::npos);
  CHECK(invariants().all().size() == 4);
}

} // namespace worldlog::market

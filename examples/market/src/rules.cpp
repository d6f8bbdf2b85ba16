// The market's rules: decide, on_tick and evolve; and where events are seen and journeys go.
#include <market/model.hpp>

#include <array>
#include <utility>

#include <fmt/format.h>

namespace worldlog::market {
namespace {

using Decision = Model::Decision;

template <typename... Args>
Decision reject(Reject code, fmt::format_string<Args...> format, Args&&... args) {
  return Decision::reject(static_cast<std::uint32_t>(code),
                          fmt::format(format, std::forward<Args>(args)...));
}

/// The trader a command is about (the system's journey commands carry one too).
TraderId subject_of(const Command& command) {
  return std::visit(
      [](const auto& c) -> TraderId {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, Arrive>) {
          return c.trader.id;
        } else {
          return c.trader;
        }
      },
      command);
}

bool is_item(Item item) { return item == Item::ore || item == Item::wood || item == Item::tool; }

std::size_t listings_of(const State& state, TraderId trader) {
  std::size_t open = 0;
  for (const auto& [id, order] : state.orders)
    if (order.seller == trader) ++open;
  return open;
}

void add_goods(Trader& trader, Item item, std::uint32_t count) {
  if (count != 0) trader.goods[item] += count;
}

void take_goods(Trader& trader, Item item, std::uint32_t count) {
  const auto found = trader.goods.find(item);
  if (found == trader.goods.end()) return;
  found->second -= std::min(found->second, count);
  if (found->second == 0) trader.goods.erase(found);
}

/// The trader, online or offline, to credit or return goods to; nullptr if not here.
Trader* holder(State& state, TraderId id) {
  if (auto found = state.online.find(id); found != state.online.end()) return &found->second;
  if (auto found = state.offline.find(id); found != state.offline.end()) return &found->second;
  return nullptr;
}

Decision decide_online(const State& state, const Trader& trader, const Command& command,
                       zone::Context& context) {
  return std::visit(
      [&](const auto& c) -> Decision {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, Leave>) {
          return Decision::accept({Left{trader.id}});
        } else if constexpr (std::is_same_v<C, Gather>) {
          if (c.item != Item::ore && c.item != Item::wood)
            return reject(Reject::bad_item, "only ore and wood can be gathered, not {}",
                          static_cast<unsigned>(c.item));
          if (trader.last_gather_tick != 0 &&
              context.tick < trader.last_gather_tick + state.rules.gather_cooldown_ticks)
            return reject(Reject::cooldown, "trader {} gathered at tick {}; again from tick {}",
                          trader.id, trader.last_gather_tick,
                          trader.last_gather_tick + state.rules.gather_cooldown_ticks);
          const auto count =
              static_cast<std::uint32_t>(context.rng.between(1, state.rules.gather_max));
          return Decision::accept({Gathered{trader.id, c.item, count, context.tick}});
        } else if constexpr (std::is_same_v<C, List>) {
          if (!is_item(c.item))
            return reject(Reject::bad_item, "no item {}", static_cast<unsigned>(c.item));
          if (c.count == 0 || c.count > state.rules.max_count)
            return reject(Reject::bad_count, "a listing holds 1..{} goods, not {}",
                          state.rules.max_count, c.count);
          if (c.price <= 0 || c.price > state.rules.max_price)
            return reject(Reject::bad_price, "a price is 1..{} gold, not {}", state.rules.max_price,
                          c.price);
          if (trader.count(c.item) < c.count)
            return reject(Reject::not_enough_goods, "trader {} has {} {}, not {}", trader.id,
                          trader.count(c.item), to_string(c.item), c.count);
          if (listings_of(state, trader.id) >= state.rules.max_listings_per_trader)
            return reject(Reject::too_many_orders, "trader {} has {} open listings already",
                          trader.id, state.rules.max_listings_per_trader);
          return Decision::accept(
              {Listed{state.next_order, trader.id, c.item, c.count, c.price, context.tick}});
        } else if constexpr (std::is_same_v<C, Cancel>) {
          const auto order = state.orders.find(c.order);
          if (order == state.orders.end())
            return reject(Reject::no_such_order, "order {} is not open", c.order);
          if (order->second.seller != trader.id)
            return reject(Reject::not_your_order, "order {} is trader {}'s", c.order,
                          order->second.seller);
          return Decision::accept({Cancelled{c.order}});
        } else if constexpr (std::is_same_v<C, Buy>) {
          const auto found = state.orders.find(c.order);
          if (found == state.orders.end())
            return reject(Reject::no_such_order, "order {} is not open", c.order);
          const Order& order = found->second;
          if (order.seller == trader.id)
            return reject(Reject::own_order, "order {} is trader {}'s own", c.order, trader.id);
          if (c.count == 0 || c.count > order.count)
            return reject(Reject::bad_count, "order {} has {} for sale, not {}", c.order,
                          order.count, c.count);
          const std::int64_t paid = order.price * static_cast<std::int64_t>(c.count);
          if (trader.gold < paid)
            return reject(Reject::not_enough_gold, "trader {} has {} gold, not {}", trader.id,
                          trader.gold, paid);
          const std::int64_t fee = paid * state.rules.fee_per_mille / 1000;
          return Decision::accept({Bought{c.order, trader.id, c.count, paid, fee}});
        } else if constexpr (std::is_same_v<C, Craft>) {
          if (trader.count(Item::ore) == 0 || trader.count(Item::wood) == 0)
            return reject(Reject::not_enough_goods,
                          "a tool takes one ore and one wood; trader {} has {} and {}", trader.id,
                          trader.count(Item::ore), trader.count(Item::wood));
          return Decision::accept({Crafted{trader.id}});
        } else if constexpr (std::is_same_v<C, Travel>) {
          if (c.to == 0 || c.to > state.info.zone_count || c.to == state.info.zone)
            return reject(Reject::no_such_market, "zone {} is not another market (1..{})", c.to,
                          state.info.zone_count);
          if (listings_of(state, trader.id) != 0)
            return reject(Reject::open_orders, "trader {} has open listings", trader.id);
          Trader leaving = trader;
          ++leaving.epoch;
          return Decision::accept({Departed{std::move(leaving), c.to}});
        } else {
          return reject(Reject::already_joined, "trader {} is here already", trader.id);
        }
      },
      command);
}

} // namespace

std::string_view to_string(Reject reject) noexcept {
  constexpr std::array<std::string_view, 17> names{"",
                                                   "not_authorized",
                                                   "already_joined",
                                                   "not_joined",
                                                   "travelling",
                                                   "cooldown",
                                                   "bad_item",
                                                   "bad_count",
                                                   "bad_price",
                                                   "not_enough_goods",
                                                   "no_such_order",
                                                   "not_your_order",
                                                   "own_order",
                                                   "not_enough_gold",
                                                   "open_orders",
                                                   "no_such_market",
                                                   "too_many_orders"};
  const auto index = static_cast<std::size_t>(reject);
  return index < names.size() ? names[index] : std::string_view();
}

std::string_view to_string(Item item) noexcept {
  switch (item) {
  case Item::ore: return "ore";
  case Item::wood: return "wood";
  case Item::tool: return "tool";
  }
  return "unknown";
}

const Trader* State::find(TraderId id) const {
  if (auto found = online.find(id); found != online.end()) return &found->second;
  if (auto found = offline.find(id); found != offline.end()) return &found->second;
  return nullptr;
}

State Model::initial_state(const zone::ZoneInfo& info) { return State{.info = info}; }

Decision Model::decide(const State& state, const log::Actor& actor, const Command& command,
                       zone::Context& context) {
  const TraderId trader = subject_of(command);
  const bool system_only =
      std::holds_alternative<Arrive>(command) || std::holds_alternative<CompleteJourney>(command);
  const bool by_system = actor.kind == log::ActorKind::system;
  // A Leave comes from its trader, or from the system when the world logs the trader out.
  const bool system_may = system_only || std::holds_alternative<Leave>(command);
  if (by_system ? !system_may : system_only)
    return reject(Reject::not_authorized, "{} is sent by {} only", command_name(command),
                  system_only ? "the system" : "a trader");
  if (!by_system && actor.id != trader)
    return reject(Reject::not_authorized, "trader {} cannot act for trader {}", actor.id, trader);

  if (const auto* arrive = std::get_if<Arrive>(&command)) {
    // A journey's arrival is delivered again after a crash: the second time, nothing happens.
    const auto seen = state.epochs.find(trader);
    if (seen != state.epochs.end() && seen->second >= arrive->trader.epoch)
      return Decision::accept({});
    return Decision::accept({Arrived{arrive->trader, arrive->from}});
  }
  if (const auto* complete = std::get_if<CompleteJourney>(&command)) {
    const auto departure = state.departing.find(trader);
    if (departure == state.departing.end() || departure->second.trader.epoch != complete->epoch)
      return Decision::accept({});
    return Decision::accept({JourneyCompleted{trader, complete->epoch}});
  }
  if (state.departing.contains(trader))
    return reject(Reject::travelling, "trader {} is on the way to zone {}", trader,
                  state.departing.at(trader).to);
  if (const auto* join = std::get_if<Join>(&command)) {
    if (state.online.contains(trader))
      return reject(Reject::already_joined, "trader {} is here already", trader);
    if (state.offline.contains(trader)) return Decision::accept({Joined{trader, 0}});
    // A trader this market has never had, or one that went on from here, joins here only as
    // a newcomer: not while it is on its way here, nor once it is in another market.
    if (const auto seen = state.epochs.find(trader); seen != state.epochs.end())
      return reject(Reject::travelling, "trader {} went on from market {} (journey {})", trader,
                    state.info.zone, seen->second);
    if (join->epoch != 0)
      return reject(Reject::travelling, "trader {} has not yet arrived in market {} (journey {})",
                    trader, state.info.zone, join->epoch);
    return Decision::accept({Joined{trader, state.rules.grant}});
  }
  const auto online = state.online.find(trader);
  if (online == state.online.end())
    return reject(Reject::not_joined, "trader {} is not in market {}", trader, state.info.zone);
  return decide_online(state, online->second, command, context);
}

std::vector<Model::Emitted> Model::on_tick(const State& state, zone::Context& context) {
  std::vector<Emitted> expired;
  for (const auto& [id, order] : state.orders) {
    if (order.listed_tick + state.rules.listing_ttl_ticks > context.tick) continue;
    // Built in place: moving an Event in here trips GCC 12's maybe-uninitialized on the maps
    // of the alternatives it is not.
    Emitted& emitted = expired.emplace_back();
    emitted.actor = log::Actor{log::ActorKind::system, 0};
    emitted.event.emplace<Expired>(Expired{id, context.tick});
  }
  return expired;
}

void Model::evolve(State& state, const Event& event) {
  std::visit(
      [&state](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, Joined>) {
          auto node = state.offline.extract(e.trader);
          Trader trader = node.empty() ? Trader{.id = e.trader} : std::move(node.mapped());
          trader.gold += e.granted;
          state.ledger.gold_minted += e.granted;
          state.online[e.trader] = std::move(trader);
        } else if constexpr (std::is_same_v<E, Left>) {
          auto node = state.online.extract(e.trader);
          if (!node.empty()) state.offline[e.trader] = std::move(node.mapped());
        } else if constexpr (std::is_same_v<E, Gathered>) {
          if (Trader* trader = holder(state, e.trader)) {
            add_goods(*trader, e.item, e.count);
            trader->last_gather_tick = e.tick;
            state.ledger.goods[e.item].gathered += e.count;
          }
        } else if constexpr (std::is_same_v<E, Listed>) {
          if (Trader* seller = holder(state, e.seller)) {
            take_goods(*seller, e.item, e.count);
            state.orders[e.order] = Order{e.order, e.seller, e.item, e.count, e.price, e.tick};
            state.next_order = std::max(state.next_order, e.order + 1);
          }
        } else if constexpr (std::is_same_v<E, Cancelled> || std::is_same_v<E, Expired>) {
          auto node = state.orders.extract(e.order);
          if (node.empty()) return;
          const Order& order = node.mapped();
          if (Trader* seller = holder(state, order.seller)) {
            add_goods(*seller, order.item, order.count);
          }
        } else if constexpr (std::is_same_v<E, Bought>) {
          const auto found = state.orders.find(e.order);
          if (found == state.orders.end()) return;
          Order& order = found->second;
          Trader* buyer = holder(state, e.buyer);
          Trader* seller = holder(state, order.seller);
          if (buyer == nullptr || seller == nullptr) return;
          buyer->gold -= e.paid;
          add_goods(*buyer, order.item, e.count);
          seller->gold += e.paid - e.fee;
          state.ledger.gold_burned += e.fee;
          order.count -= std::min(order.count, e.count);
          if (order.count == 0) state.orders.erase(found);
        } else if constexpr (std::is_same_v<E, Crafted>) {
          if (Trader* trader = holder(state, e.trader)) {
            take_goods(*trader, Item::ore, 1);
            take_goods(*trader, Item::wood, 1);
            add_goods(*trader, Item::tool, 1);
            state.ledger.goods[Item::ore].consumed += 1;
            state.ledger.goods[Item::wood].consumed += 1;
            state.ledger.goods[Item::tool].crafted += 1;
          }
        } else if constexpr (std::is_same_v<E, Departed>) {
          state.online.erase(e.trader.id);
          state.departing[e.trader.id] = Departure{e.trader, e.to};
          state.epochs[e.trader.id] = e.trader.epoch;
          state.ledger.gold_out += e.trader.gold;
          for (const auto& [item, count] : e.trader.goods)
            state.ledger.goods[item].carried_out += count;
        } else if constexpr (std::is_same_v<E, Arrived>) {
          state.online[e.trader.id] = e.trader;
          state.epochs[e.trader.id] = e.trader.epoch;
          state.ledger.gold_in += e.trader.gold;
          for (const auto& [item, count] : e.trader.goods)
            state.ledger.goods[item].carried_in += count;
        } else if constexpr (std::is_same_v<E, JourneyCompleted>) {
          state.departing.erase(e.trader);
        }
      },
      event);
}

std::string_view Model::event_name(const Event& event) noexcept {
  constexpr std::array<std::string_view, std::variant_size_v<Event>> names{
      "Joined",  "Left",    "Gathered", "Listed",  "Cancelled",       "Bought",
      "Crafted", "Expired", "Departed", "Arrived", "JourneyCompleted"};
  return names[event.index()];
}

std::string_view Model::command_name(const Command& command) noexcept {
  constexpr std::array<std::string_view, std::variant_size_v<Command>> names{
      "Join", "Leave", "Gather", "List",   "Cancel",
      "Buy",  "Craft", "Travel", "Arrive", "CompleteJourney"};
  return names[command.index()];
}

std::string_view Model::reason_name(std::uint32_t code) noexcept {
  return to_string(static_cast<Reject>(code));
}

std::optional<zone::Located> Model::locate(const State&, const Event& event) {
  const TraderId subject = std::visit(
      [](const auto& e) -> TraderId {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, Listed>) {
          return e.seller;
        } else if constexpr (std::is_same_v<E, Bought>) {
          return e.buyer;
        } else if constexpr (std::is_same_v<E, Departed> || std::is_same_v<E, Arrived>) {
          return e.trader.id;
        } else if constexpr (std::is_same_v<E, Cancelled> || std::is_same_v<E, Expired>) {
          return 0;
        } else {
          return e.trader;
        }
      },
      event);
  if (subject == 0) return std::nullopt;
  return zone::Located{subject, zone::Point{}};
}

std::optional<Model::Handoff> Model::handoff(const State& state, const Event& event) {
  const auto* departed = std::get_if<Departed>(&event);
  if (departed == nullptr) return std::nullopt;
  return Handoff{.from = state.info.zone,
                 .to = departed->to,
                 .entity = departed->trader.id,
                 .epoch = departed->trader.epoch,
                 .arrive = Arrive{departed->trader, state.info.zone},
                 .complete = CompleteJourney{departed->trader.id, departed->trader.epoch}};
}

std::vector<Model::Handoff> Model::pending_handoffs(const State& state) {
  std::vector<Handoff> pending;
  for (const auto& [id, departure] : state.departing)
    pending.push_back(*handoff(state, Departed{departure.trader, departure.to}));
  return pending;
}

std::optional<world::SessionChange> Model::session_change(const Command& command) noexcept {
  if (const auto* join = std::get_if<Join>(&command))
    return world::SessionChange{join->trader, true};
  if (const auto* leave = std::get_if<Leave>(&command))
    return world::SessionChange{leave->trader, false};
  return std::nullopt;
}

void Model::stamp_join(Command& join, std::uint64_t epoch) noexcept {
  if (auto* joining = std::get_if<Join>(&join)) joining->epoch = epoch;
}

Command Model::logout(TraderId trader, world::LogoutReason) { return Leave{trader}; }

std::vector<world::Character> Model::characters(const State& state, zone::ZoneId zone) {
  std::vector<world::Character> found;
  for (const auto& [id, trader] : state.online)
    found.push_back({id, zone, trader.epoch, true, false});
  for (const auto& [id, trader] : state.offline)
    found.push_back({id, zone, trader.epoch, false, false});
  for (const auto& [id, departure] : state.departing)
    found.push_back({id, departure.to, departure.trader.epoch, true, true});
  return found;
}

} // namespace worldlog::market

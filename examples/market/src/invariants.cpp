#include <market/invariants.hpp>

#include <fmt/format.h>

namespace worldlog::market {
namespace {

using Context = replay::InvariantContext<Model>;

template <typename Visit> void each_trader(const State& state, Visit&& visit) {
  for (const auto& [id, trader] : state.online)
    visit(trader);
  for (const auto& [id, trader] : state.offline)
    visit(trader);
}

std::optional<std::string> one_market(const State& state, Context& context) {
  return context.across_zones(
      [&](zone::ZoneId other, const replay::Replayed<Model>& then) -> std::optional<std::string> {
        for (const auto& [id, trader] : state.online) {
          if (then.state.find(id) == nullptr) continue;
          return fmt::format("trader {} is in market {} (seq {}) and in market {} (seq {})", id,
                             state.info.zone, context.checked().seq, other, then.seq);
        }
        return std::nullopt;
      });
}

} // namespace

std::optional<std::string> gold_violation(const State& state) {
  std::int64_t held = 0;
  std::optional<std::string> negative;
  each_trader(state, [&](const Trader& trader) {
    held += trader.gold;
    if (trader.gold < 0 && !negative) {
      negative = fmt::format("trader {} has {} gold", trader.id, trader.gold);
    }
  });
  if (negative) return negative;
  const Ledger& l = state.ledger;
  const std::int64_t expected = l.gold_minted - l.gold_burned + l.gold_in - l.gold_out;
  if (held != expected) {
    return fmt::format("traders hold {} gold, but {} minted - {} burned + {} carried in - {} "
                       "carried out is {}",
                       held, l.gold_minted, l.gold_burned, l.gold_in, l.gold_out, expected);
  }
  return std::nullopt;
}

std::optional<std::string> goods_violation(const State& state) {
  for (const Item item : all_items) {
    std::uint64_t held = 0;
    each_trader(state, [&](const Trader& trader) { held += trader.count(item); });
    std::uint64_t listed = 0;
    for (const auto& [id, order] : state.orders)
      if (order.item == item) listed += order.count;
    const auto found = state.ledger.goods.find(item);
    const Ledger::Goods goods = found == state.ledger.goods.end() ? Ledger::Goods{} : found->second;
    const std::uint64_t expected =
        goods.gathered + goods.crafted + goods.carried_in - goods.consumed - goods.carried_out;
    if (held + listed != expected) {
      return fmt::format("{} {} held and {} listed, but {} gathered + {} crafted + {} carried in "
                         "- {} consumed - {} carried out is {}",
                         held, to_string(item), listed, goods.gathered, goods.crafted,
                         goods.carried_in, goods.consumed, goods.carried_out, expected);
    }
  }
  return std::nullopt;
}

std::optional<std::string> order_violation(const State& state) {
  for (const auto& [id, order] : state.orders) {
    if (state.find(order.seller) == nullptr) {
      return fmt::format("order {} is of trader {}, who is not in market {}", id, order.seller,
                         state.info.zone);
    }
    if (order.count == 0) return fmt::format("order {} has nothing left to sell", id);
    if (order.price <= 0 || order.price > state.rules.max_price) {
      return fmt::format("order {} asks {} gold, outside 1..{}", id, order.price,
                         state.rules.max_price);
    }
  }
  return std::nullopt;
}

replay::Invariants<Model> invariants() {
  replay::Invariants<Model> all;
  const auto state_only = [](std::optional<std::string> (*check)(const State&)) {
    return [check](const State& state, Context&) { return check(state); };
  };
  // The names are fixed and distinct, so none of these adds can fail.
  static_cast<void>(all.add({"gold_conserved",
                             "gold held == minted - burned + carried in - carried out; none "
                             "negative",
                             state_only(&gold_violation)}));
  static_cast<void>(all.add({"goods_conserved",
                             "goods held + listed == gathered + crafted - consumed + carried in "
                             "- carried out, for each item",
                             state_only(&goods_violation)}));
  static_cast<void>(all.add({"orders_backed",
                             "every open listing is of a trader here, with goods left and a "
                             "price within the rules",
                             state_only(&order_violation)}));
  static_cast<void>(all.add({"one_market",
                             "no trader is in two markets at the same wall time (reads the "
                             "other zones)",
                             &one_market}));
  return all;
}

} // namespace worldlog::market

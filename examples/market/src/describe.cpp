// What the tools print about the market (zone/describe.hpp): its events' and commands' fields,
// and the whole state.
#include <market/model.hpp>

#include <boost/json/array.hpp>

namespace worldlog::market {
namespace {

namespace json = boost::json;

json::object goods_json(const std::map<Item, std::uint32_t>& goods) {
  json::object all;
  for (const auto& [item, count] : goods)
    all[to_string(item)] = count;
  return all;
}

json::object trader_json(const Trader& trader) {
  return {{"id", trader.id},
          {"gold", trader.gold},
          {"goods", goods_json(trader.goods)},
          {"epoch", trader.epoch},
          {"last_gather_tick", trader.last_gather_tick}};
}

struct Fields {
  json::object operator()(const Joined& e) const {
    return {{"trader", e.trader}, {"granted", e.granted}};
  }
  json::object operator()(const Left& e) const { return {{"trader", e.trader}}; }
  json::object operator()(const Gathered& e) const {
    return {
        {"trader", e.trader}, {"item", to_string(e.item)}, {"count", e.count}, {"tick", e.tick}};
  }
  json::object operator()(const Listed& e) const {
    return {{"order", e.order}, {"seller", e.seller}, {"item", to_string(e.item)},
            {"count", e.count}, {"price", e.price},   {"tick", e.tick}};
  }
  json::object operator()(const Cancelled& e) const { return {{"order", e.order}}; }
  json::object operator()(const Bought& e) const {
    return {{"order", e.order},
            {"buyer", e.buyer},
            {"count", e.count},
            {"paid", e.paid},
            {"fee", e.fee}};
  }
  json::object operator()(const Crafted& e) const { return {{"trader", e.trader}}; }
  json::object operator()(const Expired& e) const { return {{"order", e.order}, {"tick", e.tick}}; }
  json::object operator()(const Departed& e) const {
    return {{"trader", trader_json(e.trader)}, {"to", e.to}};
  }
  json::object operator()(const Arrived& e) const {
    return {{"trader", trader_json(e.trader)}, {"from", e.from}};
  }
  json::object operator()(const JourneyCompleted& e) const {
    return {{"trader", e.trader}, {"epoch", e.epoch}};
  }

  json::object operator()(const Join& c) const {
    return {{"trader", c.trader}, {"epoch", c.epoch}};
  }
  json::object operator()(const Leave& c) const { return {{"trader", c.trader}}; }
  json::object operator()(const Gather& c) const {
    return {{"trader", c.trader}, {"item", to_string(c.item)}};
  }
  json::object operator()(const List& c) const {
    return {
        {"trader", c.trader}, {"item", to_string(c.item)}, {"count", c.count}, {"price", c.price}};
  }
  json::object operator()(const Cancel& c) const {
    return {{"trader", c.trader}, {"order", c.order}};
  }
  json::object operator()(const Buy& c) const {
    return {{"trader", c.trader}, {"order", c.order}, {"count", c.count}};
  }
  json::object operator()(const Craft& c) const { return {{"trader", c.trader}}; }
  json::object operator()(const Travel& c) const { return {{"trader", c.trader}, {"to", c.to}}; }
  json::object operator()(const Arrive& c) const {
    return {{"trader", trader_json(c.trader)}, {"from", c.from}};
  }
  json::object operator()(const CompleteJourney& c) const {
    return {{"trader", c.trader}, {"epoch", c.epoch}};
  }
};

} // namespace

json::object Model::event_json(const Event& event) { return std::visit(Fields{}, event); }

json::object Model::command_json(const Command& command) { return std::visit(Fields{}, command); }

json::value Model::to_json(const State& state) {
  const auto traders = [](const std::map<TraderId, Trader>& all) {
    json::array list;
    for (const auto& [id, trader] : all)
      list.push_back(trader_json(trader));
    return list;
  };
  json::array orders;
  for (const auto& [id, order] : state.orders) {
    orders.push_back(json::object{{"id", id},
                                  {"seller", order.seller},
                                  {"item", to_string(order.item)},
                                  {"count", order.count},
                                  {"price", order.price},
                                  {"listed_tick", order.listed_tick}});
  }
  json::array departing;
  for (const auto& [id, departure] : state.departing)
    departing.push_back(
        json::object{{"trader", trader_json(departure.trader)}, {"to", departure.to}});
  json::object goods;
  for (const auto& [item, ledger] : state.ledger.goods) {
    goods[to_string(item)] = json::object{{"gathered", ledger.gathered},
                                          {"crafted", ledger.crafted},
                                          {"consumed", ledger.consumed},
                                          {"carried_in", ledger.carried_in},
                                          {"carried_out", ledger.carried_out}};
  }
  return json::object{{"zone", state.info.zone},
                      {"online", traders(state.online)},
                      {"offline", traders(state.offline)},
                      {"orders", std::move(orders)},
                      {"departing", std::move(departing)},
                      {"next_order", state.next_order},
                      {"ledger", json::object{{"gold_minted", state.ledger.gold_minted},
                                              {"gold_burned", state.ledger.gold_burned},
                                              {"gold_in", state.ledger.gold_in},
                                              {"gold_out", state.ledger.gold_out},
                                              {"goods", std::move(goods)}}}};
}

} // namespace worldlog::market

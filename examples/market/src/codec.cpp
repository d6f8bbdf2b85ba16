// The market's FlatBuffers codecs (market.fbs): events, commands and snapshots. Everything
// decoded is checked by the verifier and then for values the rules could never produce (an item
// that is not one), so a damaged or hostile buffer is an error, never a strange state.
#include <market/model.hpp>

#include <flatbuffers/flatbuffers.h>

#include <worldlog/flatbuffers.hpp>
#include <worldlog/market/schema/market_generated.h>

namespace worldlog::market {
namespace {

namespace fb = schema;
using Builder = flatbuffers::FlatBufferBuilder;

/// Snapshots of another layout are refused, not misread.
constexpr std::uint32_t snapshot_format = 1;

bool valid_item(std::uint8_t item) { return item >= 1 && item <= 3; }

flatbuffers::Offset<fb::Trader> write_trader(Builder& builder, const Trader& trader) {
  std::vector<flatbuffers::Offset<fb::Holding>> holdings;
  for (const auto& [item, count] : trader.goods)
    holdings.push_back(fb::CreateHolding(builder, static_cast<std::uint8_t>(item), count));
  return fb::CreateTrader(builder, trader.id, trader.gold, builder.CreateVector(holdings),
                          trader.epoch, trader.last_gather_tick);
}

std::optional<Trader> read_trader(const fb::Trader* table) {
  if (table == nullptr) return std::nullopt;
  Trader trader{.id = table->id(),
                .gold = table->gold(),
                .epoch = table->epoch(),
                .last_gather_tick = table->last_gather_tick()};
  if (table->holdings() != nullptr) {
    for (const auto* holding : *table->holdings()) {
      if (!valid_item(holding->item()) || holding->count() == 0) return std::nullopt;
      trader.goods[static_cast<Item>(holding->item())] = holding->count();
    }
  }
  return trader;
}

template <typename T> std::string finish(Builder& builder, flatbuffers::Offset<T> root) {
  builder.Finish(root);
  return {reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()};
}

// ---- events ------------------------------------------------------------------------------------

struct EventWriter {
  Builder& b;
  flatbuffers::Offset<void> operator()(const Joined& e) const {
    return fb::CreateJoined(b, e.trader, e.granted).Union();
  }
  flatbuffers::Offset<void> operator()(const Left& e) const {
    return fb::CreateLeft(b, e.trader).Union();
  }
  flatbuffers::Offset<void> operator()(const Gathered& e) const {
    return fb::CreateGathered(b, e.trader, static_cast<std::uint8_t>(e.item), e.count, e.tick)
        .Union();
  }
  flatbuffers::Offset<void> operator()(const Listed& e) const {
    return fb::CreateListed(b, e.order, e.seller, static_cast<std::uint8_t>(e.item), e.count,
                            e.price, e.tick)
        .Union();
  }
  flatbuffers::Offset<void> operator()(const Cancelled& e) const {
    return fb::CreateCancelled(b, e.order).Union();
  }
  flatbuffers::Offset<void> operator()(const Bought& e) const {
    return fb::CreateBought(b, e.order, e.buyer, e.count, e.paid, e.fee).Union();
  }
  flatbuffers::Offset<void> operator()(const Crafted& e) const {
    return fb::CreateCrafted(b, e.trader).Union();
  }
  flatbuffers::Offset<void> operator()(const Expired& e) const {
    return fb::CreateExpired(b, e.order, e.tick).Union();
  }
  flatbuffers::Offset<void> operator()(const Departed& e) const {
    const auto trader = write_trader(b, e.trader);
    return fb::CreateDeparted(b, trader, e.to).Union();
  }
  flatbuffers::Offset<void> operator()(const Arrived& e) const {
    const auto trader = write_trader(b, e.trader);
    return fb::CreateArrived(b, trader, e.from).Union();
  }
  flatbuffers::Offset<void> operator()(const JourneyCompleted& e) const {
    return fb::CreateJourneyCompleted(b, e.trader, e.epoch).Union();
  }
};

std::optional<Event> read_event(const fb::EventRoot& root) {
  switch (root.event_type()) {
  case fb::Event::Joined: {
    const auto* e = root.event_as_Joined();
    return Joined{e->trader(), e->granted()};
  }
  case fb::Event::Left: return Left{root.event_as_Left()->trader()};
  case fb::Event::Gathered: {
    const auto* e = root.event_as_Gathered();
    if (!valid_item(e->item())) return std::nullopt;
    return Gathered{e->trader(), static_cast<Item>(e->item()), e->count(), e->tick()};
  }
  case fb::Event::Listed: {
    const auto* e = root.event_as_Listed();
    if (!valid_item(e->item())) return std::nullopt;
    return Listed{e->order(), e->seller(), static_cast<Item>(e->item()),
                  e->count(), e->price(),  e->tick()};
  }
  case fb::Event::Cancelled: return Cancelled{root.event_as_Cancelled()->order()};
  case fb::Event::Bought: {
    const auto* e = root.event_as_Bought();
    return Bought{e->order(), e->buyer(), e->count(), e->paid(), e->fee()};
  }
  case fb::Event::Crafted: return Crafted{root.event_as_Crafted()->trader()};
  case fb::Event::Expired: {
    const auto* e = root.event_as_Expired();
    return Expired{e->order(), e->tick()};
  }
  case fb::Event::Departed: {
    const auto* e = root.event_as_Departed();
    auto trader = read_trader(e->trader());
    if (!trader) return std::nullopt;
    return Departed{std::move(*trader), e->to()};
  }
  case fb::Event::Arrived: {
    const auto* e = root.event_as_Arrived();
    auto trader = read_trader(e->trader());
    if (!trader) return std::nullopt;
    return Arrived{std::move(*trader), e->from()};
  }
  case fb::Event::JourneyCompleted: {
    const auto* e = root.event_as_JourneyCompleted();
    return JourneyCompleted{e->trader(), e->epoch()};
  }
  default: return std::nullopt;
  }
}

// ---- commands ----------------------------------------------------------------------------------

struct CommandWriter {
  Builder& b;
  flatbuffers::Offset<void> operator()(const Join& c) const {
    return fb::CreateJoin(b, c.trader, c.epoch).Union();
  }
  flatbuffers::Offset<void> operator()(const Leave& c) const {
    return fb::CreateLeave(b, c.trader).Union();
  }
  flatbuffers::Offset<void> operator()(const Gather& c) const {
    return fb::CreateGather(b, c.trader, static_cast<std::uint8_t>(c.item)).Union();
  }
  flatbuffers::Offset<void> operator()(const List& c) const {
    return fb::CreateList(b, c.trader, static_cast<std::uint8_t>(c.item), c.count, c.price).Union();
  }
  flatbuffers::Offset<void> operator()(const Cancel& c) const {
    return fb::CreateCancel(b, c.trader, c.order).Union();
  }
  flatbuffers::Offset<void> operator()(const Buy& c) const {
    return fb::CreateBuy(b, c.trader, c.order, c.count).Union();
  }
  flatbuffers::Offset<void> operator()(const Craft& c) const {
    return fb::CreateCraft(b, c.trader).Union();
  }
  flatbuffers::Offset<void> operator()(const Travel& c) const {
    return fb::CreateTravel(b, c.trader, c.to).Union();
  }
  flatbuffers::Offset<void> operator()(const Arrive& c) const {
    const auto trader = write_trader(b, c.trader);
    return fb::CreateArrive(b, trader, c.from).Union();
  }
  flatbuffers::Offset<void> operator()(const CompleteJourney& c) const {
    return fb::CreateCompleteJourney(b, c.trader, c.epoch).Union();
  }
};

/// Items a client names are checked by the rules (bad_item), not here: a command decodes as
/// long as it is well-formed, so that its rejection can say what was wrong with it.
std::optional<Command> read_command(const fb::CommandRoot& root) {
  switch (root.command_type()) {
  case fb::Command::Join: {
    const auto* join = root.command_as_Join();
    return Join{join->trader(), join->epoch()};
  }
  case fb::Command::Leave: return Leave{root.command_as_Leave()->trader()};
  case fb::Command::Gather: {
    const auto* c = root.command_as_Gather();
    return Gather{c->trader(), static_cast<Item>(c->item())};
  }
  case fb::Command::List: {
    const auto* c = root.command_as_List();
    return List{c->trader(), static_cast<Item>(c->item()), c->count(), c->price()};
  }
  case fb::Command::Cancel: {
    const auto* c = root.command_as_Cancel();
    return Cancel{c->trader(), c->order()};
  }
  case fb::Command::Buy: {
    const auto* c = root.command_as_Buy();
    return Buy{c->trader(), c->order(), c->count()};
  }
  case fb::Command::Craft: return Craft{root.command_as_Craft()->trader()};
  case fb::Command::Travel: {
    const auto* c = root.command_as_Travel();
    return Travel{c->trader(), c->to()};
  }
  case fb::Command::Arrive: {
    const auto* c = root.command_as_Arrive();
    auto trader = read_trader(c->trader());
    if (!trader) return std::nullopt;
    return Arrive{std::move(*trader), c->from()};
  }
  case fb::Command::CompleteJourney: {
    const auto* c = root.command_as_CompleteJourney();
    return CompleteJourney{c->trader(), c->epoch()};
  }
  default: return std::nullopt;
  }
}

} // namespace

zone::EncodedEvent Model::encode(const Event& event) {
  Builder builder(128);
  const auto body = std::visit(EventWriter{builder}, event);
  const auto type = static_cast<fb::Event>(event.index() + 1);
  return {static_cast<std::uint32_t>(event.index() + 1),
          finish(builder, fb::CreateEventRoot(builder, type, body))};
}

Result<Event> Model::decode(std::uint32_t payload_type, std::string_view bytes) {
  if (payload_type == 0 || payload_type > std::variant_size_v<Event>) {
    return make_error(Errc::corruption, "unknown market event type {}", payload_type);
  }
  std::string scratch;
  const auto* root = verified_root<fb::EventRoot>(bytes, scratch);
  if (root == nullptr || static_cast<std::uint32_t>(root->event_type()) != payload_type) {
    return make_error(Errc::corruption, "market event of type {} ({} bytes) fails verification",
                      payload_type, bytes.size());
  }
  auto event = read_event(*root);
  if (!event) {
    return make_error(Errc::corruption, "market event of type {} holds an unknown item",
                      payload_type);
  }
  return std::move(*event);
}

std::string Model::encode_command(const Command& command) {
  Builder builder(128);
  const auto body = std::visit(CommandWriter{builder}, command);
  const auto type = static_cast<fb::Command>(command.index() + 1);
  return finish(builder, fb::CreateCommandRoot(builder, type, body));
}

Result<Command> Model::decode_command(std::string_view bytes) {
  std::string scratch;
  const auto* root = verified_root<fb::CommandRoot>(bytes, scratch);
  if (root == nullptr) {
    return make_error(Errc::corruption, "market command ({} bytes) fails verification",
                      bytes.size());
  }
  auto command = read_command(*root);
  if (!command) {
    return make_error(Errc::corruption, "market command of unknown type {} or item",
                      static_cast<unsigned>(root->command_type()));
  }
  return std::move(*command);
}

// ---- snapshots ---------------------------------------------------------------------------------

std::string Model::snapshot(const State& state) {
  Builder builder(1024);
  const auto traders = [&builder](const std::map<TraderId, Trader>& all) {
    std::vector<flatbuffers::Offset<fb::Trader>> written;
    for (const auto& [id, trader] : all)
      written.push_back(write_trader(builder, trader));
    return builder.CreateVector(written);
  };
  const auto online = traders(state.online);
  const auto offline = traders(state.offline);
  std::vector<flatbuffers::Offset<fb::Order>> orders;
  for (const auto& [id, order] : state.orders) {
    orders.push_back(fb::CreateOrder(builder, id, order.seller,
                                     static_cast<std::uint8_t>(order.item), order.count,
                                     order.price, order.listed_tick));
  }
  const auto orders_vector = builder.CreateVector(orders);
  std::vector<flatbuffers::Offset<fb::Departure>> departing;
  for (const auto& [id, departure] : state.departing) {
    const auto trader = write_trader(builder, departure.trader);
    departing.push_back(fb::CreateDeparture(builder, trader, departure.to));
  }
  const auto departing_vector = builder.CreateVector(departing);
  std::vector<flatbuffers::Offset<fb::Epoch>> epochs;
  for (const auto& [id, epoch] : state.epochs)
    epochs.push_back(fb::CreateEpoch(builder, id, epoch));
  const auto epochs_vector = builder.CreateVector(epochs);
  std::vector<flatbuffers::Offset<fb::ItemLedger>> items;
  for (const auto& [item, goods] : state.ledger.goods) {
    items.push_back(fb::CreateItemLedger(builder, static_cast<std::uint8_t>(item), goods.gathered,
                                         goods.crafted, goods.consumed, goods.carried_in,
                                         goods.carried_out));
  }
  const auto items_vector = builder.CreateVector(items);
  const auto config = builder.CreateString(state.info.model_config);
  // Version 1's rules are not written: a market under them snapshots as it did before rules
  // were data, so its state hashes did not change.
  const auto rules = state.rules == default_rules
                         ? flatbuffers::Offset<flatbuffers::String>()
                         : builder.CreateString(canonical_rules(state.rules));
  fb::SnapshotBuilder snapshot(builder);
  snapshot.add_format(snapshot_format);
  snapshot.add_zone(state.info.zone);
  snapshot.add_zone_count(state.info.zone_count);
  snapshot.add_seed(state.info.seed);
  snapshot.add_tick_us(state.info.tick_us);
  snapshot.add_model_config(config);
  snapshot.add_online(online);
  snapshot.add_offline(offline);
  snapshot.add_orders(orders_vector);
  snapshot.add_departing(departing_vector);
  snapshot.add_epochs(epochs_vector);
  snapshot.add_next_order(state.next_order);
  snapshot.add_gold_minted(state.ledger.gold_minted);
  snapshot.add_gold_burned(state.ledger.gold_burned);
  snapshot.add_gold_in(state.ledger.gold_in);
  snapshot.add_gold_out(state.ledger.gold_out);
  snapshot.add_items(items_vector);
  if (!rules.IsNull()) snapshot.add_rules(rules);
  builder.Finish(snapshot.Finish(), fb::SnapshotIdentifier());
  return {reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()};
}

Result<State> Model::restore(std::string_view bytes) {
  std::string scratch;
  const auto* root = verified_root<fb::Snapshot>(bytes, scratch, fb::SnapshotIdentifier());
  if (root == nullptr) {
    return make_error(Errc::corruption, "not a market snapshot, or damaged ({} bytes)",
                      bytes.size());
  }
  if (root->format() != snapshot_format) {
    return make_error(Errc::incompatible_format, "market snapshot format {}; this code reads {}",
                      root->format(), snapshot_format);
  }
  const auto damaged = [] {
    return make_error(Errc::corruption, "market snapshot holds an unknown item or an empty "
                                        "holding");
  };
  State state{.info = {.zone = root->zone(),
                       .zone_count = root->zone_count(),
                       .seed = root->seed(),
                       .tick_us = root->tick_us(),
                       .model_config = root->model_config() ? root->model_config()->str() : ""}};
  const auto read_all = [](const flatbuffers::Vector<flatbuffers::Offset<fb::Trader>>* all,
                           std::map<TraderId, Trader>& into) {
    if (all == nullptr) return true;
    for (const auto* table : *all) {
      auto trader = read_trader(table);
      if (!trader) return false;
      into[trader->id] = std::move(*trader);
    }
    return true;
  };
  if (!read_all(root->online(), state.online) || !read_all(root->offline(), state.offline)) {
    return damaged();
  }
  if (root->orders() != nullptr) {
    for (const auto* order : *root->orders()) {
      if (!valid_item(order->item())) return damaged();
      state.orders[order->id()] =
          Order{order->id(),    order->seller(), static_cast<Item>(order->item()),
                order->count(), order->price(),  order->listed_tick()};
    }
  }
  if (root->departing() != nullptr) {
    for (const auto* departure : *root->departing()) {
      auto trader = read_trader(departure->trader());
      if (!trader) return damaged();
      const TraderId id = trader->id;
      state.departing[id] = Departure{std::move(*trader), departure->to()};
    }
  }
  if (root->epochs() != nullptr) {
    for (const auto* epoch : *root->epochs())
      state.epochs[epoch->trader()] = epoch->epoch();
  }
  if (root->rules() != nullptr) {
    auto rules = parse_rules(root->rules()->string_view());
    if (!rules.ok()) {
      return make_error(Errc::corruption, "market snapshot's rules: {}", rules.error().message());
    }
    state.rules = *rules;
  }
  state.next_order = root->next_order();
  state.ledger.gold_minted = root->gold_minted();
  state.ledger.gold_burned = root->gold_burned();
  state.ledger.gold_in = root->gold_in();
  state.ledger.gold_out = root->gold_out();
  if (root->items() != nullptr) {
    for (const auto* goods : *root->items()) {
      if (!valid_item(goods->item())) return damaged();
      state.ledger.goods[static_cast<Item>(goods->item())] =
          Ledger::Goods{goods->gathered(), goods->crafted(), goods->consumed(), goods->carried_in(),
                        goods->carried_out()};
    }
  }
  return state;
}

log::Hash Model::hash(const State& state) { return log::sha256(snapshot(state)); }

} // namespace worldlog::market

// The market: a second game on worldlog, of a different kind than the reference game, built on
// nothing of it. Traders gather ore and wood, craft tools, list goods for gold and buy each
// other's; a listing nobody buys expires and its goods go back; a trader may travel to another
// market (zone) with everything carried. Each zone is a market town; its stream holds its trades.
//
// Gold and goods are conserved, and the state keeps a ledger to prove it: gold enters only as a
// newcomer's grant and leaves only as the market's fee on each sale; goods enter by gathering and
// crafting and leave by crafting; a journey carries both out of one town and into another. The
// invariants (invariants.hpp) check the balance; `worldlog audit` shows who did what.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>
#include <worldlog/world/players.hpp>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::market {

using TraderId = zone::EntityId;
using OrderId = std::uint64_t;

enum class Item : std::uint8_t { ore = 1, wood = 2, tool = 3 };
inline constexpr Item all_items[] = {Item::ore, Item::wood, Item::tool};

/// The market's rules: data, held in each market's state. The defaults are version 1; a rules
/// file (JSON, parse_rules) changes any of them, and `replay whatif` decides a market's log again
/// under another (docs/changing-rules.md).
struct Rules {
  std::uint32_t version = 1;                 ///< which rules these are
  std::int64_t grant = 100;                  ///< gold a newcomer is given
  std::uint64_t gather_cooldown_ticks = 20;  ///< between two gatherings of one trader
  std::uint32_t gather_max = 3;              ///< a gathering yields 1..gather_max
  std::uint32_t max_count = 1000;            ///< goods in one listing or purchase
  std::int64_t max_price = 1'000'000;        ///< gold per good
  std::int64_t fee_per_mille = 50;           ///< of each sale's price, burned (rounded down)
  std::uint64_t listing_ttl_ticks = 1200;    ///< a listing expires after this (60 s at 20 Hz)
  std::uint32_t max_listings_per_trader = 8; ///< open listings of one trader, at most

  friend bool operator==(const Rules&, const Rules&) = default;
};
/// Rules version 1: what a market starts with unless its genesis names others.
inline constexpr Rules default_rules{};

/// The rules a rules file describes: a JSON object naming any of Rules' fields (the others keep
/// version 1's). Errors: invalid_argument naming the field that does not exist, is not a whole
/// number or lies outside its range.
[[nodiscard]] Result<Rules> parse_rules(std::string_view text);
/// The rules as canonical JSON (every field, in declaration order): what parse_rules reads back
/// to equal rules, and what their hash is taken over.
[[nodiscard]] std::string canonical_rules(const Rules& rules);

/// Why a command is refused: stable codes (clients and audits branch on them).
enum class Reject : std::uint32_t {
  not_authorized = 1,   ///< acting for another trader, or a system-only command
  already_joined = 2,   ///< Join for a trader who is here
  not_joined = 3,       ///< a trader who is not in this market
  travelling = 4,       ///< a trader on the way to another market, or gone on to one
  cooldown = 5,         ///< gathering again too soon
  bad_item = 6,         ///< an item that is not one, or cannot be gathered
  bad_count = 7,        ///< 0 or more than rules.max_count
  bad_price = 8,        ///< not in 1..rules.max_price
  not_enough_goods = 9, ///< listing or crafting with goods the trader does not have
  no_such_order = 10,   ///< an order that is not open
  not_your_order = 11,  ///< cancelling another trader's order
  own_order = 12,       ///< buying from oneself
  not_enough_gold = 13, ///< a purchase the buyer cannot pay
  open_orders = 14,     ///< travelling with listings still open
  no_such_market = 15,  ///< travelling to a zone that is not another market of the world
  too_many_orders = 16, ///< more than rules.max_listings_per_trader open listings
};
[[nodiscard]] std::string_view to_string(Reject reject) noexcept;
[[nodiscard]] std::string_view to_string(Item item) noexcept;

struct Trader {
  TraderId id = 0;
  std::int64_t gold = 0;
  std::map<Item, std::uint32_t> goods{}; ///< counts > 0
  std::uint64_t epoch = 0;               ///< +1 on every journey
  std::uint64_t last_gather_tick = 0;    ///< 0: never gathered

  [[nodiscard]] std::uint32_t count(Item item) const {
    const auto found = goods.find(item);
    return found == goods.end() ? 0 : found->second;
  }
  friend bool operator==(const Trader&, const Trader&) = default;
};

struct Order {
  OrderId id = 0;
  TraderId seller = 0;
  Item item = Item::ore;
  std::uint32_t count = 0; ///< still for sale
  std::int64_t price = 0;  ///< gold per good
  std::uint64_t listed_tick = 0;
  friend bool operator==(const Order&, const Order&) = default;
};

/// Where goods and gold came from and went, per zone: what the invariants balance against.
struct Ledger {
  struct Goods {
    std::uint64_t gathered = 0, crafted = 0, consumed = 0, carried_in = 0, carried_out = 0;
    friend bool operator==(const Goods&, const Goods&) = default;
  };
  std::int64_t gold_minted = 0, gold_burned = 0, gold_in = 0, gold_out = 0;
  std::map<Item, Goods> goods{};
  friend bool operator==(const Ledger&, const Ledger&) = default;
};

struct Departure {
  Trader trader; ///< as it left
  zone::ZoneId to = 0;
  friend bool operator==(const Departure&, const Departure&) = default;
};

struct State {
  zone::ZoneInfo info;
  Rules rules{}; ///< in force: the genesis' (ZoneInfo::rules), or another what-if's
  std::map<TraderId, Trader> online{};
  std::map<TraderId, Trader> offline{};       ///< left, with everything they had
  std::map<OrderId, Order> orders{};          ///< open listings; their goods are in escrow
  std::map<TraderId, Departure> departing{};  ///< on the way, until the arrival is confirmed
  std::map<TraderId, std::uint64_t> epochs{}; ///< the newest journey seen of each trader
  OrderId next_order = 1;
  Ledger ledger{};

  /// The trader, online or offline; nullptr if not in this market.
  [[nodiscard]] const Trader* find(TraderId id) const;
};

// Commands: what a trader asks for; the system sends a journey's two halves, and a Leave when the
// world logs a trader out.
struct Join {
  TraderId trader;
  /// The trader's journeys as the world's directory knows them (0: none, or a newcomer): a
  /// market refuses the Join of a trader it has never seen while it is still on its way there.
  std::uint64_t epoch = 0;
};
struct Leave {
  TraderId trader;
};
struct Gather {
  TraderId trader;
  Item item;
};
struct List {
  TraderId trader;
  Item item;
  std::uint32_t count;
  std::int64_t price;
};
struct Cancel {
  TraderId trader;
  OrderId order;
};
struct Buy {
  TraderId trader;
  OrderId order;
  std::uint32_t count;
};
struct Craft {
  TraderId trader;
}; ///< one ore and one wood make a tool
struct Travel {
  TraderId trader;
  zone::ZoneId to;
};
struct Arrive {
  Trader trader;
  zone::ZoneId from;
};
struct CompleteJourney {
  TraderId trader;
  std::uint64_t epoch;
};
using Command =
    std::variant<Join, Leave, Gather, List, Cancel, Buy, Craft, Travel, Arrive, CompleteJourney>;

// Events: what happened. The variant's index + 1 is the payload type in the log.
struct Joined {
  TraderId trader;
  std::int64_t granted;
}; ///< granted: 0 for a returning trader
struct Left {
  TraderId trader;
};
struct Gathered {
  TraderId trader;
  Item item;
  std::uint32_t count;
  std::uint64_t tick;
};
struct Listed {
  OrderId order;
  TraderId seller;
  Item item;
  std::uint32_t count;
  std::int64_t price;
  std::uint64_t tick;
};
struct Cancelled {
  OrderId order;
};
/// paid = count * price, from the buyer; the seller gets paid - fee; the fee is burned.
struct Bought {
  OrderId order;
  TraderId buyer;
  std::uint32_t count;
  std::int64_t paid, fee;
};
struct Crafted {
  TraderId trader;
};
struct Expired {
  OrderId order;
  std::uint64_t tick;
};
struct Departed {
  Trader trader;
  zone::ZoneId to;
}; ///< trader.epoch is the journey's
struct Arrived {
  Trader trader;
  zone::ZoneId from;
};
struct JourneyCompleted {
  TraderId trader;
  std::uint64_t epoch;
};
using Event = std::variant<Joined, Left, Gathered, Listed, Cancelled, Bought, Crafted, Expired,
                           Departed, Arrived, JourneyCompleted>;

struct Model {
  using State = market::State;
  using Command = market::Command;
  using Event = market::Event;
  using Decision = zone::Decision<Event>;
  using Emitted = zone::Emitted<Event>;
  using Handoff = zone::Handoff<Command>;

  using Rules = market::Rules;

  static constexpr std::string_view name = "worldlog.example.market";
  static constexpr std::uint32_t rules_version = 1;

  [[nodiscard]] static State initial_state(const zone::ZoneInfo& info);
  [[nodiscard]] static Decision decide(const State& state, const log::Actor& actor,
                                       const Command& command, zone::Context& context);
  /// Listings past their time expire, oldest first; their goods go back to the seller.
  [[nodiscard]] static std::vector<Emitted> on_tick(const State& state, zone::Context& context);
  static void evolve(State& state, const Event& event);

  /// FlatBuffers (market.fbs); decode* fail with corruption naming what is wrong.
  [[nodiscard]] static zone::EncodedEvent encode(const Event& event);
  [[nodiscard]] static Result<Event> decode(std::uint32_t payload_type, std::string_view bytes);
  [[nodiscard]] static std::string encode_command(const Command& command);
  [[nodiscard]] static Result<Command> decode_command(std::string_view bytes);

  [[nodiscard]] static std::string_view event_name(const Event& event) noexcept;
  [[nodiscard]] static std::string_view command_name(const Command& command) noexcept;
  [[nodiscard]] static boost::json::object event_json(const Event& event);
  [[nodiscard]] static boost::json::object command_json(const Command& command);
  [[nodiscard]] static std::string_view reason_name(std::uint32_t code) noexcept;

  /// Canonical bytes (a FlatBuffer in id order) and back; restore(snapshot(s)) == s.
  [[nodiscard]] static std::string snapshot(const State& state);
  [[nodiscard]] static Result<State> restore(std::string_view bytes);
  [[nodiscard]] static log::Hash hash(const State& state);
  [[nodiscard]] static boost::json::value to_json(const State& state);

  /// Rules as data (zone::RulesAsData): a market records no change of rules in its log, so
  /// rules_changed is always nullopt; `replay whatif` swaps them with set_rules.
  [[nodiscard]] static Result<Rules> parse_rules(std::string_view text) {
    return market::parse_rules(text);
  }
  [[nodiscard]] static zone::RulesId rules_id(const Rules& rules) {
    return {rules.version, log::sha256(canonical_rules(rules))};
  }
  [[nodiscard]] static const Rules& rules_of(const State& state) noexcept { return state.rules; }
  static void set_rules(State& state, const Rules& rules) { state.rules = rules; }
  [[nodiscard]] static std::optional<zone::RulesId> rules_changed(const Event&) noexcept {
    return std::nullopt;
  }

  /// Everyone in a market sees its trades: every event with a trader is at the square.
  [[nodiscard]] static std::optional<zone::Located> locate(const State& state, const Event& event);
  [[nodiscard]] static std::optional<Handoff> handoff(const State& state, const Event& event);
  [[nodiscard]] static std::vector<Handoff> pending_handoffs(const State& state);

  // The world's hooks (world/players.hpp): the market behind world::World and net::Server.
  /// Join brings its trader online, Leave takes it offline.
  [[nodiscard]] static std::optional<world::SessionChange>
  session_change(const Command& command) noexcept;
  /// Sets a Join's epoch: the market a trader is bound for refuses its Join until it arrives.
  static void stamp_join(Command& join, std::uint64_t epoch) noexcept;
  /// The system's Leave. The reason is not recorded: the Left's actor, the system, says that
  /// it was a logout.
  [[nodiscard]] static Command logout(TraderId trader, world::LogoutReason reason);
  /// The traders online and offline in the market, and those on the way from it (in their
  /// destination).
  [[nodiscard]] static std::vector<world::Character> characters(const State& state,
                                                                zone::ZoneId zone);
};

static_assert(world::PlayerModel<Model>);
static_assert(zone::DescribesEvents<Model> && zone::DescribesCommands<Model> &&
              zone::NamesReasons<Model>);
static_assert(zone::RulesAsData<Model>);

} // namespace worldlog::market

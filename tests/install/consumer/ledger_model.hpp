// ledger_model.hpp: accounts holding gold, the complete model of docs/embedding.md, with the
// names of its rejection codes for the tools.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/model.hpp>

namespace ledger {

using namespace worldlog;
using zone::EntityId;

struct Model {
  struct State {
    std::map<EntityId, std::int64_t> gold; // ordered: snapshots and hashes are canonical
  };
  struct Deposit {
    EntityId account = 0;
    std::int64_t amount = 0;
  };
  struct Spend {
    EntityId account = 0;
    std::int64_t amount = 0;
  };
  using Command = std::variant<Deposit, Spend>;
  struct Deposited {
    EntityId account = 0;
    std::int64_t amount = 0;
  };
  struct Spent {
    EntityId account = 0;
    std::int64_t amount = 0;
  };
  using Event = std::variant<Deposited, Spent>;

  static constexpr std::string_view name = "example.ledger";
  static constexpr std::uint32_t rules_version = 1;

  static State initial_state(const zone::ZoneInfo&) { return {}; }

  static zone::Decision<Event> decide(const State& state, const log::Actor& actor,
                                      const Command& command, zone::Context&) {
    using D = zone::Decision<Event>;
    if (const auto* deposit = std::get_if<Deposit>(&command)) {
      if (deposit->amount <= 0) return D::reject(1, "a deposit must be positive");
      return D::accept({Deposited{deposit->account, deposit->amount}});
    }
    const auto& spend = std::get<Spend>(command);
    if (actor.kind == log::ActorKind::player && actor.id != spend.account) {
      return D::reject(
          2, fmt::format("player {} cannot spend from account {}", actor.id, spend.account));
    }
    const auto found = state.gold.find(spend.account);
    const std::int64_t has = found == state.gold.end() ? 0 : found->second;
    if (spend.amount <= 0 || spend.amount > has) {
      return D::reject(3, fmt::format("account {} has {} gold, cannot spend {}", spend.account, has,
                                      spend.amount));
    }
    return D::accept({Spent{spend.account, spend.amount}});
  }

  static std::vector<zone::Emitted<Event>> on_tick(const State&, zone::Context&) { return {}; }

  static void evolve(State& state, const Event& event) {
    if (const auto* deposited = std::get_if<Deposited>(&event)) {
      state.gold[deposited->account] += deposited->amount;
    } else {
      const auto& spent = std::get<Spent>(event);
      state.gold[spent.account] -= spent.amount;
    }
  }

  static zone::EncodedEvent encode(const Event& event) {
    return std::visit(
        [&](const auto& e) {
          return zone::EncodedEvent{static_cast<std::uint32_t>(event.index() + 1),
                                    fmt::format("{} {}", e.account, e.amount)};
        },
        event);
  }
  static Result<Event> decode(std::uint32_t payload_type, std::string_view bytes) {
    std::istringstream in{std::string(bytes)};
    EntityId account = 0;
    std::int64_t amount = 0;
    in >> account >> amount;
    if (in.fail() || payload_type < 1 || payload_type > 2) {
      return make_error(Errc::corruption, "bad ledger event of type {}", payload_type);
    }
    if (payload_type == 1) return Event{Deposited{account, amount}};
    return Event{Spent{account, amount}};
  }
  static std::string encode_command(const Command& command) {
    return std::visit(
        [&](const auto& c) {
          return fmt::format("{} {} {}", command.index(), c.account, c.amount);
        },
        command);
  }
  static Result<Command> decode_command(std::string_view bytes) {
    std::istringstream in{std::string(bytes)};
    std::size_t index = 0;
    EntityId account = 0;
    std::int64_t amount = 0;
    in >> index >> account >> amount;
    if (in.fail() || index > 1) return make_error(Errc::corruption, "bad ledger command");
    if (index == 0) return Command{Deposit{account, amount}};
    return Command{Spend{account, amount}};
  }
  static std::string_view event_name(const Event& event) {
    return event.index() == 0 ? "Deposited" : "Spent";
  }
  static std::string_view command_name(const Command& command) {
    return command.index() == 0 ? "Deposit" : "Spend";
  }

  static std::string snapshot(const State& state) {
    std::string out;
    for (const auto& [account, gold] : state.gold)
      out += fmt::format("{} {}\n", account, gold);
    return out;
  }
  static Result<State> restore(std::string_view bytes) {
    std::istringstream in{std::string(bytes)};
    State state;
    EntityId account = 0;
    std::int64_t gold = 0;
    while (in >> account >> gold)
      state.gold[account] = gold;
    if (!in.eof()) return make_error(Errc::corruption, "bad ledger snapshot");
    return state;
  }
  static log::Hash hash(const State& state) { return log::sha256(snapshot(state)); }
  static boost::json::value to_json(const State& state) {
    boost::json::array accounts; // objects with an "id": replay diff compares them one by one
    for (const auto& [account, gold] : state.gold)
      accounts.push_back({{"id", account}, {"gold", gold}});
    return boost::json::object{{"accounts", std::move(accounts)}};
  }

  static std::optional<zone::Located> locate(const State&, const Event&) { return std::nullopt; }
  static std::optional<zone::Handoff<Command>> handoff(const State&, const Event&) {
    return std::nullopt;
  }
  static std::vector<zone::Handoff<Command>> pending_handoffs(const State&) { return {}; }

  // For the tools: the fields of events and commands, and the names of the rejection codes.
  static boost::json::object event_json(const Event& event) {
    return std::visit(
        [](const auto& e) -> boost::json::object {
          return {{"account", e.account}, {"amount", e.amount}};
        },
        event);
  }
  static boost::json::object command_json(const Command& command) {
    return std::visit(
        [](const auto& c) -> boost::json::object {
          return {{"account", c.account}, {"amount", c.amount}};
        },
        command);
  }
  static std::string_view reason_name(std::uint32_t code) {
    switch (code) {
    case 1: return "deposit_not_positive";
    case 2: return "not_your_account";
    case 3: return "not_enough_gold";
    default: return "";
    }
  }
};

static_assert(zone::GameModel<Model>);
static_assert(zone::DescribesEvents<Model> && zone::DescribesCommands<Model> &&
              zone::NamesReasons<Model>);

} // namespace ledger

// A tiny game model for the zone's own tests: entities with a tally and a position, handed
// between zones. It exercises every part of the GameModel contract the zone relies on —
// rejections, ticks with recorded randomness, broadcasts, handoffs, snapshots — without the
// reference game's rules, so a zone test fails only when the zone is wrong.
//
// Encoding is plain text ("add 7 5"): the zone treats payloads as opaque bytes. It describes
// itself for the tools (event_json, reason_name: zone/describe.hpp), so that the log tools' tests
// (tests/cli/tally_log.cpp) show a model's own names.
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::test {

struct TallyModel {
  struct Entity {
    std::int64_t total = 0;
    zone::Point at;
    std::uint64_t epoch = 0;
    friend bool operator==(const Entity&, const Entity&) = default;
  };
  struct Departure {
    zone::ZoneId to = 0;
    Entity entity;
    friend bool operator==(const Departure&, const Departure&) = default;
  };
  struct State {
    zone::ZoneInfo info;
    std::map<zone::EntityId, Entity> entities{};
    std::map<zone::EntityId, Departure> departing{};
    std::map<zone::EntityId, std::uint64_t> epochs{}; ///< highest epoch seen per entity
    std::vector<std::uint64_t> rolls{};               ///< what ticks rolled, in order
  };

  // Commands
  struct Add {
    zone::EntityId entity;
    std::int64_t amount;
  };
  struct Place {
    zone::EntityId entity;
    zone::Point at;
  };
  struct Leave {
    zone::EntityId entity;
    zone::ZoneId to;
  };
  struct Arrive {
    zone::EntityId entity;
    std::uint64_t epoch;
    Entity state;
  };
  struct Complete {
    zone::EntityId entity;
    std::uint64_t epoch;
  };
  struct Explode {}; ///< decide throws: the zone fails
  using Command = std::variant<Add, Place, Leave, Arrive, Complete, Explode>;

  // Events: the same shapes, plus Rolled from ticks.
  struct Added {
    zone::EntityId entity;
    std::int64_t amount;
  };
  struct Placed {
    zone::EntityId entity;
    zone::Point at;
  };
  struct Departed {
    zone::EntityId entity;
    zone::ZoneId to;
    std::uint64_t epoch;
    Entity state;
  };
  struct Arrived {
    zone::EntityId entity;
    std::uint64_t epoch;
    Entity state;
  };
  struct Completed {
    zone::EntityId entity;
    std::uint64_t epoch;
  };
  struct Rolled {
    std::uint64_t tick;
    std::uint64_t roll;
  };
  using Event = std::variant<Added, Placed, Departed, Arrived, Completed, Rolled>;

  static constexpr std::string_view name = "worldlog.test.tally";
  static constexpr std::uint32_t rules_version = 1;
  /// Every this many ticks the world rolls a number (recorded: replay never re-rolls).
  static constexpr std::uint64_t roll_every_ticks = 4;

  static State initial_state(const zone::ZoneInfo& info) { return State{.info = info}; }

  static zone::Decision<Event> decide(const State& state, const log::Actor&, const Command& command,
                                      zone::Context&) {
    using D = zone::Decision<Event>;
    if (const auto* add = std::get_if<Add>(&command)) {
      if (add->amount <= 0) {
        return D::reject(1, fmt::format("amount must be positive, got {}", add->amount));
      }
      return D::accept({Added{add->entity, add->amount}});
    }
    if (const auto* place = std::get_if<Place>(&command)) {
      return D::accept({Placed{place->entity, place->at}});
    }
    if (const auto* leave = std::get_if<Leave>(&command)) {
      const auto found = state.entities.find(leave->entity);
      if (found == state.entities.end()) {
        return D::reject(2, fmt::format("entity {} is not in this zone", leave->entity));
      }
      Entity moving = found->second;
      ++moving.epoch;
      return D::accept({Departed{leave->entity, leave->to, moving.epoch, moving}});
    }
    if (const auto* arrive = std::get_if<Arrive>(&command)) {
      const auto seen = state.epochs.find(arrive->entity);
      if (seen != state.epochs.end() && seen->second >= arrive->epoch) return D::accept({});
      return D::accept({Arrived{arrive->entity, arrive->epoch, arrive->state}});
    }
    if (const auto* complete = std::get_if<Complete>(&command)) {
      if (!state.departing.contains(complete->entity)) return D::accept({});
      return D::accept({Completed{complete->entity, complete->epoch}});
    }
    throw std::runtime_error("Explode: the model was asked to fail");
  }

  static std::vector<zone::Emitted<Event>> on_tick(const State&, zone::Context& context) {
    if (context.tick % roll_every_ticks != 0) return {};
    return {{log::Actor{log::ActorKind::system, 0}, Rolled{context.tick, context.rng.below(1000)}}};
  }

  static void evolve(State& state, const Event& event) {
    std::visit(
        [&](const auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, Added>) {
            state.entities[e.entity].total += e.amount;
          } else if constexpr (std::is_same_v<E, Placed>) {
            state.entities[e.entity].at = e.at;
          } else if constexpr (std::is_same_v<E, Departed>) {
            state.entities.erase(e.entity);
            state.departing[e.entity] = Departure{e.to, e.state};
            state.epochs[e.entity] = e.epoch;
          } else if constexpr (std::is_same_v<E, Arrived>) {
            state.entities[e.entity] = e.state;
            state.epochs[e.entity] = e.epoch;
          } else if constexpr (std::is_same_v<E, Completed>) {
            state.departing.erase(e.entity);
          } else {
            state.rolls.push_back(e.roll);
          }
        },
        event);
  }

  // ---- codecs: one line of text per event or command ------------------------------------------

  static std::string entity_text(const Entity& entity) {
    return fmt::format("{} {} {} {}", entity.total, entity.at.x, entity.at.y, entity.epoch);
  }
  static Entity read_entity(std::istringstream& in) {
    Entity entity;
    in >> entity.total >> entity.at.x >> entity.at.y >> entity.epoch;
    return entity;
  }

  static zone::EncodedEvent encode(const Event& event) {
    const auto type = static_cast<std::uint32_t>(event.index() + 1);
    return {type, std::visit(
                      [](const auto& e) -> std::string {
                        using E = std::decay_t<decltype(e)>;
                        if constexpr (std::is_same_v<E, Added>) {
                          return fmt::format("{} {}", e.entity, e.amount);
                        } else if constexpr (std::is_same_v<E, Placed>) {
                          return fmt::format("{} {} {}", e.entity, e.at.x, e.at.y);
                        } else if constexpr (std::is_same_v<E, Departed>) {
                          return fmt::format("{} {} {} {}", e.entity, e.to, e.epoch,
                                             entity_text(e.state));
                        } else if constexpr (std::is_same_v<E, Arrived>) {
                          return fmt::format("{} {} {}", e.entity, e.epoch, entity_text(e.state));
                        } else if constexpr (std::is_same_v<E, Completed>) {
                          return fmt::format("{} {}", e.entity, e.epoch);
                        } else {
                          return fmt::format("{} {}", e.tick, e.roll);
                        }
                      },
                      event)};
  }

  static Result<Event> decode(std::uint32_t type, std::string_view bytes) {
    std::istringstream in{std::string(bytes)};
    Event event;
    switch (type) {
    case 1: {
      Added e{};
      in >> e.entity >> e.amount;
      event = e;
      break;
    }
    case 2: {
      Placed e{};
      in >> e.entity >> e.at.x >> e.at.y;
      event = e;
      break;
    }
    case 3: {
      Departed e{};
      in >> e.entity >> e.to >> e.epoch;
      e.state = read_entity(in);
      event = e;
      break;
    }
    case 4: {
      Arrived e{};
      in >> e.entity >> e.epoch;
      e.state = read_entity(in);
      event = e;
      break;
    }
    case 5: {
      Completed e{};
      in >> e.entity >> e.epoch;
      event = e;
      break;
    }
    case 6: {
      Rolled e{};
      in >> e.tick >> e.roll;
      event = e;
      break;
    }
    default: return make_error(Errc::corruption, "unknown tally event type {}", type);
    }
    if (in.fail()) return make_error(Errc::corruption, "bad tally event of type {}", type);
    return event;
  }

  static std::string encode_command(const Command& command) {
    return fmt::format("command {}", command.index());
  }
  static Result<Command> decode_command(std::string_view) {
    return make_error(Errc::invalid_argument, "tally commands are not decoded");
  }
  static std::string_view event_name(const Event& event) {
    constexpr std::string_view names[] = {"Added",   "Placed",    "Departed",
                                          "Arrived", "Completed", "Rolled"};
    return names[event.index()];
  }
  static std::string_view command_name(const Command& command) {
    constexpr std::string_view names[] = {"Add", "Place", "Leave", "Arrive", "Complete", "Explode"};
    return names[command.index()];
  }

  // ---- descriptions for the tools --------------------------------------------------------------

  /// The names of decide's rejection codes.
  static std::string_view reason_name(std::uint32_t code) {
    switch (code) {
    case 1: return "amount_not_positive";
    case 2: return "not_in_zone";
    default: return "";
    }
  }

  static boost::json::object entity_json(const Entity& entity) {
    return {{"total", entity.total}, {"at", {entity.at.x, entity.at.y}}, {"epoch", entity.epoch}};
  }

  static boost::json::object event_json(const Event& event) {
    return std::visit(
        [](const auto& e) -> boost::json::object {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, Added>) {
            return {{"entity", e.entity}, {"amount", e.amount}};
          } else if constexpr (std::is_same_v<E, Placed>) {
            return {{"entity", e.entity}, {"at", {e.at.x, e.at.y}}};
          } else if constexpr (std::is_same_v<E, Departed>) {
            return {{"entity", e.entity},
                    {"to", e.to},
                    {"epoch", e.epoch},
                    {"state", entity_json(e.state)}};
          } else if constexpr (std::is_same_v<E, Arrived>) {
            return {{"entity", e.entity}, {"epoch", e.epoch}, {"state", entity_json(e.state)}};
          } else if constexpr (std::is_same_v<E, Completed>) {
            return {{"entity", e.entity}, {"epoch", e.epoch}};
          } else {
            return {{"tick", e.tick}, {"roll", e.roll}};
          }
        },
        event);
  }

  // ---- snapshot, hash, json -------------------------------------------------------------------

  static std::string snapshot(const State& state) {
    std::string out = fmt::format("{} {} {} {}\n", state.info.zone, state.info.zone_count,
                                  state.info.seed, state.info.tick_us);
    out += fmt::format("{}\n", state.entities.size());
    for (const auto& [id, entity] : state.entities) {
      out += fmt::format("{} {}\n", id, entity_text(entity));
    }
    out += fmt::format("{}\n", state.departing.size());
    for (const auto& [id, departure] : state.departing) {
      out += fmt::format("{} {} {}\n", id, departure.to, entity_text(departure.entity));
    }
    out += fmt::format("{}\n", state.epochs.size());
    for (const auto& [id, epoch] : state.epochs)
      out += fmt::format("{} {}\n", id, epoch);
    out += fmt::format("{}\n", state.rolls.size());
    for (const auto roll : state.rolls)
      out += fmt::format("{}\n", roll);
    return out;
  }

  static Result<State> restore(std::string_view bytes) {
    std::istringstream in{std::string(bytes)};
    State state;
    in >> state.info.zone >> state.info.zone_count >> state.info.seed >> state.info.tick_us;
    std::size_t count = 0;
    in >> count;
    for (std::size_t i = 0; i < count && in; ++i) {
      zone::EntityId id = 0;
      in >> id;
      state.entities[id] = read_entity(in);
    }
    in >> count;
    for (std::size_t i = 0; i < count && in; ++i) {
      zone::EntityId id = 0;
      Departure departure;
      in >> id >> departure.to;
      departure.entity = read_entity(in);
      state.departing[id] = departure;
    }
    in >> count;
    for (std::size_t i = 0; i < count && in; ++i) {
      zone::EntityId id = 0;
      in >> id;
      in >> state.epochs[id];
    }
    in >> count;
    state.rolls.resize(count);
    for (auto& roll : state.rolls)
      in >> roll;
    if (in.fail()) return make_error(Errc::corruption, "bad tally snapshot");
    return state;
  }

  static log::Hash hash(const State& state) { return log::sha256(snapshot(state)); }

  static boost::json::value to_json(const State& state) {
    boost::json::object entities;
    for (const auto& [id, entity] : state.entities) {
      entities[std::to_string(id)] = {
          {"total", entity.total}, {"x", entity.at.x}, {"y", entity.at.y}};
    }
    return boost::json::object{{"entities", std::move(entities)}};
  }

  // ---- broadcasts and handoffs ----------------------------------------------------------------

  static std::optional<zone::Located> locate(const State& state, const Event& event) {
    if (const auto* placed = std::get_if<Placed>(&event)) {
      return zone::Located{placed->entity, placed->at};
    }
    if (const auto* added = std::get_if<Added>(&event)) {
      return zone::Located{added->entity, state.entities.at(added->entity).at};
    }
    return std::nullopt;
  }

  /// A Placed only moves its entity: zones may thin it out (ZoneOptions::full_rate_movers).
  static bool is_movement(const Event& event) { return std::holds_alternative<Placed>(event); }

  static zone::Handoff<Command> handoff_of(const State& state, zone::EntityId entity,
                                           const Departure& departure) {
    return {state.info.zone,
            departure.to,
            entity,
            departure.entity.epoch,
            Arrive{entity, departure.entity.epoch, departure.entity},
            Complete{entity, departure.entity.epoch}};
  }

  static std::optional<zone::Handoff<Command>> handoff(const State& state, const Event& event) {
    const auto* departed = std::get_if<Departed>(&event);
    if (!departed) return std::nullopt;
    return handoff_of(state, departed->entity, state.departing.at(departed->entity));
  }

  static std::vector<zone::Handoff<Command>> pending_handoffs(const State& state) {
    std::vector<zone::Handoff<Command>> pending;
    for (const auto& [entity, departure] : state.departing) {
      pending.push_back(handoff_of(state, entity, departure));
    }
    return pending;
  }
};

static_assert(zone::GameModel<TallyModel> && zone::ThinsMoves<TallyModel>);
static_assert(zone::DescribesEvents<TallyModel> && zone::NamesReasons<TallyModel>);

} // namespace worldlog::test

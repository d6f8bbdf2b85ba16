// The reference game as a `zone::GameModel`: `worldlog::game::Model`.
//
// A small but complete game on fixed-point integers: players walk (speed-checked) on a tiled
// map with rocks, fight wolves and boars that wander, aggro and chase, gain experience and
// levels, pick up, drop and use items, chat, complete two quests, and walk east or west into
// the neighbouring zones. See rules.hpp for every number, map.hpp for the maps.
//
// Include this header for the whole public API of the game.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <worldlog/game/commands.hpp>
#include <worldlog/game/events.hpp>
#include <worldlog/game/map.hpp>
#include <worldlog/game/rules.hpp>
#include <worldlog/game/state.hpp>
#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>
#include <worldlog/world/players.hpp>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::game {

struct Model {
  using State = game::State;
  using Command = game::Command;
  using Event = game::Event;
  using Decision = zone::Decision<Event>;
  using Emitted = zone::Emitted<Event>;
  using Handoff = zone::Handoff<Command>;
  using Rules = game::Rules;

  static constexpr std::string_view name = "worldlog.reference";
  static constexpr std::uint32_t rules_version = 1;

  /// The zone before its first event: the rules `info.rules` names (the defaults when empty),
  /// its map, no players, no mobs (the first ticks spawn them).
  [[nodiscard]] static State initial_state(const zone::ZoneInfo& info);

  // Rules as data (zone::RulesAsData; rules.hpp, docs/rules.md).
  /// A rules file; errors name the field.
  [[nodiscard]] static Result<Rules> parse_rules(std::string_view text);
  /// The rules' version and rules_hash.
  [[nodiscard]] static zone::RulesId rules_id(const Rules& rules);
  /// The rules in force.
  [[nodiscard]] static const Rules& rules_of(const State& state) noexcept { return *state.rules; }
  /// The same world under `rules` (the map too, if they give another).
  static void set_rules(State& state, const Rules& rules);
  /// A RulesChanged event's version and hash.
  [[nodiscard]] static std::optional<zone::RulesId> rules_changed(const Event& event);
  /// The version of the rules in force: what the zone stamps each event's envelope with.
  [[nodiscard]] static std::uint32_t rules_version_of(const State& state) noexcept {
    return state.rules->version;
  }

  /// What `command` from `actor` does now. Rejections carry a `Reject` code and a reason that
  /// names what was wrong. Draws from `context.rng` only for what it records (damage, loot).
  [[nodiscard]] static Decision decide(const State& state, const log::Actor& actor,
                                       const Command& command, zone::Context& context);

  /// What the world does by itself at `context.tick`: player respawns and item despawns (as
  /// the system actor), mob spawns and mob AI (as the mob). Cheap when nothing is due: mobs
  /// think every `mob_think_ticks`, staggered by spawn point.
  [[nodiscard]] static std::vector<Emitted> on_tick(const State& state, zone::Context& context);

  /// Applies `event`. Pure; tolerates events about entities it does not know (they change
  /// nothing), so a damaged log cannot crash a fold.
  static void evolve(State& state, const Event& event);

  /// FlatBuffers codecs (schemas/game.fbs). decode and decode_command verify the buffer and
  /// fail with corruption naming the type; decode also for an unknown payload_type.
  [[nodiscard]] static zone::EncodedEvent encode(const Event& event);
  [[nodiscard]] static Result<Event> decode(std::uint32_t payload_type, std::string_view bytes);
  /// The payload types above schema version 1 (zone::VersionsEvents), and the upcaster of their
  /// older payloads: Died 1 becomes Died 2 and, when the kill earned experience, XpGained.
  /// Errors: corruption for bytes that do not verify or a (type, version) never written.
  static constexpr std::array<zone::EventVersion, 1> event_versions{{{Died::type, Died::version}}};
  [[nodiscard]] static Result<std::vector<Event>>
  upcast(std::uint32_t payload_type, std::uint16_t stored_version, std::string_view bytes);
  [[nodiscard]] static std::string encode_command(const Command& command);
  [[nodiscard]] static Result<Command> decode_command(std::string_view bytes);

  /// "Moved", "Attack": the struct's name.
  [[nodiscard]] static std::string_view event_name(const Event& event) noexcept;
  [[nodiscard]] static std::string_view command_name(const Command& command) noexcept;
  /// For the tools (zone/describe.hpp): the fields of an event and of a command, and the name
  /// of a rejection's Reject code.
  [[nodiscard]] static boost::json::object event_json(const Event& event);
  [[nodiscard]] static boost::json::object command_json(const Command& command);
  [[nodiscard]] static std::string_view reason_name(std::uint32_t code) noexcept;

  /// Canonical bytes of `state` (a FlatBuffer written in id order); restore checks them with
  /// the verifier and rebuilds the state, map and derived indexes included, so that
  /// restore(snapshot(s)) == s. restore fails with corruption (not a game snapshot, or
  /// damaged) or incompatible_format (a snapshot format other than this code's).
  [[nodiscard]] static std::string snapshot(const State& state);
  [[nodiscard]] static Result<State> restore(std::string_view bytes);
  /// sha256(snapshot(state)).
  [[nodiscard]] static log::Hash hash(const State& state);
  /// The state for tools and tests: players, mobs, items, departures, epochs and the item
  /// ledger (no map tiles).
  [[nodiscard]] static boost::json::value to_json(const State& state);
  /// The map of a zone for the viewer (zone/describe.hpp, docs/viewer.md): size, tile, rocks,
  /// spawn, waypoint and exits, from map_for(info).
  [[nodiscard]] static boost::json::object map_json(const zone::ZoneInfo& info);

  /// The subject of `event` and where it is after it; nullopt for HandoffCompleted and
  /// RulesChanged.
  [[nodiscard]] static std::optional<zone::Located> locate(const State& state, const Event& event);
  /// Whether `event` only moves its subject (Moved, MobMoved): a zone may show a viewer in a
  /// crowd only the latest of such events about a far mover (zone::ZoneOptions::
  /// full_rate_movers). Everything else, a respawn's jump included, is shown as it happens.
  [[nodiscard]] static bool is_movement(const Event& event) noexcept {
    return std::holds_alternative<Moved>(event) || std::holds_alternative<MobMoved>(event);
  }
  /// For a Departed event: the handoff to deliver (arrive in `to`, then complete here).
  [[nodiscard]] static std::optional<Handoff> handoff(const State& state, const Event& event);
  /// What `viewer`, coming into the zone at `at`, is shown of what is already there: a `Seen`
  /// for every other online player, live mob and ground item within `radius_mm`.
  [[nodiscard]] static std::vector<Event> view(const State& state, EntityId viewer, Point at,
                                               std::int64_t radius_mm);
  /// Every departure not yet completed, by (entity, epoch).
  [[nodiscard]] static std::vector<Handoff> pending_handoffs(const State& state);

  // The world's hooks (world/players.hpp).
  /// Join brings its player online, Leave takes it offline.
  [[nodiscard]] static std::optional<world::SessionChange>
  session_change(const Command& command) noexcept;
  /// Sets a Join's epoch: a zone refuses a Join whose character has crossed since.
  static void stamp_join(Command& join, std::uint64_t epoch) noexcept;
  /// The system's Leave, with the LogoutReason of the same name.
  [[nodiscard]] static Command logout(EntityId player, world::LogoutReason reason);
  /// The players online and offline in the zone, and those departing from it (in their
  /// destination).
  [[nodiscard]] static std::vector<world::Character> characters(const State& state, ZoneId zone);
};

static_assert(world::PlayerModel<Model>);
static_assert(zone::RulesAsData<Model>);
static_assert(zone::DescribesEvents<Model> && zone::DescribesCommands<Model> &&
              zone::NamesReasons<Model>);

/// A rejection's code as this model's Reject.
[[nodiscard]] inline Reject reject_of(const zone::Rejection& rejection) noexcept {
  return static_cast<Reject>(rejection.code);
}

} // namespace worldlog::game

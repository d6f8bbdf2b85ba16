// Model::decide: authorization, then one rule per command. Combat is in decide_combat.cpp.
#include <algorithm>
#include <cstdint>
#include <variant>

#include <worldlog/game/geometry.hpp>
#include <worldlog/game/model.hpp>

#include "game/decide.hpp"

namespace worldlog::game {
namespace detail {

void Progress::gain(const Rules& rules, std::uint64_t gained, std::vector<Event>& events) {
  xp += gained;
  while (level < rules.max_level && xp >= rules.xp_for_level(level + 1)) {
    ++level;
    events.push_back(LevelUp{player, level, rules.max_hp_at(level)});
  }
}

LivePlayer live_player(const State& state, EntityId entity) {
  const Player* player = state.player(entity);
  if (player == nullptr)
    return {nullptr,
            reject(Reject::not_in_zone, "player {} is not in zone {}", entity, state.info.zone)};
  if (player->dead)
    return {nullptr,
            reject(Reject::dead, "player {} is dead until tick {}", entity, player->respawn_tick)};
  return {player, std::nullopt};
}

} // namespace detail

namespace {

using detail::Decision;
using detail::reject;

/// Who may send `command` for its entity: a player for itself, the system and services for
/// anyone; handoff commands and rules changes only the system. Nullopt when allowed.
std::optional<Decision> authorize(const log::Actor& actor, const Command& command) {
  if (std::holds_alternative<ChangeRules>(command)) {
    if (actor.kind == log::ActorKind::system) return std::nullopt;
    return reject(Reject::not_authorized, "ChangeRules may be sent by the system only, not by {}",
                  actor);
  }
  const EntityId entity = entity_of(command);
  const bool system_only =
      std::holds_alternative<Arrive>(command) || std::holds_alternative<CompleteHandoff>(command);
  if (system_only && actor.kind != log::ActorKind::system)
    return reject(Reject::not_authorized, "{} may be sent by the system only, not by {}",
                  Model::command_name(command), actor);
  if (actor.kind == log::ActorKind::mob)
    return reject(Reject::not_authorized, "mobs act through the zone's ticks, not commands");
  if (actor.kind == log::ActorKind::player && actor.id != entity)
    return reject(Reject::not_authorized, "player {} cannot act for entity {}", actor.id, entity);
  if (const auto* leave = std::get_if<Leave>(&command); leave != nullptr &&
                                                        leave->reason != LogoutReason::left &&
                                                        actor.kind != log::ActorKind::system)
    return reject(Reject::not_authorized, "only the system logs a player out as {}, not {}",
                  leave->reason, actor);
  if (!is_player_id(entity))
    return reject(Reject::invalid_entity, "entity {} is not a player id (1..{})", entity,
                  default_rules.max_player_id);
  return std::nullopt;
}

struct Decide {
  const State& state;
  const Rules& rules;
  zone::Context& context;

  /// A player has one character, in one zone: it comes back online where it rests, and a
  /// new one is made only for a player this zone has never handed on.
  Decision operator()(const Join& join) const {
    const EntityId entity = join.entity;
    const ZoneId zone = state.info.zone;
    if (state.player(entity) != nullptr)
      return reject(Reject::already_joined, "player {} is already in zone {}", entity, zone);
    if (state.departing_player(entity))
      return reject(Reject::already_joined, "player {} is crossing into another zone", entity);
    if (const Player* resting = state.offline_player(entity))
      return Decision::accept({Joined{entity, resting->at, context.tick, *resting}});
    const auto seen = state.epochs.find(entity);
    if (seen != state.epochs.end())
      return reject(Reject::elsewhere,
                    "player {}'s character left zone {} through an exit (epoch {}) and is in "
                    "the zone it went to",
                    entity, zone, seen->second);
    if (join.epoch != 0)
      return reject(Reject::in_transit,
                    "player {}'s character has not yet arrived in zone {} (epoch {}): retry",
                    entity, zone, join.epoch);
    return Decision::accept({Joined{entity, state.map.spawn, context.tick, std::nullopt}});
  }

  Decision operator()(const Leave& leave) const {
    if (state.player(leave.entity) == nullptr)
      return reject(Reject::not_in_zone, "player {} is not online in zone {}", leave.entity,
                    state.info.zone);
    return Decision::accept({LoggedOut{leave.entity, leave.reason}});
  }

  Decision operator()(const Move& move) const {
    const auto [player, rejection] = detail::live_player(state, move.entity);
    if (rejection) return *rejection;
    const Point to = move.to;
    // Checked first: every later step squares coordinate differences.
    const std::int64_t limit = default_rules.coordinate_limit;
    if (to.x < -limit || to.x > limit || to.y < -limit || to.y > limit)
      return reject(Reject::invalid_coordinates, "move to {} is beyond ±{} mm", to, limit);
    const std::uint64_t idle =
        context.tick > player->last_move_tick ? context.tick - player->last_move_tick : 0;
    const std::uint64_t ticks = std::min(idle, rules.move_bank_ticks);
    const std::int64_t allowed =
        rules.player_speed_mm_per_tick * static_cast<std::int64_t>(ticks) + rules.move_allowance_mm;
    if (!geometry::within(player->at, to, allowed))
      return reject(Reject::teleport, "move of {} mm in {} ticks exceeds {} mm",
                    geometry::distance(player->at, to), ticks, allowed);
    const Map& map = state.map;
    if (!map.in_bounds(to)) return leave_map(*player, to);
    if (map.blocked(to))
      return reject(Reject::blocked, "{} is on a rock (tile {}, {})", to, to.x / rules.tile_mm,
                    to.y / rules.tile_mm);
    if (!map.path_clear(player->at, to))
      return reject(Reject::blocked, "the way from {} to {} crosses a rock", player->at, to);

    std::vector<Event> events{Moved{move.entity, to, context.tick}};
    if (!player->done(Quest::reach_waypoint) &&
        geometry::within(to, map.waypoint, rules.waypoint_radius_mm)) {
      events.push_back(QuestCompleted{move.entity, Quest::reach_waypoint, rules.quest_xp});
      detail::Progress{player->id, player->level, player->xp}.gain(rules, rules.quest_xp, events);
    }
    return Decision::accept(std::move(events));
  }

  /// A move off the map: a handoff through the east or west exit, or out of bounds.
  Decision leave_map(const Player& player, Point to) const {
    const Map& map = state.map;
    const bool east = to.x >= map.width_mm();
    const std::optional<ZoneId> exit = east ? map.east_exit : map.west_exit;
    if (to.y < 0 || to.y >= map.height_mm())
      return reject(Reject::out_of_bounds, "{} is past the {} edge of the map", to,
                    to.y < 0 ? "north" : "south");
    if (!exit)
      return reject(Reject::out_of_bounds, "{} is past the {} edge of the world", to,
                    east ? "east" : "west");
    if (!map.path_clear(player.at, to))
      return reject(Reject::blocked, "the way from {} to {} crosses a rock", player.at, to);
    Player leaving = player;
    leaving.at = to;
    leaving.last_move_tick = context.tick;
    leaving.epoch = player.epoch + 1;
    return Decision::accept({Departed{std::move(leaving), *exit, player.epoch + 1}});
  }

  Decision operator()(const Attack& attack) const {
    const auto [player, rejection] = detail::live_player(state, attack.entity);
    if (rejection) return *rejection;
    return detail::decide_attack(state, *player, attack, context);
  }

  Decision operator()(const PickUp& pick_up) const {
    const auto [player, rejection] = detail::live_player(state, pick_up.entity);
    if (rejection) return *rejection;
    const GroundItem* item = state.item(pick_up.item);
    if (item == nullptr)
      return reject(Reject::no_such_item, "no item {} on the ground", pick_up.item);
    if (!geometry::within(player->at, item->at, rules.reach_mm))
      return reject(Reject::out_of_range, "item {} is {} mm away, reach is {} mm", item->id,
                    geometry::distance(player->at, item->at), rules.reach_mm);
    if (player->carried() >= rules.inventory_capacity)
      return reject(Reject::inventory_full, "player {} carries {} items already, the most",
                    player->id, player->carried());
    return Decision::accept({PickedUp{player->id, item->id, item->kind}});
  }

  Decision operator()(const Drop& drop) const {
    const auto [player, rejection] = detail::live_player(state, drop.entity);
    if (rejection) return *rejection;
    if (!player->inventory.contains(drop.kind))
      return reject(Reject::no_such_item, "player {} carries no {}", player->id, drop.kind);
    return Decision::accept(
        {Dropped{player->id, state.next_item_id, drop.kind, player->at, context.tick}});
  }

  Decision operator()(const Use& use) const {
    const auto [player, rejection] = detail::live_player(state, use.entity);
    if (rejection) return *rejection;
    if (use.kind != ItemKind::potion)
      return reject(Reject::not_usable, "a {} cannot be used", use.kind);
    if (!player->inventory.contains(use.kind))
      return reject(Reject::no_such_item, "player {} carries no {}", player->id, use.kind);
    const std::int32_t healed = std::min(rules.potion_heal, player->max_hp - player->hp);
    return Decision::accept({Used{player->id, use.kind, healed}});
  }

  Decision operator()(const Say& say) const {
    if (state.player(say.entity) == nullptr)
      return reject(Reject::not_in_zone, "player {} is not in zone {}", say.entity,
                    state.info.zone);
    if (say.text.empty()) return reject(Reject::bad_text, "nothing to say");
    if (say.text.size() > rules.max_say_bytes)
      return reject(Reject::bad_text, "{} bytes of text exceed {}", say.text.size(),
                    rules.max_say_bytes);
    return Decision::accept({Said{say.entity, say.text}});
  }

  Decision operator()(const Arrive& arrive) const {
    const EntityId entity = arrive.player.id;
    const auto seen = state.epochs.find(entity);
    // A repeated delivery (after a crash on either side): already taken, nothing to record.
    if (seen != state.epochs.end() && seen->second >= arrive.epoch) return Decision::accept({});
    Player arriving = arrive.player;
    arriving.at = state.map.entry_from(arrive.from, arrive.player.at.y);
    arriving.last_move_tick = context.tick;
    arriving.epoch = arrive.epoch;
    return Decision::accept({Arrived{std::move(arriving), arrive.from, arrive.epoch}});
  }

  Decision operator()(const CompleteHandoff& complete) const {
    // Unknown (entity, epoch): a repeated completion, already recorded.
    if (!state.departing.contains({complete.entity, complete.epoch})) return Decision::accept({});
    return Decision::accept({HandoffCompleted{complete.entity, complete.epoch}});
  }

  /// A running zone keeps its map, so new rules may change anything but the map's fields.
  /// Rules equal to those in force change nothing.
  Decision operator()(const ChangeRules& change) const {
    auto changed = parse_rules(change.rules);
    if (!changed.ok()) return reject(Reject::bad_rules, "{}", changed.error().message());
    if (!changed->same_map(rules))
      return reject(Reject::bad_rules,
                    "rules version {} would change the map of zone {} (tile size, map size, "
                    "rocks or spawn points), which a running zone keeps",
                    changed->version, state.info.zone);
    if (*changed == rules) return Decision::accept({});
    return Decision::accept(
        {RulesChanged{changed->version, rules_hash(*changed), canonical_rules(*changed)}});
  }
};

} // namespace

Model::Decision Model::decide(const State& state, const log::Actor& actor, const Command& command,
                              zone::Context& context) {
  if (auto refused = authorize(actor, command)) return std::move(*refused);
  return std::visit(Decide{state, *state.rules, context}, command);
}

} // namespace worldlog::game

// The reference game's rules, kinds and rejection codes.
//
// Every number of the game is here, as a documented default of `Rules`: the defaults are rules
// version 1. Rules are data: a rules file (JSON, docs/rules.md) names the fields it changes,
// `parse_rules` checks it, and each zone's state holds the rules in force (`State::rules`),
// recorded in the zone's genesis and changed by a `RulesChanged` event. Lengths are
// millimetres, times are ticks (20 per second with the default zone tick), hit points and
// experience are plain integers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::game {

using zone::EntityId;
using zone::Point;
using zone::ZoneId;
/// A ground item's id; item ids come from a counter in the state, starting at `first_item_id`.
using ItemId = std::uint64_t;

enum class MobKind : std::uint8_t {
  wolf = 1, ///< fast and weak; the "kill wolves" quest counts them
  boar = 2, ///< slow and sturdy
};

enum class ItemKind : std::uint8_t {
  potion = 1, ///< heals `Rules::potion_heal` when used
  pelt = 2,   ///< loot with no use (yet): something to carry, drop and trade
};

enum class Quest : std::uint8_t {
  reach_waypoint = 1, ///< come within `waypoint_radius_mm` of the zone's waypoint
  kill_wolves = 2,    ///< kill `wolves_for_quest` wolves
};

/// Why a command was refused: the stable `zone::Rejection::code` of this model. Values are
/// never reused or renumbered; clients and audits branch on them.
enum class Reject : std::uint32_t {
  not_in_zone = 1,         ///< the acting entity is not a player of this zone
  already_joined = 2,      ///< Join for a player already in the zone (or handing off from it)
  not_authorized = 3,      ///< acting for another player, or a system-only command
  dead = 4,                ///< the player is dead and waits to respawn
  teleport = 5,            ///< a move longer than the player's speed allows
  blocked = 6,             ///< a move into or through a blocking tile
  out_of_bounds = 7,       ///< a move off the map where there is no exit
  invalid_coordinates = 8, ///< coordinates beyond `coordinate_limit`
  unknown_target = 9,      ///< no live mob with that id in the zone
  out_of_range = 10,       ///< the target or item is too far away
  cooldown = 11,           ///< the player attacked too recently
  no_such_item = 12,       ///< no such ground item, or none of that kind in the inventory
  inventory_full = 13,     ///< picking up would exceed `inventory_capacity`
  bad_text = 14,           ///< empty or longer than `max_say_bytes`
  not_usable = 15,         ///< that kind of item cannot be used
  invalid_entity = 16,     ///< an entity id outside the players' range, or an unknown kind
  elsewhere = 17,          ///< Join in a zone the player's character has left through an exit
  in_transit = 18,         ///< Join for a character still crossing into this zone: retry
  bad_rules = 19,          ///< ChangeRules with rules that do not parse or would change the map
};

/// Why a player went offline (`LoggedOut::reason`). Values are never reused or renumbered.
enum class LogoutReason : std::uint8_t {
  left = 1,           ///< the player sent Leave
  disconnected = 2,   ///< its connection closed (or timed out) without a Leave
  session_lost = 3,   ///< the server stopped without logging it out (a crash): found on start
  server_stopped = 4, ///< the server shut down cleanly
};

/// The stats of one kind of mob.
struct MobStats {
  std::int32_t max_hp = 0;               ///< hit points when spawned
  std::int32_t damage_min = 0;           ///< damage of one bite, at least
  std::int32_t damage_max = 0;           ///< damage of one bite, at most
  std::int64_t speed_mm_per_tick = 0;    ///< chase and wander speed
  std::uint64_t xp = 0;                  ///< experience for the killer
  std::uint32_t loot_percent = 0;        ///< chance that it drops an item when killed
  ItemKind loot = ItemKind::pelt;        ///< what it drops, unless the roll gives a potion
  std::uint32_t potion_loot_percent = 0; ///< of the drops, how many are potions instead

  friend bool operator==(const MobStats&, const MobStats&) = default;
};

/// The game's rules. A rules file sets any of the fields but the three marked fixed (id ranges
/// and the coordinate guard, which no file may change); the others keep their defaults.
struct Rules {
  /// Which rules these are: 1 for the defaults; a rules file names its own.
  std::uint32_t version = 1;

  // ---- map --------------------------------------------------------------------------------
  std::int64_t tile_mm = 1000;          ///< side of a square tile
  std::int32_t map_width = 64;          ///< tiles west to east
  std::int32_t map_height = 64;         ///< tiles north to south
  std::uint32_t boulder_percent = 13;   ///< chance that a 2x2 block between lanes is all rock
  std::uint32_t rock_percent = 20;      ///< chance that such a block holds a single rock
  std::uint32_t wolf_spawns = 8;        ///< wolf spawn points per zone
  std::uint32_t boar_spawns = 4;        ///< boar spawn points per zone
  std::int32_t mob_spawn_min_tiles = 8; ///< mob spawn points are at least this far from
                                        ///< the player spawn point
  std::int32_t waypoint_min_tiles = 20; ///< the waypoint is at least this far from it
  /// Coordinates beyond ±this are rejected before any arithmetic can overflow. Fixed.
  std::int64_t coordinate_limit = 1'000'000'000;

  // ---- players ------------------------------------------------------------------------------
  std::int64_t player_speed_mm_per_tick = 250; ///< 5 m/s at 20 Hz
  std::int64_t move_allowance_mm = 100;        ///< slack for client rounding and jitter
  std::uint64_t move_bank_ticks = 20;          ///< idle ticks that count towards one move
  std::int32_t base_max_hp = 100;              ///< max hp at level 1
  std::int32_t max_hp_per_level = 20;          ///< max hp gained per level
  std::uint32_t max_level = 30;                ///< no experience counts beyond it
  std::uint64_t xp_per_level = 50;             ///< level L needs xp_per_level * L * (L-1)
  std::uint64_t player_respawn_ticks = 100;    ///< 5 s dead before respawning at the spawn
  /// Player ids are 1..this; the ranges above are mobs and items, so no id is ever both. Fixed.
  EntityId max_player_id = (EntityId{1} << 60) - 1;

  // ---- combat -------------------------------------------------------------------------------
  std::int64_t attack_range_mm = 2000;      ///< a player's reach with a weapon
  std::uint64_t attack_cooldown_ticks = 10; ///< between two attacks of one player
  std::int32_t damage_min = 6;              ///< a player's hit at level 1, at least
  std::int32_t damage_max = 12;             ///< a player's hit at level 1, at most
  std::int32_t damage_per_level = 2;        ///< added to both per level above 1

  // ---- mobs ---------------------------------------------------------------------------------
  std::uint64_t mob_think_ticks = 10;      ///< a mob acts every this many ticks (staggered)
  std::uint64_t wander_one_in = 4;         ///< an idle mob wanders on one think in this many
  std::int64_t wander_step_mm = 1500;      ///< longest wandering step
  std::int64_t aggro_radius_mm = 8000;     ///< a mob chases the nearest player within it
  std::int64_t leash_radius_mm = 16000;    ///< and never strays farther from its spawn
  std::int64_t mob_attack_range_mm = 1500; ///< a mob bites within this distance
  std::uint64_t mob_attack_cooldown_ticks = 20;
  std::uint64_t mob_respawn_ticks = 600; ///< 30 s after a mob's death
  std::uint32_t max_spawns_per_tick = 4; ///< spawns spread over the first ticks
  MobStats wolf{.max_hp = 30,
                .damage_min = 3,
                .damage_max = 6,
                .speed_mm_per_tick = 200,
                .xp = 25,
                .loot_percent = 60,
                .loot = ItemKind::pelt,
                .potion_loot_percent = 50};
  MobStats boar{.max_hp = 50,
                .damage_min = 4,
                .damage_max = 8,
                .speed_mm_per_tick = 150,
                .xp = 40,
                .loot_percent = 80,
                .loot = ItemKind::pelt,
                .potion_loot_percent = 25};

  // ---- items --------------------------------------------------------------------------------
  std::int64_t reach_mm = 1500;             ///< pick up within this distance
  std::uint32_t inventory_capacity = 16;    ///< items carried, all kinds together
  std::int32_t potion_heal = 40;            ///< hp a potion heals, capped at max hp
  std::uint64_t item_lifetime_ticks = 2400; ///< ground items vanish after 2 minutes
  ItemId first_item_id = ItemId{1} << 61;   ///< the first ground item's id. Fixed.

  // ---- chat and quests ------------------------------------------------------------------------
  std::size_t max_say_bytes = 256;        ///< longest chat line (bytes, any encoding)
  std::int64_t waypoint_radius_mm = 2000; ///< how close "reach the waypoint" means
  std::uint32_t wolves_for_quest = 5;     ///< kills the "kill wolves" quest asks for
  std::uint64_t quest_xp = 100;           ///< experience for completing either quest

  /// The stats of `kind`.
  [[nodiscard]] constexpr const MobStats& stats_of(MobKind kind) const noexcept {
    return kind == MobKind::wolf ? wolf : boar;
  }
  /// Max hp of a player at `level` (REQUIRES: level >= 1).
  [[nodiscard]] constexpr std::int32_t max_hp_at(std::uint32_t level) const noexcept {
    return base_max_hp + max_hp_per_level * static_cast<std::int32_t>(level - 1);
  }
  /// Total experience a player needs to reach `level` (0 for level 1).
  [[nodiscard]] constexpr std::uint64_t xp_for_level(std::uint32_t level) const noexcept {
    return xp_per_level * level * (level - 1);
  }
  /// True when `other` gives the same map (tile size, map size, rocks, spawn points): a running
  /// zone keeps its map, so a rules change may not alter these.
  [[nodiscard]] bool same_map(const Rules& other) const noexcept;

  friend bool operator==(const Rules&, const Rules&) = default;
};

/// The built-in rules, version 1. Read it only for what no rules file changes (the fixed id
/// ranges) or where there is no zone (defaults for tests and tools); a zone's rules are its
/// state's (`State::rules`).
inline constexpr Rules default_rules{};

/// `default_rules`, shared: what a state holds until its genesis names other rules.
[[nodiscard]] const std::shared_ptr<const Rules>& shared_default_rules();

/// A rules file (a JSON object; docs/rules.md): every field it names replaces the default of
/// version 1, the others keep it. Errors (invalid_argument) name the field: not JSON, not an
/// object, an unknown or fixed field, a value of the wrong type or out of range, and
/// inconsistent values (damage_min above damage_max, percents summing past 100).
[[nodiscard]] Result<Rules> parse_rules(std::string_view text);

/// The canonical form of `rules`: compact JSON with every field, in the struct's order,
/// integers only (and the loot kinds by name). Equal rules give equal text, whatever file they
/// came from; parse_rules reads it back to equal rules.
[[nodiscard]] std::string canonical_rules(const Rules& rules);

/// SHA-256 of canonical_rules(rules).
[[nodiscard]] log::Hash rules_hash(const Rules& rules);

/// The rules a zone's genesis names (ZoneInfo::rules, canonical text or a rules file): the
/// defaults when it is empty. Errors: parse_rules'.
[[nodiscard]] Result<Rules> rules_of_text(std::string_view text);

/// The mob spawned at spawn point `index` of `zone`: one id per spawn point, reused by every
/// respawn, unique in the world and outside the players' and items' ranges.
[[nodiscard]] constexpr EntityId mob_id(ZoneId zone, std::uint32_t index) noexcept {
  return (EntityId{1} << 62) + ((zone & 0xffff'ffff) << 20) + index;
}

/// True when `id` can name a player.
[[nodiscard]] constexpr bool is_player_id(EntityId id) noexcept {
  return id >= 1 && id <= default_rules.max_player_id;
}

/// Short names: "teleport", "wolf", "potion", "reach_waypoint"; "unknown" for other values.
[[nodiscard]] std::string_view to_string(Reject reject) noexcept;
[[nodiscard]] std::string_view to_string(MobKind kind) noexcept;
[[nodiscard]] std::string_view to_string(ItemKind kind) noexcept;
[[nodiscard]] std::string_view to_string(Quest quest) noexcept;
[[nodiscard]] std::string_view to_string(LogoutReason reason) noexcept;

} // namespace worldlog::game

template <> struct fmt::formatter<worldlog::game::Reject> : fmt::formatter<std::string_view> {
  auto format(worldlog::game::Reject value, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(worldlog::game::to_string(value), ctx);
  }
};
template <> struct fmt::formatter<worldlog::game::MobKind> : fmt::formatter<std::string_view> {
  auto format(worldlog::game::MobKind value, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(worldlog::game::to_string(value), ctx);
  }
};
template <> struct fmt::formatter<worldlog::game::ItemKind> : fmt::formatter<std::string_view> {
  auto format(worldlog::game::ItemKind value, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(worldlog::game::to_string(value), ctx);
  }
};
template <> struct fmt::formatter<worldlog::game::Quest> : fmt::formatter<std::string_view> {
  auto format(worldlog::game::Quest value, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(worldlog::game::to_string(value), ctx);
  }
};
template <> struct fmt::formatter<worldlog::game::LogoutReason> : fmt::formatter<std::string_view> {
  auto format(worldlog::game::LogoutReason value, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(worldlog::game::to_string(value), ctx);
  }
};

// The folded world of one zone: players, mobs, ground items and handoffs in flight.
//
// Everything is in ordered containers keyed by id, so iteration order (and with it the
// snapshot, the hash and every decision that loops) is the same on every run. Bots, tools and
// tests read the state directly; only `Model::evolve` changes it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include <worldlog/game/map.hpp>
#include <worldlog/game/rules.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::game {

/// Items carried, by kind (a kind with no items has no entry).
using Inventory = std::map<ItemKind, std::uint32_t>;

struct Player {
  EntityId id = 0;
  Point at;
  std::int32_t hp = default_rules.max_hp_at(1); ///< a new player's: `Rules::max_hp_at(1)`
  std::int32_t max_hp = default_rules.max_hp_at(1);
  std::uint32_t level = 1;
  std::uint64_t xp = 0; ///< total experience
  bool dead = false;
  std::uint64_t respawn_tick = 0;     ///< when dead: the tick it respawns at
  std::uint64_t last_move_tick = 0;   ///< the tick its movement allowance counts from
  std::uint64_t next_attack_tick = 0; ///< it may attack at this tick or later
  Inventory inventory;
  std::uint32_t quests_done = 0; ///< bit (1 << Quest) per completed quest
  std::uint32_t wolves_killed = 0;
  std::uint64_t epoch = 0; ///< ownership epoch: +1 on every zone handoff

  /// Items carried, all kinds together.
  [[nodiscard]] std::uint32_t carried() const noexcept;
  /// True when `quest` was completed (in any zone: the record travels with the player).
  [[nodiscard]] bool done(Quest quest) const noexcept {
    return (quests_done & (1u << static_cast<unsigned>(quest))) != 0;
  }

  friend bool operator==(const Player&, const Player&) = default;
};

struct Mob {
  EntityId id = 0;
  MobKind kind = MobKind::wolf;
  std::uint32_t spawn = 0; ///< its spawn point: index into Map::mob_spawns
  Point at;
  std::int32_t hp = 0;
  bool dead = false;
  std::uint64_t respawn_tick = 0;     ///< when dead: the earliest tick it respawns at
  std::uint64_t next_attack_tick = 0; ///< it may bite at this tick or later

  friend bool operator==(const Mob&, const Mob&) = default;
};

struct GroundItem {
  ItemId id = 0;
  ItemKind kind = ItemKind::potion;
  Point at;
  std::uint64_t dropped_tick = 0; ///< it vanishes item_lifetime_ticks later

  friend bool operator==(const GroundItem&, const GroundItem&) = default;
};

/// How many items entered and left the zone since its genesis, as the events recorded them.
///
/// With it item conservation is a property of one state: the items on the ground and in the
/// players' inventories number created + carried_in - used - expired - carried_out. Picking up
/// and dropping move an item without changing the count, so they have no counter. Each counter
/// counts what its event claims, not what the state could back: a Used by a player who holds
/// no potion still counts, so the claim shows as an imbalance instead of vanishing.
struct ItemLedger {
  std::uint64_t created = 0;     ///< loot left by dying mobs (LootDropped)
  std::uint64_t used = 0;        ///< items used up (Used)
  std::uint64_t expired = 0;     ///< ground items that lay too long (ItemDespawned)
  std::uint64_t carried_in = 0;  ///< in the inventories of arriving players (Arrived)
  std::uint64_t carried_out = 0; ///< in the inventories of players who Departed (or Left)

  friend bool operator==(const ItemLedger&, const ItemLedger&) = default;
};

/// A player who left through an exit, kept until the destination has taken it.
struct Departure {
  Player player; ///< as it left, `at` past the edge it crossed
  ZoneId to = 0;
  std::uint64_t epoch = 0;

  friend bool operator==(const Departure&, const Departure&) = default;
};

struct State {
  zone::ZoneInfo info; ///< which zone this is (the map follows from it)
  /// The rules in force: the genesis' (info.rules), until a RulesChanged replaces them. Shared
  /// and never changed in place, so copying a state is cheap; states compare them by value.
  std::shared_ptr<const Rules> rules = shared_default_rules();
  Map map;                            ///< map_for(info, *rules), kept for the rules' lookups
  std::map<EntityId, Player> players; ///< players online in the zone
  /// Characters whose players logged out here, kept whole (level, xp, inventory, quests,
  /// epoch) until they join again. Nothing in the game sees them: no mob, no broadcast.
  std::map<EntityId, Player> offline;
  std::map<EntityId, Mob> mobs;       ///< every mob spawned so far, dead or alive
  std::map<ItemId, GroundItem> items; ///< items on the ground; ids grow with time
  ItemId next_item_id = default_rules.first_item_id;
  /// Departures not yet completed, by (entity, epoch).
  std::map<std::pair<EntityId, std::uint64_t>, Departure> departing;
  /// The highest ownership epoch this zone has seen of each entity that ever crossed into or
  /// out of it: a repeated arrival at an epoch already seen is recognised and ignored.
  std::map<EntityId, std::uint64_t> epochs;
  /// Dead players by (respawn tick, id), so a tick finds the due ones without a scan. Derived
  /// from `players`: rebuilt on restore, not stored in snapshots.
  std::set<std::pair<std::uint64_t, EntityId>> respawns;
  ItemLedger item_ledger; ///< the items that entered and left the zone so far

  /// The player `id` if it is online here, or nullptr.
  [[nodiscard]] const Player* player(EntityId id) const noexcept;
  /// The character `id` resting here (its player offline), or nullptr.
  [[nodiscard]] const Player* offline_player(EntityId id) const noexcept;
  /// True when the character `id` is departing from here (a handoff not yet completed).
  [[nodiscard]] bool departing_player(EntityId id) const noexcept;
  /// The mob `id` (alive or dead), or nullptr.
  [[nodiscard]] const Mob* mob(EntityId id) const noexcept;
  /// The ground item `id`, or nullptr.
  [[nodiscard]] const GroundItem* item(ItemId id) const noexcept;

  /// Items in the zone: on the ground and in the inventories of its players, online or offline
  /// (not of the departing ones, which the ledger counts as carried out).
  [[nodiscard]] std::uint64_t items_in_zone() const noexcept;

  /// Live mobs within `radius_mm` of `at`, nearest first (ties by id).
  [[nodiscard]] std::vector<const Mob*> mobs_near(Point at, std::int64_t radius_mm) const;
  /// Ground items within `radius_mm` of `at`, nearest first (ties by id).
  [[nodiscard]] std::vector<const GroundItem*> items_near(Point at, std::int64_t radius_mm) const;

  friend bool operator==(const State& a, const State& b);
};

} // namespace worldlog::game

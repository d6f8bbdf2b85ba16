// What happened in a zone of the reference game: the events `decide` and `on_tick` return and
// `evolve` applies.
//
// An event records everything chance or the clock decided (the damage roll, the loot, the
// tick), so applying it never consults anything but the state. Each event type has a stable
// tag, its `payload_type` in the log: `type` below, equal to its index in `Event` plus one.
// New types are appended; tags are never reused.
//
// A type whose payload changed shape has a schema `version` above 1 (Model::event_versions);
// Model::upcast turns its older payloads into the current events, so an old log reads as if
// it had been written today.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>

#include <worldlog/game/rules.hpp>
#include <worldlog/game/state.hpp>

namespace worldlog::game {

/// A player came online at `at`: with `character`, resting in this zone since it logged out,
/// or (no character) as a new level-1 character at the spawn point.
struct Joined {
  static constexpr std::uint32_t type = 1;
  EntityId entity = 0;
  Point at;
  std::uint64_t tick = 0;
  std::optional<Player> character{}; ///< as it logged out; `at` and the tick are the event's
  friend bool operator==(const Joined&, const Joined&) = default;
};
/// A player left the game and its character with it (written by logs before LoggedOut; no longer
/// decided).
struct Left {
  static constexpr std::uint32_t type = 2;
  EntityId entity = 0;
  friend bool operator==(const Left&, const Left&) = default;
};
/// A player walked to `to`.
struct Moved {
  static constexpr std::uint32_t type = 3;
  EntityId entity = 0;
  Point to;
  std::uint64_t tick = 0;
  friend bool operator==(const Moved&, const Moved&) = default;
};
/// `attacker` (a player or a mob) hit `target` for `damage` (rolled when decided).
struct Attacked {
  static constexpr std::uint32_t type = 4;
  EntityId attacker = 0;
  EntityId target = 0;
  std::int32_t damage = 0;
  std::uint64_t tick = 0;
  friend bool operator==(const Attacked&, const Attacked&) = default;
};
/// `entity` (a player or a mob) died by `killer`'s hand. Version 2: the experience a player
/// earns for the kill is an XpGained after it. (Version 1 also carried that `xp`, 0 for a
/// mob's kill; Model::upcast turns it into Died and, when it earned something, XpGained.)
struct Died {
  static constexpr std::uint32_t type = 5;
  static constexpr std::uint16_t version = 2;
  EntityId entity = 0;
  EntityId killer = 0;
  std::uint64_t tick = 0;
  friend bool operator==(const Died&, const Died&) = default;
};
/// A dead player came back at `at` (the spawn point) with full hp.
struct Respawned {
  static constexpr std::uint32_t type = 6;
  EntityId entity = 0;
  Point at;
  std::uint64_t tick = 0;
  friend bool operator==(const Respawned&, const Respawned&) = default;
};
/// A player reached `level`; its max hp is now `max_hp` and it is healed to it.
struct LevelUp {
  static constexpr std::uint32_t type = 7;
  EntityId entity = 0;
  std::uint32_t level = 0;
  std::int32_t max_hp = 0;
  friend bool operator==(const LevelUp&, const LevelUp&) = default;
};
/// Mob `mob` of `kind` (re)appeared at spawn point `spawn`, at `at`, with full hp.
struct MobSpawned {
  static constexpr std::uint32_t type = 8;
  EntityId mob = 0;
  MobKind kind = MobKind::wolf;
  std::uint32_t spawn = 0;
  Point at;
  friend bool operator==(const MobSpawned&, const MobSpawned&) = default;
};
/// A mob wandered or chased to `to`.
struct MobMoved {
  static constexpr std::uint32_t type = 9;
  EntityId mob = 0;
  Point to;
  friend bool operator==(const MobMoved&, const MobMoved&) = default;
};
/// A player put one item of `kind` from its inventory on the ground as item `item`.
struct Dropped {
  static constexpr std::uint32_t type = 10;
  EntityId entity = 0;
  ItemId item = 0;
  ItemKind kind = ItemKind::potion;
  Point at;
  std::uint64_t tick = 0;
  friend bool operator==(const Dropped&, const Dropped&) = default;
};
/// A dying mob left item `item` of `kind` on the ground.
struct LootDropped {
  static constexpr std::uint32_t type = 11;
  EntityId mob = 0;
  ItemId item = 0;
  ItemKind kind = ItemKind::potion;
  Point at;
  std::uint64_t tick = 0;
  friend bool operator==(const LootDropped&, const LootDropped&) = default;
};
/// A player took ground item `item` (of `kind`) into its inventory.
struct PickedUp {
  static constexpr std::uint32_t type = 12;
  EntityId entity = 0;
  ItemId item = 0;
  ItemKind kind = ItemKind::potion;
  friend bool operator==(const PickedUp&, const PickedUp&) = default;
};
/// A ground item lay too long and vanished from `at`.
struct ItemDespawned {
  static constexpr std::uint32_t type = 13;
  ItemId item = 0;
  Point at;
  friend bool operator==(const ItemDespawned&, const ItemDespawned&) = default;
};
/// A player used one item of `kind`, which healed it by `healed` hp.
struct Used {
  static constexpr std::uint32_t type = 14;
  EntityId entity = 0;
  ItemKind kind = ItemKind::potion;
  std::int32_t healed = 0;
  friend bool operator==(const Used&, const Used&) = default;
};
/// A player said `text` to the players nearby.
struct Said {
  static constexpr std::uint32_t type = 15;
  EntityId entity = 0;
  std::string text;
  friend bool operator==(const Said&, const Said&) = default;
};
/// A player completed `quest`, earning `xp`; each quest once per player.
struct QuestCompleted {
  static constexpr std::uint32_t type = 16;
  EntityId entity = 0;
  Quest quest = Quest::reach_waypoint;
  std::uint64_t xp = 0;
  friend bool operator==(const QuestCompleted&, const QuestCompleted&) = default;
};
/// A player walked out through an exit towards zone `to` with ownership `epoch`. It carries the
/// whole player, so the destination can take it over and this zone's log replays alone.
struct Departed {
  static constexpr std::uint32_t type = 17;
  Player player;
  ZoneId to = 0;
  std::uint64_t epoch = 0;
  friend bool operator==(const Departed&, const Departed&) = default;
};
/// A player handed off by zone `from` with ownership `epoch` entered, as `player` (at the
/// entry edge).
struct Arrived {
  static constexpr std::uint32_t type = 18;
  Player player;
  ZoneId from = 0;
  std::uint64_t epoch = 0;
  friend bool operator==(const Arrived&, const Arrived&) = default;
};
/// The destination took the player that left with `epoch`: the departure is settled.
struct HandoffCompleted {
  static constexpr std::uint32_t type = 19;
  EntityId entity = 0;
  std::uint64_t epoch = 0;
  friend bool operator==(const HandoffCompleted&, const HandoffCompleted&) = default;
};

/// A player went offline for `reason`; its character stays in this zone, whole, until it joins
/// again.
struct LoggedOut {
  static constexpr std::uint32_t type = 20;
  EntityId entity = 0;
  LogoutReason reason = LogoutReason::left;
  friend bool operator==(const LoggedOut&, const LoggedOut&) = default;
};

/// Not a logged event: what a player is shown of an entity already in view when it comes into
/// a zone (Joined, Arrived), since it saw none of the events that put it there.
struct Seen {
  static constexpr std::uint32_t type = 21;
  enum class What : std::uint8_t { player = 1, wolf = 2, boar = 3, potion = 4, pelt = 5 };
  EntityId entity = 0; ///< a player's or mob's id, or a ground item's
  What what = What::player;
  Point at;
  std::int32_t hp = 0; ///< players and mobs
  friend bool operator==(const Seen&, const Seen&) = default;
};

/// Player `entity` earned `xp` for killing mob `from` (right after the mob's Died). It counts
/// only when `from` is a mob of the zone, as Died version 1's xp did.
struct XpGained {
  static constexpr std::uint32_t type = 22;
  EntityId entity = 0;
  std::uint64_t xp = 0;
  EntityId from = 0;
  friend bool operator==(const XpGained&, const XpGained&) = default;
};

/// The zone plays by new rules from the next event on: `rules` in their canonical form
/// (canonical_rules), `version` and `hash` (rules_hash) naming them.
struct RulesChanged {
  static constexpr std::uint32_t type = 23;
  std::uint32_t version = 0;
  log::Hash hash{};
  std::string rules;
  friend bool operator==(const RulesChanged&, const RulesChanged&) = default;
};
using Event =
    std::variant<Joined, Left, Moved, Attacked, Died, Respawned, LevelUp, MobSpawned, MobMoved,
                 Dropped, LootDropped, PickedUp, ItemDespawned, Used, Said, QuestCompleted,
                 Departed, Arrived, HandoffCompleted, LoggedOut, Seen, XpGained, RulesChanged>;

/// The log's payload_type of `event`.
[[nodiscard]] inline std::uint32_t payload_type_of(const Event& event) noexcept {
  return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::type; }, event);
}

} // namespace worldlog::game

// What clients (and the zone, for handoffs) ask the reference game to do.
//
// Every command names the entity it acts for. A player may act only for itself; the system
// and service actors may act for any player; `Arrive` and `CompleteHandoff` are the system's
// alone. The constructors below read well at call sites: `game::move(7, {1500, 2000})`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include <worldlog/game/rules.hpp>
#include <worldlog/game/state.hpp>

namespace worldlog::game {

/// Come online: with the character resting in this zone, else as a new character at the spawn
/// point. A character that left this zone through an exit is refused (`elsewhere`): it is in
/// the zone it went to. `epoch` is the character's handoff epoch as the world's directory knows
/// it (0: a new character); the world sets it, and a zone that has not yet taken the character
/// at that epoch refuses the Join (`in_transit`).
struct Join {
  EntityId entity = 0;
  std::uint64_t epoch = 0;
  friend bool operator==(const Join&, const Join&) = default;
};
/// Go offline; the character stays in the zone. A player may give only `left` as the reason;
/// the system logs players out for the other reasons.
struct Leave {
  EntityId entity = 0;
  LogoutReason reason = LogoutReason::left;
  friend bool operator==(const Leave&, const Leave&) = default;
};
/// Walk in a straight line to `to`; past the east or west edge it is a zone handoff.
struct Move {
  EntityId entity = 0;
  Point to;
  friend bool operator==(const Move&, const Move&) = default;
};
/// Hit the mob `target`.
struct Attack {
  EntityId entity = 0;
  EntityId target = 0;
  friend bool operator==(const Attack&, const Attack&) = default;
};
/// Take the ground item `item` into the inventory.
struct PickUp {
  EntityId entity = 0;
  ItemId item = 0;
  friend bool operator==(const PickUp&, const PickUp&) = default;
};
/// Put one item of `kind` from the inventory on the ground.
struct Drop {
  EntityId entity = 0;
  ItemKind kind = ItemKind::potion;
  friend bool operator==(const Drop&, const Drop&) = default;
};
/// Use one item of `kind` from the inventory (a potion heals).
struct Use {
  EntityId entity = 0;
  ItemKind kind = ItemKind::potion;
  friend bool operator==(const Use&, const Use&) = default;
};
/// Say `text` to the players nearby.
struct Say {
  EntityId entity = 0;
  std::string text;
  friend bool operator==(const Say&, const Say&) = default;
};
/// System: take over `player`, which left zone `from` with ownership `epoch`.
struct Arrive {
  Player player;
  std::uint64_t epoch = 0;
  ZoneId from = 0;
  friend bool operator==(const Arrive&, const Arrive&) = default;
};
/// System: the destination has taken the player that left with `epoch`.
struct CompleteHandoff {
  EntityId entity = 0;
  std::uint64_t epoch = 0;
  friend bool operator==(const CompleteHandoff&, const CompleteHandoff&) = default;
};

/// System: play by `rules` from now on (a rules file, docs/rules.md). Decided into a
/// RulesChanged event; refused (`bad_rules`) when the text does not parse or would change the
/// zone's map, and a no-op when they are the rules in force.
struct ChangeRules {
  std::string rules;
  friend bool operator==(const ChangeRules&, const ChangeRules&) = default;
};

using Command = std::variant<Join, Leave, Move, Attack, PickUp, Drop, Use, Say, Arrive,
                             CompleteHandoff, ChangeRules>;

[[nodiscard]] inline Command join(EntityId entity) { return Join{entity, 0}; }
[[nodiscard]] inline Command leave(EntityId entity, LogoutReason reason = LogoutReason::left) {
  return Leave{entity, reason};
}
[[nodiscard]] inline Command move(EntityId entity, Point to) { return Move{entity, to}; }
[[nodiscard]] inline Command attack(EntityId entity, EntityId target) {
  return Attack{entity, target};
}
[[nodiscard]] inline Command pick_up(EntityId entity, ItemId item) { return PickUp{entity, item}; }
[[nodiscard]] inline Command drop(EntityId entity, ItemKind kind) { return Drop{entity, kind}; }
[[nodiscard]] inline Command use(EntityId entity, ItemKind kind) { return Use{entity, kind}; }
[[nodiscard]] inline Command say(EntityId entity, std::string text) {
  return Say{entity, std::move(text)};
}

/// The entity `command` acts for (the arriving player's id for Arrive; 0 for ChangeRules).
[[nodiscard]] EntityId entity_of(const Command& command) noexcept;

} // namespace worldlog::game

// The reference game's invariants, for `worldlog replay bisect --invariant NAME`:
//
//   hp_in_bounds         every player's hp within [0, max_hp], every mob's within [0, its kind's]
//   inside_map           every player, mob and ground item on the map and not on a rock
//   items_conserved      items on the ground and in inventories == created + carried in - used
//                        - expired - carried out (the state's item ledger); and every ground
//                        item carries an id the zone issued and a known kind, every inventory
//                        positive counts of known kinds within capacity
//   one_zone_per_entity  no player (online or offline) or mob is in this zone and in another at
//                        the same wall time
#pragma once

#include <optional>
#include <string>

#include <worldlog/game/model.hpp>
#include <worldlog/replay/bisect.hpp>

namespace worldlog::game {

/// The four invariants above, registered under their names.
[[nodiscard]] replay::Invariants<Model> invariants();

/// The checks of the invariants that need nothing but the state: nullopt when it holds, else
/// the first violation found (in id order), naming the entity and the values.
[[nodiscard]] std::optional<std::string> hp_violation(const State& state);
[[nodiscard]] std::optional<std::string> map_violation(const State& state);
/// item_violation checks the ledger's balance first, then each item.
[[nodiscard]] std::optional<std::string> item_violation(const State& state);
/// Whether a player or mob of `state` is also in `other`, a state of another zone.
[[nodiscard]] std::optional<std::string> shared_entity(const State& state, const State& other);

} // namespace worldlog::game

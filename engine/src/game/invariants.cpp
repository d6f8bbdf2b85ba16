#include <worldlog/game/invariants.hpp>

#include <utility>

#include <fmt/format.h>

namespace worldlog::game {
namespace {

using game::ItemKind;

bool known(ItemKind kind) { return kind == ItemKind::potion || kind == ItemKind::pelt; }

std::optional<std::string> where_violation(const game::Map& map, std::string_view what,
                                           std::uint64_t id, game::Point at) {
  if (!map.in_bounds(at)) {
    return fmt::format("{} {} at {} is off the map ({} x {} mm)", what, id, at, map.width_mm(),
                       map.height_mm());
  }
  if (map.blocked(at)) {
    return fmt::format("{} {} at {} stands on a rock (tile {}, {})", what, id, at,
                       at.x / map.tile_mm, at.y / map.tile_mm);
  }
  return std::nullopt;
}

std::optional<std::string> inventory_violation(const game::Player& player, std::string_view where,
                                               std::uint32_t capacity) {
  for (const auto& [kind, count] : player.inventory) {
    if (!known(kind)) {
      return fmt::format("player {}{} carries items of unknown kind {}", player.id, where,
                         static_cast<unsigned>(kind));
    }
    if (count == 0) {
      return fmt::format("player {}{} has an inventory entry of 0 {}", player.id, where, kind);
    }
  }
  if (player.carried() > capacity) {
    return fmt::format("player {}{} carries {} items, more than the capacity of {}", player.id,
                       where, player.carried(), capacity);
  }
  return std::nullopt;
}

std::optional<std::string> one_zone(const game::State& state,
                                    replay::InvariantContext<Model>& context) {
  return context.across_zones(
      [&](zone::ZoneId other, const replay::Replayed<Model>& then) -> std::optional<std::string> {
        auto shared = shared_entity(state, then.state);
        if (!shared) return std::nullopt;
        return fmt::format("{} (zone {} seq {}, zone {} seq {})", *shared, state.info.zone,
                           context.checked().seq, other, then.seq);
      });
}

} // namespace

std::optional<std::string> hp_violation(const game::State& state) {
  for (const auto& [id, player] : state.players) {
    if (player.hp < 0 || player.hp > player.max_hp) {
      return fmt::format("player {} has {} hp, outside [0, {}]", id, player.hp, player.max_hp);
    }
  }
  for (const auto& [id, mob] : state.mobs) {
    const std::int32_t max_hp = state.rules->stats_of(mob.kind).max_hp;
    if (mob.hp < 0 || mob.hp > max_hp) {
      return fmt::format("{} {} has {} hp, outside [0, {}]", mob.kind, id, mob.hp, max_hp);
    }
  }
  return std::nullopt;
}

std::optional<std::string> map_violation(const game::State& state) {
  for (const auto& [id, player] : state.players)
    if (auto wrong = where_violation(state.map, "player", id, player.at)) return wrong;
  for (const auto& [id, mob] : state.mobs)
    if (auto wrong = where_violation(state.map, game::to_string(mob.kind), id, mob.at))
      return wrong;
  for (const auto& [id, item] : state.items)
    if (auto wrong = where_violation(state.map, "item", id, item.at)) return wrong;
  return std::nullopt;
}

std::optional<std::string> item_violation(const game::State& state) {
  // Summed on both sides rather than subtracted: a damaged log may claim more items out than in.
  const game::ItemLedger& ledger = state.item_ledger;
  const std::uint64_t in_zone = state.items_in_zone();
  if (in_zone + ledger.used + ledger.expired + ledger.carried_out !=
      ledger.created + ledger.carried_in) {
    return fmt::format(
        "{} items in the zone ({} on the ground, {} carried), but created {} + "
        "carried in {} - used {} - expired {} - carried out {} = {}",
        in_zone, state.items.size(), in_zone - state.items.size(), ledger.created,
        ledger.carried_in, ledger.used, ledger.expired, ledger.carried_out,
        static_cast<std::int64_t>(ledger.created + ledger.carried_in) -
            static_cast<std::int64_t>(ledger.used + ledger.expired + ledger.carried_out));
  }
  for (const auto& [id, item] : state.items) {
    if (id < game::default_rules.first_item_id || id >= state.next_item_id) {
      return fmt::format("ground item {} has an id the zone never issued (issued: {} to {})", id,
                         game::default_rules.first_item_id, state.next_item_id - 1);
    }
    if (!known(item.kind)) {
      return fmt::format("ground item {} is of unknown kind {}", id,
                         static_cast<unsigned>(item.kind));
    }
  }
  const std::uint32_t capacity = state.rules->inventory_capacity;
  for (const auto& [id, player] : state.players)
    if (auto wrong = inventory_violation(player, "", capacity)) return wrong;
  for (const auto& [id, player] : state.offline)
    if (auto wrong = inventory_violation(player, " (offline)", capacity)) return wrong;
  for (const auto& [key, departure] : state.departing)
    if (auto wrong = inventory_violation(departure.player, " (departing)", capacity)) return wrong;
  return std::nullopt;
}

std::optional<std::string> shared_entity(const game::State& state, const game::State& other) {
  // A character is in a zone online or resting there offline; either way, in one zone only.
  const auto holds = [](const game::State& s, game::EntityId id) {
    return s.players.contains(id) || s.offline.contains(id);
  };
  const auto where = [](const game::State& s, game::EntityId id) {
    return s.players.contains(id) ? "online" : "offline";
  };
  for (const auto* characters : {&state.players, &state.offline}) {
    for (const auto& [id, player] : *characters) {
      if (holds(other, id)) {
        return fmt::format("player {} is in zone {} ({}) and in zone {} ({})", id, state.info.zone,
                           where(state, id), other.info.zone, where(other, id));
      }
    }
  }
  for (const auto& [id, mob] : state.mobs) {
    if (other.mobs.contains(id)) {
      return fmt::format("{} {} is in zone {} and in zone {}", mob.kind, id, state.info.zone,
                         other.info.zone);
    }
  }
  return std::nullopt;
}

replay::Invariants<Model> invariants() {
  using Context = replay::InvariantContext<Model>;
  replay::Invariants<Model> all;
  const auto state_only = [](std::optional<std::string> (*check)(const game::State&)) {
    return [check](const game::State& state, Context&) { return check(state); };
  };
  // The names are fixed and distinct, so none of these adds can fail.
  static_cast<void>(all.add({"hp_in_bounds", "every player's and mob's hp is within [0, its max]",
                             state_only(&hp_violation)}));
  static_cast<void>(
      all.add({"inside_map", "every player, mob and ground item is on the map and not on a rock",
               state_only(&map_violation)}));
  static_cast<void>(all.add(
      {"items_conserved",
       "items on the ground and carried == created + carried in - used - expired - carried "
       "out; ground items carry issued ids and known kinds; inventories hold positive counts "
       "of known kinds within capacity",
       state_only(&item_violation)}));
  static_cast<void>(all.add(
      {"one_zone_per_entity",
       "no player (online or offline) or mob is in two zones at the same wall time (reads the "
       "other zones)",
       &one_zone}));
  return all;
}

} // namespace worldlog::game

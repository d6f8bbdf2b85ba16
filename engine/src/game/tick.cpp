// Model::on_tick: what the world does by itself. Respawns of dead players, ground items that
// lay too long, mob spawns, and mob AI (bite, chase, wander), each recorded as an event under
// the actor that decided it.
//
// A tick decides from one state: events of the same tick do not see each other applied. The
// only interaction that matters is two mobs biting the same player, so the bites of this tick
// are tracked locally (`Bitten`) and nobody dies twice.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include <worldlog/game/geometry.hpp>
#include <worldlog/game/model.hpp>

namespace worldlog::game {
namespace {

using Emitted = Model::Emitted;

constexpr log::Actor system_actor{log::ActorKind::system, 0};

/// The eight directions a mob wanders in, as unit vectors scaled by 1000.
constexpr std::array<std::array<std::int64_t, 2>, 8> compass{{{0, -1000},
                                                              {707, -707},
                                                              {1000, 0},
                                                              {707, 707},
                                                              {0, 1000},
                                                              {-707, 707},
                                                              {-1000, 0},
                                                              {-707, -707}}};

/// Players bitten earlier in this tick, with their hp after those bites.
class Bitten {
public:
  std::int32_t hp_of(const Player& player) const {
    for (const auto& [id, hp] : hp_)
      if (id == player.id) return hp;
    return player.hp;
  }
  void set(EntityId id, std::int32_t hp) {
    for (auto& [known, value] : hp_)
      if (known == id) {
        value = hp;
        return;
      }
    hp_.emplace_back(id, hp);
  }

private:
  std::vector<std::pair<EntityId, std::int32_t>> hp_;
};

struct Tick {
  const State& state;
  const Rules& rules;
  zone::Context& context;
  std::vector<Emitted>& out;
  Bitten bitten{};

  void emit(log::Actor actor, Event event) { out.push_back({actor, std::move(event)}); }

  void respawn_players() {
    for (const auto& [due, id] : state.respawns) {
      if (due > context.tick) break;
      emit(system_actor, Respawned{id, state.map.spawn, context.tick});
    }
  }

  void despawn_items() {
    // Ids grow with time, so the oldest items come first.
    for (const auto& [id, item] : state.items) {
      if (item.dropped_tick + rules.item_lifetime_ticks > context.tick) break;
      emit(system_actor, ItemDespawned{id, item.at});
    }
  }

  void run_mobs() {
    std::uint32_t spawns_left = rules.max_spawns_per_tick;
    const auto& lairs = state.map.mob_spawns;
    for (std::uint32_t index = 0; index < lairs.size(); ++index) {
      const EntityId id = mob_id(state.info.zone, index);
      const Mob* mob = state.mob(id);
      if (mob == nullptr || (mob->dead && mob->respawn_tick <= context.tick)) {
        if (spawns_left == 0) continue;
        --spawns_left;
        emit({log::ActorKind::mob, id}, MobSpawned{id, lairs[index].kind, index, lairs[index].at});
      } else if (!mob->dead && (context.tick + index) % rules.mob_think_ticks == 0) {
        think(*mob);
      }
    }
  }

  /// The nearest live player within aggro range of `mob` and within its leash, if any.
  const Player* prey_of(const Mob& mob, Point lair) const {
    const Player* nearest = nullptr;
    std::uint64_t nearest_sq = 0;
    for (const auto& [id, player] : state.players) {
      if (player.dead || bitten.hp_of(player) == 0) continue;
      const std::uint64_t d = geometry::distance_sq(mob.at, player.at);
      if (!geometry::within(mob.at, player.at, rules.aggro_radius_mm) ||
          !geometry::within(lair, player.at, rules.leash_radius_mm))
        continue;
      if (nearest == nullptr || d < nearest_sq) {
        nearest = &player;
        nearest_sq = d;
      }
    }
    return nearest;
  }

  void think(const Mob& mob) {
    const Point lair = state.map.mob_spawns[mob.spawn].at;
    if (const Player* prey = prey_of(mob, lair)) {
      if (geometry::within(mob.at, prey->at, rules.mob_attack_range_mm))
        bite(mob, *prey);
      else
        chase(mob, *prey, lair);
    } else if (context.rng.below(rules.wander_one_in) == 0) {
      wander(mob, lair);
    }
  }

  void bite(const Mob& mob, const Player& prey) {
    if (context.tick < mob.next_attack_tick) return;
    const MobStats& stats = rules.stats_of(mob.kind);
    const auto damage =
        static_cast<std::int32_t>(context.rng.between(stats.damage_min, stats.damage_max));
    const log::Actor actor{log::ActorKind::mob, mob.id};
    emit(actor, Attacked{mob.id, prey.id, damage, context.tick});
    const std::int32_t hp = std::max(0, bitten.hp_of(prey) - damage);
    bitten.set(prey.id, hp);
    if (hp == 0) emit(actor, Died{prey.id, mob.id, context.tick});
  }

  /// One step of at most a think's worth of walking towards `prey`, stopping just inside
  /// biting range; sideways along one axis when a rock is in the way.
  void chase(const Mob& mob, const Player& prey, Point lair) {
    const std::int64_t stride = stride_of(mob);
    const std::int64_t gap = geometry::distance(mob.at, prey.at) - rules.mob_attack_range_mm / 2;
    const Point goal = geometry::step_toward(mob.at, prey.at, std::min(stride, gap));
    const std::array<Point, 3> tries{goal, Point{goal.x, mob.at.y}, Point{mob.at.x, goal.y}};
    for (const Point to : tries) {
      if (walkable(mob, to, lair)) {
        walk(mob, to);
        return;
      }
    }
  }

  void wander(const Mob& mob, Point lair) {
    // Far from home, a wanderer turns back; otherwise one of eight directions at random.
    if (!geometry::within(mob.at, lair, rules.leash_radius_mm / 2)) {
      const Point to = geometry::step_toward(mob.at, lair, stride_of(mob));
      if (walkable(mob, to, lair)) walk(mob, to);
      return;
    }
    const std::uint64_t direction = context.rng.below(8);
    const std::int64_t length = context.rng.between(rules.wander_step_mm / 2, rules.wander_step_mm);
    const auto [dx, dy] = compass[direction];
    const Point to{mob.at.x + dx * length / 1000, mob.at.y + dy * length / 1000};
    if (walkable(mob, to, lair)) walk(mob, to);
  }

  std::int64_t stride_of(const Mob& mob) const {
    return rules.stats_of(mob.kind).speed_mm_per_tick *
           static_cast<std::int64_t>(rules.mob_think_ticks);
  }

  bool walkable(const Mob& mob, Point to, Point lair) const {
    return to != mob.at && !state.map.blocked(to) && state.map.path_clear(mob.at, to) &&
           geometry::within(lair, to, rules.leash_radius_mm);
  }

  void walk(const Mob& mob, Point to) { emit({log::ActorKind::mob, mob.id}, MobMoved{mob.id, to}); }
};

} // namespace

std::vector<Model::Emitted> Model::on_tick(const State& state, zone::Context& context) {
  std::vector<Emitted> out;
  Tick tick{state, *state.rules, context, out};
  tick.respawn_players();
  tick.despawn_items();
  tick.run_mobs();
  return out;
}

} // namespace worldlog::game

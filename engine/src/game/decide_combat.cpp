// A player's attack on a mob: range, cooldown, the damage roll, and what a kill brings (death,
// experience, loot, the wolf quest).
#include <worldlog/game/geometry.hpp>
#include <worldlog/game/model.hpp>

#include "game/decide.hpp"

namespace worldlog::game::detail {

Decision decide_attack(const State& state, const Player& attacker, const Attack& attack,
                       zone::Context& context) {
  const Rules& rules = *state.rules;
  const Mob* mob = state.mob(attack.target);
  if (mob == nullptr || mob->dead)
    return reject(Reject::unknown_target, "no live mob {} in zone {}", attack.target,
                  state.info.zone);
  if (context.tick < attacker.next_attack_tick)
    return reject(Reject::cooldown, "player {} may attack again at tick {}, now is {}", attacker.id,
                  attacker.next_attack_tick, context.tick);
  if (!geometry::within(attacker.at, mob->at, rules.attack_range_mm))
    return reject(Reject::out_of_range, "mob {} is {} mm away, reach is {} mm", mob->id,
                  geometry::distance(attacker.at, mob->at), rules.attack_range_mm);

  const std::int32_t bonus = rules.damage_per_level * static_cast<std::int32_t>(attacker.level - 1);
  const auto damage = static_cast<std::int32_t>(
      context.rng.between(rules.damage_min + bonus, rules.damage_max + bonus));
  std::vector<Event> events{Attacked{attacker.id, mob->id, damage, context.tick}};
  if (damage < mob->hp) return Decision::accept(std::move(events));

  const MobStats& stats = rules.stats_of(mob->kind);
  events.push_back(Died{mob->id, attacker.id, context.tick});
  events.push_back(XpGained{attacker.id, stats.xp, mob->id});
  Progress progress{attacker.id, attacker.level, attacker.xp};
  progress.gain(rules, stats.xp, events);
  if (context.rng.below(100) < stats.loot_percent) {
    const ItemKind kind =
        context.rng.below(100) < stats.potion_loot_percent ? ItemKind::potion : stats.loot;
    events.push_back(LootDropped{mob->id, state.next_item_id, kind, mob->at, context.tick});
  }
  if (mob->kind == MobKind::wolf && !attacker.done(Quest::kill_wolves) &&
      attacker.wolves_killed + 1 >= rules.wolves_for_quest) {
    events.push_back(QuestCompleted{attacker.id, Quest::kill_wolves, rules.quest_xp});
    progress.gain(rules, rules.quest_xp, events);
  }
  return Decision::accept(std::move(events));
}

} // namespace worldlog::game::detail

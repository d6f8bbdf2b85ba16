// Model::evolve: the only place state changes. Nothing here rolls, reads a clock or decides;
// it applies what the event recorded. An event about an entity the state does not hold changes
// nothing, so folding a damaged log cannot crash; only the item ledger still counts what such an
// event claims, so that the claim shows up as items that do not add up.
#include <algorithm>
#include <memory>
#include <variant>

#include <worldlog/game/model.hpp>

namespace worldlog::game {
namespace {

template <typename Map> auto* find_in(Map& map, typename Map::key_type id) noexcept {
  const auto found = map.find(id);
  return found == map.end() ? nullptr : &found->second;
}

void add_item(Inventory& inventory, ItemKind kind) { ++inventory[kind]; }

void remove_item(Inventory& inventory, ItemKind kind) {
  const auto found = inventory.find(kind);
  if (found == inventory.end()) return;
  if (--found->second == 0) inventory.erase(found);
}

void forget_respawn(State& state, const Player& player) {
  if (player.dead) state.respawns.erase({player.respawn_tick, player.id});
}

/// Item ids are handed out in order; an item event moves the counter past its id.
void take_item_id(State& state, ItemId id) {
  state.next_item_id = std::max(state.next_item_id, id + 1);
}

struct Evolve {
  State& state;
  const Rules& rules; ///< in force before the event

  Player* player(EntityId id) const { return find_in(state.players, id); }
  Mob* mob(EntityId id) const { return find_in(state.mobs, id); }

  void operator()(const Joined& e) const {
    Player joined = e.character.value_or(Player{});
    if (!e.character) joined.hp = joined.max_hp = rules.max_hp_at(1);
    joined.id = e.entity;
    state.offline.erase(e.entity);
    joined.at = e.at;
    joined.last_move_tick = e.tick;
    if (joined.dead) state.respawns.insert({joined.respawn_tick, joined.id});
    state.players.insert_or_assign(e.entity, std::move(joined));
  }

  void operator()(const Left& e) const {
    const auto found = state.players.find(e.entity);
    if (found == state.players.end()) return;
    state.item_ledger.carried_out += found->second.carried();
    forget_respawn(state, found->second);
    state.players.erase(found);
  }

  void operator()(const Moved& e) const {
    if (Player* p = player(e.entity)) {
      p->at = e.to;
      p->last_move_tick = e.tick;
    }
  }

  void operator()(const Attacked& e) const {
    if (Player* attacker = player(e.attacker))
      attacker->next_attack_tick = e.tick + rules.attack_cooldown_ticks;
    else if (Mob* biter = mob(e.attacker))
      biter->next_attack_tick = e.tick + rules.mob_attack_cooldown_ticks;
    if (Player* target = player(e.target))
      target->hp = std::max(0, target->hp - e.damage);
    else if (Mob* prey = mob(e.target))
      prey->hp = std::max(0, prey->hp - e.damage);
  }

  void operator()(const Died& e) const {
    if (Player* p = player(e.entity)) {
      forget_respawn(state, *p);
      p->hp = 0;
      p->dead = true;
      p->respawn_tick = e.tick + rules.player_respawn_ticks;
      state.respawns.insert({p->respawn_tick, p->id});
    } else if (Mob* m = mob(e.entity)) {
      m->hp = 0;
      m->dead = true;
      m->respawn_tick = e.tick + rules.mob_respawn_ticks;
      if (Player* killer = player(e.killer); killer != nullptr && m->kind == MobKind::wolf)
        ++killer->wolves_killed;
    }
  }

  void operator()(const XpGained& e) const {
    if (Player* p = player(e.entity); p != nullptr && mob(e.from) != nullptr) p->xp += e.xp;
  }

  void operator()(const Respawned& e) const {
    if (Player* p = player(e.entity)) {
      forget_respawn(state, *p);
      p->dead = false;
      p->respawn_tick = 0;
      p->hp = p->max_hp;
      p->at = e.at;
      p->last_move_tick = e.tick;
    }
  }

  void operator()(const LevelUp& e) const {
    if (Player* p = player(e.entity)) {
      p->level = e.level;
      p->max_hp = e.max_hp;
      if (!p->dead) p->hp = e.max_hp;
    }
  }

  void operator()(const MobSpawned& e) const {
    Mob spawned;
    spawned.id = e.mob;
    spawned.kind = e.kind;
    spawned.spawn = e.spawn;
    spawned.at = e.at;
    spawned.hp = rules.stats_of(e.kind).max_hp;
    state.mobs.insert_or_assign(e.mob, spawned);
  }

  void operator()(const MobMoved& e) const {
    if (Mob* m = mob(e.mob)) m->at = e.to;
  }

  void operator()(const Dropped& e) const {
    if (Player* p = player(e.entity)) remove_item(p->inventory, e.kind);
    state.items.insert_or_assign(e.item, GroundItem{e.item, e.kind, e.at, e.tick});
    take_item_id(state, e.item);
  }

  void operator()(const LootDropped& e) const {
    ++state.item_ledger.created;
    state.items.insert_or_assign(e.item, GroundItem{e.item, e.kind, e.at, e.tick});
    take_item_id(state, e.item);
  }

  void operator()(const PickedUp& e) const {
    if (state.items.erase(e.item) == 0) return;
    if (Player* p = player(e.entity)) add_item(p->inventory, e.kind);
  }

  void operator()(const ItemDespawned& e) const {
    ++state.item_ledger.expired;
    state.items.erase(e.item);
  }

  void operator()(const Used& e) const {
    ++state.item_ledger.used;
    if (Player* p = player(e.entity)) {
      remove_item(p->inventory, e.kind);
      p->hp = std::min(p->max_hp, p->hp + e.healed);
    }
  }

  void operator()(const Said&) const {}

  void operator()(const QuestCompleted& e) const {
    if (Player* p = player(e.entity)) {
      p->quests_done |= 1u << static_cast<unsigned>(e.quest);
      p->xp += e.xp;
    }
  }

  void operator()(const Departed& e) const {
    // What the player took is what the event carries: the destination adds the same.
    state.item_ledger.carried_out += e.player.carried();
    const auto found = state.players.find(e.player.id);
    if (found != state.players.end()) {
      forget_respawn(state, found->second);
      state.players.erase(found);
    }
    state.departing.insert_or_assign({e.player.id, e.epoch}, Departure{e.player, e.to, e.epoch});
    note_epoch(e.player.id, e.epoch);
  }

  void operator()(const Arrived& e) const {
    state.item_ledger.carried_in += e.player.carried();
    if (const Player* present = player(e.player.id)) forget_respawn(state, *present);
    state.offline.erase(e.player.id);
    state.players.insert_or_assign(e.player.id, e.player);
    if (e.player.dead) state.respawns.insert({e.player.respawn_tick, e.player.id});
    note_epoch(e.player.id, e.epoch);
  }

  void operator()(const HandoffCompleted& e) const { state.departing.erase({e.entity, e.epoch}); }

  /// Never logged; a view of what is there changes nothing.
  void operator()(const Seen&) const {}

  void operator()(const LoggedOut& e) const {
    const auto found = state.players.find(e.entity);
    if (found == state.players.end()) return;
    forget_respawn(state, found->second);
    state.offline.insert_or_assign(e.entity, std::move(found->second));
    state.players.erase(found);
  }

  /// The rules the event carries replace those in force (`rules` must not be read after this);
  /// text that does not parse (a damaged log) changes nothing. A zone never accepts rules
  /// that change its map, but a fold keeps the map true to the rules whatever the log holds.
  void operator()(const RulesChanged& e) const {
    auto changed = parse_rules(e.rules);
    if (!changed.ok()) return;
    const bool same_map = changed->same_map(*state.rules);
    state.rules = std::make_shared<const Rules>(std::move(changed).value());
    if (!same_map) state.map = map_for(state.info, *state.rules);
  }

  void note_epoch(EntityId entity, std::uint64_t epoch) const {
    std::uint64_t& seen = state.epochs[entity];
    seen = std::max(seen, epoch);
  }
};

} // namespace

void Model::evolve(State& state, const Event& event) {
  std::visit(Evolve{state, *state.rules}, event);
}

} // namespace worldlog::game

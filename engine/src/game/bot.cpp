// Bot: what the player saw, folded into a BotView, and what it does next.
#include <worldlog/game/bot.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <worldlog/game/geometry.hpp>

namespace worldlog::game {
namespace {

constexpr std::array<std::string_view, 8> phrases{
    "hi all", "anyone seen a boar?", "lfg waypoint",       "wolves to the north!", "brb",
    "gg",     "need potions",        "this zone is pretty"};

/// How far a bot looks ahead along its route for a point it can walk to in a straight line.
constexpr std::size_t lookahead = 6;
/// Slack against positions a little off (seen, not yet confirmed) when checking reach.
constexpr std::int64_t reach_margin_mm = 100;

Rules rules_or_defaults(std::string_view text) {
  auto rules = rules_of_text(text);
  return rules.ok() ? *rules : default_rules;
}

struct Tile {
  std::int32_t x = 0;
  std::int32_t y = 0;
};

/// The tile under `p`, clamped to the map (a point past an exit counts as the edge column).
Tile tile_of(const Map& map, Point p) {
  const auto clamp = [&map](std::int64_t v, std::int32_t size) {
    return static_cast<std::int32_t>(std::clamp<std::int64_t>(v / map.tile_mm, 0, size - 1));
  };
  return {clamp(p.x, map.width), clamp(p.y, map.height)};
}

/// Whether the rules let a player walk straight from `from` to `to`, its speed aside: not onto
/// or through a rock, and off the map only through an exit. The same checks as `decide`.
bool walkable(const Map& map, Point from, Point to) {
  if (map.in_bounds(to)) {
    if (map.blocked(to)) return false;
  } else {
    if (to.y < 0 || to.y >= map.height_mm()) return false;
    if (!(to.x >= map.width_mm() ? map.east_exit : map.west_exit)) return false;
  }
  return map.path_clear(from, to);
}

/// A shortest 4-connected route over free tiles from `from`'s tile to `goal`'s: the centres of
/// the tiles after the first, with `goal` itself in place of the last one. Straight walks
/// between consecutive points stay inside two free tiles. Empty when `goal`'s tile is a rock.
std::vector<Point> route(const Map& map, Point from, Point goal) {
  const Tile start = tile_of(map, from);
  const Tile end = tile_of(map, goal);
  if (map.rock(end.x, end.y)) return {};
  const auto index = [&](Tile t) { return static_cast<std::size_t>(t.y * map.width + t.x); };
  const std::size_t target = index(end);
  std::vector<std::int32_t> parent(map.rocks.size(), -1);
  std::vector<Tile> queue{start};
  parent[index(start)] = static_cast<std::int32_t>(index(start));
  constexpr std::array<Tile, 4> steps{{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}};
  for (std::size_t head = 0; head < queue.size() && parent[target] < 0; ++head) {
    const Tile at = queue[head];
    for (const Tile step : steps) {
      const Tile to{at.x + step.x, at.y + step.y};
      if (to.x < 0 || to.y < 0 || to.x >= map.width || to.y >= map.height) continue;
      if (parent[index(to)] >= 0 || map.rock(to.x, to.y)) continue;
      parent[index(to)] = static_cast<std::int32_t>(index(at));
      queue.push_back(to);
    }
  }
  if (parent[target] < 0) return {};
  std::vector<Point> path{goal};
  for (auto i = static_cast<std::size_t>(parent[target]); i != index(start);
       i = static_cast<std::size_t>(parent[i])) {
    const auto width = static_cast<std::size_t>(map.width);
    path.push_back(map.tile_centre(static_cast<std::int32_t>(i % width),
                                   static_cast<std::int32_t>(i / width)));
  }
  std::reverse(path.begin(), path.end());
  return path;
}

/// A legal step of at most `step` mm from `at` along `path`: towards the farthest of the next
/// few points in plain sight, else towards the next one, else to the middle of its own tile.
std::optional<Point> step_along(const Map& map, Point at, const std::vector<Point>& path,
                                std::int64_t step) {
  Point farthest = path.front();
  for (std::size_t i = 1; i < std::min(path.size(), lookahead); ++i)
    if (walkable(map, at, path[i])) farthest = path[i];
  const Tile here = tile_of(map, at);
  for (const Point aim : {farthest, path.front(), map.tile_centre(here.x, here.y)}) {
    const Point to = geometry::step_toward(at, aim, step);
    if (to != at && walkable(map, at, to)) return to;
  }
  return std::nullopt;
}

/// The kind of mob `mob` of `zone`, from the spawn point its id names.
std::optional<MobKind> kind_of(const Map& map, ZoneId zone, EntityId mob) {
  const EntityId first = mob_id(zone, 0);
  if (mob < first || mob - first >= map.mob_spawns.size()) return std::nullopt;
  return map.mob_spawns[mob - first].kind;
}

/// The entry of `seen` nearest to `at` within `radius` that passes `keep` (ties: lowest id).
template <typename Seen, typename Keep>
auto nearest(const Seen& seen, Point at, std::int64_t radius, Keep keep) {
  const typename Seen::value_type* best = nullptr;
  for (const auto& entry : seen) {
    if (!keep(entry.second) || !geometry::within(at, entry.second.at, radius)) continue;
    if (best == nullptr ||
        geometry::distance_sq(at, entry.second.at) < geometry::distance_sq(at, best->second.at))
      best = &entry;
  }
  return best;
}

void take_one(Inventory& inventory, ItemKind kind) {
  const auto found = inventory.find(kind);
  if (found == inventory.end()) return;
  if (--found->second == 0) inventory.erase(found);
}

} // namespace

// ---- what the player sees ------------------------------------------------------------------

struct Bot::Fold {
  Bot& bot;
  const zone::Broadcast<Event>& seen;

  [[nodiscard]] Player& me() const { return bot.view_.me; }
  [[nodiscard]] bool mine(EntityId id) const { return id == me().id; }
  /// An own event from before the newest accepted command: its outcome told more recent news.
  [[nodiscard]] bool stale() const { return seen.seq < bot.newest_first_seq_; }
  void see_mob(EntityId id, Point at) const {
    if (const auto kind = kind_of(bot.map_, bot.info_.zone, id))
      bot.view_.mobs.insert_or_assign(id, SeenMob{*kind, at});
  }

  void operator()(const Joined& e) const {
    if (!mine(e.entity) || stale()) return;
    Player joined = e.character.value_or(Player{});
    joined.id = e.entity;
    joined.at = e.at;
    joined.last_move_tick = e.tick;
    me() = joined;
    bot.view_.joined = true;
    bot.moved_to(e.at);
  }
  void operator()(const Left& e) const {
    if (mine(e.entity)) bot.view_.joined = false;
  }
  void operator()(const Moved& e) const {
    if (!mine(e.entity) || stale()) return;
    me().last_move_tick = e.tick;
    bot.moved_to(e.to);
  }
  void operator()(const Attacked& e) const {
    if (mine(e.attacker) && !stale())
      me().next_attack_tick = e.tick + bot.rules_.attack_cooldown_ticks;
    if (mine(e.target)) me().hp = std::max(0, me().hp - e.damage);
    // Seen where the attacker stands: a biting mob shows where it is.
    if (!is_player_id(e.attacker)) see_mob(e.attacker, seen.where.at);
  }
  void operator()(const Died& e) const {
    if (mine(e.entity)) {
      me().dead = true;
      me().hp = 0;
      me().respawn_tick = e.tick + bot.rules_.player_respawn_ticks;
      bot.goal_.reset();
      return;
    }
    bot.view_.mobs.erase(e.entity);
  }
  void operator()(const XpGained& e) const {
    if (mine(e.entity)) me().xp += e.xp;
  }
  void operator()(const Respawned& e) const {
    if (!mine(e.entity)) return;
    me().dead = false;
    me().hp = me().max_hp;
    me().last_move_tick = e.tick;
    bot.goal_.reset();
    bot.moved_to(e.at);
  }
  void operator()(const LevelUp& e) const {
    if (!mine(e.entity)) return;
    me().level = e.level;
    me().max_hp = e.max_hp;
    if (!me().dead) me().hp = e.max_hp;
  }
  void operator()(const MobSpawned& e) const {
    bot.view_.mobs.insert_or_assign(e.mob, SeenMob{e.kind, e.at});
  }
  void operator()(const MobMoved& e) const { see_mob(e.mob, e.to); }
  void operator()(const Dropped& e) const {
    bot.view_.items.insert_or_assign(e.item, SeenItem{e.kind, e.at});
    if (mine(e.entity)) take_one(me().inventory, e.kind);
  }
  void operator()(const LootDropped& e) const {
    bot.view_.items.insert_or_assign(e.item, SeenItem{e.kind, e.at});
  }
  void operator()(const PickedUp& e) const {
    bot.view_.items.erase(e.item);
    if (mine(e.entity)) ++me().inventory[e.kind];
  }
  void operator()(const ItemDespawned& e) const { bot.view_.items.erase(e.item); }
  void operator()(const Used& e) const {
    if (!mine(e.entity)) return;
    take_one(me().inventory, e.kind);
    me().hp = std::min(me().max_hp, me().hp + e.healed);
  }
  void operator()(const Said&) const {}
  void operator()(const QuestCompleted& e) const {
    if (!mine(e.entity)) return;
    me().quests_done |= 1u << static_cast<unsigned>(e.quest);
    me().xp += e.xp;
  }
  void operator()(const Departed& e) const {
    if (mine(e.player.id)) bot.begin_handoff(e.to, e.player.at, e.player.last_move_tick);
  }
  void operator()(const Arrived& e) const {
    // Only while waiting for it: after the arrival timeout the bot has acted on its own guess,
    // and this older news must not roll it back.
    if (!mine(e.player.id) || !bot.view_.arriving) return;
    me() = e.player;
    bot.view_.arriving = false;
    bot.moved_to(e.player.at);
  }
  void operator()(const HandoffCompleted&) const {}
  void operator()(const RulesChanged& e) const {
    if (auto rules = parse_rules(e.rules); rules.ok()) bot.rules_ = *rules;
  }
  void operator()(const LoggedOut& e) const {
    if (mine(e.entity)) bot.view_.joined = false;
  }
  void operator()(const Seen& e) const {
    switch (e.what) {
    case Seen::What::wolf:
    case Seen::What::boar:
      bot.view_.mobs.insert_or_assign(
          e.entity, SeenMob{e.what == Seen::What::wolf ? MobKind::wolf : MobKind::boar, e.at});
      break;
    case Seen::What::potion:
    case Seen::What::pelt:
      bot.view_.items.insert_or_assign(
          e.entity,
          SeenItem{e.what == Seen::What::potion ? ItemKind::potion : ItemKind::pelt, e.at});
      break;
    case Seen::What::player: break;
    }
  }
};

Bot::Bot(EntityId self, const zone::ZoneInfo& home, BotOptions options)
    : info_(home), rules_(rules_or_defaults(home.rules)), map_(map_for(home)), options_(options) {
  view_.me.id = self;
  view_.me.at = map_.spawn;
  view_.zone = home.zone;
}

void Bot::see(const zone::Broadcast<Event>& broadcast) {
  if (broadcast.zone != view_.zone) return;
  std::visit(Fold{*this, broadcast}, broadcast.event);
}

void Bot::moved_to(Point at) {
  view_.me.at = at;
  const auto out_of_sight = [&](const auto& entry) {
    return !geometry::within(at, entry.second.at, options_.view_radius_mm);
  };
  std::erase_if(view_.mobs, out_of_sight);
  std::erase_if(view_.items, out_of_sight);
}

void Bot::begin_handoff(ZoneId to, Point exit_point, std::uint64_t tick) {
  const ZoneId from = info_.zone;
  info_.zone = to;
  map_ = map_for(info_);
  view_.zone = to;
  view_.arriving = true;
  view_.mobs.clear();
  view_.items.clear();
  // Where the destination will put it, so that the bot can subscribe there at once.
  view_.me.at = map_.entry_from(from, exit_point.y);
  ++view_.me.epoch;
  newest_first_seq_ = 0; // seqs of another stream
  arriving_since_ = tick;
  goal_.reset();
}

// ---- answers to its commands ---------------------------------------------------------------

void Bot::on_outcome(const Result<zone::Outcome>& outcome, std::uint64_t tick) {
  if (!pending_) return;
  const Command command = std::move(*pending_);
  pending_.reset();
  // Its own events may come first (a departure seen before the answer to the move): the bot is
  // in another zone already, and the answer has nothing more to tell.
  if (pending_zone_ != view_.zone) return;
  if (!outcome.ok()) {
    // Lost (the zone restarting, overloaded): nothing happened. Give the zone a moment.
    wait_until_ = tick + options_.retry_ticks;
    return;
  }
  if (outcome->accepted) {
    apply_accepted(command, *outcome, tick);
  } else {
    apply_rejected(command, static_cast<Reject>(outcome->code), tick);
  }
}

void Bot::apply_accepted(const Command& command, const zone::Outcome& outcome, std::uint64_t tick) {
  newest_first_seq_ = std::max(newest_first_seq_, outcome.first_seq);
  Player& me = view_.me;
  if (std::holds_alternative<Join>(command)) {
    Player fresh;
    fresh.id = me.id;
    fresh.last_move_tick = tick;
    me = fresh;
    view_.joined = true;
    rejoin_ = false;
    moved_to(map_.spawn);
  } else if (std::holds_alternative<Leave>(command)) {
    view_.joined = false;
    rejoin_ = false;
    view_.mobs.clear();
    view_.items.clear();
  } else if (const auto* walked = std::get_if<Move>(&command)) {
    if (!map_.in_bounds(walked->to)) {
      const bool east = walked->to.x >= map_.width_mm();
      const auto exit = east ? map_.east_exit : map_.west_exit;
      if (exit) begin_handoff(*exit, walked->to, tick);
    } else {
      // The zone decided it at some tick up to now: counting from now never overestimates.
      me.last_move_tick = std::max(me.last_move_tick, tick);
      moved_to(walked->to);
    }
  } else if (std::holds_alternative<Attack>(command)) {
    me.next_attack_tick = std::max(me.next_attack_tick, tick + rules_.attack_cooldown_ticks);
  } else if (const auto* picked = std::get_if<PickUp>(&command)) {
    // The inventory grows with the PickedUp event; the item is gone either way.
    view_.items.erase(picked->item);
  }
}

void Bot::apply_rejected(const Command& command, Reject reason, std::uint64_t tick) {
  Player& me = view_.me;
  switch (reason) {
  case Reject::already_joined: rejoin_ = true; break;
  case Reject::not_in_zone:
    if (!view_.arriving) view_.joined = false;
    if (std::holds_alternative<Leave>(command)) rejoin_ = false;
    wait_until_ = tick + options_.retry_ticks;
    break;
  case Reject::in_transit: // its character is still crossing into the zone: join in a moment
  case Reject::elsewhere: wait_until_ = tick + options_.retry_ticks; break;
  case Reject::dead: me.dead = true; break;
  case Reject::teleport: me.last_move_tick = std::max(me.last_move_tick, tick); break;
  case Reject::blocked:
  case Reject::out_of_bounds: goal_.reset(); break;
  case Reject::cooldown: me.next_attack_tick = std::max(me.next_attack_tick, tick + 1); break;
  case Reject::unknown_target:
  case Reject::out_of_range:
  case Reject::no_such_item:
    if (const auto* attack = std::get_if<Attack>(&command)) view_.mobs.erase(attack->target);
    if (const auto* pick = std::get_if<PickUp>(&command)) view_.items.erase(pick->item);
    if (const auto* used = std::get_if<Use>(&command)) me.inventory.erase(used->kind);
    if (const auto* dropped = std::get_if<Drop>(&command)) me.inventory.erase(dropped->kind);
    break;
  default: break;
  }
}

// ---- what it does next ---------------------------------------------------------------------

std::optional<Command> Bot::issue(Command command, std::uint64_t tick) {
  pending_ = command;
  pending_since_ = tick;
  pending_zone_ = view_.zone;
  return command;
}

std::optional<Command> Bot::next(std::uint64_t tick, zone::Rng& rng) {
  Player& me = view_.me;
  if (pending_) {
    if (tick < pending_since_ + options_.answer_timeout_ticks) return std::nullopt;
    // No answer: whatever the command did, it did it by now.
    pending_.reset();
    me.last_move_tick = std::max(me.last_move_tick, tick);
    me.next_attack_tick = std::max(me.next_attack_tick, tick + rules_.attack_cooldown_ticks);
  }
  if (tick < wait_until_) return std::nullopt;
  if (view_.arriving) {
    if (tick < arriving_since_ + options_.arrival_timeout_ticks) return std::nullopt;
    // The arrival went unseen (a lost broadcast): it is at the entry point by now.
    view_.arriving = false;
    me.last_move_tick = std::max(me.last_move_tick, tick);
  }
  if (logging_out_) {
    if (!view_.joined) return std::nullopt;
    return issue(leave(me.id), tick);
  }
  if (!view_.joined) return issue(rejoin_ ? leave(me.id) : join(me.id), tick);
  if (me.dead) return std::nullopt;
  return act(tick, rng);
}

std::optional<Command> Bot::act(std::uint64_t tick, zone::Rng& rng) {
  const Player& me = view_.me;
  const auto count = [&](ItemKind kind) {
    const auto found = me.inventory.find(kind);
    return found == me.inventory.end() ? std::uint32_t{0} : found->second;
  };
  if (me.hp * 2 < me.max_hp && count(ItemKind::potion) > 0)
    return issue(use(me.id, ItemKind::potion), tick);

  const auto wanted = [&](const SeenItem& item) { return wants(item.kind); };
  if (const auto* item = nearest(view_.items, me.at, rules_.reach_mm - reach_margin_mm, wanted))
    return issue(pick_up(me.id, item->first), tick);

  const auto any = [](const auto&) { return true; };
  if (const auto* mob = nearest(view_.mobs, me.at, rules_.attack_range_mm - reach_margin_mm, any)) {
    // In reach: hit it, or stand and wait for the cooldown.
    if (tick < me.next_attack_tick) return std::nullopt;
    return issue(attack(me.id, mob->first), tick);
  }

  if (me.carried() + 2 >= rules_.inventory_capacity && count(ItemKind::pelt) > 0)
    return issue(drop(me.id, ItemKind::pelt), tick);

  if (rng.below(100) < options_.say_percent)
    return issue(say(me.id, std::string(phrases[rng.below(phrases.size())])), tick);
  return walk(tick, rng);
}

bool Bot::wants(ItemKind kind) const {
  const std::uint32_t carried = view_.me.carried();
  // Potions always fit while there is room; pelts only with room to spare, so that a bot that
  // dropped pelts to make room does not pick them up again.
  return carried < rules_.inventory_capacity &&
         (kind == ItemKind::potion || carried + 4 < rules_.inventory_capacity);
}

std::optional<Command> Bot::walk(std::uint64_t tick, zone::Rng& rng) {
  const Player& me = view_.me;
  const std::uint64_t idle = tick > me.last_move_tick ? tick - me.last_move_tick : 0;
  // The allowance left out on purpose: a bot walks no faster than the speed itself.
  const std::int64_t step = rules_.player_speed_mm_per_tick *
                            static_cast<std::int64_t>(std::min(idle, rules_.move_bank_ticks));
  if (step == 0) return std::nullopt;

  Point target;
  const auto any = [](const auto&) { return true; };
  const auto wanted = [&](const SeenItem& item) { return wants(item.kind); };
  const auto* mob = nearest(view_.mobs, me.at, options_.hunt_radius_mm, any);
  const auto* item = nearest(view_.items, me.at, options_.loot_radius_mm, wanted);
  if (mob != nullptr && me.hp * 2 >= me.max_hp) {
    target = mob->second.at;
  } else if (item != nullptr) {
    target = item->second.at;
  } else {
    if (!goal_ || geometry::within(me.at, *goal_, rules_.tile_mm / 4)) choose_goal(rng);
    target = *goal_;
  }
  const std::vector<Point> path = route(map_, me.at, target);
  const auto to = path.empty() ? std::nullopt : step_along(map_, me.at, path, step);
  if (!to) {
    goal_.reset();
    return std::nullopt;
  }
  return issue(move(me.id, *to), tick);
}

void Bot::choose_goal(zone::Rng& rng) {
  const Tile here = tile_of(map_, view_.me.at);
  const std::uint64_t roll = rng.below(100);
  std::vector<bool> exits; // true = east
  if (map_.east_exit) exits.push_back(true);
  if (map_.west_exit) exits.push_back(false);
  if (roll < options_.exit_percent && !exits.empty()) {
    // Half a tile past the edge, level with where it stands.
    const bool east = exits[rng.below(exits.size())];
    const std::int64_t x = east ? map_.width_mm() + rules_.tile_mm / 2 : -rules_.tile_mm / 2;
    goal_ = Point{x, map_.tile_centre(0, here.y).y};
    return;
  }
  if (roll < options_.exit_percent + options_.waypoint_percent &&
      !view_.me.done(Quest::reach_waypoint)) {
    goal_ = map_.waypoint;
    return;
  }
  for (int attempt = 0; attempt < 8; ++attempt) {
    const auto tx = static_cast<std::int32_t>(std::clamp<std::int64_t>(
        here.x + rng.between(-options_.wander_tiles, options_.wander_tiles), 0, map_.width - 1));
    const auto ty = static_cast<std::int32_t>(std::clamp<std::int64_t>(
        here.y + rng.between(-options_.wander_tiles, options_.wander_tiles), 0, map_.height - 1));
    if (!map_.rock(tx, ty)) {
      goal_ = map_.tile_centre(tx, ty);
      return;
    }
  }
  goal_ = map_.spawn;
}

} // namespace worldlog::game

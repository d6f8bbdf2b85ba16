#include <worldlog/game/state.hpp>

#include <algorithm>
#include <tuple>

#include <worldlog/game/geometry.hpp>

namespace worldlog::game {
namespace {

template <typename Map> auto* find_in(const Map& map, typename Map::key_type id) noexcept {
  const auto found = map.find(id);
  return found == map.end() ? nullptr : &found->second;
}

/// The values of `map` within `radius_mm` of `at` that pass `keep`, nearest first, ties by id.
template <typename Map, typename Keep>
auto near(const Map& map, Point at, std::int64_t radius_mm, Keep keep) {
  std::vector<const typename Map::mapped_type*> found;
  for (const auto& [id, value] : map)
    if (keep(value) && geometry::within(at, value.at, radius_mm)) found.push_back(&value);
  std::stable_sort(found.begin(), found.end(), [at](const auto* a, const auto* b) {
    return geometry::distance_sq(at, a->at) < geometry::distance_sq(at, b->at);
  });
  return found;
}

} // namespace

std::uint32_t Player::carried() const noexcept {
  std::uint32_t total = 0;
  for (const auto& [kind, count] : inventory)
    total += count;
  return total;
}

const Player* State::player(EntityId id) const noexcept { return find_in(players, id); }
const Player* State::offline_player(EntityId id) const noexcept { return find_in(offline, id); }
const Mob* State::mob(EntityId id) const noexcept { return find_in(mobs, id); }

bool State::departing_player(EntityId id) const noexcept {
  const auto next = departing.lower_bound({id, 0});
  return next != departing.end() && next->first.first == id;
}
const GroundItem* State::item(ItemId id) const noexcept { return find_in(items, id); }

std::uint64_t State::items_in_zone() const noexcept {
  std::uint64_t total = items.size();
  for (const auto& [id, player] : players)
    total += player.carried();
  for (const auto& [id, player] : offline)
    total += player.carried();
  return total;
}

std::vector<const Mob*> State::mobs_near(Point at, std::int64_t radius_mm) const {
  return near(mobs, at, radius_mm, [](const Mob& mob) { return !mob.dead; });
}

std::vector<const GroundItem*> State::items_near(Point at, std::int64_t radius_mm) const {
  return near(items, at, radius_mm, [](const GroundItem&) { return true; });
}

bool operator==(const State& a, const State& b) {
  const auto info = [](const zone::ZoneInfo& i) {
    return std::tie(i.zone, i.zone_count, i.seed, i.tick_us);
  };
  return info(a.info) == info(b.info) && *a.rules == *b.rules && a.map == b.map &&
         a.players == b.players && a.offline == b.offline && a.mobs == b.mobs &&
         a.items == b.items && a.next_item_id == b.next_item_id && a.departing == b.departing &&
         a.epochs == b.epochs && a.respawns == b.respawns && a.item_ledger == b.item_ledger;
}

} // namespace worldlog::game

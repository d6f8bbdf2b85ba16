#include <worldlog/game/map.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include <worldlog/game/geometry.hpp>

namespace worldlog::game {
namespace {

/// Lanes (always free) are the rows and columns whose index is a multiple of 3; the 2x2 blocks
/// between them are where rocks may stand.
constexpr std::int32_t lane_spacing = 3;

std::uint64_t map_seed(const zone::ZoneInfo& info) noexcept {
  zone::Rng mix(info.seed ^ (info.zone * 0x9e3779b97f4a7c15ULL));
  return mix.next();
}

void set_rock(Map& map, std::int32_t tx, std::int32_t ty) {
  // The border stays free: the exits are the whole east and west columns, and an arrival at
  // any height must find a free tile.
  if (tx < 1 || ty < 1 || tx > map.width - 2 || ty > map.height - 2) return;
  map.rocks[static_cast<std::size_t>(ty) * static_cast<std::size_t>(map.width) +
            static_cast<std::size_t>(tx)] = 1;
}

void place_rocks(Map& map, zone::Rng& rng, const Rules& rules) {
  for (std::int32_t by = 1; by < map.height; by += lane_spacing) {
    for (std::int32_t bx = 1; bx < map.width; bx += lane_spacing) {
      const std::uint64_t roll = rng.below(100);
      if (roll < rules.boulder_percent) {
        for (std::int32_t i = 0; i < 4; ++i)
          set_rock(map, bx + i % 2, by + i / 2);
      } else if (roll < rules.boulder_percent + rules.rock_percent) {
        const auto corner = static_cast<std::int32_t>(rng.below(4));
        set_rock(map, bx + corner % 2, by + corner / 2);
      }
    }
  }
}

/// Lane crossings (free by construction) in row-major order.
std::vector<Point> crossings(const Map& map) {
  std::vector<Point> points;
  for (std::int32_t ty = 0; ty < map.height; ty += lane_spacing)
    for (std::int32_t tx = 0; tx < map.width; tx += lane_spacing)
      points.push_back(map.tile_centre(tx, ty));
  return points;
}

/// Crossings at least `min_tiles` from `from` (all of them when none is that far).
std::vector<Point> crossings_away(const Map& map, Point from, std::int32_t min_tiles) {
  std::vector<Point> all = crossings(map);
  std::vector<Point> far;
  std::copy_if(all.begin(), all.end(), std::back_inserter(far),
               [&](Point p) { return !geometry::within(from, p, min_tiles * map.tile_mm); });
  return far.empty() ? all : far;
}

struct Spawns {
  std::uint32_t wolves = 0;
  std::uint32_t boars = 0;
};

/// The spawn points the zone's model config asks for ("mobs=N": N in all, two wolves to a
/// boar), or the rules' default. A config without a number there is the default too: the
/// command line validates what users type.
Spawns spawns_of(const zone::ZoneInfo& info, const Rules& rules) {
  constexpr std::string_view key = "mobs=";
  const std::string_view config = info.model_config;
  const Spawns defaults{rules.wolf_spawns, rules.boar_spawns};
  if (!config.starts_with(key)) return defaults;
  std::uint32_t mobs = 0;
  const auto* end = config.data() + config.size();
  if (std::from_chars(config.data() + key.size(), end, mobs).ptr != end) return defaults;
  const std::uint32_t wolves = (mobs * 2 + 2) / 3;
  return {wolves, mobs - wolves};
}

} // namespace

std::string model_config(std::uint32_t mobs_per_zone) {
  return fmt::format("mobs={}", mobs_per_zone);
}

Point Map::entry_from(ZoneId from, std::int64_t y) const noexcept {
  const std::int64_t clamped = std::clamp<std::int64_t>(y, 0, height_mm() - 1);
  if (west_exit && from == *west_exit) return {tile_mm / 2, clamped};
  if (east_exit && from == *east_exit) return {width_mm() - tile_mm / 2, clamped};
  return spawn;
}

bool Map::path_clear(Point from, Point to) const noexcept {
  const std::int64_t sample = tile_mm / 4;
  const std::int64_t steps = geometry::distance(from, to) / sample + 1;
  for (std::int64_t i = 1; i <= steps; ++i) {
    const Point p{from.x + (to.x - from.x) * i / steps, from.y + (to.y - from.y) * i / steps};
    if (in_bounds(p) && blocked(p)) return false;
  }
  return true;
}

Map map_for(const zone::ZoneInfo& info, const Rules& rules) {
  Map map;
  map.tile_mm = rules.tile_mm;
  map.width = rules.map_width;
  map.height = rules.map_height;
  map.rocks.assign(static_cast<std::size_t>(map.width) * static_cast<std::size_t>(map.height), 0);
  if (info.zone > 1) map.west_exit = info.zone - 1;
  if (info.zone < info.zone_count) map.east_exit = info.zone + 1;

  zone::Rng rng(map_seed(info));
  place_rocks(map, rng, rules);
  map.spawn = map.tile_centre(map.width / 2 / lane_spacing * lane_spacing,
                              map.height / 2 / lane_spacing * lane_spacing);

  std::vector<Point> goals = crossings_away(map, map.spawn, rules.waypoint_min_tiles);
  map.waypoint = goals[rng.below(goals.size())];

  // A partial Fisher-Yates shuffle picks distinct spawn points; wolves first, then boars.
  std::vector<Point> lairs = crossings_away(map, map.spawn, rules.mob_spawn_min_tiles);
  std::erase(lairs, map.waypoint);
  const Spawns spawns = spawns_of(info, rules);
  const std::size_t count = std::min<std::size_t>(lairs.size(), spawns.wolves + spawns.boars);
  for (std::size_t i = 0; i < count; ++i) {
    std::swap(lairs[i], lairs[i + rng.below(lairs.size() - i)]);
    const MobKind kind = i < spawns.wolves ? MobKind::wolf : MobKind::boar;
    map.mob_spawns.push_back({lairs[i], kind});
  }
  return map;
}

Map map_for(const zone::ZoneInfo& info) {
  const auto rules = rules_of_text(info.rules);
  return map_for(info, rules.ok() ? *rules : default_rules);
}

} // namespace worldlog::game

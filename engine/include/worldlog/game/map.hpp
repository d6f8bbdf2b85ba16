// A zone's map: tiles, rocks, spawn points, the waypoint and the exits to the neighbouring zones.
//
// The map is a pure function of `ZoneInfo` (`map_for`), so bots and tools that know the zone
// know its map, and no map is ever stored in a log or a snapshot. Tiles are `tile_mm` (the
// rules') squares; (0, 0) is the north-west corner of tile (0, 0), x grows east and y south.
//
// Rocks stand only in the 2x2 blocks between free lanes (every third row and column is a
// lane), and the border rows and columns are free: every free tile touches a lane, the lanes
// form one grid, so the whole map is connected by construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <worldlog/game/rules.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::game {

/// Where one mob lives: it spawns here and never strays farther than `leash_radius_mm`.
struct MobSpawn {
  Point at;
  MobKind kind = MobKind::wolf;

  friend bool operator==(const MobSpawn&, const MobSpawn&) = default;
};

struct Map {
  std::int64_t tile_mm = default_rules.tile_mm; ///< side of a tile (Rules::tile_mm)
  std::int32_t width = 0;                       ///< tiles west to east
  std::int32_t height = 0;                      ///< tiles north to south
  std::vector<std::uint8_t> rocks;              ///< 1 = blocking tile; row-major, width * height
  Point spawn;                                  ///< where players join and respawn (a tile centre)
  Point waypoint;                               ///< the "reach the waypoint" quest's goal
  std::vector<MobSpawn> mob_spawns;             ///< index = spawn point number of a mob
  std::optional<ZoneId> west_exit;              ///< zone beyond the west edge (none in zone 1)
  std::optional<ZoneId> east_exit; ///< zone beyond the east edge (none in the last zone)

  /// Width and height in millimetres.
  [[nodiscard]] std::int64_t width_mm() const noexcept { return width * tile_mm; }
  [[nodiscard]] std::int64_t height_mm() const noexcept { return height * tile_mm; }

  /// True when `p` lies on the map: 0 <= x < width_mm and 0 <= y < height_mm.
  [[nodiscard]] bool in_bounds(Point p) const noexcept {
    return p.x >= 0 && p.y >= 0 && p.x < width_mm() && p.y < height_mm();
  }
  /// True when tile (tx, ty) is a rock. REQUIRES: the tile is on the map.
  [[nodiscard]] bool rock(std::int32_t tx, std::int32_t ty) const noexcept {
    return rocks[static_cast<std::size_t>(ty) * static_cast<std::size_t>(width) +
                 static_cast<std::size_t>(tx)] != 0;
  }
  /// True when nothing can stand at `p`: a rock, or off the map.
  [[nodiscard]] bool blocked(Point p) const noexcept {
    return !in_bounds(p) ||
           rock(static_cast<std::int32_t>(p.x / tile_mm), static_cast<std::int32_t>(p.y / tile_mm));
  }
  /// The centre of tile (tx, ty).
  [[nodiscard]] Point tile_centre(std::int32_t tx, std::int32_t ty) const noexcept {
    return {tx * tile_mm + tile_mm / 2, ty * tile_mm + tile_mm / 2};
  }
  /// Where an entity coming from zone `from` at height `y` enters: the middle of the first
  /// column on the side facing `from`, at the same y (clamped to the map); the spawn point when
  /// `from` is not a neighbour.
  [[nodiscard]] Point entry_from(ZoneId from, std::int64_t y) const noexcept;

  /// True when the straight walk from `from` to `to` crosses no rock: points along it are
  /// checked every quarter tile. Points off the map are not checked (an exit decides them).
  [[nodiscard]] bool path_clear(Point from, Point to) const noexcept;

  friend bool operator==(const Map&, const Map&) = default;
};

/// The map of `info.zone` under `rules`, the same for the same (zone, zone_count, seed, model
/// config, map rules) on every platform.
[[nodiscard]] Map map_for(const zone::ZoneInfo& info, const Rules& rules);
/// The map of `info.zone` under the rules its genesis names (info.rules; the defaults when
/// empty or when they do not parse).
[[nodiscard]] Map map_for(const zone::ZoneInfo& info);

/// The model config (ZoneInfo::model_config) for `mobs_per_zone` mob spawn points per zone,
/// two wolves to a boar; at most as many as the map has room for (dozens). An empty config
/// means the rules' `wolf_spawns + boar_spawns`.
[[nodiscard]] std::string model_config(std::uint32_t mobs_per_zone);

} // namespace worldlog::game

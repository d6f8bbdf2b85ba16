// Interest management: which viewers can see something that happens at a point.
//
// A zone broadcasts each durable event to the viewers within its view radius of where the event
// happened. Scanning every viewer costs N per event (N² per tick with N players moving); a
// uniform grid whose cells are one view radius wide costs only the viewers nearby: everything
// within the radius of a point lies in the 3×3 cells around the point's cell, and an exact
// integer distance test picks the viewers among them.
//
// Interest is not part of the world state and not in the log (docs/architecture.md, "Actors,
// zones and the reference game"): a zone can rebuild it from its state, so nothing here needs to
// be canonical, snapshotted or hashed.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include <worldlog/zone/model.hpp>

namespace worldlog::zone {

/// Viewers of one zone, bucketed by cell; not thread-safe (a zone owns one, on its strand).
///
/// Coordinates are millimetres with |x|, |y| <= `max_coordinate` (a 2000 km square), which keeps
/// every stored coordinate and cell index within 32 bits and every squared distance within 64.
class InterestGrid {
public:
  /// The largest |x| or |y| of a position or query point: 10^9 mm, 1000 km.
  static constexpr std::int64_t max_coordinate = 1'000'000'000;
  /// The largest view radius. It exceeds the diagonal of the whole coordinate square (2.83e9),
  /// so a larger one would see nothing more; its square still fits in 64 unsigned bits.
  static constexpr std::int64_t max_view_radius = 3'000'000'000;

  /// An empty grid whose cells are `view_radius_mm` wide.
  /// REQUIRES: 0 < view_radius_mm <= max_view_radius.
  explicit InterestGrid(std::int64_t view_radius_mm);

  /// Adds `viewer` at `at`, or moves it there if present. O(1) amortised.
  /// REQUIRES: |at.x|, |at.y| <= max_coordinate.
  void place(EntityId viewer, Point at);
  /// Removes `viewer`; a no-op when it is absent. O(1).
  void remove(EntityId viewer);

  /// Whether `viewer` has been placed and not removed since.
  [[nodiscard]] bool contains(EntityId viewer) const;
  /// Where `viewer` was last placed; nullopt when it is absent.
  [[nodiscard]] std::optional<Point> position(EntityId viewer) const;
  /// The number of viewers.
  [[nodiscard]] std::size_t size() const noexcept { return slots_.size(); }
  /// The view radius in millimetres, as constructed.
  [[nodiscard]] std::int64_t view_radius() const noexcept { return view_radius_; }

  /// Calls `visit(EntityId viewer)`, or `visit(EntityId viewer, Point where)` with where it
  /// stands, once for every viewer whose position is within the view radius of `at`
  /// (euclidean, inclusive: a viewer exactly one radius away is visited), a viewer standing
  /// exactly at `at` included. Costs the viewers of the 3×3 cells around `at`.
  ///
  /// The order is unspecified: it depends on the history of places and removes (the same
  /// history gives the same order), so use it for broadcasts, never for anything that changes
  /// state. REQUIRES: |at.x|, |at.y| <= max_coordinate; `visit` does not place or remove.
  template <typename Visitor> void for_each_near(Point at, Visitor&& visit) const;

private:
  /// Packed (cx, cy) cell indices: cx in the high 32 bits, cy in the low 32, both two's
  /// complement. Indices fit in 32 bits because |coordinate| / radius <= 10^9 < 2^31 - 1.
  using CellKey = std::uint64_t;

  /// A position in half the bytes of a Point (|coordinate| <= 10^9 < 2^31), so that a query
  /// reads a third fewer bytes per candidate and more of a crowded zone stays in cache (in
  /// `worldlog bench aoi`, half the last-level cache misses at 100,000 viewers).
  struct Spot {
    std::int32_t x = 0;
    std::int32_t y = 0;
  };
  /// A viewer as its cell holds it; the position is repeated here so that a query reads the
  /// cell's entries contiguously instead of looking each viewer up.
  struct Entry {
    EntityId viewer = 0;
    Spot at;
  };
  /// Where a viewer is: its position (which names its cell) and its index in that cell.
  struct Slot {
    Spot at;
    std::uint32_t index = 0;
  };

  [[nodiscard]] static Spot to_spot(Point at) noexcept {
    return {static_cast<std::int32_t>(at.x), static_cast<std::int32_t>(at.y)};
  }
  [[nodiscard]] static Point to_point(Spot at) noexcept { return {at.x, at.y}; }

  /// The cell index of `coordinate`: floor(coordinate / radius). Truncating division would put
  /// -1 mm in cell 0 with +1 mm, making the cells along the axes twice as wide and twice as full.
  [[nodiscard]] std::int64_t cell_index(std::int64_t coordinate) const noexcept {
    const std::int64_t quotient = coordinate / view_radius_;
    return coordinate % view_radius_ < 0 ? quotient - 1 : quotient;
  }
  [[nodiscard]] static CellKey cell_key(std::int64_t cx, std::int64_t cy) noexcept {
    return (static_cast<CellKey>(static_cast<std::uint32_t>(cx)) << 32) |
           static_cast<std::uint32_t>(cy);
  }
  [[nodiscard]] CellKey cell_of(Spot at) const noexcept {
    return cell_key(cell_index(at.x), cell_index(at.y));
  }
  /// Whether `a` and `b` are at most one view radius apart. Within the coordinate range |dx|
  /// and |dy| stay below 2·10^9, so dx² + dy² stays below 8·10^18 and the radius squared below
  /// 9·10^18: exact in 64 unsigned bits.
  [[nodiscard]] bool within_radius(Spot a, Point b) const noexcept {
    const std::uint64_t dx = distance_1d(a.x, b.x);
    const std::uint64_t dy = distance_1d(a.y, b.y);
    return dx * dx + dy * dy <= radius_squared_;
  }
  [[nodiscard]] static std::uint64_t distance_1d(std::int64_t a, std::int64_t b) noexcept {
    return a < b ? static_cast<std::uint64_t>(b - a) : static_cast<std::uint64_t>(a - b);
  }
  [[nodiscard]] static bool in_domain(Point at) noexcept {
    return at.x >= -max_coordinate && at.x <= max_coordinate && at.y >= -max_coordinate &&
           at.y <= max_coordinate;
  }

  /// Appends `viewer` to the cell of `at` and records its slot.
  void insert_into_cell(EntityId viewer, Spot at);
  /// Takes the entry at `index` out of the cell `key` by moving the cell's last entry into its
  /// place (and fixing that entry's slot); drops the cell when it becomes empty, so memory
  /// follows the viewers, not the area they have ever crossed.
  void erase_from_cell(CellKey key, std::uint32_t index);

  std::int64_t view_radius_;
  std::uint64_t radius_squared_;
  /// Non-empty cells only.
  boost::unordered_flat_map<CellKey, std::vector<Entry>> cells_;
  /// Every viewer, for O(1) moves and removes.
  boost::unordered_flat_map<EntityId, Slot> slots_;
};

template <typename Visitor> void InterestGrid::for_each_near(Point at, Visitor&& visit) const {
  assert(in_domain(at));
  // A cell is one radius wide, so a point within the radius of `at` is at most one cell away
  // on each axis.
  const std::int64_t cx = cell_index(at.x);
  const std::int64_t cy = cell_index(at.y);
  for (std::int64_t x = cx - 1; x <= cx + 1; ++x) {
    for (std::int64_t y = cy - 1; y <= cy + 1; ++y) {
      const auto cell = cells_.find(cell_key(x, y));
      if (cell == cells_.end()) continue;
      for (const Entry& entry : cell->second) {
        if (!within_radius(entry.at, at)) continue;
        if constexpr (std::is_invocable_v<Visitor&, EntityId, Point>) {
          visit(entry.viewer, to_point(entry.at));
        } else {
          visit(entry.viewer);
        }
      }
    }
  }
}

} // namespace worldlog::zone

// InterestGrid against the obvious answer: a brute-force scan of every viewer.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/zone/interest.hpp>

#include "support/log_helpers.hpp"

namespace doctest {
template <> struct StringMaker<worldlog::zone::Point> {
  static String convert(const worldlog::zone::Point& point) {
    return String(fmt::format("{}", point).c_str());
  }
};
template <> struct StringMaker<std::optional<worldlog::zone::Point>> {
  static String convert(const std::optional<worldlog::zone::Point>& point) {
    return point ? StringMaker<worldlog::zone::Point>::convert(*point) : String("nullopt");
  }
};
} // namespace doctest

namespace worldlog::zone {
namespace {

using Viewers = std::vector<EntityId>;

constexpr std::int64_t radius = 1000;

/// What the grid visits around `at`, sorted; a viewer visited twice appears twice.
Viewers near(const InterestGrid& grid, Point at) {
  Viewers seen;
  grid.for_each_near(at, [&seen](EntityId viewer) { seen.push_back(viewer); });
  std::sort(seen.begin(), seen.end());
  return seen;
}

/// The viewers a zone holds, kept the obvious way to check the grid against.
class Reference {
public:
  void place(EntityId viewer, Point at) { viewers_[viewer] = at; }
  void remove(EntityId viewer) { viewers_.erase(viewer); }
  [[nodiscard]] const std::map<EntityId, Point>& viewers() const { return viewers_; }

  /// Every viewer within `view_radius` of `at`, sorted: a scan of all of them. The test
  /// coordinates stay far below 10^9, so signed 64-bit squares cannot overflow here.
  [[nodiscard]] Viewers near(Point at, std::int64_t view_radius) const {
    Viewers seen;
    for (const auto& [viewer, where] : viewers_) {
      const std::int64_t dx = where.x - at.x;
      const std::int64_t dy = where.y - at.y;
      if (dx * dx + dy * dy <= view_radius * view_radius) seen.push_back(viewer);
    }
    return seen;
  }

private:
  std::map<EntityId, Point> viewers_;
};

/// A coordinate in [-extent, extent]; one in four lies exactly on a cell border (a multiple of
/// the radius, negative ones included), where an off-by-one in the cell arithmetic would show.
std::int64_t coordinate(Rng& rng, std::int64_t extent) {
  const std::int64_t value = rng.between(-extent, extent);
  return rng.below(4) == 0 ? value / radius * radius : value;
}

Point random_point(Rng& rng, std::int64_t extent) {
  return {coordinate(rng, extent), coordinate(rng, extent)};
}

/// Offsets at exactly one radius (axis-aligned and the 600-800-1000 triangle) and at one
/// millimetre more.
constexpr Point at_radius[] = {{radius, 0}, {-radius, 0}, {0, radius}, {0, -radius},
                               {600, 800},  {-600, 800},  {600, -800}, {-800, -600}};
constexpr Point past_radius[] = {{radius + 1, 0}, {0, -radius - 1}, {600, 801}, {-801, -600}};

Point offset(Point at, Point by) { return {at.x + by.x, at.y + by.y}; }

TEST_CASE("an empty grid holds no one and visits no one") {
  const InterestGrid grid(radius);
  CHECK(grid.size() == 0);
  CHECK(grid.view_radius() == radius);
  CHECK_FALSE(grid.contains(1));
  CHECK(grid.position(1) == std::nullopt);
  CHECK(near(grid, {0, 0}).empty());
  CHECK(near(grid, {-radius, radius}).empty());
}

TEST_CASE("a query visits exactly the viewers within the radius, inclusive") {
  InterestGrid grid(radius);
  const Point center{-1500, 2000};
  EntityId next = 1;
  Viewers expected;
  grid.place(next, center); // standing exactly at the query point
  expected.push_back(next++);
  for (const Point by : at_radius) {
    grid.place(next, offset(center, by));
    expected.push_back(next++);
  }
  for (const Point by : past_radius)
    grid.place(next++, offset(center, by));

  CHECK(grid.size() == next - 1);
  CHECK(near(grid, center) == expected);
}

TEST_CASE("a viewer in a diagonal cell exactly one radius away is visited") {
  InterestGrid grid(radius);
  // Viewers 1 and 2 stand on the corner of a diagonal cell nearest the query, 600 and 800 mm
  // away on the axes; viewers 3 and 4 are a millimetre further, in the same cells.
  grid.place(1, {-1, -1});
  grid.place(3, {-2, -1});
  CHECK(near(grid, {599, 799}) == Viewers{1}); // cell (0, 0); viewers in cell (-1, -1)

  grid.place(2, {6 * radius, 6 * radius});
  grid.place(4, {6 * radius, 6 * radius + 1});
  CHECK(near(grid, {5 * radius + 400, 5 * radius + 200}) == Viewers{2}); // (5, 5); (6, 6)
}

TEST_CASE("queries match a brute-force scan over thousands of random viewers") {
  // ±10 cells on each axis with 4000 viewers: about 10 per cell, 30 per query.
  constexpr std::int64_t extent = 10 * radius;
  Rng rng(20240611);
  InterestGrid grid(radius);
  Reference reference;

  std::vector<Point> queries;
  for (int i = 0; i < 400; ++i)
    queries.push_back(random_point(rng, extent));
  EntityId next = 1;
  for (int i = 0; i < 4000; ++i) {
    const Point at = random_point(rng, extent);
    grid.place(next, at);
    reference.place(next++, at);
  }
  // Viewers exactly at and just past the radius of some queries, across cell borders.
  for (std::size_t q = 0; q < queries.size(); q += 8) {
    for (const Point by : at_radius) {
      grid.place(next, offset(queries[q], by));
      reference.place(next++, offset(queries[q], by));
    }
    for (const Point by : past_radius) {
      grid.place(next, offset(queries[q], by));
      reference.place(next++, offset(queries[q], by));
    }
  }
  REQUIRE(grid.size() == reference.viewers().size());

  std::size_t visits = 0;
  for (const Point at : queries) {
    CAPTURE(at);
    const Viewers expected = reference.near(at, radius);
    CHECK(near(grid, at) == expected);
    visits += expected.size();
  }
  // The scan is meaningful only if queries actually find viewers.
  CHECK(visits > 10 * queries.size());
}

TEST_CASE("moves and removes keep queries equal to a brute-force scan") {
  constexpr std::int64_t extent = 6 * radius;
  Rng rng(7);
  InterestGrid grid(radius);
  Reference reference;
  const auto random_viewer = [&rng] { return EntityId{rng.below(600) + 1}; };

  for (int round = 0; round < 20; ++round) {
    for (int op = 0; op < 1000; ++op) {
      const EntityId viewer = random_viewer();
      switch (rng.below(4)) {
      case 0: { // a far move, or an arrival: usually another cell
        const Point at = random_point(rng, extent);
        grid.place(viewer, at);
        reference.place(viewer, at);
        break;
      }
      case 1: // a removal, possibly of an absent viewer
        grid.remove(viewer);
        reference.remove(viewer);
        break;
      default: { // a small step, sometimes across a border
        const auto was = grid.position(viewer);
        if (!was) break;
        const Point at{std::clamp(was->x + rng.between(-300, 300), -extent, extent),
                       std::clamp(was->y + rng.between(-300, 300), -extent, extent)};
        grid.place(viewer, at);
        reference.place(viewer, at);
        break;
      }
      }
    }
    REQUIRE(grid.size() == reference.viewers().size());
    for (const auto& [viewer, at] : reference.viewers()) {
      CHECK(grid.contains(viewer));
      CHECK(grid.position(viewer) == at);
    }
    for (int q = 0; q < 50; ++q) {
      const Point at = random_point(rng, extent);
      CAPTURE(at);
      CHECK(near(grid, at) == reference.near(at, radius));
    }
  }
}

TEST_CASE("a viewer moved to another cell is seen there and no longer where it was") {
  InterestGrid grid(radius);
  // Three viewers of one cell, so that moving the first reshuffles the cell's entries.
  grid.place(1, {100, 100});
  grid.place(2, {200, 200});
  grid.place(3, {300, 300});

  grid.place(1, {-5 * radius - 1, 7 * radius});
  CHECK(grid.size() == 3);
  CHECK(grid.position(1) == Point{-5 * radius - 1, 7 * radius});
  CHECK(near(grid, {100, 100}) == Viewers{2, 3});
  CHECK(near(grid, {-5 * radius, 7 * radius}) == Viewers{1});

  // The entries that stayed were moved within their cell; they still move and leave cleanly.
  grid.place(3, {310, 290});
  grid.remove(2);
  CHECK(grid.position(3) == Point{310, 290});
  CHECK(near(grid, {100, 100}) == Viewers{3});
  grid.place(3, {-5 * radius + 500, 7 * radius});
  CHECK(near(grid, {100, 100}).empty());
  CHECK(near(grid, {-5 * radius, 7 * radius}) == Viewers{1, 3});
}

TEST_CASE("a removed viewer is gone, and removing an absent viewer changes nothing") {
  InterestGrid grid(radius);
  grid.place(1, {-10, -10});
  grid.place(2, {10, 10});

  grid.remove(1);
  CHECK_FALSE(grid.contains(1));
  CHECK(grid.position(1) == std::nullopt);
  CHECK(grid.size() == 1);
  CHECK(near(grid, {0, 0}) == Viewers{2});

  grid.remove(1);
  grid.remove(99);
  CHECK(grid.size() == 1);
  CHECK(near(grid, {0, 0}) == Viewers{2});

  grid.remove(2);
  CHECK(grid.size() == 0);
  CHECK(near(grid, {0, 0}).empty());

  grid.place(1, {0, 0});
  CHECK(near(grid, {0, 0}) == Viewers{1});
}

TEST_CASE("a viewer is visited once per query, also at the edges of the coordinate range") {
  constexpr std::int64_t edge = InterestGrid::max_coordinate;
  // Radius 1: a million cells per kilometre, cell indices near ±10^9.
  InterestGrid fine(1);
  fine.place(1, {edge, -edge});
  fine.place(2, {edge - 1, -edge});
  fine.place(3, {edge - 1, -edge + 1});
  CHECK(near(fine, {edge, -edge}) == Viewers{1, 2});
  CHECK(near(fine, {edge - 1, -edge}) == Viewers{1, 2, 3});

  // A radius as wide as the range: squared distances reach 8·10^18.
  InterestGrid coarse(2 * edge);
  coarse.place(1, {-edge, -edge});
  coarse.place(2, {edge, -edge}); // exactly 2·10^9 away from viewer 1
  coarse.place(3, {edge, edge});  // 2.83·10^9 away from viewer 1
  CHECK(near(coarse, {-edge, -edge}) == Viewers{1, 2});
  CHECK(near(coarse, {edge, edge}) == Viewers{2, 3});

  // The largest radius: its square is 9·10^18.
  InterestGrid widest(InterestGrid::max_view_radius);
  widest.place(1, {-edge, -edge});
  widest.place(2, {edge, edge});
  CHECK(near(widest, {-edge, -edge}) == Viewers{1, 2});
  CHECK(near(widest, {edge, edge}) == Viewers{1, 2});
}

} // namespace
} // namespace worldlog::zone

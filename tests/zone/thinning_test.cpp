// Thinned movement (ZoneOptions::full_rate_movers): what a viewer in a crowd is and is not
// shown, on a real log with the tally model, whose Placed is its movement.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <doctest/doctest.h>

#include "zone/zone_fixture.hpp"

namespace worldlog::test {
namespace {

constexpr std::chrono::milliseconds tick{50}; // ZoneWorld's zones tick every 50 ms

/// What one viewer was shown, in order.
class Shown {
public:
  struct Event {
    log::Seq seq = 0;
    zone::EntityId entity = 0;
    bool placed = false; ///< a Placed (a move); else an Added
    zone::Point at;
  };

  void add(const zone::Broadcast<Tally::Event>& shown) {
    Event seen{shown.seq, shown.where.subject, false, shown.where.at};
    if (const auto* placed = std::get_if<Tally::Placed>(&shown.event)) {
      seen.placed = true;
      seen.at = placed->at;
    }
    const std::lock_guard lock(mutex_);
    events_.push_back(seen);
  }
  std::size_t size() {
    const std::lock_guard lock(mutex_);
    return events_.size();
  }
  std::vector<Event> events() {
    const std::lock_guard lock(mutex_);
    return events_;
  }
  /// The events from the `from`th on.
  std::vector<Event> since(std::size_t from) {
    const std::lock_guard lock(mutex_);
    return {events_.begin() + static_cast<std::ptrdiff_t>(from), events_.end()};
  }

private:
  std::mutex mutex_;
  std::vector<Event> events_;
};

/// A zone with a viewer (id 100) at the origin and five movers around it, 1 to 5 m away:
/// movers 1 and 2 are the nearest.
struct Crowd {
  explicit Crowd(zone::ZoneOptions options)
      : world({.zones = 1, .seed = 42, .zone = options}), zone(world.zones().zone(1)) {
    REQUIRE(zone);
    REQUIRE_OK(zone->subscribe(
        viewer, {0, 0}, [this](const zone::Broadcast<Tally::Event>& seen) { shown.add(seen); }));
    for (zone::EntityId mover = 1; mover <= 5; ++mover)
      move(mover, 0);
    REQUIRE(eventually([&] { return shown.size() == 5; })); // not ranked yet: every move
  }

  /// Places `mover` at its distance from the viewer, `step` mm aside.
  log::Seq move(zone::EntityId mover, std::int64_t step) {
    auto placed = world.submit(1, place(mover, at(mover, step)));
    REQUIRE_OK(placed);
    return placed->last_seq;
  }
  static zone::Point at(zone::EntityId mover, std::int64_t step) {
    return {static_cast<std::int64_t>(mover) * 1'000, step};
  }

  /// Lets `ticks` ticks pass.
  void pass(std::uint64_t ticks) {
    world.clock().advance(tick * static_cast<std::int64_t>(ticks));
    world.zones().tick_all();
    world.settle(1);
  }

  static constexpr zone::EntityId viewer = 100;
  ZoneWorld world;
  std::shared_ptr<TallyZone> zone;
  Shown shown;
};

} // namespace

TEST_CASE("in a crowd a viewer is shown every move of its nearest movers, and of the others "
          "only the latest, late") {
  Crowd crowd({.view_radius_mm = 10'000, .full_rate_movers = 2, .far_move_ticks = 4});
  crowd.pass(1); // the viewer is ranked: 5 movers in view, 2 kept at full rate

  // Three rounds of moves, each mover in turn, the near ones last.
  std::map<zone::EntityId, log::Seq> last_move;
  for (std::int64_t round = 1; round <= 3; ++round) {
    for (const zone::EntityId mover : {3, 4, 5, 1, 2})
      last_move[mover] = crowd.move(mover, round * 100);
  }
  // Broadcasts go in seq order: once 2's last move is shown, every move before it was decided.
  REQUIRE(eventually([&] { return crowd.shown.size() == 5 + 6; }));
  for (const auto& seen : crowd.shown.since(5)) {
    CHECK(seen.placed);
    CHECK((seen.entity == 1 || seen.entity == 2));
  }

  SUBCASE("any other event about a far mover comes as it happens, after its withheld move") {
    auto added = crowd.world.submit(1, add(4, 1));
    REQUIRE_OK(added);
    REQUIRE(eventually([&] { return crowd.shown.size() == 5 + 6 + 2; }));
    const auto seen = crowd.shown.since(5 + 6);
    CHECK(seen[0].entity == 4);
    CHECK(seen[0].placed);
    CHECK(seen[0].seq == last_move[4]);
    CHECK(seen[0].at == Crowd::at(4, 300));
    CHECK(seen[1].entity == 4);
    CHECK(!seen[1].placed);
    CHECK(seen[1].seq == added->first_seq);
  }

  SUBCASE("the far movers' latest moves come at their turn, once, in seq order") {
    crowd.pass(4);
    REQUIRE(eventually([&] { return crowd.shown.size() == 5 + 6 + 3; }));
    const auto seen = crowd.shown.since(5 + 6);
    for (std::size_t i = 0; i < seen.size(); ++i) {
      CHECK(seen[i].placed);
      CHECK(seen[i].entity == 3 + i);
      CHECK(seen[i].seq == last_move[3 + i]);
    }
    crowd.pass(8);
    CHECK(crowd.shown.size() == 5 + 6 + 3); // nothing is shown twice

    // The viewer now knows where every mover is, as the state does.
    std::map<zone::EntityId, zone::Point> known;
    for (const auto& event : crowd.shown.events())
      known[event.entity] = event.at;
    const auto state = crowd.world.state(1);
    for (zone::EntityId mover = 1; mover <= 5; ++mover)
      CHECK(known[mover] == state.entities.at(mover).at);
  }

  SUBCASE("a far mover that comes among the nearest is shown its withheld move at once") {
    // Mover 5 steps next to the viewer (shown only later: it is far until ranked again).
    auto close = crowd.world.submit(1, place(5, {10, 0}));
    REQUIRE_OK(close);
    crowd.pass(1); // not the mover's turn yet (tick + 5 is not a multiple of 4 ...)
    crowd.pass(4); // ... but within four ticks both turns come, whatever the order
    REQUIRE(eventually([&] {
      const auto seen = crowd.shown.since(5 + 6);
      for (const auto& event : seen) {
        if (event.entity == 5 && event.seq == close->last_seq) return true;
      }
      return false;
    }));
    // From now on each of its moves comes as it happens.
    const std::size_t before = crowd.shown.size();
    const log::Seq step = crowd.move(5, 0);
    REQUIRE(eventually([&] { return crowd.shown.size() > before; }));
    CHECK(crowd.shown.since(before).back().seq == step);
  }

  // Interest is no part of the state: the zone's state is still the fold of its log.
  CHECK(crowd.world.hash(1) == crowd.world.fold_from_scratch(1));
}

TEST_CASE("a viewer with no more movers in view than full_rate_movers is shown every move") {
  Crowd crowd({.view_radius_mm = 10'000, .full_rate_movers = 5, .far_move_ticks = 4});
  crowd.pass(1);
  for (std::int64_t round = 1; round <= 2; ++round) {
    for (zone::EntityId mover = 1; mover <= 5; ++mover)
      crowd.move(mover, round * 100);
  }
  REQUIRE(eventually([&] { return crowd.shown.size() == 5 + 10; }));
  crowd.pass(8);
  CHECK(crowd.shown.size() == 5 + 10);
}

TEST_CASE("with full_rate_movers 0 every move reaches every viewer in the radius") {
  Crowd crowd({.view_radius_mm = 10'000, .full_rate_movers = 0, .far_move_ticks = 4});
  crowd.pass(1);
  for (zone::EntityId mover = 1; mover <= 5; ++mover)
    crowd.move(mover, 100);
  REQUIRE(eventually([&] { return crowd.shown.size() == 5 + 5; }));
  crowd.pass(8);
  CHECK(crowd.shown.size() == 5 + 5);
}

} // namespace worldlog::test

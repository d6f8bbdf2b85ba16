// `worldlog bench aoi`: the cost of one move's broadcast as a zone fills up, with interest
// management (zone::InterestGrid) and, for contrast, with a scan of every player.
//
// The zone grows with its player count so that the density stays constant: each player sees
// about the same number of others at 1,000 players as at 100,000. The grid's cost per move
// should therefore stay flat (it is proportional to the viewers nearby), while the scan's grows
// with the zone. A move is what a zone does after a durable Moved event: move the mover's
// viewpoint (`place`), find who can see the new position (`for_each_near`) and deliver the event
// to each of them, here by bumping a per-viewer outbox counter, so delivery touches every
// recipient the way a real outbox push does. Players near the zone's edge see fewer others,
// which is why the smallest zone shows fewer recipients per move than the larger ones.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/zone/interest.hpp>
#include <worldlog/zone/model.hpp>

#include "commands.hpp"

namespace worldlog::tools {
namespace {

using Clock = std::chrono::steady_clock;
using zone::InterestGrid;
using zone::Point;

constexpr std::uint32_t zone_sizes[] = {1'000, 10'000, 100'000};
/// Distance tests the scan makes per pass (moves × players), which keeps a pass around a tenth
/// of a second at every size instead of minutes at 100,000 players.
constexpr std::uint64_t scan_budget = 20'000'000;
/// Timed passes over the moves of each size; the fastest counts.
constexpr int passes = 3;

struct AoiOptions {
  std::int64_t radius = 50'000; ///< view radius, mm
  std::uint32_t density = 50;   ///< players per view area (π r²): how many each one sees
  std::uint64_t moves = 100'000;
  bool json = false;
};

struct Move {
  std::uint32_t player = 0;
  Point to;
};

/// A zone's players at their starting positions and the moves they will make, from a fixed
/// seed, so that the grid and the scan replay exactly the same history.
struct Crowd {
  std::int64_t half_side = 0; ///< the zone is the square [-half_side, half_side]²
  std::vector<Point> start;
  std::vector<Move> moves;
};

/// Half the side of the square zone that holds `players` at the density asked for; fails when
/// that zone exceeds the coordinate range.
std::int64_t zone_half_side(std::uint32_t players, const AoiOptions& options) {
  // players / side² = density / (π r²)
  const double side = static_cast<double>(options.radius) *
                      std::sqrt(static_cast<double>(players) * std::numbers::pi /
                                static_cast<double>(options.density));
  if (side / 2 > static_cast<double>(InterestGrid::max_coordinate)) {
    fail(fmt::format("a zone of {} players at radius {} mm and density {} would be {:.0f} mm "
                     "wide, more than the {} mm positions allow: lower --radius or raise "
                     "--density",
                     players, options.radius, options.density, side,
                     2 * InterestGrid::max_coordinate));
  }
  return static_cast<std::int64_t>(side / 2);
}

Crowd make_crowd(std::uint32_t players, const AoiOptions& options) {
  Crowd crowd;
  crowd.half_side = zone_half_side(players, options);
  const std::int64_t half = std::max<std::int64_t>(crowd.half_side, 1);
  zone::Rng rng(players);
  crowd.start.resize(players);
  for (Point& at : crowd.start)
    at = {rng.between(-half, half), rng.between(-half, half)};

  // Steps of up to r/16 per axis: small next to the view radius, as a tick's walk is, yet a
  // few percent of them cross into another cell.
  const std::int64_t step = std::max<std::int64_t>(options.radius / 16, 1);
  std::vector<Point> now = crowd.start;
  crowd.moves.resize(options.moves);
  for (Move& move : crowd.moves) {
    move.player = static_cast<std::uint32_t>(rng.below(players));
    Point& at = now[move.player];
    at = {std::clamp(at.x + rng.between(-step, step), -half, half),
          std::clamp(at.y + rng.between(-step, step), -half, half)};
    move.to = at;
  }
  return crowd;
}

/// The scan's distance test: the same exact integer arithmetic as the grid's.
bool within(Point a, Point b, std::uint64_t radius_squared) {
  const auto dx = static_cast<std::uint64_t>(a.x > b.x ? a.x - b.x : b.x - a.x);
  const auto dy = static_cast<std::uint64_t>(a.y > b.y ? a.y - b.y : b.y - a.y);
  return dx * dx + dy * dy <= radius_squared;
}

/// Broadcasts `moves` through the grid. Returns the deliveries made.
std::uint64_t broadcast_with_grid(InterestGrid& grid, std::span<const Move> moves,
                                  std::vector<std::uint64_t>& outbox) {
  std::uint64_t delivered = 0;
  for (const Move& move : moves) {
    grid.place(move.player, move.to);
    grid.for_each_near(move.to, [&](zone::EntityId viewer) {
      ++outbox[viewer];
      ++delivered;
    });
  }
  return delivered;
}

/// Broadcasts `moves` by testing every player. Returns the deliveries made.
std::uint64_t broadcast_with_scan(std::vector<Point>& positions, std::span<const Move> moves,
                                  std::uint64_t radius_squared,
                                  std::vector<std::uint64_t>& outbox) {
  std::uint64_t delivered = 0;
  for (const Move& move : moves) {
    positions[move.player] = move.to;
    for (std::size_t viewer = 0; viewer < positions.size(); ++viewer) {
      if (within(positions[viewer], move.to, radius_squared)) {
        ++outbox[viewer];
        ++delivered;
      }
    }
  }
  return delivered;
}

double ns_per(Clock::duration elapsed, std::uint64_t count) {
  return static_cast<double>(
             std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
         static_cast<double>(count);
}

/// Every delivery has to land in some outbox; checking that keeps the deliveries from being
/// optimised away and catches a broken count.
void check_outboxes(const std::vector<std::uint64_t>& outbox, std::uint64_t delivered,
                    const char* what) {
  const std::uint64_t landed = std::accumulate(outbox.begin(), outbox.end(), std::uint64_t{0});
  if (landed != delivered) {
    fail(fmt::format("{}: {} deliveries counted but {} in the outboxes", what, delivered, landed));
  }
}

/// `value` to two decimals, all a benchmark's figure means. Boost.JSON writes every double in
/// exponent form; rounded, 44.77 at least reads 4.477E1 rather than 4.476535E1.
double hundredths(double value) { return std::round(value * 100) / 100; }

struct SizeFigures {
  std::uint32_t players = 0;
  std::int64_t zone_side = 0;
  double ns_per_move = 0;
  double recipients = 0; ///< per move, the mover included (it sees its own move)
  double scan_ns_per_move = 0;
  std::uint64_t scan_moves = 0;
};

/// Runs `pass` `passes` times and returns the fastest one's time: other processes on the
/// machine only ever add time.
Clock::duration fastest_pass(const auto& pass) {
  Clock::duration fastest = Clock::duration::max();
  for (int i = 0; i < passes; ++i) {
    const auto start = Clock::now();
    pass();
    fastest = std::min(fastest, Clock::now() - start);
  }
  return fastest;
}

SizeFigures measure(std::uint32_t players, const AoiOptions& options) {
  const Crowd crowd = make_crowd(players, options);
  const std::uint64_t scan_moves =
      std::clamp<std::uint64_t>(scan_budget / players, 1, options.moves);
  const std::span<const Move> moves(crowd.moves);

  InterestGrid grid(options.radius);
  for (std::uint32_t player = 0; player < players; ++player)
    grid.place(player, crowd.start[player]);
  std::vector<std::uint64_t> outbox(players, 0);
  // Each pass replays the same moves from where the last one left the players. The first
  // pass's deliveries over the scan's share of the moves must equal the scan's own, so that
  // share is counted apart.
  std::optional<std::uint64_t> grid_head;
  std::uint64_t grid_delivered = 0;
  const Clock::duration grid_time = fastest_pass([&] {
    const std::uint64_t head = broadcast_with_grid(grid, moves.first(scan_moves), outbox);
    if (!grid_head) grid_head = head;
    grid_delivered += head + broadcast_with_grid(grid, moves.subspan(scan_moves), outbox);
  });
  check_outboxes(outbox, grid_delivered, "grid");

  std::vector<Point> positions = crowd.start;
  std::vector<std::uint64_t> scan_outbox(players, 0);
  const auto radius_squared =
      static_cast<std::uint64_t>(options.radius) * static_cast<std::uint64_t>(options.radius);
  std::optional<std::uint64_t> scan_head;
  std::uint64_t scan_delivered = 0;
  const Clock::duration scan_time = fastest_pass([&] {
    const std::uint64_t head =
        broadcast_with_scan(positions, moves.first(scan_moves), radius_squared, scan_outbox);
    if (!scan_head) scan_head = head;
    scan_delivered += head;
  });
  check_outboxes(scan_outbox, scan_delivered, "scan");
  if (scan_head != grid_head) {
    fail(fmt::format("{} players: the grid delivered {} events in the first {} moves, the scan {}",
                     players, *grid_head, scan_moves, *scan_head));
  }

  return SizeFigures{
      .players = players,
      .zone_side = 2 * crowd.half_side,
      .ns_per_move = ns_per(grid_time, options.moves),
      .recipients = static_cast<double>(grid_delivered) / static_cast<double>(passes) /
                    static_cast<double>(options.moves),
      .scan_ns_per_move = ns_per(scan_time, scan_moves),
      .scan_moves = scan_moves,
  };
}

void run_bench_aoi(const AoiOptions& options) {
  static_cast<void>(zone_half_side(std::ranges::max(zone_sizes), options)); // fail before printing
  fmt::print("bench aoi: view radius {} mm, ~{} players per view area, {} moves per zone size "
             "(the naive scan: {} distance tests), fastest of {} passes\n",
             options.radius, options.density, options.moves, scan_budget, passes);
  fmt::print("{:>8} {:>12} {:>12} {:>11} {:>14} {:>11} {:>8}\n", "players", "zone side m",
             "grid ns/move", "recipients", "naive ns/move", "naive moves", "speedup");
  std::vector<SizeFigures> sizes;
  for (const std::uint32_t players : zone_sizes) {
    const SizeFigures& size = sizes.emplace_back(measure(players, options));
    fmt::print("{:>8} {:>12.0f} {:>12.0f} {:>11.1f} {:>14.0f} {:>11} {:>7.1f}x\n", size.players,
               static_cast<double>(size.zone_side) / 1000, size.ns_per_move, size.recipients,
               size.scan_ns_per_move, size.scan_moves, size.scan_ns_per_move / size.ns_per_move);
  }
  const double ratio = sizes.back().ns_per_move / sizes.front().ns_per_move;
  fmt::print("grid cost at {} / at {} players: {:.2f} (flat is 1; the target is within 2)\n",
             sizes.back().players, sizes.front().players, ratio);

  if (options.json) {
    boost::json::array figures;
    for (const SizeFigures& size : sizes) {
      figures.push_back({{"players", size.players},
                         {"ns_per_move", std::llround(size.ns_per_move)},
                         {"recipients", hundredths(size.recipients)},
                         {"naive_ns_per_move", std::llround(size.scan_ns_per_move)}});
    }
    const boost::json::object result{{"radius_mm", options.radius},
                                     {"density", options.density},
                                     {"moves", options.moves},
                                     {"sizes", std::move(figures)},
                                     {"ratio_100k_to_1k", hundredths(ratio)}};
    fmt::print("{}\n", boost::json::serialize(result));
  }
}

} // namespace

void add_bench_aoi_command(CLI::App& app) {
  auto options = std::make_shared<AoiOptions>();
  auto* command = app.add_subcommand(
      "aoi", "Cost of one move's broadcast at 1k, 10k, 100k players: interest grid vs a scan");
  command->add_option("--radius", options->radius, "View radius, mm")
      ->check(CLI::Range(std::int64_t{1}, InterestGrid::max_view_radius))
      ->capture_default_str();
  command
      ->add_option("--density", options->density,
                   "Players per view area (π r²): how many each player sees, on average")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  command->add_option("--moves", options->moves, "Moves timed per zone size (grid)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
      ->capture_default_str();
  command->add_flag("--json", options->json, "Print the figures as one JSON object, last line");
  command->callback([options] { run_bench_aoi(*options); });
}

} // namespace worldlog::tools

// The legal back-and-forth step the benchmarks give each simulated player.
#pragma once

#include <cstdint>

#include <worldlog/game/map.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::tools {

/// Where player `player` stands and steps: a few hundred millimetres around its zone's spawn
/// point, inside the spawn tile, so every move is legal at any rate up to 20 Hz.
struct Stride {
  zone::Point home;
  zone::Point away;
};

inline Stride stride_for(const game::Map& map, std::uint64_t player) {
  const zone::Point spawn = map.spawn;
  const auto dx = static_cast<std::int64_t>(player % 7) * 50 - 150;
  const auto dy = static_cast<std::int64_t>(player / 7 % 7) * 50 - 150;
  const zone::Point home{spawn.x + dx, spawn.y + dy};
  return {home, {home.x + 100, home.y + 60}};
}

} // namespace worldlog::tools

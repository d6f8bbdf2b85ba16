// Integer geometry of the rules, for bots and tools too: distances without floating point.
//
// REQUIRES of every function: coordinate differences below 2^31, so that a squared distance
// fits in 64 unsigned bits; the rules check commands against `coordinate_limit` (10^9) first.
#pragma once

#include <cstdint>

#include <worldlog/zone/model.hpp>

namespace worldlog::game::geometry {

using zone::Point;

/// |a - b| of one coordinate.
[[nodiscard]] constexpr std::uint64_t span(std::int64_t a, std::int64_t b) noexcept {
  return a >= b ? static_cast<std::uint64_t>(a - b) : static_cast<std::uint64_t>(b - a);
}

/// The squared Euclidean distance between `a` and `b`.
[[nodiscard]] constexpr std::uint64_t distance_sq(Point a, Point b) noexcept {
  const std::uint64_t dx = span(a.x, b.x);
  const std::uint64_t dy = span(a.y, b.y);
  return dx * dx + dy * dy;
}

/// floor(sqrt(n)), exactly, for every 64-bit n.
[[nodiscard]] constexpr std::uint64_t isqrt(std::uint64_t n) noexcept {
  if (n < 2) return n;
  // Newton's iteration from above converges to the floor without ever overshooting it.
  std::uint64_t x = n;
  std::uint64_t y = x / 2 + (x & 1);
  while (y < x) {
    x = y;
    y = (x + n / x) / 2;
  }
  return x;
}

/// The distance between `a` and `b`, rounded down, in millimetres.
[[nodiscard]] constexpr std::int64_t distance(Point a, Point b) noexcept {
  return static_cast<std::int64_t>(isqrt(distance_sq(a, b)));
}

/// True when `b` is at most `radius` (>= 0) away from `a`.
[[nodiscard]] constexpr bool within(Point a, Point b, std::int64_t radius) noexcept {
  const auto r = static_cast<std::uint64_t>(radius);
  return distance_sq(a, b) <= r * r;
}

/// The point `step` (>= 0) millimetres from `from` towards `to`, or `to` when it is closer.
[[nodiscard]] constexpr Point step_toward(Point from, Point to, std::int64_t step) noexcept {
  const std::int64_t length = distance(from, to);
  if (length <= step) return to;
  return {from.x + (to.x - from.x) * step / length, from.y + (to.y - from.y) * step / length};
}

} // namespace worldlog::game::geometry

// Pieces of `Model::decide` and `Model::on_tick` shared between their source files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <worldlog/game/model.hpp>

namespace worldlog::game::detail {

using Decision = Model::Decision;

/// A rejection with `code` and an fmt-formatted reason.
template <typename... Args>
[[nodiscard]] Decision reject(Reject code, fmt::format_string<Args...> format, Args&&... args) {
  return Decision::reject(static_cast<std::uint32_t>(code),
                          fmt::format(format, std::forward<Args>(args)...));
}

/// A player's level and experience as events of one decision raise them.
struct Progress {
  EntityId player = 0;
  std::uint32_t level = 1;
  std::uint64_t xp = 0;

  /// Adds `gained` experience and appends a LevelUp for every level it reaches under `rules`.
  void gain(const Rules& rules, std::uint64_t gained, std::vector<Event>& events);
};

/// The player `entity` if it is in the zone and alive; otherwise the rejection to return.
struct LivePlayer {
  const Player* player = nullptr;
  std::optional<Decision> rejection;
};
[[nodiscard]] LivePlayer live_player(const State& state, EntityId entity);

/// Decides an Attack of a live player (`attacker`) at `context.tick`.
[[nodiscard]] Decision decide_attack(const State& state, const Player& attacker,
                                     const Attack& attack, zone::Context& context);

} // namespace worldlog::game::detail

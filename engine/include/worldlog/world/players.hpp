// What the world asks of a model whose players come and go: the `PlayerModel` concept.
//
// The zone (zone/model.hpp) knows entities and handoffs but not sessions. The world
// (world.hpp) does: it keeps a directory of where each player's character is, logs out the
// players a crash left online, answers a retry from any zone, and keeps presence in step. For
// that it needs four things from the model, and nothing else:
//
//   session_change(command)  whether a command brings a player online (its Join) or takes it
//                            offline (its Leave), and which player
//   stamp_join(join, epoch)  gives a Join the character's handoff epoch as the directory knows
//                            it, so that a zone can refuse a Join that raced a crossing (a
//                            model whose characters never cross may ignore it)
//   logout(player, reason)   the command, issued by the system, that logs a player out
//   characters(state, zone)  every character a zone's state holds: online, offline, or departed
//                            towards another zone and not yet arrived there
//
// A character lives in one zone's state at a time, and a logout keeps it there whole: the player
// resumes with it. The reference game (game/model.hpp) and the market (examples/market) are two
// such models.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <worldlog/zone/model.hpp>

namespace worldlog::world {

using zone::EntityId;
using zone::ZoneId;

/// Why the world logs a player out (a Leave the player sends itself is the model's business).
enum class LogoutReason : std::uint8_t {
  disconnected = 1,   ///< its connection closed (or timed out) without a Leave
  session_lost = 2,   ///< the server stopped without logging it out (a crash): found on start
  server_stopped = 3, ///< the server shut down cleanly
};
[[nodiscard]] constexpr std::string_view to_string(LogoutReason reason) noexcept {
  switch (reason) {
  case LogoutReason::disconnected: return "disconnected";
  case LogoutReason::session_lost: return "session_lost";
  case LogoutReason::server_stopped: return "server_stopped";
  }
  return "unknown";
}

/// A command that brings `player` online (`online`: its Join) or takes it offline (its Leave).
struct SessionChange {
  EntityId player = 0;
  bool online = false;
  friend bool operator==(const SessionChange&, const SessionChange&) = default;
};

/// A character as one zone's state holds it.
struct Character {
  EntityId player = 0;
  /// The zone whose state holds it, or, while `arriving`, the zone it departed towards.
  ZoneId zone = 0;
  std::uint64_t epoch = 0; ///< its handoff epoch: +1 on every crossing
  bool online = false;     ///< its player is online (or crossing)
  bool arriving = false;   ///< departed towards `zone`; its arrival is not yet recorded
  friend bool operator==(const Character&, const Character&) = default;
};

// clang-format off
template <typename M>
concept PlayerModel = zone::GameModel<M> &&
    requires(typename M::Command& command, const typename M::Command& ccommand,
             const typename M::State& state, EntityId player, LogoutReason reason,
             std::uint64_t epoch, ZoneId zone) {
  { M::session_change(ccommand) } -> std::same_as<std::optional<SessionChange>>;
  { M::stamp_join(command, epoch) } -> std::same_as<void>;
  { M::logout(player, reason) } -> std::same_as<typename M::Command>;
  { M::characters(state, zone) } -> std::same_as<std::vector<Character>>;
};
// clang-format on

} // namespace worldlog::world

template <>
struct fmt::formatter<worldlog::world::LogoutReason> : fmt::formatter<std::string_view> {
  auto format(worldlog::world::LogoutReason value, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(worldlog::world::to_string(value), ctx);
  }
};

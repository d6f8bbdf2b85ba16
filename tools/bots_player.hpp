// What one `worldlog bots` client plays: the commands it sends and the little of the world it
// remembers to choose them.
//
// It steps back and forth between the two points of a Stride (legal at any rate), hits the
// nearest mob it has seen once one comes within reach, and says something now and then. Unlike
// game::Bot it does not roam: the load it makes is a steady stream of commands that the rules
// accept, so a rejection or a slow answer tells about the server, not about the bot.
//
// Where it strides is its Post. By default that is beside the spawn point, where every player
// joins, so all the players of a zone see one another (the crowded case). A post of
// `spread_post` is a tile of its own somewhere on the map, which the player first walks to.
//
//   BotPlayer player(7, spread_post(map, 7), map.spawn);
//   if (auto command = player.next(now)) send(*command);
//   player.answered(command, accepted, reason, now);   // for each CommandResult
//   if (BotPlayer::wants(type)) player.see(*game::Model::decode(type, payload), now);
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <worldlog/game/geometry.hpp>
#include <worldlog/game/model.hpp>

#include "stride.hpp"

namespace worldlog::tools {

/// Where a bot strides, and the way there from the spawn point.
struct Post {
  std::vector<game::Point> route; ///< straight legs from the spawn point; empty when there
  Stride stride;
};

/// stride_for(map, player) with `away` drawn in to the move allowance: a stride then stays
/// legal even when the zone decides two of them in one tick, which a server that stalls for a
/// moment does with the moves that queued up meanwhile.
[[nodiscard]] inline Stride short_stride(const game::Map& map, game::EntityId player) {
  const Stride stride = stride_for(map, player);
  return {stride.home, game::geometry::step_toward(stride.home, stride.away,
                                                   game::default_rules.move_allowance_mm)};
}

/// The post beside the spawn point: no walk.
[[nodiscard]] inline Post spawn_post(const game::Map& map, game::EntityId player) {
  return {{}, short_stride(map, player)};
}

/// A post of `player`'s own on a tile picked by its id, reached along the spawn point's row and
/// then the tile's column; the same for the same map and player. Falls back to the spawn post
/// when no tile tried has a clear way (never on the reference maps, whose every third row and
/// column is free of rock).
[[nodiscard]] inline Post spread_post(const game::Map& map, game::EntityId player) {
  const Stride beside_spawn = short_stride(map, player);
  zone::Rng rng(player);
  for (int attempt = 0; attempt < 64; ++attempt) {
    // Not the border tiles: a step there could cross an exit into the next zone.
    const auto tx =
        static_cast<std::int32_t>(1 + rng.below(static_cast<std::uint64_t>(map.width - 2)));
    const auto ty =
        static_cast<std::int32_t>(1 + rng.below(static_cast<std::uint64_t>(map.height - 2)));
    const game::Point post = map.tile_centre(tx, ty);
    const game::Point corner{post.x, map.spawn.y};
    // The stride beside the spawn point, moved to the post: it stays inside the post's tile.
    const game::Point shift{post.x - map.spawn.x, post.y - map.spawn.y};
    const Stride stride{{beside_spawn.home.x + shift.x, beside_spawn.home.y + shift.y},
                        {beside_spawn.away.x + shift.x, beside_spawn.away.y + shift.y}};
    if (map.blocked(corner) || map.blocked(post) || map.blocked(stride.home) ||
        map.blocked(stride.away) || !map.path_clear(map.spawn, corner) ||
        !map.path_clear(corner, post) || !map.path_clear(post, stride.home) ||
        !map.path_clear(stride.home, stride.away)) {
      continue;
    }
    return {{corner, post, stride.home}, stride};
  }
  return spawn_post(map, player);
}

class BotPlayer {
public:
  using Clock = std::chrono::steady_clock;

  /// A player `self` that strides at `post`, standing at `at` (the spawn point it joins at).
  /// REQUIRES: game::is_player_id(self).
  BotPlayer(game::EntityId self, Post post, game::Point at)
      : self_(self), post_(std::move(post)), at_(at), rng_(self) {}

  /// Whether events of `payload_type` can change what the player does. The others, above all
  /// the other players' moves, which are most of what a crowd receives, need not be decoded.
  [[nodiscard]] static bool wants(std::uint32_t payload_type) noexcept {
    return payload_type == game::Died::type || payload_type == game::Respawned::type ||
           payload_type == game::MobSpawned::type || payload_type == game::MobMoved::type;
  }

  /// Whether it stands at its post (a spawn post from the start).
  [[nodiscard]] bool at_post() const noexcept { return leg_ >= post_.route.size(); }

  /// Folds an event the player was sent.
  void see(const game::Event& event, Clock::time_point now) {
    if (const auto* spawned = std::get_if<game::MobSpawned>(&event)) {
      mobs_[spawned->mob] = spawned->at;
    } else if (const auto* moved = std::get_if<game::MobMoved>(&event)) {
      mobs_[moved->mob] = moved->to;
    } else if (const auto* died = std::get_if<game::Died>(&event)) {
      mobs_.erase(died->entity);
      if (died->entity == self_) resting_until_ = now + respawn_time;
    } else if (const auto* respawned = std::get_if<game::Respawned>(&event)) {
      if (respawned->entity != self_) return;
      at_ = respawned->at;
      settled_at_ = now;
      resting_until_ = now;
      leg_ = 0; // back at the spawn point: the walk begins again
    }
  }

  /// The command for the turn due `now`; nullopt while the player is dead, or waits for its
  /// last step on the way to its post.
  [[nodiscard]] std::optional<game::Command> next(Clock::time_point now) {
    if (now < resting_until_) return std::nullopt;
    if (!at_post()) return walk(now);
    if (now >= next_attack_) {
      if (const auto target = mob_in_reach()) {
        next_attack_ = now + attack_every;
        return game::attack(self_, *target);
      }
    }
    if (rng_.below(say_one_in) == 0)
      return game::say(self_, std::string(lines[rng_.below(lines.size())]));
    going_away_ = !going_away_;
    return game::move(self_, going_away_ ? post_.stride.away : post_.stride.home);
  }

  /// Folds the answer to `command`, one the player sent: accepted, or rejected for `reason`.
  void answered(const game::Command& command, bool accepted, game::Reject reason,
                Clock::time_point now) {
    if (std::holds_alternative<game::Join>(command) && accepted) {
      settled_at_ = now;
    } else if (const auto* move = std::get_if<game::Move>(&command)) {
      if (accepted) {
        at_ = move->to;
        settled_at_ = now;
      }
      step_in_flight_ = false;
    } else if (const auto* attack = std::get_if<game::Attack>(&command)) {
      // The mob is dead, gone out of sight, or not where it was seen: stop chasing the memory.
      if (reason == game::Reject::unknown_target || reason == game::Reject::out_of_range)
        mobs_.erase(attack->target);
    }
    if (!accepted && reason == game::Reject::dead) resting_until_ = now + dead_retry;
  }

private:
  static constexpr std::chrono::milliseconds tick{50}; ///< the zones' tick (20 Hz)
  /// A dead player respawns after player_respawn_ticks; it tries again then even when the
  /// Respawned event never came.
  static constexpr std::chrono::milliseconds respawn_time =
      tick * static_cast<std::int64_t>(game::default_rules.player_respawn_ticks);
  static constexpr auto dead_retry = std::chrono::seconds(1);
  /// A step on the way to the post whose answer never came is given up after this.
  static constexpr auto step_timeout = std::chrono::seconds(5);
  /// Twice the rules' cooldown, so that an attack is never refused for it however the answers
  /// of the commands in flight line up.
  static constexpr std::chrono::milliseconds attack_every =
      tick * static_cast<std::int64_t>(2 * game::default_rules.attack_cooldown_ticks);
  /// A mob's position is as old as the last event about it: attack only with room to spare.
  static constexpr std::int64_t reach_mm = game::default_rules.attack_range_mm - 500;
  static constexpr std::uint64_t say_one_in = 50;
  static constexpr std::array<std::string_view, 5> lines{
      "hello there", "anyone seen a wolf?", "lag check", "brb", "nice weather for a stroll"};

  /// The next step towards the post, one at a time. The zone allows a move as long as the
  /// ticks since the player's last move (at most move_bank_ticks) allow, counted on the zone's
  /// clock when it decides. The last move was decided before its answer came, so the ticks
  /// between then and now are a lower bound of what the zone will count.
  [[nodiscard]] std::optional<game::Command> walk(Clock::time_point now) {
    if (step_in_flight_ && now - step_sent_at_ < step_timeout) return std::nullopt;
    step_in_flight_ = false;
    while (!at_post() && post_.route[leg_] == at_)
      ++leg_;
    // Arrived: this turn stays idle, so the first stride comes a whole turn after the last
    // step was decided, whatever the rate.
    if (at_post()) return std::nullopt;
    const auto ticks = std::min<std::int64_t>(
        (now - settled_at_) / tick, static_cast<std::int64_t>(game::default_rules.move_bank_ticks));
    if (ticks <= 0) return std::nullopt;
    const game::Point to = game::geometry::step_toward(
        at_, post_.route[leg_], game::default_rules.player_speed_mm_per_tick * ticks);
    step_in_flight_ = true;
    step_sent_at_ = now;
    return game::move(self_, to);
  }

  /// The nearest mob seen within reach (the lowest id among equals).
  [[nodiscard]] std::optional<game::EntityId> mob_in_reach() const {
    std::optional<game::EntityId> nearest;
    std::uint64_t nearest_sq = 0;
    for (const auto& [mob, at] : mobs_) {
      const std::uint64_t distance_sq = game::geometry::distance_sq(at_, at);
      if (!game::geometry::within(at_, at, reach_mm)) continue;
      if (!nearest || distance_sq < nearest_sq) {
        nearest = mob;
        nearest_sq = distance_sq;
      }
    }
    return nearest;
  }

  game::EntityId self_;
  Post post_;
  game::Point at_; ///< where the player stands, as far as its answers and events tell
  zone::Rng rng_;  ///< what it says, and when
  std::map<game::EntityId, game::Point> mobs_; ///< live mobs, where they were last seen
  std::size_t leg_ = 0;                        ///< the leg of post_.route it walks
  bool step_in_flight_ = false;                ///< a step of the walk awaits its answer
  Clock::time_point step_sent_at_{};
  Clock::time_point settled_at_{};    ///< the last answer that moved the player, or its respawn
  Clock::time_point resting_until_{}; ///< dead until then, as far as it knows
  Clock::time_point next_attack_{};
  bool going_away_ = false; ///< the last stride went to post_.stride.away
};

} // namespace worldlog::tools

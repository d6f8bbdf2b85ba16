// Presence: who is online, and in which zone. An actor of its own, supervised apart from the
// zones, so that a crashing zone does not take the "who is online" view down with it.
//
// Presence is a projection, not a truth: the zones' logs are. When the presence actor
// restarts, it rebuilds itself from a census of the zones' states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include <worldlog/game/model.hpp>
#include <worldlog/runtime/actor.hpp>
#include <worldlog/zone/zone_set.hpp>

namespace worldlog::game {

class Presence final : public runtime::Actor {
public:
  /// REQUIRES: `zones` outlives the actor.
  Presence(runtime::Executor executor, zone::ZoneSet<Model>& zones);

  /// Records that `player` is now in `zone` (joined, or arrived by handoff).
  Status set_online(EntityId player, ZoneId zone);
  /// Records that `player` left the game.
  Status set_offline(EntityId player);

  // On the actor's strand only (inside a call):
  /// The zone `player` is in, or nullopt when offline.
  [[nodiscard]] std::optional<ZoneId> zone_of(EntityId player) const;
  [[nodiscard]] std::size_t online() const noexcept { return zone_of_.size(); }
  /// Every player online, and its zone.
  [[nodiscard]] const std::map<EntityId, ZoneId>& players() const noexcept { return zone_of_; }
  /// Players online per zone, by zone.
  [[nodiscard]] std::map<ZoneId, std::size_t> by_zone() const;

protected:
  /// Rebuilds the view from the zones (each asked with a call; a zone that is restarting is
  /// skipped and will report its players as they act).
  boost::asio::awaitable<void> on_start() override;

private:
  zone::ZoneSet<Model>& zones_;
  std::map<EntityId, ZoneId> zone_of_; ///< strand only
};

} // namespace worldlog::game

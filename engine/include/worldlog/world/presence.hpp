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
#include <vector>

#include <worldlog/runtime/actor.hpp>
#include <worldlog/world/players.hpp>
#include <worldlog/zone/zone_set.hpp>

namespace worldlog::world {

template <PlayerModel M> class Presence final : public runtime::Actor {
public:
  /// REQUIRES: `zones` outlives the actor.
  Presence(runtime::Executor executor, zone::ZoneSet<M>& zones)
      : Actor(std::move(executor), {.name = "presence", .mailbox_capacity = 65'536}),
        zones_(zones) {}

  /// Records that `player` is now in `zone` (joined, or arrived by handoff).
  Status set_online(EntityId player, ZoneId zone) {
    return cast([this, player, zone] { zone_of_[player] = zone; });
  }
  /// Records that `player` left the game.
  Status set_offline(EntityId player) {
    return cast([this, player] { zone_of_.erase(player); });
  }

  // On the actor's strand only (inside a call):
  /// The zone `player` is in, or nullopt when offline.
  [[nodiscard]] std::optional<ZoneId> zone_of(EntityId player) const {
    const auto found = zone_of_.find(player);
    if (found == zone_of_.end()) return std::nullopt;
    return found->second;
  }
  [[nodiscard]] std::size_t online() const noexcept { return zone_of_.size(); }
  /// Every player online, and its zone.
  [[nodiscard]] const std::map<EntityId, ZoneId>& players() const noexcept { return zone_of_; }
  /// Players online per zone, by zone.
  [[nodiscard]] std::map<ZoneId, std::size_t> by_zone() const {
    std::map<ZoneId, std::size_t> counts;
    for (const auto& [player, zone] : zone_of_)
      ++counts[zone];
    return counts;
  }

protected:
  /// Rebuilds the view from the zones (each asked with a call; a zone that is restarting is
  /// skipped and will report its players as they act).
  boost::asio::awaitable<void> on_start() override {
    for (ZoneId zone = 1; zone <= zones_.zone_count(); ++zone) {
      auto target = zones_.zone(zone);
      if (!target) continue;
      // The handler runs on the zone, which is alive while it handles a message, so a plain
      // pointer does. (gcc 12 destroys a lambda temporary in a co_await expression twice: one
      // capturing the shared_ptr released the zone early.)
      auto players = co_await call(*target, [zone, zone_actor = target.get()] {
        std::vector<EntityId> ids;
        for (const Character& character : M::characters(zone_actor->state(), zone)) {
          if (character.online && !character.arriving) ids.push_back(character.player);
        }
        return ids;
      });
      if (!players.ok()) continue;
      for (const EntityId id : *players)
        zone_of_[id] = zone;
    }
  }

private:
  zone::ZoneSet<M>& zones_;
  std::map<EntityId, ZoneId> zone_of_; ///< strand only
};

} // namespace worldlog::world

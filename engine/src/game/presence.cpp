#include <worldlog/game/presence.hpp>

namespace worldlog::game {

Presence::Presence(runtime::Executor executor, zone::ZoneSet<Model>& zones)
    : Actor(std::move(executor), {.name = "presence", .mailbox_capacity = 65'536}), zones_(zones) {}

Status Presence::set_online(EntityId player, ZoneId zone) {
  return cast([this, player, zone] { zone_of_[player] = zone; });
}

Status Presence::set_offline(EntityId player) {
  return cast([this, player] { zone_of_.erase(player); });
}

std::optional<ZoneId> Presence::zone_of(EntityId player) const {
  const auto found = zone_of_.find(player);
  if (found == zone_of_.end()) return std::nullopt;
  return found->second;
}

std::map<ZoneId, std::size_t> Presence::by_zone() const {
  std::map<ZoneId, std::size_t> counts;
  for (const auto& [player, zone] : zone_of_)
    ++counts[zone];
  return counts;
}

boost::asio::awaitable<void> Presence::on_start() {
  for (ZoneId zone = 1; zone <= zones_.zone_count(); ++zone) {
    auto target = zones_.zone(zone);
    if (!target) continue;
    // The handler runs on the zone, which is alive while it handles a message, so a plain
    // pointer does. (gcc 12 destroys a lambda temporary in a co_await expression twice: one
    // capturing the shared_ptr released the zone early.)
    auto players = co_await call(*target, [zone_actor = target.get()] {
      std::vector<EntityId> ids;
      for (const auto& [id, player] : zone_actor->state().players)
        ids.push_back(id);
      return ids;
    });
    if (!players.ok()) continue;
    for (const EntityId id : *players)
      zone_of_[id] = zone;
  }
}

} // namespace worldlog::game

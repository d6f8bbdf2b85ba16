#include <worldlog/world/directory.hpp>

#include <algorithm>
#include <tuple>

namespace worldlog::world {

Directory::Directory(std::size_t commands_per_player)
    : commands_per_player_(std::max<std::size_t>(commands_per_player, 1)) {}

std::optional<Directory::Place> Directory::find(EntityId player) const {
  const std::lock_guard lock(mutex_);
  const auto found = places_.find(player);
  if (found == places_.end()) return std::nullopt;
  return found->second;
}

void Directory::place(EntityId player, Place place) {
  const std::lock_guard lock(mutex_);
  const auto [found, inserted] = places_.try_emplace(player, place);
  if (inserted) return;
  // Newer means a higher epoch, or the same epoch with the character no longer arriving.
  const auto newness = [](const Place& p) { return std::make_tuple(p.epoch, !p.arriving); };
  if (newness(place) >= newness(found->second)) found->second = place;
}

void Directory::set_online(EntityId player, ZoneId zone, bool online) {
  const std::lock_guard lock(mutex_);
  Place& place = places_[player];
  place.zone = zone;
  place.online = online;
  place.arriving = false;
}

bool Directory::connect(EntityId player) {
  const std::lock_guard lock(mutex_);
  return sessions_.insert(player).second;
}

void Directory::disconnect(EntityId player) {
  const std::lock_guard lock(mutex_);
  sessions_.erase(player);
}

bool Directory::connected(EntityId player) const {
  const std::lock_guard lock(mutex_);
  return sessions_.contains(player);
}

std::optional<zone::Outcome> Directory::recall(EntityId player, std::uint64_t client_id) const {
  const std::lock_guard lock(mutex_);
  const auto found = recent_.find(player);
  if (found == recent_.end()) return std::nullopt;
  for (const auto& [zone, recent] : found->second) {
    for (const Remembered& entry : recent.ring) {
      if (entry.client_id != client_id) continue;
      return zone::Outcome{.accepted = entry.accepted,
                           .first_seq = entry.first_seq,
                           .last_seq = entry.last_seq,
                           .code = entry.code,
                           .duplicate = true,
                           .zone = entry.zone};
    }
  }
  return std::nullopt;
}

void Directory::remember(EntityId player, std::uint64_t client_id, const zone::Outcome& outcome) {
  const Remembered entry{client_id,    outcome.first_seq, outcome.last_seq,
                         outcome.zone, outcome.code,      outcome.accepted};
  const std::lock_guard lock(mutex_);
  auto& zones = recent_[player];
  const auto same = [client_id](const Remembered& r) { return r.client_id == client_id; };
  for (const auto& [zone, recent] : zones)
    if (std::any_of(recent.ring.begin(), recent.ring.end(), same)) return;
  Recent& recent = zones[outcome.zone];
  if (recent.ring.size() < commands_per_player_) {
    recent.ring.push_back(entry);
    return;
  }
  recent.ring[recent.next] = entry;
  recent.next = (recent.next + 1) % commands_per_player_;
}

std::map<EntityId, Directory::Place> Directory::places() const {
  const std::lock_guard lock(mutex_);
  return places_;
}

} // namespace worldlog::world

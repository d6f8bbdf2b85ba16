// The player directory: where each player's character is, whether it is online, whether this
// process holds a session for it, and the outcomes of its recent commands in every zone.
//
// A character lives in one zone's state at a time (players.hpp, `characters`): online, offline,
// or departed from one zone until the next records its arrival. Those states are folds of the
// zones' logs, and the directory is a projection of them: rebuilt from a census of the zones when
// the world starts, then kept current as joins, logouts and handoffs become durable. It decides
// nothing the log does not say, and the zones stay the judges: a Join the directory sends to the
// wrong zone is refused there (the reference game's `elsewhere`, `in_transit`).
//
// Two things only this process can know live here too. Sessions: after a restart nobody is
// connected, so every player the census finds online is a ghost, and the world logs it out
// with a recorded reason. Recent commands: a retry that reaches another zone than its original
// (the player crossed, or the server restarted) is answered with the first outcome instead of
// being applied again.
//
// Thread-safe: one mutex, held for a map lookup at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <worldlog/world/players.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::world {

class Directory {
public:
  /// Where a character is, as the zones' logs say.
  struct Place {
    ZoneId zone = 0;         ///< the zone whose state holds it, or that it is crossing into
    std::uint64_t epoch = 0; ///< its handoff epoch
    bool online = false;     ///< its player is online (in `zone`, or arriving there)
    bool arriving = false;   ///< departed towards `zone`; its Arrived is not yet recorded

    friend bool operator==(const Place&, const Place&) = default;
  };

  /// Keeps the outcomes of the last `commands_per_player` commands of each player in each zone
  /// (per zone, so that a census, which learns the zones' windows one zone after another, keeps
  /// the newest of each). REQUIRES: commands_per_player > 0.
  explicit Directory(std::size_t commands_per_player);

  /// Where `player`'s character is, or nullopt for a player no zone has seen.
  [[nodiscard]] std::optional<Place> find(EntityId player) const;

  /// Records that the character is at `place`, unless the directory knows something newer:
  /// epochs only grow, and at the same epoch a character in a zone's state is newer than one
  /// still arriving there.
  void place(EntityId player, Place place);
  /// Records that `player` came online (a Join accepted in `zone`) or went offline there.
  void set_online(EntityId player, ZoneId zone, bool online);

  /// Notes a session for `player` in this process; false when it has one already.
  bool connect(EntityId player);
  /// Ends the session of `player`, if any.
  void disconnect(EntityId player);
  [[nodiscard]] bool connected(EntityId player) const;

  /// The outcome of `player`'s command `client_id` in any zone, if it is among its recent ones.
  /// A rejection's reason is not kept: the log has it.
  [[nodiscard]] std::optional<zone::Outcome> recall(EntityId player, std::uint64_t client_id) const;
  /// Remembers the outcome of `player`'s command `client_id` (`outcome.zone` set). A client id
  /// already remembered keeps its first outcome.
  void remember(EntityId player, std::uint64_t client_id, const zone::Outcome& outcome);

  /// Every known player and where its character is, by id.
  [[nodiscard]] std::map<EntityId, Place> places() const;

private:
  /// A compact outcome: the directory holds one per recent command of every player.
  struct Remembered {
    std::uint64_t client_id = 0;
    log::Seq first_seq = 0;
    log::Seq last_seq = 0;
    ZoneId zone = 0;
    std::uint32_t code = 0;
    bool accepted = false;
  };
  /// The last commands of one player in one zone, a ring of at most `commands_per_player_`.
  struct Recent {
    std::vector<Remembered> ring;
    std::size_t next = 0; ///< where the next entry goes once the ring is full
  };

  const std::size_t commands_per_player_;
  mutable std::mutex mutex_;
  std::map<EntityId, Place> places_;
  std::unordered_set<EntityId> sessions_;                         ///< lookups only
  std::unordered_map<EntityId, std::map<ZoneId, Recent>> recent_; ///< lookups only
};

} // namespace worldlog::world

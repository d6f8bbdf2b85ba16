// The reference game's world as a supervision tree:
//
//   root (one_for_one)
//   ├── presence            who is online, in which zone
//   ├── chat                channels across zones
//   └── world (one_for_one)
//       ├── zone-1 … zone-N one stream of the log each
//
// A zone that fails is rebuilt from its snapshot and log by the world supervisor; presence,
// chat and the other zones never notice. Commands for the zones go through `submit`, which
// also keeps the player directory and presence in step (joins, leaves, handoffs).
//
// The player's lifecycle (directory.hpp; schemas/PROTOCOL.md for clients): a character is in one
// zone at a time, online or offline; a logout keeps it there whole, and the player resumes with it.
// The directory (directory.hpp) says where each character is: the world routes a player's commands
// there, and answers a retried client id from any zone with its first outcome. On start, every
// player the zones' logs still show online has lost its session with the process that stopped: the
// world logs each out (`session_lost`) before it serves anyone, and does the same to a player whose
// handoff was in flight, once it arrives.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <worldlog/game/chat.hpp>
#include <worldlog/game/directory.hpp>
#include <worldlog/game/model.hpp>
#include <worldlog/game/presence.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/supervisor.hpp>
#include <worldlog/zone/zone_set.hpp>

namespace worldlog::game {

struct WorldOptions {
  ZoneId zones = 4;               ///< zones 1..zones, in a row
  std::uint64_t seed = 1;         ///< the world seed (maps, spawns)
  std::uint64_t tick_us = 50'000; ///< tick length (20 Hz)
  /// Mob spawn points per zone (wolves and boars, 2:1); nullopt = the rules' default.
  std::optional<std::uint32_t> mobs{};
  zone::ZoneOptions zone{}; ///< options of every zone
  ChatOptions chat{};
  /// Per player and zone, the outcomes of this many recent commands are kept, so that a retry
  /// is answered from any zone (the zones keep their own window besides).
  std::size_t commands_per_player = 128;
  /// Test hooks of the zone set (see ZoneSetOptions); optional.
  std::function<void(const Model::Handoff&)> before_arrival{};
  /// Runs, instead of a short sleep, each time `start`, `shutdown` or the destructor wait for
  /// the actors: a deterministic simulation that runs the executor (and the log's commits) on
  /// the waiting thread itself makes progress here. Empty: other threads run the executor.
  std::function<void()> pump{};
};

class World {
public:
  /// REQUIRES: `log` and `clock` outlive the world; the executor runs while it does.
  World(runtime::Executor executor, log::EventLog& log, const runtime::Clock& clock,
        WorldOptions options);
  /// Stops the tree if `shutdown` was not called (without a final snapshot) and waits, up to
  /// 30 s, until it has exited: its actors use this world until then.
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  /// Starts the tree and waits (up to `timeout`) until every zone has recovered from the log;
  /// then takes the directory's census of the zones and logs out every player still online
  /// (`session_lost`), waiting until those logouts are durable. Errors: timeout; io_error, at
  /// once, when the log cannot be written (a new zone's genesis, say); the first logout that
  /// failed.
  [[nodiscard]] Status start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// A clean shutdown: every player online is logged out (`server_stopped`), every zone sends
  /// what it decided, waits until it is durable and stores a snapshot; then the tree stops.
  /// Errors: the first zone's; io_error when the log failed to write (nothing more was stored).
  [[nodiscard]] Status shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  /// Sends `command` from `actor` to `zone` (see Zone::submit). A player's command whose id
  /// the player used before, in any zone, is answered with the first outcome (`duplicate`)
  /// and not sent. A Join gets the character's epoch from the directory. An accepted Join or
  /// Leave updates the directory and presence. Errors (also given to `reply`): not_found,
  /// closed, overloaded.
  Status submit(ZoneId zone, log::Actor actor, std::uint64_t command_id, Command command,
                zone::Reply reply);

  // ---- player sessions (what a server does for each connection) ------------------------------

  /// The zone where `player`'s character is (online, offline or arriving there), or its home
  /// zone for a player no zone has seen.
  [[nodiscard]] ZoneId zone_of(EntityId player) const;
  /// The zone a new player starts in: `player mod zones + 1`, so a crowd spreads out.
  [[nodiscard]] ZoneId home_zone(EntityId player) const noexcept;
  /// `submit` from `player` itself, to the zone where its character is.
  Status submit_for(EntityId player, std::uint64_t client_id, Command command, zone::Reply reply);
  /// Shows `player` what it can see through `sink`, in whichever zone its character is, from
  /// its next Joined (or Arrived) on, until `disconnect`.
  void follow(EntityId player, zone::ZoneSet<Model>::Sink sink);
  /// Ends `player`'s session: stops its sink, and logs it out for `reason` in the zone where
  /// its character is; one that is crossing is logged out as it arrives. `done` runs once the
  /// logout is durable, or at once when the player was not online (from a zone's strand or the
  /// log's commit thread). REQUIRES: every command the session submitted has been answered (a
  /// Join still in a zone's mailbox would bring the player online after this logout).
  void disconnect(EntityId player, LogoutReason reason, std::function<void()> done);

  [[nodiscard]] const Directory& directory() const noexcept { return directory_; }
  /// How many players `start` found online and logged out (`session_lost`).
  [[nodiscard]] std::size_t logged_out_on_start() const noexcept { return logged_out_on_start_; }
  /// Advances every zone to the clock's tick (call it every tick_us, or drive it by hand), and
  /// resends the logouts that a zone lost (it failed, or was restarting, before storing them).
  void tick();

  [[nodiscard]] zone::ZoneSet<Model>& zones() noexcept { return zones_; }
  [[nodiscard]] const WorldOptions& options() const noexcept { return options_; }
  [[nodiscard]] runtime::Supervisor& root() noexcept { return *root_; }
  /// The running presence and chat actors, or nullptr while they restart.
  [[nodiscard]] std::shared_ptr<Presence> presence() const;
  [[nodiscard]] std::shared_ptr<Chat> chat() const;
  /// The world supervisor (the zones' parent), or nullptr while it restarts.
  [[nodiscard]] std::shared_ptr<runtime::Supervisor> world_supervisor() const;

private:
  void on_departure(const Model::Handoff& handoff);
  void on_arrival(const Model::Handoff& handoff, const zone::Outcome& arrived);
  /// Sends the system's Leave for `player` to `zone`; `done` (optional) gets its outcome. A
  /// Leave that the zone lost is resent on the next tick, to the zone where the character is
  /// then, unless the player has connected again meanwhile (then `done` gets closed).
  void log_out(ZoneId zone, EntityId player, LogoutReason reason, zone::Reply done);
  /// Pumps (see WorldOptions::pump) or sleeps until `ready` holds or `timeout` passes; false
  /// when it timed out.
  bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout) const;
  /// Rebuilds the directory from the zones' states and windows. Errors: a zone's call.
  [[nodiscard]] Status take_census(std::chrono::milliseconds timeout);
  /// Logs out for `reason` every player the directory has online in a zone; waits until that
  /// is durable.
  [[nodiscard]] Status log_out_everyone(LogoutReason reason, std::chrono::milliseconds timeout,
                                        std::size_t* logged_out = nullptr);
  /// Answers a retried command with its first outcome, the rejection's reason read back from
  /// the log.
  void answer_duplicate(zone::Outcome earlier, const zone::Reply& reply) const;
  /// The original of `key` is answered: it is no longer in flight, and these retries waited
  /// for its outcome.
  std::vector<zone::Reply> take_retries(const std::pair<EntityId, std::uint64_t>& key);
  /// Answers `retries` with their original's outcome, marked a duplicate.
  static void answer_retries(std::vector<zone::Reply>& retries,
                             const Result<zone::Outcome>& outcome);

  runtime::Executor executor_;
  log::EventLog& log_;
  const runtime::Clock& clock_;
  const WorldOptions options_;
  Directory directory_;
  zone::ZoneSet<Model> zones_;
  /// Orders what happens to a crossing player's session against its arrival; guards the three
  /// members below it.
  std::mutex crossing_mutex_;
  /// Players whose session was lost in a crash while they crossed: logged out as
  /// `session_lost` on arrival.
  std::set<EntityId> lost_in_transit_;
  bool census_taken_ = false;
  /// What to call once a player who disconnected while crossing is logged out on arrival.
  std::map<EntityId, std::vector<std::function<void()>>> awaiting_arrival_;
  struct LostLogout {
    LogoutReason reason;
    zone::Reply done;
  };
  /// Logouts a zone lost, to resend on the next tick. Guarded by crossing_mutex_.
  std::vector<std::pair<EntityId, LostLogout>> lost_logouts_;
  /// Players' commands submitted and not yet answered, by (player, client id), with the replies
  /// of the retries that arrived meanwhile. A retry waits for its original's outcome: sent on to
  /// the player's zone instead, it would be decided again there when the player has crossed
  /// since (the original's zone holds its outcome, and it is not yet in the directory).
  std::mutex in_flight_mutex_;
  std::map<std::pair<EntityId, std::uint64_t>, std::vector<zone::Reply>> in_flight_;
  std::shared_ptr<runtime::Supervisor> root_;
  bool stopped_ = false;
  std::size_t logged_out_on_start_ = 0;
};

} // namespace worldlog::game

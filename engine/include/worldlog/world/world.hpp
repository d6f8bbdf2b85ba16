// A world of zones as a supervision tree, for any model whose players come and go
// (players.hpp):
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
// The player's lifecycle (directory.hpp; docs/protocol.md for clients): a character is in one
// zone at a time, online or offline; a logout keeps it there whole, and the player resumes with it.
// The directory (directory.hpp) says where each character is: the world routes a player's commands
// there, and answers a retried client id from any zone with its first outcome. On start, every
// player the zones' logs still show online has lost its session with the process that stopped: the
// world logs each out (`session_lost`) before it serves anyone, and does the same to a player whose
// handoff was in flight, once it arrives.
//
// Threads: `submit`, `follow`, `disconnect` and `tick` are safe from any thread. Replies and
// sinks run on a zone's strand or the log's commit thread (zone.hpp); keep them short.
//
// The reference game's world is `game::World` (game/world.hpp), an instance of this template;
// the market example runs in one too.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <worldlog/log/event_log.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/supervisor.hpp>
#include <worldlog/world/chat.hpp>
#include <worldlog/world/directory.hpp>
#include <worldlog/world/players.hpp>
#include <worldlog/world/presence.hpp>
#include <worldlog/zone/zone_set.hpp>

namespace worldlog::world {

template <PlayerModel M> struct WorldOptions {
  ZoneId zones = 4;               ///< zones 1..zones, in a row
  std::uint64_t seed = 1;         ///< the world seed (maps, spawns)
  std::uint64_t tick_us = 50'000; ///< tick length (20 Hz)
  /// The model's own settings, recorded in every zone's genesis (ZoneInfo::model_config).
  std::string model_config{};
  /// The rules a new zone records in its genesis (ZoneInfo::rules; "" = the model's defaults).
  /// A zone whose stream exists plays by the rules its log holds.
  std::string rules{};
  zone::ZoneOptions zone{}; ///< options of every zone
  ChatOptions chat{};
  /// Per player and zone, the outcomes of this many recent commands are kept, so that a retry
  /// is answered from any zone (the zones keep their own window besides).
  std::size_t commands_per_player = 128;
  /// Test hooks of the zone set (see ZoneSetOptions); optional.
  std::function<void(const zone::Handoff<typename M::Command>&)> before_arrival{};
  /// Runs, instead of a short sleep, each time `start`, `shutdown` or the destructor wait for
  /// the actors: a deterministic simulation that runs the executor (and the log's commits) on
  /// the waiting thread itself makes progress here. Empty: other threads run the executor.
  std::function<void()> pump{};
  /// A fault to inject, for tests and demonstrations of the behaviour analytics
  /// (docs/behaviour.md): a command sent to a zone for which it returns true is answered as
  /// accepted, with no events, and never reaches the zone, a silent loss that no log reports.
  /// Called on the submitting thread. Empty: none.
  std::function<bool(ZoneId zone, const typename M::Command& command)> drop{};
};

template <PlayerModel M> class World {
public:
  using Command = typename M::Command;
  using Handoff = zone::Handoff<Command>;
  using Options = WorldOptions<M>;

  /// REQUIRES: `log` and `clock` outlive the world; the executor runs while it does.
  World(runtime::Executor executor, log::EventLog& log, const runtime::Clock& clock,
        Options options);
  /// Stops the tree if `shutdown` was not called (without a final snapshot) and waits, up to
  /// 30 s, until it has exited: its actors use this world until then.
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  /// Starts the tree and waits (up to `timeout`) until every zone has recovered from the log;
  /// then takes the directory's census of the zones and logs out every player still online
  /// (`session_lost`), waiting until those logouts are durable. Errors: timeout; io_error, at
  /// once, when the log cannot be written (a new zone's genesis, say); invalid_argument, as soon
  /// as the supervisors give up on a failure restarts do not cure, with its reason (a zone
  /// whose genesis records another configuration, say); the first logout that failed.
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
  void follow(EntityId player, typename zone::ZoneSet<M>::Sink sink);
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

  [[nodiscard]] zone::ZoneSet<M>& zones() noexcept { return zones_; }
  [[nodiscard]] const Options& options() const noexcept { return options_; }
  [[nodiscard]] runtime::Supervisor& root() noexcept { return *root_; }
  /// The running presence and chat actors, or nullptr while they restart.
  [[nodiscard]] std::shared_ptr<Presence<M>> presence() const;
  [[nodiscard]] std::shared_ptr<Chat> chat() const;
  /// The world supervisor (the zones' parent), or nullptr while it restarts.
  [[nodiscard]] std::shared_ptr<runtime::Supervisor> world_supervisor() const;

private:
  /// An accepted Join or Leave: the directory, presence and chat follow it.
  void on_session_change(const SessionChange& change, ZoneId zone);
  void on_departure(const Handoff& handoff);
  void on_arrival(const Handoff& handoff, const zone::Outcome& arrived);
  /// Sends the system's Leave for `player` to `zone`; `done` (optional) gets its outcome. A
  /// Leave that the zone lost is resent on the next tick, to the zone where the character is
  /// then, unless the player has connected again meanwhile (then `done` gets closed), or the
  /// log cannot be written (then `done` gets that error at once).
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
  const Options options_;
  Directory directory_;
  zone::ZoneSet<M> zones_;
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

// ---- implementation
// ------------------------------------------------------------------------------

// Polls: for start-up and shutdown only, where nothing can signal readiness without coupling
// the actors to the world.
template <PlayerModel M>
bool World<M>::wait_until(const std::function<bool()>& ready,
                          std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (options_.pump) {
      options_.pump();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

template <PlayerModel M>
World<M>::World(runtime::Executor executor, log::EventLog& log, const runtime::Clock& clock,
                Options options)
    : executor_(std::move(executor)), log_(log), clock_(clock), options_(std::move(options)),
      directory_(options_.commands_per_player),
      zones_(
          executor_, log, clock,
          {.zones = options_.zones,
           .seed = options_.seed,
           .tick_us = options_.tick_us,
           .model_config = options_.model_config,
           .rules = options_.rules,
           .zone = options_.zone,
           .before_arrival = options_.before_arrival,
           .on_departure = [this](const Handoff& handoff) { on_departure(handoff); },
           .on_arrival = [this](const Handoff& handoff,
                                const zone::Outcome& arrived) { on_arrival(handoff, arrived); }}),
      root_(runtime::Supervisor::create(executor_, "root", runtime::Strategy::one_for_one,
                                        {.max_restarts = 10, .within = std::chrono::seconds(10)},
                                        clock)) {
  root_->add_child(
      {"presence", [this] { return std::make_shared<Presence<M>>(executor_, zones_); }});
  root_->add_child(
      {"chat", [this] { return std::make_shared<Chat>(executor_, clock_, options_.chat); }});
  root_->add_child({"world", [this] { return zones_.make_supervisor(); }});
}

template <PlayerModel M> World<M>::~World() {
  if (stopped_) return;
  root_->stop();
  // The actors use this world's zone set and options until they have exited.
  wait_until([this] { return root_->exited(); }, std::chrono::seconds(30));
}

template <PlayerModel M> Status World<M>::start(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  root_->start();
  const bool ready = wait_until(
      [this] {
        if (zones_.write_failure()) return true; // zones that cannot write stop: none will start
        if (root_->exited()) return true;        // a failure that restarts did not cure
        for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
          auto target = zones_.zone(zone);
          if (!target || !target->running()) return false;
        }
        return presence() != nullptr && chat() != nullptr;
      },
      timeout);
  if (auto failed = zones_.write_failure()) return std::move(*failed);
  if (root_->exited()) {
    return make_error(Errc::invalid_argument, "{}", root_->exit_reason().what);
  }
  if (!ready) {
    return make_error(Errc::timeout, "the world's {} zones did not start within {} ms",
                      options_.zones, timeout.count());
  }
  const auto left = [&deadline] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  if (Status census = take_census(left()); !census.ok()) return census;
  return log_out_everyone(LogoutReason::session_lost, left(), &logged_out_on_start_);
}

template <PlayerModel M> Status World<M>::shutdown(std::chrono::milliseconds timeout) {
  Status logged_out = log_out_everyone(LogoutReason::server_stopped, timeout);
  Status drained = zones_.drain_all(timeout, options_.pump);
  if (drained.ok()) drained = std::move(logged_out);
  root_->stop();
  stopped_ = true;
  wait_until([this] { return root_->exited(); }, timeout);
  // Zones stopped by a failed write drain as nothing: the failure is the shutdown's outcome.
  if (auto failed = zones_.write_failure()) return std::move(*failed);
  return drained;
}

template <PlayerModel M>
Status World<M>::submit(ZoneId zone, log::Actor actor, std::uint64_t command_id, Command command,
                        zone::Reply reply) {
  if (options_.drop && options_.drop(zone, command)) {
    if (reply) reply(zone::Outcome{.accepted = true, .zone = zone});
    return {};
  }
  const bool from_player = actor.kind == log::ActorKind::player && command_id != 0;
  const std::pair<EntityId, std::uint64_t> key{actor.id, command_id};
  if (from_player) {
    std::unique_lock lock(in_flight_mutex_);
    if (const auto original = in_flight_.find(key); original != in_flight_.end()) {
      original->second.push_back(std::move(reply));
      return {};
    }
    // Looked up under the lock: an answer is remembered before its entry above is erased.
    if (auto earlier = directory_.recall(actor.id, command_id)) {
      lock.unlock();
      answer_duplicate(std::move(*earlier), reply);
      return {};
    }
    in_flight_.try_emplace(key);
  }
  const std::optional<SessionChange> change = M::session_change(command);
  if (change && change->online) {
    if (const auto place = directory_.find(change->player)) M::stamp_join(command, place->epoch);
  }
  if (!from_player && !change) {
    return zones_.submit(zone, actor, command_id, std::move(command), std::move(reply));
  }
  return zones_.submit(zone, actor, command_id, std::move(command),
                       [this, actor, command_id, from_player, change, key,
                        reply = std::move(reply)](Result<zone::Outcome> outcome) {
                         if (outcome.ok() && from_player)
                           directory_.remember(actor.id, command_id, *outcome);
                         std::vector<zone::Reply> retries;
                         if (from_player) retries = take_retries(key);
                         if (change && outcome.ok() && outcome->accepted && !outcome->duplicate) {
                           on_session_change(*change, outcome->zone);
                         }
                         if (retries.empty()) {
                           if (reply) reply(std::move(outcome));
                           return;
                         }
                         if (reply) reply(outcome);
                         answer_retries(retries, outcome);
                       });
}

template <PlayerModel M>
void World<M>::on_session_change(const SessionChange& change, ZoneId zone) {
  directory_.set_online(change.player, zone, change.online);
  if (change.online) {
    directory_.connect(change.player);
  } else {
    directory_.disconnect(change.player);
  }
  if (auto presence = this->presence()) {
    static_cast<void>(change.online ? presence->set_online(change.player, zone)
                                    : presence->set_offline(change.player));
  }
  if (!change.online) {
    if (auto chat = this->chat()) static_cast<void>(chat->leave_all(change.player));
  }
}

template <PlayerModel M> ZoneId World<M>::zone_of(EntityId player) const {
  const auto place = directory_.find(player);
  return place ? place->zone : home_zone(player);
}

template <PlayerModel M> ZoneId World<M>::home_zone(EntityId player) const noexcept {
  return static_cast<ZoneId>(player % options_.zones) + 1;
}

template <PlayerModel M>
Status World<M>::submit_for(EntityId player, std::uint64_t client_id, Command command,
                            zone::Reply reply) {
  return submit(zone_of(player), {log::ActorKind::player, player}, client_id, std::move(command),
                std::move(reply));
}

template <PlayerModel M>
void World<M>::follow(EntityId player, typename zone::ZoneSet<M>::Sink sink) {
  zones_.follow(player, zone_of(player), std::move(sink));
}

template <PlayerModel M>
void World<M>::disconnect(EntityId player, LogoutReason reason, std::function<void()> done) {
  zones_.unfollow(player);
  std::optional<Directory::Place> place;
  {
    const std::lock_guard lock(crossing_mutex_);
    directory_.disconnect(player);
    place = directory_.find(player);
    // Crossing: on_arrival logs the player out where it lands, and then calls `done`.
    if (place && place->online && place->arriving) {
      if (done) awaiting_arrival_[player].push_back(std::move(done));
      return;
    }
  }
  if (!place || !place->online) {
    if (done) done();
    return;
  }
  log_out(place->zone, player, reason, [done = std::move(done)](const Result<zone::Outcome>&) {
    if (done) done();
  });
}

template <PlayerModel M> void World<M>::on_departure(const Handoff& handoff) {
  directory_.place(handoff.entity,
                   {.zone = handoff.to, .epoch = handoff.epoch, .online = true, .arriving = true});
}

template <PlayerModel M>
void World<M>::on_arrival(const Handoff& handoff, const zone::Outcome& arrived) {
  // A repeated delivery appends nothing, or is answered from the zone's window: the first one
  // decided what follows, and the player may have logged out since.
  if (arrived.first_seq == 0 || arrived.duplicate) return;
  const EntityId player = handoff.entity;
  if (auto presence = this->presence()) static_cast<void>(presence->set_online(player, handoff.to));
  bool lost = false;
  std::vector<std::function<void()>> awaiting;
  {
    const std::lock_guard lock(crossing_mutex_);
    directory_.place(
        player, {.zone = handoff.to, .epoch = handoff.epoch, .online = true, .arriving = false});
    if (directory_.connected(player)) return;
    // Nobody is connected as this player: its session ended (or died with the process that
    // stopped) while it crossed.
    lost = lost_in_transit_.erase(player) != 0 || !census_taken_;
    if (const auto found = awaiting_arrival_.find(player); found != awaiting_arrival_.end()) {
      awaiting = std::move(found->second);
      awaiting_arrival_.erase(found);
    }
  }
  log_out(handoff.to, player, lost ? LogoutReason::session_lost : LogoutReason::disconnected,
          [awaiting = std::move(awaiting)](const Result<zone::Outcome>&) {
            for (const auto& done : awaiting)
              done();
          });
}

template <PlayerModel M>
void World<M>::log_out(ZoneId zone, EntityId player, LogoutReason reason, zone::Reply done) {
  static_cast<void>(submit(zone, {log::ActorKind::system, 0}, 0, M::logout(player, reason),
                           [this, player, reason, done](Result<zone::Outcome> outcome) {
                             // A log that cannot be written refuses every logout until the
                             // process restarts (and logs the player out then): say so now.
                             if (outcome.ok() || zones_.write_failure()) {
                               if (done) done(std::move(outcome));
                               return;
                             }
                             // The zone failed or was restarting: the player is still online
                             // there, with nobody connected.
                             const std::lock_guard lock(crossing_mutex_);
                             lost_logouts_.push_back({player, {reason, done}});
                           }));
}

template <PlayerModel M> void World<M>::tick() {
  zones_.tick_all();
  std::vector<std::pair<EntityId, LostLogout>> lost;
  {
    const std::lock_guard lock(crossing_mutex_);
    lost.swap(lost_logouts_);
  }
  for (auto& [player, logout] : lost) {
    if (directory_.connected(player)) {
      if (logout.done) {
        logout.done(make_error(Errc::closed,
                               "player {} connected again before its logout ({}) "
                               "was stored",
                               player, logout.reason));
      }
      continue;
    }
    log_out(zone_of(player), player, logout.reason, std::move(logout.done));
  }
}

template <PlayerModel M> Status World<M>::take_census(std::chrono::milliseconds timeout) {
  struct Census {
    std::vector<std::pair<EntityId, Directory::Place>> places;
    std::vector<std::pair<zone::CommandKey, zone::Outcome>> commands;
  };
  for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
    auto target = zones_.zone(zone);
    if (!target) return make_error(Errc::closed, "zone {} stopped while the world started", zone);
    // A cast and a wait rather than call_blocking: with a pump, this thread runs the zones.
    auto promise = std::make_shared<std::promise<Result<Census>>>();
    auto census = promise->get_future();
    const Status sent = target->cast(
        [promise, zone, zone_actor = target.get()] {
          Census found;
          for (const Character& character : M::characters(zone_actor->state(), zone)) {
            found.places.push_back(
                {character.player,
                 {character.zone, character.epoch, character.online, character.arriving}});
          }
          zone_actor->recent_commands().for_each(
              [&](const zone::CommandKey& key, const zone::Outcome& outcome) {
                if (key.actor.kind == log::ActorKind::player) {
                  found.commands.emplace_back(key, outcome);
                  found.commands.back().second.zone = zone;
                }
              });
          promise->set_value(std::move(found));
        },
        [promise](const Error& why) { promise->set_value(why); });
    if (!sent.ok()) return sent;
    if (!wait_until(
            [&census] {
              return census.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
            },
            timeout)) {
      return make_error(Errc::timeout, "zone {} gave no census within {} ms", zone,
                        timeout.count());
    }
    Result<Census> found = census.get();
    if (!found.ok()) return std::move(found).error();
    for (const auto& [player, place] : found->places) {
      directory_.place(player, place);
      if (place.arriving) {
        const std::lock_guard lock(crossing_mutex_);
        lost_in_transit_.insert(player);
      }
    }
    for (const auto& [key, outcome] : found->commands)
      directory_.remember(key.actor.id, key.command_id, outcome);
  }
  const std::lock_guard lock(crossing_mutex_);
  census_taken_ = true;
  return {};
}

template <PlayerModel M>
Status World<M>::log_out_everyone(LogoutReason reason, std::chrono::milliseconds timeout,
                                  std::size_t* logged_out) {
  std::vector<std::future<Result<zone::Outcome>>> logouts;
  for (const auto& [player, place] : directory_.places()) {
    if (!place.online || place.arriving) continue;
    auto promise = std::make_shared<std::promise<Result<zone::Outcome>>>();
    logouts.push_back(promise->get_future());
    log_out(place.zone, player, reason,
            [promise](Result<zone::Outcome> outcome) { promise->set_value(std::move(outcome)); });
  }
  if (logged_out != nullptr) *logged_out = logouts.size();
  const bool all_done = wait_until(
      [&logouts] {
        return std::all_of(logouts.begin(), logouts.end(), [](const auto& logout) {
          return logout.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        });
      },
      timeout);
  for (auto& logout : logouts) {
    if (!all_done) {
      return make_error(Errc::timeout, "{} players online were not logged out ({}) within {} ms",
                        logouts.size(), reason, timeout.count());
    }
    // A rejected logout found the player offline already (it arrived somewhere and was logged
    // out there): nothing is left to do. A failed one left a ghost.
    if (auto outcome = logout.get(); !outcome.ok()) return std::move(outcome).error();
  }
  return {};
}

template <PlayerModel M>
std::vector<zone::Reply> World<M>::take_retries(const std::pair<EntityId, std::uint64_t>& key) {
  const std::lock_guard lock(in_flight_mutex_);
  const auto found = in_flight_.find(key);
  if (found == in_flight_.end()) return {};
  std::vector<zone::Reply> retries = std::move(found->second);
  in_flight_.erase(found);
  return retries;
}

template <PlayerModel M>
void World<M>::answer_retries(std::vector<zone::Reply>& retries,
                              const Result<zone::Outcome>& outcome) {
  for (auto& retry : retries) {
    if (!retry) continue;
    if (!outcome.ok()) {
      retry(outcome.error());
      continue;
    }
    zone::Outcome first = *outcome;
    first.duplicate = true;
    retry(std::move(first));
  }
}

template <PlayerModel M>
void World<M>::answer_duplicate(zone::Outcome earlier, const zone::Reply& reply) const {
  if (!earlier.accepted) {
    auto record = log_.read_stream(earlier.zone, earlier.first_seq, 1);
    if (record.ok() && !record->empty()) {
      if (auto rejected = zone::decode_command_rejected(record->front().payload()); rejected.ok())
        earlier.reason = std::move(rejected->reason);
    }
  }
  if (reply) reply(std::move(earlier));
}

template <PlayerModel M> std::shared_ptr<Presence<M>> World<M>::presence() const {
  return std::static_pointer_cast<Presence<M>>(root_->child("presence"));
}

template <PlayerModel M> std::shared_ptr<Chat> World<M>::chat() const {
  return std::static_pointer_cast<Chat>(root_->child("chat"));
}

template <PlayerModel M> std::shared_ptr<runtime::Supervisor> World<M>::world_supervisor() const {
  return std::static_pointer_cast<runtime::Supervisor>(root_->child("world"));
}

} // namespace worldlog::world

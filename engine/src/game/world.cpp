#include <worldlog/game/world.hpp>

#include <algorithm>
#include <future>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace worldlog::game {
namespace {

constexpr std::string_view presence_name = "presence";
constexpr std::string_view chat_name = "chat";
constexpr std::string_view world_name = "world";

} // namespace

// Polls: for start-up and shutdown only, where nothing can signal readiness without coupling
// the actors to the world.
bool World::wait_until(const std::function<bool()>& ready,
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

World::World(runtime::Executor executor, log::EventLog& log, const runtime::Clock& clock,
             WorldOptions options)
    : executor_(std::move(executor)), log_(log), clock_(clock), options_(std::move(options)),
      directory_(options_.commands_per_player),
      zones_(
          executor_, log, clock,
          {.zones = options_.zones,
           .seed = options_.seed,
           .tick_us = options_.tick_us,
           .model_config = options_.mobs ? model_config(*options_.mobs) : std::string(),
           .zone = options_.zone,
           .before_arrival = options_.before_arrival,
           .on_departure = [this](const Model::Handoff& handoff) { on_departure(handoff); },
           .on_arrival = [this](const Model::Handoff& handoff,
                                const zone::Outcome& arrived) { on_arrival(handoff, arrived); }}),
      root_(runtime::Supervisor::create(executor_, "root", runtime::Strategy::one_for_one,
                                        {.max_restarts = 10, .within = std::chrono::seconds(10)},
                                        clock)) {
  root_->add_child({std::string(presence_name),
                    [this] { return std::make_shared<Presence>(executor_, zones_); }});
  root_->add_child({std::string(chat_name),
                    [this] { return std::make_shared<Chat>(executor_, clock_, options_.chat); }});
  root_->add_child({std::string(world_name), [this] { return zones_.make_supervisor(); }});
}

World::~World() {
  if (stopped_) return;
  root_->stop();
  // The actors use this world's zone set and options until they have exited.
  wait_until([this] { return root_->exited(); }, std::chrono::seconds(30));
}

Status World::start(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  root_->start();
  const bool ready = wait_until(
      [this] {
        if (zones_.write_failure()) return true; // zones that cannot write stop: none will start
        for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
          auto target = zones_.zone(zone);
          if (!target || !target->running()) return false;
        }
        return presence() != nullptr && chat() != nullptr;
      },
      timeout);
  if (auto failed = zones_.write_failure()) return std::move(*failed);
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

Status World::shutdown(std::chrono::milliseconds timeout) {
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

Status World::submit(ZoneId zone, log::Actor actor, std::uint64_t command_id, Command command,
                     zone::Reply reply) {
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
  if (auto* join = std::get_if<Join>(&command)) {
    if (const auto place = directory_.find(join->entity)) join->epoch = place->epoch;
  }
  const bool joins = std::holds_alternative<Join>(command);
  const bool leaves = std::holds_alternative<Leave>(command);
  if (!from_player && !joins && !leaves) {
    return zones_.submit(zone, actor, command_id, std::move(command), std::move(reply));
  }
  const EntityId player = entity_of(command);
  return zones_.submit(zone, actor, command_id, std::move(command),
                       [this, actor, command_id, from_player, player, joins, leaves, key,
                        reply = std::move(reply)](Result<zone::Outcome> outcome) {
                         if (outcome.ok() && from_player)
                           directory_.remember(actor.id, command_id, *outcome);
                         std::vector<zone::Reply> retries;
                         if (from_player) retries = take_retries(key);
                         if ((joins || leaves) && outcome.ok() && outcome->accepted &&
                             !outcome->duplicate) {
                           const bool online = joins;
                           directory_.set_online(player, outcome->zone, online);
                           if (online) {
                             directory_.connect(player);
                           } else {
                             directory_.disconnect(player);
                           }
                           if (auto presence = this->presence()) {
                             static_cast<void>(online ? presence->set_online(player, outcome->zone)
                                                      : presence->set_offline(player));
                           }
                           if (!online) {
                             if (auto chat = this->chat())
                               static_cast<void>(chat->leave_all(player));
                           }
                         }
                         if (retries.empty()) {
                           if (reply) reply(std::move(outcome));
                           return;
                         }
                         if (reply) reply(outcome);
                         answer_retries(retries, outcome);
                       });
}

ZoneId World::zone_of(EntityId player) const {
  const auto place = directory_.find(player);
  return place ? place->zone : home_zone(player);
}

ZoneId World::home_zone(EntityId player) const noexcept {
  return static_cast<ZoneId>(player % options_.zones) + 1;
}

Status World::submit_for(EntityId player, std::uint64_t client_id, Command command,
                         zone::Reply reply) {
  return submit(zone_of(player), {log::ActorKind::player, player}, client_id, std::move(command),
                std::move(reply));
}

void World::follow(EntityId player, zone::ZoneSet<Model>::Sink sink) {
  zones_.follow(player, zone_of(player), std::move(sink));
}

void World::disconnect(EntityId player, LogoutReason reason, std::function<void()> done) {
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

void World::on_departure(const Model::Handoff& handoff) {
  directory_.place(handoff.entity,
                   {.zone = handoff.to, .epoch = handoff.epoch, .online = true, .arriving = true});
}

void World::on_arrival(const Model::Handoff& handoff, const zone::Outcome& arrived) {
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

void World::log_out(ZoneId zone, EntityId player, LogoutReason reason, zone::Reply done) {
  static_cast<void>(submit(zone, {log::ActorKind::system, 0}, 0, leave(player, reason),
                           [this, player, reason, done](Result<zone::Outcome> outcome) {
                             if (outcome.ok()) {
                               if (done) done(std::move(outcome));
                               return;
                             }
                             // The zone failed or was restarting: the player is still online
                             // there, with nobody connected.
                             const std::lock_guard lock(crossing_mutex_);
                             lost_logouts_.push_back({player, {reason, done}});
                           }));
}

void World::tick() {
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

Status World::take_census(std::chrono::milliseconds timeout) {
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
          const State& state = zone_actor->state();
          for (const auto& [id, player] : state.players)
            found.places.push_back({id, {zone, player.epoch, true, false}});
          for (const auto& [id, player] : state.offline)
            found.places.push_back({id, {zone, player.epoch, false, false}});
          for (const auto& [key, departure] : state.departing)
            found.places.push_back({key.first, {departure.to, departure.epoch, true, true}});
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

Status World::log_out_everyone(LogoutReason reason, std::chrono::milliseconds timeout,
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

std::vector<zone::Reply> World::take_retries(const std::pair<EntityId, std::uint64_t>& key) {
  const std::lock_guard lock(in_flight_mutex_);
  const auto found = in_flight_.find(key);
  if (found == in_flight_.end()) return {};
  std::vector<zone::Reply> retries = std::move(found->second);
  in_flight_.erase(found);
  return retries;
}

void World::answer_retries(std::vector<zone::Reply>& retries,
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

void World::answer_duplicate(zone::Outcome earlier, const zone::Reply& reply) const {
  if (!earlier.accepted) {
    auto record = log_.read_stream(earlier.zone, earlier.first_seq, 1);
    if (record.ok() && !record->empty()) {
      if (auto rejected = zone::decode_command_rejected(record->front().payload()); rejected.ok())
        earlier.reason = std::move(rejected->reason);
    }
  }
  if (reply) reply(std::move(earlier));
}

std::shared_ptr<Presence> World::presence() const {
  return std::static_pointer_cast<Presence>(root_->child(presence_name));
}

std::shared_ptr<Chat> World::chat() const {
  return std::static_pointer_cast<Chat>(root_->child(chat_name));
}

std::shared_ptr<runtime::Supervisor> World::world_supervisor() const {
  return std::static_pointer_cast<runtime::Supervisor>(root_->child(world_name));
}

} // namespace worldlog::game

// The zones of one world under one supervisor, and the router that carries handoffs between
// them.
//
// Zones 1..N run one_for_one under the "world" supervisor: a zone that fails is rebuilt from
// its latest snapshot and its log, and the other zones never notice. A handoff is driven at
// least once (arrive in the destination, then complete in the source) and is harmless to
// repeat, so a crash anywhere between its two halves neither loses nor duplicates the entity:
// the source zone's state still lists the departure, and it re-drives it when it restarts and
// every `handoff_retry_ticks` until the completion is recorded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <worldlog/log/event_log.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/supervisor.hpp>
#include <worldlog/zone/zone.hpp>

namespace worldlog::zone {

template <typename Command> struct ZoneSetOptions {
  ZoneId zones = 1;               ///< zones 1..zones
  std::uint64_t seed = 0;         ///< the world seed, recorded in each zone's genesis
  std::uint64_t tick_us = 50'000; ///< tick length (20 Hz)
  std::string model_config{};     ///< the model's own settings (ZoneInfo::model_config)
  std::string rules{};            ///< the rules of new zones (ZoneInfo::rules; "" = defaults)
  ZoneOptions zone{};             ///< options of every zone
  runtime::RestartIntensity restarts{.max_restarts = 10, .within = std::chrono::seconds(10)};
  /// Called after a departure is durable and before its arrival is sent (tests crash here to
  /// show that nothing is lost between the two halves). Optional.
  std::function<void(const Handoff<Command>&)> before_arrival{};
  /// Called each time a durable departure is driven (once it is durable, and again on every
  /// retry until it completes), before its arrival is sent (e.g. to note where the entity is
  /// going).
  std::function<void(const Handoff<Command>&)> on_departure{};
  /// Called when a handoff's arrival is accepted and durable (e.g. to move the entity's
  /// presence), with the arrival's outcome: a repeated delivery is called again, with an
  /// outcome that appended nothing (`first_seq` 0).
  std::function<void(const Handoff<Command>&, const Outcome&)> on_arrival{};
};

template <GameModel M> class ZoneSet final : public Router<typename M::Command> {
public:
  using Command = typename M::Command;
  using Options = ZoneSetOptions<Command>;
  using Sink = typename Zone<M>::Sink;

  /// REQUIRES: `log` and `clock` outlive the set, and the set outlives its supervisor's run.
  ZoneSet(runtime::Executor executor, log::EventLog& log, const runtime::Clock& clock,
          Options options)
      : executor_(std::move(executor)), log_(log), clock_(clock), options_(std::move(options)) {
    for (ZoneId zone = 1; zone <= options_.zones; ++zone)
      names_.push_back(zone_name(zone));
  }

  /// A fresh "world" supervisor with every zone as a child: start it on its own, or return it
  /// from a ChildSpec's `make` to run the world under a root supervisor.
  [[nodiscard]] std::shared_ptr<runtime::Supervisor> make_supervisor() {
    auto supervisor = runtime::Supervisor::create(
        executor_, "world", runtime::Strategy::one_for_one, options_.restarts, clock_);
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      supervisor->add_child({zone_name(zone), [this, zone] { return make_zone(zone); }});
    }
    const std::lock_guard lock(mutex_);
    if (supervisor_) earlier_restarts_ += supervisor_->restarts();
    supervisor_ = supervisor;
    return supervisor;
  }

  /// Zones restarted, by every world supervisor this set has made: a world supervisor that
  /// gave up and was replaced does not take its count with it. Safe from any thread.
  [[nodiscard]] std::uint64_t restarts() const {
    const std::lock_guard lock(mutex_);
    return earlier_restarts_ + (supervisor_ ? supervisor_->restarts() : 0);
  }

  [[nodiscard]] ZoneId zone_count() const noexcept { return options_.zones; }

  /// The running incarnation of `zone`, or nullptr (unknown zone, restarting, stopped).
  [[nodiscard]] std::shared_ptr<Zone<M>> zone(ZoneId zone) const {
    std::shared_ptr<runtime::Supervisor> supervisor;
    {
      const std::lock_guard lock(mutex_);
      supervisor = supervisor_;
    }
    if (!supervisor || zone == 0 || zone > options_.zones) return nullptr;
    return std::static_pointer_cast<Zone<M>>(supervisor->child(names_[zone - 1]));
  }

  /// Zone::submit on the running incarnation of `zone`. Errors (also given to `reply`):
  /// not_found for a zone outside 1..N, closed while it restarts, overloaded, io_error once
  /// the log failed to write (see write_failure).
  Status submit(ZoneId zone, log::Actor actor, std::uint64_t command_id, Command command,
                Reply reply) {
    if (auto failed = write_failure()) {
      if (reply) reply(*failed);
      return std::move(*failed);
    }
    auto target = this->zone(zone);
    if (!target) {
      Error error =
          zone == 0 || zone > options_.zones
              ? make_error(Errc::not_found, "no zone {} (zones are 1..{})", zone, options_.zones)
              : make_error(Errc::closed, "zone {} is restarting", zone);
      if (reply) reply(error);
      return error;
    }
    return target->submit(actor, command_id, std::move(command), std::move(reply));
  }

  /// Once the log failed to write, what every command is answered: the world cannot store
  /// anything until it is restarted on storage that works (the zones have stopped).
  [[nodiscard]] std::optional<Error> write_failure() const {
    auto failed = log_.write_failure();
    if (!failed) return std::nullopt;
    return make_error(Errc::io_error,
                      "the event log cannot be written ({}); no command is accepted until the "
                      "server is restarted with the storage fixed",
                      failed->message());
  }

  /// Sends a tick to every zone (a zone that is restarting misses it; ticks are not events).
  void tick_all() {
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      if (auto target = this->zone(zone)) static_cast<void>(target->tick());
    }
  }

  /// Drains every zone (see Zone::drain) and waits up to `timeout` for all of them: the clean
  /// shutdown step before stopping the supervisor. Returns the first error. `pump`, if given,
  /// runs while it waits (a world whose executor and commits the caller drives).
  Status drain_all(std::chrono::milliseconds timeout, const std::function<void()>& pump = {}) {
    std::vector<std::future<Status>> drained;
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      auto target = this->zone(zone);
      if (!target) continue;
      auto promise = std::make_shared<std::promise<Status>>();
      drained.push_back(promise->get_future());
      static_cast<void>(target->drain([promise](Status status) { promise->set_value(status); }));
    }
    Status first;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto& future : drained) {
      while (pump && std::chrono::steady_clock::now() < deadline &&
             future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
        pump();
      if (future.wait_until(deadline) != std::future_status::ready) {
        return make_error(Errc::timeout, "zones did not drain within {} ms", timeout.count());
      }
      if (Status status = future.get(); !status.ok() && first.ok()) first = std::move(status);
    }
    return first;
  }

  /// Shows entity `entity` its events through `sink` in whichever zone it is: in `zone` now
  /// (from its next located event on, see Zone::follow), and in each zone it is handed to,
  /// from its arrival on. Safe from any thread.
  void follow(EntityId entity, ZoneId zone, Sink sink) {
    {
      const std::lock_guard lock(mutex_);
      followers_.insert_or_assign(entity, sink);
    }
    if (auto target = this->zone(zone)) static_cast<void>(target->follow(entity, std::move(sink)));
  }
  /// Ends `follow`: no zone shows the entity anything through its sink after this.
  void unfollow(EntityId entity) {
    {
      const std::lock_guard lock(mutex_);
      followers_.erase(entity);
    }
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      if (auto target = this->zone(zone)) static_cast<void>(target->unsubscribe(entity));
    }
  }

  void route(const Handoff<Command>& handoff) override {
    if (options_.on_departure) options_.on_departure(handoff);
    if (options_.before_arrival) options_.before_arrival(handoff);
    // Queued before the arrival, so the entity sees its own Arrived.
    if (auto sink = follower(handoff.entity)) {
      if (auto target = zone(handoff.to)) static_cast<void>(target->follow(handoff.entity, *sink));
    }
    static_cast<void>(submit(handoff.to, system_actor, handoff_command_id(handoff, 1),
                             handoff.arrive, [this, handoff](Result<Outcome> arrived) {
                               // Not arrived (the destination restarting or overloaded): the source
                               // re-drives the handoff later. A rejection would be a model bug; it
                               // is retried the same way.
                               if (!arrived.ok() || !arrived->accepted) return;
                               if (options_.on_arrival) options_.on_arrival(handoff, *arrived);
                               static_cast<void>(submit(handoff.from, system_actor,
                                                        handoff_command_id(handoff, 2),
                                                        handoff.complete, nullptr));
                             }));
  }

private:
  static constexpr log::Actor system_actor{log::ActorKind::system, 0};

  static std::string zone_name(ZoneId zone) { return fmt::format("zone-{}", zone); }

  /// Handoff commands get ids derived from the handoff, so a repeated delivery is recognised
  /// by the zone's idempotency window as well as by the model's epoch check.
  static std::uint64_t handoff_command_id(const Handoff<Command>& handoff, std::uint64_t phase) {
    Rng mix(handoff.from ^ (handoff.to << 20) ^ (handoff.entity * 0x9e3779b97f4a7c15ULL) ^
            (handoff.epoch << 40) ^ phase);
    return mix.next() | 1; // never 0, which means "no id"
  }

  std::optional<Sink> follower(EntityId entity) const {
    const std::lock_guard lock(mutex_);
    const auto found = followers_.find(entity);
    if (found == followers_.end()) return std::nullopt;
    return found->second;
  }

  std::shared_ptr<runtime::Actor> make_zone(ZoneId zone) {
    const ZoneInfo info{
        zone,          options_.zones, options_.seed, options_.tick_us, options_.model_config,
        options_.rules};
    return std::make_shared<Zone<M>>(executor_, log_, clock_, info, options_.zone, this);
  }

  runtime::Executor executor_;
  log::EventLog& log_;
  const runtime::Clock& clock_;
  const Options options_;
  std::vector<std::string> names_; ///< "zone-1", ...: looked up on every submit
  mutable std::mutex mutex_;
  std::shared_ptr<runtime::Supervisor> supervisor_; ///< the newest; guarded by mutex_
  std::uint64_t earlier_restarts_ = 0;              ///< of the ones before it; guarded by mutex_
  std::unordered_map<EntityId, Sink> followers_;    ///< guarded by mutex_; lookups only
};

} // namespace worldlog::zone

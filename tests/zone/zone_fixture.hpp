// A world of tally zones on a real log in a temp dir, driven from the test's thread:
//
//   ZoneWorld world;                          // 2 zones, manual clock, real RocksDB
//   auto outcome = world.submit(1, add(7, 5));
//   CHECK(world.hash(1) == world.fold_from_scratch(1));
//
// Commands are submitted with a blocking wait for their durable outcome; state is inspected
// with calls on the zone's strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/zone/zone_set.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"
#include "zone/tally_model.hpp"

namespace worldlog::test {

using Tally = TallyModel;
using TallyZone = zone::Zone<Tally>;
using TallyZones = zone::ZoneSet<Tally>;

inline constexpr log::Actor player(std::uint64_t id) { return {log::ActorKind::player, id}; }
inline constexpr std::chrono::milliseconds patience{10'000};

/// Waits (politely) until `done()` holds, for at most `patience`; returns whether it did.
inline bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class ZoneWorld {
public:
  explicit ZoneWorld(TallyZones::Options options = {.zones = 2, .seed = 42},
                     std::filesystem::path dir = {})
      : dir_(dir.empty() ? temp_.path() / "log" : std::move(dir)), log_(open_log(dir_)),
        zones_(pool_.get_executor(), *log_, clock_, std::move(options)) {
    start();
  }

  ~ZoneWorld() { stop(); }

  /// Starts a fresh world supervisor over the same log (after stop(): a process restart).
  void start() {
    world_ = zones_.make_supervisor();
    world_->start();
    for (zone::ZoneId z = 1; z <= zones_.zone_count(); ++z) {
      REQUIRE(eventually([&] { return zones_.zone(z) != nullptr; }));
      static_cast<void>(hash(z)); // returns once the zone has recovered
    }
  }
  /// A clean shutdown: drain every zone (a snapshot each), then stop the world.
  void stop() {
    if (!world_) return;
    CHECK_OK(zones_.drain_all(patience));
    world_->stop();
    REQUIRE(eventually([&] { return world_->exited(); }));
    world_.reset();
  }

  /// Submits and waits for the durable outcome (or the error).
  Result<zone::Outcome> submit(zone::ZoneId z, Tally::Command command, std::uint64_t command_id = 0,
                               log::Actor actor = player(1)) {
    std::promise<Result<zone::Outcome>> answered;
    auto future = answered.get_future();
    static_cast<void>(zones_.submit(
        z, actor, command_id, std::move(command),
        [&answered](Result<zone::Outcome> outcome) { answered.set_value(std::move(outcome)); }));
    REQUIRE(future.wait_for(patience) == std::future_status::ready);
    return future.get();
  }

  /// Runs `inspect(zone)` on the zone's strand and returns its result.
  template <typename F> auto on_zone(zone::ZoneId z, F inspect) {
    std::shared_ptr<TallyZone> target;
    REQUIRE(eventually([&] { return (target = zones_.zone(z)) != nullptr; }));
    auto result = runtime::call_blocking(
        *target, [&] { return inspect(*target); }, patience);
    REQUIRE_OK(result);
    return std::move(result).value();
  }

  /// Waits until everything zone `z` decided is durable (ticks are not answered to anyone).
  void settle(zone::ZoneId z) {
    REQUIRE(eventually([&] {
      return on_zone(z, [](TallyZone& zone) { return zone.durable_seq() == zone.decided_seq(); });
    }));
  }

  log::Hash hash(zone::ZoneId z) {
    return on_zone(z, [](TallyZone& zone) { return zone.state_hash(); });
  }
  Tally::State state(zone::ZoneId z) {
    return on_zone(z, [](TallyZone& zone) { return zone.state(); });
  }
  zone::ZoneStats stats(zone::ZoneId z) {
    return on_zone(z, [](TallyZone& zone) { return zone.stats(); });
  }

  /// The state hash of a fold of the whole stream from seq 1, with no zone and no snapshot.
  log::Hash fold_from_scratch(zone::ZoneId z) {
    Tally::State state = Tally::initial_state(zone_info(z));
    const Status scanned = log_->scan_stream(z, 1, everything, [&](const log::EventView& event) {
      if (event.payload_type() >= zone::zone_payload_types) return true;
      auto decoded = Tally::decode(event.payload_type(), event.payload());
      REQUIRE_OK(decoded);
      Tally::evolve(state, *decoded);
      return true;
    });
    REQUIRE_OK(scanned);
    return Tally::hash(state);
  }

  zone::ZoneInfo zone_info(zone::ZoneId z) const { return {z, zones_.zone_count(), 42, 50'000}; }

  log::EventLog& log() { return *log_; }
  TallyZones& zones() { return zones_; }
  runtime::ManualClock& clock() { return clock_; }
  runtime::Supervisor& world() { return *world_; }

private:
  // Declared so that they are destroyed in a safe order: zones, then the log (whose pending
  // completions post to the pool), then the pool.
  TempDir temp_;
  std::filesystem::path dir_;
  // One tick past a multiple of Tally::roll_every_ticks: a command decided before any tick
  // message (which first runs the current tick) appends only its own events.
  runtime::ManualClock clock_{1'700'000'000'050'000};
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<log::EventLog> log_;
  TallyZones zones_;
  std::shared_ptr<runtime::Supervisor> world_;
};

inline Tally::Command add(zone::EntityId entity, std::int64_t amount) {
  return Tally::Add{entity, amount};
}
inline Tally::Command place(zone::EntityId entity, zone::Point at) {
  return Tally::Place{entity, at};
}

} // namespace worldlog::test

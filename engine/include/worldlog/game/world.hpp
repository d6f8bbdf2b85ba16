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
// also keeps presence in step (joins, leaves, handoffs).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <worldlog/game/chat.hpp>
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
  /// Test hooks of the zone set (see ZoneSetOptions); optional.
  std::function<void(const Model::Handoff&)> before_arrival{};
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

  /// Starts the tree and waits (up to `timeout`) until every zone has recovered from the log.
  /// Errors: timeout.
  [[nodiscard]] Status start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// A clean shutdown: every zone sends what it decided, waits until it is durable and stores
  /// a snapshot; then the tree stops. Errors: the first zone's.
  [[nodiscard]] Status shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  /// Sends `command` from `actor` to `zone` (see Zone::submit); an accepted Join or Leave
  /// updates presence. Errors (also given to `reply`): not_found, closed, overloaded.
  Status submit(ZoneId zone, log::Actor actor, std::uint64_t command_id, Command command,
                zone::Reply reply);
  /// Advances every zone to the clock's tick (call it every tick_us, or drive it by hand).
  void tick() { zones_.tick_all(); }

  [[nodiscard]] zone::ZoneSet<Model>& zones() noexcept { return zones_; }
  [[nodiscard]] const WorldOptions& options() const noexcept { return options_; }
  [[nodiscard]] runtime::Supervisor& root() noexcept { return *root_; }
  /// The running presence and chat actors, or nullptr while they restart.
  [[nodiscard]] std::shared_ptr<Presence> presence() const;
  [[nodiscard]] std::shared_ptr<Chat> chat() const;
  /// The world supervisor (the zones' parent), or nullptr while it restarts.
  [[nodiscard]] std::shared_ptr<runtime::Supervisor> world_supervisor() const;

private:
  runtime::Executor executor_;
  const runtime::Clock& clock_;
  const WorldOptions options_;
  zone::ZoneSet<Model> zones_;
  std::shared_ptr<runtime::Supervisor> root_;
  bool stopped_ = false;
};

} // namespace worldlog::game

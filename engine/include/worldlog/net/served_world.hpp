// What a net::Server serves: a world, seen through its model's wire codec.
//
// The protocol's envelope (Hello, Welcome, CommandResult, Error, Events: schemas/protocol.fbs)
// is the engine's; the payloads inside it are the model's. A Command frame carries bytes of the
// model's command codec (`M::decode_command`), and a world event carries the model's encoding of
// the event (`M::encode`) with its payload type. `ServedWorld` is the seam between the two: the
// server speaks to it in bytes and players, and `WorldOf<M>` turns that into calls on a
// `world::World<M>`. A studio whose world is not a world::World (its own zones, say) implements
// ServedWorld itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <worldlog/net/frame.hpp>
#include <worldlog/net/protocol.hpp>
#include <worldlog/status.hpp>
#include <worldlog/world/world.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::net {

using zone::EntityId;
using zone::ZoneId;

/// One encoded frame, shared by every session it is sent to.
using Frame = std::shared_ptr<const std::string>;
/// One event shown to players, with the model's encoding of it, shared by every session it is
/// sent to.
using SharedEvent = std::shared_ptr<const WorldEvent>;

class ServedWorld {
public:
  virtual ~ServedWorld() = default;

  /// What a Welcome tells a client about the world.
  [[nodiscard]] virtual std::uint64_t seed() const = 0;
  [[nodiscard]] virtual ZoneId zone_count() const = 0;
  /// The zone where `player`'s character is (a new player's home zone).
  [[nodiscard]] virtual ZoneId zone_of(EntityId player) const = 0;

  /// Decodes `command` with the model's codec and submits it as `player`'s own, to the zone
  /// where its character is; `reply` gets the outcome (from a zone's strand or the log's
  /// commit thread). Errors: invalid_argument, naming what is wrong, when `command` does not
  /// decode: nothing was submitted and `reply` is not called.
  [[nodiscard]] virtual Status submit(EntityId player, std::uint64_t client_id,
                                      std::string_view command, zone::Reply reply) = 0;
  /// Shows `player` what it can see, wherever its character goes, until `disconnect`: each
  /// event made once however many players see it (the server writes a connection's queued
  /// events many to an Events frame). `sink` runs on a zone's strand.
  virtual void follow(EntityId player, std::function<void(const SharedEvent&)> sink) = 0;
  /// Ends `player`'s session and logs it out (world::LogoutReason::disconnected); `done` runs
  /// once that is durable, from a zone's strand or the log's commit thread. REQUIRES: every
  /// command submitted for the session has been answered.
  virtual void disconnect(EntityId player, std::function<void()> done) = 0;

  /// For /metrics: messages waiting in a zone's mailbox (0 while it restarts), and zones
  /// restarted so far.
  [[nodiscard]] virtual std::size_t mailbox_depth(ZoneId zone) const = 0;
  [[nodiscard]] virtual std::uint64_t zone_restarts() const = 0;
};

/// One broadcast as the protocol's WorldEvent, with the model's encoding of its event.
template <zone::GameModel M>
SharedEvent world_event(const zone::Broadcast<typename M::Event>& shown) {
  zone::EncodedEvent encoded = M::encode(shown.event);
  return std::make_shared<const WorldEvent>(
      WorldEvent{shown.zone, shown.seq, static_cast<std::uint8_t>(shown.actor.kind), shown.actor.id,
                 encoded.payload_type, std::move(encoded.payload)});
}

/// A world::World<M> as the server sees it.
template <world::PlayerModel M> class WorldOf final : public ServedWorld {
public:
  /// REQUIRES: `world` outlives this.
  explicit WorldOf(world::World<M>& world) : world_(world) {}

  [[nodiscard]] std::uint64_t seed() const override { return world_.options().seed; }
  [[nodiscard]] ZoneId zone_count() const override { return world_.options().zones; }
  [[nodiscard]] ZoneId zone_of(EntityId player) const override { return world_.zone_of(player); }

  Status submit(EntityId player, std::uint64_t client_id, std::string_view command,
                zone::Reply reply) override {
    auto decoded = M::decode_command(command);
    if (!decoded.ok()) return make_error(Errc::invalid_argument, "{}", decoded.error().message());
    // Every other error goes to `reply` as well.
    static_cast<void>(
        world_.submit_for(player, client_id, std::move(decoded).value(), std::move(reply)));
    return {};
  }

  void follow(EntityId player, std::function<void(const SharedEvent&)> sink) override {
    world_.follow(player,
                  [this, sink = std::move(sink)](const zone::Broadcast<typename M::Event>& shown) {
                    sink(encoded(shown, this));
                  });
  }

  void disconnect(EntityId player, std::function<void()> done) override {
    world_.disconnect(player, world::LogoutReason::disconnected, std::move(done));
  }

  [[nodiscard]] std::size_t mailbox_depth(ZoneId zone) const override {
    const auto running = world_.zones().zone(zone);
    return running ? running->mailbox_depth() : 0;
  }
  [[nodiscard]] std::uint64_t zone_restarts() const override { return world_.zones().restarts(); }

private:
  /// The event a zone of `world` is showing, encoded once for every session that sees it: a
  /// zone calls its viewers' sinks one after another on one thread, so the last encoding is the
  /// one the next sink of the same event wants.
  static const SharedEvent& encoded(const zone::Broadcast<typename M::Event>& shown,
                                    const WorldOf* world) {
    struct Last {
      const WorldOf* world = nullptr;
      ZoneId zone = 0;
      log::Seq seq = 0;
      SharedEvent event;
    };
    thread_local Last last;
    // Seq 0 is a view of what is there (Zone::show_view), one event per viewer: never reused.
    if (!last.event || shown.seq == 0 || last.world != world || last.zone != shown.zone ||
        last.seq != shown.seq) {
      last = {world, shown.zone, shown.seq, world_event<M>(shown)};
    }
    return last.event;
  }

  world::World<M>& world_;
};

} // namespace worldlog::net

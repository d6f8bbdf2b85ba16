// A zone of the reference game without the zone actor: commands go through decide, ticks
// through on_tick, and every accepted event through evolve, so rule tests read like scripts:
//
//   World w;
//   w.join(7);
//   w.move(7, {1500, 2000});
//   CHECK(w.rejection() == Reject::teleport);
//
// Every event is applied as the log would hand it back: encoded, decoded (and checked equal),
// then folded; all of them are kept, so a test can replay them from the initial state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/game/model.hpp>

#include "support/log_helpers.hpp"

namespace worldlog::game::test {

using worldlog::test::error_code;
using worldlog::test::error_message;

/// Zone 2 of 3, so both exits exist.
inline const zone::ZoneInfo default_info{.zone = 2, .zone_count = 3, .seed = 42};

inline constexpr log::Actor system_actor{log::ActorKind::system, 0};
[[nodiscard]] inline log::Actor player_actor(EntityId id) { return {log::ActorKind::player, id}; }

class World {
public:
  explicit World(zone::ZoneInfo info = default_info)
      : initial_(Model::initial_state(info)), state_(initial_) {}

  // ---- the clock ------------------------------------------------------------------------------

  [[nodiscard]] std::uint64_t tick() const noexcept { return tick_; }
  /// Moves the clock on without running the world's ticks.
  void advance(std::uint64_t ticks) noexcept { tick_ += ticks; }

  // ---- commands -------------------------------------------------------------------------------

  /// Decides `command` from `actor` at the current tick and applies the events if accepted.
  const Model::Decision& send(log::Actor actor, const Command& command) {
    // Through the command codec too, as a client's command arrives.
    const auto decoded = Model::decode_command(Model::encode_command(command));
    REQUIRE_OK(decoded);
    REQUIRE(decoded.value() == command);
    zone::Context context = context_now();
    last_ = Model::decide(state_, actor, command, context);
    emitted_.clear();
    for (const Event& event : last_.events)
      apply(event);
    return last_;
  }

  /// Each of these sends the command as player `id` itself.
  const Model::Decision& join(EntityId id) { return as(id, game::join(id)); }
  const Model::Decision& leave(EntityId id) { return as(id, game::leave(id)); }
  const Model::Decision& move(EntityId id, Point to) { return as(id, game::move(id, to)); }
  const Model::Decision& attack(EntityId id, EntityId target) {
    return as(id, game::attack(id, target));
  }
  const Model::Decision& pick_up(EntityId id, ItemId item) {
    return as(id, game::pick_up(id, item));
  }
  const Model::Decision& drop(EntityId id, ItemKind kind) { return as(id, game::drop(id, kind)); }
  const Model::Decision& use(EntityId id, ItemKind kind) { return as(id, game::use(id, kind)); }
  const Model::Decision& say(EntityId id, std::string text) {
    return as(id, game::say(id, std::move(text)));
  }
  const Model::Decision& as(EntityId id, const Command& command) {
    return send(player_actor(id), command);
  }

  /// The last decision's rejection code, nullopt when it was accepted.
  [[nodiscard]] std::optional<Reject> rejection() const {
    if (!last_.rejected()) return std::nullopt;
    return reject_of(*last_.rejection);
  }
  [[nodiscard]] bool rejected(Reject code) const { return rejection() == code; }
  [[nodiscard]] bool accepted() const { return !last_.rejected(); }
  /// The last rejection's reason ("" when accepted).
  [[nodiscard]] std::string reason() const {
    return last_.rejected() ? last_.rejection->reason : std::string();
  }
  /// The events of the last decision.
  [[nodiscard]] const std::vector<Event>& events() const noexcept { return last_.events; }

  // ---- ticks ----------------------------------------------------------------------------------

  /// Runs on_tick at the current tick, applies what it emitted, then advances the clock by one.
  const std::vector<Model::Emitted>& run_tick() {
    zone::Context context = context_now();
    emitted_ = Model::on_tick(state_, context);
    for (const auto& emitted : emitted_)
      apply(emitted.event);
    ++tick_;
    return emitted_;
  }
  /// Runs `n` ticks; returns everything they emitted.
  std::vector<Model::Emitted> run_ticks(std::uint64_t n) {
    std::vector<Model::Emitted> all;
    for (std::uint64_t i = 0; i < n; ++i)
      for (const auto& emitted : run_tick())
        all.push_back(emitted);
    return all;
  }
  /// Runs ticks until every mob spawn point has a live mob (at most 100 ticks).
  void populate() {
    for (int i = 0; i < 100 && live_mobs() < state_.map.mob_spawns.size(); ++i)
      static_cast<void>(run_tick());
    REQUIRE(live_mobs() == state_.map.mob_spawns.size());
  }

  // ---- state ----------------------------------------------------------------------------------

  /// Applies `event` as the log would hand it back (encoded, decoded) and records it.
  void apply(const Event& event) {
    const zone::EncodedEvent encoded = Model::encode(event);
    REQUIRE(encoded.payload_type == payload_type_of(event));
    const auto decoded = Model::decode(encoded.payload_type, encoded.payload);
    REQUIRE_OK(decoded);
    REQUIRE(decoded.value() == event);
    Model::evolve(state_, decoded.value());
    history_.push_back(event);
    payloads_.push_back(encoded.payload);
  }

  [[nodiscard]] const State& state() const noexcept { return state_; }
  [[nodiscard]] const Map& map() const noexcept { return state_.map; }
  /// Player `id`, which must be in the zone.
  [[nodiscard]] const Player& player(EntityId id) const {
    const Player* found = state_.player(id);
    REQUIRE_MESSAGE(found != nullptr, fmt::format("player {} is not in the zone", id));
    return *found;
  }
  /// Mob `id`, which must have spawned.
  [[nodiscard]] const Mob& mob(EntityId id) const {
    const Mob* found = state_.mob(id);
    REQUIRE_MESSAGE(found != nullptr, fmt::format("mob {} never spawned", id));
    return *found;
  }
  [[nodiscard]] std::size_t live_mobs() const {
    std::size_t live = 0;
    for (const auto& [id, mob] : state_.mobs)
      live += mob.dead ? 0 : 1;
    return live;
  }

  /// Every event applied so far, and their encoded payloads.
  [[nodiscard]] const std::vector<Event>& history() const noexcept { return history_; }
  [[nodiscard]] const std::vector<std::string>& payloads() const noexcept { return payloads_; }
  /// The state folded from scratch from the history (evolve only).
  [[nodiscard]] State replay() const {
    State folded = initial_;
    for (const Event& event : history_)
      Model::evolve(folded, event);
    return folded;
  }

  // ---- placing things directly, by events (as a crafted log would) ------------------------

  /// Puts player `id` at `at` (a Moved at the current tick), bypassing the default_rules.
  void place(EntityId id, Point at) { apply(Moved{id, at, tick_}); }
  /// Puts mob `id` at `at`, bypassing the AI.
  void place_mob(EntityId id, Point at) { apply(MobMoved{id, at}); }
  /// Drops a new ground item of `kind` at `at` as loot of nobody; returns its id.
  ItemId put_item(ItemKind kind, Point at) {
    const ItemId id = state_.next_item_id;
    apply(LootDropped{0, id, kind, at, tick_});
    return id;
  }
  /// Gives player `id` one item of `kind` (dropped at its feet, then picked up).
  void give(EntityId id, ItemKind kind) {
    const ItemId item = put_item(kind, player(id).at);
    apply(PickedUp{id, item, kind});
  }

private:
  zone::Context context_now() {
    zone::Context context;
    context.info = state_.info;
    context.tick = tick_;
    context.now_us = static_cast<std::int64_t>(tick_ * state_.info.tick_us);
    // Like the zone: a seed from the world seed and how many decisions came before.
    context.rng = zone::Rng(state_.info.seed * 1'000'003 + decisions_++);
    return context;
  }

  State initial_;
  State state_;
  std::uint64_t tick_ = 1000;
  std::uint64_t decisions_ = 0;
  Model::Decision last_;
  std::vector<Model::Emitted> emitted_;
  std::vector<Event> history_;
  std::vector<std::string> payloads_;
};

/// The first event of type E in `events`, or nullptr.
template <typename E> [[nodiscard]] const E* find_event(const std::vector<Event>& events) {
  for (const Event& event : events)
    if (const E* found = std::get_if<E>(&event)) return found;
  return nullptr;
}
template <typename E> [[nodiscard]] const E* find_event(const std::vector<Model::Emitted>& all) {
  for (const auto& emitted : all)
    if (const E* found = std::get_if<E>(&emitted.event)) return found;
  return nullptr;
}
/// How many events of type E are in `events`.
template <typename E> [[nodiscard]] std::size_t count_events(const std::vector<Event>& events) {
  std::size_t n = 0;
  for (const Event& event : events)
    n += std::holds_alternative<E>(event) ? 1 : 0;
  return n;
}
template <typename E>
[[nodiscard]] std::size_t count_events(const std::vector<Model::Emitted>& all) {
  std::size_t n = 0;
  for (const auto& emitted : all)
    n += std::holds_alternative<E>(emitted.event) ? 1 : 0;
  return n;
}

/// Whether the items in the zone of `state` are what its ledger says came in and did not go out.
[[nodiscard]] inline bool items_balanced(const State& state) {
  const ItemLedger& l = state.item_ledger;
  return state.items_in_zone() + l.used + l.expired + l.carried_out == l.created + l.carried_in;
}

/// The player most fixtures are about.
inline constexpr EntityId hero = 7;

/// The middle row's lane, where the east and west edges are free.
[[nodiscard]] inline std::int64_t lane_y(const World& w) { return w.map().spawn.y; }

/// Walks `id` out of `w`'s zone through its east edge (or west) along the lane; the Departed.
inline Departed walk_out(World& w, EntityId id, bool east = true) {
  const std::int64_t edge = east ? w.map().width_mm() : 0;
  w.place(id, {east ? edge - 300 : edge + 300, lane_y(w)});
  w.advance(4);
  w.move(id, {east ? edge + 200 : edge - 200, lane_y(w)});
  REQUIRE_MESSAGE(w.accepted(), w.reason());
  REQUIRE(w.events().size() == 1);
  return std::get<Departed>(w.events().front());
}

/// A world in which `hero` has joined.
[[nodiscard]] inline World with_hero() {
  World w;
  w.join(hero);
  return w;
}

/// The names of `events`, for readable comparisons: {"Attacked", "Died", "LevelUp"}.
[[nodiscard]] inline std::vector<std::string> names_of(const std::vector<Event>& events) {
  std::vector<std::string> names;
  for (const Event& event : events)
    names.emplace_back(Model::event_name(event));
  return names;
}

/// A free tile centre next to a rock within `radius` tiles of `near`, and the rock's centre.
struct RockEdge {
  Point free;
  Point rock;
};
[[nodiscard]] inline RockEdge rock_next_to_lane(const Map& map, Point near, int radius = 12) {
  const auto cx = static_cast<std::int32_t>(near.x / default_rules.tile_mm);
  const auto cy = static_cast<std::int32_t>(near.y / default_rules.tile_mm);
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx) {
      const std::int32_t tx = cx + dx;
      const std::int32_t ty = cy + dy;
      if (tx < 1 || ty < 1 || tx >= map.width - 1 || ty >= map.height - 1) continue;
      if (!map.rock(tx, ty) || map.rock(tx - 1, ty)) continue;
      return {map.tile_centre(tx - 1, ty), map.tile_centre(tx, ty)};
    }
  FAIL("no rock near " << near.x << "," << near.y);
  return {};
}

} // namespace worldlog::game::test

namespace doctest {
template <> struct StringMaker<std::optional<worldlog::game::Reject>> {
  static String convert(const std::optional<worldlog::game::Reject>& code) {
    return code ? String(fmt::format("Reject::{}", *code).c_str()) : String("accepted");
  }
};
template <> struct StringMaker<worldlog::game::Reject> {
  static String convert(worldlog::game::Reject code) {
    return String(fmt::format("Reject::{}", code).c_str());
  }
};
template <> struct StringMaker<worldlog::zone::Point> {
  static String convert(const worldlog::zone::Point& p) {
    return String(fmt::format("{}", p).c_str());
  }
};
} // namespace doctest

// A scripted player: the brain of the demo's bots, and of the network bots to come.
//
// A bot knows only what a client can know: the broadcasts its player receives (the events
// within the view radius, its own always), the outcomes of its own commands, and the map, which
// is a pure function of the zone (`map_for`). It never reads a zone's State, so the same brain
// can sit behind a socket. From that picture (`BotView`) it picks its next command: drink when
// hurt, pick up what lies at its feet, hit a mob in reach, chat now and then, and otherwise walk
// (to a mob, to loot, to the quest's waypoint, through an exit into the next zone, or anywhere)
// along a path around the rocks, in steps the speed rule allows, so that nearly every command
// it sends is accepted.
//
//   Bot bot(7, {.zone = 1, .zone_count = 4, .seed = 1});
//   zone.subscribe(7, bot.view().me.at, [&](const auto& b) { bot.see(b); });
//   if (auto command = bot.next(tick, rng)) submit(bot.zone(), *command, [&](auto outcome) {
//     bot.on_outcome(outcome, current_tick());
//   });
//
// Not thread-safe: feed it from one thread at a time (the demo holds a mutex per bot).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include <worldlog/game/model.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/records.hpp>
#include <worldlog/zone/zone.hpp>

namespace worldlog::game {

/// A live mob as the player last saw it.
struct SeenMob {
  MobKind kind = MobKind::wolf;
  Point at;
};

/// A ground item as the player last saw it.
struct SeenItem {
  ItemKind kind = ItemKind::potion;
  Point at;
};

/// The client-side picture of one player, built from broadcasts and outcomes only.
struct BotView {
  /// The player as last seen. Until its own event confirms them, `last_move_tick` and
  /// `next_attack_tick` are upper bounds taken when the outcome arrived, so that a bot never
  /// counts on more speed or an earlier attack than the rules will grant.
  Player me;
  ZoneId zone = 0;                  ///< the zone the player is in, or is being handed to
  bool joined = false;              ///< in a zone (alive or dead), or on its way into one
  bool arriving = false;            ///< departed, not yet seen arriving in `zone`
  std::map<EntityId, SeenMob> mobs; ///< live mobs seen within the view radius
  std::map<ItemId, SeenItem> items; ///< ground items seen within the view radius
};

struct BotOptions {
  std::uint32_t say_percent = 3;             ///< chance per idle decision to Say something
  std::uint32_t exit_percent = 25;           ///< chance that a new goal is an exit to a zone
  std::uint32_t waypoint_percent = 35;       ///< chance that it is the quest's waypoint
  std::int64_t hunt_radius_mm = 10'000;      ///< a healthy bot walks to mobs nearer than this
  std::int64_t loot_radius_mm = 12'000;      ///< and to items nearer than this
  std::int32_t wander_tiles = 12;            ///< a wandering goal is at most this far away
  std::int64_t view_radius_mm = 20'000;      ///< the zones' view radius: nothing farther is seen
  std::uint64_t answer_timeout_ticks = 100;  ///< an unanswered command is given up after this
  std::uint64_t arrival_timeout_ticks = 100; ///< an unseen arrival is assumed after this
  std::uint64_t retry_ticks = 20;            ///< wait before retrying a failed Join or Leave
};

class Bot {
public:
  /// A bot for player `self`, which joins `home.zone` (the map follows from `home`).
  /// REQUIRES: is_player_id(self); home.zone in 1..home.zone_count.
  Bot(EntityId self, const zone::ZoneInfo& home, BotOptions options = {});

  /// Folds a broadcast the player received. Broadcasts of a zone other than `zone()` are late
  /// news of a zone it left, and are ignored.
  void see(const zone::Broadcast<Event>& broadcast);
  /// Folds the answer to the command `next` returned last, received at `tick` (the zone's tick
  /// clock); an answer when no command is waiting is ignored.
  void on_outcome(const Result<zone::Outcome>& outcome, std::uint64_t tick);

  /// The command to send at `tick`, or nullopt: waiting for an answer, a respawn, an arrival,
  /// a cooldown, or for the speed allowance to build up. At most one command is in flight: the
  /// next comes after `on_outcome`, or after `answer_timeout_ticks` for a command that is never
  /// answered (a zone that fails drops the commands still in its mailbox). Draws its whims
  /// from `rng`.
  [[nodiscard]] std::optional<Command> next(std::uint64_t tick, zone::Rng& rng);

  /// From now on the bot only leaves: `next` returns Leave once it can, then nothing.
  void log_out() noexcept { logging_out_ = true; }
  /// True once the bot logged out and its Leave was accepted.
  [[nodiscard]] bool logged_out() const noexcept { return logging_out_ && !view_.joined; }

  [[nodiscard]] const BotView& view() const noexcept { return view_; }
  /// Where to send its commands and where to subscribe it as a viewer.
  [[nodiscard]] ZoneId zone() const noexcept { return view_.zone; }
  [[nodiscard]] EntityId self() const noexcept { return view_.me.id; }

private:
  struct Fold;

  [[nodiscard]] std::optional<Command> issue(Command command, std::uint64_t tick);
  [[nodiscard]] std::optional<Command> act(std::uint64_t tick, zone::Rng& rng);
  [[nodiscard]] std::optional<Command> walk(std::uint64_t tick, zone::Rng& rng);
  void apply_accepted(const Command& command, const zone::Outcome& outcome, std::uint64_t tick);
  void apply_rejected(const Command& command, Reject reason, std::uint64_t tick);
  /// The player walked out towards `to`, leaving the map at `exit_point`.
  void begin_handoff(ZoneId to, Point exit_point, std::uint64_t tick);
  /// The player stands somewhere new: what it saw far from there is out of sight now.
  void moved_to(Point at);
  void choose_goal(zone::Rng& rng);
  /// Whether it would pick up an item of `kind` (room in the inventory, and use for it).
  [[nodiscard]] bool wants(ItemKind kind) const;

  zone::ZoneInfo info_; ///< of the zone the player is in (or arriving in)
  Rules rules_;         ///< the rules info_ names (the defaults when it names none)
  Map map_;             ///< map_for(info_)
  BotOptions options_;
  BotView view_;

  std::optional<Command> pending_;  ///< sent, not yet answered
  std::uint64_t pending_since_ = 0; ///< tick it was sent
  ZoneId pending_zone_ = 0;         ///< zone it was sent to
  /// First seq of the newest accepted command: own events before it are older news than what
  /// its outcome already told, and must not roll the position or cooldown back.
  log::Seq newest_first_seq_ = 0;
  std::uint64_t arriving_since_ = 0; ///< tick the departure was accepted
  std::uint64_t wait_until_ = 0;     ///< no command before this tick (a retry's backoff)
  bool rejoin_ = false;              ///< Join was refused as already joined: Leave, then Join
  bool logging_out_ = false;
  std::optional<Point> goal_; ///< where it walks when nothing nearer calls
};

} // namespace worldlog::game

// The contract between a zone and the game it runs: the `GameModel` concept.
//
// A zone is generic over a model. The model owns every rule of the game: it decides what a
// command means against the current state (`decide`), what the world does on its own each tick
// (`on_tick`: mob AI, respawns), and how an event changes the state (`evolve`, the only way
// state ever changes). The zone owns everything else: the mailbox, the log, durability,
// idempotency, snapshots, broadcasts and handoffs. Nothing in zone/ knows players or swords.
//
// The rules that keep replay exact:
//   - `evolve` is a pure function of (state, event): no clock, no RNG, no I/O, no globals;
//   - chance and time are decided in `decide`/`on_tick`, from `Context`, and recorded in the
//     event, so a replay never re-rolls;
//   - no floating point in state or rules: positions are integer millimetres;
//   - no iteration over unordered containers where order can change a result or the hash.
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>

namespace worldlog::zone {

/// A zone's number (1..N); it is also the zone's stream id in the log.
using ZoneId = log::StreamId;
/// An entity a model may hand from one zone to another, or show to viewers.
using EntityId = std::uint64_t;

/// A point in a zone, in millimetres. Integers only: replay must not depend on rounding.
struct Point {
  std::int64_t x = 0;
  std::int64_t y = 0;

  friend constexpr auto operator<=>(const Point&, const Point&) = default;
};

/// A small deterministic generator (SplitMix64): the same seed gives the same numbers on every
/// compiler and platform. Models draw from it only in `decide` and `on_tick`, and record what
/// they drew in the events.
class Rng {
public:
  explicit constexpr Rng(std::uint64_t seed) noexcept : state_(seed) {}

  /// The next 64 random bits.
  constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// A number in [0, bound). REQUIRES: bound > 0. (The modulo bias is irrelevant for games.)
  constexpr std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }
  /// A number in [low, high]. REQUIRES: low <= high.
  constexpr std::int64_t between(std::int64_t low, std::int64_t high) noexcept {
    return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
  }

private:
  std::uint64_t state_;
};

/// What a zone knows about itself, fixed for its lifetime and recorded in its first event.
struct ZoneInfo {
  ZoneId zone = 1;                ///< this zone
  ZoneId zone_count = 1;          ///< zones of the world, numbered 1..zone_count
  std::uint64_t seed = 0;         ///< world seed; models derive maps and spawns from it
  std::uint64_t tick_us = 50'000; ///< length of one tick (default 20 Hz)
  /// The model's own settings, opaque to the zone (the reference game reads "mobs=N"); part
  /// of the configuration every zone records in its genesis event.
  std::string model_config{};
  /// The model's rules description, opaque to the zone (the reference game's: a rules file,
  /// docs/rules.md); empty = the model's built-in defaults. Recorded in the genesis event; a
  /// zone that finds its stream created under other rules runs those (and whatever rules
  /// changes its log recorded since), not these.
  std::string rules{};
};

/// Everything `decide` and `on_tick` may depend on besides the state and the command. The
/// zone seeds `rng` from (world seed, zone, the seq the decision will get, tick), so the same
/// inputs give the same events, also after a restart.
struct Context {
  ZoneInfo info;
  std::uint64_t tick = 0;  ///< current tick of the zone (now / tick_us)
  std::int64_t now_us = 0; ///< the injected clock, µs since the epoch
  Rng rng{0};
};

/// The tick of a zone at `now_us` (µs since the epoch): its tick count since the epoch.
[[nodiscard]] constexpr std::uint64_t tick_at(const ZoneInfo& info, std::int64_t now_us) noexcept {
  return now_us <= 0
             ? 0
             : static_cast<std::uint64_t>(now_us) / std::max<std::uint64_t>(info.tick_us, 1);
}

/// The context of a decision of zone `info` at `tick` and `now_us` whose first event gets
/// `seq`. Its randomness is a function of where the decision lands in the log, so the same
/// inputs give the same events, also after a restart, and a what-if replay draws the same
/// chances (replay/whatif.hpp).
[[nodiscard]] inline Context decision_context(const ZoneInfo& info, log::Seq seq,
                                              std::uint64_t tick, std::int64_t now_us) {
  Rng mixer(info.seed ^ (info.zone * 0x9e3779b97f4a7c15ULL));
  const std::uint64_t seed = mixer.next() ^ (seq * 0xbf58476d1ce4e5b9ULL) ^ tick;
  return Context{info, tick, now_us, Rng(seed)};
}

/// Why a command was refused. `code` is the model's stable reason code (clients and audits
/// branch on it); `reason` is a human-readable sentence naming what was wrong.
struct Rejection {
  std::uint32_t code = 0;
  std::string reason;
};

/// The outcome of `decide`: the events to append (possibly none), or a rejection.
template <typename Event> struct Decision {
  std::vector<Event> events;
  std::optional<Rejection> rejection;

  [[nodiscard]] static Decision accept(std::vector<Event> events) {
    return Decision{std::move(events), std::nullopt};
  }
  [[nodiscard]] static Decision reject(std::uint32_t code, std::string reason) {
    return Decision{{}, Rejection{code, std::move(reason)}};
  }
  [[nodiscard]] bool rejected() const noexcept { return rejection.has_value(); }
};

/// An event the world decided on its own (mob AI, a respawn), with the actor it is recorded
/// under in the log (a mob, or the system).
template <typename Event> struct Emitted {
  log::Actor actor;
  Event event;
};

/// An event as the log stores it: the model's type tag, the version of that type's schema the
/// bytes are in, and its encoded bytes.
struct EncodedEvent {
  std::uint32_t payload_type = 0;
  std::string payload;
  std::uint16_t version = 1; ///< the payload's schema version (zone::event_version)
};

/// The schema version of one payload type: the version a model encodes it at today.
struct EventVersion {
  std::uint32_t payload_type = 0;
  std::uint16_t version = 1;

  friend constexpr auto operator<=>(const EventVersion&, const EventVersion&) = default;
};

/// The model events one stored event stands for: one, or, when it was upcast from an older
/// schema version, zero or more, in order. One is held inline, so decoding a current event does
/// not allocate; only a second one moves them to the heap.
template <typename Event> class Events {
public:
  Events() = default;
  explicit Events(Event event) : one_(std::move(event)) {}

  void push_back(Event event) {
    if (empty()) {
      one_.emplace(std::move(event));
      return;
    }
    if (one_) {
      many_.reserve(2);
      many_.push_back(std::move(*one_));
      one_.reset();
    }
    many_.push_back(std::move(event));
  }

  [[nodiscard]] bool empty() const noexcept { return !one_ && many_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return one_ ? 1 : many_.size(); }
  [[nodiscard]] const Event* begin() const noexcept { return one_ ? &*one_ : many_.data(); }
  [[nodiscard]] const Event* end() const noexcept { return begin() + size(); }
  [[nodiscard]] const Event& operator[](std::size_t i) const noexcept { return begin()[i]; }
  [[nodiscard]] const Event& front() const noexcept { return *begin(); }

private:
  std::optional<Event> one_;
  std::vector<Event> many_; ///< when there are two or more
};

/// Where an event can be seen: the entity it is about and where that entity is after it.
/// The zone moves the entity's viewpoint there (if it is a viewer) and broadcasts the event to
/// every viewer within the zone's view radius of `at`.
struct Located {
  EntityId subject = 0;
  Point at;
};

/// An entity leaving one zone for another, as the departure event recorded it. The zone
/// delivers `arrive` to zone `to`; once `to` has accepted it (or had already accepted it), it
/// delivers `complete` back to `from`. Delivery is repeated after a crash until `from` has
/// recorded the completion, and the model accepts a repeated `arrive` for an `epoch` it has
/// already seen without appending anything, so the entity is neither lost nor duplicated.
template <typename Command> struct Handoff {
  ZoneId from = 0;
  ZoneId to = 0;
  EntityId entity = 0;
  std::uint64_t epoch = 0; ///< ownership epoch: +1 on every handoff of the entity
  Command arrive;          ///< decided by `to`, issued by the system actor
  Command complete;        ///< decided by `from`, issued by the system actor
};

/// Payload types at or above this value are the zone's own events (its genesis record, a
/// rejected command); a model's payload types stay below it.
inline constexpr std::uint32_t zone_payload_types = 0xffff0000;

// clang-format off
/// A game model: static functions over its own State, Command and Event types.
template <typename M>
concept GameModel = requires(typename M::State& state, const typename M::State& cstate,
                             const typename M::Command& command,
                             const typename M::Event& event, const ZoneInfo& info,
                             const log::Actor& actor, Context& context,
                             std::uint32_t payload_type, std::string_view bytes) {
  typename M::State;   // the folded world of one zone; copyable
  typename M::Command; // what a client asks for; copyable
  typename M::Event;   // what happened; copyable
  /// The model's name and rules version, recorded in every zone's first event and every event.
  { M::name } -> std::convertible_to<std::string_view>;
  { M::rules_version } -> std::convertible_to<std::uint32_t>;

  /// The state of a zone before its first event.
  { M::initial_state(info) } -> std::same_as<typename M::State>;
  /// What `command`, sent by `actor`, does now: events, or a rejection. Pure but for `context`.
  { M::decide(cstate, actor, command, context) } -> std::same_as<Decision<typename M::Event>>;
  /// What the world does by itself on a tick (mob AI, respawns). Usually nothing.
  { M::on_tick(cstate, context) } -> std::same_as<std::vector<Emitted<typename M::Event>>>;
  /// Applies one event. Pure; the only way state changes.
  { M::evolve(state, event) } -> std::same_as<void>;

  /// Event and command codecs (FlatBuffers). decode* fail with corruption, naming the type.
  { M::encode(event) } -> std::same_as<EncodedEvent>;
  { M::decode(payload_type, bytes) } -> std::same_as<Result<typename M::Event>>;
  { M::encode_command(command) } -> std::same_as<std::string>;
  { M::decode_command(bytes) } -> std::same_as<Result<typename M::Command>>;
  /// Short names for summaries and audits: "Moved", "Attack".
  { M::event_name(event) } -> std::convertible_to<std::string_view>;
  { M::command_name(command) } -> std::convertible_to<std::string_view>;

  /// The whole state as canonical bytes (equal states give equal bytes), and back.
  { M::snapshot(cstate) } -> std::same_as<std::string>;
  { M::restore(bytes) } -> std::same_as<Result<typename M::State>>;
  /// Canonical hash of the state: equal on every compiler and optimisation level.
  { M::hash(cstate) } -> std::same_as<log::Hash>;
  /// The state for tools and tests.
  { M::to_json(cstate) } -> std::same_as<boost::json::value>;

  /// Where `event` (already applied to `cstate`) can be seen; nullopt = not broadcast.
  { M::locate(cstate, event) } -> std::same_as<std::optional<Located>>;
  /// The handoff that `event` (already applied) started, if it is a departure.
  { M::handoff(cstate, event) } -> std::same_as<std::optional<Handoff<typename M::Command>>>;
  /// Departures recorded but not yet completed, in a deterministic order (for recovery).
  { M::pending_handoffs(cstate) } -> std::same_as<std::vector<Handoff<typename M::Command>>>;
};

/// Versioned event payloads (optional). Every stored event carries the schema version of its
/// payload (log::EventView::payload_version(); 1 for events written before versions existed).
/// A model whose payloads never changed declares nothing, and every payload type is at
/// version 1. A model that changed the meaning or shape of a payload type declares:
///
///   // The types above version 1, ascending by payload type: {Died::type, 2}.
///   static constexpr std::array<zone::EventVersion, N> event_versions{...};
///   // The current events a payload of `payload_type` stored at `stored_version` (older than
///   // the current version) stands for: one, several (a split) or none (a retired type).
///   static Result<std::vector<Event>> upcast(std::uint32_t payload_type,
///                                            std::uint16_t stored_version,
///                                            std::string_view bytes);
///
/// `decode` reads only current versions; `upcast` reads the older ones and must be pure (a
/// function of its arguments), since every read of the log calls it: the zone's recovery,
/// replay, verify, audit, export and the viewer all decode through zone::decode_stream_event.
/// Stored bytes never change, so the hash chain stays valid. A snapshot records the model's
/// event_versions and is not restored under other ones (the zone refolds the events instead).
template <typename M>
concept VersionsEvents = GameModel<M> && requires(std::uint32_t payload_type,
                                                  std::uint16_t stored_version,
                                                  std::string_view bytes) {
  { std::span<const EventVersion>(M::event_versions) };
  { M::upcast(payload_type, stored_version, bytes) }
      -> std::same_as<Result<std::vector<typename M::Event>>>;
};

/// Which rules: a description's version and the SHA-256 of its canonical form.
struct RulesId {
  std::uint32_t version = 0;
  log::Hash hash{};

  friend bool operator==(const RulesId&, const RulesId&) = default;
};

/// A model whose rules are data (optional): it parses a rules description, names rules by
/// version and hash, holds the rules in force in its state and records a change of rules as
/// an event. The tools use it to report which rules decided each span of a stream (replay
/// verify) and to re-decide a stream under other rules (replay whatif).
template <typename M>
concept RulesAsData = GameModel<M> && requires(typename M::State& state,
                                               const typename M::State& cstate,
                                               const typename M::Rules& rules,
                                               std::string_view text,
                                               const typename M::Event& event) {
  typename M::Rules;
  /// A rules file (ZoneInfo::rules); errors name the field.
  { M::parse_rules(text) } -> std::same_as<Result<typename M::Rules>>;
  { M::rules_id(rules) } -> std::same_as<RulesId>;
  /// The rules in force in `cstate`.
  { M::rules_of(cstate) } -> std::same_as<const typename M::Rules&>;
  /// The same world under other rules.
  { M::set_rules(state, rules) } -> std::same_as<void>;
  /// A RulesChanged event's new rules; nullopt for every other event.
  { M::rules_changed(event) } -> std::same_as<std::optional<RulesId>>;
};
// clang-format on

/// The payload types of M above version 1 with their versions, ascending by payload type
/// (empty when M versions nothing).
template <GameModel M> [[nodiscard]] constexpr std::span<const EventVersion> event_versions() {
  if constexpr (VersionsEvents<M>) {
    return std::span<const EventVersion>(M::event_versions);
  } else {
    return {};
  }
}

/// The schema version M encodes and decodes `payload_type` at: 1 unless M declares another.
template <GameModel M>
[[nodiscard]] constexpr std::uint16_t event_version(std::uint32_t payload_type) {
  for (const EventVersion& declared : event_versions<M>()) {
    if (declared.payload_type == payload_type) return declared.version;
  }
  return 1;
}

/// The rules a genesis names: ZoneInfo::rules parsed, or the model's defaults (parse_rules of
/// an empty object) when it is empty.
template <RulesAsData M>
[[nodiscard]] Result<typename M::Rules> genesis_rules(const ZoneInfo& info) {
  return M::parse_rules(info.rules.empty() ? std::string_view("{}") : std::string_view(info.rules));
}

/// The rules version an event decided now in `state` is stamped with: the version in force
/// when the model says (`M::rules_version_of(state)`), else the code's `M::rules_version`.
template <GameModel M>
[[nodiscard]] std::uint32_t rules_version_in(const typename M::State& state) {
  if constexpr (requires { M::rules_version_of(state); }) {
    return M::rules_version_of(state);
  } else {
    return M::rules_version;
  }
}

} // namespace worldlog::zone

template <> struct fmt::formatter<worldlog::zone::Point> : fmt::formatter<std::string_view> {
  auto format(const worldlog::zone::Point& point, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "({}, {})", point.x, point.y);
  }
};

// One game model as the log tools see it. The model-generic commands of worldlog::tools
// (`replay`, `audit player`, `replay export`) call a model through the ModelTools interface, so
// that one binary serves the streams of every model it knows, each with its own; the model of a
// stream is the one its genesis event names. ModelToolsFor<M> implements the interface for any
// model from the replay library's templates; Models::add<M> (cli.hpp) makes one.
//
// What the tools print about a record comes from the model itself, through
// zone::describe_event<M> (worldlog/zone/describe.hpp: event and command fields, reason names);
// what a model brings besides is in ModelPlugins<M>: the invariants `replay bisect` checks.
//
// Every call runs on the caller's thread and only reads the log, so a log opened read-only
// beside its writer serves them all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <worldlog/log/event.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/behaviour.hpp>
#include <worldlog/replay/bisect.hpp>
#include <worldlog/replay/diff.hpp>
#include <worldlog/replay/progress.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>
#include <worldlog/replay/whatif.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::tools {

/// What model M brings to the tools besides itself.
template <zone::GameModel M> struct ModelPlugins {
  /// What `replay bisect --invariant NAME` can check on M's zones (e.g. game::invariants()).
  replay::Invariants<M> invariants{};
  /// The signals `analyze` counts for M's events besides the generic ones (e.g.
  /// game::behaviour_signals); none: the generic ones only.
  replay::BehaviourHook<M> behaviour{};
};

/// An invariant's name and its line for people.
struct InvariantInfo {
  std::string name;
  std::string description;
};

/// A rebuilt state of a zone and what the tools print about it, without the model's types.
struct StateAt {
  log::Seq seq = 0;              ///< the state is the state after this event
  std::int64_t wall_time_us = 0; ///< of event `seq`
  log::Seq from_snapshot = 0;    ///< the snapshot the fold started from (0: from scratch)
  std::uint64_t folded = 0;      ///< events folded after it
  log::Hash hash{};              ///< M::hash of the state
  boost::json::value state{};    ///< M::to_json of the state
};

/// Two states of a zone and what changed between them.
struct StateDiff {
  StateAt from;
  StateAt to;
  std::vector<replay::Change> changes; ///< replay::diff of their `state`s
};

/// A zone's state kept at the head of its stream, for the viewer's live map: it folds the
/// zone's new events when asked (replay::Cursor), reading the log only. Not thread-safe.
class ZoneFollower {
public:
  virtual ~ZoneFollower() = default;
  /// Folds up to `limit` events appended since the last call (a read-only log shows what it
  /// held at its last refresh). Returns whether the state moved. Errors: those of
  /// replay::Cursor::next; the state stays where it was.
  [[nodiscard]] virtual Result<bool> advance(std::uint64_t limit) = 0;
  /// The seq of the state: the state after this event.
  [[nodiscard]] virtual log::Seq seq() const noexcept = 0;
  /// The state as the viewer's frame: {"zone", "seq", "wall_time_us", "hash", "state"}.
  [[nodiscard]] virtual boost::json::object frame() const = 0;
};

/// A model as the tools call it. Implemented by ModelToolsFor<M>; an embedder has no need to
/// implement it by hand.
class ModelTools {
public:
  /// Called by step() for each event shown, with M::to_json of the state before it (null before
  /// seq 1) and after it, and the state hash after it.
  using StepVisitor =
      std::function<void(const log::EventView& event, const boost::json::value& before,
                         const boost::json::value& after, const log::Hash& hash_after)>;

  virtual ~ModelTools() = default;

  /// M::name: what a zone's genesis records, and how a stream finds its model.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// M::rules_version: the rules this binary runs.
  [[nodiscard]] virtual std::uint32_t rules_version() const noexcept = 0;
  /// The invariants `replay bisect` can check, in the order they were added.
  [[nodiscard]] virtual std::vector<InvariantInfo> invariants() const = 0;

  /// A record of one of M's zones for people: zone::describe_event<M>.
  [[nodiscard]] virtual std::optional<boost::json::value>
  describe(const log::EventView& event) const = 0;
  /// "ZoneCreated", "CommandRejected" or M's name of the event; "undecodable" for a record that
  /// does not decode as one of M's.
  [[nodiscard]] virtual std::string event_name(const log::EventView& event) const = 0;

  /// A record of one of M's zones as the behaviour projection counts it: replay::observe<M> with
  /// M's behaviour hook. Errors: those of zone::decode_stream_event<M>.
  [[nodiscard]] virtual Result<replay::Observation> observe(const log::EventView& event) const = 0;

  /// The state after event `seq` (replay::Replayer<M>::state_at). Errors: those of state_at.
  [[nodiscard]] virtual Result<StateAt> state_at(const log::EventLog& log, zone::ZoneId zone,
                                                 log::Seq seq,
                                                 const replay::Progress& progress) const = 0;
  /// The state after the last event at or before a wall time (Replayer<M>::state_at_time).
  /// Errors: not_found when the zone's first event is later; those of state_at_time.
  [[nodiscard]] virtual Result<StateAt> state_at_time(const log::EventLog& log, zone::ZoneId zone,
                                                      std::int64_t wall_time_us,
                                                      const replay::Progress& progress) const = 0;
  /// Events `from`, `from` + 1, ... (at most `count`, stopping at the head), each given to
  /// `visit` with the states around it. Returns the seq of the last event shown. Errors: those
  /// of Replayer<M>::cursor and Cursor<M>::next.
  [[nodiscard]] virtual Result<log::Seq> step(const log::EventLog& log, zone::ZoneId zone,
                                              log::Seq from, std::uint64_t count,
                                              const StepVisitor& visit,
                                              const replay::Progress& progress) const = 0;
  /// The states after `from` and after `to` (the second folded on from the first when no
  /// snapshot is nearer), and what changed. Errors: those of Replayer<M>::state_at.
  [[nodiscard]] virtual Result<StateDiff> diff(const log::EventLog& log, zone::ZoneId zone,
                                               log::Seq from, log::Seq to,
                                               const replay::Progress& progress) const = 0;
  /// replay::verify_stream<M>: problems are in the verdict, never errors.
  [[nodiscard]] virtual replay::StreamVerdict
  verify(const log::EventLog& log, zone::ZoneId zone,
         const replay::VerifyOptions& options) const = 0;
  /// replay::bisect with the invariant named `invariant`, up to seq `to`. Errors: not_found
  /// for an invariant M's plug-ins do not have; those of replay::bisect.
  [[nodiscard]] virtual Result<replay::Bisection>
  bisect(const log::EventLog& log, zone::ZoneId zone, std::string_view invariant, log::Seq to,
         const replay::Progress& progress) const = 0;

  /// replay::what_if<M> of events [from, to] under the rules described by `rules` (a rules
  /// file's text), as replay::to_json of its report. Errors: not_supported for a model without
  /// rules as data (zone::RulesAsData); the parse error naming what is wrong in `rules`; those
  /// of replay::what_if.
  [[nodiscard]] virtual Result<boost::json::object> what_if(const log::EventLog& log,
                                                            zone::ZoneId zone, log::Seq from,
                                                            log::Seq to,
                                                            std::string_view rules) const = 0;

  /// The map of a zone for the viewer: zone::map_json<M>, {} when M draws none.
  [[nodiscard]] virtual boost::json::object map(const zone::ZoneInfo& info) const = 0;
  /// A follower of the zone, on the state at its head now. Errors: those of
  /// Replayer<M>::cursor (not_found for a zone without events).
  /// REQUIRES: `log` outlives the follower.
  [[nodiscard]] virtual Result<std::unique_ptr<ZoneFollower>> follow(const log::EventLog& log,
                                                                     zone::ZoneId zone) const = 0;
};

/// The ZoneFollower of model M, on a replay::Cursor.
template <zone::GameModel M> class ZoneFollowerFor final : public ZoneFollower {
public:
  explicit ZoneFollowerFor(replay::Cursor<M> cursor) : cursor_(std::move(cursor)) {}

  [[nodiscard]] Result<bool> advance(std::uint64_t limit) override {
    bool moved = false;
    for (std::uint64_t i = 0; i < limit; ++i) {
      auto next = cursor_.next();
      if (!next.ok()) return std::move(next).error();
      if (!*next) break;
      moved = true;
    }
    return moved;
  }

  [[nodiscard]] log::Seq seq() const noexcept override { return cursor_.current().seq; }

  [[nodiscard]] boost::json::object frame() const override {
    const replay::Replayed<M>& current = cursor_.current();
    return {{"zone", current.info.zone},
            {"seq", current.seq},
            {"wall_time_us", current.wall_time_us},
            {"hash", log::to_hex(M::hash(current.state))},
            {"state", M::to_json(current.state)}};
  }

private:
  replay::Cursor<M> cursor_;
};

/// ModelTools for model M, from replay::Replayer<M> and the plug-ins.
template <zone::GameModel M> class ModelToolsFor final : public ModelTools {
public:
  explicit ModelToolsFor(ModelPlugins<M> plugins = {}) : plugins_(std::move(plugins)) {}

  [[nodiscard]] std::string_view name() const noexcept override { return M::name; }
  [[nodiscard]] std::uint32_t rules_version() const noexcept override { return M::rules_version; }

  [[nodiscard]] std::vector<InvariantInfo> invariants() const override {
    std::vector<InvariantInfo> infos;
    for (const auto& invariant : plugins_.invariants.all())
      infos.push_back({invariant.name, invariant.description});
    return infos;
  }

  [[nodiscard]] std::optional<boost::json::value>
  describe(const log::EventView& event) const override {
    return zone::describe_event<M>(event);
  }

  [[nodiscard]] std::string event_name(const log::EventView& event) const override {
    auto decoded = zone::decode_stream_event<M>(event);
    return decoded.ok() ? std::string(replay::event_name<M>(*decoded)) : "undecodable";
  }

  [[nodiscard]] Result<replay::Observation> observe(const log::EventView& event) const override {
    return replay::observe<M>(event, plugins_.behaviour);
  }

  [[nodiscard]] Result<StateAt> state_at(const log::EventLog& log, zone::ZoneId zone, log::Seq seq,
                                         const replay::Progress& progress) const override {
    auto rebuilt = replay::Replayer<M>(log, zone, progress).state_at(seq);
    if (!rebuilt.ok()) return std::move(rebuilt).error();
    return state_of(*rebuilt);
  }

  [[nodiscard]] Result<StateAt> state_at_time(const log::EventLog& log, zone::ZoneId zone,
                                              std::int64_t wall_time_us,
                                              const replay::Progress& progress) const override {
    auto rebuilt = replay::Replayer<M>(log, zone, progress).state_at_time(wall_time_us);
    if (!rebuilt.ok()) return std::move(rebuilt).error();
    return state_of(*rebuilt);
  }

  [[nodiscard]] Result<log::Seq> step(const log::EventLog& log, zone::ZoneId zone, log::Seq from,
                                      std::uint64_t count, const StepVisitor& visit,
                                      const replay::Progress& progress) const override {
    const replay::Replayer<M> replayer(log, zone, progress);
    // The cursor starts on the event before the first step; seq 1 has no state before it.
    const bool from_genesis = from == 1;
    auto cursor = replayer.cursor(from_genesis ? 1 : from - 1);
    if (!cursor.ok()) return std::move(cursor).error();
    boost::json::value before =
        from_genesis ? boost::json::value(nullptr) : M::to_json(cursor->current().state);
    for (std::uint64_t i = 0; i < count; ++i) {
      if (i > 0 || !from_genesis) {
        auto moved = cursor->next();
        if (!moved.ok()) return std::move(moved).error();
        if (!*moved) break;
      }
      boost::json::value after = M::to_json(cursor->current().state);
      visit(cursor->event().view(), before, after, M::hash(cursor->current().state));
      before = std::move(after);
    }
    return cursor->current().seq;
  }

  [[nodiscard]] Result<StateDiff> diff(const log::EventLog& log, zone::ZoneId zone, log::Seq from,
                                       log::Seq to,
                                       const replay::Progress& progress) const override {
    const replay::Replayer<M> replayer(log, zone, progress);
    auto first = replayer.state_at(from);
    if (!first.ok()) return std::move(first).error();
    auto second = replayer.state_at(to, *first);
    if (!second.ok()) return std::move(second).error();
    StateDiff diff{state_of(*first), state_of(*second), {}};
    diff.changes = replay::diff(diff.from.state, diff.to.state);
    return diff;
  }

  [[nodiscard]] replay::StreamVerdict verify(const log::EventLog& log, zone::ZoneId zone,
                                             const replay::VerifyOptions& options) const override {
    return replay::verify_stream<M>(log, zone, options);
  }

  [[nodiscard]] Result<replay::Bisection> bisect(const log::EventLog& log, zone::ZoneId zone,
                                                 std::string_view invariant, log::Seq to,
                                                 const replay::Progress& progress) const override {
    const replay::Invariant<M>* found = plugins_.invariants.find(invariant);
    if (found == nullptr) {
      return make_error(Errc::not_found, "model '{}' has no invariant named '{}'", M::name,
                        invariant);
    }
    return replay::bisect(replay::Replayer<M>(log, zone, progress), *found, to);
  }

  [[nodiscard]] Result<boost::json::object> what_if(const log::EventLog& log, zone::ZoneId zone,
                                                    log::Seq from, log::Seq to,
                                                    std::string_view rules) const override {
    if constexpr (zone::RulesAsData<M>) {
      auto parsed = M::parse_rules(rules);
      if (!parsed.ok()) return std::move(parsed).error();
      replay::WhatIfOptions<M> options;
      options.from = from;
      options.to = to;
      options.rules = std::move(parsed).value();
      auto report = replay::what_if<M>(log, zone, options);
      if (!report.ok()) return std::move(report).error();
      return replay::to_json(*report);
    } else {
      return make_error(Errc::invalid_argument, "model '{}' has no rules as data to change",
                        M::name);
    }
  }

  [[nodiscard]] boost::json::object map(const zone::ZoneInfo& info) const override {
    return zone::map_json<M>(info);
  }

  [[nodiscard]] Result<std::unique_ptr<ZoneFollower>> follow(const log::EventLog& log,
                                                             zone::ZoneId zone) const override {
    auto cursor = replay::Replayer<M>(log, zone).cursor(log.head(zone));
    if (!cursor.ok()) return std::move(cursor).error();
    return std::unique_ptr<ZoneFollower>(
        std::make_unique<ZoneFollowerFor<M>>(std::move(cursor).value()));
  }

private:
  static StateAt state_of(const replay::Replayed<M>& replayed) {
    return {replayed.seq,    replayed.wall_time_us,   replayed.from_snapshot,
            replayed.folded, M::hash(replayed.state), M::to_json(replayed.state)};
  }

  ModelPlugins<M> plugins_;
};

} // namespace worldlog::tools

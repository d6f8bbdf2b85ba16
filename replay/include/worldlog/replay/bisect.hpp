// The first event after which an invariant fails: a binary search over rebuilt states.
//
// An invariant is a named C++ predicate over a model's state that returns nullopt when the
// state is fine and a sentence naming what is wrong otherwise. The search assumes that once
// broken, an invariant stays broken (as with git bisect): it checks the head, then the state
// after the genesis, then halves the range between the last good and the first bad seq. Each
// probe is a state_at, folded from whichever is nearer, the last good state or the nearest
// snapshot, so a search costs O(log n) folds whose lengths add up to about one fold of the
// stream, not log n folds from zero.
//
//   replay::Invariants<MyModel> invariants;
//   invariants.add({"gold_non_negative", "no account below zero",
//                   [](const MyModel::State& s, replay::InvariantContext<MyModel>&)
//                       -> std::optional<std::string> { ... }});
//   auto found = replay::bisect(replay::Replayer<MyModel>(log, 3), *invariants.find("gold..."));
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <worldlog/log/event.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::replay {

/// What an invariant may look at besides the state: where the state is in its stream, and the
/// log, for invariants across zones (the other zones' states at the same wall time).
template <zone::GameModel M> class InvariantContext {
public:
  /// States of other zones, by zone, each at or before the wall time of any later check: the
  /// search hands those of its last good state on, so they are folded forward, not rebuilt.
  using Others = std::map<zone::ZoneId, Replayed<M>>;

  /// The context of `checked`, a state of `replayer`'s zone. REQUIRES: both outlive the
  /// context; `hints` (may be null) too.
  InvariantContext(const Replayer<M>& replayer, const Replayed<M>& checked,
                   const Others* hints = nullptr)
      : replayer_(replayer), checked_(checked), hints_(hints) {}

  [[nodiscard]] const log::EventLog& log() const noexcept { return replayer_.log(); }
  [[nodiscard]] zone::ZoneId zone() const noexcept { return replayer_.zone(); }
  /// The state being checked, with its seq, wall time and ZoneInfo.
  [[nodiscard]] const Replayed<M>& checked() const noexcept { return checked_; }

  /// The state of zone `other` of the same log after its last event at or before the checked
  /// state's wall time; nullptr when it had none by then (or has no events at all). Rebuilt
  /// once per context. Errors: those of Replayer::state_at.
  [[nodiscard]] Result<const Replayed<M>*> zone_at_same_time(zone::ZoneId other) {
    if (const auto known = others_.find(other); known != others_.end()) return &known->second;
    const Replayer<M> replayer(log(), other);
    if (log().head(other) == 0) return static_cast<const Replayed<M>*>(nullptr);
    auto seq = replayer.seq_at_time(checked_.wall_time_us);
    if (!seq.ok()) return std::move(seq).error();
    if (*seq == 0) return static_cast<const Replayed<M>*>(nullptr);
    const Replayed<M>* hint = nullptr;
    if (hints_ != nullptr) {
      const auto found = hints_->find(other);
      if (found != hints_->end() && found->second.seq <= *seq) hint = &found->second;
    }
    auto state = hint != nullptr ? replayer.state_at(*seq, *hint) : replayer.state_at(*seq);
    if (!state.ok()) return std::move(state).error();
    return &others_.insert_or_assign(other, std::move(state).value()).first->second;
  }

  /// `check(other, then)` against each other zone of the world (as the checked state's genesis
  /// numbers them) as it stood at the same wall time, in zone order, skipping zones with no
  /// event by then: the first violation `check` returns, or nullopt. A zone that cannot be
  /// rebuilt is recorded (fail) and ends the walk with nullopt. `check` takes (zone::ZoneId,
  /// const Replayed<M>&) and returns std::optional<std::string>.
  template <typename Check> [[nodiscard]] std::optional<std::string> across_zones(Check check) {
    for (zone::ZoneId other = 1; other <= checked_.info.zone_count; ++other) {
      if (other == zone()) continue;
      auto then = zone_at_same_time(other);
      if (!then.ok()) {
        fail(std::move(then).error());
        return std::nullopt;
      }
      if (*then == nullptr) continue;
      if (auto violation = check(other, **then)) return violation;
    }
    return std::nullopt;
  }

  /// Records an error the invariant met (reading another zone): its verdict is then unknown,
  /// and the search stops with this error. The first error recorded is kept.
  void fail(Error error) {
    if (!error_) error_ = std::move(error);
  }
  [[nodiscard]] const std::optional<Error>& error() const noexcept { return error_; }

  /// The other zones' states rebuilt so far (the search keeps those of good states as hints).
  [[nodiscard]] Others take_others() { return std::move(others_); }

private:
  const Replayer<M>& replayer_;
  const Replayed<M>& checked_;
  const Others* hints_;
  Others others_;
  std::optional<Error> error_;
};

/// A named predicate over a state of model M.
template <zone::GameModel M> struct Invariant {
  using Check =
      std::function<std::optional<std::string>(const typename M::State&, InvariantContext<M>&)>;

  std::string name{};        ///< what `--invariant NAME` selects: lower_snake_case
  std::string description{}; ///< one line for people
  Check check{};             ///< nullopt when the state is fine, else what is wrong
};

/// The invariants a tool knows, by name. Embedders add their own next to the built-in ones.
template <zone::GameModel M> class Invariants {
public:
  /// Adds `invariant`. Errors: invalid_argument for an empty name, a name already taken, or no
  /// check.
  Status add(Invariant<M> invariant) {
    if (invariant.name.empty())
      return make_error(Errc::invalid_argument, "an invariant needs a name");
    if (!invariant.check) {
      return make_error(Errc::invalid_argument, "invariant '{}' has no check", invariant.name);
    }
    if (find(invariant.name) != nullptr) {
      return make_error(Errc::invalid_argument, "there is already an invariant named '{}'",
                        invariant.name);
    }
    invariants_.push_back(std::move(invariant));
    return {};
  }

  /// The invariant named `name`, or nullptr.
  [[nodiscard]] const Invariant<M>* find(std::string_view name) const {
    const auto found = std::find_if(invariants_.begin(), invariants_.end(),
                                    [name](const Invariant<M>& i) { return i.name == name; });
    return found == invariants_.end() ? nullptr : &*found;
  }

  /// Every invariant, in the order they were added.
  [[nodiscard]] const std::vector<Invariant<M>>& all() const noexcept { return invariants_; }

private:
  std::vector<Invariant<M>> invariants_;
};

/// `invariant` checked against `checked`, a state of `replayer`'s zone: nullopt when it holds,
/// the violation otherwise. Errors: those the check recorded with InvariantContext::fail.
template <zone::GameModel M>
[[nodiscard]] Result<std::optional<std::string>> check_invariant(const Replayer<M>& replayer,
                                                                 const Replayed<M>& checked,
                                                                 const Invariant<M>& invariant) {
  InvariantContext<M> context(replayer, checked);
  auto violation = invariant.check(checked.state, context);
  if (context.error()) return *context.error();
  return violation;
}

/// What a search found.
struct Bisection {
  log::Seq head = 0; ///< where the search started: the head, or the `to` it was given
  std::optional<log::Seq> first_bad{}; ///< the first seq after which the invariant fails;
                                       ///< nullopt when it holds at `head`
  std::string violation{};             ///< what the invariant said after first_bad
  std::optional<log::Event> event{};   ///< event first_bad, the one to blame
  std::uint32_t probes = 0;            ///< states rebuilt and checked
};

/// Finds the first event of `replayer`'s zone, up to seq `to` (default: the head), after which
/// `invariant` fails; give `to` where the invariant is known to be broken, since one that
/// breaks and mends again holds at the head. Errors: those of Replayer::state_at, and those
/// the check recorded.
template <zone::GameModel M>
[[nodiscard]] Result<Bisection> bisect(const Replayer<M>& replayer, const Invariant<M>& invariant,
                                       log::Seq to = log::end_seq) {
  using Others = typename InvariantContext<M>::Others;
  Bisection found;
  struct Probe {
    std::optional<std::string> violation;
    Others others;
  };
  const auto probe = [&](const Replayed<M>& state, const Others* hints) -> Result<Probe> {
    ++found.probes;
    InvariantContext<M> context(replayer, state, hints);
    auto violation = invariant.check(state.state, context);
    if (context.error()) return *context.error();
    return Probe{std::move(violation), context.take_others()};
  };

  auto head = replayer.state_at(to);
  if (!head.ok()) return std::move(head).error();
  found.head = head->seq;
  auto at_head = probe(*head, nullptr);
  if (!at_head.ok()) return std::move(at_head).error();
  if (!at_head->violation) return found;

  auto good = replayer.initial();
  if (!good.ok()) return std::move(good).error();
  std::optional<std::string> violation = std::move(at_head->violation);
  log::Seq bad = head->seq;
  if (good->seq < bad) {
    auto at_start = probe(*good, nullptr);
    if (!at_start.ok()) return std::move(at_start).error();
    if (at_start->violation) {
      bad = good->seq;
      violation = std::move(at_start->violation);
    } else {
      Others hints = std::move(at_start->others);
      // Invariant: the state after good->seq passes, the state after `bad` fails.
      while (bad - good->seq > 1) {
        const log::Seq middle = good->seq + (bad - good->seq) / 2;
        auto state = replayer.state_at(middle, *good);
        if (!state.ok()) return std::move(state).error();
        auto checked = probe(*state, &hints);
        if (!checked.ok()) return std::move(checked).error();
        if (checked->violation) {
          bad = middle;
          violation = std::move(checked->violation);
        } else {
          good = std::move(state);
          // Later probes are later in time: these states are valid starting points for them.
          for (auto& [zone, other] : checked->others)
            hints.insert_or_assign(zone, std::move(other));
        }
      }
    }
  }
  found.first_bad = bad;
  found.violation = std::move(*violation);
  auto event = replayer.log().read_stream(replayer.zone(), bad, 1);
  if (!event.ok()) return std::move(event).error();
  if (!event->empty()) found.event = std::move(event->front());
  return found;
}

} // namespace worldlog::replay

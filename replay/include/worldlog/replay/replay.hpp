// Any past state of a zone, rebuilt from its log: the state after a seq or at a wall time, and
// a cursor that steps through a stream event by event, both ways.
//
// A state is rebuilt from the newest usable snapshot at or before the wanted seq plus a fold of
// the events after it, never from zero when such a snapshot exists. The fold is the zone's own
// (zone/fold.hpp), so a replayed state is the state the zone had. Nothing here writes: a log
// opened read-only beside a running server (or a copy) serves every call.
//
//   replay::Replayer<game::Model> zone3(log, 3);
//   auto then = zone3.state_at(91'234);          // Result<Replayed<game::Model>>
//   auto noon = zone3.state_at_time(noon_us);    // the state after the last event <= noon
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include <worldlog/log/event.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/fold_pipeline.hpp>
#include <worldlog/replay/progress.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/model.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::replay {

/// A rebuilt state of one zone, and how it was rebuilt.
template <zone::GameModel M> struct Replayed {
  zone::ZoneInfo info{};         ///< from the stream's genesis event
  log::Seq seq = 0;              ///< the state is the state after this event
  std::int64_t wall_time_us = 0; ///< of event `seq`
  typename M::State state{};
  log::Seq from_snapshot = 0; ///< seq of the snapshot the fold started from (0: from scratch)
  std::uint64_t folded = 0;   ///< events folded after it
};

/// "ZoneCreated" (the genesis), "CommandRejected", or the model's name of the (first) event
/// the stored event stands for; "Upcast to nothing" for an older payload its upcaster dropped.
template <zone::GameModel M>
[[nodiscard]] std::string_view event_name(const zone::StreamEvent<M>& event) {
  if (event.index() == 0) return "ZoneCreated";
  if (event.index() == 1) return "CommandRejected";
  const zone::ModelEvents<M>& events = std::get<2>(event);
  return events.empty() ? std::string_view("Upcast to nothing") : M::event_name(events.front());
}

template <zone::GameModel M> class Cursor;

/// Rebuilds past states of one zone stream. Cheap to copy; every call reads the log afresh, so
/// a read-only log that is refreshed between calls is seen as it grows. Not for concurrent use
/// when a Progress is given (the callback is not synchronised).
template <zone::GameModel M> class Replayer {
public:
  using State = typename M::State;
  /// Called after each event a fold applies, with the state after it and the event; an error
  /// returned stops the fold with that error.
  using StepVisitor =
      std::function<Status(const Replayed<M>&, const log::EventView&, const zone::StreamEvent<M>&)>;

  /// Replays stream `zone` of `log`, reporting long folds to `progress` (optional). By default
  /// every record has its hash checked before it is folded, so a tampered record stops the
  /// fold naming it; a long fold checks hashes and decodes on a second thread meanwhile
  /// (fold_pipeline.hpp). RecordCheck::envelope trusts the hashes and leaves them to verify().
  /// REQUIRES: `log` outlives the replayer and its cursors.
  Replayer(const log::EventLog& log, zone::ZoneId zone, Progress progress = {},
           log::RecordCheck check = log::RecordCheck::hash)
      : log_(&log), zone_(zone), progress_(std::move(progress)), check_(check) {}

  [[nodiscard]] zone::ZoneId zone() const noexcept { return zone_; }
  [[nodiscard]] const log::EventLog& log() const noexcept { return *log_; }

  /// The stream's genesis record. Errors: not_found for a stream without events; corruption
  /// and incompatible_format from decode_stream_event (not a zone of model M).
  [[nodiscard]] Result<zone::Genesis> genesis() const {
    auto first = first_event();
    if (!first.ok()) return std::move(first).error();
    return std::move(first->second);
  }

  /// The state after event `seq` (log::end_seq, or anything past the head: after the head),
  /// from the nearest usable snapshot at or before it plus a fold of the tail. Errors:
  /// not_found for a stream without events; invalid_argument for seq 0 (there is no state
  /// before the genesis); corruption naming the zone and seq of an event that does not read
  /// or decode; the log's errors.
  [[nodiscard]] Result<Replayed<M>> state_at(log::Seq seq) const {
    auto target = clamp(seq);
    if (!target.ok()) return std::move(target).error();
    auto restored = zone::restore_latest_snapshot<M>(*log_, zone_, *target, 1);
    if (!restored.ok()) return std::move(restored).error();
    if (!restored->has_value()) return fold_from_scratch(*target);
    auto genesis = this->genesis();
    if (!genesis.ok()) return std::move(genesis).error();
    zone::RestoredSnapshot<M>& snapshot = **restored;
    Replayed<M> replayed{std::move(genesis->info),  snapshot.seq, 0,
                         std::move(snapshot.state), snapshot.seq, 0};
    // The fold reads the snapshot's own event first, for its wall time.
    if (auto folded = fold(replayed, *target, true, {}); !folded.ok())
      return std::move(folded).error();
    return replayed;
  }

  /// The same state as state_at(seq), folded from `hint` (a state of this stream at or before
  /// `seq`, e.g. one a search already rebuilt) when no usable snapshot is nearer. Errors: those
  /// of state_at.
  [[nodiscard]] Result<Replayed<M>> state_at(log::Seq seq, const Replayed<M>& hint) const {
    auto target = clamp(seq);
    if (!target.ok()) return std::move(target).error();
    if (hint.seq > *target) return state_at(*target);
    auto nearest = log_->latest_snapshot(zone_, *target);
    if (!nearest.ok()) return std::move(nearest).error();
    if (nearest->has_value() && (*nearest)->seq > hint.seq) return state_at(*target);
    return advance(hint, *target);
  }

  /// The state after the last event whose wall time is at or before `wall_time_us` (µs since
  /// the epoch). Errors: not_found naming the time when the stream has no event that early;
  /// those of state_at.
  [[nodiscard]] Result<Replayed<M>> state_at_time(std::int64_t wall_time_us) const {
    auto seq = seq_at_time(wall_time_us);
    if (!seq.ok()) return std::move(seq).error();
    if (*seq == 0) {
      return make_error(Errc::not_found, "zone {} has no event at or before wall time {} µs", zone_,
                        wall_time_us);
    }
    return state_at(*seq);
  }

  /// The seq of the last event whose wall time is at or before `wall_time_us`, 0 when the
  /// first event is later. Errors: not_found for a stream without events; the log's.
  [[nodiscard]] Result<log::Seq> seq_at_time(std::int64_t wall_time_us) const {
    const log::Seq head = log_->head(zone_);
    if (head == 0) return make_error(Errc::not_found, "zone {} has no events", zone_);
    if (wall_time_us == std::numeric_limits<std::int64_t>::max()) return head;
    // Wall time is monotone per stream, but several events may share one: the first event
    // later than the time comes right after the last one at or before it.
    auto later = log_->find_at_time(zone_, wall_time_us + 1);
    if (!later.ok()) return std::move(later).error();
    return later->has_value() ? (*later)->seq() - 1 : head;
  }

  /// The state after `seq` folded from seq 1, ignoring every snapshot: what verify compares
  /// the snapshots with. Errors: those of state_at.
  [[nodiscard]] Result<Replayed<M>> fold_from_scratch(log::Seq seq,
                                                      const StepVisitor& visit = {}) const {
    auto target = clamp(seq);
    if (!target.ok()) return std::move(target).error();
    auto start = initial();
    if (!start.ok()) return std::move(start).error();
    if (auto folded = fold(*start, *target, false, visit); !folded.ok())
      return std::move(folded).error();
    return start;
  }

  /// The state after the genesis event (seq 1): the model's initial state for its ZoneInfo.
  /// Errors: those of genesis().
  [[nodiscard]] Result<Replayed<M>> initial() const {
    auto first = first_event();
    if (!first.ok()) return std::move(first).error();
    auto& [event, genesis] = *first;
    return Replayed<M>{
        genesis.info, 1, event.wall_time_us(), zone::genesis_state<M>(genesis), 0, 1};
  }

  /// `from`, a state of this stream, folded forward to the state after `seq` (clamped to the
  /// head), calling `visit` after each event. Errors: invalid_argument when `seq` is before
  /// `from`; those of state_at; those `visit` returns.
  [[nodiscard]] Result<Replayed<M>> advance(Replayed<M> from, log::Seq seq,
                                            const StepVisitor& visit = {}) const {
    auto target = clamp(seq);
    if (!target.ok()) return std::move(target).error();
    if (*target < from.seq) {
      return make_error(Errc::invalid_argument, "zone {}: cannot fold from seq {} back to seq {}",
                        zone_, from.seq, *target);
    }
    if (auto folded = fold(from, *target, false, visit); !folded.ok())
      return std::move(folded).error();
    return from;
  }

  /// A cursor on the state after event `seq` (clamped to the head). Errors: those of state_at.
  [[nodiscard]] Result<Cursor<M>> cursor(log::Seq seq) const;

private:
  friend class Cursor<M>;
  /// Events a fold reports progress after, at most.
  static constexpr std::uint64_t progress_every = 4096;
  /// Folds shorter than this check hashes on the caller's thread: a second thread costs about
  /// as much to start as checking this many hashes.
  static constexpr std::uint64_t pipeline_min_events = 1024;

  /// `seq` limited to the head. Errors: not_found for an empty stream, invalid_argument for 0.
  Result<log::Seq> clamp(log::Seq seq) const {
    const log::Seq head = log_->head(zone_);
    if (head == 0) return make_error(Errc::not_found, "zone {} has no events", zone_);
    if (seq == 0) {
      return make_error(Errc::invalid_argument,
                        "zone {} has no state before seq 1 (its genesis event)", zone_);
    }
    return std::min(seq, head);
  }

  Result<std::pair<log::Event, zone::Genesis>> first_event() const {
    auto event = read_event(1);
    if (!event.ok()) return std::move(event).error();
    auto decoded = zone::decode_stream_event<M>(event->view());
    if (!decoded.ok()) return std::move(decoded).error();
    // decode_stream_event accepts nothing but a genesis event at seq 1.
    return std::pair{std::move(event).value(), std::get<0>(std::move(decoded).value())};
  }

  /// Event `seq` of the stream. Errors: not_found when it does not exist; the log's.
  Result<log::Event> read_event(log::Seq seq) const {
    auto events = log_->read_stream(zone_, seq, 1);
    if (!events.ok()) return std::move(events).error();
    if (events->empty() || events->front().seq() != seq) {
      return make_error(Errc::not_found, "zone {} has no event at seq {}", zone_, seq);
    }
    return std::move(events->front());
  }

  /// Folds events (replayed.seq, to] into `replayed`. With `read_own_event`, event
  /// replayed.seq is read first for its wall time (a state restored from a snapshot has none).
  /// A long fold that checks hashes hands them, and the decoding, to a second thread.
  Status fold(Replayed<M>& replayed, log::Seq to, bool read_own_event,
              const StepVisitor& visit) const {
    const log::Seq first = read_own_event ? replayed.seq : replayed.seq + 1;
    if (first > to) return {};
    const std::uint64_t total = to - replayed.seq;
    std::uint64_t done = 0;
    const auto apply = [&](const log::EventView& event,
                           Result<zone::StreamEvent<M>>&& decoded) -> Status {
      if (!decoded.ok()) return std::move(decoded).error();
      zone::apply_stream_event<M>(replayed.state, *decoded);
      replayed.seq = event.seq();
      replayed.wall_time_us = event.wall_time_us();
      ++replayed.folded;
      if (visit) {
        if (auto visited = visit(replayed, event, *decoded); !visited.ok()) return visited;
      }
      if (progress_ && ++done % progress_every == 0) progress_(done, total);
      return {};
    };
    const bool pipelined = check_ == log::RecordCheck::hash && to - first >= pipeline_min_events;
    std::optional<detail::FoldPipeline<M>> pipeline;
    if (pipelined) pipeline.emplace(apply);
    Status failed;
    const Status scanned = log_->scan_stream(
        zone_, first, to - first + 1,
        [&](const log::EventView& event) {
          if (event.seq() == replayed.seq) {
            replayed.wall_time_us = event.wall_time_us();
            return true;
          }
          failed = pipeline ? pipeline->push(event.record())
                            : apply(event, zone::decode_stream_event<M>(event));
          return failed.ok();
        },
        pipelined ? log::RecordCheck::envelope : check_);
    // Records read before a failed read are still folded, and may hold an earlier failure.
    if (pipeline && failed.ok()) failed = pipeline->finish();
    if (progress_ && total != 0) progress_(total, total);
    if (!failed.ok()) return failed;
    if (!scanned.ok()) return scanned;
    if (replayed.seq != to) {
      return make_error(Errc::corruption, "zone {} ends at seq {}, before seq {}", zone_,
                        replayed.seq, to);
    }
    return {};
  }

  const log::EventLog* log_;
  zone::ZoneId zone_;
  Progress progress_;
  log::RecordCheck check_;
};

/// Steps through a zone stream: the state after one event, then the next (folded onto it) or
/// the previous (rebuilt by state_at from the nearest snapshot). A cursor reads the log as it
/// goes, so it sees events appended after it was made. Not thread-safe.
template <zone::GameModel M> class Cursor {
public:
  /// The state after event().
  [[nodiscard]] const Replayed<M>& current() const noexcept { return current_; }
  /// The event the cursor stands on: seq current().seq.
  [[nodiscard]] const log::Event& event() const noexcept { return event_; }
  /// event(), decoded.
  [[nodiscard]] const zone::StreamEvent<M>& decoded() const noexcept { return decoded_; }

  /// Steps onto the next event and folds it. Returns false, changing nothing, at the head.
  /// Errors: corruption for an event that does not read or decode (the cursor stays).
  [[nodiscard]] Result<bool> next() {
    if (ahead_.empty()) {
      auto read = replayer_.log().read_stream(replayer_.zone(), current_.seq + 1, read_ahead);
      if (!read.ok()) return std::move(read).error();
      for (auto& event : *read)
        ahead_.push_back(std::move(event));
      if (ahead_.empty()) return false;
    }
    auto decoded = zone::decode_stream_event<M>(ahead_.front().view());
    if (!decoded.ok()) return std::move(decoded).error();
    zone::apply_stream_event<M>(current_.state, *decoded);
    event_ = std::move(ahead_.front());
    ahead_.pop_front();
    decoded_ = std::move(decoded).value();
    current_.seq = event_.seq();
    current_.wall_time_us = event_.wall_time_us();
    ++current_.folded;
    return true;
  }

  /// Steps back onto the previous event: its state is rebuilt from the nearest snapshot.
  /// Returns false, changing nothing, at seq 1. Errors: those of Replayer::state_at.
  [[nodiscard]] Result<bool> prev() {
    if (current_.seq <= 1) return false;
    auto moved = at(current_.seq - 1);
    if (!moved.ok()) return std::move(moved).error();
    ahead_.push_front(std::exchange(event_, std::move(moved->event_)));
    current_ = std::move(moved->current_);
    decoded_ = std::move(moved->decoded_);
    return true;
  }

  /// Moves onto event `seq` (clamped to the head). Errors: those of Replayer::state_at.
  [[nodiscard]] Status seek(log::Seq seq) {
    auto moved = at(seq);
    if (!moved.ok()) return std::move(moved).error();
    *this = std::move(moved).value();
    return {};
  }

private:
  friend class Replayer<M>;
  /// Events read from the log at a time when stepping forward.
  static constexpr std::size_t read_ahead = 256;

  Cursor(Replayer<M> replayer, Replayed<M> current, log::Event event, zone::StreamEvent<M> decoded)
      : replayer_(std::move(replayer)), current_(std::move(current)), event_(std::move(event)),
        decoded_(std::move(decoded)) {}

  Result<Cursor> at(log::Seq seq) const { return replayer_.cursor(seq); }

  Replayer<M> replayer_;
  Replayed<M> current_;
  log::Event event_;
  zone::StreamEvent<M> decoded_;
  std::deque<log::Event> ahead_; ///< events after current_, read but not folded yet
};

template <zone::GameModel M> Result<Cursor<M>> Replayer<M>::cursor(log::Seq seq) const {
  auto state = state_at(seq);
  if (!state.ok()) return std::move(state).error();
  auto event = read_event(state->seq);
  if (!event.ok()) return std::move(event).error();
  auto decoded = zone::decode_stream_event<M>(event->view());
  if (!decoded.ok()) return std::move(decoded).error();
  return Cursor<M>(*this, std::move(state).value(), std::move(event).value(),
                   std::move(decoded).value());
}

} // namespace worldlog::replay

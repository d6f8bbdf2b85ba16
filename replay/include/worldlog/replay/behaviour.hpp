// Player behaviour as a health signal: a read-side projection of a log that counts, per zone and
// for the whole world, what happened in fixed windows of wall time, learns a baseline of each
// count from the log itself, and flags the windows where a count leaves its baseline for long
// enough (docs/behaviour.md).
//
// It is generic over the model. What every log has is counted for every zone: its events, the
// commands accepted (commands that produced model events: a command's events are one append,
// contiguous in its zone, so a change of actor or command id is a new command), the commands
// the zone rejected (CommandRejected records), in total and by reason. A model names its own
// signals through a hook (BehaviourHook<M>) that turns one of its decoded events into named
// increments ("move", "chat_line", ...) and changes of the zone's online count; with the online
// count, a signal named in BehaviourOptions::per_player also gives "<signal>_per_player".
//
// Feed it events in position order (EventLog::scan_all, then a subscription for a live log):
// observe<M>() turns a record into an Observation, feed() takes it. Windows close as the log's
// wall time moves on (BehaviourOptions::lateness_us), so what it reports at any point depends
// only on the events fed so far, in their order: the same log gives the same figures.
//
// Threads: none. One object is fed and read from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <worldlog/log/event.hpp>
#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::replay {

/// The generic signals, counted for every zone of every model.
inline constexpr std::string_view signal_events = "events";
inline constexpr std::string_view signal_commands_accepted = "commands_accepted";
inline constexpr std::string_view signal_commands_rejected = "commands_rejected";
/// Followed by the reason's name (zone::reason_name) or, when the model names none, its code.
inline constexpr std::string_view signal_rejected_prefix = "rejected.";
/// The suffix of a per-player signal: "move" gives "move_per_player".
inline constexpr std::string_view per_player_suffix = "_per_player";

/// What a model's hook says about one of its events.
class Signals {
public:
  /// Adds `n` to signal `name` in the event's zone (and the world). `name` must outlive the
  /// feed() of the Observation (a string literal does).
  void count(std::string_view name, std::uint64_t n = 1) { counts_.emplace_back(name, n); }
  /// Players coming online in the event's zone (positive) or leaving it (negative).
  void online(std::int64_t delta) noexcept { online_ += delta; }

  [[nodiscard]] const std::vector<std::pair<std::string_view, std::uint64_t>>&
  counts() const noexcept {
    return counts_;
  }
  [[nodiscard]] std::int64_t online_delta() const noexcept { return online_; }

private:
  std::vector<std::pair<std::string_view, std::uint64_t>> counts_;
  std::int64_t online_ = 0;
};

/// A model's signals: called with each of its decoded events. Optional: without it a model's
/// zones have the generic signals only.
template <zone::GameModel M>
using BehaviourHook = std::function<void(const typename M::Event& event, Signals& signals)>;

/// One record of a zone stream, as the projection counts it.
struct Observation {
  enum class Kind : std::uint8_t { genesis, rejected, model };
  zone::ZoneId zone = 0;
  log::Seq seq = 0;
  log::Position position = 0;
  std::int64_t wall_time_us = 0;
  log::Actor actor{};           ///< who caused it
  std::uint64_t command_id = 0; ///< 0: not caused by a command
  Kind kind = Kind::model;
  std::uint32_t reject_code = 0;  ///< Kind::rejected
  std::string_view reject_name{}; ///< Kind::rejected: the model's name for the code ("": none)
  Signals signals{};              ///< Kind::model: the hook's
};

/// Decodes `event` of a zone stream of model M and runs `hook` (if any) on a model event.
/// Errors: those of zone::decode_stream_event<M>.
template <zone::GameModel M>
[[nodiscard]] Result<Observation> observe(const log::EventView& event,
                                          const BehaviourHook<M>& hook) {
  auto decoded = zone::decode_stream_event<M>(event);
  if (!decoded.ok()) return std::move(decoded).error();
  Observation observation{.zone = event.stream(),
                          .seq = event.seq(),
                          .position = event.position(),
                          .wall_time_us = event.wall_time_us(),
                          .actor = event.actor(),
                          .command_id = event.command_id()};
  switch (decoded->index()) {
  case 0: observation.kind = Observation::Kind::genesis; break;
  case 1: {
    observation.kind = Observation::Kind::rejected;
    observation.reject_code = std::get<1>(*decoded).code;
    observation.reject_name = zone::reason_name<M>(observation.reject_code);
    break;
  }
  default:
    observation.kind = Observation::Kind::model;
    if (hook) {
      for (const auto& model_event : std::get<2>(*decoded))
        hook(model_event, observation.signals);
    }
    break;
  }
  return observation;
}

/// The parameters of the windows, the baseline and the anomaly rule (docs/behaviour.md).
struct BehaviourOptions {
  /// Width of a window of wall time; windows start at multiples of it (UTC epoch).
  std::int64_t window_us = 10'000'000;
  /// A window closes once an event at least this far past its end was fed: zones stamp their
  /// own wall times, so the log's order is only nearly the order of time. An event of a window
  /// already closed counts in the oldest open one.
  std::int64_t lateness_us = 2'000'000;
  /// Weight of the newest window in the EWMA of the mean and the variance; during the warm-up
  /// it is max(alpha, 1/n) for the n-th window learned, an even average.
  double alpha = 0.1;
  /// Windows learned before any score counts.
  std::uint32_t warmup = 12;
  /// A window is out of line when |score| >= threshold (score: (value - mean) / deviation).
  double threshold = 4.0;
  /// Out-of-line windows in a row, in the same direction, that make an anomaly.
  std::uint32_t consecutive = 3;
  /// The deviation a score divides by is at least this (in the signal's unit per window) ...
  double min_deviation = 1.0;
  /// ... and at least this share of the mean, and for counts at least sqrt(mean) (Poisson).
  double min_relative_deviation = 0.05;
  /// Drops are scored only for signals whose mean is at least this: a rare signal cannot drop.
  double min_drop_mean = 5.0;
  /// Signals that also give "<signal>_per_player": the count over the zone's online count at the
  /// window's end (the world's: the sum of its zones'); not scored while no one is online.
  std::vector<std::string> per_player{"move"};
  /// Closed windows of each signal kept, newest last, for charts (SignalStats::history).
  std::size_t history = 0;
};

/// Whether an anomaly is a signal below its baseline or above it.
enum class Direction : std::uint8_t { drop, spike };
[[nodiscard]] std::string_view to_string(Direction direction) noexcept;

/// A zone (or, with no zone, the whole world).
using Scope = std::optional<zone::ZoneId>;

/// Where a window lies in the log: positions (the world's), and the zone's seqs.
struct WindowSpan {
  std::int64_t start_us = 0;        ///< the window's start; it ends at start_us + window_us
  log::Position first_position = 0; ///< 0: the scope logged nothing in the window
  log::Position last_position = 0;
  log::Seq first_seq = 0; ///< a zone's; 0 for the world, or when the zone logged nothing
  log::Seq last_seq = 0;
};

/// A signal out of line for `consecutive` windows in a row.
struct Anomaly {
  Scope zone{};
  std::string signal{};
  Direction direction = Direction::drop;
  WindowSpan started{}; ///< the first window of the run
  double value = 0;     ///< the signal in that window
  double mean = 0;      ///< the baseline it was scored against
  double deviation = 0;
  double score = 0;
  /// The first window back in line (the anomaly is over before it); nullopt: still on.
  std::optional<std::int64_t> ended_us{};
};

/// One signal of a scope, as of the last closed window.
struct SignalStats {
  std::string name{};
  /// Summed over the closed windows since the scope's first record (counts: records), the
  /// first (partial) one included, idle ones not.
  double total = 0;
  std::uint64_t windows = 0; ///< closed windows in which it was measured
  double last = 0;           ///< its value in the last of them
  double mean = 0;           ///< the baseline
  double deviation = 0;      ///< the deviation scores divide by (floors included)
  std::uint64_t learned = 0; ///< windows the baseline learned from
  double score = 0;          ///< of the last window; 0 during the warm-up
  /// The last BehaviourOptions::history closed windows it was measured in: (start, value).
  std::vector<std::pair<std::int64_t, double>> history{};
};

/// A zone's or the world's signals.
struct ScopeStats {
  Scope zone{};
  std::int64_t online = 0;            ///< players online at the last event fed
  std::vector<SignalStats> signals{}; ///< by name
};

/// The projection: feed it observations in position order, read its signals and anomalies.
class Behaviour {
public:
  explicit Behaviour(BehaviourOptions options = {});

  [[nodiscard]] const BehaviourOptions& options() const noexcept { return options_; }

  /// Counts one record; closes the windows it moves the log's time past.
  void feed(const Observation& observation);

  /// Windows closed so far, with and without events (windows in which the whole world logged
  /// nothing are skipped: a world that was down is not a world whose players stopped).
  [[nodiscard]] std::uint64_t closed_windows() const noexcept { return closed_; }
  [[nodiscard]] std::uint64_t idle_windows() const noexcept { return idle_; }
  /// The start of the oldest window still open (nullopt before the first event).
  [[nodiscard]] std::optional<std::int64_t> open_window_us() const noexcept;
  /// Records fed whose window had closed (counted in the oldest open one).
  [[nodiscard]] std::uint64_t late_records() const noexcept { return late_; }

  /// The world first, then each zone in id order.
  [[nodiscard]] std::vector<ScopeStats> stats() const;
  /// Every anomaly, in the order they were confirmed.
  [[nodiscard]] const std::vector<Anomaly>& anomalies() const noexcept { return anomalies_; }

private:
  struct Baseline {
    double mean = 0;
    double variance = 0;
    std::uint64_t learned = 0;
  };
  struct Series {
    bool is_count = true;
    double total = 0;
    std::uint64_t windows = 0;
    double last = 0;
    double score = 0;
    Baseline baseline{};
    // The run of out-of-line windows under way, and the anomaly it confirmed (index), if any.
    std::uint32_t run = 0;
    Direction run_direction = Direction::drop;
    Anomaly run_start{};
    std::optional<std::size_t> open_anomaly{};
    std::deque<std::pair<std::int64_t, double>> history{}; ///< (window start, value)
  };
  struct Window {
    std::map<std::string, std::uint64_t, std::less<>> counts;
    std::int64_t online_end = 0; ///< the scope's online count after its last record
    WindowSpan span;
  };
  struct ScopeState {
    std::int64_t first_window = 0;  ///< the window of its first record (partial: not scored)
    std::int64_t online = 0;        ///< after the last record fed
    std::int64_t online_closed = 0; ///< at the end of the last closed window
    /// The actor and command id of its last model record.
    std::pair<log::Actor, std::uint64_t> last_command{};
    std::map<std::string, Series, std::less<>> series;
    std::map<std::int64_t, Window> open; ///< by start
  };

  /// The state of `zone`, made on its first record (of window `start`).
  ScopeState& scope_at(const Scope& zone, std::int64_t start);
  void count_in(ScopeState& scope, std::int64_t start, const Observation& observation,
                bool accepted, bool zone);
  void close_through(std::int64_t watermark);
  void close_window(std::int64_t start);
  /// Counts `value` in; with `scored`, also scores it and learns from it.
  void score(const Scope& zone, Series& series, std::string_view name, double value,
             const WindowSpan& span, bool scored);
  void learn(Series& series, double value) const;
  [[nodiscard]] double deviation_of(const Series& series) const;

  BehaviourOptions options_;
  std::map<Scope, ScopeState> scopes_;
  std::int64_t newest_us_ = 0;
  bool started_ = false;
  std::optional<std::int64_t> first_open_;
  std::uint64_t closed_ = 0;
  std::uint64_t idle_ = 0;
  std::uint64_t late_ = 0;
  std::vector<Anomaly> anomalies_;
};

} // namespace worldlog::replay

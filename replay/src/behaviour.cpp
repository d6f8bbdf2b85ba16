// The behaviour projection: windows, baselines and anomalies (behaviour.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <worldlog/replay/behaviour.hpp>

namespace worldlog::replay {
namespace {

/// The start of the window holding `time_us`: floor division, also before the epoch.
std::int64_t window_of(std::int64_t time_us, std::int64_t width) {
  std::int64_t quotient = time_us / width;
  if (time_us % width != 0 && time_us < 0) --quotient;
  return quotient * width;
}

void add(std::map<std::string, std::uint64_t, std::less<>>& counts, std::string_view name,
         std::uint64_t n) {
  if (auto found = counts.find(name); found != counts.end()) {
    found->second += n;
  } else {
    counts.emplace(std::string(name), n);
  }
}

} // namespace

std::string_view to_string(Direction direction) noexcept {
  return direction == Direction::drop ? "drop" : "spike";
}

Behaviour::Behaviour(BehaviourOptions options) : options_(std::move(options)) {
  options_.window_us = std::max<std::int64_t>(options_.window_us, 1);
  options_.lateness_us = std::max<std::int64_t>(options_.lateness_us, 0);
  options_.consecutive = std::max<std::uint32_t>(options_.consecutive, 1);
}

std::optional<std::int64_t> Behaviour::open_window_us() const noexcept { return first_open_; }

void Behaviour::feed(const Observation& observation) {
  std::int64_t start = window_of(observation.wall_time_us, options_.window_us);
  if (!first_open_) first_open_ = start;
  if (start < *first_open_) {
    ++late_;
    start = *first_open_;
  }
  newest_us_ = started_ ? std::max(newest_us_, observation.wall_time_us) : observation.wall_time_us;
  started_ = true;

  ScopeState& zone = scope_at(observation.zone, start);
  // A command's events are one append, contiguous in its zone: a change of actor or command id
  // is a new command.
  const bool model = observation.kind == Observation::Kind::model;
  const std::pair<log::Actor, std::uint64_t> command{observation.actor, observation.command_id};
  const bool accepted = model && observation.command_id != 0 && command != zone.last_command;
  if (model) zone.last_command = command;
  count_in(zone, start, observation, accepted, true);
  count_in(scope_at(std::nullopt, start), start, observation, accepted, false);

  close_through(newest_us_ - options_.lateness_us);
}

Behaviour::ScopeState& Behaviour::scope_at(const Scope& zone, std::int64_t start) {
  auto [found, created] = scopes_.try_emplace(zone);
  if (created) {
    found->second.first_window = start;
    for (const std::string_view name :
         {signal_events, signal_commands_accepted, signal_commands_rejected})
      found->second.series.emplace(std::string(name), Series{});
  }
  return found->second;
}

void Behaviour::count_in(ScopeState& scope, std::int64_t start, const Observation& observation,
                         bool accepted, bool zone) {
  Window& window = scope.open[start];
  window.span.start_us = start;
  if (window.span.first_position == 0) window.span.first_position = observation.position;
  window.span.last_position = observation.position;
  if (zone) {
    if (window.span.first_seq == 0) window.span.first_seq = observation.seq;
    window.span.last_seq = observation.seq;
  }
  add(window.counts, signal_events, 1);
  if (accepted) add(window.counts, signal_commands_accepted, 1);
  if (observation.kind == Observation::Kind::rejected) {
    add(window.counts, signal_commands_rejected, 1);
    const std::string reason = observation.reject_name.empty()
                                   ? std::to_string(observation.reject_code)
                                   : std::string(observation.reject_name);
    add(window.counts, std::string(signal_rejected_prefix) + reason, 1);
  }
  for (const auto& [name, n] : observation.signals.counts())
    add(window.counts, name, n);
  scope.online = std::max<std::int64_t>(scope.online + observation.signals.online_delta(), 0);
  window.online_end = scope.online;
}

void Behaviour::close_through(std::int64_t watermark) {
  if (!first_open_) return;
  // Every window with a record anywhere is open in the world; the others were idle.
  const ScopeState& world = scopes_.at(std::nullopt);
  std::vector<std::int64_t> closing;
  for (const auto& [start, window] : world.open) {
    if (start + options_.window_us > watermark) break;
    closing.push_back(start);
  }
  const std::int64_t first = *first_open_;
  if (first + options_.window_us > watermark) return;
  const std::int64_t next = window_of(watermark, options_.window_us);
  const auto all = static_cast<std::uint64_t>((next - first) / options_.window_us);
  idle_ += all - closing.size();
  closed_ += all;
  for (const std::int64_t start : closing)
    close_window(start);
  first_open_ = next;
}

void Behaviour::close_window(std::int64_t start) {
  for (auto& [zone, scope] : scopes_) {
    if (start < scope.first_window) continue;
    const auto found = scope.open.find(start);
    Window window;
    if (found != scope.open.end()) {
      window = std::move(found->second);
      scope.open.erase(found);
      scope.online_closed = window.online_end;
    } else {
      window.span.start_us = start;
    }
    // The scope began inside its first window: counted, but neither learned nor scored.
    const bool scored = start != scope.first_window;
    for (const auto& [name, n] : window.counts) {
      if (!scope.series.contains(name)) scope.series.emplace(name, Series{});
    }
    for (const std::string& base : options_.per_player) {
      if (!scope.series.contains(base)) continue;
      const std::string name = base + std::string(per_player_suffix);
      if (!scope.series.contains(name)) scope.series.emplace(name, Series{.is_count = false});
    }
    for (auto& [name, series] : scope.series) {
      if (series.is_count) {
        const auto count = window.counts.find(name);
        score(zone, series, name,
              count == window.counts.end() ? 0.0 : static_cast<double>(count->second), window.span,
              scored);
        continue;
      }
      if (scope.online_closed <= 0) continue;
      const std::string_view base =
          std::string_view(name).substr(0, name.size() - per_player_suffix.size());
      const auto count = window.counts.find(base);
      const double counted =
          count == window.counts.end() ? 0.0 : static_cast<double>(count->second);
      score(zone, series, name, counted / static_cast<double>(scope.online_closed), window.span,
            scored);
    }
  }
}

double Behaviour::deviation_of(const Series& series) const {
  const Baseline& baseline = series.baseline;
  double deviation = std::max(std::sqrt(std::max(baseline.variance, 0.0)), options_.min_deviation);
  deviation = std::max(deviation, options_.min_relative_deviation * std::fabs(baseline.mean));
  if (series.is_count) deviation = std::max(deviation, std::sqrt(std::max(baseline.mean, 0.0)));
  return deviation;
}

void Behaviour::learn(Series& series, double value) const {
  Baseline& baseline = series.baseline;
  const std::uint64_t n = baseline.learned + 1;
  baseline.learned = n;
  if (n == 1) {
    baseline.mean = value;
    baseline.variance = 0;
    return;
  }
  const double weight = n <= options_.warmup
                            ? std::max(options_.alpha, 1.0 / static_cast<double>(n))
                            : options_.alpha;
  const double difference = value - baseline.mean;
  baseline.mean += weight * difference;
  baseline.variance = (1.0 - weight) * (baseline.variance + weight * difference * difference);
}

void Behaviour::score(const Scope& zone, Series& series, std::string_view name, double value,
                      const WindowSpan& span, bool scored) {
  ++series.windows;
  series.total += value;
  series.last = value;
  if (options_.history > 0) {
    if (series.history.size() == options_.history) series.history.pop_front();
    series.history.emplace_back(span.start_us, value);
  }
  if (!scored) return;
  if (series.baseline.learned < options_.warmup) {
    series.score = 0;
    learn(series, value);
    return;
  }
  const double mean = series.baseline.mean;
  const double deviation = deviation_of(series);
  double score = (value - mean) / deviation;
  if (score < 0 && mean < options_.min_drop_mean) score = 0;
  series.score = score;

  if (std::fabs(score) < options_.threshold) {
    if (series.open_anomaly) {
      anomalies_[*series.open_anomaly].ended_us = span.start_us;
      series.open_anomaly.reset();
    }
    series.run = 0;
    learn(series, value);
    return;
  }
  // Out of line: the baseline does not learn from it, so that a fault does not become normal.
  const Direction direction = score < 0 ? Direction::drop : Direction::spike;
  if (series.run > 0 && series.run_direction == direction) {
    ++series.run;
  } else {
    if (series.open_anomaly) {
      anomalies_[*series.open_anomaly].ended_us = span.start_us;
      series.open_anomaly.reset();
    }
    series.run = 1;
    series.run_direction = direction;
    series.run_start = Anomaly{.zone = zone,
                               .signal = std::string(name),
                               .direction = direction,
                               .started = span,
                               .value = value,
                               .mean = mean,
                               .deviation = deviation,
                               .score = score};
  }
  if (series.run == options_.consecutive && !series.open_anomaly) {
    series.open_anomaly = anomalies_.size();
    anomalies_.push_back(series.run_start);
  }
}

std::vector<ScopeStats> Behaviour::stats() const {
  std::vector<ScopeStats> all;
  for (const auto& [zone, scope] : scopes_) {
    ScopeStats stats{.zone = zone, .online = scope.online, .signals = {}};
    for (const auto& [name, series] : scope.series) {
      stats.signals.push_back({.name = name,
                               .total = series.total,
                               .windows = series.windows,
                               .last = series.last,
                               .mean = series.baseline.mean,
                               .deviation = deviation_of(series),
                               .learned = series.baseline.learned,
                               .score = series.score,
                               .history = {series.history.begin(), series.history.end()}});
    }
    all.push_back(std::move(stats));
  }
  return all;
}

} // namespace worldlog::replay

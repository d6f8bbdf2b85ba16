// The behaviour projection kept live (behaviour_follower.hpp): a thread that reads a
// subscription to the whole log and feeds each record, observed with its zone's model.
#include <worldlog/tools/behaviour_follower.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <worldlog/tools/cli.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

/// How long the thread waits for an event before it looks whether it was told to stop.
constexpr auto poll = 100ms;

json::value zone_json(const replay::Scope& zone) {
  return zone ? json::value(*zone) : json::value(nullptr);
}

std::string zone_label(const replay::Scope& zone) {
  return zone ? std::to_string(*zone) : std::string("world");
}

} // namespace

struct BehaviourFollower::State {
  State(log::EventLog& log_in, const Models& models, BehaviourFollowerOptions options)
      : log(log_in), zone_models(models, log_in), behaviour([&] {
          options.options.history = options.history;
          return std::move(options.options);
        }()) {}

  void run();
  /// Feeds one record; false (with `failed` set) when it cannot be read.
  bool feed(const log::Event& event);

  log::EventLog& log;
  StreamModels zone_models; // the feeding thread's only
  std::atomic<bool> stopping{false};

  mutable std::mutex mutex;
  replay::Behaviour behaviour;   // guarded by mutex
  log::Position position = 0;    // guarded by mutex
  std::optional<Error> failed;   // guarded by mutex
  std::uint64_t fell_behind = 0; // guarded by mutex
  std::thread thread;            // last: started once the rest is built
};

bool BehaviourFollower::State::feed(const log::Event& event) {
  const log::EventView view = event.view();
  auto model = zone_models.find(view.stream());
  Result<replay::Observation> observed =
      !model.ok() ? Result<replay::Observation>(std::move(model).error())
      : *model == nullptr
          ? Result<replay::Observation>(
                make_error(Errc::not_found, "zone {}: no model to read it with", view.stream()))
          : (*model)->observe(view);
  std::lock_guard lock(mutex);
  if (!observed.ok()) {
    failed = make_error(observed.error().code(), "position {} (zone {} seq {}): {}",
                        view.position(), view.stream(), view.seq(), observed.error().message());
    return false;
  }
  behaviour.feed(*observed);
  position = view.position();
  return true;
}

void BehaviourFollower::State::run() {
  const auto subscription = log.subscribe_all(0);
  while (!stopping.load(std::memory_order_relaxed)) {
    auto next = subscription->next(poll);
    if (!next.ok()) {
      // Too slow for the live buffer: the subscription goes on from storage, nothing skipped.
      if (next.error().code() == Errc::fell_behind) {
        std::lock_guard lock(mutex);
        ++fell_behind;
        continue;
      }
      if (next.error().code() == Errc::closed) return;
      std::lock_guard lock(mutex);
      failed = std::move(next).error();
      return;
    }
    if (*next && !feed(**next)) return;
  }
}

BehaviourFollower::BehaviourFollower(log::EventLog& log, const Models& models,
                                     BehaviourFollowerOptions options)
    : state_(std::make_unique<State>(log, models, std::move(options))) {
  state_->thread = std::thread([state = state_.get()] { state->run(); });
}

BehaviourFollower::~BehaviourFollower() {
  state_->stopping.store(true, std::memory_order_relaxed);
  state_->thread.join();
}

log::Position BehaviourFollower::position() const {
  std::lock_guard lock(state_->mutex);
  return state_->position;
}

std::optional<Error> BehaviourFollower::failure() const {
  std::lock_guard lock(state_->mutex);
  return state_->failed;
}

json::object BehaviourFollower::json() const {
  std::lock_guard lock(state_->mutex);
  const replay::Behaviour& behaviour = state_->behaviour;
  json::array scopes;
  for (const replay::ScopeStats& scope : behaviour.stats()) {
    json::array signals;
    for (const replay::SignalStats& signal : scope.signals) {
      json::array history;
      for (const auto& [start_us, value] : signal.history)
        history.emplace_back(json::array{start_us, value});
      signals.emplace_back(json::object{{"name", signal.name},
                                        {"total", signal.total},
                                        {"last", signal.last},
                                        {"mean", signal.mean},
                                        {"deviation", signal.deviation},
                                        {"score", signal.score},
                                        {"history", std::move(history)}});
    }
    scopes.emplace_back(json::object{{"zone", zone_json(scope.zone)},
                                     {"online", scope.online},
                                     {"signals", std::move(signals)}});
  }
  json::array anomalies;
  for (const replay::Anomaly& anomaly : behaviour.anomalies()) {
    anomalies.emplace_back(json::object{
        {"zone", zone_json(anomaly.zone)},
        {"signal", anomaly.signal},
        {"direction", std::string(replay::to_string(anomaly.direction))},
        {"started_us", anomaly.started.start_us},
        {"ended_us", anomaly.ended_us ? json::value(*anomaly.ended_us) : json::value(nullptr)},
        {"first_seq", anomaly.started.first_seq},
        {"last_seq", anomaly.started.last_seq},
        {"first_position", anomaly.started.first_position},
        {"last_position", anomaly.started.last_position},
        {"value", anomaly.value},
        {"mean", anomaly.mean},
        {"deviation", anomaly.deviation},
        {"score", anomaly.score}});
  }
  return {
      {"window_us", behaviour.options().window_us},
      {"closed_windows", behaviour.closed_windows()},
      {"position", state_->position},
      {"failure", state_->failed ? json::value(state_->failed->to_string()) : json::value(nullptr)},
      {"scopes", std::move(scopes)},
      {"anomalies", std::move(anomalies)}};
}

void BehaviourFollower::collect(net::Sink& sink) const {
  std::lock_guard lock(state_->mutex);
  const replay::Behaviour& behaviour = state_->behaviour;
  for (const replay::ScopeStats& scope : behaviour.stats()) {
    const std::string zone = zone_label(scope.zone);
    for (const replay::SignalStats& signal : scope.signals) {
      const net::Labels labels{{"zone", zone}, {"signal", signal.name}};
      sink.real_gauge("worldlog_behaviour_value",
                      "A behaviour signal in the last closed window (docs/behaviour.md)", labels,
                      signal.last);
      sink.real_gauge("worldlog_behaviour_baseline", "The signal's learned baseline (EWMA mean)",
                      labels, signal.mean);
      sink.real_gauge("worldlog_behaviour_score",
                      "How far the last window was from the baseline, in deviations", labels,
                      signal.score);
    }
  }
  // Per zone and signal: anomalies confirmed, and those still on.
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::uint64_t>> counted;
  for (const replay::Anomaly& anomaly : behaviour.anomalies()) {
    auto& [active, total] = counted[{zone_label(anomaly.zone), anomaly.signal}];
    ++total;
    if (!anomaly.ended_us) ++active;
  }
  for (const auto& [key, figures] : counted) {
    const net::Labels labels{{"zone", key.first}, {"signal", key.second}};
    sink.gauge("worldlog_behaviour_anomalies_active", "Anomalies of the signal that are still on",
               labels, figures.first);
    sink.counter("worldlog_behaviour_anomalies_total", "Anomalies of the signal confirmed", labels,
                 figures.second);
  }
  sink.gauge("worldlog_behaviour_position", "The log position the behaviour projection has read",
             {}, static_cast<std::int64_t>(state_->position));
  sink.counter("worldlog_behaviour_fell_behind_total",
               "Times the behaviour projection fell behind the log's live buffer", {},
               state_->fell_behind);
}

} // namespace worldlog::tools

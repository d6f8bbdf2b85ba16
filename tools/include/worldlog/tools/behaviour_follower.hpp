// The behaviour projection (worldlog/replay/behaviour.hpp) kept live: it follows a log from its
// first event on, catch-up then a live subscription, on a thread of its own, off the command
// path, and answers what `GET /api/behaviour` and the `worldlog_behaviour_*` gauges of
// `/metrics` show (docs/behaviour.md, docs/viewer.md).
//
//   tools::BehaviourFollower behaviour(log, models, {.options = {.window_us = 10'000'000}});
//   metrics.add_collector([&](net::Sink& sink) { behaviour.collect(sink); });
//   std::string body = boost::json::serialize(behaviour.json());
//
// Each zone is read with the model its genesis names; a zone of a model the binary does not
// know, or a record that does not decode, stops the projection, which then reports the error
// (failure()) and holds what it had.
//
// Threads: one of its own, which feeds the projection. json(), collect() and the accessors may
// be called from any thread; they take a lock the feeding thread holds only while it feeds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/json/object.hpp>

#include <worldlog/log/event_log.hpp>
#include <worldlog/log/types.hpp>
#include <worldlog/net/metrics.hpp>
#include <worldlog/replay/behaviour.hpp>
#include <worldlog/status.hpp>

namespace worldlog::tools {

class Models;

struct BehaviourFollowerOptions {
  replay::BehaviourOptions options{};
  /// Closed windows of each signal kept for the charts, newest last.
  std::size_t history = 120;
};

class BehaviourFollower {
public:
  /// Starts following `log` from its first event.
  /// REQUIRES: `log` and `models` outlive this.
  BehaviourFollower(log::EventLog& log, const Models& models,
                    BehaviourFollowerOptions options = {});
  /// Stops the thread.
  ~BehaviourFollower();
  BehaviourFollower(const BehaviourFollower&) = delete;
  BehaviourFollower& operator=(const BehaviourFollower&) = delete;

  /// What GET /api/behaviour answers (docs/viewer.md).
  [[nodiscard]] boost::json::object json() const;
  /// The metrics: the gauges worldlog_behaviour_value, _baseline and _score (labels zone and
  /// signal; zone "world" for the whole world), worldlog_behaviour_anomalies_active and the
  /// counter _anomalies_total (by zone and signal), worldlog_behaviour_position (the last
  /// position fed) and the counter worldlog_behaviour_fell_behind_total.
  void collect(net::Sink& sink) const;

  /// The position of the last event fed (0: none yet).
  [[nodiscard]] log::Position position() const;
  /// Why the projection stopped, if it did.
  [[nodiscard]] std::optional<Error> failure() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace worldlog::tools

// The behaviour projection's windows, baselines and anomaly rule on hand-made streams of
// observations, where the right answer is known window by window.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/replay/behaviour.hpp>

namespace worldlog::test {
namespace {

using replay::Anomaly;
using replay::Behaviour;
using replay::Observation;

constexpr std::int64_t t0 = 1'700'000'000'000'000; // a multiple of the window
constexpr std::int64_t window = 10'000'000;

/// Feeds windows of model events, each zone's spread evenly over the window, in time order.
struct Feeder {
  Behaviour behaviour;
  log::Position position = 0;
  std::map<zone::ZoneId, log::Seq> seqs;
  /// Seqs of each zone's first and last record in each window, by (zone, window index).
  std::map<std::pair<zone::ZoneId, std::int64_t>, std::pair<log::Seq, log::Seq>> spans;

  explicit Feeder(replay::BehaviourOptions options = {}) : behaviour(std::move(options)) {}

  /// Window `index`: `counts[zone]` records of `signal` in each zone.
  void window_of(std::int64_t index, const std::map<zone::ZoneId, std::uint64_t>& counts,
                 std::string_view signal = "move") {
    std::vector<std::tuple<std::int64_t, zone::ZoneId>> records;
    for (const auto& [zone, count] : counts) {
      for (std::uint64_t i = 0; i < count; ++i) {
        const std::int64_t offset =
            static_cast<std::int64_t>(i) * window / static_cast<std::int64_t>(count);
        records.emplace_back(t0 + index * window + offset + static_cast<std::int64_t>(zone), zone);
      }
    }
    std::sort(records.begin(), records.end());
    for (const auto& [time, zone] : records) {
      Observation observation{.zone = zone,
                              .seq = ++seqs[zone],
                              .position = ++position,
                              .wall_time_us = time,
                              .command_id = position};
      observation.signals.count(signal);
      auto& span = spans[{zone, index}];
      if (span.first == 0) span.first = observation.seq;
      span.second = observation.seq;
      behaviour.feed(observation);
    }
  }

  [[nodiscard]] std::vector<Anomaly> anomalies_of(std::optional<zone::ZoneId> zone,
                                                  std::string_view signal) const {
    std::vector<Anomaly> found;
    for (const Anomaly& anomaly : behaviour.anomalies())
      if (anomaly.zone == zone && anomaly.signal == signal) found.push_back(anomaly);
    return found;
  }

  [[nodiscard]] std::size_t anomalies_in(zone::ZoneId zone) const {
    return static_cast<std::size_t>(
        std::count_if(behaviour.anomalies().begin(), behaviour.anomalies().end(),
                      [&](const Anomaly& anomaly) { return anomaly.zone == zone; }));
  }
};

/// 100 ± 10 a window, the same numbers in every run.
std::uint64_t noisy(std::mt19937_64& random) { return 90 + random() % 21; }

TEST_SUITE_BEGIN("replay/behaviour");

TEST_CASE("a steady rate with noise raises nothing, and its baseline is its rate") {
  Feeder feeder;
  std::mt19937_64 random(7);
  for (std::int64_t index = 0; index < 80; ++index)
    feeder.window_of(index, {{1, noisy(random)}, {2, noisy(random)}});
  CHECK(feeder.behaviour.anomalies().empty());
  // The last window is still open (no record came after it), the one before closes only once
  // the log's time is 2 s past its end.
  CHECK(feeder.behaviour.closed_windows() == 79);
  CHECK(feeder.behaviour.idle_windows() == 0);
  const auto stats = feeder.behaviour.stats();
  REQUIRE(stats.size() == 3);
  CHECK_FALSE(stats[0].zone.has_value());
  CHECK(stats[1].zone == std::optional<zone::ZoneId>(1));
  for (const auto& scope : stats) {
    const auto move = std::find_if(scope.signals.begin(), scope.signals.end(),
                                   [](const auto& signal) { return signal.name == "move"; });
    REQUIRE(move != scope.signals.end());
    const double expected = scope.zone ? 100.0 : 200.0;
    CHECK(move->mean > expected * 0.9);
    CHECK(move->mean < expected * 1.1);
    CHECK(move->windows == 79);
  }
}

TEST_CASE("a drop to a quarter of the rate for long enough raises one anomaly where it started") {
  Feeder feeder;
  std::mt19937_64 random(11);
  for (std::int64_t index = 0; index < 60; ++index) {
    const bool faulted = index >= 30 && index < 40;
    feeder.window_of(index, {{1, noisy(random)}, {2, faulted ? noisy(random) / 4 : noisy(random)}});
  }
  const auto moves = feeder.anomalies_of(2, "move");
  REQUIRE(moves.size() == 1);
  const Anomaly& anomaly = moves.front();
  CHECK(anomaly.direction == replay::Direction::drop);
  CHECK(anomaly.started.start_us == t0 + 30 * window);
  const auto span = feeder.spans.at({2, 30});
  CHECK(anomaly.started.first_seq == span.first);
  CHECK(anomaly.started.last_seq == span.second);
  CHECK(anomaly.value < 40);
  CHECK(anomaly.mean > 90);
  CHECK(anomaly.score <= -4.0);
  REQUIRE(anomaly.ended_us.has_value());
  CHECK(*anomaly.ended_us == t0 + 40 * window);
  CHECK(feeder.anomalies_in(1) == 0);
  // The world's moves dropped by three eighths: seen too, from the same window, with no seqs.
  const auto world = feeder.anomalies_of(std::nullopt, "move");
  REQUIRE(world.size() == 1);
  CHECK(world.front().started.start_us == t0 + 30 * window);
  CHECK(world.front().started.first_seq == 0);
}

TEST_CASE("a dip shorter than the consecutive windows, or during the warm-up, raises nothing") {
  Feeder feeder;
  std::mt19937_64 random(3);
  for (std::int64_t index = 0; index < 60; ++index) {
    const bool dip = (index >= 5 && index < 9) || (index >= 30 && index < 32);
    feeder.window_of(index, {{1, dip ? 10 : noisy(random)}});
  }
  CHECK(feeder.behaviour.anomalies().empty());

  // The same dip of 3 windows after the warm-up is an anomaly: the rule counts windows.
  Feeder longer;
  std::mt19937_64 again(3);
  for (std::int64_t index = 0; index < 60; ++index)
    longer.window_of(index, {{1, index >= 30 && index < 33 ? 10 : noisy(again)}});
  CHECK(longer.anomalies_of(1, "move").size() == 1);
}

TEST_CASE("a spike of a signal is an anomaly of direction spike") {
  Feeder feeder;
  std::mt19937_64 random(5);
  for (std::int64_t index = 0; index < 40; ++index)
    feeder.window_of(index, {{1, index >= 20 && index < 25 ? 400 : noisy(random)}});
  const auto moves = feeder.anomalies_of(1, "move");
  REQUIRE(moves.size() == 1);
  CHECK(moves.front().direction == replay::Direction::spike);
  CHECK(moves.front().started.start_us == t0 + 20 * window);
}

TEST_CASE("moves per online player divide by the online count the joins and leaves give") {
  Behaviour behaviour;
  log::Position position = 0;
  log::Seq seq = 0;
  const auto feed = [&](std::int64_t time, std::string_view signal, std::int64_t online) {
    Observation observation{.zone = 4,
                            .seq = ++seq,
                            .position = ++position,
                            .wall_time_us = time,
                            .command_id = position};
    observation.signals.count(signal);
    observation.signals.online(online);
    behaviour.feed(observation);
  };
  for (int player = 0; player < 5; ++player)
    feed(t0 + player, "join", 1);
  // Windows 1 and 2: 40 moves by 5 players, then one leaves; window 3 closes them.
  for (std::int64_t index = 1; index <= 2; ++index) {
    for (int i = 0; i < 40; ++i)
      feed(t0 + index * window + i * 1000, "move", 0);
  }
  feed(t0 + 2 * window + 900'000, "leave", -1);
  feed(t0 + 3 * window + 5'000'000, "move", 0);
  const auto stats = behaviour.stats();
  REQUIRE(stats.size() == 2);
  const auto& zone = stats[1];
  CHECK(zone.online == 4);
  const auto per_player = std::find_if(zone.signals.begin(), zone.signals.end(),
                                       [](const auto& s) { return s.name == "move_per_player"; });
  REQUIRE(per_player != zone.signals.end());
  CHECK(per_player->windows == 2);
  CHECK(per_player->total == doctest::Approx(40.0 / 5 + 40.0 / 4));
  CHECK(per_player->last == doctest::Approx(10.0));
}

TEST_CASE("the generic signals: commands accepted once per command, rejections by reason") {
  Behaviour behaviour;
  log::Position position = 0;
  const auto feed = [&](std::int64_t time, std::uint64_t command, Observation::Kind kind,
                        std::string_view reason = "") {
    ++position;
    behaviour.feed({.zone = 1,
                    .seq = position,
                    .position = position,
                    .wall_time_us = time,
                    .command_id = command,
                    .kind = kind,
                    .reject_code = 3,
                    .reject_name = reason});
  };
  feed(t0, 0, Observation::Kind::genesis);
  // Window 1: command 10 with three events, 11 with one, a tick's event (no command), command 12
  // rejected twice as blocked, once under a code the model does not name.
  feed(t0 + window, 10, Observation::Kind::model);
  feed(t0 + window + 1, 10, Observation::Kind::model);
  feed(t0 + window + 2, 10, Observation::Kind::model);
  feed(t0 + window + 3, 11, Observation::Kind::model);
  feed(t0 + window + 4, 0, Observation::Kind::model);
  feed(t0 + window + 5, 12, Observation::Kind::rejected, "blocked");
  feed(t0 + window + 6, 13, Observation::Kind::rejected, "blocked");
  feed(t0 + window + 7, 14, Observation::Kind::rejected);
  feed(t0 + 3 * window, 15, Observation::Kind::model);
  std::map<std::string, double> totals;
  const auto stats = behaviour.stats();
  REQUIRE(stats.size() == 2);
  for (const auto& signal : stats[1].signals)
    totals[signal.name] = signal.total;
  CHECK(totals["events"] == 9);
  CHECK(totals["commands_accepted"] == 2);
  CHECK(totals["commands_rejected"] == 3);
  CHECK(totals["rejected.blocked"] == 2);
  CHECK(totals["rejected.3"] == 1);
}

TEST_CASE(
    "a window closes once the log is lateness past its end, and a later record counts after") {
  Behaviour behaviour;
  log::Position position = 0;
  const auto feed = [&](zone::ZoneId zone, std::int64_t time) {
    ++position;
    Observation observation{
        .zone = zone, .seq = position, .position = position, .wall_time_us = time};
    observation.signals.count("move");
    behaviour.feed(observation);
  };
  feed(1, t0 + 1);
  feed(1, t0 + window + 1'999'999); // not yet 2 s past window 0's end
  CHECK(behaviour.closed_windows() == 0);
  feed(2, t0 + window - 5); // zone 2 stamped it before zone 1's last: still window 0
  feed(1, t0 + window + 2'000'000);
  CHECK(behaviour.closed_windows() == 1);
  CHECK(behaviour.open_window_us() == std::optional<std::int64_t>(t0 + window));
  feed(2, t0 + window - 4); // too late for window 0: counted in window 1
  CHECK(behaviour.late_records() == 1);
  feed(1, t0 + 2 * window + 2'000'000);
  CHECK(behaviour.closed_windows() == 2);
  const auto stats = behaviour.stats();
  REQUIRE(stats.size() == 3);
  std::map<std::string, double> world;
  for (const auto& signal : stats[0].signals)
    world[signal.name] = signal.total;
  CHECK(world["move"] == 5); // window 0: 2 records, window 1: 3 (the late one with them)
  for (const auto& signal : stats[2].signals) {
    if (signal.name == "move") CHECK(signal.total == 2);
  }
}

TEST_CASE("a world that logged nothing for an hour: idle windows, no anomaly") {
  Feeder feeder;
  std::mt19937_64 random(9);
  for (std::int64_t index = 0; index < 30; ++index)
    feeder.window_of(index, {{1, noisy(random)}});
  for (std::int64_t index = 390; index < 420; ++index)
    feeder.window_of(index, {{1, noisy(random)}});
  CHECK(feeder.behaviour.anomalies().empty());
  CHECK(feeder.behaviour.idle_windows() == 360);
  CHECK(feeder.behaviour.closed_windows() == 419);
}

TEST_CASE("with a history, each signal keeps its last windows, oldest first") {
  Feeder feeder(replay::BehaviourOptions{.history = 3});
  for (std::int64_t index = 0; index < 6; ++index)
    feeder.window_of(index, {{1, static_cast<std::uint64_t>(10 + index)}});
  // Windows 0..4 are closed (window 5 is open until the log's time passes its end).
  const auto stats = feeder.behaviour.stats();
  REQUIRE(stats.size() == 2);
  for (const auto& scope : stats) {
    const auto move = std::find_if(scope.signals.begin(), scope.signals.end(),
                                   [](const auto& signal) { return signal.name == "move"; });
    REQUIRE(move != scope.signals.end());
    const std::vector<std::pair<std::int64_t, double>> expected{
        {t0 + 2 * window, 12.0}, {t0 + 3 * window, 13.0}, {t0 + 4 * window, 14.0}};
    CHECK(move->history == expected);
  }
  CHECK(Feeder{}.behaviour.stats().empty());
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// `analyze`: the behaviour projection (replay/behaviour.hpp) over a stored log, read in position
// order; each zone counted with the model its genesis names. Prints the signals of the world and
// of each zone, and the anomalies with the window of the log where each started.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/behaviour.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/tools/model_tools.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

namespace json = boost::json;

struct AnalyzeCommand {
  std::string data;
  bool json = false;
  double window_seconds = 10;
  double lateness_seconds = 2;
  replay::BehaviourOptions options;
};

std::string scope_name(const replay::Scope& zone) {
  return zone ? fmt::format("zone {}", *zone) : std::string("world");
}

json::value scope_json(const replay::Scope& zone) {
  return zone ? json::value(*zone) : json::value(nullptr);
}

json::object anomaly_json(const replay::Anomaly& anomaly, double seconds, std::int64_t width) {
  json::object object{{"zone", scope_json(anomaly.zone)},
                      {"signal", anomaly.signal},
                      {"direction", std::string(replay::to_string(anomaly.direction))},
                      {"started", replay::format_wall_time(anomaly.started.start_us)},
                      {"started_us", anomaly.started.start_us},
                      {"window_us", width},
                      {"first_position", anomaly.started.first_position},
                      {"last_position", anomaly.started.last_position},
                      {"first_seq", anomaly.started.first_seq},
                      {"last_seq", anomaly.started.last_seq},
                      {"per_second", anomaly.value / seconds},
                      {"baseline_per_second", anomaly.mean / seconds},
                      {"deviation_per_second", anomaly.deviation / seconds},
                      {"score", anomaly.score},
                      {"ended", anomaly.ended_us
                                    ? json::value(replay::format_wall_time(*anomaly.ended_us))
                                    : json::value(nullptr)}};
  return object;
}

void run_analyze(const Models& models, AnalyzeCommand& command) {
  if (!(command.window_seconds >= 0.001)) fail("--window must be at least 0.001 s");
  if (!(command.lateness_seconds >= 0)) fail("--lateness must not be negative");
  if (!(command.options.alpha > 0 && command.options.alpha <= 1)) {
    fail("--alpha must be in (0, 1]");
  }
  if (!(command.options.threshold > 0)) fail("--threshold must be positive");
  if (command.options.consecutive == 0) fail("--consecutive must be at least 1");
  command.options.window_us = static_cast<std::int64_t>(command.window_seconds * 1e6);
  command.options.lateness_us = static_cast<std::int64_t>(command.lateness_seconds * 1e6);

  const auto log = open_existing_log(command.data);
  // Every zone's model first: a zone of a model this binary does not know is refused at once.
  StreamModels zone_models(models, *log);
  for (const log::StreamId stream : log->streams()) {
    if (zone_models.of(stream) == nullptr) {
      fail(fmt::format("zone {}: this binary knows no model to read it with", stream));
    }
  }

  replay::Behaviour behaviour(command.options);
  const log::Position last = log->last_position();
  std::uint64_t events = 0;
  std::optional<std::int64_t> first_time;
  std::int64_t last_time = 0;
  std::optional<Error> failed;
  const Status scanned = log->scan_all(1, last, [&](const log::EventView& event) {
    auto observed = zone_models.of(event.stream())->observe(event);
    if (!observed.ok()) {
      failed = std::move(observed).error();
      return false;
    }
    behaviour.feed(*observed);
    ++events;
    if (!first_time) first_time = event.wall_time_us();
    last_time = event.wall_time_us();
    return true;
  });
  if (!scanned) fail(fmt::format("reading the log: {}", scanned.error()));
  if (failed) fail(fmt::format("analyzing the log: {}", *failed));

  const std::int64_t width = behaviour.options().window_us;
  const double seconds = static_cast<double>(width) / 1e6;
  const std::vector<replay::ScopeStats> scopes = behaviour.stats();
  const auto& anomalies = behaviour.anomalies();

  if (command.json) {
    json::array scope_array;
    for (const replay::ScopeStats& scope : scopes) {
      json::array signals;
      for (const replay::SignalStats& signal : scope.signals) {
        signals.emplace_back(json::object{
            {"name", signal.name},
            {"total", signal.total},
            {"windows", signal.windows},
            {"per_second", signal.windows == 0
                               ? 0.0
                               : signal.total / (static_cast<double>(signal.windows) * seconds)},
            {"last_per_second", signal.last / seconds},
            {"baseline_per_second", signal.mean / seconds},
            {"deviation_per_second", signal.deviation / seconds},
            {"learned", signal.learned},
            {"score", signal.score}});
      }
      scope_array.emplace_back(json::object{{"zone", scope_json(scope.zone)},
                                            {"online", scope.online},
                                            {"signals", std::move(signals)}});
    }
    json::array anomaly_array;
    for (const replay::Anomaly& anomaly : anomalies)
      anomaly_array.emplace_back(anomaly_json(anomaly, seconds, width));
    const auto& options = behaviour.options();
    json::object document{
        {"data", command.data},
        {"events", events},
        {"first",
         first_time ? json::value(replay::format_wall_time(*first_time)) : json::value(nullptr)},
        {"last",
         first_time ? json::value(replay::format_wall_time(last_time)) : json::value(nullptr)},
        {"options", json::object{{"window_us", options.window_us},
                                 {"lateness_us", options.lateness_us},
                                 {"alpha", options.alpha},
                                 {"warmup", options.warmup},
                                 {"threshold", options.threshold},
                                 {"consecutive", options.consecutive},
                                 {"min_deviation", options.min_deviation},
                                 {"min_relative_deviation", options.min_relative_deviation},
                                 {"min_drop_mean", options.min_drop_mean}}},
        {"windows", json::object{{"closed", behaviour.closed_windows()},
                                 {"idle", behaviour.idle_windows()},
                                 {"late_records", behaviour.late_records()}}},
        {"scopes", std::move(scope_array)},
        {"anomalies", std::move(anomaly_array)}};
    fmt::print("{}\n", json::serialize(document));
    return;
  }

  if (events == 0) {
    fmt::print("{}: an empty log, nothing to analyze\n", command.data);
    return;
  }
  fmt::print("{} events from {} to {}; windows of {} s: {} closed ({} idle), the last one(s) "
             "still open\n",
             events, replay::format_wall_time(*first_time), replay::format_wall_time(last_time),
             seconds, behaviour.closed_windows(), behaviour.idle_windows());
  for (const replay::ScopeStats& scope : scopes) {
    fmt::print("\n{} (online {})\n", scope_name(scope.zone), scope.online);
    fmt::print("  {:<28} {:>10} {:>10} {:>10} {:>10} {:>8}\n", "signal (per second)", "mean",
               "last", "baseline", "deviation", "score");
    for (const replay::SignalStats& signal : scope.signals) {
      const double mean = signal.windows == 0
                              ? 0.0
                              : signal.total / (static_cast<double>(signal.windows) * seconds);
      fmt::print("  {:<28} {:>10.3f} {:>10.3f} {:>10.3f} {:>10.3f} {:>8.2f}\n", signal.name, mean,
                 signal.last / seconds, signal.mean / seconds, signal.deviation / seconds,
                 signal.score);
    }
  }
  if (anomalies.empty()) {
    fmt::print("\nanomalies: none\n");
    return;
  }
  fmt::print("\nanomalies: {}\n", anomalies.size());
  for (const replay::Anomaly& anomaly : anomalies) {
    fmt::print("  {:<8} {:<24} {:<5} from {} ({:.3f}/s against {:.3f} ± {:.3f}, score "
               "{:.2f}), {}\n",
               scope_name(anomaly.zone), anomaly.signal, replay::to_string(anomaly.direction),
               replay::format_wall_time(anomaly.started.start_us), anomaly.value / seconds,
               anomaly.mean / seconds, anomaly.deviation / seconds, anomaly.score,
               anomaly.ended_us
                   ? fmt::format("over at {}", replay::format_wall_time(*anomaly.ended_us))
                   : std::string("still on"));
    if (anomaly.zone && anomaly.started.first_seq != 0) {
      fmt::print("      window: seqs {}..{} (positions {}..{}); worldlog replay step --data {} "
                 "--zone {} --from {}\n",
                 anomaly.started.first_seq, anomaly.started.last_seq,
                 anomaly.started.first_position, anomaly.started.last_position, command.data,
                 *anomaly.zone, anomaly.started.first_seq);
    } else if (anomaly.started.first_position != 0) {
      fmt::print("      window: positions {}..{}\n", anomaly.started.first_position,
                 anomaly.started.last_position);
    }
  }
}

} // namespace

void add_analyze_command(CLI::App& app, const Models& models) {
  auto command = std::make_shared<AnalyzeCommand>();
  auto* analyze = app.add_subcommand(
      "analyze", "Player behaviour as a health signal: rates per zone and world, baselines and "
                 "anomalies (read-only; docs/behaviour.md)");
  analyze->add_option("--data", command->data, "Directory of the log")->required();
  analyze->add_flag("--json", command->json, "One JSON document");
  analyze->add_option("--window", command->window_seconds, "Window width in seconds")
      ->capture_default_str();
  analyze
      ->add_option("--lateness", command->lateness_seconds,
                   "Seconds past a window's end before it closes")
      ->capture_default_str();
  analyze->add_option("--alpha", command->options.alpha, "EWMA weight of the newest window")
      ->capture_default_str();
  analyze
      ->add_option("--warmup", command->options.warmup, "Windows learned before anything is scored")
      ->capture_default_str();
  analyze
      ->add_option("--threshold", command->options.threshold,
                   "Score (deviations from the baseline) that puts a window out of line")
      ->capture_default_str();
  analyze
      ->add_option("--consecutive", command->options.consecutive,
                   "Out-of-line windows in a row that make an anomaly")
      ->capture_default_str();
  analyze->callback([&models, command] { run_analyze(models, *command); });
}

} // namespace worldlog::tools

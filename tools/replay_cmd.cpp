// `worldlog replay state|step|verify|diff|bisect`: past states of the reference game's zones,
// rebuilt from the log (nearest snapshot + fold), stepped through, verified, diffed, bisected.
//
// Each command prints lines for people, or with --json one JSON document for tools. Long folds
// draw a progress bar on stderr when it is a terminal (never with --json).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/game/invariants.hpp>
#include <worldlog/game/model.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/bisect.hpp>
#include <worldlog/replay/diff.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/replay/progress.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>

#include "commands.hpp"

namespace worldlog::tools {
namespace {

namespace json = boost::json;
using Model = game::Model;
using Replayed = replay::Replayed<Model>;
using Replayer = replay::Replayer<Model>;

// ---- shared ------------------------------------------------------------------------------------

/// Options every replay command has.
struct Common {
  std::string data;
  zone::ZoneId zone = 0;
  bool json = false;
};

void add_common(CLI::App& command, Common& common, bool zone_required = true) {
  command.add_option("--data", common.data, "Directory of the log")->required();
  auto* zone = command.add_option("--zone", common.zone, "The zone (its stream id)");
  if (zone_required) zone->required();
  command.add_flag("--json", common.json, "Print one JSON document");
}

template <typename T> T or_fail(Result<T> result, std::string_view doing) {
  if (!result) fail(fmt::format("{}: {}", doing, result.error()));
  return std::move(result).value();
}

/// A fold's progress bar: on stderr, only on a terminal, never under --json.
replay::ProgressBar progress_bar(const Common& common, std::string label) {
  return replay::ProgressBar(std::move(label), {.enabled = !common.json});
}

void require_events(const log::EventLog& log, const Common& common) {
  if (log.head(common.zone) == 0) {
    fail(fmt::format("zone {} has no events in {}", common.zone, common.data));
  }
}

/// Fails unless event `seq` exists: a seq of 0 or past the head names no state, and answering
/// with the head's (where the library clamps) would answer a question nobody asked.
void require_seq(const log::EventLog& log, const Common& common, log::Seq seq) {
  const log::Seq head = log.head(common.zone);
  if (seq == 0 || seq > head) {
    fail(fmt::format("zone {} has no event at seq {} (its events are 1..{})", common.zone, seq,
                     head));
  }
}

std::string hash_hex(const Model::State& state) { return log::to_hex(Model::hash(state)); }

/// "ZoneCreated", "Moved", "CommandRejected"; "undecodable" for a payload that is not.
std::string event_name(const log::EventView& event) {
  auto decoded = zone::decode_stream_event<Model>(event);
  return decoded ? std::string(replay::event_name<Model>(*decoded)) : "undecodable";
}

/// The event for people: seq, wall time, actor, command id, name, and its fields as JSON.
std::string event_line(const log::EventView& event) {
  const auto described = zone::describe_event<Model>(event);
  return fmt::format("seq {}  {}  {}  cmd {}  {}  {}", event.seq(),
                     replay::format_wall_time(event.wall_time_us()), event.actor(),
                     event.command_id(), event_name(event),
                     described ? json::serialize(*described) : std::string("(does not decode)"));
}

json::object event_json(const log::EventView& event) {
  json::object object{{"seq", event.seq()},
                      {"position", event.position()},
                      {"wall_time_us", event.wall_time_us()},
                      {"wall_time", replay::format_wall_time(event.wall_time_us())},
                      {"actor", fmt::format("{}", event.actor())},
                      {"command_id", event.command_id()},
                      {"rules_version", event.rules_version()},
                      {"payload_type", event.payload_type()},
                      {"name", event_name(event)}};
  auto described = zone::describe_event<Model>(event);
  object["event"] = described ? std::move(*described) : json::value(nullptr);
  return object;
}

/// Where a rebuilt state stands, without the state itself.
json::object position_json(const Replayed& replayed) {
  return {{"seq", replayed.seq},
          {"wall_time_us", replayed.wall_time_us},
          {"wall_time", replay::format_wall_time(replayed.wall_time_us)},
          {"from_snapshot", replayed.from_snapshot},
          {"folded", replayed.folded},
          {"state_hash", hash_hex(replayed.state)}};
}

std::string rebuilt_from(const Replayed& replayed) {
  if (replayed.from_snapshot == 0) {
    return fmt::format("folded from seq 1 ({} events)", replayed.folded);
  }
  return fmt::format("rebuilt from the snapshot at seq {} + {} events", replayed.from_snapshot,
                     replayed.folded);
}

void print_json(const json::value& document) {
  fmt::print("{}\n", json::serialize(document));
  std::fflush(stdout);
}

// ---- state -------------------------------------------------------------------------------------

struct StateOptions {
  Common common;
  std::optional<log::Seq> at;
  std::optional<std::string> at_time;
};

/// A state as lines: its scalars as `key: value`, each list as a count and one line per entry.
void print_state(const json::value& state) {
  const json::object* fields = state.if_object();
  if (fields == nullptr) {
    fmt::print("{}\n", json::serialize(state));
    return;
  }
  for (const auto& field : *fields) {
    if (const json::array* list = field.value().if_array()) {
      fmt::print("{} ({}):\n", std::string_view(field.key()), list->size());
      for (const json::value& entry : *list)
        fmt::print("  {}\n", json::serialize(entry));
    } else {
      fmt::print("{}: {}\n", std::string_view(field.key()), json::serialize(field.value()));
    }
  }
}

void run_state(const StateOptions& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  if (options.at) require_seq(*log, common, *options.at);
  auto bar = progress_bar(common, fmt::format("zone {}", common.zone));
  const Replayer replayer(*log, common.zone, bar.callback());
  const auto rebuild = [&]() -> Result<Replayed> {
    if (!options.at_time) return replayer.state_at(options.at.value_or(log::end_seq));
    const auto time = or_fail(replay::parse_wall_time(*options.at_time), "--at-time");
    auto rebuilt = replayer.state_at_time(time);
    if (!rebuilt && rebuilt.error().code() == Errc::not_found) {
      fail(fmt::format("zone {} has no event at or before {} (its first event is later)",
                       common.zone, replay::format_wall_time(time)));
    }
    return rebuilt;
  };
  const Replayed state = or_fail(rebuild(), "replay failed");
  const log::Seq head = log->head(common.zone);

  if (common.json) {
    json::object document{{"zone", common.zone}, {"head", head}};
    for (auto& [key, value] : position_json(state))
      document[key] = value;
    document["state"] = Model::to_json(state.state);
    print_json(document);
    return;
  }
  fmt::print("zone {} after seq {} of {}, {}\n", common.zone, state.seq, head,
             replay::format_wall_time(state.wall_time_us));
  fmt::print("{}; state hash {}\n", rebuilt_from(state), hash_hex(state.state));
  print_state(Model::to_json(state.state));
}

// ---- step --------------------------------------------------------------------------------------

struct StepOptions {
  Common common;
  log::Seq from = 1;
  std::uint64_t count = 1;
};

void run_step(const StepOptions& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  require_seq(*log, common, options.from);
  const log::Seq head = log->head(common.zone);
  auto bar = progress_bar(common, fmt::format("zone {}", common.zone));
  const Replayer replayer(*log, common.zone, bar.callback());

  // The cursor starts on the event before the first step; seq 1 has no state before it, so a
  // step from there shows its whole state as added.
  const bool from_genesis = options.from == 1;
  auto cursor = or_fail(replayer.cursor(from_genesis ? 1 : options.from - 1), "replay failed");
  json::value before = from_genesis ? json::value(nullptr) : Model::to_json(cursor.current().state);
  json::array steps;
  for (std::uint64_t i = 0; i < options.count; ++i) {
    if ((i > 0 || !from_genesis) && !or_fail(cursor.next(), "replay failed")) break;
    json::value after = Model::to_json(cursor.current().state);
    const auto changes = replay::diff(before, after);
    const log::EventView event = cursor.event().view();
    if (common.json) {
      json::object step = event_json(event);
      step["changes"] = replay::to_json(changes);
      step["state_hash"] = hash_hex(cursor.current().state);
      steps.push_back(std::move(step));
    } else {
      fmt::print("{}\n", event_line(event));
      if (changes.empty()) fmt::print("  (no change)\n");
      for (const auto& change : changes)
        fmt::print("  {}\n", replay::to_string(change));
    }
    before = std::move(after);
  }
  const log::Seq last = cursor.current().seq;
  if (common.json) {
    print_json(json::object{{"zone", common.zone},
                            {"from", options.from},
                            {"head", head},
                            {"steps", std::move(steps)}});
  } else if (last == head && options.from + options.count - 1 > head) {
    fmt::print("(the head of zone {}: seq {})\n", common.zone, head);
  }
}

// ---- verify ------------------------------------------------------------------------------------

struct VerifyCommand {
  Common common;
};

json::value hash_json(const std::optional<log::Hash>& hash) {
  return hash ? json::value(log::to_hex(*hash)) : json::value(nullptr);
}

json::object problem_json(const replay::Problem& problem, zone::ZoneId zone) {
  return {{"zone", zone},
          {"kind", replay::to_string(problem.kind)},
          {"seq", problem.seq},
          {"message", problem.message},
          {"expected", hash_json(problem.expected)},
          {"actual", hash_json(problem.actual)}};
}

json::object verdict_json(const replay::StreamVerdict& verdict) {
  json::array snapshots;
  for (const auto& snapshot : verdict.snapshots) {
    snapshots.push_back(json::object{
        {"seq", snapshot.seq},
        {"rules_version", snapshot.rules_version},
        {"recorded", hash_json(snapshot.recorded)},
        {"refolded", hash_json(snapshot.refolded)},
        {"matches", snapshot.recorded.has_value() && snapshot.recorded == snapshot.refolded},
        {"unusable",
         snapshot.unusable.empty() ? json::value(nullptr) : json::value(snapshot.unusable)}});
  }
  return {{"zone", verdict.zone},
          {"ok", verdict.ok()},
          {"head", verdict.head},
          {"folded", verdict.folded},
          {"model", verdict.model},
          {"genesis_rules_version",
           verdict.genesis_rules ? json::value(*verdict.genesis_rules) : json::value(nullptr)},
          {"event_rules_versions",
           json::object{{"min", verdict.min_event_rules}, {"max", verdict.max_event_rules}}},
          {"snapshots", std::move(snapshots)},
          {"head_hash", hash_json(verdict.head_hash)},
          {"head_from_snapshot", verdict.head_from_snapshot},
          {"problem", verdict.problem ? json::value(problem_json(*verdict.problem, verdict.zone))
                                      : json::value(nullptr)}};
}

std::string rules_text(const replay::StreamVerdict& verdict) {
  std::string text = fmt::format("rules: running {}", Model::rules_version);
  if (verdict.genesis_rules) text += fmt::format(", genesis {}", *verdict.genesis_rules);
  if (verdict.folded > 1) {
    text += verdict.min_event_rules == verdict.max_event_rules
                ? fmt::format(", events {}", verdict.min_event_rules)
                : fmt::format(", events {}..{}", verdict.min_event_rules, verdict.max_event_rules);
  }
  return text;
}

void print_verdict(const replay::StreamVerdict& verdict) {
  if (verdict.ok()) {
    std::string compared;
    for (const auto& snapshot : verdict.snapshots)
      compared += fmt::format("{}{}", compared.empty() ? "" : ", ", snapshot.seq);
    const std::string head = log::to_hex(*verdict.head_hash).substr(0, 16);
    fmt::print("zone {}: {} events refolded from scratch; {}; {}\n", verdict.zone, verdict.folded,
               compared.empty()
                   ? fmt::format("no stored snapshot to compare, head state hash {}", head)
                   : fmt::format("the state hash matches at the snapshots (seq {}) and at the "
                                 "head ({})",
                                 compared, head),
               rules_text(verdict));
    return;
  }
  const replay::Problem& problem = *verdict.problem;
  fmt::print("zone {}: {} at seq {}: {}\n", verdict.zone, replay::to_string(problem.kind),
             problem.seq, problem.message);
  if (problem.expected && problem.actual) {
    fmt::print("  expected {}\n  actual   {}\n", log::to_hex(*problem.expected),
               log::to_hex(*problem.actual));
  }
  fmt::print("  {}\n", rules_text(verdict));
}

void run_verify(const VerifyCommand& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  std::vector<zone::ZoneId> zones;
  if (common.zone != 0) {
    require_events(*log, common);
    zones.push_back(common.zone);
  } else {
    zones = log->streams();
  }

  replay::VerifyReport report;
  report.running_rules = Model::rules_version;
  for (const zone::ZoneId zone : zones) {
    auto bar = progress_bar(common, fmt::format("verifying zone {}", zone));
    report.streams.push_back(
        replay::verify_stream<Model>(*log, zone, {.zone = zone, .progress = bar.callback()}));
    if (!common.json) print_verdict(report.streams.back());
  }

  const replay::StreamVerdict* bad = report.first_problem();
  if (common.json) {
    json::array streams;
    for (const auto& verdict : report.streams)
      streams.push_back(verdict_json(verdict));
    print_json(
        json::object{{"ok", report.ok()},
                     {"running_rules_version", report.running_rules},
                     {"streams", std::move(streams)},
                     {"first_problem", bad ? json::value(problem_json(*bad->problem, bad->zone))
                                           : json::value(nullptr)}});
  } else if (report.ok()) {
    fmt::print("{} zone{} verified: every refold matches\n", zones.size(),
               zones.size() == 1 ? "" : "s");
  }
  if (bad != nullptr) {
    std::fflush(stdout); // the report first, then why the exit status is 1
    fail(fmt::format("replay verify failed: zone {} seq {}: {}", bad->zone, bad->problem->seq,
                     bad->problem->message));
  }
}

// ---- diff --------------------------------------------------------------------------------------

struct DiffOptions {
  Common common;
  log::Seq from = 0;
  log::Seq to = 0;
};

void run_diff(const DiffOptions& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  require_seq(*log, common, options.from);
  require_seq(*log, common, options.to);
  auto bar = progress_bar(common, fmt::format("zone {}", common.zone));
  const Replayer replayer(*log, common.zone, bar.callback());
  const Replayed from = or_fail(replayer.state_at(options.from), "replay failed");
  // Folded on from the first state when no snapshot is nearer.
  const Replayed to = or_fail(replayer.state_at(options.to, from), "replay failed");
  const auto changes = replay::diff_states<Model>(from.state, to.state);

  if (common.json) {
    print_json(json::object{{"zone", common.zone},
                            {"from", position_json(from)},
                            {"to", position_json(to)},
                            {"changes", replay::to_json(changes)}});
    return;
  }
  fmt::print("zone {}: seq {} ({}) -> seq {} ({}): {} change{}\n", common.zone, from.seq,
             replay::format_wall_time(from.wall_time_us), to.seq,
             replay::format_wall_time(to.wall_time_us), changes.size(),
             changes.size() == 1 ? "" : "s");
  for (const auto& change : changes)
    fmt::print("{}\n", replay::to_string(change));
}

// ---- bisect ------------------------------------------------------------------------------------

struct BisectOptions {
  Common common;
  std::string invariant;
  std::optional<log::Seq> to; ///< default: the head
};

void run_bisect(const BisectOptions& options) {
  const Common& common = options.common;
  const auto invariants = game::invariants();
  const auto* invariant = invariants.find(options.invariant);
  if (invariant == nullptr) {
    std::string known;
    for (const auto& each : invariants.all())
      known += fmt::format("{}{}", known.empty() ? "" : ", ", each.name);
    fail(fmt::format("no invariant named '{}' (known: {})", options.invariant, known));
  }
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  if (options.to) require_seq(*log, common, *options.to);
  auto bar = progress_bar(common, fmt::format("bisecting zone {}", common.zone));
  const Replayer replayer(*log, common.zone, bar.callback());
  const auto found = or_fail(
      replay::bisect(replayer, *invariant, options.to.value_or(log::end_seq)), "bisect failed");

  if (common.json) {
    json::object document{{"zone", common.zone},
                          {"invariant", invariant->name},
                          {"head", found.head},
                          {"probes", found.probes},
                          {"holds", !found.first_bad.has_value()}};
    if (found.first_bad) {
      document["first_bad_seq"] = *found.first_bad;
      document["violation"] = found.violation;
      document["event"] =
          found.event ? json::value(event_json(found.event->view())) : json::value(nullptr);
    }
    print_json(document);
    return;
  }
  if (!found.first_bad) {
    fmt::print("zone {}: {} holds after seq {}{}; {} state{} checked\n", common.zone,
               invariant->name, found.head,
               found.head == log->head(common.zone) ? " (the head)" : "", found.probes,
               found.probes == 1 ? "" : "s");
    return;
  }
  fmt::print("zone {}: {} fails first after seq {} of {} ({} states checked)\n", common.zone,
             invariant->name, *found.first_bad, found.head, found.probes);
  fmt::print("  {}\n", found.violation);
  if (found.event) fmt::print("{}\n", event_line(found.event->view()));
}

} // namespace

void add_replay_commands(CLI::App& replay) {
  {
    auto options = std::make_shared<StateOptions>();
    auto* command = replay.add_subcommand(
        "state", "Print a zone's state after a seq or at a time (default: the head), rebuilt "
                 "from the nearest snapshot");
    add_common(*command, options->common);
    auto* at = command->add_option("--at", options->at, "The state after this seq");
    command
        ->add_option("--at-time", options->at_time,
                     "The state after the last event at or before this time (ISO 8601, UTC "
                     "unless it says otherwise, or µs since the epoch)")
        ->excludes(at);
    command->callback([options] { run_state(*options); });
  }
  {
    auto options = std::make_shared<StepOptions>();
    auto* command = replay.add_subcommand(
        "step", "Step through a zone's events from a seq: each event, then what it changed");
    add_common(*command, options->common);
    command->add_option("--from", options->from, "The first event to show")->required();
    command->add_option("--count", options->count, "How many events")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    command->callback([options] { run_step(*options); });
  }
  {
    auto options = std::make_shared<VerifyCommand>();
    auto* command = replay.add_subcommand(
        "verify", "Refold every zone (or one) from scratch and compare its state hash at every "
                  "stored snapshot and at the head; exit 1 on any divergence");
    add_common(*command, options->common, false);
    command->callback([options] { run_verify(*options); });
  }
  {
    auto options = std::make_shared<DiffOptions>();
    auto* command = replay.add_subcommand(
        "diff", "What changed in a zone between two seqs, entity by entity, field by field");
    add_common(*command, options->common);
    command->add_option("--from", options->from, "The state after this seq")->required();
    command->add_option("--to", options->to, "...compared with the state after this seq")
        ->required();
    command->callback([options] { run_diff(*options); });
  }
  {
    auto options = std::make_shared<BisectOptions>();
    std::string names;
    const auto invariants = game::invariants();
    for (const auto& invariant : invariants.all())
      names += fmt::format("\n  {}: {}", invariant.name, invariant.description);
    auto* command = replay.add_subcommand(
        "bisect", "Find the first event after which an invariant fails (binary search over "
                  "rebuilt states)");
    add_common(*command, options->common);
    command->add_option("--invariant", options->invariant, "The invariant, one of:" + names)
        ->required();
    command->add_option("--to", options->to,
                        "Search up to this seq, where the invariant is known to fail (default: "
                        "the head)");
    command->callback([options] { run_bisect(*options); });
  }
}

} // namespace worldlog::tools

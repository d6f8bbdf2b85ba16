// `replay state|step|verify|diff|bisect`: past states of a zone, rebuilt from the log (nearest
// snapshot + fold), stepped through, verified, diffed, bisected; each zone with the model its
// genesis names (tool_commands.hpp, StreamModels).
//
// Each command prints lines for people, or with --json one JSON document for tools. Long folds
// draw a progress bar on stderr when it is a terminal (never with --json).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/diff.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/replay/progress.hpp>
#include <worldlog/replay/verify.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/tools/model_tools.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

namespace json = boost::json;

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

/// The model of the zone a command names (after require_events: the zone has a first record).
const ModelTools& model_of(const Models& models, const log::EventLog& log, const Common& common) {
  return tools::model_of(models, log, common.zone);
}

/// The event for people: seq, wall time, actor, command id, name, and its fields as JSON.
std::string event_line(const ModelTools& model, const log::EventView& event) {
  const auto described = model.describe(event);
  return fmt::format("seq {}  {}  {}  cmd {}  {}  {}", event.seq(),
                     replay::format_wall_time(event.wall_time_us()), event.actor(),
                     event.command_id(), model.event_name(event),
                     described ? json::serialize(*described) : std::string("(does not decode)"));
}

json::object event_json(const ModelTools& model, const log::EventView& event) {
  json::object object{{"seq", event.seq()},
                      {"position", event.position()},
                      {"wall_time_us", event.wall_time_us()},
                      {"wall_time", replay::format_wall_time(event.wall_time_us())},
                      {"actor", fmt::format("{}", event.actor())},
                      {"command_id", event.command_id()},
                      {"rules_version", event.rules_version()},
                      {"payload_type", event.payload_type()},
                      {"name", model.event_name(event)}};
  auto described = model.describe(event);
  object["event"] = described ? std::move(*described) : json::value(nullptr);
  return object;
}

/// Where a rebuilt state stands, without the state itself.
json::object position_json(const StateAt& replayed) {
  return {{"seq", replayed.seq},
          {"wall_time_us", replayed.wall_time_us},
          {"wall_time", replay::format_wall_time(replayed.wall_time_us)},
          {"from_snapshot", replayed.from_snapshot},
          {"folded", replayed.folded},
          {"state_hash", log::to_hex(replayed.hash)}};
}

std::string rebuilt_from(const StateAt& replayed) {
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

void run_state(const Models& models, const StateOptions& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  if (options.at) require_seq(*log, common, *options.at);
  const ModelTools& model = model_of(models, *log, common);
  auto bar = progress_bar(common, fmt::format("zone {}", common.zone));
  const auto rebuild = [&]() -> Result<StateAt> {
    if (!options.at_time) {
      return model.state_at(*log, common.zone, options.at.value_or(log::end_seq), bar.callback());
    }
    const auto time = or_fail(replay::parse_wall_time(*options.at_time), "--at-time");
    auto rebuilt = model.state_at_time(*log, common.zone, time, bar.callback());
    if (!rebuilt && rebuilt.error().code() == Errc::not_found) {
      fail(fmt::format("zone {} has no event at or before {} (its first event is later)",
                       common.zone, replay::format_wall_time(time)));
    }
    return rebuilt;
  };
  const StateAt state = or_fail(rebuild(), "replay failed");
  const log::Seq head = log->head(common.zone);

  if (common.json) {
    json::object document{{"zone", common.zone}, {"head", head}};
    for (auto& [key, value] : position_json(state))
      document[key] = value;
    document["state"] = state.state;
    print_json(document);
    return;
  }
  fmt::print("zone {} after seq {} of {}, {}\n", common.zone, state.seq, head,
             replay::format_wall_time(state.wall_time_us));
  fmt::print("{}; state hash {}\n", rebuilt_from(state), log::to_hex(state.hash));
  print_state(state.state);
}

// ---- step --------------------------------------------------------------------------------------

struct StepOptions {
  Common common;
  log::Seq from = 1;
  std::uint64_t count = 1;
};

void run_step(const Models& models, const StepOptions& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  require_seq(*log, common, options.from);
  const ModelTools& model = model_of(models, *log, common);
  const log::Seq head = log->head(common.zone);
  auto bar = progress_bar(common, fmt::format("zone {}", common.zone));

  // A step from seq 1 has no state before it, so it shows the whole state as added.
  json::array steps;
  const auto show = [&](const log::EventView& event, const json::value& before,
                        const json::value& after, const log::Hash& hash) {
    const auto changes = replay::diff(before, after);
    if (common.json) {
      json::object step = event_json(model, event);
      step["changes"] = replay::to_json(changes);
      step["state_hash"] = log::to_hex(hash);
      steps.push_back(std::move(step));
    } else {
      fmt::print("{}\n", event_line(model, event));
      if (changes.empty()) fmt::print("  (no change)\n");
      for (const auto& change : changes)
        fmt::print("  {}\n", replay::to_string(change));
    }
  };
  const log::Seq last =
      or_fail(model.step(*log, common.zone, options.from, options.count, show, bar.callback()),
              "replay failed");
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
    json::object versions;
    for (const zone::EventVersion& version : snapshot.event_versions)
      versions[std::to_string(version.payload_type)] = version.version;
    snapshots.push_back(json::object{
        {"seq", snapshot.seq},
        {"rules_version", snapshot.rules_version},
        {"event_versions", std::move(versions)},
        {"recorded", hash_json(snapshot.recorded)},
        {"refolded", hash_json(snapshot.refolded)},
        {"matches", snapshot.recorded.has_value() && snapshot.recorded == snapshot.refolded},
        {"unusable",
         snapshot.unusable.empty() ? json::value(nullptr) : json::value(snapshot.unusable)}});
  }
  json::array spans;
  for (const auto& span : verdict.rules_spans) {
    spans.push_back(json::object{
        {"first", span.first},
        {"last", span.last},
        {"version", span.rules.version},
        {"hash",
         span.error.empty() ? json::value(log::to_hex(span.rules.hash)) : json::value(nullptr)},
        {"error", span.error.empty() ? json::value(nullptr) : json::value(span.error)}});
  }
  return {{"zone", verdict.zone},
          {"ok", verdict.ok()},
          {"head", verdict.head},
          {"folded", verdict.folded},
          {"model", verdict.model},
          {"rules_spans", std::move(spans)},
          {"genesis_rules_version",
           verdict.genesis_rules ? json::value(*verdict.genesis_rules) : json::value(nullptr)},
          {"event_rules_versions",
           json::object{{"min", verdict.min_event_rules}, {"max", verdict.max_event_rules}}},
          {"upcast_events", verdict.upcast_events},
          {"first_upcast", verdict.first_upcast},
          {"snapshots", std::move(snapshots)},
          {"head_hash", hash_json(verdict.head_hash)},
          {"head_from_snapshot", verdict.head_from_snapshot},
          {"problem", verdict.problem ? json::value(problem_json(*verdict.problem, verdict.zone))
                                      : json::value(nullptr)}};
}

/// "rules: running 1, genesis 1, events 1": the rules of the stream's model in this binary, and
/// those the stream recorded.
std::string rules_text(const replay::StreamVerdict& verdict, std::uint32_t running) {
  std::string text = fmt::format("rules: running {}", running);
  if (verdict.genesis_rules) text += fmt::format(", genesis {}", *verdict.genesis_rules);
  if (verdict.folded > 1) {
    text += verdict.min_event_rules == verdict.max_event_rules
                ? fmt::format(", events {}", verdict.min_event_rules)
                : fmt::format(", events {}..{}", verdict.min_event_rules, verdict.max_event_rules);
  }
  if (verdict.upcast_events != 0) {
    text += fmt::format("; {} events upcast from an older schema version (the first at seq {})",
                        verdict.upcast_events, verdict.first_upcast);
  }
  return text;
}

/// "  decided by: seqs 1–480 rules version 1 (3f1a9c0d2e4b); seqs 481–903 rules version 2
/// (...)": which rules decided which seqs (models whose rules are data); "" when none.
std::string spans_text(const replay::StreamVerdict& verdict) {
  std::string text;
  for (const auto& span : verdict.rules_spans) {
    text += text.empty() ? "  decided by: " : "; ";
    const std::string seqs = span.last >= span.first
                                 ? fmt::format("seqs {}–{}", span.first, span.last)
                                 : fmt::format("from seq {} on (no event yet)", span.first);
    text += span.error.empty() ? fmt::format("{} rules version {} ({})", seqs, span.rules.version,
                                             log::to_hex(span.rules.hash).substr(0, 12))
                               : fmt::format("{} rules that do not parse ({})", seqs, span.error);
  }
  return text.empty() ? text : text + "\n";
}

void print_verdict(const replay::StreamVerdict& verdict, std::uint32_t running) {
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
               rules_text(verdict, running));
    fmt::print("{}", spans_text(verdict));
    return;
  }
  const replay::Problem& problem = *verdict.problem;
  fmt::print("zone {}: {} at seq {}: {}\n", verdict.zone, replay::to_string(problem.kind),
             problem.seq, problem.message);
  if (problem.expected && problem.actual) {
    fmt::print("  expected {}\n  actual   {}\n", log::to_hex(*problem.expected),
               log::to_hex(*problem.actual));
  }
  fmt::print("  {}\n{}", rules_text(verdict, running), spans_text(verdict));
}

void run_verify(const Models& models, const VerifyCommand& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  std::vector<zone::ZoneId> zones;
  if (common.zone != 0) {
    require_events(*log, common);
    zones.push_back(common.zone);
  } else {
    zones = log->streams();
  }
  // Every zone's model before any is verified: a zone of a model this binary does not know is
  // refused before the report starts.
  std::vector<const ModelTools*> zone_models;
  for (const zone::ZoneId zone : zones)
    zone_models.push_back(&tools::model_of(models, *log, zone));

  // The rules version the report runs: that of the one model of every zone (of the first model
  // registered when there are no zones), or null for zones of several models, each of which
  // names its own in its line.
  json::value running_rules = nullptr;
  if (zone_models.empty() && !models.all().empty()) {
    running_rules = models.all().front()->rules_version();
  } else if (!zone_models.empty() &&
             std::all_of(zone_models.begin(), zone_models.end(),
                         [&](const ModelTools* model) { return model == zone_models.front(); })) {
    running_rules = zone_models.front()->rules_version();
  }

  replay::VerifyReport report;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    const zone::ZoneId zone = zones[i];
    auto bar = progress_bar(common, fmt::format("verifying zone {}", zone));
    report.streams.push_back(
        zone_models[i]->verify(*log, zone, {.zone = zone, .progress = bar.callback()}));
    if (!common.json) print_verdict(report.streams.back(), zone_models[i]->rules_version());
  }

  const replay::StreamVerdict* bad = report.first_problem();
  if (common.json) {
    json::array streams;
    for (const auto& verdict : report.streams)
      streams.push_back(verdict_json(verdict));
    print_json(
        json::object{{"ok", report.ok()},
                     {"running_rules_version", running_rules},
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

void run_diff(const Models& models, const DiffOptions& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  require_seq(*log, common, options.from);
  require_seq(*log, common, options.to);
  const ModelTools& model = model_of(models, *log, common);
  auto bar = progress_bar(common, fmt::format("zone {}", common.zone));
  // The second state is folded on from the first when no snapshot is nearer.
  const StateDiff diff = or_fail(
      model.diff(*log, common.zone, options.from, options.to, bar.callback()), "replay failed");
  const StateAt& from = diff.from;
  const StateAt& to = diff.to;
  const auto& changes = diff.changes;

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

/// The names of `invariants`, "a, b, c".
std::string names_of(const std::vector<InvariantInfo>& invariants) {
  std::string names;
  for (const auto& invariant : invariants)
    names += fmt::format("{}{}", names.empty() ? "" : ", ", invariant.name);
  return names;
}

bool has_invariant(const ModelTools& model, std::string_view name) {
  const auto invariants = model.invariants();
  return std::any_of(invariants.begin(), invariants.end(),
                     [&](const InvariantInfo& invariant) { return invariant.name == name; });
}

void run_bisect(const Models& models, const BisectOptions& options) {
  const Common& common = options.common;
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  if (options.to) require_seq(*log, common, *options.to);
  // The invariants are the zone's model's: a name it lacks is refused listing its own.
  const ModelTools& model = model_of(models, *log, common);
  if (!has_invariant(model, options.invariant)) {
    fail(fmt::format("no invariant named '{}' (known: {})", options.invariant,
                     model.invariants().empty() ? std::string("none")
                                                : names_of(model.invariants())));
  }
  auto bar = progress_bar(common, fmt::format("bisecting zone {}", common.zone));
  const auto found = or_fail(model.bisect(*log, common.zone, options.invariant,
                                          options.to.value_or(log::end_seq), bar.callback()),
                             "bisect failed");
  const std::string& invariant = options.invariant;

  if (common.json) {
    json::object document{{"zone", common.zone},
                          {"invariant", invariant},
                          {"head", found.head},
                          {"probes", found.probes},
                          {"holds", !found.first_bad.has_value()}};
    if (found.first_bad) {
      document["first_bad_seq"] = *found.first_bad;
      document["violation"] = found.violation;
      document["event"] =
          found.event ? json::value(event_json(model, found.event->view())) : json::value(nullptr);
    }
    print_json(document);
    return;
  }
  if (!found.first_bad) {
    fmt::print("zone {}: {} holds after seq {}{}; {} state{} checked\n", common.zone, invariant,
               found.head, found.head == log->head(common.zone) ? " (the head)" : "", found.probes,
               found.probes == 1 ? "" : "s");
    return;
  }
  fmt::print("zone {}: {} fails first after seq {} of {} ({} states checked)\n", common.zone,
             invariant, *found.first_bad, found.head, found.probes);
  fmt::print("  {}\n", found.violation);
  if (found.event) fmt::print("{}\n", event_line(model, found.event->view()));
}

// ---- whatif ------------------------------------------------------------------------------------

struct WhatIfCommand {
  Common common;
  log::Seq from = 0;
  std::optional<log::Seq> to; ///< default: the head
  std::string rules;
};

/// "v2 (1a2b3c4d)": a rules id of a what-if report.
std::string rules_id_text(const json::value& rules) {
  return fmt::format("v{} ({})", rules.at("version").to_number<std::int64_t>(),
                     std::string_view(rules.at("hash").as_string()).substr(0, 8));
}

/// "accepted", or "rejected (cooldown: the player attacked too recently)".
std::string outcome_text(const json::object& outcome) {
  if (outcome.at("accepted").as_bool()) return "accepted";
  const json::value* name = outcome.if_contains("reject");
  return fmt::format("rejected ({}: {})",
                     name != nullptr
                         ? std::string(name->as_string())
                         : fmt::format("code {}", outcome.at("code").to_number<std::int64_t>()),
                     std::string_view(outcome.at("reason").as_string()));
}

/// "hp: 80 -> 62", "added", "inventory removed": one change of an entity (replay::to_json).
std::string change_text(const json::object& change) {
  const std::string_view kind = change.at("change").as_string();
  const std::string_view path = change.at("path").as_string();
  if (kind == "changed") {
    return fmt::format("{}: {} -> {}", path, json::serialize(change.at("before")),
                       json::serialize(change.at("after")));
  }
  return path.empty() ? std::string(kind) : fmt::format("{} {}", path, kind);
}

void run_whatif(const Models& models, const WhatIfCommand& options) {
  const Common& common = options.common;
  const std::string rules = read_text_file(options.rules, "--rules");
  const auto log = open_existing_log(common.data);
  require_events(*log, common);
  require_seq(*log, common, options.from);
  if (options.to) require_seq(*log, common, *options.to);
  const ModelTools& model = model_of(models, *log, common);
  const json::object report = or_fail(
      model.what_if(*log, common.zone, options.from, options.to.value_or(log::end_seq), rules),
      "whatif failed");
  if (common.json) {
    print_json(report);
    return;
  }
  const auto number = [&report](std::string_view key) {
    return report.at(key).to_number<std::uint64_t>();
  };
  fmt::print("zone {}: seqs {}..{} decided again under rules {} instead of {}\n", common.zone,
             number("from"), number("to"), rules_id_text(report.at("rules_after")),
             rules_id_text(report.at("rules_before")));
  fmt::print("{} commands and {} ticks; events {} -> {}, {} differing in {} decisions\n",
             number("commands"), number("ticks"), number("events_before"), number("events_after"),
             number("differing_events"), number("differing_decisions"));
  if (report.at("same").as_bool()) {
    fmt::print("no difference: the same outcomes, events and final state\n");
    return;
  }
  const auto& outcomes = report.at("outcome_changes").as_array();
  fmt::print("{} command{} with another outcome\n", outcomes.size(),
             outcomes.size() == 1 ? "" : "s");
  for (const auto& change : outcomes) {
    const auto& object = change.as_object();
    const auto& actor = object.at("actor").as_object();
    fmt::print("  seq {} {}:{} {} {}: {} -> {}\n", object.at("seq").to_number<std::int64_t>(),
               std::string_view(actor.at("kind").as_string()),
               actor.at("id").to_number<std::int64_t>(),
               std::string_view(object.at("command").at("type").as_string()),
               json::serialize(object.at("command")), outcome_text(object.at("before").as_object()),
               outcome_text(object.at("after").as_object()));
  }
  fmt::print("events by kind, where the count differs:\n");
  for (const auto& [name, count] : report.at("event_counts").as_object()) {
    const auto before = count.at("before").to_number<std::uint64_t>();
    const auto after = count.at("after").to_number<std::uint64_t>();
    if (before != after)
      fmt::print("  {:<18} {:>8} -> {}\n", std::string_view(name), before, after);
  }
  const auto& entities = report.at("entities").as_array();
  fmt::print("{} entit{} end up different\n", entities.size(), entities.size() == 1 ? "y" : "ies");
  for (const auto& entity : entities) {
    std::string fields;
    for (const auto& change : entity.at("changes").as_array())
      fields += fmt::format("{}{}", fields.empty() ? "" : "; ", change_text(change.as_object()));
    fmt::print("  {}: {}\n", std::string_view(entity.at("path").as_string()), fields);
  }
  fmt::print("final state: {} change{}; hash {} -> {}\n", report.at("diff").as_array().size(),
             report.at("diff").as_array().size() == 1 ? "" : "s",
             std::string_view(report.at("hash_before").as_string()).substr(0, 16),
             std::string_view(report.at("hash_after").as_string()).substr(0, 16));
}

} // namespace

CLI::Option* add_replay_commands(CLI::App& replay, const Models& models) {
  CLI::Option* invariant = nullptr;
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
    command->callback([&models, options] { run_state(models, *options); });
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
    command->callback([&models, options] { run_step(models, *options); });
  }
  {
    auto options = std::make_shared<VerifyCommand>();
    auto* command = replay.add_subcommand(
        "verify", "Refold every zone (or one) from scratch and compare its state hash at every "
                  "stored snapshot and at the head; exit 1 on any divergence");
    add_common(*command, options->common, false);
    command->callback([&models, options] { run_verify(models, *options); });
  }
  {
    auto options = std::make_shared<DiffOptions>();
    auto* command = replay.add_subcommand(
        "diff", "What changed in a zone between two seqs, entity by entity, field by field");
    add_common(*command, options->common);
    command->add_option("--from", options->from, "The state after this seq")->required();
    command->add_option("--to", options->to, "...compared with the state after this seq")
        ->required();
    command->callback([&models, options] { run_diff(models, *options); });
  }
  {
    auto options = std::make_shared<BisectOptions>();
    auto* command = replay.add_subcommand(
        "bisect", "Find the first event after which an invariant fails (binary search over "
                  "rebuilt states)");
    add_common(*command, options->common);
    // Described by Cli::run, once the models are registered (invariants_help).
    invariant = command->add_option("--invariant", options->invariant)->required();
    command->add_option("--to", options->to,
                        "Search up to this seq, where the invariant is known to fail (default: "
                        "the head)");
    command->callback([&models, options] { run_bisect(models, *options); });
  }
  {
    auto options = std::make_shared<WhatIfCommand>();
    auto* command = replay.add_subcommand(
        "whatif", "Decide a span of a zone's recorded commands and ticks again under other rules, "
                  "and show what would have been different");
    add_common(*command, options->common);
    command->add_option("--from", options->from, "The first event to decide again (after seq 1)")
        ->required();
    command->add_option("--to", options->to, "The last (default: the head)");
    command->add_option("--rules", options->rules, "The rules file to decide under")->required();
    command->callback([&models, options] { run_whatif(models, *options); });
  }
  return invariant;
}

std::string invariants_help(const Models& models) {
  std::string help = "The invariant, one of:";
  const bool several = models.all().size() > 1;
  for (const auto& model : models.all()) {
    if (several) help += fmt::format("\n  of {}:", model->name());
    for (const auto& invariant : model->invariants())
      help +=
          fmt::format("\n  {}{}: {}", several ? "  " : "", invariant.name, invariant.description);
  }
  return help;
}

} // namespace worldlog::tools

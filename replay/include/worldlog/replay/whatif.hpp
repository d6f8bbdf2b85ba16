// What-if replay: a span of a zone's stream decided again under other rules.
//
// A zone records every command it accepted with the first event it caused (and every command it
// refused in its CommandRejected record), and runs the model's on_tick for every tick, in order,
// before it decides a command (zone.hpp). So a stream holds its inputs, and the order and times
// they were decided in: from the state before `from`, what_if runs the same ticks and decides the
// same commands, at their recorded ticks and wall times, under `rules`, and compares what comes
// out with what the log holds. Chance is drawn as the zone drew it: each decision's generator is
// seeded from the seq the decision had in the log (zone::decision_context), so a roll differs
// only where the rules make it differ.
//
//   auto rules = game::Model::parse_rules(text);
//   auto report = replay::what_if<game::Model>(log, 2, {.from = 1000, .rules = *rules});
//   for (const auto& change : report->outcome_changes) ...   // accepted -> rejected, ...
//
// It reads and never writes: it runs on a read-only log beside a live server. What it cannot
// know, it does not invent: the ticks of a zone's run before the run's first event in the span
// (a restart) are not run again (under the rules the log ran they decided nothing, so a what-if
// under those is exact across restarts), nor ticks a stalled zone skipped (zone::ZoneOptions::
// max_catch_up_ticks), nor handoffs the changed rules would have started elsewhere: another
// zone's stream is not touched.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <worldlog/log/event.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/diff.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/model.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::replay {

template <zone::RulesAsData M> struct WhatIfOptions {
  log::Seq from = 0;          ///< the first event decided again (>= 2: after the genesis)
  log::Seq to = log::end_seq; ///< the last (clamped to the head)
  typename M::Rules rules{};  ///< the rules to decide under
  /// Units of differing events listed in WhatIf::differences, at most (all are counted).
  std::size_t max_differences = 1000;
  /// As zone::ZoneOptions::max_catch_up_ticks of the zone that wrote the stream.
  std::uint64_t max_catch_up_ticks = 1'200;
};

/// A command whose outcome is not the recorded one.
struct OutcomeChange {
  log::Seq seq = 0; ///< where the log has the command (its first event, or its rejection)
  log::Actor actor;
  std::uint64_t command_id = 0;
  std::uint64_t tick = 0;
  boost::json::object command; ///< {"type": NAME, fields...}
  bool accepted_before = false;
  bool accepted_after = false;
  std::uint32_t code_before = 0; ///< rejections: the model's reason code, and its sentence
  std::uint32_t code_after = 0;
  std::string reason_before{};
  std::string reason_after{};
};

/// The events of one decision (a command, or a tick) where the log and the what-if differ.
struct EventDifference {
  std::uint64_t tick = 0;
  log::Seq command_seq = 0;    ///< the command's seq in the log; 0 for the tick's own events
  boost::json::array before{}; ///< the events the log has, {"type": NAME, fields...}
  boost::json::array after{};  ///< the events the what-if decided
};

/// How many events of one kind the log has in the span, and the what-if.
struct EventCount {
  std::uint64_t before = 0;
  std::uint64_t after = 0;
};

/// An entity (a path of the state's JSON such as "players.17") whose fields end up different.
struct EntityDifference {
  std::string path;
  std::vector<Change> changes; ///< relative to the entity's path
};

template <zone::RulesAsData M> struct WhatIf {
  zone::ZoneId zone = 0;
  log::Seq from = 0;
  log::Seq to = 0;
  zone::RulesId rules_before{}; ///< in force at `from` (the log's, as folded)
  zone::RulesId rules_after{};  ///< WhatIfOptions::rules
  std::uint64_t commands = 0;   ///< commands decided again
  std::uint64_t ticks = 0;      ///< ticks run again
  std::uint64_t events_before = 0;
  std::uint64_t events_after = 0;
  std::uint64_t differing_events = 0; ///< events in one and not at the same place in the other
  std::uint64_t differing_decisions = 0;
  std::vector<OutcomeChange> outcome_changes;
  std::vector<EventDifference> differences; ///< the first WhatIfOptions::max_differences
  std::map<std::string, EventCount, std::less<>> event_counts; ///< by event name
  std::vector<EntityDifference> entities;                      ///< from `diff`, grouped by entity
  std::vector<Change> diff;         ///< the final states, the log's to the what-if's
  typename M::State state_before{}; ///< the state after `to`, as the log has it
  typename M::State state_after{};  ///< and as the what-if decided it

  /// True when the what-if decided exactly what the log holds.
  [[nodiscard]] bool same() const noexcept {
    return outcome_changes.empty() && differing_events == 0 && diff.empty();
  }
};

namespace detail {

/// The state's changes grouped by entity: a change at "players.17.hp" belongs to "players.17";
/// a change of a whole entity ("players.23" added) is one entity's only change.
[[nodiscard]] inline std::vector<EntityDifference>
group_by_entity(const std::vector<Change>& diff) {
  std::vector<EntityDifference> entities;
  for (const Change& change : diff) {
    const auto first = change.path.find('.');
    if (first == std::string::npos) continue; // a top-level scalar: no entity
    const auto second = change.path.find('.', first + 1);
    const std::string path = change.path.substr(0, second);
    if (entities.empty() || entities.back().path != path) entities.push_back({path, {}});
    Change relative = change;
    relative.path = second == std::string::npos ? std::string() : change.path.substr(second + 1);
    entities.back().changes.push_back(std::move(relative));
  }
  return entities;
}

} // namespace detail

/// Decides events [options.from, options.to] of `zone` again under options.rules, from the
/// state the log has before `from`. Errors: invalid_argument for `from` below 2 or past `to`,
/// or for a span with records written before worldlog recorded commands (envelope formats 1
/// and 2), naming the first; those of Replayer::state_at; corruption naming the seq of a
/// command that does not decode.
template <zone::RulesAsData M>
[[nodiscard]] Result<WhatIf<M>> what_if(const log::EventLog& log, zone::ZoneId zone,
                                        const WhatIfOptions<M>& options) {
  using Event = typename M::Event;
  using Command = typename M::Command;
  const Replayer<M> replayer(log, zone);
  const log::Seq head = log.head(zone);
  if (head == 0) return make_error(Errc::not_found, "zone {} has no events", zone);
  const log::Seq to = std::min(options.to, head);
  if (options.from < 2 || options.from > to) {
    return make_error(
        Errc::invalid_argument,
        "zone {}: --from must be after the genesis (2 or more) and at most --to ({}), "
        "not {}",
        zone, to, options.from);
  }
  auto start = replayer.state_at(options.from - 1);
  if (!start.ok()) return std::move(start).error();
  auto events = log.read_stream(zone, options.from - 1, to - options.from + 2);
  if (!events.ok()) return std::move(events).error();
  if (events->size() != to - options.from + 2) {
    return make_error(Errc::corruption, "zone {} ends before seq {}", zone, to);
  }
  const zone::ZoneInfo& info = start->info;

  WhatIf<M> report;
  report.zone = zone;
  report.from = options.from;
  report.to = to;
  report.rules_before = M::rules_id(M::rules_of(start->state));
  report.rules_after = M::rules_id(options.rules);
  typename M::State original = start->state;
  typename M::State decided = std::move(start->state);
  M::set_rules(decided, options.rules);

  // Where each tick's decision landed in the log: the first seq at or after the tick's events.
  const std::vector<log::Event>& stream = *events;
  const auto seq_of_tick = [&stream, to](std::uint64_t tick) -> log::Seq {
    const auto at =
        std::lower_bound(stream.begin() + 1, stream.end(), tick,
                         [](const log::Event& e, std::uint64_t t) { return e.tick() < t; });
    return at == stream.end() ? to + 1 : at->seq();
  };

  std::vector<std::pair<log::Actor, Event>> logged; // the current decision's, as the log has it
  std::vector<std::pair<log::Actor, Event>> fresh;  // and as decided again
  std::uint64_t decision_tick = 0;
  log::Seq decision_seq = 0;
  bool started = false; // a decision of the span has begun
  const auto close_decision = [&] {
    if (logged.empty() && fresh.empty()) return;
    std::size_t differing = 0;
    for (std::size_t i = 0; i < std::max(logged.size(), fresh.size()); ++i) {
      if (i >= logged.size() || i >= fresh.size() || logged[i].first != fresh[i].first) {
        ++differing;
        continue;
      }
      const zone::EncodedEvent before = M::encode(logged[i].second);
      const zone::EncodedEvent after = M::encode(fresh[i].second);
      if (before.payload_type != after.payload_type || before.payload != after.payload) ++differing;
    }
    const bool same = differing == 0;
    for (const auto& [actor, event] : logged)
      ++report.event_counts[std::string(M::event_name(event))].before;
    for (const auto& [actor, event] : fresh)
      ++report.event_counts[std::string(M::event_name(event))].after;
    report.events_before += logged.size();
    report.events_after += fresh.size();
    if (!same) {
      report.differing_events += differing;
      ++report.differing_decisions;
      if (report.differences.size() < options.max_differences) {
        EventDifference difference{decision_tick, decision_seq, {}, {}};
        for (const auto& [actor, event] : logged)
          difference.before.push_back(zone::event_json<M>(event));
        for (const auto& [actor, event] : fresh)
          difference.after.push_back(zone::event_json<M>(event));
        report.differences.push_back(std::move(difference));
      }
    }
    logged.clear();
    fresh.clear();
  };

  // Runs the model's ticks after `last_tick` up to `tick`, as the zone did.
  std::uint64_t last_tick = stream.front().tick();
  std::uint64_t epoch = stream.front().seq() == 1 ? 0 : stream.front().epoch();
  const auto run_ticks = [&](std::uint64_t tick, std::int64_t now_us) {
    if (tick <= last_tick) return;
    const bool gap = tick - last_tick > options.max_catch_up_ticks;
    for (std::uint64_t next = gap ? tick : last_tick + 1; next <= tick; ++next) {
      close_decision();
      started = true;
      decision_tick = next;
      decision_seq = 0;
      zone::Context context = zone::decision_context(info, seq_of_tick(next), next, now_us);
      for (auto& emitted : M::on_tick(decided, context)) {
        M::evolve(decided, emitted.event);
        fresh.emplace_back(emitted.actor, std::move(emitted.event));
      }
      ++report.ticks;
    }
    last_tick = tick;
  };

  // Decides a recorded command again; `accepted_before` and `rejected` are what the log says.
  const auto decide = [&](const log::EventView& at, const Command& command, bool accepted_before,
                          const zone::CommandRejected* rejected) {
    close_decision();
    started = true;
    decision_tick = at.tick();
    decision_seq = at.seq();
    ++report.commands;
    zone::Context context = zone::decision_context(info, at.seq(), at.tick(), at.wall_time_us());
    auto decision = M::decide(decided, at.actor(), command, context);
    const bool accepted_after = !decision.rejected();
    const std::uint32_t code_after = accepted_after ? 0 : decision.rejection->code;
    const std::uint32_t code_before = rejected != nullptr ? rejected->code : 0;
    if (accepted_before != accepted_after || code_before != code_after) {
      report.outcome_changes.push_back(OutcomeChange{
          at.seq(), at.actor(), at.command_id(), at.tick(), zone::command_json<M>(command),
          accepted_before, accepted_after, code_before, code_after,
          rejected != nullptr ? rejected->reason : std::string(),
          accepted_after ? std::string() : decision.rejection->reason});
    }
    for (auto& event : decision.events) {
      M::evolve(decided, event);
      fresh.emplace_back(at.actor(), std::move(event));
    }
  };

  for (std::size_t i = 1; i < stream.size(); ++i) {
    const log::EventView event = stream[i].view();
    if (event.schema_version() < 3) {
      return make_error(Errc::invalid_argument,
                        "zone {} seq {} was written before worldlog recorded commands (envelope "
                        "format {}): seqs {} to {} hold no recorded commands to decide again",
                        zone, event.seq(), event.schema_version(), options.from, to);
    }
    auto decoded = zone::decode_stream_event<M>(event);
    if (!decoded.ok()) return std::move(decoded).error();
    zone::apply_stream_event<M>(original, *decoded);
    if (event.epoch() != epoch) {
      // A new run of the zone: it ran ticks from its start, which the log does not record.
      epoch = event.epoch();
      last_tick = std::max(last_tick, std::max<std::uint64_t>(event.tick(), 1) - 1);
    }
    const auto* rejected = std::get_if<zone::CommandRejected>(&*decoded);
    const auto* model_events = std::get_if<2>(&*decoded);
    const auto log_events = [&] {
      for (const Event& model_event : *model_events)
        logged.emplace_back(event.actor(), model_event);
    };
    if (rejected != nullptr) {
      auto command = M::decode_command(rejected->command);
      if (!command.ok()) {
        return make_error(Errc::corruption, "zone {} seq {}: the rejected command: {}", zone,
                          event.seq(), command.error().message());
      }
      run_ticks(event.tick(), event.wall_time_us());
      decide(event, *command, false, rejected);
    } else if (model_events != nullptr && !event.command().empty()) {
      auto command = M::decode_command(event.command());
      if (!command.ok()) {
        return make_error(Errc::corruption, "zone {} seq {}: the recorded command: {}", zone,
                          event.seq(), command.error().message());
      }
      run_ticks(event.tick(), event.wall_time_us());
      decide(event, *command, true, nullptr);
      log_events();
    } else if (model_events != nullptr) {
      // A tick's event (the zone ran the tick before any command of it), or a later event of
      // the command before it.
      run_ticks(event.tick(), event.wall_time_us());
      if (!started) {
        // The rest of a decision made before `from`: as the log has it.
        for (const Event& model_event : *model_events)
          M::evolve(decided, model_event);
        continue;
      }
      log_events();
    }
  }
  run_ticks(stream.back().tick(), stream.back().wall_time_us());
  close_decision();
  report.diff = diff_states<M>(original, decided);
  report.entities = detail::group_by_entity(report.diff);
  report.state_before = std::move(original);
  report.state_after = std::move(decided);
  return report;
}

namespace detail {

[[nodiscard]] inline boost::json::object rules_json(const zone::RulesId& rules) {
  return {{"version", rules.version}, {"hash", log::to_hex(rules.hash)}};
}

template <zone::GameModel M>
[[nodiscard]] boost::json::object outcome_json(bool accepted, std::uint32_t code,
                                               const std::string& reason) {
  if (accepted) return {{"accepted", true}};
  boost::json::object outcome{{"accepted", false}, {"code", code}};
  if (const std::string_view name = zone::reason_name<M>(code); !name.empty()) {
    outcome["reject"] = name;
  }
  outcome["reason"] = zone::utf8_text(reason);
  return outcome;
}

} // namespace detail

/// The report as one JSON document (docs/cli.md, `replay whatif --json`).
template <zone::RulesAsData M> [[nodiscard]] boost::json::object to_json(const WhatIf<M>& report) {
  boost::json::array outcomes;
  for (const OutcomeChange& change : report.outcome_changes) {
    outcomes.push_back(boost::json::object{
        {"seq", change.seq},
        {"actor", {{"kind", fmt::format("{}", change.actor.kind)}, {"id", change.actor.id}}},
        {"command_id", change.command_id},
        {"tick", change.tick},
        {"command", change.command},
        {"before",
         detail::outcome_json<M>(change.accepted_before, change.code_before, change.reason_before)},
        {"after",
         detail::outcome_json<M>(change.accepted_after, change.code_after, change.reason_after)}});
  }
  boost::json::object counts;
  for (const auto& [name, count] : report.event_counts)
    counts[name] = {{"before", count.before}, {"after", count.after}};
  boost::json::array differences;
  for (const EventDifference& difference : report.differences) {
    differences.push_back(boost::json::object{{"tick", difference.tick},
                                              {"command_seq", difference.command_seq},
                                              {"before", difference.before},
                                              {"after", difference.after}});
  }
  boost::json::array entities;
  for (const EntityDifference& entity : report.entities)
    entities.push_back({{"path", entity.path}, {"changes", to_json(entity.changes)}});
  return {{"zone", report.zone},
          {"from", report.from},
          {"to", report.to},
          {"rules_before", detail::rules_json(report.rules_before)},
          {"rules_after", detail::rules_json(report.rules_after)},
          {"same", report.same()},
          {"commands", report.commands},
          {"ticks", report.ticks},
          {"events_before", report.events_before},
          {"events_after", report.events_after},
          {"differing_events", report.differing_events},
          {"differing_decisions", report.differing_decisions},
          {"outcome_changes", std::move(outcomes)},
          {"event_counts", std::move(counts)},
          {"differences", std::move(differences)},
          {"differences_left_out", report.differing_decisions - report.differences.size()},
          {"entities", std::move(entities)},
          {"hash_before", log::to_hex(M::hash(report.state_before))},
          {"hash_after", log::to_hex(M::hash(report.state_after))},
          {"diff", to_json(report.diff)}};
}

} // namespace worldlog::replay

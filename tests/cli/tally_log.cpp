// `tally-log`: an embedder's own log tools, built as a studio would build theirs — the log tools
// of worldlog::tools over a model that is not the reference game (tests/zone/tally_model.hpp),
// with invariants of its own — plus two commands of its own that write logs of that model for
// tally_cli_test.cpp:
//
//   tally-log write --data DIR          a new log: 2 tally zones run by zone::ZoneSet, commands
//                                       of players 1..3 (two refused), ticks, a clean shutdown
//   tally-log append-zone --data DIR --zone Z --player P
//                                       adds a tally zone Z to an existing log (of any model),
//                                       with actions of player P, one of them refused
//
// Built a second time with WORLDLOG_TWO_GAMES as `two-games-log`, which also knows the
// reference game: one binary for the logs of two models, each stream read with its own.
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/bisect.hpp>
#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/zone/records.hpp>
#include <worldlog/zone/zone_set.hpp>

#include "zone/tally_model.hpp"

#ifdef WORLDLOG_TWO_GAMES
#include <worldlog/game/invariants.hpp>
#include <worldlog/game/model.hpp>
#endif

namespace {

using namespace worldlog;
using Tally = test::TallyModel;

/// The tally at which an entity breaks total_at_most_1000.
constexpr std::int64_t most = 1000;

replay::Invariants<Tally> tally_invariants() {
  replay::Invariants<Tally> invariants;
  static_cast<void>(invariants.add(
      {"total_at_most_1000", "no entity's tally is above 1000",
       [](const Tally::State& state,
          replay::InvariantContext<Tally>&) -> std::optional<std::string> {
         for (const auto& [id, entity] : state.entities)
           if (entity.total > most)
             return fmt::format("entity {} has a tally of {}, above {}", id, entity.total, most);
         return std::nullopt;
       }}));
  static_cast<void>(invariants.add({"rolls_below_1000", "every number a tick rolled is below 1000",
                                    [](const Tally::State& state, replay::InvariantContext<Tally>&)
                                        -> std::optional<std::string> {
                                      for (const std::uint64_t roll : state.rolls)
                                        if (roll >= 1000)
                                          return fmt::format("a tick rolled {}", roll);
                                      return std::nullopt;
                                    }}));
  return invariants;
}

// ---- write -------------------------------------------------------------------------------------

constexpr auto patience = std::chrono::seconds(30);

/// Submits `command` to zone `zone` as player `player` and waits for its durable outcome.
zone::Outcome submit(zone::ZoneSet<Tally>& zones, zone::ZoneId zone, std::uint64_t player,
                     std::uint64_t command_id, Tally::Command command) {
  // Shared with the reply, which may come after a wait that gave up.
  auto answered = std::make_shared<std::promise<Result<zone::Outcome>>>();
  auto future = answered->get_future();
  const Status sent = zones.submit(
      zone, {log::ActorKind::player, player}, command_id, std::move(command),
      [answered](Result<zone::Outcome> outcome) { answered->set_value(std::move(outcome)); });
  if (!sent.ok()) tools::fail(fmt::format("submit: {}", sent.error()));
  if (future.wait_for(patience) != std::future_status::ready) tools::fail("no answer");
  auto outcome = future.get();
  if (!outcome.ok()) tools::fail(fmt::format("command {}: {}", command_id, outcome.error()));
  return *outcome;
}

void write(const std::string& dir) {
  auto opened = log::EventLog::open(dir);
  if (!opened.ok()) tools::fail(fmt::format("open {}: {}", dir, opened.error()));
  log::EventLog& log = **opened;
  // A tick past a multiple of the tally's roll: the first commands append only their own events.
  runtime::ManualClock clock(1'700'000'000'050'000);
  boost::asio::thread_pool pool(2);
  {
    zone::ZoneSet<Tally> zones(pool.get_executor(), log, clock, {.zones = 2, .seed = 7});
    auto world = zones.make_supervisor();
    world->start();
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (zones.zone(1) == nullptr || zones.zone(2) == nullptr) {
      if (std::chrono::steady_clock::now() > deadline) tools::fail("the zones did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::uint64_t id = 0;
    const auto send = [&](zone::ZoneId zone, std::uint64_t player, Tally::Command command) {
      clock.advance(std::chrono::milliseconds(20));
      return submit(zones, zone, player, ++id, std::move(command));
    };
    send(1, 1, Tally::Place{1, {100, 200}});
    send(1, 1, Tally::Add{1, 5});
    send(1, 2, Tally::Add{2, 40});
    send(1, 2, Tally::Add{2, -3}); // refused: amount_not_positive
    send(2, 1, Tally::Add{11, 7});
    send(2, 3, Tally::Leave{99, 1}); // refused: not_in_zone
    send(1, 1, Tally::Add{1, 300});
    for (int tick = 0; tick < 8; ++tick) {
      clock.advance(std::chrono::microseconds(50'000));
      zones.tick_all();
      // Each tick handled before the clock moves on: a tick reads the clock when it runs.
      for (zone::ZoneId z = 1; z <= 2; ++z) {
        if (auto target = zones.zone(z)) {
          static_cast<void>(runtime::call_blocking(
              *target, [] {}, patience));
        }
      }
    }
    const zone::Outcome broke = send(1, 1, Tally::Add{1, 700}); // entity 1 at 1005
    send(1, 2, Tally::Add{2, 1});
    fmt::print("entity 1 passed {} at zone 1 seq {}\n", most, broke.first_seq);

    if (auto drained = zones.drain_all(patience); !drained.ok()) {
      tools::fail(fmt::format("drain: {}", drained.error()));
    }
    world->stop();
    while (!world->exited()) {
      if (std::chrono::steady_clock::now() > deadline + patience) tools::fail("no shutdown");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  pool.join();
  fmt::print("wrote zones 1, 2 of {} in {}\n", Tally::name, dir);
}

// ---- append-zone -------------------------------------------------------------------------------

void append_zone(const std::string& dir, zone::ZoneId zone, std::uint64_t player) {
  auto opened = log::EventLog::open(dir, {.create_if_missing = false});
  if (!opened.ok()) tools::fail(fmt::format("open {}: {}", dir, opened.error()));
  log::EventLog& log = **opened;
  if (log.head(zone) != 0) tools::fail(fmt::format("stream {} is not empty", zone));
  const log::Actor actor{log::ActorKind::player, player};
  const auto event = [&](const Tally::Event& e, std::uint64_t command_id) {
    const zone::EncodedEvent encoded = Tally::encode(e);
    return log::NewEvent{.payload_type = encoded.payload_type,
                         .payload = encoded.payload,
                         .actor = actor,
                         .command_id = command_id,
                         .rules_version = Tally::rules_version};
  };
  const Tally::Command refused = Tally::Add{player, -3};
  const std::vector<log::NewEvent> events{
      {.payload_type = zone::genesis_payload_type,
       .payload = zone::encode_genesis({std::string(Tally::name), Tally::rules_version,
                                        zone::ZoneInfo{.zone = zone, .zone_count = zone}}),
       .actor = {log::ActorKind::system, 0},
       .rules_version = Tally::rules_version},
      event(Tally::Added{player, 5}, 1),
      {.payload_type = zone::command_rejected_payload_type,
       .payload = zone::encode_command_rejected({1, "amount must be positive, got -3",
                                                 std::string(Tally::command_name(refused)),
                                                 Tally::encode_command(refused)}),
       .actor = actor,
       .command_id = 2,
       .rules_version = Tally::rules_version},
      event(Tally::Added{player, 2}, 3),
  };
  auto appended = log.append(zone, 0, events);
  if (!appended.ok()) tools::fail(fmt::format("append: {}", appended.error()));
  fmt::print("appended zone {} of {}: seqs 1..{}\n", zone, Tally::name, appended->last_seq);
}

} // namespace

int main(int argc, char** argv) {
#ifdef WORLDLOG_TWO_GAMES
  tools::Cli cli("two-games-log", "log tools for the tally model and the reference game");
  cli.models().add<Tally>({.invariants = tally_invariants()});
  cli.models().add<game::Model>({.invariants = game::invariants()});
#else
  tools::Cli cli("tally-log", "log tools for the tally model");
  cli.models().add<Tally>({.invariants = tally_invariants()});
#endif

  std::string data;
  auto* write_command = cli.app().add_subcommand("write", "Write a new log of tally zones");
  write_command->add_option("--data", data, "Directory of the new log")->required();
  write_command->callback([&data] { write(data); });

  zone::ZoneId zone = 0;
  std::uint64_t player = 0;
  auto* append_command =
      cli.app().add_subcommand("append-zone", "Add a tally zone to an existing log");
  append_command->add_option("--data", data, "Directory of the log")->required();
  append_command->add_option("--zone", zone, "The new zone's stream")->required();
  append_command->add_option("--player", player, "Whose actions it records")->required();
  append_command->callback([&] { append_zone(data, zone, player); });

  return cli.run(argc, argv);
}

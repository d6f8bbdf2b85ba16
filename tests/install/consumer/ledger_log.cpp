// `ledger-log`: an embedder's own log tools, built against an installed worldlog: the log tools
// of worldlog::tools over the ledger model (ledger_model.hpp) with an invariant of its own, and a
// `write` command that runs a ledger zone with zone::ZoneSet and writes a log to read back.
// run_install_test.cmake runs it.
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/bisect.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/zone/zone_set.hpp>

#include "ledger_model.hpp"

namespace {

using namespace worldlog;

replay::Invariants<ledger::Model> ledger_invariants() {
  replay::Invariants<ledger::Model> invariants;
  static_cast<void>(
      invariants.add({"gold_non_negative", "no account below zero",
                      [](const ledger::Model::State& state,
                         replay::InvariantContext<ledger::Model>&) -> std::optional<std::string> {
                        for (const auto& [id, gold] : state.gold)
                          if (gold < 0) return fmt::format("account {} has {} gold", id, gold);
                        return std::nullopt;
                      }}));
  return invariants;
}

/// A ledger zone run for a few commands of player 42, one of them refused, then shut down.
void write(const std::string& dir) {
  auto opened = log::EventLog::open(dir);
  if (!opened.ok()) tools::fail(fmt::format("open {}: {}", dir, opened.error()));
  runtime::SystemClock clock;
  boost::asio::thread_pool pool(2);
  {
    zone::ZoneSet<ledger::Model> zones(pool.get_executor(), **opened, clock, {.zones = 1});
    auto world = zones.make_supervisor();
    world->start();
    while (zones.zone(1) == nullptr)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::uint64_t id = 0;
    for (const ledger::Model::Command& command :
         {ledger::Model::Command{ledger::Model::Deposit{42, 100}},
          ledger::Model::Command{ledger::Model::Spend{42, 30}},
          ledger::Model::Command{ledger::Model::Spend{42, 500}}}) {
      std::promise<Result<zone::Outcome>> answered;
      auto future = answered.get_future();
      const Status sent = zones.submit(
          1, {log::ActorKind::player, 42}, ++id, command,
          [&answered](Result<zone::Outcome> outcome) { answered.set_value(std::move(outcome)); });
      if (!sent.ok()) tools::fail(fmt::format("submit: {}", sent.error()));
      auto outcome = future.get();
      if (!outcome.ok()) tools::fail(fmt::format("command {}: {}", id, outcome.error()));
    }
    if (auto drained = zones.drain_all(std::chrono::seconds(30)); !drained.ok()) {
      tools::fail(fmt::format("drain: {}", drained.error()));
    }
    world->stop();
    while (!world->exited())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  pool.join();
  fmt::print("ledger-log: wrote zone 1 of {} in {}\n", ledger::Model::name, dir);
}

} // namespace

int main(int argc, char** argv) {
  tools::Cli cli("ledger-log", "log tools for the ledger");
  cli.models().add<ledger::Model>({.invariants = ledger_invariants()});

  std::string data;
  auto* write_command = cli.app().add_subcommand("write", "Write a new log of a ledger zone");
  write_command->add_option("--data", data, "Directory of the new log")->required();
  write_command->callback([&data] { write(data); });
  return cli.run(argc, argv);
}

// market_demo: the market embedded the way a studio with its own server would — no worldlog::net.
// Its "transport" is a loop of bot traders in this process: each command goes in through
// World::submit_for (to the market where the trader is) and its outcome comes back in a callback
// once durable; what happens in each market reaches a subscribed viewer as broadcasts (which is
// how the bots learn what is for sale). At the end every market's invariants are checked, the
// world shuts down (logging every trader out, snapshotting every market), and the log is left in
// --data for the `worldlog` tools: replay, verify, bisect and audit read it with the market's
// own names. (market_server plays the same market over TCP, behind net::Server.)
//
//   market_demo --data /tmp/market --traders 40 --seconds 10
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/world/world.hpp>
#include <worldlog/zone/zone_set.hpp>

#include <market/invariants.hpp>
#include <market/model.hpp>

namespace {

using namespace worldlog;
using market::Model;
using market::TraderId;

struct Options {
  std::string data;
  zone::ZoneId markets = 3;
  std::uint32_t traders = 30;
  std::uint32_t seconds = 5;
  std::uint64_t seed = 1;
};

/// What the viewers saw: the open listings of each market, from its Listed/Bought/... events.
class Board {
public:
  void shown(const zone::Broadcast<Model::Event>& broadcast) {
    const std::lock_guard lock(mutex_);
    ++broadcasts_;
    auto& open = open_[broadcast.zone];
    std::visit(
        [&open](const auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, market::Listed>) {
            open.insert(e.order);
          } else if constexpr (std::is_same_v<E, market::Cancelled> ||
                               std::is_same_v<E, market::Expired>) {
            open.erase(e.order);
          }
        },
        broadcast.event);
  }
  /// A listing believed open in `market` (0: none known). Sold-out listings linger here: a
  /// buyer finds out from the rejection, as a client of a real server would.
  market::OrderId some_order(zone::ZoneId in, std::uint64_t pick) {
    const std::lock_guard lock(mutex_);
    const auto& open = open_[in];
    if (open.empty()) return 0;
    auto it = open.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(pick % open.size()));
    return *it;
  }
  std::uint64_t broadcasts() {
    const std::lock_guard lock(mutex_);
    return broadcasts_;
  }

private:
  std::mutex mutex_;
  std::map<zone::ZoneId, std::set<market::OrderId>> open_;
  std::uint64_t broadcasts_ = 0;
};

/// Outcomes, by rejection reason.
class Tally {
public:
  void count(const Result<zone::Outcome>& outcome) {
    const std::lock_guard lock(mutex_);
    if (!outcome.ok()) {
      ++errors_;
    } else if (outcome->accepted) {
      ++accepted_;
    } else {
      ++rejected_[std::string(Model::reason_name(outcome->code))];
    }
  }
  void print() {
    const std::lock_guard lock(mutex_);
    std::uint64_t rejected = 0;
    std::string reasons;
    for (const auto& [reason, count] : rejected_) {
      rejected += count;
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", count, reason);
    }
    fmt::print("commands  {} accepted, {} rejected ({}), {} errors\n", accepted_, rejected,
               reasons.empty() ? "none" : reasons, errors_);
  }
  std::uint64_t errors() {
    const std::lock_guard lock(mutex_);
    return errors_;
  }

private:
  std::mutex mutex_;
  std::uint64_t accepted_ = 0;
  std::uint64_t errors_ = 0;
  std::map<std::string, std::uint64_t> rejected_;
};

int run(const Options& options) {
  auto opened =
      log::EventLog::open(options.data, {.on_storage_message = log::print_storage_message});
  if (!opened) {
    fmt::print(stderr, "market_demo: cannot open the log at {}: {}\n", options.data,
               opened.error());
    return 1;
  }
  const std::unique_ptr<log::EventLog> log = std::move(opened).value();
  const runtime::SystemClock clock;
  boost::asio::thread_pool pool(2);
  world::World<Model> world(pool.get_executor(), *log, clock,
                            {.zones = options.markets, .seed = options.seed});
  if (Status started = world.start(); !started.ok()) {
    fmt::print(stderr, "market_demo: the markets did not start: {}\n", started.error());
    return 1;
  }
  zone::ZoneSet<Model>& markets = world.zones();

  // One viewer per market, at the square where every trade is seen.
  Board board;
  for (zone::ZoneId z = 1; z <= options.markets; ++z) {
    const Status watching = markets.zone(z)->subscribe(
        1'000'000'000 + z, zone::Point{},
        [&board](const zone::Broadcast<Model::Event>& shown) { board.shown(shown); });
    if (!watching.ok()) fmt::print(stderr, "market_demo: {}\n", watching.error());
  }

  std::atomic<bool> running{true};
  std::thread ticker([&] {
    while (running) {
      world.tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  Tally tally;
  std::vector<zone::ZoneId> where(options.traders + 1);
  std::vector<char> away(options.traders + 1, 0); // logged out: the next command is a Join
  std::uint64_t command_id = 0;
  // Each round sends one command per trader and waits for all of them: as many in flight as
  // there are traders, each trader's commands in order.
  const auto round = [&](const auto& command_of) {
    std::vector<std::future<void>> answers;
    for (TraderId trader = 1; trader <= options.traders; ++trader) {
      auto done = std::make_shared<std::promise<void>>();
      answers.push_back(done->get_future());
      const market::Command command = command_of(trader);
      const bool travelling = std::holds_alternative<market::Travel>(command);
      const zone::ZoneId to = travelling ? std::get<market::Travel>(command).to : 0;
      const bool leaving = std::holds_alternative<market::Leave>(command);
      static_cast<void>(world.submit_for(
          trader, ++command_id, command,
          [&tally, &where, &away, done, trader, to, leaving](Result<zone::Outcome> outcome) {
            tally.count(outcome);
            if (outcome.ok() && outcome->accepted) {
              if (to != 0) where[trader] = to;
              away[trader] = leaving ? 1 : 0;
            }
            done->set_value();
          }));
    }
    for (auto& answer : answers)
      answer.wait();
  };

  zone::Rng dice(options.seed);
  for (TraderId trader = 1; trader <= options.traders; ++trader)
    where[trader] = 1 + trader % options.markets;
  round([](TraderId trader) -> market::Command { return market::Join{trader}; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    round([&](TraderId trader) -> market::Command {
      if (away[trader] != 0) return market::Join{trader};
      const std::uint64_t roll = dice.below(100);
      const auto item = market::all_items[dice.below(3)];
      if (roll < 35)
        return market::Gather{trader, dice.below(2) == 0 ? market::Item::ore : market::Item::wood};
      if (roll < 50) {
        return market::List{trader, item, 1, static_cast<std::int64_t>(5 + dice.below(40))};
      }
      if (roll < 75) return market::Buy{trader, board.some_order(where[trader], roll), 1};
      if (roll < 94) return market::Craft{trader};
      if (roll < 97 && options.markets > 1) {
        return market::Travel{trader, 1 + (where[trader] + dice.below(options.markets - 1)) %
                                              options.markets};
      }
      return market::Leave{trader};
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running = false;
  ticker.join();

  int status = 0;
  tally.print();
  fmt::print("broadcasts {} seen by the markets' viewers\n", board.broadcasts());
  for (zone::ZoneId z = 1; z <= options.markets; ++z) {
    auto target = markets.zone(z);
    if (!target) continue;
    auto state = runtime::call_blocking(
        *target, [&target] { return target->state(); }, std::chrono::seconds(10));
    if (!state.ok()) continue;
    const auto& ledger = state->ledger;
    fmt::print("market {}  {} online, {} offline, {} open listings; gold {} minted, {} burned "
               "in fees\n",
               z, state->online.size(), state->offline.size(), state->orders.size(),
               ledger.gold_minted, ledger.gold_burned);
    for (const auto& broken : {market::gold_violation(*state), market::goods_violation(*state),
                               market::order_violation(*state)}) {
      if (broken) {
        fmt::print(stderr, "market_demo: market {}: {}\n", z, *broken);
        status = 1;
      }
    }
  }
  if (const Status stopped = world.shutdown(std::chrono::seconds(30)); !stopped.ok()) {
    fmt::print(stderr, "market_demo: shutdown: {}\n", stopped.error());
    status = 1;
  }
  if (tally.errors() != 0) status = 1;
  fmt::print("log       {} events in {}\n", log->last_position(), options.data);
  return status;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app("market_demo: the market example, played by bot traders in this process",
               "market_demo");
  Options options;
  app.add_option("--data", options.data, "Directory of the log (created if missing)")->required();
  app.add_option("--markets", options.markets, "Markets (zones)")->check(CLI::Range(1, 64));
  app.add_option("--traders", options.traders, "Bot traders")->check(CLI::Range(1, 10'000));
  app.add_option("--seconds", options.seconds, "How long they trade")->check(CLI::Range(1, 3600));
  app.add_option("--seed", options.seed, "The world seed (and the bots')");
  CLI11_PARSE(app, argc, argv);
  return run(options);
}

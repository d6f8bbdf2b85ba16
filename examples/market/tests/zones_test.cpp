// The market run by worldlog's zones on a real log (RocksDB in a temporary directory): trades
// and a journey between two markets, then the replay library on what they wrote — the refold
// equals the live state, verify finds nothing, bisect names a forged sale, and the describer
// prints the market's own names.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/thread_pool.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/bisect.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>
#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/zone_set.hpp>

#include <market/invariants.hpp>
#include <market/model.hpp>

#include "scratch.hpp"

namespace worldlog::market {
namespace {

constexpr std::chrono::seconds patience{10};

/// Two markets on one log, run by a world supervisor on a thread pool.
class Markets {
public:
  Markets() {
    auto opened = log::EventLog::open(scratch_.path() / "log");
    REQUIRE(opened.ok());
    log_ = std::move(opened).value();
    zones_ = std::make_unique<zone::ZoneSet<Model>>(pool_.get_executor(), *log_, clock_,
                                                    zone::ZoneSet<Model>::Options{.zones = 2});
    world_ = zones_->make_supervisor();
    world_->start();
    for (zone::ZoneId z = 1; z <= 2; ++z)
      REQUIRE(eventually([&] { return zones_->zone(z) != nullptr; }));
  }
  ~Markets() { stop(); }

  /// Drains every zone (a snapshot each) and stops them: the log is then the test's alone.
  void stop() {
    if (!world_) return;
    static_cast<void>(zones_->drain_all(patience));
    world_->stop();
    eventually([&] { return world_->exited(); });
    world_.reset();
  }
  Markets(const Markets&) = delete;
  Markets& operator=(const Markets&) = delete;

  static bool eventually(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  /// Submits a trader's command (with a fresh command id) and waits for its durable outcome.
  zone::Outcome act(zone::ZoneId z, TraderId trader, Command command) {
    std::promise<Result<zone::Outcome>> answered;
    auto future = answered.get_future();
    static_cast<void>(
        zones_->submit(z, {log::ActorKind::player, trader}, ++command_id_, std::move(command),
                       [&answered](auto outcome) { answered.set_value(std::move(outcome)); }));
    REQUIRE(future.wait_for(patience) == std::future_status::ready);
    auto outcome = future.get();
    REQUIRE(outcome.ok());
    return std::move(outcome).value();
  }

  State state(zone::ZoneId z) {
    auto target = zones_->zone(z);
    REQUIRE(target != nullptr);
    auto state = runtime::call_blocking(
        *target, [&] { return target->state(); }, patience);
    REQUIRE(state.ok());
    return std::move(state).value();
  }

  /// Gathers until `trader` in zone `z` has `count` of `item` (the clock passes the cooldown).
  void gather(zone::ZoneId z, TraderId trader, Item item, std::uint32_t count) {
    while (state(z).online.at(trader).count(item) < count) {
      clock_.advance(std::chrono::microseconds(default_rules.gather_cooldown_ticks * 50'000));
      REQUIRE(act(z, trader, Gather{trader, item}).accepted);
    }
  }

  log::EventLog& log() { return *log_; }

private:
  Scratch scratch_;
  runtime::ManualClock clock_{1'700'000'000'000'000};
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<zone::ZoneSet<Model>> zones_;
  std::shared_ptr<runtime::Supervisor> world_;
  std::uint64_t command_id_ = 0;
};

} // namespace

TEST_CASE("markets trade and a trader travels between them, and replay agrees with every zone") {
  Markets markets;
  REQUIRE(markets.act(1, 1, Join{1}).accepted);
  REQUIRE(markets.act(1, 2, Join{2}).accepted);
  markets.gather(1, 1, Item::ore, 2);
  markets.gather(1, 1, Item::wood, 1);
  REQUIRE(markets.act(1, 1, Craft{1}).accepted);
  REQUIRE(markets.act(1, 1, List{1, Item::tool, 1, 30}).accepted);
  const OrderId order = markets.state(1).orders.begin()->first;
  const auto refused = markets.act(1, 2, Buy{2, order, 2});
  CHECK_FALSE(refused.accepted);
  CHECK(refused.code == static_cast<std::uint32_t>(Reject::bad_count));
  REQUIRE(markets.act(1, 2, Buy{2, order, 1}).accepted);

  // Trader 2 takes the tool to market 2; the zones hand it over.
  REQUIRE(markets.act(1, 2, Travel{2, 2}).accepted);
  REQUIRE(Markets::eventually(
      [&] { return markets.state(2).online.contains(2) && markets.state(1).departing.empty(); }));
  CHECK(markets.state(2).online.at(2).count(Item::tool) == 1);
  CHECK(markets.state(2).online.at(2).gold == default_rules.grant - 30);
  REQUIRE(markets.act(2, 2, List{2, Item::tool, 1, 45}).accepted);

  for (zone::ZoneId z = 1; z <= 2; ++z) {
    CAPTURE(z);
    const State live = markets.state(z);
    CHECK(gold_violation(live) == std::nullopt);
    CHECK(goods_violation(live) == std::nullopt);
    const replay::Replayer<Model> replayer(markets.log(), z);
    auto folded = replayer.state_at(log::end_seq);
    REQUIRE(folded.ok());
    CHECK(Model::hash(folded->state) == Model::hash(live));
    const auto verdict = replay::verify_stream<Model>(markets.log(), z);
    CHECK(verdict.ok());
    CHECK(verdict.model == Model::name);
    const auto invariants = market::invariants();
    for (const auto& invariant : invariants.all()) {
      CAPTURE(invariant.name);
      auto found = replay::bisect(replayer, invariant);
      REQUIRE(found.ok());
      CHECK_FALSE(found->first_bad.has_value());
    }
  }

  // The describer prints the market's names: its events, and a rejection's reason.
  bool saw_rejection = false;
  bool saw_sale = false;
  REQUIRE(markets.log()
              .scan_stream(1, 1, 1000,
                           [&](const log::EventView& event) {
                             const auto described = zone::describe_event<Model>(event);
                             REQUIRE(described.has_value());
                             const std::string text = boost::json::serialize(*described);
                             if (text.find("\"CommandRejected\"") != std::string::npos) {
                               saw_rejection = true;
                               CHECK(text.find("\"reject\":\"bad_count\"") != std::string::npos);
                               CHECK(text.find("\"type\":\"Buy\"") != std::string::npos);
                             }
                             if (text.find("\"Bought\"") != std::string::npos) saw_sale = true;
                             return true;
                           })
              .ok());
  CHECK(saw_rejection);
  CHECK(saw_sale);
}

TEST_CASE("bisect names the forged sale that sold more than was listed") {
  Markets markets;
  REQUIRE(markets.act(1, 1, Join{1}).accepted);
  REQUIRE(markets.act(1, 2, Join{2}).accepted);
  markets.gather(1, 1, Item::ore, 1);
  REQUIRE(markets.act(1, 1, List{1, Item::ore, 1, 10}).accepted);
  const OrderId order = markets.state(1).orders.begin()->first;
  markets.stop();
  // Appended behind the rules' back: five ore bought from a listing of one.
  const auto forged = Model::encode(Bought{order, 2, 5, 10, 0});
  const log::NewEvent event{.payload_type = forged.payload_type,
                            .payload = forged.payload,
                            .actor = {log::ActorKind::player, 2},
                            .wall_time_us = 1'700'000'100'000'000,
                            .rules_version = Model::rules_version};
  auto appended = markets.log().append(1, log::any_seq, std::span(&event, 1));
  REQUIRE(appended.ok());

  const replay::Replayer<Model> replayer(markets.log(), 1);
  const auto invariants = market::invariants();
  for (const char* holds : {"gold_conserved", "orders_backed"}) {
    auto found = replay::bisect(replayer, *invariants.find(holds));
    REQUIRE(found.ok());
    CHECK_FALSE(found->first_bad.has_value());
  }
  auto found = replay::bisect(replayer, *invariants.find("goods_conserved"));
  REQUIRE(found.ok());
  REQUIRE(found->first_bad.has_value());
  CHECK(*found->first_bad == appended->last_seq);
  CHECK_MESSAGE(found->violation.find("ore held") != std::string::npos, found->violation);
}

} // namespace worldlog::market

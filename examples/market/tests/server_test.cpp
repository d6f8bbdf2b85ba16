// The market behind worldlog's generic server, over real loopback sockets and a real log
// (RocksDB in a temporary directory): bot traders play it and the log they leave replays with
// every invariant holding; a connection acts only for its token's trader; a command that does
// not decode is refused and the connection goes on; a trader who disconnects is logged out by
// the world, and finds its goods when it comes back.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include <boost/asio/ip/address.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/bisect.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>
#include <worldlog/runtime/actor.hpp>
#include <worldlog/zone/fold.hpp>

#include <market/invariants.hpp>
#include <market/model.hpp>

#include "bot.hpp"
#include "host.hpp"
#include "scratch.hpp"

namespace worldlog::market {
namespace {

using namespace std::chrono_literals;

constexpr auto patience = 10s;

bool eventually(const std::function<bool()>& done) {
  const auto deadline = Clock::now() + patience;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// A market of two zones served on a loopback port, on a log of its own.
class Served {
public:
  Served() {
    auto opened = log::EventLog::open(scratch_.path() / "log");
    REQUIRE(opened.ok());
    log_ = std::move(opened).value();
    auto bound = Host::bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    REQUIRE(bound.ok());
    host_ = std::move(bound).value();
    const Status started = host_->start(*log_, {.zones = 2, .seed = 5});
    REQUIRE_MESSAGE(started.ok(), fmt::format("{}", started.error()));
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  [[nodiscard]] Host& host() { return *host_; }
  [[nodiscard]] log::EventLog& log() { return *log_; }

  [[nodiscard]] std::unique_ptr<Client> connect(TraderId trader) {
    auto client = Client::connect(host_->endpoint(), host_->secret(), trader, Clock::now() + 5s);
    REQUIRE_MESSAGE(client.ok(), fmt::format("{}", client.error()));
    return std::move(client).value();
  }

  /// The state of market `z` now.
  [[nodiscard]] State state(zone::ZoneId z) {
    auto target = host_->world().zones().zone(z);
    REQUIRE(target != nullptr);
    auto state = runtime::call_blocking(
        *target, [&target] { return target->state(); }, patience);
    REQUIRE(state.ok());
    return std::move(state).value();
  }

private:
  Scratch scratch_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<Host> host_; ///< after the log: its world writes the log until it stops
};

/// Sends `command` and waits for its answer.
Client::Answer ask(Client& client, std::uint64_t client_id, const Command& command) {
  REQUIRE(client.send(client_id, command, Clock::now() + 5s).ok());
  auto answer = client.await(client_id, Clock::now() + 5s);
  REQUIRE_MESSAGE(answer.ok(), fmt::format("{}", answer.error()));
  return std::move(answer).value();
}

/// The CommandResult of `command`, which must get one.
net::CommandResult result_of(Client& client, std::uint64_t client_id, const Command& command) {
  const Client::Answer answer = ask(client, client_id, command);
  REQUIRE(std::holds_alternative<net::CommandResult>(answer));
  return std::get<net::CommandResult>(answer);
}

/// Whether zone `z` of `log` holds a Left of `trader` issued by the system (a logout).
bool logged_out(const log::EventLog& log, zone::ZoneId z, TraderId trader) {
  bool found = false;
  const Status scanned = log.scan_stream(z, 1, 1'000'000, [&](const log::EventView& event) {
    auto decoded = zone::decode_stream_event<Model>(event);
    if (!decoded.ok() || decoded->index() != 2) return true;
    for (const Event& model_event : std::get<2>(*decoded)) {
      const auto* left = std::get_if<Left>(&model_event);
      found = found || (left != nullptr && left->trader == trader &&
                        event.actor().kind == log::ActorKind::system);
    }
    return !found;
  });
  return scanned.ok() && found;
}

} // namespace

TEST_CASE(
    "bot traders play over TCP, and the log they leave replays with every invariant holding") {
  Served served;
  Tally tally;
  const Status played =
      run_bots(served.host().endpoint(), served.host().secret(), 4, 2s, {.seed = 3}, tally);
  INFO(tally.summary());
  REQUIRE_MESSAGE(played.ok(), fmt::format("{}", played.error()));
  CHECK(tally.accepted > 0);
  CHECK(tally.events > 0);
  CHECK(tally.errors.empty());
  CHECK(tally.sent == tally.accepted + tally.rejected_total());
  CHECK(served.host().server().counters().commands_accepted.load() == tally.accepted);
  const Status stopped = served.host().stop();
  REQUIRE_MESSAGE(stopped.ok(), fmt::format("{}", stopped.error()));

  const auto invariants = market::invariants();
  for (zone::ZoneId z = 1; z <= 2; ++z) {
    CAPTURE(z);
    const auto verdict = replay::verify_stream<Model>(served.log(), z);
    CHECK(verdict.ok());
    const replay::Replayer<Model> replayer(served.log(), z);
    auto folded = replayer.state_at(log::end_seq);
    REQUIRE(folded.ok());
    for (const auto& invariant : invariants.all()) {
      CAPTURE(invariant.name);
      auto found = replay::bisect(replayer, invariant);
      REQUIRE(found.ok());
      CHECK_FALSE(found->first_bad.has_value());
    }
  }
}

TEST_CASE("a connection acts only for the trader its token names") {
  Served served;
  auto client = served.connect(5);
  CHECK(client->welcome().player == 5);
  CHECK(result_of(*client, 1, Join{5}).accepted);
  const auto gather = result_of(*client, 2, Gather{6, Item::ore});
  CHECK_FALSE(gather.accepted);
  CHECK(gather.reason == static_cast<std::uint16_t>(Reject::not_authorized));
  const auto join = result_of(*client, 3, Join{6});
  CHECK_FALSE(join.accepted);
  CHECK(join.reason == static_cast<std::uint16_t>(Reject::not_authorized));
  CHECK(served.state(served.host().world().zone_of(6)).find(6) == nullptr);
}

TEST_CASE("a command that does not decode is refused as bad_command, and the connection goes on") {
  Served served;
  auto client = served.connect(5);
  REQUIRE(client->send_bytes(1, "garbage", Clock::now() + 5s).ok());
  auto refused = client->await(1, Clock::now() + 5s);
  REQUIRE(refused.ok());
  REQUIRE(std::holds_alternative<net::Error>(*refused));
  const auto& error = std::get<net::Error>(*refused);
  CHECK(error.code == net::ErrorCode::bad_command);
  CHECK_FALSE(error.fatal);
  CHECK(error.client_id == 1);
  // Never submitted: the id may be used again.
  CHECK(result_of(*client, 1, Join{5}).accepted);
  CHECK(result_of(*client, 2, Gather{5, Item::wood}).accepted);
}

TEST_CASE("a trader who disconnects is logged out and comes back to its goods") {
  Served served;
  auto client = served.connect(7);
  const auto joined = result_of(*client, 1, Join{7});
  REQUIRE(joined.accepted);
  const auto z = static_cast<zone::ZoneId>(joined.zone);
  REQUIRE(result_of(*client, 2, Gather{7, Item::ore}).accepted);
  const std::uint32_t ore = served.state(z).online.at(7).count(Item::ore);
  REQUIRE(ore > 0);

  client->close();
  REQUIRE(eventually([&] { return logged_out(served.log(), z, 7); }));
  CHECK(served.state(z).offline.at(7).count(Item::ore) == ore);

  // The server frees the trader for a new connection once the logout is durable: a Hello a
  // moment before that is refused as already_connected.
  std::unique_ptr<Client> again;
  REQUIRE(eventually([&] {
    auto connected =
        Client::connect(served.host().endpoint(), served.host().secret(), 7, Clock::now() + 5s);
    if (!connected.ok()) {
      REQUIRE(connected.error().message().find("already_connected") != std::string::npos);
      return false;
    }
    again = std::move(connected).value();
    return true;
  }));
  REQUIRE(result_of(*again, 3, Join{7}).accepted);
  CHECK(served.state(z).online.at(7).count(Item::ore) == ore);
  // And the server says so: it lists them all.
  CHECK(result_of(*again, 4, List{7, Item::ore, ore, 10}).accepted);
}

} // namespace worldlog::market

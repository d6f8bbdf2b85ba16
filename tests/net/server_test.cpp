// The server over real sockets on loopback: the handshake, durable results, what a player sees,
// and every defence the issue lists, each checked with a well-behaved client still served.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/game/rules.hpp>
#include <worldlog/net/metrics.hpp>

#include "net/server_fixture.hpp"

namespace worldlog::test {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

/// A player in the world: connected, welcomed and joined.
struct Player {
  TestClient client;
  std::uint64_t id;

  Player(ServerFixture& server, std::uint64_t player) : client(server.endpoint()), id(player) {
    client.hello(player, server.secret());
    const auto joined = client.command(1, game::join(player));
    REQUIRE_MESSAGE(joined.accepted, joined.text);
  }
};

/// A well-behaved client still gets its answers: the defence hurt nobody else.
void check_still_served(ServerFixture& server, std::uint64_t player) {
  TestClient bystander(server.endpoint());
  bystander.hello(player, server.secret());
  const auto joined = bystander.command(1, game::join(player));
  CHECK_MESSAGE(joined.accepted, joined.text);
}

/// What every zone's stream held before an attack: its head and that record's hash. The attack
/// lost nothing if, afterwards, each stream still verifies from seq 1 and holds the same record
/// at that seq (the hash chain then vouches for everything before it).
class StoredBefore {
public:
  explicit StoredBefore(ServerFixture& server) : server_(server) {
    for (game::ZoneId zone = 1; zone <= server.world().options().zones; ++zone) {
      const log::Seq head = server.log().head(zone);
      heads_.push_back({zone, head, head == 0 ? log::Hash{} : hash_at(zone, head)});
    }
  }

  void check_kept() const {
    for (const Head& head : heads_) {
      CAPTURE(head.zone);
      const auto verified = server_.log().verify(head.zone);
      REQUIRE_OK(verified);
      CHECK(*verified >= head.seq);
      if (head.seq != 0) CHECK(hash_at(head.zone, head.seq) == head.hash);
    }
  }

private:
  struct Head {
    game::ZoneId zone;
    log::Seq seq;
    log::Hash hash;
  };

  log::Hash hash_at(game::ZoneId zone, log::Seq seq) const {
    auto events = server_.log().read_stream(zone, seq, 1);
    REQUIRE_OK(events);
    REQUIRE(events->size() == 1);
    return events->front().hash();
  }

  ServerFixture& server_;
  std::vector<Head> heads_;
};

/// A player in the world before an attack, and what the log held once it had spoken. After the
/// attack, check_unharmed proves the defence hurt nobody else: the witness is still served, a
/// newcomer is too, and nothing stored was lost.
class Witness {
public:
  static constexpr std::uint64_t id = 99;

  explicit Witness(ServerFixture& server) : server_(server), player_(server, id) {
    speak();
    stored_.emplace(server);
  }

  /// Says something, and requires it accepted.
  void speak() { REQUIRE(player_.client.command(++client_id_, game::say(id, "hello")).accepted); }

  void check_unharmed(std::uint64_t newcomer) {
    speak();
    check_still_served(server_, newcomer);
    stored_->check_kept();
  }

private:
  ServerFixture& server_;
  Player player_;
  std::uint64_t client_id_ = 1; // the join's
  std::optional<StoredBefore> stored_;
};

net::Error expect_error(TestClient& client, net::ErrorCode code) {
  const auto error = client.expect<net::Error>();
  CHECK_MESSAGE(error.code == code,
                fmt::format("{} '{}'", net::error_code_name(error.code), error.text));
  return error;
}

} // namespace

TEST_CASE("a player says hello, joins and moves, and each result names durable seqs") {
  ServerFixture server;
  TestClient client(server.endpoint());
  const net::Welcome welcome = client.hello(7, server.secret());
  CHECK(welcome.player == 7);
  CHECK(welcome.zone == 2); // players start in zone (id mod zones) + 1
  CHECK(welcome.zone_count == 2);
  CHECK(welcome.world_seed == 5);

  const auto joined = client.command(1, game::join(7));
  REQUIRE_MESSAGE(joined.accepted, joined.text);
  REQUIRE(joined.seqs.size() == 1);
  // Durable before the answer: the log already has it.
  CHECK(joined.zone == 2);
  CHECK(server.log().head(2) >= joined.seqs.front());

  // The player sees its own arrival in the world: the event may come before the result (both
  // follow durability) or after it.
  const auto shows_join = [&](const net::Events& events) {
    return std::any_of(events.events.begin(), events.events.end(), [&](const auto& event) {
      return event.seq == joined.seqs.front() && event.payload_type == game::Joined::type &&
             event.actor == 7;
    });
  };
  bool saw_join = std::any_of(client.seen().begin(), client.seen().end(), shows_join);
  while (!saw_join) {
    auto message = client.receive();
    REQUIRE(message.has_value());
    if (const auto* events = std::get_if<net::Events>(&*message)) saw_join = shows_join(*events);
  }
  CHECK(saw_join);
}

TEST_CASE("world events wait for their batch, or leave with the next result") {
  // The first connection's batches end after a tenth of the interval (its lane, the first of
  // ten), 10 s in: long after this test is over.
  ServerFixture server({.event_batch = 100s});
  Player watcher(server, 8);
  // A write in progress takes along what is queued when it ends: let it end.
  for (int i = 0; i < 10 && !watcher.client.quiet_for(200ms); ++i) {
  }
  Player newcomer(server, 10); // in the same zone: the watcher sees it join
  const auto saw_newcomer = [&] {
    return std::any_of(
        watcher.client.seen().begin(), watcher.client.seen().end(), [](const net::Events& events) {
          return std::any_of(events.events.begin(), events.events.end(),
                             [](const net::WorldEvent& event) { return event.actor == 10; });
        });
  };
  // Its batch has 10 s to run: whatever the watcher gets now came with a result.
  CHECK(watcher.client.quiet_for(300ms));
  // The events queued before a result go out with it. (The zone may show the newcomer's
  // Joined just after the watcher's first result was queued, but not after a later one.)
  for (std::uint64_t id = 2; id < 6 && !saw_newcomer(); ++id)
    REQUIRE(watcher.client.command(id, game::say(8, "anyone?")).accepted);
  CHECK(saw_newcomer());
}

TEST_CASE("connections take turns to get their batches, a tenth of an interval apart") {
  // Lanes a second apart: wide enough that a stall of the loaded machine does not merge them.
  ServerFixture server({.event_batch = 10s});
  Player first(server, 8);   // the first lane: its first batch ends 1 s after the start
  Player second(server, 10); // the second lane: 2 s after
  Player talker(server, 12); // in their zone, at the spawn point with them
  // A player's own Joined may leave with the write of its Join's result still in progress:
  // take it first.
  for (TestClient* client : {&first.client, &second.client}) {
    while (!client->quiet_for(100ms)) {
    }
  }
  // Both see the talker's lines only in their batches: when each gets something tells its
  // lane. Each listens on a thread of its own, so that it notes an arrival when it happens.
  const auto start = SteadyClock::now();
  const auto listen = [start](TestClient& client, std::vector<SteadyClock::time_point>& got) {
    while (SteadyClock::now() - start < 3s) {
      if (!client.quiet_for(50ms)) got.push_back(SteadyClock::now());
    }
  };
  std::vector<SteadyClock::time_point> first_got;
  std::vector<SteadyClock::time_point> second_got;
  std::thread first_listener(listen, std::ref(first.client), std::ref(first_got));
  std::thread second_listener(listen, std::ref(second.client), std::ref(second_got));
  for (std::uint64_t id = 2; SteadyClock::now() - start < 2500ms; ++id) {
    REQUIRE(talker.client.command(id, game::say(12, "hear me")).accepted);
    std::this_thread::sleep_for(100ms);
  }
  first_listener.join();
  second_listener.join();
  REQUIRE_FALSE(first_got.empty());
  REQUIRE_FALSE(second_got.empty());
  // In one burst they would arrive within a few ms of each other.
  for (const auto first_time : first_got) {
    for (const auto second_time : second_got) {
      const auto apart =
          first_time > second_time ? first_time - second_time : second_time - first_time;
      CHECK(apart >= 500ms);
    }
  }
}

TEST_CASE("a bad token is refused and the connection closed") {
  ServerFixture server;
  Witness witness(server);
  TestClient client(server.endpoint());
  const net::Token someone_else = net::make_token(server.secret(), 8);
  client.send(net::Hello{7, {someone_else.begin(), someone_else.end()}});
  const auto error = expect_error(client, net::ErrorCode::bad_token);
  CHECK(error.fatal);
  CHECK(client.closed_by_server());
  CHECK(server.errors(net::ErrorCode::bad_token) == 1);
  witness.check_unharmed(7);
}

TEST_CASE("a command before hello is refused and the connection stays open") {
  ServerFixture server;
  Witness witness(server);
  TestClient client(server.endpoint());
  client.send(net::Command{5, game::Model::encode_command(game::join(7))});
  const auto error = expect_error(client, net::ErrorCode::not_authenticated);
  CHECK(error.client_id == 5);
  CHECK_FALSE(error.fatal);
  client.hello(7, server.secret());
  CHECK(client.command(6, game::join(7)).accepted);
  witness.check_unharmed(8);
}

TEST_CASE("acting as another player is rejected by the game and recorded in the log") {
  ServerFixture server;
  Witness witness(server);
  Player mallory(server, 7);
  Player victim(server, 8);
  const auto result = mallory.client.command(2, game::leave(8));
  CHECK_FALSE(result.accepted);
  CHECK(result.reason == static_cast<std::uint16_t>(game::Reject::not_authorized));
  // Audited: the rejection is an event of the zone's stream, caused by player 7.
  REQUIRE(result.seqs.empty());
  auto events = server.log().read_stream(result.zone, 1, everything);
  REQUIRE_OK(events);
  const auto& last = events->back();
  CHECK(last.actor() == log::Actor{log::ActorKind::player, 7});
  CHECK(last.payload_type() == zone::command_rejected_payload_type);
  // The victim is still in the world.
  CHECK(victim.client.command(2, game::say(8, "still here")).accepted);
  witness.check_unharmed(9);
}

TEST_CASE("coordinates out of range, overflowing, and a teleport are rejected with their reason") {
  ServerFixture server;
  Witness witness(server);
  Player player(server, 7);
  const auto far = player.client.command(2, game::move(7, {INT64_MAX, INT64_MIN}));
  CHECK_FALSE(far.accepted);
  CHECK(far.reason == static_cast<std::uint16_t>(game::Reject::invalid_coordinates));
  const auto teleport = player.client.command(3, game::move(7, {5'000'000, 5'000'000}));
  CHECK_FALSE(teleport.accepted);
  CHECK((teleport.reason == static_cast<std::uint16_t>(game::Reject::teleport) ||
         teleport.reason == static_cast<std::uint16_t>(game::Reject::out_of_bounds)));
  CHECK(server.counters().commands_rejected.load() == 2);
  witness.check_unharmed(8);
}

TEST_CASE("an unknown command, a system-only command and a reused client id are refused") {
  ServerFixture server;
  Witness witness(server);
  Player player(server, 7);
  player.client.send(net::Command{2, "not a game command"});
  CHECK(expect_error(player.client, net::ErrorCode::bad_command).client_id == 2);

  const auto handoff = player.client.command(3, game::Command{game::CompleteHandoff{7, 1}});
  CHECK_FALSE(handoff.accepted);
  CHECK(handoff.reason == static_cast<std::uint16_t>(game::Reject::not_authorized));

  player.client.send(net::Command{3, game::Model::encode_command(game::say(7, "again"))});
  CHECK(expect_error(player.client, net::ErrorCode::duplicate_client_id).client_id == 3);
  CHECK(player.client.command(4, game::say(7, "new id")).accepted);
  witness.check_unharmed(8);
}

TEST_CASE("an oversized length prefix closes the connection before its bytes arrive") {
  ServerFixture server({.max_frame = 1024});
  Witness witness(server);
  TestClient client(server.endpoint());
  client.send_raw(std::string("\x01\x04\0\0", 4)); // 1025 bytes announced, none sent
  const auto error = expect_error(client, net::ErrorCode::frame_too_large);
  CHECK(error.fatal);
  CHECK(error.text.find("1025") != std::string::npos);
  CHECK(client.closed_by_server());
  witness.check_unharmed(7);
}

TEST_CASE("a frame that fails the verifier or has another identifier closes the connection") {
  ServerFixture server;
  Witness witness(server);
  {
    TestClient client(server.endpoint());
    std::string message = net::encode(net::Hello{7, {}});
    message[0] = static_cast<char>(0xf0); // the root offset points outside the buffer
    client.send_raw(net::frame(message));
    CHECK(expect_error(client, net::ErrorCode::malformed_frame).fatal);
    CHECK(client.closed_by_server());
  }
  {
    TestClient client(server.endpoint());
    client.send_raw(net::frame("definitely not a FlatBuffer"));
    CHECK(expect_error(client, net::ErrorCode::wrong_identifier).fatal);
    CHECK(client.closed_by_server());
  }
  witness.check_unharmed(7);
}

TEST_CASE("a truncated frame is not acted on, and the idle timeout closes the connection") {
  ServerFixture server({.idle_timeout = 300ms});
  Witness witness(server);
  TestClient client(server.endpoint());
  const std::string hello = net::frame(net::encode(net::Hello{7, {}}));
  client.send_raw(std::string_view(hello).substr(0, hello.size() - 3));
  // The witness keeps talking meanwhile: only the silent connection times out.
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(100ms);
    witness.speak();
  }
  const auto error = expect_error(client, net::ErrorCode::idle_timeout);
  CHECK(error.fatal);
  CHECK(client.closed_by_server());
  witness.check_unharmed(8);
}

TEST_CASE("a flood beyond the rate limit is refused command by command") {
  ServerFixture server({.commands_per_second = 20, .command_burst = 20});
  Witness witness(server);
  Player player(server, 7);
  for (std::uint64_t id = 100; id < 160; ++id)
    player.client.send(net::Command{id, game::Model::encode_command(game::say(7, "spam"))});
  std::size_t limited = 0;
  std::size_t answered = 0;
  while (limited + answered < 60) {
    auto reply = player.client.receive_reply();
    REQUIRE(reply.has_value());
    if (const auto* error = std::get_if<net::Error>(&*reply)) {
      CHECK(error->code == net::ErrorCode::rate_limited);
      ++limited;
    } else {
      ++answered;
    }
  }
  // The bucket held 19 after the join; a few more may have dripped in meanwhile.
  CHECK(limited >= 30);
  CHECK(answered >= 19);
  CHECK(server.errors(net::ErrorCode::rate_limited) == limited);
  witness.check_unharmed(8);
}

TEST_CASE("a client that never reads is disconnected instead of growing the server's memory") {
  ServerFixture server({.commands_per_second = 1'000'000,
                        .command_burst = 1'000'000,
                        .max_outgoing_bytes = 64 * 1024});
  Witness witness(server);
  TestClient client(server.endpoint(), 4096);
  client.hello(7, server.secret());
  // Every bad command earns an Error frame; none is read.
  const std::string bad = net::frame(net::encode(net::Command{0, "x"}));
  std::string burst;
  for (int i = 0; i < 1000; ++i)
    burst += bad;
  for (int i = 0; i < 200 && server.errors(net::ErrorCode::slow_reader) == 0; ++i) {
    client.send_raw(burst);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(server.errors(net::ErrorCode::slow_reader) == 1);
  witness.check_unharmed(8);
}

TEST_CASE("a thousand connections opened and dropped leave the server serving") {
  ServerFixture server;
  Witness witness(server);
  for (int i = 0; i < 1000; ++i) {
    TestClient client(server.endpoint());
    if (i % 2 == 0) client.send_raw(std::string("\x10\0\0\0half", 8));
  }
  witness.check_unharmed(7);
  // Only the witness is still connected; the newcomer came and went, too.
  for (int i = 0; i < 100 && server.counters().connections.load() != 1; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(server.counters().connections.load() == 1);
  CHECK(server.counters().connections_total.load() == 1002);
}

TEST_CASE("a second connection for a connected player is refused") {
  ServerFixture server;
  Witness witness(server);
  Player first(server, 7);
  TestClient second(server.endpoint());
  const net::Token token = net::make_token(server.secret(), 7);
  second.send(net::Hello{7, {token.begin(), token.end()}});
  CHECK(expect_error(second, net::ErrorCode::already_connected).fatal);
  CHECK(first.client.command(2, game::say(7, "still mine")).accepted);
  witness.check_unharmed(8);
}

TEST_CASE("a connection beyond the maximum is told the server is full, and the others go on") {
  ServerFixture server({.max_connections = 1});
  Player first(server, 7);
  for (int attempt = 0; attempt < 20; ++attempt) {
    TestClient refused(server.endpoint());
    if (attempt % 2 == 0) {
      const net::Token token = net::make_token(server.secret(), 8);
      refused.send(net::Hello{8, {token.begin(), token.end()}});
    }
    const auto error = expect_error(refused, net::ErrorCode::server_full);
    CHECK(error.fatal);
    CHECK_MESSAGE(error.text.find("limit is 1") != std::string::npos, error.text);
    CHECK_FALSE(refused.receive().has_value()); // and closed
  }
  CHECK(server.counters().connections_refused.load() == 20);
  CHECK(server.counters().errors[static_cast<std::size_t>(net::ErrorCode::server_full)].load() ==
        20);
  CHECK(first.client.command(2, game::say(7, "still here")).accepted);
}

TEST_CASE("stopping answers the commands in flight, then closes every connection") {
  ServerFixture server;
  Player player(server, 7);
  const auto received = server.counters().frames_received.load();
  player.client.send(net::Command{2, game::Model::encode_command(game::say(7, "last words"))});
  // Stop once the server has the command, before its result is durable (or just after).
  while (server.counters().frames_received.load() == received)
    std::this_thread::yield();
  std::thread stopper([&] { server.stop(); });
  const auto result = player.client.expect<net::CommandResult>();
  CHECK(result.client_id == 2);
  CHECK(result.accepted);
  CHECK(expect_error(player.client, net::ErrorCode::shutting_down).fatal);
  CHECK(player.client.closed_by_server());
  stopper.join();
}

TEST_CASE("the metrics show what the server did") {
  ServerFixture server;
  net::Metrics& metrics = server.metrics();
  net::add_server_metrics(metrics, server.server(), server.log());
  Player player(server, 7);
  CHECK_FALSE(player.client.command(2, game::move(7, {INT64_MAX, 0})).accepted);
  player.client.send(net::Command{2, game::Model::encode_command(game::say(7, "again"))});
  expect_error(player.client, net::ErrorCode::duplicate_client_id);

  const std::string text = metrics.prometheus_text();
  const auto has = [&](std::string_view line) {
    CHECK_MESSAGE(text.find(line) != std::string::npos, fmt::format("no '{}' in\n{}", line, text));
  };
  has("worldlog_connections 1\n");
  has("worldlog_commands_total{result=\"accepted\"} 1\n");
  has("worldlog_commands_total{result=\"rejected\"} 1\n");
  has("worldlog_protocol_errors_total{code=\"duplicate_client_id\"} 1\n");
  has(fmt::format("worldlog_log_position {}\n", server.log().last_position()));
  has("worldlog_zone_mailbox_depth{zone=\"2\"} ");
  has("worldlog_zone_restarts_total 0\n");
  has("worldlog_command_latency_ms_count 2\n");
  const std::string_view p99 = "\nworldlog_command_latency_p99_us ";
  const auto at = text.find(p99);
  REQUIRE(at != std::string::npos);
  CHECK(std::stoll(text.substr(at + p99.size())) > 0); // two commands took some time
  // Every event reached the log in some durable write.
  has(fmt::format("worldlog_append_batch_events_sum {}\n", server.log().last_position()));
  has("worldlog_append_batch_events_bucket{le=\"1\"} ");
}

TEST_CASE("a client id resent after reconnecting gets the first result back, not applied again") {
  ServerFixture server;
  const auto before = [&] {
    Player player(server, 7);
    const auto said = player.client.command(2, game::say(7, "once"));
    REQUIRE(said.accepted);
    CHECK_FALSE(said.duplicate);
    return said;
  }();
  // The first connection logs the player out as it closes; wait until it has.
  std::optional<TestClient> again;
  for (int attempt = 0; attempt < 100; ++attempt) {
    again.emplace(server.endpoint());
    const net::Token token = net::make_token(server.secret(), 7);
    again->send(net::Hello{7, {token.begin(), token.end()}});
    auto reply = again->receive_reply();
    REQUIRE(reply.has_value());
    if (std::holds_alternative<net::Welcome>(*reply)) break;
    again.reset();
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(again.has_value());
  REQUIRE(again->command(1, game::join(7)).duplicate); // the first session's join, id 1
  const auto head = server.log().head(before.zone);
  const auto resent = again->command(2, game::say(7, "once"));
  CHECK(resent.duplicate);
  CHECK(resent.accepted);
  CHECK(resent.seqs == before.seqs);
  CHECK(server.log().head(before.zone) == head);
}

// ---- the player's lifecycle --------------------------------------------------------------

/// The game events of `type` that `client` has been shown so far, decoded.
template <typename E> std::vector<E> shown(TestClient& client) {
  // Whatever is on its way is read into seen() first (mobs nearby may never fall silent).
  client.read_events(300ms, 2s);
  std::vector<E> found;
  for (const net::Events& events : client.seen()) {
    for (const net::WorldEvent& event : events.events) {
      if (event.payload_type != E::type) continue;
      auto decoded = game::Model::decode(event.payload_type, event.payload);
      REQUIRE_OK(decoded);
      found.push_back(std::get<E>(*decoded));
    }
  }
  return found;
}

/// Connects as `player` once its previous connection's logout is recorded; the Welcome.
std::pair<std::unique_ptr<TestClient>, net::Welcome> reconnect(ServerFixture& server,
                                                               std::uint64_t player) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    auto client = std::make_unique<TestClient>(server.endpoint());
    const net::Token token = net::make_token(server.secret(), player);
    client->send(net::Hello{player, {token.begin(), token.end()}});
    auto reply = client->receive_reply();
    REQUIRE(reply.has_value());
    if (auto* welcome = std::get_if<net::Welcome>(&*reply)) return {std::move(client), *welcome};
    std::this_thread::sleep_for(10ms);
  }
  FAIL("player " << player << " could not connect again");
  return {};
}

TEST_CASE("a player's logout is shown to those who see it, and its character waits for it") {
  ServerFixture server;
  // 7 and 9 both start in zone 2, at its spawn point.
  Player watcher(server, 9);
  net::CommandResult said{};
  {
    Player leaving(server, 7);
    said = leaving.client.command(2, game::say(7, "bye"));
    REQUIRE(said.accepted);
  }
  std::vector<game::LoggedOut> logouts;
  for (int attempt = 0; attempt < 50 && logouts.empty(); ++attempt)
    logouts = shown<game::LoggedOut>(watcher.client);
  REQUIRE(logouts.size() == 1);
  CHECK(logouts.front().entity == 7);
  CHECK(logouts.front().reason == game::LogoutReason::disconnected);

  auto [again, welcome] = reconnect(server, 7);
  CHECK(welcome.zone == said.zone);
  const auto joined = again->command(3, game::join(7));
  REQUIRE_MESSAGE(joined.accepted, joined.text);
  const auto own = shown<game::Joined>(*again);
  REQUIRE_FALSE(own.empty());
  CHECK(own.back().character.has_value());
}

TEST_CASE("a player coming into a zone is shown who is already in view, as events of seq 0") {
  ServerFixture server;
  // 9 and 11 start in zone 2 at its spawn point; 7 joins them there.
  Player first(server, 9);
  Player second(server, 11);
  Player newcomer(server, 7);
  // The view follows the newcomer's Joined, which is shown once durable: after the answer to
  // the Join, which the commit gives at once. Wait for it.
  std::vector<std::uint64_t> players;
  for (int attempt = 0; attempt < 50 && players.size() < 2; ++attempt) {
    players.clear();
    for (const game::Seen& one : shown<game::Seen>(newcomer.client)) {
      if (one.what == game::Seen::What::player) players.push_back(one.entity);
    }
  }
  std::sort(players.begin(), players.end());
  CHECK(players == std::vector<std::uint64_t>{9, 11});
  for (const net::Events& events : newcomer.client.seen()) {
    for (const net::WorldEvent& event : events.events) {
      if (event.payload_type == game::Seen::type) CHECK(event.seq == 0);
    }
  }
  // Those already there were shown the newcomer's Joined, not a view.
  CHECK(shown<game::Seen>(first.client).size() == 0);
  CHECK_FALSE(shown<game::Joined>(first.client).empty());
}

TEST_CASE("players crossing together each see their own Arrived, and resume across the border") {
  ServerFixture server;
  // Even ids start in zone 1 of 2; its east exit leads to zone 2.
  const std::vector<std::uint64_t> ids{8, 10, 12, 14};
  std::vector<std::unique_ptr<Player>> players;
  for (const std::uint64_t id : ids)
    players.push_back(std::make_unique<Player>(server, id));
  const game::Map map = game::map_for({1, 2, 5, 50'000});
  // Along the spawn's row, free of rocks, 4.5 m a second where 5 m are allowed.
  game::Point at = map.spawn;
  std::uint64_t client_id = 100;
  while (at.x < map.width_mm()) {
    std::this_thread::sleep_for(1s);
    at.x = std::min<std::int64_t>(at.x + 4500, map.width_mm() + 200);
    ++client_id;
    for (const auto& player : players) {
      const auto moved = player->client.command(client_id, game::move(player->id, at));
      REQUIRE_MESSAGE(moved.accepted, moved.text);
      CHECK(moved.zone == 1);
    }
  }
  for (const auto& player : players) {
    std::vector<game::Arrived> arrivals;
    for (int attempt = 0; attempt < 50 && arrivals.empty(); ++attempt)
      arrivals = shown<game::Arrived>(player->client);
    const bool own = std::any_of(arrivals.begin(), arrivals.end(), [&](const game::Arrived& a) {
      return a.player.id == player->id && a.from == 1;
    });
    CHECK_MESSAGE(own, "player " << player->id << " was not shown its own Arrived");
  }

  // The crossing move, sent again after a reconnect, is not applied again in the new zone.
  const std::uint64_t crossing = client_id;
  const std::uint64_t id = ids.front();
  players.front().reset();
  auto [again, welcome] = reconnect(server, id);
  CHECK(welcome.zone == 2);
  const auto head = server.log().head(2);
  const auto retried = again->command(crossing, game::move(id, at));
  CHECK(retried.duplicate);
  CHECK(retried.zone == 1);
  const auto joined = again->command(crossing + 1, game::join(id));
  REQUIRE_MESSAGE(joined.accepted, joined.text);
  CHECK(joined.zone == 2);
  CHECK(server.log().head(2) == head + 1);
}

namespace {

/// Where each entity was last shown to be, from the Moved events `client` has seen; and how
/// many Moved events it has seen of `entity` since the `from`th event.
struct Sightings {
  std::vector<std::pair<game::EntityId, game::Point>> moves; ///< in the order seen
  std::vector<std::uint32_t> types;                          ///< of every event, in order
  std::vector<game::EntityId> actors;

  explicit Sightings(const TestClient& client) {
    for (const net::Events& events : client.seen()) {
      for (const net::WorldEvent& event : events.events) {
        types.push_back(event.payload_type);
        actors.push_back(event.actor);
        if (event.payload_type != game::Moved::type) continue;
        auto decoded = game::Model::decode(event.payload_type, event.payload);
        REQUIRE_OK(decoded);
        const auto& moved = std::get<game::Moved>(*decoded);
        moves.emplace_back(moved.entity, moved.to);
      }
    }
  }
  [[nodiscard]] std::size_t moves_of(game::EntityId entity, std::size_t from = 0) const {
    return static_cast<std::size_t>(
        std::count_if(moves.begin() + static_cast<std::ptrdiff_t>(from), moves.end(),
                      [&](const auto& move) { return move.first == entity; }));
  }
  [[nodiscard]] std::optional<game::Point> last_of(game::EntityId entity) const {
    for (auto move = moves.rbegin(); move != moves.rend(); ++move) {
      if (move->first == entity) return move->second;
    }
    return std::nullopt;
  }
};

} // namespace

TEST_CASE("in a crowd a player is shown its nearest movers at full rate and the far ones later") {
  // One mover at full rate; the others' latest moves once every 4 ticks. The fixture's world
  // ticks only when told to, so the far moves come exactly when the test ticks it.
  ServerFixture server({.event_batch = 20ms}, 1, {.full_rate_movers = 1, .far_move_ticks = 4});
  const game::Point spawn = game::map_for({.zone = 1, .zone_count = 1, .seed = 5}).spawn;
  const auto near_spawn = [&](std::int64_t dx, std::int64_t dy) {
    return game::Point{spawn.x + dx, spawn.y + dy};
  };
  Player alice(server, 1); // stands at the spawn point throughout
  Player bob(server, 2);   // moves 50 mm from her
  Player carol(server, 3); // moves 100 mm from her
  std::uint64_t bob_id = 2;
  std::uint64_t carol_id = 2;
  const auto move = [&](Player& player, std::uint64_t& id, game::Point to) {
    const auto moved = player.client.command(id++, game::move(player.id, to));
    REQUIRE_MESSAGE(moved.accepted, moved.text);
    return moved.seqs.front();
  };
  move(bob, bob_id, near_spawn(50, 0));
  move(carol, carol_id, near_spawn(100, 0));
  alice.client.read_events(300ms, 3s);
  const Sightings unranked(alice.client);
  CHECK(unranked.moves_of(2) == 1); // not ranked yet: every move
  CHECK(unranked.moves_of(3) == 1);

  server.world().tick(); // alice is ranked: of bob and carol, bob is the nearer
  for (const std::int64_t dy : {50, 0, 50})
    move(carol, carol_id, near_spawn(100, dy));
  move(bob, bob_id, near_spawn(50, 50));
  alice.client.read_events(300ms, 3s);
  const Sightings ranked(alice.client);
  CHECK(ranked.moves_of(2, unranked.moves.size()) == 1);
  CHECK(ranked.moves_of(3, unranked.moves.size()) == 0);

  SUBCASE("the far mover's latest move comes at its turn") {
    std::this_thread::sleep_for(250ms); // five ticks: every turn comes at the next tick
    server.world().tick();
    alice.client.read_events(300ms, 3s);
    const Sightings released(alice.client);
    CHECK(released.moves_of(3, ranked.moves.size()) == 1);
    CHECK(released.last_of(3) == near_spawn(100, 50));
    CHECK(released.last_of(2) == near_spawn(50, 50));
  }

  SUBCASE("what else the far mover does comes at once, after its latest move") {
    const auto said = carol.client.command(carol_id++, game::say(3, "over here"));
    REQUIRE_MESSAGE(said.accepted, said.text);
    alice.client.read_events(300ms, 3s);
    const Sightings told(alice.client);
    REQUIRE(told.types.size() >= 2);
    CHECK(told.types[told.types.size() - 2] == game::Moved::type);
    CHECK(told.actors[told.actors.size() - 2] == 3);
    CHECK(told.types.back() == game::Said::type);
    CHECK(told.last_of(3) == near_spawn(100, 50));
  }
}

} // namespace worldlog::test

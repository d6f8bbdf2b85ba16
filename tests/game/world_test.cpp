// game::World on a real log with a manual clock: presence follows joins, leaves and handoffs and
// is rebuilt from the zones on a restart; a crashed zone is rebuilt by the world supervisor with
// its state intact while chat and the other zones carry on; chat delivers to members only,
// within its limits.
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/world.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/zone/records.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::game {
namespace {

using namespace std::chrono_literals;
using world::Chat;
using world::ChatMessage;
using worldlog::test::error_code;

/// How long a test waits for what should happen at once; only a broken world waits this long.
constexpr std::chrono::milliseconds patience = 10s;

/// Waits until `done()` holds, for at most `patience`; returns whether it did.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// Holds the threads that wait on it until opened. Opens itself when destroyed, so that a
/// failed check cannot leave a pool thread blocked (and the pool's join hanging).
class Gate {
public:
  Gate() : opened_(open_.get_future().share()) {}
  ~Gate() { open(); }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  void open() {
    if (!is_open_) open_.set_value();
    is_open_ = true;
  }
  void wait() const { opened_.wait(); }

private:
  std::promise<void> open_;
  std::shared_future<void> opened_;
  bool is_open_ = false; ///< the test's thread only
};

/// The chat messages a listener heard (on the chat actor's strand).
class Inbox {
public:
  [[nodiscard]] Chat::Listener listener() {
    return [this](const ChatMessage& message) {
      const std::lock_guard lock(mutex_);
      messages_.push_back(message);
    };
  }
  [[nodiscard]] std::vector<std::string> texts() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> texts;
    for (const auto& message : messages_)
      texts.push_back(message.text);
    return texts;
  }
  [[nodiscard]] std::vector<ChatMessage> messages() const {
    const std::lock_guard lock(mutex_);
    return messages_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<ChatMessage> messages_; ///< guarded by mutex_
};

/// A running world over a log in a temp dir; commands wait for their durable outcome.
class LiveWorld {
public:
  explicit LiveWorld(WorldOptions options = {.zones = 3, .seed = 42})
      : options_(std::move(options)), log_(worldlog::test::open_log(dir_ / "log")) {
    start();
  }
  ~LiveWorld() { stop(); }
  LiveWorld(const LiveWorld&) = delete;
  LiveWorld& operator=(const LiveWorld&) = delete;

  /// Starts a new world over the same log (after stop(): a process restart).
  void start() {
    world_ = std::make_unique<World>(pool_.get_executor(), *log_, clock_, options_);
    REQUIRE_OK(world_->start(patience));
  }
  /// Starts a world over the same log with `other` options instead, and returns how that went
  /// and how long it took; on failure no world runs afterwards.
  std::pair<Status, std::chrono::steady_clock::duration> try_start(WorldOptions other) {
    const auto began = std::chrono::steady_clock::now();
    world_ = std::make_unique<World>(pool_.get_executor(), *log_, clock_, std::move(other));
    Status started = world_->start(patience);
    const auto took = std::chrono::steady_clock::now() - began;
    if (!started.ok()) world_.reset();
    return {std::move(started), took};
  }
  /// A clean shutdown, with a snapshot of every zone.
  void stop() {
    if (!world_) return;
    CHECK_OK(world_->shutdown(patience));
    world_.reset();
  }
  /// The process dies: the world's memory is gone, the log keeps what was durable.
  void crash() { world_.reset(); }

  /// Sends `command` as `player`'s session would, with `client_id`, and waits for its outcome.
  Result<zone::Outcome> submit_for(EntityId player, std::uint64_t client_id, Command command) {
    auto answered = std::make_shared<std::promise<Result<zone::Outcome>>>();
    auto future = answered->get_future();
    static_cast<void>(world_->submit_for(
        player, client_id, std::move(command),
        [answered](Result<zone::Outcome> outcome) { answered->set_value(std::move(outcome)); }));
    REQUIRE(future.wait_for(patience) == std::future_status::ready);
    return future.get();
  }
  /// Ends `player`'s session and waits until its logout is recorded.
  void disconnect(EntityId player) {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    world_->disconnect(player, world::LogoutReason::disconnected, [done] { done->set_value(); });
    REQUIRE(future.wait_for(patience) == std::future_status::ready);
  }
  /// Walks `player` from where it stands in `zone` through the exit on the `east` or west side,
  /// one second (20 ticks) per 5 m along the spawn's row, a lane free of rocks; waits until the
  /// next zone holds it.
  void cross(ZoneId zone, EntityId player, bool east) {
    const Map map = map_for({zone, options_.zones, options_.seed, options_.tick_us});
    Point at = player_at(zone, player);
    REQUIRE(at.y == map.spawn.y);
    const ZoneId next = east ? zone + 1 : zone - 1;
    while (east ? at.x < map.width_mm() : at.x >= 0) {
      clock_.advance(1s);
      at.x = east ? std::min(at.x + 5000, map.width_mm() + 200)
                  : std::max<std::int64_t>(at.x - 5000, -200);
      auto outcome = submit_for(player, 0, move(player, at));
      REQUIRE_OK(outcome);
      REQUIRE_MESSAGE(outcome->accepted, outcome->reason);
    }
    REQUIRE(eventually([&] { return in_zone(next, player); }));
  }
  Point player_at(ZoneId zone, EntityId player) {
    return on_zone(zone, [player](const auto& target) {
      const Player* found = target.state().player(player);
      return found ? found->at : Point{-1, -1};
    });
  }
  /// A copy of `zone`'s state, taken on its strand.
  State state(ZoneId zone) {
    return on_zone(zone, [](const auto& target) { return target.state(); });
  }
  /// The LoggedOut events of `zone`'s stream, in order.
  std::vector<LoggedOut> logouts(ZoneId zone) {
    std::vector<LoggedOut> found;
    auto events = log_->read_stream(zone, 1, 100'000);
    REQUIRE_OK(events);
    for (const auto& event : *events) {
      if (event.payload_type() != LoggedOut::type) continue;
      auto decoded = Model::decode(event.payload_type(), event.payload());
      REQUIRE_OK(decoded);
      found.push_back(std::get<LoggedOut>(*decoded));
    }
    return found;
  }

  /// Sends `command` as the player it names and waits for its outcome.
  Result<zone::Outcome> submit(ZoneId zone, Command command) {
    return submit_as(zone, {log::ActorKind::player, entity_of(command)}, std::move(command));
  }
  /// Sends `command` as `actor` and waits for its outcome.
  Result<zone::Outcome> submit_as(ZoneId zone, log::Actor actor, Command command) {
    auto answered = std::make_shared<std::promise<Result<zone::Outcome>>>();
    auto future = answered->get_future();
    static_cast<void>(world_->submit(
        zone, actor, 0, std::move(command),
        [answered](Result<zone::Outcome> outcome) { answered->set_value(std::move(outcome)); }));
    REQUIRE(future.wait_for(patience) == std::future_status::ready);
    return future.get();
  }
  /// Submits and requires acceptance.
  void require_accepted(ZoneId zone, Command command) {
    const std::string name(Model::command_name(command));
    auto outcome = submit(zone, std::move(command));
    REQUIRE_OK(outcome);
    REQUIRE_MESSAGE(outcome->accepted, name << " refused: " << outcome->reason);
  }

  /// What `read(zone's actor)` returns, run on the zone's strand.
  template <typename Read>
  auto on_zone(ZoneId zone, Read read) -> std::invoke_result_t<Read, const zone::Zone<Model>&> {
    auto target = world_->zones().zone(zone);
    REQUIRE(target != nullptr);
    auto value = runtime::call_blocking(
        *target, [target, read] { return read(*target); }, patience);
    REQUIRE_OK(value);
    return *value;
  }
  log::Hash hash(ZoneId zone) {
    return on_zone(zone, [](const auto& target) { return target.state_hash(); });
  }
  [[nodiscard]] bool in_zone(ZoneId zone, EntityId player) {
    return on_zone(
        zone, [player](const auto& target) { return target.state().player(player) != nullptr; });
  }

  std::optional<ZoneId> presence_of(EntityId player) {
    auto presence = world_->presence();
    REQUIRE(presence != nullptr);
    auto zone = runtime::call_blocking(
        *presence, [presence, player] { return presence->zone_of(player); }, patience);
    REQUIRE_OK(zone);
    return *zone;
  }

  Status join_channel(const std::string& channel, EntityId player, Inbox& inbox) {
    return on_chat([&](Chat& chat, Chat::Posted done) {
      return chat.join(channel, player, inbox.listener(), std::move(done));
    });
  }
  Status post(const std::string& channel, EntityId player, std::string text) {
    return on_chat([&](Chat& chat, Chat::Posted done) {
      return chat.post(channel, player, std::move(text), std::move(done));
    });
  }

  World& world() { return *world_; }
  log::EventLog& log() { return *log_; }
  runtime::ManualClock& clock() { return clock_; }

private:
  /// Runs `send(chat, done)` and waits until the chat actor called `done`.
  Status on_chat(const std::function<Status(Chat&, Chat::Posted)>& send) {
    auto chat = world_->chat();
    REQUIRE(chat != nullptr);
    auto told = std::make_shared<std::promise<Status>>();
    auto future = told->get_future();
    if (Status sent = send(*chat, [told](Status status) { told->set_value(std::move(status)); });
        !sent.ok())
      return sent;
    REQUIRE(future.wait_for(patience) == std::future_status::ready);
    return future.get();
  }

  // Destroyed in a safe order: the world, then the log (whose completions post to the pool),
  // then the pool.
  worldlog::test::TempDir dir_;
  runtime::ManualClock clock_{1'700'000'000'000'000};
  boost::asio::thread_pool pool_{2};
  WorldOptions options_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<World> world_;
};

TEST_SUITE_BEGIN("game/world");

// ---- presence ------------------------------------------------------------------------------

TEST_CASE("a player who joins is online in that zone, and offline once it leaves") {
  LiveWorld live;
  live.require_accepted(2, join(7));
  CHECK(live.presence_of(7) == ZoneId{2});
  CHECK(live.presence_of(8) == std::nullopt);

  live.require_accepted(2, leave(7));
  CHECK(live.presence_of(7) == std::nullopt);
}

TEST_CASE("presence follows a player who walks through an exit into the next zone") {
  LiveWorld live;
  live.require_accepted(1, join(7));
  // East along the spawn's row, a lane free of rocks, one second (20 ticks) per 5 m.
  const Map map = map_for({1, 3, 42, 50'000});
  Point at = map.spawn;
  while (at.x < map.width_mm()) {
    live.clock().advance(1s);
    at = {std::min(at.x + 5000, map.width_mm() + 200), at.y};
    live.require_accepted(1, move(7, at));
  }
  REQUIRE(eventually([&] { return live.presence_of(7) == ZoneId{2}; }));
  CHECK(live.in_zone(2, 7));
  CHECK_FALSE(live.in_zone(1, 7));
}

TEST_CASE("a clean shutdown logs everyone out, snapshots every zone at its head, and the next "
          "world knows where each character rests") {
  LiveWorld live;
  live.require_accepted(2, join(7));
  live.require_accepted(3, join(8));
  live.stop();
  for (ZoneId zone = 1; zone <= 3; ++zone) {
    auto snapshot = live.log().latest_snapshot(zone);
    REQUIRE_OK(snapshot);
    REQUIRE(snapshot->has_value());
    CHECK((*snapshot)->seq == live.log().head(zone));
  }
  CHECK(live.logouts(2) == std::vector<LoggedOut>{{7, LogoutReason::server_stopped}});

  live.start();
  CHECK(live.presence_of(7) == std::nullopt);
  CHECK(live.world().zone_of(7) == ZoneId{2});
  CHECK(live.world().zone_of(8) == ZoneId{3});
  const auto seven = live.world().directory().find(7);
  REQUIRE(seven.has_value());
  CHECK_FALSE(seven->online);
}

// ---- the player's lifecycle across crashes, reconnects and crossings -----------------------

TEST_CASE("players online when the process died are logged out on restart, characters kept") {
  LiveWorld live;
  live.require_accepted(2, join(7));
  live.require_accepted(3, join(8));
  live.clock().advance(1s);
  const Point moved{live.player_at(2, 7).x + 2000, live.player_at(2, 7).y};
  live.require_accepted(2, move(7, moved));
  live.crash();

  live.start();
  CHECK(live.logouts(2) == std::vector<LoggedOut>{{7, LogoutReason::session_lost}});
  CHECK(live.logouts(3) == std::vector<LoggedOut>{{8, LogoutReason::session_lost}});
  CHECK_FALSE(live.in_zone(2, 7));
  CHECK(live.presence_of(7) == std::nullopt);
  const State two = live.state(2);
  REQUIRE(two.offline_player(7) != nullptr);
  CHECK(two.offline_player(7)->at == moved);

  // Nobody is online, however often the world restarts, cleanly or not.
  live.stop();
  live.start();
  live.crash();
  live.start();
  CHECK(live.logouts(2).size() == 1);
  for (ZoneId zone = 1; zone <= 3; ++zone)
    CHECK(live.state(zone).players.empty());

  auto rejoined = live.submit_for(7, 0, join(7));
  REQUIRE_OK(rejoined);
  REQUIRE_MESSAGE(rejoined->accepted, rejoined->reason);
  CHECK(rejoined->zone == 2);
  CHECK(live.player_at(2, 7) == moved);
}

TEST_CASE("a player who crossed before a crash resumes in the zone it crossed into, once") {
  LiveWorld live;
  live.require_accepted(1, join(7));
  live.cross(1, 7, true);
  live.crash();

  live.start();
  CHECK(live.world().zone_of(7) == ZoneId{2});
  // Whether its arrival was durable before the crash or is driven again now, it is logged out
  // where it arrived.
  REQUIRE(eventually([&] {
    return live.logouts(2) == std::vector<LoggedOut>{{7, LogoutReason::session_lost}};
  }));
  // Its home zone will not make it a second character.
  auto home = live.submit(1, join(7));
  REQUIRE_OK(home);
  CHECK_FALSE(home->accepted);
  CHECK(static_cast<Reject>(home->code) == Reject::elsewhere);
  auto resumed = live.submit_for(7, 0, join(7));
  REQUIRE_OK(resumed);
  REQUIRE_MESSAGE(resumed->accepted, resumed->reason);
  CHECK(resumed->zone == 2);
  CHECK(live.in_zone(2, 7));
  CHECK_FALSE(live.in_zone(1, 7));
  CHECK(live.state(2).players.at(7).epoch == 1);
}

TEST_CASE("crossing, reconnecting and crossing again completes every handoff") {
  LiveWorld live;
  REQUIRE(live.submit_for(7, 0, join(7))->accepted);
  const ZoneId home = live.world().home_zone(7);
  REQUIRE(home == 2);
  live.cross(2, 7, true);
  live.disconnect(7);
  CHECK(live.logouts(3) == std::vector<LoggedOut>{{7, LogoutReason::disconnected}});

  auto rejoined = live.submit_for(7, 0, join(7));
  REQUIRE_OK(rejoined);
  REQUIRE_MESSAGE(rejoined->accepted, rejoined->reason);
  CHECK(rejoined->zone == 3);
  live.cross(3, 7, false);
  CHECK(live.state(2).players.at(7).epoch == 2);
  REQUIRE(eventually([&] { return live.state(3).departing.empty(); }));
  REQUIRE(eventually([&] { return live.state(2).departing.empty(); }));

  live.disconnect(7);
  auto again = live.submit_for(7, 0, join(7));
  REQUIRE_OK(again);
  REQUIRE_MESSAGE(again->accepted, again->reason);
  CHECK(again->zone == 2);
}

TEST_CASE("a retried client id is answered with its first outcome from any zone, also after a "
          "restart") {
  LiveWorld live;
  REQUIRE(live.submit_for(7, 1, join(7))->accepted);
  // A rejected command first: its retry must come back with the same reason.
  auto refused = live.submit_for(7, 2, say(7, ""));
  REQUIRE_OK(refused);
  REQUIRE_FALSE(refused->accepted);
  live.cross(2, 7, true);
  REQUIRE(eventually([&] { return live.state(2).departing.empty(); }));
  const log::Seq heads[] = {live.log().head(1), live.log().head(2), live.log().head(3)};

  auto retried = live.submit_for(7, 1, join(7));
  REQUIRE_OK(retried);
  CHECK(retried->duplicate);
  CHECK(retried->accepted);
  CHECK(retried->zone == 2);
  auto retried_refusal = live.submit_for(7, 2, say(7, ""));
  REQUIRE_OK(retried_refusal);
  CHECK(retried_refusal->duplicate);
  CHECK_FALSE(retried_refusal->accepted);
  CHECK(retried_refusal->zone == 2);
  CHECK(retried_refusal->first_seq == refused->first_seq);
  CHECK(retried_refusal->reason == refused->reason);
  CHECK(live.log().head(1) == heads[0]);
  CHECK(live.log().head(2) == heads[1]);
  CHECK(live.log().head(3) == heads[2]);

  live.crash();
  live.start();
  auto after_restart = live.submit_for(7, 1, join(7));
  REQUIRE_OK(after_restart);
  CHECK(after_restart->duplicate);
  CHECK(after_restart->zone == 2);
  CHECK(after_restart->first_seq == retried->first_seq);
}

// ---- supervision ---------------------------------------------------------------------------

TEST_CASE("a crashed zone is rebuilt with its state intact while chat and the other zones go on") {
  Inbox first_inbox;
  Inbox second_inbox;
  LiveWorld live({.zones = 3, .seed = 42, .zone = {.snapshot_every = 4}});
  live.require_accepted(1, join(1));
  live.require_accepted(2, join(2));
  const Point spawn = map_for({1, 3, 42, 50'000}).spawn;
  for (int step = 1; step <= 5; ++step) { // a snapshot and a tail to recover from
    live.clock().advance(1s);
    live.require_accepted(1, move(1, {spawn.x + 1000 * step, spawn.y}));
  }
  REQUIRE_OK(live.join_channel("world", 1, first_inbox));
  REQUIRE_OK(live.join_channel("world", 2, second_inbox));

  const log::Hash before = live.hash(1);
  const auto crashed = live.world().zones().zone(1);
  const auto chat = live.world().chat();
  const auto presence = live.world().presence();
  const auto supervisor = live.world().world_supervisor();
  REQUIRE(supervisor != nullptr);

  // Hold the world supervisor, so that zone 1 stays down while the test looks around.
  Gate hold;
  std::promise<void> holding;
  REQUIRE_OK(supervisor->cast([&hold, &holding] {
    holding.set_value();
    hold.wait();
  }));
  REQUIRE(holding.get_future().wait_for(patience) == std::future_status::ready);
  REQUIRE_OK(crashed->cast([] { throw std::runtime_error("zone 1 fails on purpose"); }));
  REQUIRE(eventually([&] { return crashed->exited(); }));

  // Zone 1 is down and not restarted yet: it refuses. Everything else carries on.
  CHECK(error_code(live.submit(1, say(1, "anyone?"))) == Errc::closed);
  live.require_accepted(2, say(2, "zone 2 is fine"));
  REQUIRE_OK(live.post("world", 2, "chat is fine"));
  CHECK(first_inbox.texts() == std::vector<std::string>{"chat is fine"});
  CHECK(live.presence_of(1) == ZoneId{1});

  hold.open();
  REQUIRE(eventually([&] {
    const auto now = live.world().zones().zone(1);
    return now != nullptr && now != crashed && now->running();
  }));
  CHECK(live.hash(1) == before);
  CHECK(supervisor->restarts() == 1);
  CHECK(live.world().root().restarts() == 0);
  CHECK(live.world().chat() == chat);
  CHECK(live.world().presence() == presence);
  CHECK(live.presence_of(1) == ZoneId{1});
  CHECK(live.presence_of(2) == ZoneId{2});
  live.require_accepted(1, say(1, "back"));
  REQUIRE_OK(live.post("world", 1, "me too"));
  CHECK(second_inbox.texts() == std::vector<std::string>{"chat is fine", "me too"});
}

// ---- chat ----------------------------------------------------------------------------------

TEST_CASE("chat delivers a post to the members of its channel only") {
  Inbox one;
  Inbox two;
  Inbox trader;
  LiveWorld live;
  REQUIRE_OK(live.join_channel("world", 1, one));
  REQUIRE_OK(live.join_channel("world", 2, two));
  REQUIRE_OK(live.join_channel("trade", 3, trader));

  REQUIRE_OK(live.post("world", 1, "hello"));
  REQUIRE_OK(live.post("world", 2, "hi"));
  const auto heard = two.messages();
  REQUIRE(heard.size() == 2);
  CHECK(heard[0].channel == "world");
  CHECK(heard[0].from == 1);
  CHECK(heard[0].text == "hello");
  CHECK(heard[1].number == heard[0].number + 1);
  CHECK(one.texts() == std::vector<std::string>{"hello", "hi"});
  CHECK(trader.messages().empty());

  CHECK(error_code(live.post("world", 3, "let me in")) == Errc::not_found);
  CHECK(error_code(live.post("nowhere", 1, "anyone?")) == Errc::not_found);
  CHECK(one.messages().size() == 2);
}

TEST_CASE("chat refuses empty and oversized messages and bad channel names") {
  Inbox inbox;
  LiveWorld live({.zones = 1, .seed = 42, .chat = {.max_channel_name = 8, .max_text = 10}});
  REQUIRE_OK(live.join_channel("world", 1, inbox));
  CHECK_OK(live.post("world", 1, std::string(10, 'a')));
  CHECK(error_code(live.post("world", 1, std::string(11, 'a'))) == Errc::invalid_argument);
  CHECK(error_code(live.post("world", 1, "")) == Errc::invalid_argument);
  CHECK(error_code(live.join_channel("", 1, inbox)) == Errc::invalid_argument);
  CHECK(error_code(live.join_channel("123456789", 1, inbox)) == Errc::invalid_argument);
  CHECK(inbox.texts() == std::vector<std::string>{std::string(10, 'a')});
}

TEST_CASE("chat limits each player's messages per second, also across leaving and rejoining") {
  Inbox inbox;
  LiveWorld live({.zones = 1, .seed = 42, .chat = {.messages_per_second = 3}});
  REQUIRE_OK(live.join_channel("world", 1, inbox));
  REQUIRE_OK(live.join_channel("world", 2, inbox));
  for (int i = 0; i < 3; ++i)
    REQUIRE_OK(live.post("world", 1, "spam"));
  CHECK(error_code(live.post("world", 1, "spam")) == Errc::overloaded);
  CHECK_OK(live.post("world", 2, "not me")); // the limit is per player

  auto chat = live.world().chat();
  REQUIRE_OK(chat->leave_all(1));
  REQUIRE_OK(live.join_channel("world", 1, inbox));
  CHECK(error_code(live.post("world", 1, "spam")) == Errc::overloaded);

  live.clock().advance(1s);
  CHECK_OK(live.post("world", 1, "a new second"));
  CHECK(inbox.texts().size() == 5 * 2); // five posts delivered, each heard by both members
}

TEST_CASE("chat bounds the members of a channel and the number of channels") {
  Inbox inbox;
  LiveWorld live({.zones = 1, .seed = 42, .chat = {.max_channels = 2, .max_members = 2}});
  REQUIRE_OK(live.join_channel("a", 1, inbox));
  REQUIRE_OK(live.join_channel("a", 2, inbox));
  CHECK(error_code(live.join_channel("a", 3, inbox)) == Errc::overloaded);
  CHECK_OK(live.join_channel("a", 2, inbox)); // already a member: no new room needed
  REQUIRE_OK(live.join_channel("b", 3, inbox));
  CHECK(error_code(live.join_channel("c", 3, inbox)) == Errc::overloaded);

  // Room comes back as members leave and empty channels go.
  auto chat = live.world().chat();
  REQUIRE_OK(chat->leave("a", 1));
  CHECK_OK(live.join_channel("a", 3, inbox));
  REQUIRE_OK(chat->leave("b", 3));
  CHECK_OK(live.join_channel("c", 3, inbox));
}

TEST_CASE("a world started over its log with another seed refuses at once, snapshots or not") {
  LiveWorld live({.zones = 2, .seed = 42});
  live.require_accepted(1, join(7));
  live.crash(); // no snapshot: recovery folds the genesis
  for (const bool snapshotted : {false, true}) {
    CAPTURE(snapshotted);
    if (snapshotted) {
      live.start();
      live.stop(); // a snapshot of every zone at its head: recovery starts past the genesis
    }
    const auto attempt = live.try_start({.zones = 2, .seed = 43});
    REQUIRE_FALSE(attempt.first.ok());
    const std::string& why = attempt.first.error().message();
    CHECK_MESSAGE(why.find("with seed 42") != std::string::npos, why);
    CHECK_MESSAGE(why.find("with seed 43") != std::string::npos, why);
    // The cause, as soon as the supervisors have given up, not a timeout's generic message.
    CHECK(attempt.second < patience / 2);
  }
  // The log is as it was: the world with the seed it was made with starts over it.
  live.start();
  CHECK(live.state(1).offline.contains(7));
}

TEST_CASE("a world under a rules file records them in each genesis and replays to its hashes") {
  const std::string gentle =
      canonical_rules(parse_rules(R"({"version": 2, "wolf": {"damage_max": 3}})").value());
  LiveWorld live({.zones = 2, .seed = 42, .rules = gentle});
  live.require_accepted(1, join(7));
  live.require_accepted(1, say(7, "under version 2"));
  CHECK(live.state(1).rules->version == 2);
  CHECK(live.state(2).rules->version == 2);
  const log::Hash zone_hash = live.hash(1);
  const log::Seq seq = live.log().head(1);
  live.stop(); // logs the player out: the head moves on

  auto stream = live.log().read_stream(1, 1, 1000);
  REQUIRE_OK(stream);
  auto genesis = zone::decode_genesis(stream->front().payload());
  REQUIRE_OK(genesis);
  CHECK(genesis->info.rules == gentle);
  for (std::size_t i = 1; i < stream->size(); ++i)
    CHECK((*stream)[i].rules_version() == 2);

  const replay::Replayer<Model> replayer(live.log(), 1);
  auto replayed = replayer.state_at(seq);
  REQUIRE_OK(replayed);
  CHECK(Model::hash(replayed->state) == zone_hash);
  CHECK(replayed->state.rules->version == 2);

  // A restart runs the rules of the log, whatever the world is started with now.
  live.start();
  CHECK(live.state(1).rules->version == 2);
}

TEST_CASE("a running zone changes its rules on the system's ChangeRules, and verify names "
          "the rules of each span") {
  const std::string gentle =
      canonical_rules(parse_rules(R"({"version": 2, "max_say_bytes": 4})").value());
  LiveWorld live({.zones = 1, .seed = 42});
  live.require_accepted(1, join(7));
  live.require_accepted(1, say(7, "hello"));

  auto refused = live.submit_as(1, {log::ActorKind::player, 7}, ChangeRules{gentle});
  REQUIRE_OK(refused);
  CHECK_FALSE(refused->accepted);
  CHECK(refused->code == static_cast<std::uint32_t>(Reject::not_authorized));

  auto changed = live.submit_as(1, {log::ActorKind::system, 0}, ChangeRules{gentle});
  REQUIRE_OK(changed);
  REQUIRE(changed->accepted);
  const log::Seq change_seq = changed->first_seq;
  REQUIRE(change_seq != 0);
  auto too_long = live.submit(1, say(7, "hello"));
  REQUIRE_OK(too_long);
  CHECK(too_long->code == static_cast<std::uint32_t>(Reject::bad_text));
  live.require_accepted(1, say(7, "hi"));

  // The zone's restart (from the snapshot of its shutdown) keeps the new rules.
  live.stop();
  live.start();
  CHECK(live.state(1).rules->version == 2);
  live.require_accepted(1, join(7)); // the shutdown logged it out
  live.require_accepted(1, say(7, "ok"));
  live.stop();

  auto stream = live.log().read_stream(1, change_seq, 1);
  REQUIRE_OK(stream);
  CHECK(stream->front().payload_type() == RulesChanged::type);
  CHECK(stream->front().rules_version() == 1); // decided under the rules before it

  auto report = replay::verify<Model>(live.log());
  REQUIRE_OK(report);
  REQUIRE(report->streams.size() == 1);
  const replay::StreamVerdict& verdict = report->streams.front();
  REQUIRE_FALSE(verdict.problem.has_value());
  REQUIRE(verdict.rules_spans.size() == 2);
  const replay::RulesSpan& before = verdict.rules_spans[0];
  const replay::RulesSpan& after = verdict.rules_spans[1];
  CHECK(before.first == 1);
  CHECK(before.last == change_seq);
  CHECK(before.rules == Model::rules_id(default_rules));
  CHECK(after.first == change_seq + 1);
  CHECK(after.last == live.log().head(1));
  CHECK(after.rules == Model::rules_id(parse_rules(gentle).value()));
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::game

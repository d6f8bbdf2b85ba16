// The zone's command path, idempotency, rejections, snapshots, recovery and broadcasts, on a
// real log with the tally model.
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/records.hpp>

#include "zone/zone_fixture.hpp"

namespace worldlog::test {
namespace {

std::vector<log::Event> zone_events(log::EventLog& log, zone::ZoneId z) {
  return read_stream_all(log, z);
}

} // namespace

TEST_CASE("a zone's stream opens with a genesis event recording the model and its config") {
  ZoneWorld world;
  const auto events = zone_events(world.log(), 1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].payload_type() == zone::genesis_payload_type);
  auto genesis = zone::decode_genesis(events[0].payload());
  REQUIRE_OK(genesis);
  CHECK(genesis->model == Tally::name);
  CHECK(genesis->rules_version == Tally::rules_version);
  CHECK(genesis->info.zone == 1);
  CHECK(genesis->info.zone_count == 2);
  CHECK(genesis->info.seed == 42);
}

TEST_CASE("the genesis event keeps the model config, and the config hash covers it") {
  zone::Genesis genesis{"m", 1, {.zone = 2, .zone_count = 3, .seed = 7, .model_config = "mobs=5"}};
  auto decoded = zone::decode_genesis(zone::encode_genesis(genesis));
  REQUIRE_OK(decoded);
  CHECK(decoded->info.model_config == "mobs=5");
  zone::Genesis other = genesis;
  other.info.model_config = "mobs=6";
  CHECK(other.config_hash() != genesis.config_hash());
}

TEST_CASE("an accepted command is answered once durable with its seqs") {
  ZoneWorld world;
  auto outcome = world.submit(1, add(7, 5), 100);
  REQUIRE_OK(outcome);
  CHECK(outcome->accepted);
  CHECK(outcome->first_seq == 2); // after the genesis event
  CHECK(outcome->last_seq == 2);
  CHECK(world.log().head(1) >= 2); // the answer came after the event was durable

  const auto events = zone_events(world.log(), 1);
  CHECK(events[1].command_id() == 100);
  CHECK(events[1].actor() == player(1));
  CHECK(events[1].rules_version() == Tally::rules_version);
  CHECK(world.state(1).entities.at(7).total == 5);
  // The command is recorded with the event it caused: the log holds inputs too.
  CHECK(events[1].command() == Tally::encode_command(add(7, 5)));
  CHECK_FALSE(events[1].command().empty());
}

TEST_CASE("given stage times, the zones time every command they answer once durable") {
  const auto stages = std::make_shared<zone::StageTimes>();
  ZoneWorld world({.zones = 2, .seed = 42, .zone = {.stage_times = stages}});
  for (std::uint64_t i = 1; i <= 5; ++i)
    REQUIRE_OK(world.submit(1 + i % 2, add(7, 1), 100 + i));
  // A retry is answered from the window: it waits in the mailbox, never for an append.
  REQUIRE_OK(world.submit(2, add(7, 1), 101));
  CHECK(stages->mailbox.count() == 6);
  CHECK(stages->batching.count() == 5);
  CHECK(stages->log.count() == 5);
}

TEST_CASE("a rejected command is recorded as a CommandRejected event with its reason") {
  ZoneWorld world;
  auto outcome = world.submit(1, add(7, -3), 101);
  REQUIRE_OK(outcome);
  CHECK_FALSE(outcome->accepted);
  CHECK(outcome->code == 1);
  CHECK(outcome->reason == "amount must be positive, got -3");

  const auto events = zone_events(world.log(), 1);
  REQUIRE(events.size() == 2);
  CHECK(events[1].payload_type() == zone::command_rejected_payload_type);
  CHECK(events[1].actor() == player(1));
  CHECK(events[1].command_id() == 101);
  // A rejected command is in its CommandRejected record, not beside it.
  CHECK(events[1].command().empty());
  auto rejected = zone::decode_command_rejected(events[1].payload());
  REQUIRE_OK(rejected);
  CHECK(rejected->command_name == "Add");
  CHECK(rejected->reason == "amount must be positive, got -3");
  CHECK(world.state(1).entities.empty());
}

TEST_CASE("a retried command id is answered with the original outcome and appends nothing") {
  ZoneWorld world;
  auto first = world.submit(1, add(7, 5), 200);
  REQUIRE_OK(first);
  const log::Seq head = world.log().head(1);

  auto retried = world.submit(1, add(7, 5), 200);
  REQUIRE_OK(retried);
  CHECK(retried->duplicate);
  CHECK(retried->accepted);
  CHECK(retried->first_seq == first->first_seq);
  CHECK(world.log().head(1) == head);
  CHECK(world.state(1).entities.at(7).total == 5);

  SUBCASE("also a rejected one") {
    auto refused = world.submit(1, add(7, 0), 201);
    auto again = world.submit(1, add(7, 0), 201);
    REQUIRE_OK(again);
    CHECK(again->duplicate);
    CHECK_FALSE(again->accepted);
    CHECK(again->reason == refused->reason);
    CHECK(world.log().head(1) == head + 1);
  }
  SUBCASE("the same id from another player is another command") {
    auto other = world.submit(1, add(7, 5), 200, player(2));
    REQUIRE_OK(other);
    CHECK_FALSE(other->duplicate);
    CHECK(world.state(1).entities.at(7).total == 10);
  }
  SUBCASE("after a restart, from the log") {
    world.stop();
    world.start();
    auto after = world.submit(1, add(7, 5), 200);
    REQUIRE_OK(after);
    CHECK(after->duplicate);
    CHECK(after->first_seq == first->first_seq);
    CHECK(world.state(1).entities.at(7).total == 5);
  }
}

TEST_CASE("commands of many zones are pipelined: far fewer appends than commands") {
  ZoneWorld world({.zones = 4, .seed = 42});
  constexpr int per_zone = 500;
  std::atomic<int> answered = 0;
  std::atomic<int> failed = 0;
  for (int i = 0; i < per_zone; ++i) {
    for (zone::ZoneId z = 1; z <= 4; ++z) {
      static_cast<void>(world.zones().submit(z, player(1), 0,
                                             add(static_cast<zone::EntityId>(i % 10), 1),
                                             [&](Result<zone::Outcome> outcome) {
                                               if (!outcome.ok() || !outcome->accepted) ++failed;
                                               ++answered;
                                             }));
    }
  }
  REQUIRE(eventually([&] { return answered == 4 * per_zone; }));
  CHECK(failed == 0);
  for (zone::ZoneId z = 1; z <= 4; ++z) {
    const auto stats = world.stats(z);
    CHECK(stats.accepted == per_zone);
    CHECK(stats.appends < per_zone / 4);
    CHECK(world.log().head(z) == per_zone + 1);
  }
}

TEST_CASE("a zone that fails is rebuilt from its snapshot and log to the from-scratch state") {
  ZoneWorld world({.zones = 2, .seed = 42, .zone = {.snapshot_every = 10}});
  for (int i = 1; i <= 35; ++i) {
    REQUIRE_OK(world.submit(1, add(static_cast<zone::EntityId>(i % 4), i)));
  }
  const log::Hash before = world.hash(1);
  const auto first_incarnation = world.zones().zone(1);
  REQUIRE(eventually([&] { return world.log().latest_snapshot(1)->has_value(); }));

  auto exploded = world.submit(1, Tally::Explode{});
  CHECK_FALSE(exploded.ok()); // the zone died handling it: the sender gets an error
  REQUIRE(eventually([&] {
    auto now = world.zones().zone(1);
    return now != nullptr && now != first_incarnation;
  }));

  const auto stats = world.stats(1);
  CHECK(stats.recovered_from_seq >= 10); // from a snapshot, not from zero
  CHECK(stats.replayed_events < 36);
  CHECK(world.hash(1) == before);
  CHECK(world.hash(1) == world.fold_from_scratch(1));
  CHECK(world.world().restarts() == 1);
}

TEST_CASE("commands still queued when a zone fails are answered with an error, not lost") {
  ZoneWorld world;
  std::atomic<int> answered = 0;
  std::atomic<int> lost = 0;
  auto count = [&](Result<zone::Outcome> outcome) {
    if (!outcome.ok()) {
      CHECK(outcome.error().code() == Errc::closed);
      ++lost;
    }
    ++answered;
  };
  const auto first_incarnation = world.zones().zone(1);
  // Queued back to back: the zone fails on the first, with the others still in its mailbox
  // (or, if it got to them, it answers them normally).
  static_cast<void>(world.zones().submit(1, player(1), 0, Tally::Explode{}, count));
  for (int i = 0; i < 50; ++i) {
    static_cast<void>(world.zones().submit(1, player(1), 0, add(7, 1), count));
  }
  REQUIRE(eventually([&] { return answered == 51; }));
  CHECK(lost >= 1);
  // The supervisor restarts the zone; the fixture's clean shutdown drains the new incarnation,
  // not the one that failed.
  REQUIRE(eventually([&] {
    auto now = world.zones().zone(1);
    return now != nullptr && now != first_incarnation;
  }));
  static_cast<void>(world.hash(1)); // returns once the new incarnation has recovered
}

TEST_CASE("a failed append fails the zone, answers its commands with the error, loses nothing") {
  ZoneWorld world;
  REQUIRE_OK(world.submit(1, add(7, 5)));
  // Someone else appends to the zone's stream: the zone's next append has a stale expected seq.
  append_one(world.log(), 1, world.log().head(1),
             make_event(1, Tally::encode(Tally::Added{7, 100}).payload));
  const auto first_incarnation = world.zones().zone(1);

  auto lost = world.submit(1, add(7, 1));
  REQUIRE_FALSE(lost.ok());
  CHECK(lost.error().code() == Errc::conflict);
  REQUIRE(eventually([&] {
    auto now = world.zones().zone(1);
    return now != nullptr && now != first_incarnation;
  }));
  // The restarted zone folded what the log holds: 5 + 100, not the lost +1.
  CHECK(world.state(1).entities.at(7).total == 105);
  CHECK(world.hash(1) == world.fold_from_scratch(1));
  REQUIRE_OK(world.submit(1, add(7, 1)));
  CHECK(world.state(1).entities.at(7).total == 106);
}

TEST_CASE("a clean shutdown stores a snapshot at the head, and a restart replays nothing") {
  ZoneWorld world;
  for (int i = 1; i <= 5; ++i)
    REQUIRE_OK(world.submit(1, add(3, i)));
  const log::Hash before = world.hash(1);
  world.stop();
  auto snapshot = world.log().latest_snapshot(1);
  REQUIRE_OK(snapshot);
  REQUIRE(snapshot->has_value());
  CHECK((*snapshot)->seq == world.log().head(1));

  world.start();
  CHECK(world.stats(1).replayed_events == 0);
  CHECK(world.hash(1) == before);
}

TEST_CASE("a snapshot past the stream's head is skipped: recovery folds from an older one") {
  // What a log that lost its tail looks like (an unsynced WAL, a copy taken without its newest
  // writes): the zone's snapshot of seqs the log no longer has survived it.
  ZoneWorld world({.zones = 2, .seed = 42, .zone = {.snapshot_every = 10}});
  for (int i = 1; i <= 25; ++i)
    REQUIRE_OK(world.submit(1, add(static_cast<zone::EntityId>(i % 3), i)));
  Tally::State lost_future = world.state(1);
  world.stop(); // a snapshot at the head
  const log::Seq head = world.log().head(1);
  Tally::evolve(lost_future, Tally::Added{1, 1000});
  const log::Seq past = head + 5;
  const zone::ZoneSnapshot beyond{std::string(Tally::name), Tally::rules_version, past,
                                  Tally::hash(lost_future), Tally::snapshot(lost_future)};
  REQUIRE_OK(
      world.log().put_snapshot(1, past, zone::encode_snapshot(beyond, zone::RecentCommands(16))));

  std::vector<std::string> skipped;
  auto restored =
      zone::restore_latest_snapshot<Tally>(world.log(), 1, log::end_seq, 16, [&](const Error& why) {
        skipped.push_back(why.message());
      });
  REQUIRE_OK(restored);
  REQUIRE(restored->has_value());
  CHECK((*restored)->seq == head);
  REQUIRE(skipped.size() == 1);
  CHECK_MESSAGE(skipped[0].find(fmt::format("zone 1 at seq {}", past)) != std::string::npos,
                skipped[0]);
  CHECK_MESSAGE(skipped[0].find(fmt::format("head, seq {}", head)) != std::string::npos,
                skipped[0]);

  world.start();
  CHECK(world.stats(1).recovered_from_seq == head);
  CHECK(world.hash(1) == world.fold_from_scratch(1));
  CHECK(world.state(1).entities.at(1).total < 1000);
  // And the zone goes on from the head the log has, not from the lost one.
  REQUIRE_OK(world.submit(1, add(1, 1)));
  CHECK(world.log().head(1) == head + 1);
  CHECK(world.hash(1) == world.fold_from_scratch(1));
}

TEST_CASE("ticks follow the injected clock and record what they rolled") {
  ZoneWorld world;
  const auto state_before = world.state(1);
  // The first tick a zone runs is the clock's (a roll's: the clock starts a tick past one).
  world.clock().advance(std::chrono::milliseconds(50) * (Tally::roll_every_ticks * 3 - 1));
  world.zones().tick_all();
  REQUIRE(eventually([&] { return world.state(1).rolls.size() > state_before.rolls.size(); }));
  world.settle(1);
  // The same tick again does nothing: ticks are not events unless something happens.
  const auto head = world.log().head(1);
  world.zones().tick_all();
  static_cast<void>(world.hash(1));
  CHECK(world.log().head(1) == head);
}

TEST_CASE("a command is decided after every tick up to its own, each run once and in order") {
  ZoneWorld world;
  world.clock().advance(std::chrono::milliseconds(50));
  world.zones().tick_all();
  static_cast<void>(world.hash(1));
  // No tick message for 3 rolls' worth of ticks: the command catches them up first.
  world.clock().advance(std::chrono::milliseconds(50) * Tally::roll_every_ticks * 3);
  REQUIRE_OK(world.submit(1, add(7, 1), 500));
  const auto events = zone_events(world.log(), 1);
  std::vector<std::uint64_t> rolled_ticks;
  for (const auto& event : events) {
    if (event.command_id() == 500) {
      CHECK(rolled_ticks.size() == 3);
      for (const std::uint64_t tick : rolled_ticks)
        CHECK(tick <= event.tick());
    }
    if (event.payload_type() >= zone::zone_payload_types) continue;
    auto decoded = Tally::decode(event.payload_type(), event.payload());
    REQUIRE_OK(decoded);
    if (const auto* rolled = std::get_if<Tally::Rolled>(&*decoded)) {
      CHECK(rolled->tick == event.tick());
      CHECK(rolled->tick % Tally::roll_every_ticks == 0);
      if (!rolled_ticks.empty())
        CHECK(rolled->tick == rolled_ticks.back() + Tally::roll_every_ticks);
      rolled_ticks.push_back(rolled->tick);
    }
  }
  CHECK(rolled_ticks.size() == 3);
  // The late tick message finds nothing left to run.
  const auto head = world.log().head(1);
  world.zones().tick_all();
  static_cast<void>(world.hash(1));
  CHECK(world.log().head(1) == head);
}

TEST_CASE("a zone restarted within the tick it last ran does not run that tick again") {
  ZoneWorld world;
  // The clock starts a tick past a roll: on to the next roll's tick, which the command runs.
  world.clock().advance(std::chrono::milliseconds(50) * (Tally::roll_every_ticks - 1));
  REQUIRE_OK(world.submit(1, add(7, 1)));
  const auto rolls = world.state(1).rolls.size();
  REQUIRE(rolls > 0);
  const auto first_incarnation = world.zones().zone(1);
  CHECK_FALSE(world.submit(1, Tally::Explode{}).ok());
  REQUIRE(eventually([&] {
    auto now = world.zones().zone(1);
    return now != nullptr && now != first_incarnation;
  }));
  // The same tick still: the new incarnation decides the command without rolling again.
  REQUIRE_OK(world.submit(1, add(7, 1)));
  CHECK(world.state(1).rolls.size() == rolls);
  CHECK(world.hash(1) == world.fold_from_scratch(1));
  // The next roll's tick runs as ever.
  world.clock().advance(std::chrono::milliseconds(50) * Tally::roll_every_ticks);
  REQUIRE_OK(world.submit(1, add(7, 1)));
  CHECK(world.state(1).rolls.size() == rolls + 1);
}

TEST_CASE("a gap longer than max_catch_up_ticks is not simulated: the zone goes on from now") {
  ZoneWorld world({.zones = 1, .seed = 42, .zone = {.max_catch_up_ticks = 8}});
  world.clock().advance(std::chrono::milliseconds(50));
  world.zones().tick_all();
  static_cast<void>(world.hash(1));
  const auto head = world.log().head(1);
  world.clock().advance(std::chrono::milliseconds(50) * Tally::roll_every_ticks * 10);
  world.zones().tick_all();
  world.settle(1);
  // Only the current tick ran (it is a roll's tick, since 10 rolls' worth is a multiple).
  CHECK(world.log().head(1) <= head + 1);
}

TEST_CASE("the same seed and inputs give byte-identical events") {
  auto run = [] {
    ZoneWorld world;
    for (int step = 1; step <= 20; ++step) {
      world.clock().advance(std::chrono::milliseconds(50));
      world.zones().tick_all();
      REQUIRE_OK(world.submit(1, add(static_cast<zone::EntityId>(step % 3), step), 1000 + step));
      REQUIRE_OK(world.submit(1, add(1, -step))); // rejected, recorded
    }
    std::vector<std::string> records;
    for (const auto& event : read_stream_all(world.log(), 1)) {
      records.push_back(fmt::format("{} {} {} {} {} {}", event.payload_type(),
                                    log::to_hex(event.payload()), event.tick(),
                                    event.wall_time_us(), event.command_id(), event.actor()));
    }
    return records;
  };
  const auto first = run();
  const auto second = run();
  CHECK(first.size() > 40);
  CHECK(first == second);
}

TEST_CASE("broadcasts reach only viewers within the view radius, and only once durable") {
  ZoneWorld world({.zones = 1, .seed = 42, .zone = {.view_radius_mm = 10'000}});
  struct Seen {
    std::mutex mutex;
    std::vector<log::Seq> seqs;
    void add(log::Seq seq) {
      const std::lock_guard lock(mutex);
      seqs.push_back(seq);
    }
    std::size_t size() {
      const std::lock_guard lock(mutex);
      return seqs.size();
    }
  };
  Seen near, far;
  auto& log = world.log();
  auto zone = world.zones().zone(1);
  REQUIRE_OK(zone->subscribe(100, {0, 0}, [&](const zone::Broadcast<Tally::Event>& shown) {
    CHECK(log.head(1) >= shown.seq); // durable before anyone sees it
    near.add(shown.seq);
  }));
  REQUIRE_OK(zone->subscribe(
      200, {50'000, 0}, [&](const zone::Broadcast<Tally::Event>& shown) { far.add(shown.seq); }));
  auto placed = world.submit(1, place(7, {3'000, 4'000})); // 5 m from viewer 100
  REQUIRE_OK(placed);
  REQUIRE(eventually([&] { return near.size() == 1; }));
  CHECK(near.seqs[0] == placed->first_seq);
  CHECK(far.size() == 0);

  SUBCASE("a viewer's own moves move its viewpoint") {
    REQUIRE_OK(world.submit(1, place(200, {4'000, 0})));
    REQUIRE_OK(world.submit(1, place(7, {3'000, 3'000})));
    REQUIRE(eventually([&] { return far.size() == 2; })); // its own move, then 7's
  }
}

} // namespace worldlog::test

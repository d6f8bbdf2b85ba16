// The world when the disk refuses a write (full, or failing): the commands waiting get the
// storage error, the zones stop instead of restarting into it again and again, every later
// command is answered with it, shutdown reports it; and once the disk works again, a restart
// serves with every acknowledged event there. And when the clock restarts behind the log, or a
// zone's snapshots cannot be read.
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/world.hpp>

#include "game/stepped.hpp"
#include "support/faulty_file_system.hpp"
#include "support/log_helpers.hpp"
#include "support/raw_db.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

using game::EntityId;

/// A world on one thread, stepped by hand, over a log on a disk that fails on cue.
struct World {
  std::shared_ptr<FaultyFileSystem> disk;
  std::unique_ptr<EventLog> log;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  runtime::ManualClock clock;
  std::optional<game::World> world;

  World(const std::filesystem::path& dir, std::shared_ptr<FaultyFileSystem> faulty,
        std::int64_t now_us = 1'700'000'000'000'000)
      : disk(std::move(faulty)), log(open_log(dir, {.durability = log::Durability::buffered,
                                                    .commit_thread = false,
                                                    .file_system = disk})),
        clock(now_us) {
    world.emplace(io.get_executor(), *log, clock,
                  game::WorldOptions{.zones = 2, .pump = [this] { settle(); }});
    REQUIRE_OK(world->start());
  }

  void settle() { test::settle(io, *log); }

  Result<zone::Outcome> submit_for(EntityId player, std::uint64_t id, game::Command command) {
    return submit_settled(*world, io, *log, player, id, std::move(command));
  }
};

} // namespace

TEST_CASE("a failed write stops the world accepting commands, loudly, and nothing is lost") {
  TempDir dir;
  const EntityId player = 2; // home zone 1
  log::Seq acknowledged = 0;
  {
    World w(dir / "log", std::make_shared<FaultyFileSystem>());
    auto joined = w.submit_for(player, 1, game::join(player));
    REQUIRE_OK(joined);
    acknowledged = joined->last_seq;

    w.disk->fail_writes(rocksdb::IOStatus::NoSpace("injected: no space left on device"));
    auto said = w.submit_for(player, 2, game::say(player, "hello"));
    CHECK(error_code(said) == Errc::io_error);
    CHECK(w.log->write_failure().has_value());

    // The zone stopped rather than failed: no restart loop, and every command gets the cause.
    w.settle();
    CHECK(w.world->zones().zone(1) == nullptr);
    CHECK(w.world->zones().restarts() == 0);
    auto later = w.submit_for(player, 3, game::say(player, "anyone?"));
    CHECK(error_code(later) == Errc::io_error);
    CHECK_MESSAGE(error_message(later).find("cannot be written") != std::string::npos,
                  error_message(later));
    CHECK_MESSAGE(error_message(later).find("no space left") != std::string::npos,
                  error_message(later));
    // Zone 2 wrote nothing, and is refused the same: the log as a whole cannot be written.
    auto elsewhere = w.submit_for(7, 1, game::join(7));
    CHECK(error_code(elsewhere) == Errc::io_error);

    // Shutdown says it did not store what it should have, at once: the logout it could not
    // write is not waited for until the timeout.
    const auto before = std::chrono::steady_clock::now();
    const Status stopped = w.world->shutdown();
    CHECK(error_code(stopped) == Errc::io_error);
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10));
    w.world.reset();
  }

  // The disk works again: the world starts, and the acknowledged Join is there.
  World again(dir / "log", std::make_shared<FaultyFileSystem>());
  CHECK(again.log->head(1) >= acknowledged);
  const auto* character = again.world->zones().zone(1)->state().offline_player(player);
  CHECK(character != nullptr);
  auto rejoined = again.submit_for(player, 4, game::join(player));
  REQUIRE_OK(rejoined);
  CHECK(rejoined->accepted);
}

TEST_CASE("a world whose zones cannot write their genesis says so at once, and restarts none") {
  TempDir dir;
  auto disk = std::make_shared<FaultyFileSystem>();
  auto log = open_log(
      dir / "log",
      {.durability = log::Durability::buffered, .commit_thread = false, .file_system = disk});
  disk->fail_writes(rocksdb::IOStatus::NoSpace("injected: no space left on device"));
  boost::asio::io_context io;
  runtime::ManualClock clock(1'700'000'000'000'000);
  game::World world(io.get_executor(), *log, clock,
                    game::WorldOptions{.zones = 2, .pump = [&] { settle(io, *log); }});
  const auto before = std::chrono::steady_clock::now();
  const Status started = world.start();
  CHECK(error_code(started) == Errc::io_error);
  CHECK_MESSAGE(error_message(started).find("no space left") != std::string::npos,
                error_message(started));
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10)); // not the timeout
  CHECK(world.zones().restarts() == 0);
}

TEST_CASE("a world restarted with its clock an hour behind the log serves, in the log's time") {
  TempDir dir;
  constexpr std::int64_t start_us = 1'700'000'000'000'000;
  constexpr std::int64_t hour_us = 3'600'000'000;
  const EntityId player = 2;
  std::int64_t last_wall_us = 0;
  {
    World w(dir / "log", std::make_shared<FaultyFileSystem>(), start_us);
    REQUIRE_OK(w.submit_for(player, 1, game::join(player)));
    w.clock.advance(std::chrono::seconds(5));
    REQUIRE_OK(w.submit_for(player, 2, game::say(player, "before")));
    // A clean shutdown: every zone stores a snapshot at its head, so the restart folds nothing.
    const Status stopped = w.world->shutdown();
    REQUIRE_OK(stopped);
    w.world.reset();
    auto head = w.log->read_stream_backward(1, log::end_seq, 1);
    REQUIRE_OK(head);
    last_wall_us = head->front().wall_time_us();
  }
  World w(dir / "log", std::make_shared<FaultyFileSystem>(), start_us - hour_us);
  // Restored from the snapshot at the head: no event folded says what time the stream is at.
  REQUIRE(w.world->zones().zone(1)->stats().recovered_from_seq > 0);
  REQUIRE(w.world->zones().zone(1)->stats().replayed_events == 0);
  auto joined = w.submit_for(player, 3, game::join(player));
  REQUIRE_OK(joined);
  CHECK(joined->accepted);
  auto said = w.submit_for(player, 4, game::say(player, "after"));
  REQUIRE_OK(said);
  auto events = w.log->read_stream(1, said->first_seq, 1);
  REQUIRE_OK(events);
  CHECK(events->front().wall_time_us() == last_wall_us);
  CHECK(w.world->zones().zone(1)->stats().clock_behind_us >= hour_us);
}

TEST_CASE("a zone whose snapshots cannot be read starts anyway, folding from its genesis") {
  TempDir dir;
  const EntityId player = 2;
  {
    World w(dir / "log", std::make_shared<FaultyFileSystem>());
    REQUIRE_OK(w.submit_for(player, 1, game::join(player)));
    const Status stopped = w.world->shutdown(); // every zone stores a snapshot
    REQUIRE_OK(stopped);
    w.world.reset();
  }
  // Opened once more: its recovery writes what the WAL holds into table files.
  static_cast<void>(open_log(dir / "log"));
  const auto table = table_file_of(dir / "log", "snapshots");
  {
    std::fstream io(table, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(16); // in the first data block
    const char byte = static_cast<char>(io.get());
    io.seekp(16);
    io.put(static_cast<char>(byte ^ 0x5a));
  }

  World w(dir / "log", std::make_shared<FaultyFileSystem>());
  const auto zone = w.world->zones().zone(1);
  REQUIRE(zone != nullptr);
  CHECK(zone->stats().skipped_snapshots >= 1);
  CHECK_MESSAGE(zone->stats().last_skipped_snapshot.find(table.filename().string()) !=
                    std::string::npos,
                zone->stats().last_skipped_snapshot);
  CHECK(zone->stats().recovered_from_seq == 0);
  CHECK(zone->state().offline_player(player) != nullptr);
}

} // namespace worldlog::test

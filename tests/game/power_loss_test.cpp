// The simulation's power loss: a real log on a file system that forgets what was never synced.
// Buffered durability loses the unsynced tail, and only that; sync durability loses nothing it
// acknowledged; a record cut short by a partial writeback is dropped whole.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/log/event_log.hpp>

#include "game/power_loss_file_system.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

using game::PowerLossFileSystem;

struct Machine {
  std::shared_ptr<PowerLossFileSystem> disk = std::make_shared<PowerLossFileSystem>();
  std::unique_ptr<log::EventLog> log;

  void boot(const std::filesystem::path& dir, log::Durability durability,
            bool commit_thread = true) {
    log = open_log(dir,
                   {.durability = durability, .commit_thread = commit_thread, .file_system = disk});
  }

  /// Appends `count` one-event appends to stream 1, each acknowledged before the next.
  void append(int count, Actor actor = {}) {
    for (int i = 0; i < count; ++i) {
      const std::vector<log::NewEvent> one = {make_event(1, "move", actor)};
      auto appended = log->append(1, log->head(1), one);
      REQUIRE_OK(appended);
    }
  }

  /// The power fails with `kept` bytes of each unsynced WAL tail written back; returns how
  /// many unsynced bytes the WAL had.
  std::uint64_t lose_power(const std::function<std::uint64_t(std::uint64_t)>& kept) {
    disk->cut_power();
    log.reset();
    std::uint64_t unsynced_wal = 0;
    const auto lost = disk->lose_unsynced([&](const std::string& name, std::uint64_t unsynced) {
      if (!name.ends_with(".log")) return std::uint64_t{0};
      unsynced_wal += unsynced;
      return kept(unsynced);
    });
    REQUIRE_OK(lost);
    return unsynced_wal;
  }
};

} // namespace

TEST_CASE("a power loss takes back what buffered durability did not sync, and nothing else") {
  TempDir dir;
  Machine machine;
  machine.boot(dir / "log", log::Durability::buffered);
  machine.append(10);
  machine.disk->write_back();
  machine.append(5);
  CHECK(machine.lose_power([](std::uint64_t) { return 0; }) > 0);

  machine.boot(dir / "log", log::Durability::buffered);
  CHECK(machine.log->head(1) == 10);
  CHECK(machine.log->last_position() == 10);
  auto verified = machine.log->verify(1);
  REQUIRE_OK(verified);
  CHECK(*verified == 10);
  // The log goes on from there: the next append takes seq 11 again.
  machine.append(1);
  CHECK(machine.log->head(1) == 11);
}

TEST_CASE("a power loss keeps everything when writeback got to all of it") {
  TempDir dir;
  Machine machine;
  machine.boot(dir / "log", log::Durability::buffered);
  machine.append(7);
  CHECK(machine.lose_power([](std::uint64_t unsynced) { return unsynced; }) > 0);
  machine.boot(dir / "log", log::Durability::buffered);
  CHECK(machine.log->head(1) == 7);
}

TEST_CASE("wherever writeback stopped, a power loss leaves a prefix: torn records are dropped") {
  // Three synced events, then four whose WAL records (each event and its actor index entry) the
  // power loss cuts at every 61st byte: the log keeps a prefix that grows with the cut, its
  // chain verifies, and the actor index is rebuilt to match it.
  const Actor player{.kind = ActorKind::player, .id = 9};
  std::uint64_t unsynced = 0; // learned from the first run: every run writes the same bytes
  Seq previous = 0;
  for (std::uint64_t cut = 0;; cut += 61) {
    const std::uint64_t keep = std::min(cut, unsynced);
    CAPTURE(keep);
    TempDir dir;
    Machine machine;
    // No commit thread: each event's index entry is written right behind it, in every run.
    machine.boot(dir / "log", log::Durability::buffered, false);
    machine.append(3, player);
    machine.disk->write_back();
    machine.append(4, player);
    unsynced = machine.lose_power([&](std::uint64_t) { return keep; });
    machine.boot(dir / "log", log::Durability::buffered, false);
    const Seq head = machine.log->head(1);
    CHECK(head >= std::max<Seq>(previous, 3));
    CHECK(head <= 7);
    CHECK(machine.log->last_position() == head);
    auto verified = machine.log->verify(1);
    REQUIRE_OK(verified);
    CHECK(*verified == head);
    auto done = machine.log->read_actor(player, 1, everything);
    REQUIRE_OK(done);
    CHECK(done->size() == head);
    if (keep == 0) CHECK(head == 3);
    if (keep == unsynced) CHECK(head == 7);
    previous = head;
    if (keep == unsynced) break;
  }
}

TEST_CASE("sync durability loses nothing it acknowledged to a power loss") {
  TempDir dir;
  Machine machine;
  machine.boot(dir / "log", log::Durability::sync);
  machine.append(6);
  machine.lose_power([](std::uint64_t) { return 0; });
  machine.boot(dir / "log", log::Durability::sync);
  CHECK(machine.log->head(1) == 6);
}

} // namespace worldlog::test

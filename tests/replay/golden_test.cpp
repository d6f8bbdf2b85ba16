// The golden sessions: short recorded games (tests/replay/golden/*.jsonl, the export form) and
// the state hashes they must fold to. CI runs this under g++ and clang++ at different
// optimisation levels, so a change that makes replay depend on the compiler, the optimiser or
// the platform fails here.
//
//   session.jsonl + hashes.txt                 envelope format 1
//   pre-upcast.jsonl + pre-upcast-hashes.txt   envelope format 2, every payload at version 1
//                                              (Died version 1, carrying the killer's xp),
//                                              written just before versioned events: it must
//                                              fold to the same hashes through the upcasters.
//
// To record a new session (only when the reference game's rules or state change on purpose):
//   build/worldlog demo --data /tmp/golden --seconds 8 --zones 2 --players 8 --seed 7
//   build/worldlog replay export --data /tmp/golden --out tests/replay/golden/session.jsonl
// then write hashes.txt from `worldlog replay state --data /tmp/golden --zone Z --at SEQ --json`
// at the seqs it lists, and say in the commit why the hashes changed. pre-upcast.jsonl is never
// recorded again: it is what a build before versioned events wrote.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/game/model.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>
#include <worldlog/zone/fold.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

const std::filesystem::path golden_dir = WORLDLOG_GOLDEN_DIR;

/// One expected state: zone, seq, and the hex of the state hash after that event.
struct Expected {
  zone::ZoneId zone = 0;
  log::Seq seq = 0;
  std::string hash;
};

std::vector<Expected> expected_hashes(const std::string& file) {
  std::ifstream in(golden_dir / file);
  REQUIRE(in.good());
  std::vector<Expected> expected;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    std::istringstream fields(line);
    Expected entry;
    fields >> entry.zone >> entry.seq >> entry.hash;
    REQUIRE_MESSAGE(!fields.fail(), "malformed line in ", file, ": ", line);
    expected.push_back(entry);
  }
  return expected;
}

TEST_SUITE_BEGIN("replay/golden");

/// Imports golden/`session` into `log`. Import checks every record's position and hash against
/// its line: the log is the same log, byte for byte.
void import_golden(log::EventLog& log, const std::string& session) {
  std::ifstream in(golden_dir / session);
  REQUIRE(in.good());
  auto imported = replay::import_log(log, in);
  REQUIRE_OK(imported);
}

/// Checks that every state golden/`hashes` lists folds to its hash, from the nearest snapshot
/// and from scratch.
void check_hashes(const log::EventLog& log, const std::string& hashes) {
  const auto expected = expected_hashes(hashes);
  REQUIRE(expected.size() >= 8);
  for (const Expected& entry : expected) {
    CAPTURE(entry.zone);
    CAPTURE(entry.seq);
    const replay::Replayer<game::Model> replayer(log, entry.zone);
    auto state = replayer.state_at(entry.seq);
    REQUIRE_OK(state);
    CHECK(state->seq == entry.seq);
    CHECK(log::to_hex(game::Model::hash(state->state)) == entry.hash);
    // The same state folded from scratch, without any snapshot of the import's own making.
    auto scratch = replayer.fold_from_scratch(entry.seq);
    REQUIRE_OK(scratch);
    CHECK(log::to_hex(game::Model::hash(scratch->state)) == entry.hash);
  }
}

TEST_CASE("the golden session imports to the recorded log and folds to the recorded hashes") {
  TempDir dir;
  auto opened = log::EventLog::open(dir.path() / "log");
  REQUIRE_OK(opened);
  import_golden(**opened, "session.jsonl");
  check_hashes(**opened, "hashes.txt");
}

TEST_CASE("the golden log written before versioned events verifies and folds to its hashes") {
  TempDir dir;
  auto opened = log::EventLog::open(dir.path() / "log");
  REQUIRE_OK(opened);
  auto& log = **opened;
  import_golden(log, "pre-upcast.jsonl");
  check_hashes(log, "pre-upcast-hashes.txt");

  const auto report = replay::verify<game::Model>(log);
  REQUIRE_OK(report);
  CHECK(report->ok());
  std::uint64_t upcast = 0;
  for (const replay::StreamVerdict& stream : report->streams)
    upcast += stream.upcast_events;

  // Its kills are Died version 1, carrying the xp: each one that earned xp reads as Died
  // version 2 and the XpGained that carries it now.
  std::uint64_t died_v1 = 0;
  std::uint64_t xp_gained = 0;
  std::string failed;
  for (const zone::ZoneId zone : log.streams()) {
    const Status scanned = log.scan_stream(zone, 1, 1'000'000, [&](const log::EventView& event) {
      if (event.payload_type() != game::Died::type) return true;
      if (zone::stored_payload_version(event) == 1) ++died_v1;
      auto decoded = zone::decode_stream_event<game::Model>(event);
      if (!decoded.ok()) {
        failed = decoded.error().to_string();
        return false;
      }
      const auto& events = std::get<2>(*decoded);
      if (events.size() == 2 && std::holds_alternative<game::Died>(events[0]) &&
          std::holds_alternative<game::XpGained>(events[1])) {
        ++xp_gained;
      }
      return true;
    });
    REQUIRE_OK(scanned);
  }
  CHECK(failed.empty());
  CHECK(died_v1 == upcast);
  CHECK(xp_gained >= 1);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// The golden session: a short recorded game (tests/replay/golden/session.jsonl, the export
// form) and the state hashes it must fold to (golden/hashes.txt). CI runs this under g++ and
// clang++ at different optimisation levels, so a change that makes replay depend on the
// compiler, the optimiser or the platform fails here.
//
// To record a new session (only when the reference game's rules or state change on purpose):
//   build/worldlog demo --data /tmp/golden --seconds 8 --zones 2 --players 8 --seed 7
//   build/worldlog replay export --data /tmp/golden --out tests/replay/golden/session.jsonl
// then write hashes.txt from `worldlog replay state --data /tmp/golden --zone Z --at SEQ --json`
// at the seqs it lists, and say in the commit why the hashes changed.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/game/model.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/replay/replay.hpp>

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

std::vector<Expected> expected_hashes() {
  std::ifstream in(golden_dir / "hashes.txt");
  REQUIRE(in.good());
  std::vector<Expected> expected;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    std::istringstream fields(line);
    Expected entry;
    fields >> entry.zone >> entry.seq >> entry.hash;
    REQUIRE_MESSAGE(!fields.fail(), "malformed line in hashes.txt: ", line);
    expected.push_back(entry);
  }
  return expected;
}

TEST_SUITE_BEGIN("replay/golden");

TEST_CASE("the golden session imports to the recorded log and folds to the recorded hashes") {
  TempDir dir;
  auto opened = log::EventLog::open(dir.path() / "log");
  REQUIRE_OK(opened);
  auto& log = **opened;
  std::ifstream session(golden_dir / "session.jsonl");
  REQUIRE(session.good());
  // Import checks every record's position and hash against its line: the log is the same log.
  auto imported = replay::import_log(log, session);
  REQUIRE_OK(imported);

  const auto expected = expected_hashes();
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

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

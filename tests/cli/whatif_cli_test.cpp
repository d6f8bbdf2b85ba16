// `replay whatif` through the `worldlog` binary: a demo log, and a simulated one whose zones
// crashed and restarted, decided again under the rules they ran (nothing may differ: replay is
// exact), under a balance patch (the wolves' bites halved: the bites, and what follows from
// them, differ in the patch's direction), and refused input.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"

#ifndef WORLDLOG_EXAMPLES_DIR
#error "WORLDLOG_EXAMPLES_DIR must name examples/"
#endif

namespace worldlog::test {
namespace {

const fs::path rules_dir = fs::path(WORLDLOG_EXAMPLES_DIR) / "rules";

std::vector<std::string> whatif_args(const fs::path& data, StreamId zone, Seq from,
                                     const fs::path& rules, std::vector<std::string> more = {}) {
  std::vector<std::string> args = replay_args(
      "whatif", data, zone, {"--from", std::to_string(from), "--rules", rules.string()});
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// A simulated world with fights enough for the patch to show, whose zones crash and restart
/// (27 times) and whose process crashes and loses power: written once. The same seed gives the
/// same log, so what the tests find in it is found every time.
const fs::path& fights_log() {
  static const TempDir dir("worldlog-whatif-");
  static const fs::path log = [] {
    const Run sim = run({"sim", "--seed", "11", "--steps", "20000", "--players", "24", "--zones",
                         "2", "--data", (dir / "sim").string()});
    REQUIRE_RUN_OK(sim);
    return dir / "sim";
  }();
  return log;
}

/// Checks that `whatif` under the rules `data` ran, from `from`, decides `zone` again to the
/// same outcomes, events and state.
void check_decided_again_the_same(const fs::path& data, StreamId zone, Seq from) {
  CAPTURE(zone);
  CAPTURE(from);
  const json::value report =
      run_json(whatif_args(data, zone, from, rules_dir / "reference.json", {"--json"}));
  CHECK(report.at("same").as_bool());
  CHECK(as_number(report.at("differing_events")) == 0);
  CHECK(report.at("outcome_changes").as_array().empty());
  CHECK(report.at("diff").as_array().empty());
  CHECK(as_number(report.at("commands")) > 0);
  CHECK(as_number(report.at("ticks")) > 0);
  CHECK(as_number(report.at("events_before")) == as_number(report.at("events_after")));
  CHECK(as_number(report.at("to")) == head_of(data, zone));
  CHECK(report.at("rules_before") == report.at("rules_after"));
  CHECK(report.at("hash_before") == report.at("hash_after"));
  CHECK(as_text(report.at("hash_after")) == state_hash(data, zone));
}

TEST_SUITE_BEGIN("cli");

TEST_CASE("whatif under the rules the log ran decides every zone again to the same events") {
  for (const StreamId zone : open_log(demo_log(), {.read_only = true})->streams()) {
    for (const Seq from : {Seq{2}, head_of(demo_log(), zone) / 2})
      check_decided_again_the_same(demo_log(), zone, from);
  }
  const Run printed = run(whatif_args(demo_log(), 1, 2, rules_dir / "reference.json"));
  REQUIRE_RUN_OK(printed);
  CHECK_SAYS(printed.out, "no difference: the same outcomes, events and final state");
}

TEST_CASE("whatif decides a zone again to the same events across its crashes and restarts") {
  for (const StreamId zone : {StreamId{1}, StreamId{2}}) {
    // Each restart begins a new writer's term: the stream holds several.
    auto log = open_log(fights_log(), {.read_only = true});
    auto events = log->read_stream(zone, 1, std::numeric_limits<std::size_t>::max());
    REQUIRE_OK(events);
    std::uint64_t last_epoch = 0;
    for (const auto& event : *events)
      last_epoch = std::max(last_epoch, event.epoch());
    CHECK(last_epoch > 5);
    log.reset();
    check_decided_again_the_same(fights_log(), zone, 2);
  }
}

TEST_CASE("whatif with the wolves' bites halved shows the bites and what follows differ") {
  bool bites_halved = false;
  bool entities_differ = false;
  for (const StreamId zone : {StreamId{1}, StreamId{2}}) {
    CAPTURE(zone);
    const json::value report =
        run_json(whatif_args(fights_log(), zone, 2, rules_dir / "gentle-wolves.json", {"--json"}));
    CHECK(as_number(report.at("rules_after").at("version")) == 2);
    CHECK(as_number(report.at("rules_before").at("version")) == 1);
    for (const auto& difference : report.at("differences").as_array()) {
      const auto& before = difference.at("before").as_array();
      const auto& after = difference.at("after").as_array();
      for (std::size_t i = 0; i < std::min(before.size(), after.size()); ++i) {
        if (before[i].at("type") != "Attacked" || after[i].at("type") != "Attacked") continue;
        if (before[i].at("attacker") != after[i].at("attacker")) continue;
        const auto was = before[i].at("damage").as_int64();
        const auto is = after[i].at("damage").as_int64();
        // No bite grows; a wolf's shrinks into the patch's 1..3.
        CHECK(is <= was);
        if (is < was) {
          CHECK(is <= 3);
          bites_halved = true;
        }
      }
    }
    if (!report.at("same").as_bool()) CHECK(as_number(report.at("differing_decisions")) > 0);
    // A zone's final states may meet again (the bitten healed or respawned); some player's differ.
    entities_differ = entities_differ || !report.at("entities").as_array().empty();
  }
  CHECK(bites_halved);
  CHECK(entities_differ);

  const Run printed = run(whatif_args(fights_log(), 1, 2, rules_dir / "gentle-wolves.json"));
  REQUIRE_RUN_OK(printed);
  CHECK_SAYS(printed.out, "decided again under rules v2");
  CHECK_SAYS(printed.out, "events by kind, where the count differs:");
}

TEST_CASE("whatif refuses a seq, a rules file or a log it cannot decide, naming it") {
  const Run genesis = run(whatif_args(demo_log(), 1, 1, rules_dir / "reference.json"));
  CHECK(genesis.status == 1);
  CHECK_SAYS(genesis.err, "--from must be after the genesis");

  const Run missing = run(whatif_args(demo_log(), 1, 2, rules_dir / "no-such-rules.json"));
  CHECK(missing.status == 1);
  CHECK_SAYS(missing.err, "--rules");
  CHECK_SAYS(missing.err, "no such file");

  const Run directory = run(whatif_args(demo_log(), 1, 2, rules_dir));
  CHECK(directory.status == 1);
  CHECK_SAYS(directory.err, "not a regular file");

  const TempDir dir("worldlog-whatif-bad-");
  const fs::path bad = dir / "bad.json";
  {
    std::ofstream out(bad);
    out << R"({"version": 3, "wolf": {"damage_min": 9, "damage_max": 2}})";
  }
  const Run inconsistent = run(whatif_args(demo_log(), 1, 2, bad));
  CHECK(inconsistent.status == 1);
  CHECK_SAYS(inconsistent.err, "damage_min");

  // A log written before worldlog recorded commands holds none to decide again.
  const fs::path imported = dir / "golden";
  REQUIRE_RUN_OK(run({"replay", "import", "--data", imported.string(), "--in",
                      (fs::path(WORLDLOG_GOLDEN_DIR) / "session.jsonl").string()}));
  const Run old = run(whatif_args(imported, 1, 2, rules_dir / "reference.json"));
  CHECK(old.status == 1);
  CHECK_SAYS(old.err, "hold no recorded commands to decide again");
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// The whole-world simulation: the same seed makes the same log, its faults happen, and the
// world it drives keeps every invariant over a spread of seeds. (CI runs many more seeds with
// `worldlog sim --seeds`, a minute in each build: tools/setup.sh test.)
#include <doctest/doctest.h>

#include <worldlog/game/simulation.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

game::SimReport run(const game::SimOptions& options) {
  auto report = game::simulate(options);
  REQUIRE_OK(report);
  if (report->violation) {
    FAIL_CHECK(fmt::format("{}: {}\n  {}", report->violation->invariant, report->violation->what,
                           report->violation->repro));
  }
  return std::move(report).value();
}

} // namespace

TEST_CASE("the same seed makes the same log, and another seed another") {
  const game::SimOptions options{.seed = 11, .steps = 6'000};
  const game::SimReport first = run(options);
  const game::SimReport again = run(options);
  CHECK(first.log_hash == again.log_hash);
  CHECK(first.events == again.events);
  CHECK(first.counts.commands == again.counts.commands);
  CHECK(first.events > 1'000);

  game::SimOptions other = options;
  other.seed = 12;
  CHECK(run(other).log_hash != first.log_hash);
}

TEST_CASE("a simulation injects every kind of fault and keeps every invariant") {
  game::SimCounts total;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const game::SimReport report = run({.seed = seed, .steps = 8'000, .players = 10});
    CHECK(report.steps == 8'000);
    total.process_crashes += report.counts.process_crashes;
    total.power_losses += report.counts.power_losses;
    total.disk_fulls += report.counts.disk_fulls;
    total.storage_errors += report.counts.storage_errors;
    total.lost_events += report.counts.lost_events;
    total.zone_crashes += report.counts.zone_crashes;
    total.disconnects += report.counts.disconnects;
    total.retries += report.counts.retries;
    total.duplicated_frames += report.counts.duplicated_frames;
    total.duplicates += report.counts.duplicates;
    total.crossings += report.counts.crossings;
    total.acknowledged += report.counts.acknowledged;
  }
  CHECK(total.process_crashes > 0);
  CHECK(total.power_losses > 0);
  CHECK(total.disk_fulls > 0);
  CHECK(total.storage_errors > 0);
  CHECK(total.lost_events > 0);
  CHECK(total.zone_crashes > 0);
  CHECK(total.disconnects > 0);
  CHECK(total.retries > 0);
  CHECK(total.duplicated_frames > 0);
  CHECK(total.duplicates > 0);
  CHECK(total.crossings > 0);
  CHECK(total.acknowledged > 1'000);
}

TEST_CASE("a simulation refuses a directory that already holds a log") {
  TempDir dir;
  run({.seed = 3, .steps = 200, .dir = dir / "log"});
  auto again = game::simulate({.seed = 3, .steps = 200, .dir = dir / "log"});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().to_string().find("already holds a log") != std::string::npos);
}

} // namespace worldlog::test

// Rules files through the `worldlog` binary: a demo of a new world records them in every
// genesis, a demo continuing a world under other rules patches each zone with RulesChanged,
// `replay verify` names the rules of each span, and a bad rules file is refused naming its field.
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"

namespace worldlog::test {
namespace {

const std::string gentle_wolves = std::string(WORLDLOG_EXAMPLES_DIR) + "/rules/gentle-wolves.json";

/// The rules spans `replay verify --json` gives for `zone` of the log in `data`.
json::array spans_of(const fs::path& data, StreamId zone) {
  const json::value verified = run_json({"replay", "verify", "--data", data.string(), "--json"});
  return verdict_of(verified, zone).at("rules_spans").as_array();
}

TEST_SUITE_BEGIN("cli");

TEST_CASE("demo --rules on a world under other rules patches every zone and verify names spans") {
  const TempDir dir("worldlog-cli-rules-");
  const fs::path data = copy_of_demo(dir);
  const Seq before = head_of(data, 1);

  const Run patched = run({"demo", "--data", data.string(), "--seconds", "1", "--players", "8",
                           "--rules", gentle_wolves});
  REQUIRE_RUN_OK(patched);
  for (int zone = 1; zone <= 4; ++zone)
    CHECK_SAYS(patched.out, fmt::format("zone {}: rules changed to version 2", zone));

  const json::array spans = spans_of(data, 1);
  REQUIRE(spans.size() == 2);
  CHECK(as_number(spans[0].at("first")) == 1);
  CHECK(as_number(spans[0].at("version")) == 1);
  const Seq changed_at = as_number(spans[0].at("last"));
  CHECK(changed_at > before); // the change comes after what the first run wrote
  CHECK(as_number(spans[1].at("first")) == changed_at + 1);
  CHECK(as_number(spans[1].at("version")) == 2);
  CHECK(as_number(spans[1].at("last")) == head_of(data, 1));

  const Run verified = run({"replay", "verify", "--data", data.string()});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, fmt::format("decided by: seqs 1–{} rules version 1", changed_at));
  CHECK_SAYS(verified.out, fmt::format("seqs {}–", changed_at + 1));
  CHECK_SAYS(verified.out, "rules version 2");

  // Under the same rules again, nothing changes.
  const Run again = run({"demo", "--data", data.string(), "--seconds", "1", "--players", "8",
                         "--rules", gentle_wolves});
  REQUIRE_RUN_OK(again);
  CHECK_FALSE(contains(again.out, "rules changed"));
  CHECK(spans_of(data, 1).size() == 2);
}

TEST_CASE("demo --rules of a new world records the rules in every genesis") {
  const TempDir dir("worldlog-cli-rules-");
  const fs::path data = dir / "gentle";
  const Run demo = run({"demo", "--data", data.string(), "--seconds", "1", "--players", "8",
                        "--zones", "2", "--rules", gentle_wolves});
  REQUIRE_RUN_OK(demo);
  CHECK_FALSE(contains(demo.out, "rules changed"));
  for (StreamId zone = 1; zone <= 2; ++zone) {
    const json::array spans = spans_of(data, zone);
    REQUIRE(spans.size() == 1);
    CHECK(as_number(spans[0].at("version")) == 2);
    CHECK(as_number(spans[0].at("last")) == head_of(data, zone));
  }
}

TEST_CASE("a bad rules file is refused naming the file and the field, before any log is made") {
  const TempDir dir("worldlog-cli-rules-");
  const fs::path bad = dir / "bad.json";
  std::ofstream(bad) << R"({"version": 3, "wolf": {"damage_min": 9}})";
  const fs::path data = dir / "never";
  const Run demo = run({"demo", "--data", data.string(), "--rules", bad.string()});
  CHECK(demo.status == 1);
  CHECK_SAYS(demo.err, fmt::format("the rules file {}: rules field 'wolf.damage_min' is 9, "
                                   "above damage_max 6",
                                   bad.string()));
  CHECK_FALSE(fs::exists(data));
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

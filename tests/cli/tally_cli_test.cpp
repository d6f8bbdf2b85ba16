// The log tools as a library over the model, end to end: `tally-log`, an embedder's own binary
// built on worldlog::tools with a model that is not the reference game (tally_log.cpp), writes a
// log of that model and reads it with its own names; the stock `worldlog` refuses that model's
// zones by name and still runs its log-level commands on the log; and `two-games-log`, which
// knows both models, reads each zone of a mixed log with its own.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"

#ifndef TALLY_LOG_BINARY
#error "TALLY_LOG_BINARY must name the tally-log executable"
#endif
#ifndef TWO_GAMES_LOG_BINARY
#error "TWO_GAMES_LOG_BINARY must name the two-games-log executable"
#endif

namespace worldlog::test {
namespace {

const std::string tally_binary = TALLY_LOG_BINARY;
const std::string two_games_binary = TWO_GAMES_LOG_BINARY;

Run tally(const std::vector<std::string>& args) { return run_binary(tally_binary, args); }
Run two_games(const std::vector<std::string>& args) { return run_binary(two_games_binary, args); }

/// What the stock binary says about a zone of the tally model (it knows the reference game
/// first, and the examples' games after it).
std::string unknown_to_worldlog(StreamId zone) {
  return fmt::format("worldlog: zone {} was written by model 'worldlog.test.tally' (rules version "
                     "1), which this worldlog does not know (it knows: worldlog.reference",
                     zone);
}

/// A log of two tally zones written by `tally-log write` (once per test process), and the seq
/// of zone 1 after which entity 1's tally is above 1000.
struct TallyLog {
  fs::path dir;
  Seq broken_at = 0;
};
const TallyLog& tally_log() {
  static const TempDir dir("worldlog-cli-tally-");
  static const TallyLog log = [] {
    const fs::path data = dir / "tally";
    const Run written = tally({"write", "--data", data.string()});
    REQUIRE_RUN_OK(written);
    const std::string_view said = "entity 1 passed 1000 at zone 1 seq ";
    const auto at = written.out.find(said);
    REQUIRE_MESSAGE(at != std::string::npos, written.out);
    return TallyLog{data, std::stoull(written.out.substr(at + said.size()))};
  }();
  return log;
}

TEST_SUITE_BEGIN("cli");

TEST_CASE("an embedder's own log tools replay, bisect and audit its model's log with its names") {
  const TallyLog& log = tally_log();
  const std::string data = log.dir.string();
  REQUIRE(log.broken_at > 2);

  const Run verified = tally({"replay", "verify", "--data", data});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "zone 1: ");
  CHECK_SAYS(verified.out, "the state hash matches at the snapshots");
  CHECK_SAYS(verified.out, "2 zones verified: every refold matches");
  const Run verified_json = tally({"replay", "verify", "--data", data, "--json"});
  REQUIRE_RUN_OK(verified_json);
  const json::value verdicts = json::parse(verified_json.out);
  CHECK(verdicts.at("ok").as_bool());
  CHECK(as_number(verdicts.at("running_rules_version")) == 1);
  for (const StreamId zone : {1, 2})
    CHECK(as_text(verdict_of(verdicts, zone).at("model")) == "worldlog.test.tally");

  // The state, as the tally model's to_json gives it.
  const Run state = tally(replay_args("state", log.dir, 1));
  REQUIRE_RUN_OK(state);
  CHECK_SAYS(state.out,
             fmt::format("zone 1 after seq {} of {}", head_of(log.dir, 1), head_of(log.dir, 1)));
  CHECK_SAYS(state.out, "entities: {\"1\":{\"total\":1005,\"x\":100,\"y\":200}");
  const Run before = tally(
      replay_args("state", log.dir, 1, {"--at", std::to_string(log.broken_at - 1), "--json"}));
  REQUIRE_RUN_OK(before);
  CHECK(json::parse(before.out).at("state").at("entities").at("1").at("total").as_int64() == 305);

  // A step shows the event with the fields the model describes.
  const Run step = tally(replay_args("step", log.dir, 1, {"--from", "2"}));
  REQUIRE_RUN_OK(step);
  CHECK_SAYS(step.out, "Placed  {\"type\":\"Placed\",\"entity\":1,\"at\":[100,200]}");
  CHECK_SAYS(step.out, "entities.1: added");

  // Bisect with one of its own invariants finds the event that broke it.
  const std::vector<std::string> bisect_total = {"--invariant", "total_at_most_1000"};
  const Run bisected = tally(replay_args("bisect", log.dir, 1, bisect_total));
  REQUIRE_RUN_OK(bisected);
  CHECK_SAYS(bisected.out,
             fmt::format("zone 1: total_at_most_1000 fails first after seq {}", log.broken_at));
  CHECK_SAYS(bisected.out, "entity 1 has a tally of 1005, above 1000");
  CHECK_SAYS(bisected.out, "Added  {\"type\":\"Added\",\"entity\":1,\"amount\":700}");
  const json::value found =
      run_binary_json(tally_binary, replay_args("bisect", log.dir, 1,
                                                {"--invariant", "total_at_most_1000", "--json"}));
  CHECK(as_number(found.at("first_bad_seq")) == log.broken_at);
  CHECK(as_text(found.at("event").at("name")) == "Added");
  const Run holds = tally(replay_args("bisect", log.dir, 2, {"--invariant", "rolls_below_1000"}));
  REQUIRE_RUN_OK(holds);
  CHECK_SAYS(holds.out, "zone 2: rolls_below_1000 holds after seq");
  // Its invariants are the ones it knows, and --help lists them.
  const Run not_its = tally(replay_args("bisect", log.dir, 1, {"--invariant", "hp_in_bounds"}));
  CHECK(not_its.status == 1);
  CHECK_SAYS(not_its.err, "tally-log: no invariant named 'hp_in_bounds' (known: "
                          "total_at_most_1000, rolls_below_1000)");
  const Run help = tally({"replay", "bisect", "--help"});
  REQUIRE_RUN_OK(help);
  CHECK_SAYS(help.out, "total_at_most_1000: no entity's tally is above 1000");

  // The audit of a player, with the model's event fields and reason names.
  const Run player_1 = tally({"audit", "player", "--data", data, "--player", "1"});
  REQUIRE_RUN_OK(player_1);
  CHECK_SAYS(player_1.out, "Placed                   at=(100, 200)");
  CHECK_SAYS(player_1.out, "Added                    entity=11 amount=7");
  CHECK_SAYS(player_1.out, "player 1: 5 actions in zones 1, 2: 5 accepted, 0 refused");
  const Run player_2 = tally({"audit", "player", "--data", data, "--player", "2"});
  REQUIRE_RUN_OK(player_2);
  CHECK_SAYS(player_2.out, "REFUSED Add              amount_not_positive (code 1): amount must "
                           "be positive, got -3");
  CHECK_SAYS(player_2.out, "2 accepted, 1 refused");
  const json::value player_3 =
      run_binary_json(tally_binary, {"audit", "player", "--data", data, "--player", "3", "--json"});
  REQUIRE(player_3.at("actions").as_array().size() == 1);
  const json::value& refused = player_3.at("actions").as_array().front();
  CHECK(as_text(refused.at("name")) == "Leave");
  CHECK(as_text(refused.at("reject")) == "not_in_zone");
  CHECK(as_text(refused.at("reason")) == "entity 99 is not in this zone");

  // The export decodes each line with the model.
  const Run exported = tally({"replay", "export", "--data", data, "--zone", "1"});
  REQUIRE_RUN_OK(exported);
  const auto lines = lines_of(exported.out);
  REQUIRE(lines.size() == head_of(log.dir, 1) + 1);
  CHECK(as_text(json::parse(lines[1]).at("event").at("model")) == "worldlog.test.tally");
  CHECK(as_text(json::parse(lines[2]).at("event").at("type")) == "Placed");

  // The log-level commands.
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"verify", "--data", data},
                                             {"events", "--data", data},
                                             {"audit", "verify", "--data", data}}) {
    CAPTURE(args[0]);
    REQUIRE_RUN_OK(tally(args));
  }
}

TEST_CASE("the stock worldlog refuses the zones of a model it does not know, naming the model") {
  const TallyLog& log = tally_log();
  const std::string data = log.dir.string();

  // Every command that decodes events or states: refused before it prints anything.
  for (const auto& args : std::vector<std::vector<std::string>>{
           replay_args("verify", log.dir, 1),
           replay_args("state", log.dir, 1),
           replay_args("step", log.dir, 1, {"--from", "2"}),
           replay_args("diff", log.dir, 1, {"--from", "2", "--to", "3"}),
           replay_args("bisect", log.dir, 1, {"--invariant", "hp_in_bounds"}),
           {"replay", "verify", "--data", data},
           {"replay", "export", "--data", data},
           {"audit", "player", "--data", data, "--player", "1"}}) {
    CAPTURE(fmt::format("{} {}", args[0], args[1]));
    const Run refused = run(args);
    CHECK(refused.status == 1);
    CHECK_SAYS(refused.err, unknown_to_worldlog(1));
    CHECK(refused.out.empty());
  }
  const Run zone_2 = run(replay_args("state", log.dir, 2, {"--json"}));
  CHECK(zone_2.status == 1);
  CHECK_SAYS(zone_2.err, unknown_to_worldlog(2));
  const Run player_3 = run({"audit", "player", "--data", data, "--player", "3"});
  CHECK(player_3.status == 1);
  CHECK_SAYS(player_3.err, unknown_to_worldlog(2));
  const Run exporting = run({"replay", "export", "--data", data, "--zone", "2"});
  CHECK_SAYS(exporting.err, "--no-decode exports it without the decoded events");
  // A player with no actions has nothing to describe.
  const Run nobody = run({"audit", "player", "--data", data, "--player", "999"});
  REQUIRE_RUN_OK(nobody);
  CHECK_SAYS(nobody.out, "player 999: no actions");

  // The log-level commands need no model.
  const Run verified = run({"verify", "--data", data});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "2 streams");
  CHECK_SAYS(verified.out, "all chains ok");
  const Run events = run({"events", "--data", data, "--json"});
  REQUIRE_RUN_OK(events);
  CHECK(json::parse(events.out).as_array().size() == head_of(log.dir, 1) + head_of(log.dir, 2));
  const Run audited = run({"audit", "verify", "--data", data});
  REQUIRE_RUN_OK(audited);
  CHECK_SAYS(audited.out, "audit ok: 2 streams");
  const Run anchored = run({"audit", "anchor", "--data", data});
  REQUIRE_RUN_OK(anchored);
  CHECK_SAYS(anchored.out, fmt::format("stream 1 seq {} hash ", head_of(log.dir, 1)));

  // Exported without decoding and imported elsewhere, it is the same log to its own tools.
  TempDir dir;
  const fs::path text = dir / "tally.jsonl";
  REQUIRE_RUN_OK(run({"replay", "export", "--data", data, "--no-decode", "--out", text.string()}));
  const fs::path copy = dir / "copy";
  REQUIRE_RUN_OK(run({"replay", "import", "--data", copy.string(), "--in", text.string()}));
  const json::value original =
      run_binary_json(tally_binary, {"replay", "verify", "--data", data, "--json"});
  const json::value imported =
      run_binary_json(tally_binary, {"replay", "verify", "--data", copy.string(), "--json"});
  CHECK(imported.at("ok").as_bool());
  for (const StreamId zone : {1, 2})
    CHECK(verdict_of(imported, zone).at("head_hash") == verdict_of(original, zone).at("head_hash"));

  // And the other way round: the embedder's binary does not know the reference game.
  const Run reference = tally(replay_args("state", demo_log(), 1));
  CHECK(reference.status == 1);
  CHECK_SAYS(reference.err, "tally-log: zone 1 was written by model 'worldlog.reference' (rules "
                            "version 1), which this tally-log does not know (it knows: "
                            "worldlog.test.tally)");
}

TEST_CASE("a binary that knows two models reads each zone of a mixed log with its own") {
  TempDir dir;
  const fs::path mixed = copy_of_demo(dir);
  const std::string data = mixed.string();
  constexpr StreamId tally_zone = 9;
  constexpr std::uint64_t player = 7; // a player of the demo, who also acts in the tally zone
  REQUIRE_RUN_OK(two_games({"append-zone", "--data", data, "--zone", std::to_string(tally_zone),
                            "--player", std::to_string(player)}));

  const json::value verified =
      run_binary_json(two_games_binary, {"replay", "verify", "--data", data, "--json"});
  CHECK(verified.at("ok").as_bool());
  CHECK(verified.at("running_rules_version").is_null()); // two models, each its own
  CHECK(as_text(verdict_of(verified, 1).at("model")) == "worldlog.reference");
  CHECK(as_text(verdict_of(verified, tally_zone).at("model")) == "worldlog.test.tally");
  const Run printed = two_games({"replay", "verify", "--data", data});
  REQUIRE_RUN_OK(printed);
  CHECK_SAYS(printed.out, "5 zones verified: every refold matches");

  // The player's actions in both models' zones, each described by its own model.
  const Run audited = two_games({"audit", "player", "--data", data, "--player", "7"});
  REQUIRE_RUN_OK(audited);
  CHECK_SAYS(audited.out, "Joined");
  CHECK_SAYS(audited.out, "zone 9   seq 2        Added                    amount=5");
  CHECK_SAYS(audited.out, "zone 9   seq 3        REFUSED Add              amount_not_positive "
                          "(code 1): amount must be positive, got -3");
  CHECK_SAYS(audited.out, "1 refused");
  const json::value actions = run_binary_json(
      two_games_binary, {"audit", "player", "--data", data, "--player", "7", "--json"});
  const json::value& last = actions.at("actions").as_array().back();
  CHECK(as_number(last.at("zone")) == tally_zone);
  CHECK(as_text(last.at("name")) == "Added");

  // Each zone's invariants are its model's.
  const Run reference_bisect =
      two_games(replay_args("bisect", mixed, 2, {"--invariant", "hp_in_bounds"}));
  REQUIRE_RUN_OK(reference_bisect);
  CHECK_SAYS(reference_bisect.out, "zone 2: hp_in_bounds holds");
  const Run tally_bisect =
      two_games(replay_args("bisect", mixed, tally_zone, {"--invariant", "total_at_most_1000"}));
  REQUIRE_RUN_OK(tally_bisect);
  CHECK_SAYS(tally_bisect.out, "zone 9: total_at_most_1000 holds");
  const Run wrong_model =
      two_games(replay_args("bisect", mixed, tally_zone, {"--invariant", "hp_in_bounds"}));
  CHECK(wrong_model.status == 1);
  CHECK_SAYS(wrong_model.err, "two-games-log: no invariant named 'hp_in_bounds' (known: "
                              "total_at_most_1000, rolls_below_1000)");

  // The stock binary audits a player who never acted in the tally zone, and refuses one who did.
  const Run other = run({"audit", "player", "--data", data, "--player", "8"});
  REQUIRE_RUN_OK(other);
  const Run refused = run({"audit", "player", "--data", data, "--player", "7"});
  CHECK(refused.status == 1);
  CHECK_SAYS(refused.err, unknown_to_worldlog(tally_zone));
  REQUIRE_RUN_OK(run(replay_args("verify", mixed, 2)));
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// The replay subcommands through the `worldlog` binary: state, step, diff, bisect and verify
// on the demo's log, on copies damaged one byte, one record or one order at a time, on an
// export imported elsewhere, and on bad input.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"

namespace worldlog::test {
namespace {

TEST_SUITE_BEGIN("cli");

TEST_CASE("replay state rebuilds a zone after a seq, at a time and at the head") {
  constexpr StreamId zone = 2;
  const Seq head = head_of(demo_log(), zone);
  REQUIRE(head > 10);
  const Seq middle = head / 2;

  // The head comes from the snapshot the demo stored when it stopped, and has the hash that
  // verify's fold from scratch gives, in every zone.
  const json::value at_head = run_json(replay_args("state", demo_log(), zone, {"--json"}));
  CHECK(as_number(at_head.at("seq")) == head);
  CHECK(as_number(at_head.at("head")) == head);
  CHECK(as_number(at_head.at("from_snapshot")) != 0);
  CHECK(as_number(at_head.at("from_snapshot")) + as_number(at_head.at("folded")) == head);
  CHECK(at_head.at("state").is_object());
  const json::value verified =
      run_json({"replay", "verify", "--data", demo_log().string(), "--json"});
  for (const StreamId each : open_log(demo_log(), {.read_only = true})->streams()) {
    CAPTURE(each);
    const json::value verdict = verdict_of(verified, each);
    REQUIRE(verdict.is_object());
    CHECK(as_text(verdict.at("head_hash")) == state_hash(demo_log(), each));
  }

  // Before the snapshot: folded from seq 1.
  const json::value at_middle =
      run_json(replay_args("state", demo_log(), zone, {"--at", std::to_string(middle), "--json"}));
  CHECK(as_number(at_middle.at("seq")) == middle);
  CHECK(as_number(at_middle.at("head")) == head);
  CHECK(as_number(at_middle.at("from_snapshot")) == 0);
  CHECK(as_number(at_middle.at("folded")) == middle);
  const std::string middle_hash = as_text(at_middle.at("state_hash"));
  CHECK(middle_hash.size() == 64);

  const Run printed = run(replay_args("state", demo_log(), zone, {"--at", std::to_string(middle)}));
  REQUIRE_RUN_OK(printed);
  CHECK_SAYS(printed.out, fmt::format("zone {} after seq {} of {}, {}", zone, middle, head,
                                      as_text(at_middle.at("wall_time"))));
  CHECK_SAYS(printed.out,
             fmt::format("folded from seq 1 ({} events); state hash {}", middle, middle_hash));
  const Run head_text = run(replay_args("state", demo_log(), zone));
  REQUIRE_RUN_OK(head_text);
  CHECK_SAYS(head_text.out, fmt::format("rebuilt from the snapshot at seq {}",
                                        as_number(at_head.at("from_snapshot"))));

  // --at-time: the state after the last event at or before the time, given in µs or in the
  // ISO 8601 form the output prints.
  std::vector<Event> events;
  {
    auto log = open_log(demo_log(), {.read_only = true});
    auto read = log->read_stream(zone, 1, everything);
    REQUIRE_OK(read);
    events = std::move(read).value();
  }
  REQUIRE(events.size() == head);
  const std::int64_t time = events[middle - 1].wall_time_us();
  Seq last_by_then = middle;
  while (last_by_then < head && events[last_by_then].wall_time_us() <= time)
    ++last_by_then;
  for (const std::string& when : {std::to_string(time), as_text(at_middle.at("wall_time"))}) {
    CAPTURE(when);
    const json::value at_time =
        run_json(replay_args("state", demo_log(), zone, {"--at-time", when, "--json"}));
    CHECK(as_number(at_time.at("seq")) == last_by_then);
    CHECK(as_number(at_time.at("wall_time_us")) == static_cast<std::uint64_t>(time));
  }
  const Run too_early =
      run(replay_args("state", demo_log(), zone, {"--at-time", "2000-01-01T00:00:00Z"}));
  CHECK(too_early.status == 1);
  CHECK_SAYS(too_early.err, fmt::format("zone {} has no event at or before 2000-01-01", zone));
}

TEST_CASE("replay step shows each event and what it changed") {
  constexpr StreamId zone = 2;
  const Seq head = head_of(demo_log(), zone);
  REQUIRE(head > 10);
  const Seq from = head / 2;
  std::vector<Event> events;
  {
    auto log = open_log(demo_log(), {.read_only = true});
    auto read = log->read_stream(zone, from, 3);
    REQUIRE_OK(read);
    events = std::move(read).value();
  }
  REQUIRE(events.size() == 3);

  const json::value stepped = run_json(replay_args(
      "step", demo_log(), zone, {"--from", std::to_string(from), "--count", "3", "--json"}));
  CHECK(as_number(stepped.at("from")) == from);
  CHECK(as_number(stepped.at("head")) == head);
  const json::array& steps = stepped.at("steps").as_array();
  REQUIRE(steps.size() == 3);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    CAPTURE(i);
    CHECK(as_number(steps[i].at("seq")) == events[i].seq());
    CHECK(as_number(steps[i].at("position")) == events[i].position());
    CHECK(as_number(steps[i].at("payload_type")) == events[i].payload_type());
    CHECK(as_number(steps[i].at("command_id")) == events[i].command_id());
    CHECK_FALSE(as_text(steps[i].at("name")).empty());
    CHECK(steps[i].at("event").is_object());
    // Each step leaves the state that state_at rebuilds at its seq, and changed what a diff
    // across its event says.
    CHECK(as_text(steps[i].at("state_hash")) == state_hash(demo_log(), zone, events[i].seq()));
    const json::value diffed =
        run_json(replay_args("diff", demo_log(), zone,
                             {"--from", std::to_string(events[i].seq() - 1), "--to",
                              std::to_string(events[i].seq()), "--json"}));
    CHECK(diffed.at("changes") == steps[i].at("changes"));
  }

  const Run printed =
      run(replay_args("step", demo_log(), zone, {"--from", std::to_string(from), "--count", "2"}));
  REQUIRE_RUN_OK(printed);
  const auto lines = lines_of(printed.out);
  REQUIRE_FALSE(lines.empty());
  CHECK_SAYS(lines.front(), fmt::format("seq {}  {}", from, as_text(steps[0].at("wall_time"))));
  CHECK_SAYS(lines.front(), as_text(steps[0].at("name")));
  std::size_t event_lines = 0;
  for (const auto& line : lines)
    event_lines += line.starts_with("seq ") ? 1 : 0;
  CHECK(event_lines == 2);

  // From the genesis, the whole initial state is added; past the head, the steps stop there.
  const json::value genesis =
      run_json(replay_args("step", demo_log(), zone, {"--from", "1", "--json"}));
  REQUIRE(genesis.at("steps").as_array().size() == 1);
  const json::value& created = genesis.at("steps").as_array().front();
  CHECK(as_text(created.at("name")) == "ZoneCreated");
  REQUIRE_FALSE(created.at("changes").as_array().empty());
  for (const json::value& change : created.at("changes").as_array())
    CHECK(as_text(change.at("change")) == "added");
  const Run at_head = run(
      replay_args("step", demo_log(), zone, {"--from", std::to_string(head - 1), "--count", "5"}));
  REQUIRE_RUN_OK(at_head);
  CHECK_SAYS(at_head.out, fmt::format("seq {}  ", head));
  CHECK_SAYS(at_head.out, fmt::format("(the head of zone {}: seq {})", zone, head));
}

TEST_CASE("replay diff lists what changed between two seqs") {
  constexpr StreamId zone = 2;
  const Seq head = head_of(demo_log(), zone);
  REQUIRE(head > 10);
  const Seq to = head / 2;

  const json::value diffed = run_json(
      replay_args("diff", demo_log(), zone, {"--from", "1", "--to", std::to_string(to), "--json"}));
  CHECK(as_number(diffed.at("zone")) == zone);
  CHECK(as_number(diffed.at("from").at("seq")) == 1);
  CHECK(as_number(diffed.at("to").at("seq")) == to);
  CHECK(as_text(diffed.at("from").at("state_hash")) == state_hash(demo_log(), zone, 1));
  CHECK(as_text(diffed.at("to").at("state_hash")) == state_hash(demo_log(), zone, to));
  const json::array& changes = diffed.at("changes").as_array();
  REQUIRE_FALSE(changes.empty()); // the demo's players joined in between
  for (const json::value& change : changes) {
    const std::string kind = as_text(change.at("change"));
    CHECK((kind == "changed" || kind == "added" || kind == "removed"));
    CHECK_FALSE(as_text(change.at("path")).empty());
  }

  const Run printed =
      run(replay_args("diff", demo_log(), zone, {"--from", "1", "--to", std::to_string(to)}));
  REQUIRE_RUN_OK(printed);
  const auto lines = lines_of(printed.out);
  REQUIRE(lines.size() == changes.size() + 1);
  CHECK_SAYS(lines.front(), fmt::format("zone {}: seq 1 (", zone));
  CHECK_SAYS(lines.front(), fmt::format("-> seq {} (", to));
  CHECK_SAYS(lines.front(), fmt::format("): {} changes", changes.size()));
  CHECK(lines[1].starts_with(as_text(changes.front().at("path")) + ":"));

  const Run nothing = run(replay_args("diff", demo_log(), zone,
                                      {"--from", std::to_string(to), "--to", std::to_string(to)}));
  REQUIRE_RUN_OK(nothing);
  CHECK_SAYS(nothing.out, "0 changes");
}

TEST_CASE("replay bisect finds that every built-in invariant holds on the demo log") {
  constexpr StreamId zone = 2;
  const Seq head = head_of(demo_log(), zone);
  REQUIRE(head > 10);

  // An unknown name is refused, listing the invariants there are.
  const Run unknown =
      run(replay_args("bisect", demo_log(), zone, {"--invariant", "gold_non_negative"}));
  CHECK(unknown.status == 1);
  const std::string_view listed = "(known: ";
  const auto at = unknown.err.find(listed);
  REQUIRE_MESSAGE(at != std::string::npos, unknown.err);
  CHECK_SAYS(unknown.err, "no invariant named 'gold_non_negative'");
  std::vector<std::string> names;
  std::istringstream known(
      unknown.err.substr(at + listed.size(), unknown.err.find(')', at) - at - listed.size()));
  for (std::string name; std::getline(known >> std::ws, name, ',');)
    names.push_back(name);
  CHECK(names.size() >= 4);
  for (const std::string_view expected : {"hp_in_bounds", "inside_map", "one_zone_per_entity"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());

  for (const std::string& name : names) {
    CAPTURE(name);
    const json::value found =
        run_json(replay_args("bisect", demo_log(), zone, {"--invariant", name, "--json"}));
    CHECK(as_text(found.at("invariant")) == name);
    CHECK(found.at("holds").as_bool());
    CHECK(as_number(found.at("head")) == head);
    CHECK(as_number(found.at("probes")) == 1); // it holds at the head: nothing to search
    CHECK_FALSE(found.as_object().contains("first_bad_seq"));
    const Run printed = run(replay_args("bisect", demo_log(), zone, {"--invariant", name}));
    REQUIRE_RUN_OK(printed);
    CHECK_SAYS(printed.out,
               fmt::format("zone {}: {} holds after seq {} (the head); 1 state checked", zone, name,
                           head));
  }
  const json::value earlier = run_json(
      replay_args("bisect", demo_log(), zone,
                  {"--invariant", "hp_in_bounds", "--to", std::to_string(head / 2), "--json"}));
  CHECK(as_number(earlier.at("head")) == head / 2);
  CHECK(earlier.at("holds").as_bool());
}

TEST_CASE("replay verify refolds every zone of the demo log and matches its snapshots") {
  std::vector<StreamId> zones;
  {
    auto log = open_log(demo_log(), {.read_only = true});
    zones = log->streams();
  }
  REQUIRE(zones.size() == 4);
  const Run printed = run({"replay", "verify", "--data", demo_log().string()});
  REQUIRE_RUN_OK(printed);
  for (const StreamId zone : zones) {
    CHECK_SAYS(printed.out, fmt::format("zone {}: {} events refolded from scratch; the state hash "
                                        "matches at the snapshots (seq ",
                                        zone, head_of(demo_log(), zone)));
  }
  CHECK_SAYS(printed.out, "4 zones verified: every refold matches");

  const json::value verified =
      run_json({"replay", "verify", "--data", demo_log().string(), "--json"});
  CHECK(verified.at("ok").as_bool());
  CHECK(verified.at("first_problem").is_null());
  REQUIRE(verified.at("streams").as_array().size() == zones.size());
  for (const StreamId zone : zones) {
    CAPTURE(zone);
    const json::value verdict = verdict_of(verified, zone);
    REQUIRE(verdict.is_object());
    CHECK(verdict.at("ok").as_bool());
    CHECK(as_number(verdict.at("head")) == head_of(demo_log(), zone));
    CHECK(as_number(verdict.at("folded")) == head_of(demo_log(), zone));
    CHECK(as_text(verdict.at("model")) == "worldlog.reference");
    const json::array& snapshots = verdict.at("snapshots").as_array();
    REQUIRE_FALSE(snapshots.empty());
    for (const json::value& snapshot : snapshots) {
      CHECK(snapshot.at("matches").as_bool());
      CHECK(snapshot.at("recorded") == snapshot.at("refolded"));
    }
    CHECK(verdict.at("head_from_snapshot") == snapshots.back().at("seq"));
  }

  const json::value one =
      run_json({"replay", "verify", "--data", demo_log().string(), "--zone", "3", "--json"});
  REQUIRE(one.at("streams").as_array().size() == 1);
  CHECK(as_number(one.at("streams").as_array().front().at("zone")) == 3);
  CHECK(one.at("streams").as_array().front() == verdict_of(verified, 3));
}

TEST_CASE("replay commands name the zone and seq of a tampered record") {
  TempDir dir;
  const fs::path copy = copy_of_demo(dir);
  constexpr StreamId zone = damaged_zone;
  const Seq head = head_of(copy, zone);
  REQUIRE(head > 10);
  const Seq bad = head / 2;
  const std::string before_damage = state_hash(copy, zone, bad - 1);
  const std::string head_hash = state_hash(copy, zone);

  SUBCASE("one byte of a record changed") { damage(copy, zone, bad, Damage::flipped_byte); }
  SUBCASE("a record deleted") { damage(copy, zone, bad, Damage::deleted_record); }
  SUBCASE("two records swapped") { damage(copy, zone, bad, Damage::swapped_records); }
  const std::string where = fmt::format("zone {} seq {}", zone, bad);
  const std::string record = fmt::format("stream {} seq {}", zone, bad); // as the log names it

  const Run verified = run({"replay", "verify", "--data", copy.string()});
  CHECK(verified.status == 1);
  CHECK_SAYS(verified.err, fmt::format("replay verify failed: {}", where));
  CHECK_SAYS(verified.out, fmt::format("zone {}: damaged_log at seq {}", zone, bad));
  CHECK_SAYS(verified.out, "zone 1: ");

  const Run as_json = run({"replay", "verify", "--data", copy.string(), "--json"});
  CHECK(as_json.status == 1);
  const json::value report = json::parse(as_json.out);
  CHECK_FALSE(report.at("ok").as_bool());
  const json::value& problem = report.at("first_problem");
  REQUIRE(problem.is_object());
  CHECK(as_number(problem.at("zone")) == zone);
  CHECK(as_number(problem.at("seq")) == bad);
  CHECK(as_text(problem.at("kind")) == "damaged_log");
  CHECK_SAYS(as_text(problem.at("message")), record);
  for (const json::value& verdict : report.at("streams").as_array())
    CHECK(verdict.at("ok").as_bool() == (as_number(verdict.at("zone")) != zone));
  const Run other_zone = run({"replay", "verify", "--data", copy.string(), "--zone", "1"});
  REQUIRE_RUN_OK(other_zone);

  // Up to the damage the zone still replays; from the snapshot at the head too, since that
  // reads no event before it (verify is what reads them all). Through it, every command fails
  // naming the record.
  CHECK(state_hash(copy, zone, bad - 1) == before_damage);
  CHECK(state_hash(copy, zone) == head_hash);
  const std::vector<std::vector<std::string>> through_damage = {
      replay_args("state", copy, zone, {"--at", std::to_string(bad + 1)}),
      replay_args("step", copy, zone, {"--from", std::to_string(bad - 1), "--count", "3"}),
      replay_args("diff", copy, zone, {"--from", "1", "--to", std::to_string(bad + 1)}),
      replay_args("bisect", copy, zone,
                  {"--invariant", "hp_in_bounds", "--to", std::to_string(bad + 1)}),
      {"replay", "export", "--data", copy.string(), "--out", (dir / "export.jsonl").string()},
  };
  for (const auto& args : through_damage) {
    CAPTURE(args[1]);
    const Run failed = run(args);
    CHECK(failed.status == 1);
    // The log names the record when a read fails, the fold when the record it was handed
    // does not decode (a fold checks envelopes, not hashes: verify checks those).
    CHECK_MESSAGE((contains(failed.err, record) || contains(failed.err, where)), failed.err);
  }
  CHECK_FALSE(fs::exists(dir / "export.jsonl")); // no half export passes for a whole one
}

TEST_CASE("replay verify names a snapshot past the head of a stream that was cut off") {
  TempDir dir;
  const fs::path copy = copy_of_demo(dir);
  constexpr StreamId zone = damaged_zone;
  const json::value clean = run_json(replay_args("verify", copy, zone, {"--json"}));
  const json::value verdict = verdict_of(clean, zone);
  const json::array& snapshots = verdict.at("snapshots").as_array();
  REQUIRE_FALSE(snapshots.empty());
  const Seq snapshot = as_number(snapshots.back().at("seq"));
  REQUIRE(snapshot > 2);
  cut_off(copy, zone, snapshot);

  const Run verified = run(replay_args("verify", copy, zone, {"--json"}));
  CHECK(verified.status == 1);
  CHECK_SAYS(verified.err, fmt::format("replay verify failed: zone {} seq {}", zone, snapshot));
  const json::value report = json::parse(verified.out);
  const json::value& problem = report.at("first_problem");
  CHECK(as_text(problem.at("kind")) == "bad_snapshot");
  CHECK(as_number(problem.at("seq")) == snapshot);
  CHECK_SAYS(as_text(problem.at("message")), fmt::format("is past the head, seq {}", snapshot - 1));
  // A replay skips the snapshot it cannot use and folds from scratch.
  const json::value rebuilt = run_json(replay_args("state", copy, zone, {"--json"}));
  CHECK(as_number(rebuilt.at("seq")) == snapshot - 1);
  CHECK(as_number(rebuilt.at("from_snapshot")) == 0);
  CHECK(as_text(rebuilt.at("state_hash")) == state_hash(demo_log(), zone, snapshot - 1));
}

TEST_CASE("replay export and import round trip, and the imported log replays the same states") {
  TempDir dir;
  const Run exported = run(
      {"replay", "export", "--data", demo_log().string(), "--out", (dir / "log.jsonl").string()});
  REQUIRE_RUN_OK(exported);
  const Run imported = run({"replay", "import", "--data", (dir / "copy").string(), "--in",
                            (dir / "log.jsonl").string()});
  REQUIRE_RUN_OK(imported);

  // Snapshots are not exported: the imported log verifies from scratch alone, to the same
  // head hashes, and rebuilds the same states without them.
  const json::value original =
      run_json({"replay", "verify", "--data", demo_log().string(), "--json"});
  const json::value copy =
      run_json({"replay", "verify", "--data", (dir / "copy").string(), "--json"});
  CHECK(copy.at("ok").as_bool());
  REQUIRE(copy.at("streams").as_array().size() == original.at("streams").as_array().size());
  for (const json::value& verdict : copy.at("streams").as_array()) {
    const StreamId zone = as_number(verdict.at("zone"));
    CAPTURE(zone);
    CHECK(verdict.at("snapshots").as_array().empty());
    CHECK(verdict.at("head_hash") == verdict_of(original, zone).at("head_hash"));
    const json::value state = run_json(replay_args("state", dir / "copy", zone, {"--json"}));
    CHECK(as_number(state.at("from_snapshot")) == 0);
    CHECK(as_text(state.at("state_hash")) == state_hash(demo_log(), zone));
  }
  const Run printed = run({"replay", "verify", "--data", (dir / "copy").string()});
  REQUIRE_RUN_OK(printed);
  CHECK_SAYS(printed.out, "no stored snapshot to compare");

  // One zone, imported alone, replays to the same states: positions are not part of a state.
  const Run one_zone = run({"replay", "export", "--data", demo_log().string(), "--zone",
                            std::to_string(damaged_zone), "--out", (dir / "zone.jsonl").string()});
  REQUIRE_RUN_OK(one_zone);
  const Run zone_imported = run({"replay", "import", "--data", (dir / "zone").string(), "--in",
                                 (dir / "zone.jsonl").string()});
  REQUIRE_RUN_OK(zone_imported);
  const json::value zone_verified =
      run_json(replay_args("verify", dir / "zone", damaged_zone, {"--json"}));
  CHECK(zone_verified.at("ok").as_bool());
  CHECK(verdict_of(zone_verified, damaged_zone).at("head_hash") ==
        verdict_of(original, damaged_zone).at("head_hash"));
}

TEST_CASE("replay and audit refuse bad input, naming it, and never create a log") {
  TempDir dir;
  const fs::path missing = dir / "missing";
  const fs::path empty = dir / "empty";
  fs::create_directory(empty);
  const std::vector<std::vector<std::string>> commands = {
      {"replay", "state", "--zone", "1"},
      {"replay", "step", "--zone", "1", "--from", "1"},
      {"replay", "verify"},
      {"replay", "diff", "--zone", "1", "--from", "1", "--to", "2"},
      {"replay", "bisect", "--zone", "1", "--invariant", "hp_in_bounds"},
      {"replay", "export"},
      {"audit", "player", "--player", "1"},
      {"audit", "verify"},
      {"audit", "anchor"},
  };
  for (const auto& command : commands) {
    CAPTURE(fmt::format("{} {}", command[0], command[1]));
    auto with_data = [&command](const fs::path& data) {
      auto args = command;
      args.insert(args.end(), {"--data", data.string()});
      return args;
    };
    const Run no_dir = run(with_data(missing));
    CHECK(no_dir.status == 1);
    CHECK_SAYS(no_dir.err, fmt::format("no worldlog data at {}", missing.string()));
    CHECK_FALSE(fs::exists(missing));
    const Run no_log = run(with_data(empty));
    CHECK(no_log.status == 1);
    CHECK_SAYS(no_log.err, fmt::format("no event log at {}", empty.string()));
    CHECK(fs::is_empty(empty));
  }

  // A zone the log does not have.
  const std::string data = demo_log().string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           replay_args("state", demo_log(), 99),
           replay_args("step", demo_log(), 99, {"--from", "1"}),
           replay_args("verify", demo_log(), 99),
           replay_args("diff", demo_log(), 99, {"--from", "1", "--to", "2"}),
           replay_args("bisect", demo_log(), 99, {"--invariant", "hp_in_bounds"})}) {
    CAPTURE(args[1]);
    const Run nothing = run(args);
    CHECK(nothing.status == 1);
    CHECK_SAYS(nothing.err, fmt::format("zone 99 has no events in {}", data));
  }
  const Run export_nothing = run({"replay", "export", "--data", data, "--zone", "99"});
  CHECK(export_nothing.status == 1);
  CHECK_SAYS(export_nothing.err, "stream 99 has no events");

  // Seqs the zone does not have: 0 (there is no state before the genesis) and past the head;
  // the last argument is the wrong seq.
  const Seq head = head_of(demo_log(), 2);
  const std::string past = std::to_string(head + 1);
  for (const auto& args : std::vector<std::vector<std::string>>{
           replay_args("state", demo_log(), 2, {"--at", "0"}),
           replay_args("state", demo_log(), 2, {"--at", past}),
           replay_args("step", demo_log(), 2, {"--from", "0"}),
           replay_args("step", demo_log(), 2, {"--from", past}),
           replay_args("diff", demo_log(), 2, {"--to", "2", "--from", "0"}),
           replay_args("diff", demo_log(), 2, {"--from", "1", "--to", past}),
           replay_args("bisect", demo_log(), 2, {"--invariant", "inside_map", "--to", past})}) {
    CAPTURE(fmt::format("{} {}", args[1], args.back()));
    const Run wrong = run(args);
    CHECK(wrong.status == 1);
    CHECK_SAYS(wrong.err, fmt::format("zone 2 has no event at seq {} (its events are 1..{})",
                                      args.back(), head));
  }

  // Malformed options.
  const Run noon = run(replay_args("state", demo_log(), 2, {"--at-time", "noon"}));
  CHECK(noon.status == 1);
  CHECK_SAYS(noon.err, "--at-time: ");
  CHECK_SAYS(noon.err, "'noon' is not a time");
  const Run month13 = run(replay_args("state", demo_log(), 2, {"--at-time", "2024-13-01"}));
  CHECK(month13.status == 1);
  CHECK_SAYS(month13.err, "'2024-13-01'");
  const Run both =
      run(replay_args("state", demo_log(), 2, {"--at", "3", "--at-time", "2024-01-01"}));
  CHECK(both.status != 0);
  CHECK_SAYS(both.err, "--at excludes --at-time");
  const Run no_count = run(replay_args("step", demo_log(), 2, {"--from", "1", "--count", "0"}));
  CHECK(no_count.status != 0);
  CHECK_SAYS(no_count.err, "--count");
  const Run no_zone = run({"replay", "state", "--data", data});
  CHECK(no_zone.status != 0);
  CHECK_SAYS(no_zone.err, "--zone is required");
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

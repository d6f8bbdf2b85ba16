// The `worldlog` binary end to end, as a user runs it: the demo writes a log, then the audit
// and export subcommands run on it, on copies of it (some tampered with), and on the log of a
// demo that is still running (which the replay subcommands read too).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

// Boost.JSON compiled into this test (cli_tests links only the engine): it parses what
// `--json` prints.
#include <boost/json/src.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"
#include "support/dir_contents.hpp"

namespace worldlog::test {
namespace {

using Clock = std::chrono::steady_clock;

/// How long to wait for a demo to start writing: only a hang (a bug) takes this long.
constexpr auto patience = std::chrono::seconds(120);

/// The player whose actions the tests audit; the demo seats players 1..N.
constexpr std::uint64_t audited_player = 7;

/// A refused command recorded for the audited player: the payload of a zone::CommandRejected,
/// zone::encode_command_rejected({5 /* game::Reject::teleport */, "a move of 59500 mm in 1
/// tick; the limit is 250 mm", "Move", game::Model::encode_command(game::move(7, {90000,
/// 500}))}), in hex. (This test links only the engine, which knows no zones or games.)
constexpr std::string_view rejected_move_hex =
    "100000000c001400040008000c0010000c000000050000005c0000004c000000040000004000000010000000574c"
    "474308000c000700080008000000000000030c00000008001c001400040008000000905f010000000000f40100"
    "00000000000700000000000000040000004d6f7665000000003100000061206d6f7665206f6620353935303020"
    "6d6d20696e2031207469636b3b20746865206c696d697420697320323530206d6d000000";
constexpr std::uint32_t command_rejected_payload_type = 0xffff0002;

std::string from_hex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return bytes;
}

/// Runs `worldlog args...` to the end on a disk that fills up: no file it writes may grow past
/// `max_file_bytes` (RLIMIT_FSIZE, with SIGXFSZ ignored, so such a write fails with EFBIG).
Run run_on_a_full_disk(const std::vector<std::string>& args, rlim_t max_file_bytes) {
  const TempDir scratch("worldlog-cli-run-");
  std::vector<std::string> argv_strings;
  std::vector<char*> argv = exec_argv(args, argv_strings);
  const std::string out_path = (scratch / "stdout").string();
  const std::string err_path = (scratch / "stderr").string();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    const rlimit limit{max_file_bytes, max_file_bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    ::signal(SIGXFSZ, SIG_IGN);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return finish(pid, scratch.path());
}

TEST_SUITE_BEGIN("cli");

TEST_CASE("demo fails naming how many commands were lost when its zones cannot append") {
  TempDir dir;
  // No file may grow past 128 KiB: the zones' appends fail once the WAL reaches it (a few
  // hundred events in), and the commands waiting for them are lost. (The info LOG may hit the
  // limit too: the log writes it itself and ignores that, where RocksDB's own logger aborted.)
  const Run demo = run_on_a_full_disk(
      {"demo", "--data", (dir / "full").string(), "--seconds", "3", "--players", "40"}, 128 << 10);
  CHECK(demo.status == 1);
  CHECK_FALSE(contains(demo.out, "worldlog: verified"));
  CHECK_SAYS(demo.err, "commands were lost (");
  CHECK_SAYS(demo.err, "io_error");
}

TEST_CASE("audit player lists one player's actions across zones, accepted and refused") {
  TempDir dir;
  const fs::path copy = copy_of_demo(dir);
  std::vector<Event> expected;
  {
    // Record a refused command of the player, as a zone would have.
    auto log = open_log(copy, log::Options{});
    const StreamId zone = log->streams().back();
    NewEvent refused = make_event(command_rejected_payload_type, from_hex(rejected_move_hex),
                                  {ActorKind::player, audited_player});
    refused.command_id = 4242;
    refused.rules_version = 1;
    append_one(*log, zone, log->head(zone), refused);
    auto actions = log->read_actor({ActorKind::player, audited_player}, 1, everything);
    REQUIRE_OK(actions);
    expected = std::move(actions).value();
  }
  REQUIRE(expected.size() >= 2); // the demo's player joined, at least

  const std::string player = std::to_string(audited_player);
  const Run text = run({"audit", "player", "--data", copy.string(), "--player", player});
  REQUIRE_RUN_OK(text);
  const auto lines = lines_of(text.out);
  REQUIRE(lines.size() == expected.size() + 1);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(lines[i]);
    CHECK(contains(lines[i], fmt::format("zone {}", expected[i].stream())));
    CHECK(contains(lines[i], fmt::format("seq {}", expected[i].seq())));
  }
  CHECK_SAYS(lines.front(), "Joined");
  CHECK_SAYS(lines[expected.size() - 1], "REFUSED Move");
  CHECK_SAYS(lines[expected.size() - 1],
             "teleport (code 5): a move of 59500 mm in 1 tick; the limit is 250 mm");
  CHECK_SAYS(lines.back(), fmt::format("player {}: {} actions", player, expected.size()));
  CHECK_SAYS(lines.back(), fmt::format("{} accepted, 1 refused", expected.size() - 1));

  const Run as_json =
      run({"audit", "player", "--data", copy.string(), "--player", player, "--json"});
  REQUIRE_RUN_OK(as_json);
  const json::value document = json::parse(as_json.out);
  const json::array& actions = document.at("actions").as_array();
  REQUIRE(actions.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(actions[i].at("zone").to_number<std::uint64_t>() == expected[i].stream());
    CHECK(actions[i].at("seq").to_number<std::uint64_t>() == expected[i].seq());
    CHECK(actions[i].at("wall_time_us").to_number<std::int64_t>() == expected[i].wall_time_us());
  }
  const json::value& refused = actions.back();
  CHECK_FALSE(refused.at("accepted").as_bool());
  CHECK(refused.at("name").as_string() == "Move");
  CHECK(refused.at("reject").as_string() == "teleport");
  CHECK(refused.at("command_id").to_number<std::uint64_t>() == 4242);
  CHECK(refused.at("event").at("command").at("to") == json::parse("[90000,500]"));
  CHECK(document.at("refused").to_number<std::uint64_t>() == 1);

  // A time window: from the second action on, and before it.
  const std::string second = std::to_string(expected[1].wall_time_us());
  std::size_t from_second = 0;
  for (const auto& event : expected)
    from_second += event.wall_time_us() >= expected[1].wall_time_us() ? 1 : 0;
  const Run later = run(
      {"audit", "player", "--data", copy.string(), "--player", player, "--from", second, "--json"});
  REQUIRE_RUN_OK(later);
  CHECK(json::parse(later.out).at("actions").as_array().size() == from_second);
  const Run earlier = run(
      {"audit", "player", "--data", copy.string(), "--player", player, "--to", second, "--json"});
  REQUIRE_RUN_OK(earlier);
  CHECK(json::parse(earlier.out).at("actions").as_array().size() == expected.size() - from_second);

  const Run nobody = run({"audit", "player", "--data", copy.string(), "--player", "999999"});
  REQUIRE_RUN_OK(nobody);
  CHECK_SAYS(nobody.out, "player 999999: no actions");
  const Run bad_time =
      run({"audit", "player", "--data", copy.string(), "--player", player, "--from", "noon"});
  CHECK(bad_time.status == 1);
  CHECK_SAYS(bad_time.err, "'noon' is not a time");
}

TEST_CASE("audit verify and anchor pass on the demo log and its anchors") {
  const Run verified = run({"audit", "verify", "--data", demo_log().string()});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "audit ok");
  CHECK_SAYS(verified.out, "log order: positions 1 to");

  TempDir dir;
  const Run anchored = run({"audit", "anchor", "--data", demo_log().string()});
  REQUIRE_RUN_OK(anchored);
  auto log = open_log(demo_log(), {.read_only = true});
  for (const StreamId stream : log->streams()) {
    const Seq head = log->head(stream);
    auto events = log->read_stream(stream, head, 1);
    REQUIRE_OK(events);
    CHECK_SAYS(anchored.out, fmt::format("stream {} seq {} hash {}", stream, head,
                                         log::to_hex(events->front().hash())));
  }
  std::ofstream(dir / "anchors") << anchored.out;
  const Run against = run(
      {"audit", "verify", "--data", demo_log().string(), "--anchors", (dir / "anchors").string()});
  REQUIRE_RUN_OK(against);
  CHECK_SAYS(against.out, fmt::format("{} anchors matched", log->streams().size()));

  std::ofstream(dir / "garbage") << "stream 1 seq x\n";
  const Run garbage = run(
      {"audit", "verify", "--data", demo_log().string(), "--anchors", (dir / "garbage").string()});
  CHECK(garbage.status == 1);
  CHECK_SAYS(garbage.err, "line 1");
}

TEST_CASE("export then import rebuilds an identical log") {
  TempDir dir;
  const Run exported = run({"replay", "export", "--data", demo_log().string(), "--format", "jsonl",
                            "--out", (dir / "log.jsonl").string()});
  REQUIRE_RUN_OK(exported);
  const Run imported = run({"replay", "import", "--data", (dir / "copy").string(), "--in",
                            (dir / "log.jsonl").string()});
  REQUIRE_RUN_OK(imported);
  CHECK_SAYS(imported.out, "every record's position and hash match its line");

  {
    auto original = open_log(demo_log(), {.read_only = true});
    auto copy = open_log(dir / "copy", {.read_only = true});
    CHECK(copy->streams() == original->streams());
    const auto all = read_all_events(*original);
    const auto rebuilt = read_all_events(*copy);
    REQUIRE(rebuilt.size() == all.size());
    std::size_t different = 0;
    for (std::size_t i = 0; i < all.size(); ++i)
      different += rebuilt[i].view().record() == all[i].view().record() ? 0 : 1;
    CHECK(different == 0);
  }
  const Run anchored = run({"audit", "anchor", "--data", demo_log().string()});
  REQUIRE_RUN_OK(anchored);
  std::ofstream(dir / "anchors") << anchored.out;
  const Run verified = run({"audit", "verify", "--data", (dir / "copy").string(), "--anchors",
                            (dir / "anchors").string()});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "anchors matched");

  // Through stdout and stdin, as in a pipe; and never into a directory that holds something.
  const Run to_stdout = run({"replay", "export", "--data", (dir / "copy").string()});
  REQUIRE_RUN_OK(to_stdout);
  CHECK(to_stdout.out == read_file(dir / "log.jsonl"));
  const Run refused = run({"replay", "import", "--data", (dir / "copy").string(), "--in",
                           (dir / "log.jsonl").string()});
  CHECK(refused.status == 1);
  CHECK_SAYS(refused.err, "not an empty directory");
  const Run from_stdin =
      run({"replay", "import", "--data", (dir / "again").string()}, dir / "log.jsonl");
  REQUIRE_RUN_OK(from_stdin);

  // A damaged export is refused naming its line, and leaves no half-built log behind.
  auto lines = lines_of(read_file(dir / "log.jsonl"));
  REQUIRE(lines.size() > 10);
  const auto at = lines[10].find("\"payload\":\"") + 11;
  lines[10][at] = lines[10][at] == 'A' ? 'B' : 'A';
  {
    std::ofstream damaged(dir / "damaged.jsonl");
    for (const auto& line : lines)
      damaged << line << '\n';
  }
  const Run damaged = run({"replay", "import", "--data", (dir / "bad").string(), "--in",
                           (dir / "damaged.jsonl").string()});
  CHECK(damaged.status == 1);
  CHECK_SAYS(damaged.err, "line 11");
  CHECK_FALSE(fs::exists(dir / "bad"));

  // One zone, for a bug report about it.
  const Run one_zone = run({"replay", "export", "--data", demo_log().string(), "--zone", "2",
                            "--out", (dir / "zone2.jsonl").string()});
  REQUIRE_RUN_OK(one_zone);
  const Run zone_imported = run({"replay", "import", "--data", (dir / "zone2").string(), "--in",
                                 (dir / "zone2.jsonl").string()});
  REQUIRE_RUN_OK(zone_imported);
  auto zone2 = open_log(dir / "zone2", {.read_only = true});
  CHECK(zone2->streams() == std::vector<StreamId>{2});
  CHECK(zone2->head(2) == head_of(demo_log(), 2));
}

TEST_CASE("verify fails on a stream cut off at its tail, naming the stream and its seqs") {
  TempDir dir;
  const fs::path copy = copy_of_demo(dir);
  constexpr StreamId stream = damaged_zone;
  const Seq head = head_of(copy, stream);
  REQUIRE(head > 10);
  const Run intact = run({"verify", "--data", copy.string()});
  REQUIRE_RUN_OK(intact);

  // Its two newest records go, with their positions: every chain left is intact.
  cut_off(copy, stream, head - 1);
  const Run verified = run({"verify", "--data", copy.string()});
  CHECK(verified.status == 1);
  CHECK_SAYS(verified.out, fmt::format("stream {}: {} events ok", stream, head - 2));
  CHECK_SAYS(verified.err, fmt::format("stream {} ends at seq {}", stream, head - 2));
  CHECK_SAYS(verified.err,
             fmt::format("names seq {}: its events {}..{} are lost", head, head - 1, head));
  CHECK_FALSE(contains(verified.out, "all chains ok"));

  const Run this_stream =
      run({"verify", "--data", copy.string(), "--stream", std::to_string(stream)});
  CHECK(this_stream.status == 1);
  CHECK_SAYS(this_stream.err, fmt::format("stream {} ends at seq {}", stream, head - 2));
  const Run other_stream = run({"verify", "--data", copy.string(), "--stream", "1"});
  REQUIRE_RUN_OK(other_stream);
}

TEST_CASE("a damaged WAL is refused by every command, naming it, and repair says what it drops") {
  TempDir dir;
  const fs::path copy = copy_of_demo(dir);
  fs::path wal; // the largest WAL file: the demo's events are in it, not yet in a table file
  std::uintmax_t largest = 0;
  for (const auto& entry : fs::directory_iterator(copy)) {
    if (entry.path().extension() == ".log" && fs::file_size(entry) > largest) {
      largest = fs::file_size(entry);
      wal = entry.path();
    }
  }
  REQUIRE(largest > (64 << 10));
  {
    std::fstream io(wal, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(fs::file_size(wal) / 2);
    io.seekg(middle);
    const char byte = static_cast<char>(io.get());
    io.seekp(middle);
    io.put(static_cast<char>(byte ^ 0x5a));
  }
  const auto data_files = [&] {
    auto contents = dir_contents(copy);
    std::erase_if(contents, [](const auto& entry) { return entry.first.starts_with("LOG"); });
    return contents;
  };
  const auto before = data_files();

  const Run demo = run({"demo", "--data", copy.string(), "--seconds", "1", "--players", "4"});
  CHECK(demo.status == 1);
  CHECK_SAYS(demo.err, fmt::format("the first damage is in {} at byte", wal.string()));
  CHECK_SAYS(demo.err, "checksum mismatch");
  const Run verify = run({"verify", "--data", copy.string()});
  CHECK(verify.status == 1);
  CHECK_SAYS(verify.err, wal.filename().string());
  const Run trial = run({"repair", "--data", copy.string()});
  REQUIRE_RUN_OK(trial);
  CHECK_SAYS(trial.out, "a repair would keep");
  CHECK_SAYS(trial.out, "nothing was changed");
  CHECK_CONTENTS_UNCHANGED(before, data_files());

  const Run repaired = run({"repair", "--data", copy.string(), "--yes"});
  REQUIRE_RUN_OK(repaired);
  CHECK_SAYS(repaired.out, "repaired");
  fs::path aside = copy;
  aside += ".damaged-1";
  CHECK(read_file(aside / wal.filename()) == before.at(wal.filename().string()));
  const Run verified = run({"verify", "--data", copy.string()});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "all chains ok");
}

TEST_CASE("a failed import removes what it created and nothing that was there before") {
  TempDir dir;
  std::ofstream(dir / "bad.jsonl") << "this is not an export\n";
  const auto import_bad = [&](const fs::path& data) {
    const Run imported =
        run({"replay", "import", "--data", data.string(), "--in", (dir / "bad.jsonl").string()});
    CHECK(imported.status == 1);
    CHECK_SAYS(imported.err, "line 1");
    return imported;
  };

  // A directory the import made is gone again.
  import_bad(dir / "new");
  CHECK_FALSE(fs::exists(dir / "new"));

  // An empty directory that was there stays, empty.
  fs::create_directory(dir / "empty");
  import_bad(dir / "empty");
  CHECK(fs::is_directory(dir / "empty"));
  CHECK(fs::is_empty(dir / "empty"));

  // A directory with something in it is refused, and keeps every byte.
  fs::create_directory(dir / "full");
  std::ofstream(dir / "full" / "mine.txt") << "not the import's\n";
  const auto before = dir_contents(dir / "full");
  const Run refused = run({"replay", "import", "--data", (dir / "full").string(), "--in",
                           (dir / "bad.jsonl").string()});
  CHECK(refused.status == 1);
  CHECK_SAYS(refused.err, "not an empty directory");
  CHECK_CONTENTS_UNCHANGED(before, dir_contents(dir / "full"));
}

TEST_CASE("an import killed half way leaves no log where the log was to be") {
  TempDir dir;
  const fs::path exported = dir / "demo.jsonl";
  const Run exporting =
      run({"replay", "export", "--data", demo_log().string(), "--out", exported.string()});
  REQUIRE_RUN_OK(exporting);
  const auto lines = lines_of(read_file(exported));
  REQUIRE(lines.size() > 100);
  const fs::path fifo = dir / "export.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const fs::path target = dir / "imported";
  const TempDir scratch("worldlog-cli-run-");
  const pid_t pid =
      start({"replay", "import", "--data", target.string(), "--in", fifo.string()}, scratch.path());
  {
    std::ofstream feed(fifo); // open once the import opens it to read
    for (std::size_t i = 0; i < lines.size() / 2; ++i)
      feed << lines[i] << '\n';
    feed.flush();
    // Half the events are in, and the import waits for more: it is killed.
    const auto building = [&] {
      for (const auto& entry : fs::directory_iterator(dir.path()))
        if (entry.path().filename().string().starts_with(".imported.importing-") &&
            fs::exists(entry.path() / "log" / "CURRENT"))
          return true;
      return false;
    };
    const auto deadline = Clock::now() + patience;
    while (!building() && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(building());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(pid, SIGKILL);
  }
  static_cast<void>(finish(pid, scratch.path()));
  CHECK_FALSE(fs::exists(target));
}

TEST_CASE("audit verify names the stream and seq of a tampered record") {
  TempDir dir;
  const fs::path copy = copy_of_demo(dir);
  constexpr StreamId stream = damaged_zone;
  const Seq head = head_of(copy, stream);
  REQUIRE(head > 10);
  const Seq bad = head / 2;
  std::string words = fmt::format("stream {} seq {}", stream, bad);

  SUBCASE("one byte of a record changed") { damage(copy, stream, bad, Damage::flipped_byte); }
  SUBCASE("a record deleted") { damage(copy, stream, bad, Damage::deleted_record); }
  SUBCASE("two records swapped") { damage(copy, stream, bad, Damage::swapped_records); }
  SUBCASE("the last record cut off") {
    RawDb raw(copy.string());
    raw.remove(format::events_cf, format::as_view(format::stream_seq_key(stream, head)));
    // Its positions index entry stays, and the log's order no longer holds.
    words = fmt::format("stream {} seq {}: missing", stream, head);
  }
  const Run verified = run({"audit", "verify", "--data", copy.string()});
  CHECK(verified.status == 1);
  CHECK_SAYS(verified.err, words);
  CHECK_SAYS(verified.out, "TAMPERED");
}

TEST_CASE("anchors catch a rewrite of the whole log and a truncated stream") {
  TempDir dir;
  const fs::path copy = copy_of_demo(dir);
  const Run anchored = run({"audit", "anchor", "--data", copy.string()});
  REQUIRE_RUN_OK(anchored);
  std::ofstream(dir / "anchors") << anchored.out;
  constexpr StreamId stream = 2;
  const Seq head = head_of(copy, stream);
  REQUIRE(head > 10);

  SUBCASE("a record changed and the chain after it recomputed") {
    {
      RawDb raw(copy.string());
      log::Hash prev = log::EventView(raw_record(raw, stream, head / 2 - 1)).hash();
      for (Seq seq = head / 2; seq <= head; ++seq) {
        std::string record = raw_record(raw, stream, seq);
        if (seq == head / 2) flip_payload_byte(record);
        const log::EventView view(record);
        prev = format::seal(record, seq, view.position(), view.wall_time_us(), prev);
        put_raw_record(raw, stream, seq, record);
      }
    }
    // Every chain is intact again: only the anchors can tell.
    const Run unanchored = run({"audit", "verify", "--data", copy.string()});
    REQUIRE_RUN_OK(unanchored);
    const Run verified =
        run({"audit", "verify", "--data", copy.string(), "--anchors", (dir / "anchors").string()});
    CHECK(verified.status == 1);
    CHECK_SAYS(verified.err, fmt::format("stream {} seq {} was rewritten", stream, head));
  }
  SUBCASE("the newest records of a stream cut off with their index entries") {
    cut_off(copy, stream, head - 1);
    const Run verified =
        run({"audit", "verify", "--data", copy.string(), "--anchors", (dir / "anchors").string()});
    CHECK(verified.status == 1);
    CHECK_SAYS(verified.out,
               fmt::format("stream {} was truncated: it ends at seq {}", stream, head - 2));
  }
}

TEST_CASE("replay, audit and export read the log of a demo that is still running") {
  TempDir dir;
  const fs::path data = dir / "live";
  const TempDir demo_scratch("worldlog-cli-live-");
  const pid_t demo = start({"demo", "--data", data.string(), "--seconds", "6", "--players", "40"},
                           demo_scratch.path());
  // Wait until the demo's log exists and holds events; each try is a reader opening it.
  Run verified;
  for (const auto deadline = Clock::now() + patience; Clock::now() < deadline;) {
    verified = run({"audit", "verify", "--data", data.string()});
    if (verified.status == 0 && !contains(verified.out, "audit ok: 0 streams")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE_RUN_OK(verified);
  const Run player = run({"audit", "player", "--data", data.string(), "--player", "1"});
  REQUIRE_RUN_OK(player);
  CHECK_SAYS(player.out, "player 1: ");
  const Run replayed = run({"replay", "verify", "--data", data.string(), "--zone", "1"});
  REQUIRE_RUN_OK(replayed);
  CHECK_SAYS(replayed.out, "1 zone verified");
  const json::value state = run_json(replay_args("state", data, 1, {"--json"}));
  CHECK(as_number(state.at("seq")) == as_number(state.at("head")));
  CHECK(as_number(state.at("seq")) >= 1);
  const Run exported =
      run({"replay", "export", "--data", data.string(), "--out", (dir / "live.jsonl").string()});
  REQUIRE_RUN_OK(exported);
  const Run imported = run({"replay", "import", "--data", (dir / "copy").string(), "--in",
                            (dir / "live.jsonl").string()});
  REQUIRE_RUN_OK(imported);

  const Run demo_run = finish(demo, demo_scratch.path());
  REQUIRE_RUN_OK(demo_run);
  CHECK_SAYS(demo_run.out, "worldlog: verified");
  const Run after = run({"audit", "verify", "--data", data.string()});
  REQUIRE_RUN_OK(after);
  // The export taken while it ran is a prefix of the finished log.
  auto finished = open_log(data, {.read_only = true});
  auto copy = open_log(dir / "copy", {.read_only = true});
  const auto prefix = read_all_events(*copy);
  REQUIRE_FALSE(prefix.empty());
  const auto all = read_all_events(*finished);
  REQUIRE(all.size() >= prefix.size());
  std::size_t different = 0;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    different += prefix[i].view().record() == all[i].view().record() ? 0 : 1;
  CHECK(different == 0);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

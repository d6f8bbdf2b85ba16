// Running the `worldlog` binary from tests, as a user runs it: the demo's log (written once
// per test process), copies of it damaged the ways an attacker with the files could, and
// small helpers for the replay subcommands' --json output.
//
// Boost.JSON is compiled into cli_test.cpp (cli_tests links only the engine).
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "log/format.hpp"
#include "support/log_helpers.hpp"
#include "support/raw_db.hpp"
#include "support/temp_dir.hpp"

#ifndef WORLDLOG_BINARY
#error "WORLDLOG_BINARY must name the worldlog executable"
#endif

extern char** environ;

namespace worldlog::test {

namespace format = log::format;
namespace fs = std::filesystem;
namespace json = boost::json;

/// What a finished run of the binary printed and how it ended.
struct Run {
  int status = -1; ///< exit status; -1 when it could not run or was killed
  std::string out;
  std::string err;
};

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// `binary args...` as an exec takes it: pointers into `strings` (which holds the text and
/// must outlive them), ending with nullptr.
inline std::vector<char*> exec_argv(const std::vector<std::string>& args,
                                    std::vector<std::string>& strings,
                                    const std::string& binary = WORLDLOG_BINARY) {
  strings = {binary};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : strings)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

/// Starts `binary args...` (`worldlog` by default) with stdout and stderr into files in
/// `scratch` (stdin from `in`, or /dev/null), and returns its pid.
inline pid_t start(const std::vector<std::string>& args, const fs::path& scratch,
                   const std::optional<fs::path>& in = std::nullopt,
                   const std::string& binary = WORLDLOG_BINARY) {
  std::vector<std::string> argv_strings;
  std::vector<char*> argv = exec_argv(args, argv_strings, binary);
  const std::string in_path = in ? in->string() : std::string("/dev/null");
  const std::string out_path = (scratch / "stdout").string();
  const std::string err_path = (scratch / "stderr").string();
  posix_spawn_file_actions_t actions;
  REQUIRE(::posix_spawn_file_actions_init(&actions) == 0);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in_path.c_str(), O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  REQUIRE_MESSAGE(spawned == 0, fmt::format("cannot run {}", binary));
  return pid;
}

/// Waits for a run started in `scratch` and collects what it printed.
inline Run finish(pid_t pid, const fs::path& scratch) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  Run run;
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(scratch / "stdout");
  run.err = read_file(scratch / "stderr");
  return run;
}

/// Runs `worldlog args...` to the end.
inline Run run(const std::vector<std::string>& args,
               const std::optional<fs::path>& in = std::nullopt) {
  const TempDir scratch("worldlog-cli-run-");
  return finish(start(args, scratch.path(), in), scratch.path());
}

/// Runs `binary args...` to the end: another program built on the log tools.
inline Run run_binary(const std::string& binary, const std::vector<std::string>& args) {
  const TempDir scratch("worldlog-cli-run-");
  return finish(start(args, scratch.path(), std::nullopt, binary), scratch.path());
}

inline std::string describe(const Run& result) {
  return fmt::format("exit {}\n--- stdout\n{}--- stderr\n{}", result.status, result.out,
                     result.err);
}

inline bool contains(std::string_view text, std::string_view words) {
  return text.find(words) != std::string_view::npos;
}

#define REQUIRE_RUN_OK(result) REQUIRE_MESSAGE((result).status == 0, describe(result))
#define CHECK_SAYS(text, words)                                                                    \
  CHECK_MESSAGE(contains((text), (words)), fmt::format("expected '{}' in:\n{}", (words), (text)))

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// A demo log, written once per test process (each CTest case is its own process).
inline const fs::path& demo_log() {
  static const TempDir dir("worldlog-cli-demo-");
  static const fs::path log = [] {
    const Run demo =
        run({"demo", "--data", (dir / "demo").string(), "--seconds", "3", "--players", "40"});
    REQUIRE_RUN_OK(demo);
    REQUIRE(contains(demo.out, "worldlog: verified"));
    return dir / "demo";
  }();
  return log;
}

/// A copy of the demo log in `dir`, to damage or to add to.
inline fs::path copy_of_demo(const TempDir& dir) {
  const fs::path copy = dir / "copy";
  fs::copy(demo_log(), copy, fs::copy_options::recursive);
  return copy;
}

/// The stored record of `stream` at `seq` in the closed log in `dir`, and a way to put it back.
inline std::string raw_record(RawDb& raw, StreamId stream, Seq seq) {
  return raw.get(format::events_cf, format::as_view(format::stream_seq_key(stream, seq)));
}
inline void put_raw_record(RawDb& raw, StreamId stream, Seq seq, const std::string& record) {
  raw.put(format::events_cf, format::as_view(format::stream_seq_key(stream, seq)), record);
}

inline Seq head_of(const fs::path& dir, StreamId stream) {
  auto log = open_log(dir, {.read_only = true});
  return log->head(stream);
}

/// Flips one byte of the payload of `record` (an envelope field no parser checks).
inline void flip_payload_byte(std::string& record) {
  const log::EventView view(record);
  REQUIRE_FALSE(view.payload().empty());
  const auto offset = static_cast<std::size_t>(view.payload().data() - record.data());
  record[offset] = static_cast<char>(record[offset] ^ 0x01);
}

/// The zone the tampering tests damage.
inline constexpr StreamId damaged_zone = 2;

/// How someone with the files damages a log: the cases every integrity check must name.
enum class Damage { flipped_byte, deleted_record, swapped_records };

/// Damages the record of `stream` at `seq` (and with swapped_records, the one after it) in the
/// closed log in `dir`.
inline void damage(const fs::path& dir, StreamId stream, Seq seq, Damage how) {
  RawDb raw(dir.string());
  switch (how) {
  case Damage::flipped_byte: {
    std::string record = raw_record(raw, stream, seq);
    flip_payload_byte(record);
    put_raw_record(raw, stream, seq, record);
    break;
  }
  case Damage::deleted_record:
    raw.remove(format::events_cf, format::as_view(format::stream_seq_key(stream, seq)));
    break;
  case Damage::swapped_records: {
    const std::string first = raw_record(raw, stream, seq);
    const std::string second = raw_record(raw, stream, seq + 1);
    put_raw_record(raw, stream, seq, second);
    put_raw_record(raw, stream, seq + 1, first);
    break;
  }
  }
}

/// Cuts `stream` of the closed log in `dir` off before `seq`: its records from there on and
/// their positions index entries go, as if they had never been written.
inline void cut_off(const fs::path& dir, StreamId stream, Seq seq) {
  std::vector<Event> newest;
  {
    auto log = open_log(dir, {.read_only = true});
    auto read = log->read_stream(stream, seq, everything);
    REQUIRE_OK(read);
    newest = std::move(read).value();
  }
  REQUIRE_FALSE(newest.empty());
  RawDb raw(dir.string());
  for (const auto& event : newest) {
    raw.remove(format::events_cf, format::as_view(format::stream_seq_key(stream, event.seq())));
    raw.remove(format::positions_cf, format::as_view(format::position_key(event.position())));
  }
}

// ---- running replay commands -------------------------------------------------------------------

/// `replay COMMAND --data DIR --zone ZONE`, then `more`.
inline std::vector<std::string> replay_args(std::string command, const fs::path& data,
                                            StreamId zone,
                                            const std::vector<std::string>& more = {}) {
  std::vector<std::string> args{"replay",      std::move(command), "--data",
                                data.string(), "--zone",           std::to_string(zone)};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// Runs a command that must succeed and print one JSON document, and parses it.
inline json::value run_json(const std::vector<std::string>& args) {
  const Run result = run(args);
  REQUIRE_RUN_OK(result);
  return json::parse(result.out);
}

/// Runs `binary args...`, which must succeed and print one JSON document, and parses it.
inline json::value run_binary_json(const std::string& binary,
                                   const std::vector<std::string>& args) {
  const Run result = run_binary(binary, args);
  REQUIRE_RUN_OK(result);
  return json::parse(result.out);
}

inline std::uint64_t as_number(const json::value& value) {
  return value.to_number<std::uint64_t>();
}
inline std::string as_text(const json::value& value) { return std::string(value.as_string()); }

/// The state hash `replay state --json` prints for `zone` after `seq` (nullopt: the head).
inline std::string state_hash(const fs::path& data, StreamId zone,
                              std::optional<Seq> seq = std::nullopt) {
  std::vector<std::string> more{"--json"};
  if (seq) more.insert(more.end(), {"--at", std::to_string(*seq)});
  return as_text(run_json(replay_args("state", data, zone, more)).at("state_hash"));
}

/// The verdict of `zone` in a `replay verify --json` document, null when it has none.
inline json::value verdict_of(const json::value& verified, StreamId zone) {
  for (const json::value& stream : verified.at("streams").as_array())
    if (as_number(stream.at("zone")) == zone) return stream;
  return nullptr;
}

} // namespace worldlog::test

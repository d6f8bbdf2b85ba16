// `worldlog analyze` on the demo's log, as a user runs it: the signals of the world and of each
// zone in text and as one JSON document, and bad input refused with the other commands' words.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"

namespace worldlog::test {
namespace {

/// The total of signal `name` in a scope of `analyze --json`; nullopt when it has none.
std::optional<double> total_of(const json::value& scope, std::string_view name) {
  for (const json::value& signal : scope.at("signals").as_array()) {
    if (signal.at("name").as_string() == name) return signal.at("total").to_number<double>();
  }
  return std::nullopt;
}

TEST_SUITE_BEGIN("cli/analyze");

TEST_CASE("analyze prints the demo log's signals for the world and each zone, in text and JSON") {
  const std::string data = demo_log().string();
  // The demo played 3 s: windows of half a second, closed as soon as the log is past them.
  const std::vector<std::string> args = {"analyze", "--data",     data, "--window",
                                         "0.5",     "--lateness", "0"};
  const Run text = run(args);
  REQUIRE_RUN_OK(text);
  CHECK_SAYS(text.out, "world (online");
  CHECK_SAYS(text.out, "zone 1 (online");
  CHECK_SAYS(text.out, "move_per_player");
  CHECK_SAYS(text.out, "anomalies:");

  auto json_args = args;
  json_args.push_back("--json");
  const json::value document = run_json(json_args);
  const auto log = open_log(demo_log(), {.read_only = true});
  CHECK(as_number(document.at("events")) == log->last_position());
  CHECK(as_number(document.at("options").at("window_us")) == 500'000);
  CHECK(document.at("anomalies").is_array());
  const json::array& scopes = document.at("scopes").as_array();
  const std::vector<StreamId> streams = log->streams();
  REQUIRE(scopes.size() == streams.size() + 1);
  CHECK(scopes[0].at("zone").is_null());
  // Every record is in the world and in its zone: the zones' totals add up to the world's.
  double zone_events = 0;
  double zone_moves = 0;
  std::int64_t zone_online = 0;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const json::value& scope = scopes[i + 1];
    CAPTURE(streams[i]);
    CHECK(as_number(scope.at("zone")) == streams[i]);
    REQUIRE(total_of(scope, "events").has_value());
    REQUIRE(total_of(scope, "commands_accepted").has_value());
    zone_events += *total_of(scope, "events");
    zone_moves += total_of(scope, "move").value_or(0);
    zone_online += scope.at("online").to_number<std::int64_t>();
  }
  const double world_events = total_of(scopes[0], "events").value_or(-1);
  CHECK(world_events == zone_events);
  CHECK(world_events > 0);
  CHECK(world_events <= static_cast<double>(log->last_position()));
  CHECK(total_of(scopes[0], "move").value_or(-1) == zone_moves);
  CHECK(zone_moves > 0);
  CHECK(scopes[0].at("online").to_number<std::int64_t>() == zone_online);
}

TEST_CASE("analyze refuses bad input, naming it, and never creates a log") {
  TempDir dir;
  const fs::path missing = dir / "missing";
  const fs::path empty = dir / "empty";
  fs::create_directory(empty);
  const Run no_dir = run({"analyze", "--data", missing.string()});
  CHECK(no_dir.status == 1);
  CHECK_SAYS(no_dir.err, fmt::format("no worldlog data at {}", missing.string()));
  CHECK_FALSE(fs::exists(missing));
  const Run no_log = run({"analyze", "--data", empty.string(), "--json"});
  CHECK(no_log.status == 1);
  CHECK_SAYS(no_log.err, fmt::format("no event log at {}", empty.string()));
  CHECK(fs::is_empty(empty));
  const Run bad_window = run({"analyze", "--data", demo_log().string(), "--window", "0"});
  CHECK(bad_window.status == 1);
  CHECK_SAYS(bad_window.err, "--window must be at least 0.001 s");
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// The export format: export then import gives a byte-identical log; every line is checked as
// it is imported, and a damaged, reordered, cut or foreign export is refused naming its line.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/game/model.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/records.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

namespace json = boost::json;
using replay::export_log;
using replay::import_log;

constexpr std::int64_t base_time = 1'700'000'000'000'000; // 2023-11-14T22:13:20Z, in µs

/// Every byte value, and lengths 0 to 3 around base64's groups of three.
std::string payload_of(std::size_t i) {
  std::string payload;
  for (std::size_t b = 0; b < i % 5; ++b)
    payload += static_cast<char>((i * 37 + b * 101) % 256);
  if (i % 7 == 0) {
    for (int b = 0; b < 256; ++b)
      payload += static_cast<char>(b);
  }
  return payload;
}

/// A log of three interleaved streams whose events use every envelope field.
void write_source(EventLog& log, std::size_t events) {
  for (std::size_t i = 1; i <= events; ++i) {
    const StreamId stream = 1 + (i * 7 % 3);
    NewEvent event = make_event(static_cast<std::uint32_t>(i % 4 + 1), payload_of(i),
                                {static_cast<ActorKind>(i % 4), i % 5},
                                base_time + static_cast<std::int64_t>(i) * 1000);
    event.tick = i / 2;
    event.command_id = i % 3 == 0 ? 0 : 1000 + i;
    event.causation = i / 3;
    event.rules_version = 7;
    append_one(log, stream, log.head(stream), std::move(event));
  }
}

std::string export_text(const EventLog& log, const replay::ExportOptions& options = {}) {
  std::ostringstream out;
  auto exported = export_log(log, out, options);
  REQUIRE_OK(exported);
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::string text_of(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines)
    text += line + "\n";
  return text;
}

/// Imports `text` into a fresh log in `dir`.
Result<replay::ImportSummary> import_text(const std::filesystem::path& dir,
                                          const std::string& text) {
  auto log = open_log(dir);
  std::istringstream in(text);
  return import_log(*log, in);
}

/// Line `index` of `lines` (0 = the header) with `field` set to `value`.
void set_field(std::vector<std::string>& lines, std::size_t index, std::string_view field,
               json::value value) {
  json::value line = json::parse(lines.at(index));
  line.as_object()[field] = std::move(value);
  lines.at(index) = json::serialize(line);
}

template <typename R> void check_error_names(const R& result, Errc code, std::string_view words) {
  CHECK(error_code(result) == code);
  CHECK_MESSAGE(error_message(result).find(words) != std::string::npos,
                fmt::format("'{}' does not say '{}'", error_message(result), words));
}

TEST_SUITE_BEGIN("replay/export");

TEST_CASE("a whole-log export imports into a byte-identical log") {
  TempDir dir;
  auto source = open_log(dir / "source");
  write_source(*source, 60);
  const std::string text = export_text(*source);
  CHECK(lines_of(text).size() == 61);

  auto imported = import_text(dir / "copy", text);
  REQUIRE_OK(imported);
  CHECK(imported->events == 60);
  CHECK(imported->whole_log);
  CHECK(imported->streams == std::vector<StreamId>{1, 2, 3});

  auto copy = open_log(dir / "copy");
  const auto original = read_all_events(*source);
  const auto rebuilt = read_all_events(*copy);
  REQUIRE(rebuilt.size() == original.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    CAPTURE(i);
    CHECK(rebuilt[i].view().record() == original[i].view().record());
  }
  for (const StreamId stream : {1, 2, 3}) {
    CAPTURE(stream);
    CHECK(copy->head(stream) == source->head(stream));
    auto verified = copy->verify(stream);
    CHECK_OK(verified);
  }
  // The copy exports to the same text: the format is a function of the log.
  CHECK(export_text(*copy) == text);
}

TEST_CASE("the export format has a header line and one line per event with every field") {
  TempDir dir;
  auto log = open_log(dir / "log");
  NewEvent event = make_event(9, "hi!", {ActorKind::player, 42}, base_time + 123'456);
  event.tick = 5;
  event.command_id = 77;
  event.causation = 0;
  event.rules_version = 3;
  event.epoch = 6;
  event.payload_version = 2;
  event.command = "go";
  append_one(*log, 4, 0, event);
  const auto lines = lines_of(export_text(*log));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == R"({"format":"worldlog-export","version":2,"whole_log":true,"streams":[4],)"
                    R"("events":1})");
  const Event stored = read_all_events(*log).front();
  CHECK(lines[1] ==
        fmt::format(R"({{"position":1,"stream":4,"seq":1,"tick":5,"wall_time_us":{},)"
                    R"("wall_time":"2023-11-14T22:13:20.123456Z","actor":{{"kind":"player",)"
                    R"("id":42}},"command_id":77,"causation":0,"rules_version":3,)"
                    R"("schema_version":3,"epoch":6,"payload_type":9,"payload_version":2,)"
                    R"("payload":"aGkh","command":"Z28=",)"
                    R"("prev_hash":"{}",)"
                    R"("hash":"{}"}})",
                    base_time + 123'456, log::to_hex(log::Hash{}), log::to_hex(stored.hash())));
}

TEST_CASE("an export of chosen streams imports with the same fields and positions from 1") {
  TempDir dir;
  auto source = open_log(dir / "source");
  write_source(*source, 40);
  const std::string text = export_text(*source, {.streams = {3, 1}});
  const auto header = json::parse(lines_of(text).front());
  CHECK_FALSE(header.at("whole_log").as_bool());
  CHECK(json::serialize(header.at("streams")) == "[1,3]");

  auto imported = import_text(dir / "copy", text);
  REQUIRE_OK(imported);
  CHECK_FALSE(imported->whole_log);
  CHECK(imported->streams == std::vector<StreamId>{1, 3});
  auto copy = open_log(dir / "copy");
  CHECK(copy->streams() == std::vector<StreamId>{1, 3});
  const auto rebuilt = read_all_events(*copy);
  CHECK(positions_of(rebuilt) == numbers(1, source->head(1) + source->head(3)));
  for (const StreamId stream : {1, 3}) {
    CAPTURE(stream);
    const auto original = read_stream_all(*source, stream);
    const auto events = read_stream_all(*copy, stream);
    REQUIRE(events.size() == original.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      CHECK(events[i].payload() == original[i].payload());
      CHECK(events[i].wall_time_us() == original[i].wall_time_us());
      CHECK(events[i].actor() == original[i].actor());
      CHECK(events[i].command_id() == original[i].command_id());
    }
  }

  auto missing = [&] {
    std::ostringstream out;
    return export_log(*source, out, {.streams = {2, 9}});
  }();
  check_error_names(missing, Errc::not_found, "stream 9");
}

TEST_CASE("import names the line whose appended record differs from it") {
  TempDir dir;
  auto source = open_log(dir / "source");
  write_source(*source, 20);
  const auto lines = lines_of(export_text(*source));

  SUBCASE("a changed payload no longer matches the line's hash") {
    auto changed = lines;
    set_field(changed, 9, "payload", "dGFtcGVyZWQ=");
    check_error_names(import_text(dir / "copy", text_of(changed)), Errc::corruption,
                      "line 10 (stream");
  }
  SUBCASE("a changed hash") {
    auto changed = lines;
    set_field(changed, 4, "hash", json::string(std::string(64, 'a')));
    check_error_names(import_text(dir / "copy", text_of(changed)), Errc::corruption,
                      "line 5 (stream");
  }
  SUBCASE("a changed wall time") {
    auto changed = lines;
    set_field(changed, 1, "wall_time_us", base_time + 1001);
    check_error_names(import_text(dir / "copy", text_of(changed)), Errc::corruption,
                      "line 2 (stream");
  }
  SUBCASE("another envelope schema version") {
    // Stored in format 1 as the line now says, the record hashes differently.
    auto changed = lines;
    set_field(changed, 3, "schema_version", 1);
    check_error_names(import_text(dir / "copy", text_of(changed)), Errc::corruption, "record hash");
  }
  SUBCASE("an envelope schema version this worldlog does not know") {
    auto changed = lines;
    set_field(changed, 3, "schema_version", 4);
    check_error_names(import_text(dir / "copy", text_of(changed)), Errc::invalid_argument,
                      "schema version 4");
  }
  SUBCASE("an older envelope with a payload version it cannot hold") {
    auto changed = lines;
    set_field(changed, 3, "schema_version", 2);
    set_field(changed, 3, "payload_version", 2);
    check_error_names(import_text(dir / "copy", text_of(changed)), Errc::invalid_argument,
                      "holds neither a payload version other than 1 nor a command");
  }
}

TEST_CASE("import refuses malformed reordered and cut exports naming the line") {
  TempDir dir;
  auto source = open_log(dir / "source");
  write_source(*source, 12);
  const auto lines = lines_of(export_text(*source));
  const auto refused = [&](std::vector<std::string> changed, Errc code, std::string_view words) {
    static int attempt = 0;
    check_error_names(import_text(dir / fmt::format("copy{}", ++attempt), text_of(changed)), code,
                      words);
  };

  refused({}, Errc::invalid_argument, "no header");
  refused({"{\"format\":\"something else\"}"}, Errc::invalid_argument, "line 1");
  auto newer = lines;
  set_field(newer, 0, "version", 99);
  refused(newer, Errc::incompatible_format, "version 99");

  auto not_json = lines;
  not_json[3] = "{\"position\":";
  refused(not_json, Errc::invalid_argument, "line 4: not JSON");
  auto missing = lines;
  json::value line = json::parse(missing[5]);
  line.as_object().erase("seq");
  missing[5] = json::serialize(line);
  refused(missing, Errc::invalid_argument, "line 6: \"seq\" is missing");
  auto bad_payload = lines;
  set_field(bad_payload, 2, "payload", "not base64!");
  refused(bad_payload, Errc::invalid_argument, "line 3: \"payload\" is not base64");
  auto no_time = lines;
  set_field(no_time, 2, "wall_time_us", 0); // the log would stamp it with its own clock
  refused(no_time, Errc::invalid_argument, "line 3: \"wall_time_us\" is 0");
  auto bad_actor = lines;
  set_field(bad_actor, 2, "actor", json::parse(R"({"kind":"wizard","id":1})"));
  refused(bad_actor, Errc::invalid_argument, "line 3: \"actor\": \"kind\"");

  // Two lines swapped: the first of them is no longer at the next position.
  auto swapped = lines;
  std::swap(swapped[4], swapped[7]);
  refused(swapped, Errc::invalid_argument, "line 5: position 7");
  auto dropped = lines;
  dropped.erase(dropped.begin() + 6);
  refused(dropped, Errc::invalid_argument, "line 7: position 7");
  auto cut = lines;
  cut.resize(9);
  refused(cut, Errc::invalid_argument, "ends after 8 events");
  auto extra = lines;
  extra.push_back(lines.back());
  refused(extra, Errc::invalid_argument, "line 14: the header announces 12 events");
  auto foreign = lines;
  set_field(foreign, 0, "streams", json::parse("[1,2]"));
  refused(foreign, Errc::invalid_argument, "stream 3 is not in the header's streams");
}

TEST_CASE("import refuses a log that is not empty") {
  TempDir dir;
  auto source = open_log(dir / "source");
  write_source(*source, 3);
  std::istringstream in(export_text(*source));
  auto imported = import_log(*source, in);
  check_error_names(imported, Errc::invalid_argument, "not empty");
  CHECK(source->last_position() == 3);
}

TEST_CASE("describe_event decodes the game's events the genesis and rejections") {
  TempDir dir;
  auto log = open_log(dir / "log");
  const auto moved = game::Model::encode(game::Moved{7, {1500, -20}, 33});
  const auto said = game::Model::encode(game::Said{7, std::string("caf\xc3\xa9 \xff!")});
  zone::Genesis genesis{std::string(game::Model::name), game::Model::rules_version, {}};
  genesis.info.zone = 2;
  genesis.info.zone_count = 4;
  genesis.info.model_config = "mobs=3";
  const std::string rejected = zone::encode_command_rejected(
      {static_cast<std::uint32_t>(game::Reject::teleport), "too far", "Move",
       game::Model::encode_command(game::move(7, {90000, 0}))});
  append_events(
      *log, 2, 0,
      {make_event(zone::genesis_payload_type, zone::encode_genesis(genesis)),
       make_event(moved.payload_type, moved.payload), make_event(said.payload_type, said.payload),
       make_event(zone::command_rejected_payload_type, rejected), make_event(12345, "unknown")});
  std::vector<std::string> described;
  for (const auto& event : read_stream_all(*log, 2)) {
    const auto json = zone::describe_event<game::Model>(event.view());
    described.push_back(json ? json::serialize(*json) : "none");
  }
  CHECK(described == std::vector<std::string>{
                         R"({"type":"ZoneCreated","model":"worldlog.reference","rules_version":1,)"
                         R"("zone":2,"zone_count":4,"seed":0,"tick_us":50000,)"
                         R"("model_config":"mobs=3","rules":{"version":1,"hash":")" +
                             log::to_hex(game::rules_hash(game::default_rules)) + R"("}})",
                         R"({"type":"Moved","entity":7,"to":[1500,-20],"tick":33})",
                         "{\"type\":\"Said\",\"entity\":7,\"text\":\"caf\xc3\xa9 \xef\xbf\xbd!\"}",
                         R"({"type":"CommandRejected","code":5,"reject":"teleport",)"
                         R"("reason":"too far","command_name":"Move",)"
                         R"("command":{"type":"Move","entity":7,"to":[90000,0]}})",
                         "none"});
}

TEST_CASE("wall times print as ISO 8601 UTC and parse from ISO 8601 or microseconds") {
  CHECK(replay::format_wall_time(base_time + 123'456) == "2023-11-14T22:13:20.123456Z");
  CHECK(replay::format_wall_time(0) == "1970-01-01T00:00:00.000000Z");
  const auto parsed = [](std::string_view text) -> std::int64_t {
    auto time = replay::parse_wall_time(text);
    REQUIRE_MESSAGE(time.ok(), error_text(time));
    return *time;
  };
  CHECK(parsed("2023-11-14T22:13:20.123456Z") == base_time + 123'456);
  CHECK(parsed("2023-11-14T22:13:20Z") == base_time);
  CHECK(parsed("2023-11-14T22:13:20") == base_time);
  CHECK(parsed("2023-11-14 22:13:20.5") == base_time + 500'000);
  CHECK(parsed("2023-11-14T22:13") == base_time - 20'000'000);
  CHECK(parsed("2023-11-14") == base_time - (22 * 3600 + 13 * 60 + 20) * 1'000'000LL);
  CHECK(parsed("2023-11-14T23:13:20+01:00") == base_time);
  CHECK(parsed("2023-11-14T21:43:20-0030") == base_time);
  CHECK(parsed("2023-11-14T22:13:20.1234569Z") == base_time + 123'456);
  CHECK(parsed("1700000000000000") == base_time);
  for (const char* bad : {"", "yesterday", "2023-02-30", "2023-11-14T25:00", "2023-11-14T22:13Zx",
                          "2023-11-14T22:13:20.", "99999999999999999999"}) {
    CAPTURE(bad);
    CHECK(error_code(replay::parse_wall_time(bad)) == Errc::invalid_argument);
  }
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// state_at, state_at_time and the cursor against folds from scratch and the zone's own state,
// on logs written by real zones (the tally model) with snapshots; and verify, on good logs and
// on logs with a diverging or damaged snapshot, an event that does not decode, or another
// model's stream.
#include <chrono>
#include <cstdint>
#include <string>

#include <doctest/doctest.h>

#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>

#include "replay/game_log.hpp"
#include "support/log_helpers.hpp"
#include "zone/zone_fixture.hpp"

namespace worldlog::test {
namespace {

using replay::Problem;
using Replayer = replay::Replayer<Tally>;

constexpr zone::ZoneId zone_1 = 1;

/// Submits `command` to zone 1 and requires it to be answered (accepted or rejected).
zone::Outcome submit(ZoneWorld& world, Tally::Command command) {
  auto outcome = world.submit(zone_1, std::move(command));
  REQUIRE_OK(outcome);
  return std::move(outcome).value();
}

/// One tally zone that snapshots every 4 events (the log keeps the last 3), stopped after
/// `commands` accepted commands, one millisecond apart: a closed history to replay.
class History {
public:
  explicit History(int commands = 30) {
    for (int i = 1; i <= commands; ++i) {
      world_.clock().advance(std::chrono::milliseconds(1));
      submit(world_, add(static_cast<zone::EntityId>(i % 4), i));
    }
    zone_hash_ = world_.hash(zone_1);
    world_.stop();
  }

  [[nodiscard]] log::EventLog& log() { return world_.log(); }
  [[nodiscard]] Replayer replayer() { return Replayer(world_.log(), zone_1); }
  [[nodiscard]] log::Seq head() { return world_.log().head(zone_1); }
  /// The zone's own state hash when it stopped.
  [[nodiscard]] const log::Hash& zone_hash() const { return zone_hash_; }
  /// The seq of the newest stored snapshot at or before `seq` (0: none).
  [[nodiscard]] log::Seq snapshot_at_or_before(log::Seq seq) {
    auto stored = world_.log().latest_snapshot(zone_1, seq);
    REQUIRE_OK(stored);
    return stored->has_value() ? (*stored)->seq : 0;
  }
  /// Stores `state` as the snapshot after `seq`, recording `recorded` as its hash.
  void put_snapshot(log::Seq seq, const Tally::State& state, const log::Hash& recorded) {
    const zone::ZoneSnapshot snapshot{std::string(Tally::name), Tally::rules_version, seq, recorded,
                                      Tally::snapshot(state)};
    put_snapshot_bytes(seq, zone::encode_snapshot(snapshot, zone::RecentCommands(1)));
  }
  void put_snapshot_bytes(log::Seq seq, const std::string& bytes) {
    const Status stored = world_.log().put_snapshot(zone_1, seq, bytes, 10);
    REQUIRE_OK(stored);
  }

private:
  ZoneWorld world_{{.zones = 1, .seed = 42, .zone = {.snapshot_every = 4, .keep_snapshots = 3}}};
  log::Hash zone_hash_{};
};

template <typename T> T ok(Result<T> result) {
  REQUIRE_OK(result);
  return std::move(result).value();
}

log::Hash hash_at(const Replayer& replayer, log::Seq seq) {
  return Tally::hash(ok(replayer.state_at(seq)).state);
}

} // namespace

TEST_CASE("state_at equals a fold from scratch at every seq and starts from the nearest snapshot") {
  History history;
  const Replayer replayer = history.replayer();
  const log::Seq head = history.head();
  REQUIRE(head == 31); // the genesis and 30 commands
  REQUIRE(history.snapshot_at_or_before(head) != 0);

  std::uint64_t from_snapshots = 0;
  for (log::Seq seq = 1; seq <= head; ++seq) {
    CAPTURE(seq);
    const auto rebuilt = ok(replayer.state_at(seq));
    const auto scratch = ok(replayer.fold_from_scratch(seq));
    CHECK(rebuilt.seq == seq);
    CHECK(scratch.seq == seq);
    CHECK(Tally::hash(rebuilt.state) == Tally::hash(scratch.state));
    CHECK(scratch.from_snapshot == 0);
    CHECK(scratch.folded == seq);
    CHECK(rebuilt.from_snapshot == history.snapshot_at_or_before(seq));
    if (rebuilt.from_snapshot != 0) {
      CHECK(rebuilt.folded == seq - rebuilt.from_snapshot);
      ++from_snapshots;
    }
    CHECK(rebuilt.wall_time_us == read_stream_all(history.log(), zone_1)[seq - 1].wall_time_us());
    CHECK(rebuilt.info.zone == zone_1);
    CHECK(rebuilt.info.seed == 42);
  }
  CHECK(from_snapshots > 0);
}

TEST_CASE("the state replayed at the head is the state the zone had") {
  History history;
  const auto head = ok(history.replayer().state_at(log::end_seq));
  CHECK(head.seq == history.head());
  CHECK(Tally::hash(head.state) == history.zone_hash());
  CHECK(Tally::hash(ok(history.replayer().fold_from_scratch(log::end_seq)).state) ==
        history.zone_hash());
}

TEST_CASE("a snapshot that fails verification or its hash is skipped, never trusted") {
  History history;
  const Replayer replayer = history.replayer();
  const log::Seq target = history.head() - 1;
  const log::Seq newest = history.snapshot_at_or_before(target);
  REQUIRE(newest != 0);
  REQUIRE(newest < target);
  const auto truth = ok(replayer.fold_from_scratch(target));

  SUBCASE("bytes that do not decode") { history.put_snapshot_bytes(target, "not a snapshot"); }
  SUBCASE("a state whose hash is not the recorded one") {
    Tally::State wrong = truth.state;
    wrong.entities[99].total = 1;
    history.put_snapshot(target, wrong, Tally::hash(truth.state));
  }
  REQUIRE(history.snapshot_at_or_before(target) == target);
  const auto rebuilt = ok(replayer.state_at(target));
  CHECK(rebuilt.from_snapshot == newest);
  CHECK(Tally::hash(rebuilt.state) == Tally::hash(truth.state));
}

TEST_CASE("a long fold checks every hash and folds nothing from the first edited record on") {
  // Long enough for the two-thread fold (fold_pipeline.hpp), with the edit in a later batch.
  GameLog world;
  world.append(1, game::Joined{7, world.spawn(1), 0});
  constexpr log::Seq talks = 5000;
  for (log::Seq i = 0; i < talks; ++i)
    world.append(1, game::Said{7, fmt::format("message {:05}", i)});
  const log::Seq head = world.log().head(1);
  const log::Seq edited = head - 700;
  // "message 04299" becomes "message 04298": a record that still decodes, but was edited.
  world.tamper(1, edited, [&](std::string& record) {
    const auto at = record.find(fmt::format("message {:05}", edited - 3));
    REQUIRE(at != std::string::npos);
    --record[at + 12];
  });

  const auto fold = [&](log::RecordCheck check, log::Seq to, log::Seq& last_seen) {
    const replay::Replayer<game::Model> replayer(world.log(), 1, {}, check);
    return replayer.fold_from_scratch(to, [&](const replay::Replayed<game::Model>& replayed,
                                              const log::EventView&,
                                              const zone::StreamEvent<game::Model>&) {
      last_seen = replayed.seq;
      return Status{};
    });
  };
  log::Seq last_seen = 0;
  const auto checked = fold(log::RecordCheck::hash, head, last_seen);
  CHECK(error_code(checked) == Errc::corruption);
  const std::string name = fmt::format("stream 1 seq {}: hash mismatch", edited);
  CHECK_MESSAGE(error_message(checked).find(name) != std::string::npos, error_message(checked));
  CHECK(last_seen == edited - 1);

  const auto before = fold(log::RecordCheck::hash, edited - 1, last_seen);
  REQUIRE_OK(before);
  CHECK(last_seen == edited - 1);

  // Trusting the hashes folds the edit in, which only verify can then tell.
  const auto trusted = fold(log::RecordCheck::envelope, head, last_seen);
  REQUIRE_OK(trusted);
  CHECK(last_seen == head);
}

TEST_CASE("state_at_time gives the state after the last event at or before the time") {
  ZoneWorld world({.zones = 1, .seed = 42});
  // A tick at a time, none of them a roll's: the stream holds the commands' events only.
  world.clock().advance(std::chrono::milliseconds(50));
  submit(world, add(1, 5)); // seq 2
  submit(world, add(1, 6)); // seq 3, at the same wall time
  world.clock().advance(std::chrono::milliseconds(50));
  submit(world, add(1, 7)); // seq 4
  world.stop();
  const auto events = read_stream_all(world.log(), zone_1);
  REQUIRE(events.size() == 4);
  REQUIRE(events[1].wall_time_us() == events[2].wall_time_us());
  const Replayer replayer(world.log(), zone_1);

  CHECK(ok(replayer.state_at_time(events[0].wall_time_us())).seq == 1);
  CHECK(ok(replayer.state_at_time(events[1].wall_time_us())).seq == 3);
  CHECK(ok(replayer.state_at_time(events[1].wall_time_us() - 1)).seq == 1);
  CHECK(ok(replayer.state_at_time(events[3].wall_time_us() - 1)).seq == 3);
  const auto last = ok(replayer.state_at_time(events[3].wall_time_us() + 1'000'000));
  CHECK(last.seq == 4);
  CHECK(last.wall_time_us == events[3].wall_time_us());
  CHECK(last.state.entities.at(1).total == 18);

  const auto too_early = replayer.state_at_time(events[0].wall_time_us() - 1);
  CHECK(error_code(too_early) == Errc::not_found);
  CHECK(error_message(too_early).find(std::to_string(events[0].wall_time_us() - 1)) !=
        std::string::npos);
}

TEST_CASE("there is no state before the genesis and none of a stream without events") {
  History history(3);
  CHECK(error_code(history.replayer().state_at(0)) == Errc::invalid_argument);
  const Replayer empty(history.log(), 77);
  CHECK(error_code(empty.state_at(1)) == Errc::not_found);
  CHECK(error_message(empty.state_at(1)) == "zone 77 has no events");
  CHECK(error_code(empty.state_at_time(0)) == Errc::not_found);
}

TEST_CASE("a rejected command is in the stream and changes nothing in the replayed state") {
  ZoneWorld world({.zones = 1, .seed = 42});
  submit(world, add(3, 4));
  const zone::Outcome rejected = submit(world, add(3, -1));
  REQUIRE_FALSE(rejected.accepted);
  world.stop();
  const Replayer replayer(world.log(), zone_1);
  auto cursor = ok(replayer.cursor(rejected.first_seq));
  CHECK(replay::event_name<Tally>(cursor.decoded()) == "CommandRejected");
  CHECK(Tally::hash(cursor.current().state) == hash_at(replayer, rejected.first_seq - 1));
}

TEST_CASE("a cursor steps forward and back through the same states as state_at") {
  History history(12);
  const Replayer replayer = history.replayer();
  const log::Seq head = history.head();
  auto cursor = ok(replayer.cursor(1));
  CHECK(replay::event_name<Tally>(cursor.decoded()) == "ZoneCreated");
  CHECK(cursor.event().seq() == 1);

  for (log::Seq seq = 2; seq <= head; ++seq) {
    CAPTURE(seq);
    REQUIRE(ok(cursor.next()));
    CHECK(cursor.current().seq == seq);
    CHECK(cursor.event().seq() == seq);
    CHECK(replay::event_name<Tally>(cursor.decoded()) == "Added");
    CHECK(Tally::hash(cursor.current().state) == hash_at(replayer, seq));
  }
  CHECK_FALSE(ok(cursor.next()));
  CHECK(cursor.current().seq == head);

  for (log::Seq seq = head - 1; seq >= 1; --seq) {
    CAPTURE(seq);
    REQUIRE(ok(cursor.prev()));
    CHECK(cursor.current().seq == seq);
    CHECK(cursor.event().seq() == seq);
    CHECK(Tally::hash(cursor.current().state) == hash_at(replayer, seq));
  }
  CHECK_FALSE(ok(cursor.prev()));
  // Forward again from the start, through the events read ahead before stepping back.
  REQUIRE(ok(cursor.next()));
  CHECK(cursor.current().seq == 2);
  CHECK(Tally::hash(cursor.current().state) == hash_at(replayer, 2));
  REQUIRE_OK(cursor.seek(7));
  CHECK(cursor.current().seq == 7);
  REQUIRE(ok(cursor.next()));
  CHECK(Tally::hash(cursor.current().state) == hash_at(replayer, 8));
}

TEST_CASE("a cursor sees events appended after it was made") {
  ZoneWorld world({.zones = 1, .seed = 42});
  submit(world, add(1, 1));
  world.settle(zone_1);
  const Replayer replayer(world.log(), zone_1);
  auto cursor = ok(replayer.cursor(log::end_seq));
  CHECK(cursor.current().seq == 2);
  CHECK_FALSE(ok(cursor.next()));
  submit(world, add(1, 2));
  REQUIRE(ok(cursor.next()));
  CHECK(cursor.current().seq == 3);
  CHECK(cursor.current().state.entities.at(1).total == 3);
}

// ---- verify -------------------------------------------------------------------------------------

TEST_CASE("verify compares every stored snapshot and the head with a fold from scratch") {
  History history;
  auto report = ok(replay::verify<Tally>(history.log()));
  CHECK(report.ok());
  CHECK(report.first_problem() == nullptr);
  CHECK(report.running_rules == Tally::rules_version);
  REQUIRE(report.streams.size() == 1);
  const auto& stream = report.streams[0];
  CHECK(stream.zone == zone_1);
  CHECK(stream.head == history.head());
  CHECK(stream.folded == history.head());
  CHECK(stream.model == Tally::name);
  CHECK(stream.genesis_rules == Tally::rules_version);
  CHECK(stream.min_event_rules == Tally::rules_version);
  CHECK(stream.max_event_rules == Tally::rules_version);
  REQUIRE(stream.snapshots.size() == 3);
  for (const auto& snapshot : stream.snapshots) {
    CAPTURE(snapshot.seq);
    REQUIRE(snapshot.recorded.has_value());
    CHECK(snapshot.refolded == snapshot.recorded);
    CHECK(snapshot.unusable.empty());
  }
  CHECK(stream.head_hash == history.zone_hash());
  CHECK(stream.head_from_snapshot == stream.snapshots.back().seq);
}

TEST_CASE("verify names the seq and both hashes where a snapshot disagrees with the fold") {
  History history;
  const Replayer replayer = history.replayer();
  const log::Seq bad = 5;
  REQUIRE(history.snapshot_at_or_before(bad) < bad);
  // A snapshot that restores to its own hash but is not the state after its seq: what a
  // non-deterministic evolve would have stored.
  const auto later = ok(replayer.state_at(bad + 1));
  history.put_snapshot(bad, later.state, Tally::hash(later.state));

  const auto report = ok(replay::verify<Tally>(history.log()));
  CHECK_FALSE(report.ok());
  const auto* stream = report.first_problem();
  REQUIRE(stream != nullptr);
  REQUIRE(stream->problem.has_value());
  const Problem& problem = *stream->problem;
  CHECK(problem.kind == Problem::Kind::diverged);
  CHECK(problem.seq == bad);
  CHECK(problem.expected == Tally::hash(later.state));
  CHECK(problem.actual == Tally::hash(ok(replayer.fold_from_scratch(bad)).state));
  CHECK(problem.message.find("zone 1 diverges at seq 5") != std::string::npos);
  CHECK(problem.message.find(log::to_hex(*problem.expected)) != std::string::npos);
  CHECK(stream->folded == bad);
}

TEST_CASE("verify reports a stored snapshot that does not decode") {
  History history;
  history.put_snapshot_bytes(6, "garbage");
  const auto report = ok(replay::verify<Tally>(history.log()));
  REQUIRE(report.first_problem() != nullptr);
  const Problem& problem = *report.first_problem()->problem;
  CHECK(problem.kind == Problem::Kind::bad_snapshot);
  CHECK(problem.seq == 6);
  CHECK(problem.message.find("snapshot of zone 1 at seq 6") != std::string::npos);
}

TEST_CASE("verify reports an event that does not decode instead of failing") {
  History history(5);
  const log::Seq bad = history.head() + 1;
  append_one(history.log(), zone_1, history.head(), make_event(1, "not a tally event"));
  append_one(history.log(), zone_1, bad, make_event(1, "7 1"));

  const auto report = ok(replay::verify<Tally>(history.log()));
  REQUIRE(report.first_problem() != nullptr);
  const auto& stream = *report.first_problem();
  const Problem& problem = *stream.problem;
  CHECK(problem.kind == Problem::Kind::undecodable);
  CHECK(problem.seq == bad);
  CHECK(problem.message.find(fmt::format("zone 1 seq {}", bad)) != std::string::npos);
  CHECK(stream.folded == bad - 1);
  CHECK_FALSE(stream.head_hash.has_value());
  // state_at says the same, naming the seq, up to which the stream still replays.
  CHECK(error_code(history.replayer().state_at(bad)) == Errc::corruption);
  CHECK_OK(history.replayer().state_at(bad - 1));
}

TEST_CASE("verify reports the rules version a stream was recorded with") {
  TempDir dir;
  auto log = open_log(dir / "log");
  const zone::ZoneInfo info{.zone = 4, .zone_count = 4, .seed = 42};
  NewEvent genesis = make_event(zone::genesis_payload_type,
                                zone::encode_genesis({std::string(Tally::name), 7, info}));
  genesis.rules_version = 7;
  append_one(*log, 4, 0, genesis);
  NewEvent added = make_event(1, "3 9");
  added.rules_version = 6;
  append_one(*log, 4, 1, added);

  const auto report = ok(replay::verify<Tally>(*log, {.zone = 4}));
  REQUIRE(report.streams.size() == 1);
  const auto& stream = report.streams[0];
  CHECK(stream.ok());
  CHECK(stream.genesis_rules == 7);
  CHECK(stream.min_event_rules == 6);
  CHECK(stream.max_event_rules == 7);
  CHECK(report.running_rules == Tally::rules_version);
}

TEST_CASE("verify reports a stream of another model, and a zone without events is an error") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_one(*log, 2, 0,
             make_event(zone::genesis_payload_type,
                        zone::encode_genesis({"someone.else", 1, {.zone = 2, .zone_count = 2}})));
  const auto report = ok(replay::verify<Tally>(*log));
  REQUIRE(report.first_problem() != nullptr);
  const Problem& problem = *report.first_problem()->problem;
  CHECK(problem.kind == Problem::Kind::undecodable);
  CHECK(problem.message.find("created by model 'someone.else'") != std::string::npos);
  CHECK(error_code(replay::verify<Tally>(*log, {.zone = 3})) == Errc::not_found);
}

} // namespace worldlog::test

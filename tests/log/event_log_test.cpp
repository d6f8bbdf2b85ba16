// EventLog: appends, reads, optimistic concurrency, atomicity, reopening, indexes, the format
// version check and read-only opening beside a writer, each against a real RocksDB in a
// temporary directory.
#include <stdlib.h> // setenv, unsetenv

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <rocksdb/db.h>

#include <worldlog/log/event_log.hpp>

#include "log/format.hpp"
#include "support/dir_contents.hpp"
#include "support/log_helpers.hpp"
#include "support/raw_db.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

/// How long a test lets EventLog::settle_storage take.
constexpr std::chrono::seconds settle_limit{30};

namespace format = log::format;
using log::any_seq;
using log::end_seq;

constexpr std::int64_t base_time = 1'700'000'000'000'000; // 2023-11-14, in µs

void check_fields(const Event& stored, const NewEvent& sent) {
  CHECK(stored.payload_type() == sent.payload_type);
  CHECK(stored.payload() == sent.payload);
  CHECK(stored.actor() == sent.actor);
  CHECK(stored.tick() == sent.tick);
  CHECK(stored.wall_time_us() == sent.wall_time_us);
  CHECK(stored.command_id() == sent.command_id);
  CHECK(stored.causation() == sent.causation);
  CHECK(stored.rules_version() == sent.rules_version);
  CHECK(stored.epoch() == sent.epoch);
  CHECK(stored.view().schema_version() == format::current_envelope);
}

/// `value` as 4 big-endian bytes, the encoding of the format_version key.
std::string big_endian_u32(std::uint32_t value) {
  std::string bytes(4, '\0');
  for (int i = 3; i >= 0; --i, value >>= 8)
    bytes[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
  return bytes;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_SUITE_BEGIN("log/event_log");

TEST_CASE("an empty log has no streams and no positions") {
  TempDir dir;
  auto log = open_log(dir / "log");
  CHECK(log->head(1) == 0);
  CHECK(log->last_position() == 0);
  CHECK(log->streams().empty());
  CHECK(read_all_events(*log).empty());
  CHECK(read_stream_all(*log, 1).empty());
}

TEST_CASE("append keeps every field and assigns 1-based gap-free seqs and positions") {
  TempDir dir;
  auto log = open_log(dir / "log");

  NewEvent first =
      make_event(7, std::string("bin\0ary\xff", 8), {ActorKind::player, 42}, base_time);
  first.tick = 100;
  first.command_id = 555;
  first.rules_version = 3;
  NewEvent second = make_event(8, "", {ActorKind::mob, 9}, base_time + 1);
  second.tick = 101;
  second.command_id = 556;
  second.causation = 1;
  second.rules_version = 3;
  second.epoch = 2;
  NewEvent third =
      make_event(0xffffffff, std::string(1000, 'x'), {ActorKind::service, ~0ull}, base_time + 1);
  third.tick = ~0ull;
  third.command_id = ~0ull;
  third.causation = 2;
  third.rules_version = 0xffffffff;
  third.epoch = ~0ull;
  const std::vector<NewEvent> sent = {first, second, third};

  const AppendResult appended = append_events(*log, 5, 0, sent);
  CHECK(appended.stream == 5);
  CHECK(appended.first_seq == 1);
  CHECK(appended.last_seq == 3);
  CHECK(appended.first_position == 1);
  CHECK(appended.last_position == 3);
  CHECK(log->head(5) == 3);
  CHECK(log->last_position() == 3);

  const auto stored = read_stream_all(*log, 5);
  REQUIRE(stored.size() == 3);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    CAPTURE(i);
    check_fields(stored[i], sent[i]);
    CHECK(stored[i].stream() == 5);
    CHECK(stored[i].seq() == i + 1);
    CHECK(stored[i].position() == i + 1);
    // The hash prefix is the SHA-256 of the envelope, which holds the predecessor's hash.
    const std::string_view record = stored[i].view().record();
    CHECK(stored[i].hash() == format::sha256(record.substr(format::hash_size)));
    CHECK(stored[i].prev_hash() == (i == 0 ? log::Hash{} : stored[i - 1].hash()));
  }

  // Another stream starts at seq 1 but continues the global positions.
  const AppendResult other = append_one(*log, 6, 0, make_event(1, "other"));
  CHECK(other.first_seq == 1);
  CHECK(other.first_position == 4);
  const AppendResult more = append_one(*log, 5, 3, make_event(1, "more", {}, base_time + 2));
  CHECK(more.first_seq == 4);
  CHECK(more.last_seq == 4);
  CHECK(more.first_position == 5);
  CHECK(more.last_position == 5);
  CHECK(log->streams() == std::vector<StreamId>{5, 6});
}

TEST_CASE("storage_stats counts the WAL bytes of appends, when asked to, and nothing otherwise") {
  TempDir dir;
  log::Options counted = fast_options();
  counted.storage_statistics = true;
  auto log = open_log(dir / "counted", counted);
  // A new log writes its format version: a few bytes, and no table file yet.
  const log::StorageStats opened = log->storage_stats();
  CHECK(opened.wal_bytes < 100);
  CHECK(opened.flush_bytes == 0);
  std::vector<NewEvent> events;
  for (int i = 0; i < 100; ++i)
    events.push_back(make_event(1, std::string(500, 'x'), {ActorKind::player, 1}, base_time));
  REQUIRE(log->append(1, 0, events).ok());
  const log::StorageStats stats = log->storage_stats();
  // Every record went through the WAL, payload and envelope: more than the payloads alone.
  CHECK(stats.wal_bytes - opened.wal_bytes > 100 * 500);
  CHECK(stats.written_bytes() >= stats.wal_bytes);
  CHECK(stats.flushes == 0); // 50 kB are far from a memtable's worth

  auto uncounted = open_log(dir / "uncounted");
  REQUIRE(uncounted->append(1, 0, events).ok());
  CHECK(uncounted->storage_stats().written_bytes() == 0);
}

TEST_CASE("read_stream reads forward from a seq and honours the limit") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 3, 10);
  append_n(*log, 4, 2); // a neighbouring stream must not leak into stream 3's reads

  auto middle = log->read_stream(3, 4, 3);
  REQUIRE_OK(middle);
  CHECK(seqs_of(*middle) == numbers(4, 6));
  CHECK(payloads_of(*middle) ==
        std::vector<std::string>{payload_for(3, 4), payload_for(3, 5), payload_for(3, 6)});

  auto tail = log->read_stream(3, 9, 100);
  REQUIRE_OK(tail);
  CHECK(seqs_of(*tail) == numbers(9, 10));

  auto beyond = log->read_stream(3, 11, 10);
  REQUIRE_OK(beyond);
  CHECK(beyond->empty());

  auto from_zero = log->read_stream(3, 0, 2);
  REQUIRE_OK(from_zero);
  CHECK(seqs_of(*from_zero) == numbers(1, 2));

  auto unlimited = log->read_stream(3, 1, std::numeric_limits<std::size_t>::max());
  REQUIRE_OK(unlimited);
  CHECK(seqs_of(*unlimited) == numbers(1, 10));
}

TEST_CASE("read_stream_backward reads newest first from end_seq or from a seq") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 2, 3); // a lower stream, so stream 3 is not the first key range
  append_n(*log, 3, 10);
  append_n(*log, 4, 3); // and a higher one

  auto newest = log->read_stream_backward(3, end_seq, 3);
  REQUIRE_OK(newest);
  CHECK(seqs_of(*newest) == std::vector<std::uint64_t>{10, 9, 8});
  CHECK(newest->front().payload() == payload_for(3, 10));

  auto from_four = log->read_stream_backward(3, 4, 100);
  REQUIRE_OK(from_four);
  CHECK(seqs_of(*from_four) == std::vector<std::uint64_t>{4, 3, 2, 1});
  for (const auto& event : *from_four)
    CHECK(event.stream() == 3);

  auto past_head = log->read_stream_backward(3, 20, 2);
  REQUIRE_OK(past_head);
  CHECK(seqs_of(*past_head) == std::vector<std::uint64_t>{10, 9});

  auto whole = log->read_stream_backward(4, end_seq, 100);
  REQUIRE_OK(whole);
  CHECK(seqs_of(*whole) == std::vector<std::uint64_t>{3, 2, 1});
}

TEST_CASE("read_all returns the events of every stream in position order") {
  TempDir dir;
  auto log = open_log(dir / "log");
  struct Expected {
    StreamId stream;
    Seq seq;
  };
  std::vector<Expected> expected; // index = position - 1
  const StreamId order[] = {9, 1, 5, 1, 9, 9, 5, 1, 2, 9};
  for (std::size_t round = 0; round < 3; ++round) {
    for (const StreamId stream : order) {
      const std::size_t batch = 1 + (stream + round) % 3;
      std::vector<NewEvent> events;
      const Seq head = log->head(stream);
      for (std::size_t i = 1; i <= batch; ++i) {
        events.push_back(make_event(1, payload_for(stream, head + i)));
        expected.push_back({stream, head + i});
      }
      const AppendResult appended = append_events(*log, stream, head, events);
      CHECK(appended.first_position == expected.size() - batch + 1);
      CHECK(appended.last_position == expected.size());
    }
  }

  const auto all = read_all_events(*log);
  REQUIRE(all.size() == expected.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    CAPTURE(i);
    CHECK(all[i].position() == i + 1);
    CHECK(all[i].stream() == expected[i].stream);
    CHECK(all[i].seq() == expected[i].seq);
    CHECK(all[i].payload() == payload_for(expected[i].stream, expected[i].seq));
  }
  CHECK(log->last_position() == expected.size());
  CHECK(log->streams() == std::vector<StreamId>{1, 2, 5, 9});

  auto window = log->read_all(4, 3);
  REQUIRE_OK(window);
  CHECK(positions_of(*window) == numbers(4, 6));

  auto beyond = log->read_all(expected.size() + 1, 10);
  REQUIRE_OK(beyond);
  CHECK(beyond->empty());
}

TEST_CASE("scan_stream and scan_all visit in order and stop when the visitor returns false") {
  TempDir dir;
  auto log = open_log(dir / "log");
  for (int round = 0; round < 4; ++round) {
    append_n(*log, 1, 2);
    append_n(*log, 2, 1);
  }

  std::vector<std::uint64_t> seen;
  auto scanned = log->scan_stream(1, 2, everything, [&](const log::EventView& event) {
    seen.push_back(event.seq());
    return event.seq() < 5;
  });
  REQUIRE_OK(scanned);
  CHECK(seen == numbers(2, 5));

  seen.clear();
  auto limited = log->scan_stream(1, 1, 3, [&](const log::EventView& event) {
    seen.push_back(event.seq());
    return true;
  });
  REQUIRE_OK(limited);
  CHECK(seen == numbers(1, 3));

  seen.clear();
  auto all = log->scan_all(3, everything, [&](const log::EventView& event) {
    seen.push_back(event.position());
    return event.position() < 10;
  });
  REQUIRE_OK(all);
  CHECK(seen == numbers(3, 10));

  seen.clear();
  auto limited_all = log->scan_all(1, 4, [&](const log::EventView& event) {
    seen.push_back(event.position());
    return true;
  });
  REQUIRE_OK(limited_all);
  CHECK(seen == numbers(1, 4));
}

TEST_CASE("an append expecting the wrong seq is a conflict naming stream expected and actual") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 777, 12);
  const NewEvent event = make_event(1, "late");

  auto stale = log->append(777, 9, {&event, 1});
  CHECK(error_code(stale) == Errc::conflict);
  const std::string message = error_message(stale);
  CHECK_MESSAGE(message.find("777") != std::string::npos, message);
  CHECK_MESSAGE(message.find('9') != std::string::npos, message);
  CHECK_MESSAGE(message.find("12") != std::string::npos, message);

  auto as_new = log->append(777, 0, {&event, 1});
  CHECK(error_code(as_new) == Errc::conflict);

  auto ahead = log->append(777, 13, {&event, 1});
  CHECK(error_code(ahead) == Errc::conflict);

  // Nothing of the rejected appends was stored, and no position was consumed.
  CHECK(log->head(777) == 12);
  CHECK(log->last_position() == 12);
  const AppendResult next = append_one(*log, 777, 12, make_event(1, "on time"));
  CHECK(next.first_seq == 13);
  CHECK(next.first_position == 13);
}

TEST_CASE("any_seq appends without the optimistic concurrency check") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 4);
  const AppendResult appended = append_one(*log, 1, any_seq, make_event(1, "whatever the head"));
  CHECK(appended.first_seq == 5);
  CHECK(appended.first_position == 5);
  const AppendResult fresh = append_one(*log, 2, any_seq, make_event(1, "new stream"));
  CHECK(fresh.first_seq == 1);
  CHECK(fresh.first_position == 6);
}

TEST_CASE("a new stream expects seq 0") {
  TempDir dir;
  auto log = open_log(dir / "log");
  const NewEvent event = make_event(1, "first");
  auto wrong = log->append(888, 1, {&event, 1});
  CHECK(error_code(wrong) == Errc::conflict);
  CHECK_MESSAGE(error_message(wrong).find("888") != std::string::npos, error_message(wrong));
  CHECK(log->head(888) == 0);
  CHECK(log->streams().empty());

  const AppendResult right = append_one(*log, 888, 0, event);
  CHECK(right.first_seq == 1);
  CHECK(right.first_position == 1);
}

TEST_CASE("an append whose wall times go backwards is invalid and stores nothing") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_events(*log, 1, 0,
                {make_event(1, "a", {}, base_time + 100), make_event(1, "b", {}, base_time + 200)});
  append_one(*log, 2, 0, make_event(1, "other stream", {}, base_time));

  const std::vector<NewEvent> backwards = {make_event(1, "c", {}, base_time + 300),
                                           make_event(1, "d", {}, base_time + 400),
                                           make_event(1, "e", {}, base_time + 350)};
  auto rejected = log->append(1, 2, backwards);
  CHECK(error_code(rejected) == Errc::invalid_argument);

  CHECK(log->head(1) == 2);
  CHECK(log->last_position() == 3);
  CHECK(seqs_of(read_stream_all(*log, 1)) == numbers(1, 2));
  CHECK(positions_of(read_all_events(*log)) == numbers(1, 3));

  // The next append gets the next seq and position: the rejected one consumed none.
  const AppendResult next = append_one(*log, 1, 2, make_event(1, "f", {}, base_time + 500));
  CHECK(next.first_seq == 3);
  CHECK(next.first_position == 4);
  CHECK(positions_of(read_all_events(*log)) == numbers(1, 4));
  auto verified = log->verify(1);
  REQUIRE_OK(verified);
  CHECK(*verified == 3);
}

TEST_CASE("an append earlier than the stream's last wall time is invalid") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_one(*log, 1, 0, make_event(1, "a", {}, base_time + 2000));
  const NewEvent earlier = make_event(1, "b", {}, base_time + 1000);
  auto rejected = log->append(1, 1, {&earlier, 1});
  CHECK(error_code(rejected) == Errc::invalid_argument);
  CHECK(log->head(1) == 1);

  // Equal times are fine (monotone, not strictly), and other streams keep their own clocks.
  append_one(*log, 1, 1, make_event(1, "c", {}, base_time + 2000));
  append_one(*log, 2, 0, make_event(1, "d", {}, base_time + 1000));
  CHECK(log->last_position() == 3);
}

TEST_CASE("an empty append is invalid") {
  TempDir dir;
  auto log = open_log(dir / "log");
  auto empty = log->append(1, 0, std::span<const NewEvent>{});
  CHECK(error_code(empty) == Errc::invalid_argument);
  CHECK(log->head(1) == 0);
  CHECK(log->last_position() == 0);
  CHECK(log->streams().empty());
  CHECK(append_one(*log, 1, 0, make_event(1, "a")).first_position == 1);
}

TEST_CASE("oversized payloads and appends are invalid") {
  TempDir dir;
  log::Options options = fast_options();
  options.max_payload_bytes = 16;
  options.max_events_per_append = 4;
  auto log = open_log(dir / "log", options);

  const NewEvent big = make_event(1, std::string(17, 'x'));
  auto too_big = log->append(1, 0, {&big, 1});
  CHECK(error_code(too_big) == Errc::invalid_argument);
  const std::vector<NewEvent> too_many(5, make_event(1, "x"));
  auto rejected = log->append(1, 0, too_many);
  CHECK(error_code(rejected) == Errc::invalid_argument);
  CHECK(log->last_position() == 0);

  append_one(*log, 1, 0, make_event(1, std::string(16, 'x')));
  append_events(*log, 1, 1, std::vector<NewEvent>(4, make_event(1, "x")));
  CHECK(log->head(1) == 5);
}

TEST_CASE("reopening keeps heads positions streams and events and appends continue") {
  TempDir dir;
  std::vector<Event> before;
  {
    auto log = open_log(dir / "log");
    for (std::int64_t i = 1; i <= 5; ++i) {
      append_one(*log, 10, log->head(10), make_event(1, payload_for(10, i), {}, base_time + i));
      append_one(*log, 20, log->head(20), make_event(1, payload_for(20, i), {}, base_time + i));
    }
    append_n(*log, 30, 3);
    before = read_all_events(*log);
    REQUIRE(before.size() == 13);
  }

  {
    auto log = open_log(dir / "log");
    CHECK(log->head(10) == 5);
    CHECK(log->head(20) == 5);
    CHECK(log->head(30) == 3);
    CHECK(log->head(40) == 0);
    CHECK(log->last_position() == 13);
    CHECK(log->streams() == std::vector<StreamId>{10, 20, 30});

    const auto after = read_all_events(*log);
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
      CAPTURE(i);
      CHECK(after[i].view().record() == before[i].view().record());
    }

    // Appends continue at head + 1 and last_position + 1, chained to the old head.
    const AppendResult appended =
        append_one(*log, 10, 5, make_event(1, "after reopen", {}, base_time + 6));
    CHECK(appended.first_seq == 6);
    CHECK(appended.first_position == 14);
    const auto stream = read_stream_all(*log, 10);
    REQUIRE(stream.size() == 6);
    CHECK(stream[5].prev_hash() == stream[4].hash());
    auto verified = log->verify(10);
    REQUIRE_OK(verified);
    CHECK(*verified == 6);

    // The stream's last wall time was recovered too: going back in time is still refused.
    const NewEvent earlier = make_event(1, "too early", {}, base_time + 4);
    auto rejected = log->append(20, 5, {&earlier, 1});
    CHECK(error_code(rejected) == Errc::invalid_argument);

    // A new stream after reopening.
    CHECK(append_one(*log, 40, 0, make_event(1, "new")).first_position == 15);
  }

  {
    auto log = open_log(dir / "log");
    CHECK(log->last_position() == 15);
    CHECK(log->head(10) == 6);
    CHECK(log->head(40) == 1);
    CHECK(log->streams() == std::vector<StreamId>{10, 20, 30, 40});
    CHECK(positions_of(read_all_events(*log)) == numbers(1, 15));
  }
}

TEST_CASE("stream ids at both ends of the range work like any other") {
  constexpr StreamId lowest = 0;
  constexpr StreamId highest = ~StreamId{0};
  TempDir dir;
  {
    auto log = open_log(dir / "log");
    append_n(*log, highest, 3);
    append_n(*log, lowest, 2);
    append_n(*log, highest - 1, 1);
    CHECK(log->streams() == std::vector<StreamId>{lowest, highest - 1, highest});
    CHECK(seqs_of(read_stream_all(*log, highest)) == numbers(1, 3));
    CHECK(seqs_of(read_stream_all(*log, lowest)) == numbers(1, 2));
    auto backward = log->read_stream_backward(highest, log::end_seq, 10);
    REQUIRE_OK(backward);
    CHECK(seqs_of(*backward) == std::vector<std::uint64_t>{3, 2, 1});
    auto put = log->put_snapshot(highest, 2, "top");
    REQUIRE_OK(put);
  }
  auto log = open_log(dir / "log");
  CHECK(log->head(highest) == 3);
  CHECK(log->head(lowest) == 2);
  CHECK(log->head(highest - 1) == 1);
  CHECK(log->last_position() == 6);
  CHECK(log->streams() == std::vector<StreamId>{lowest, highest - 1, highest});
  auto verified = log->verify(highest);
  REQUIRE_OK(verified);
  CHECK(*verified == 3);
  auto snapshot = log->latest_snapshot(highest);
  REQUIRE_OK(snapshot);
  REQUIRE(snapshot->has_value());
  CHECK((*snapshot)->bytes == "top");
  CHECK(append_one(*log, highest, 3, make_event(1, "more")).first_seq == 4);
}

TEST_CASE("read_actor returns exactly one actor's events in position order across streams") {
  TempDir dir;
  auto log = open_log(dir / "log");
  const Actor player7{ActorKind::player, 7};
  const Actor mob7{ActorKind::mob, 7}; // same id, other kind: a different actor
  const Actor player8{ActorKind::player, 8};
  append_events(*log, 1, 0, {make_event(1, "1", player7), make_event(1, "2", mob7)});
  append_events(*log, 2, 0, {make_event(1, "3", player7)});
  append_events(*log, 1, 2, {make_event(1, "4", player8)});
  append_events(*log, 2, 1, {make_event(1, "5", mob7), make_event(1, "6", player7)});
  append_events(*log, 1, 3, {make_event(1, "7", player7)});

  auto by_player7 = log->read_actor(player7, 1, everything);
  REQUIRE_OK(by_player7);
  CHECK(positions_of(*by_player7) == std::vector<std::uint64_t>{1, 3, 6, 7});
  CHECK(payloads_of(*by_player7) == std::vector<std::string>{"1", "3", "6", "7"});
  for (const auto& event : *by_player7)
    CHECK(event.actor() == player7);
  std::vector<StreamId> streams;
  for (const auto& event : *by_player7)
    streams.push_back(event.stream());
  CHECK(streams == std::vector<StreamId>{1, 2, 2, 1});

  auto by_mob7 = log->read_actor(mob7, 1, everything);
  REQUIRE_OK(by_mob7);
  CHECK(positions_of(*by_mob7) == std::vector<std::uint64_t>{2, 5});

  auto by_player8 = log->read_actor(player8, 1, everything);
  REQUIRE_OK(by_player8);
  CHECK(positions_of(*by_player8) == std::vector<std::uint64_t>{4});

  auto later = log->read_actor(player7, 4, everything);
  REQUIRE_OK(later);
  CHECK(positions_of(*later) == std::vector<std::uint64_t>{6, 7});

  auto first_two = log->read_actor(player7, 1, 2);
  REQUIRE_OK(first_two);
  CHECK(positions_of(*first_two) == std::vector<std::uint64_t>{1, 3});

  auto nobody = log->read_actor({ActorKind::player, 99}, 1, everything);
  REQUIRE_OK(nobody);
  CHECK(nobody->empty());
}

TEST_CASE("the actor index is rebuilt on open when it lags behind the log") {
  // The index is written just behind the commit without a sync, so a crash can lose its newest
  // entries and its watermark; open must re-index from the watermark on.
  const Actor actors[] = {{ActorKind::player, 1}, {ActorKind::player, 2}, {ActorKind::mob, 1}};
  const auto actor_at = [&](Position position) { return actors[(position - 1) % 3]; };
  constexpr Position events = 12;
  for (const Position watermark : {Position{4}, Position{0}}) {
    CAPTURE(watermark);
    TempDir dir;
    {
      auto log = open_log(dir / "log");
      for (Position position = 1; position <= events; ++position) {
        const StreamId stream = 1 + position % 2;
        append_one(*log, stream, any_seq,
                   make_event(1, fmt::format("event {}", position), actor_at(position)));
      }
      REQUIRE_OK(log->settle_storage(settle_limit)); // the index, which skips the WAL, stored
    }
    {
      RawDb raw((dir / "log").string());
      for (Position position = watermark + 1; position <= events; ++position) {
        raw.remove(format::actors_cf,
                   format::as_view(format::actor_key(actor_at(position), position)));
      }
      if (watermark == 0) {
        raw.remove(format::actors_cf, format::actor_watermark_key);
      } else {
        raw.put(format::actors_cf, format::actor_watermark_key,
                format::as_view(format::position_key(watermark)));
      }
    }
    auto log = open_log(dir / "log");
    for (const Actor& actor : actors) {
      CAPTURE(actor);
      std::vector<std::uint64_t> expected;
      for (Position position = 1; position <= events; ++position) {
        if (actor_at(position) == actor) expected.push_back(position);
      }
      auto found = log->read_actor(actor, 1, everything);
      REQUIRE_OK(found);
      CHECK(positions_of(*found) == expected);
    }
  }
}

TEST_CASE("find_at_time finds the first event at or after a wall time") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_events(*log, 4, 0,
                {make_event(1, "a", {}, base_time + 1000), make_event(1, "b", {}, base_time + 2000),
                 make_event(1, "c", {}, base_time + 2000),
                 make_event(1, "d", {}, base_time + 3000)});
  // Neighbouring streams with other times must not confuse the search.
  append_one(*log, 3, 0, make_event(1, "x", {}, base_time + 2500));
  append_one(*log, 5, 0, make_event(1, "y", {}, base_time + 2500));

  const auto found_seq = [&](std::int64_t wall_time) -> std::optional<Seq> {
    auto found = log->find_at_time(4, wall_time);
    REQUIRE_OK(found);
    if (!found->has_value()) return std::nullopt;
    CHECK((*found)->stream() == 4);
    return (*found)->seq();
  };
  CHECK(found_seq(base_time + 500) == Seq{1});  // before the first: the first
  CHECK(found_seq(base_time + 1000) == Seq{1}); // exact
  CHECK(found_seq(base_time + 1500) == Seq{2}); // between two: the later
  CHECK(found_seq(base_time + 2000) == Seq{2}); // the first of equal times
  CHECK(found_seq(base_time + 2500) == Seq{4});
  CHECK(found_seq(base_time + 3000) == Seq{4});
  CHECK(found_seq(base_time + 3001) == std::nullopt); // after the last

  // A longer stream, against a linear search at every interesting time.
  std::vector<std::int64_t> times;
  for (std::int64_t i = 0; i < 200; ++i)
    times.push_back(base_time + 10 * (i / 3));
  std::vector<NewEvent> events;
  for (const auto time : times)
    events.push_back(make_event(1, "t", {}, time));
  append_events(*log, 6, 0, events);
  for (std::int64_t query = base_time - 5; query <= times.back() + 5; query += 5) {
    CAPTURE(query);
    const auto it = std::lower_bound(times.begin(), times.end(), query);
    auto found = log->find_at_time(6, query);
    REQUIRE_OK(found);
    if (it == times.end()) {
      CHECK(!found->has_value());
    } else {
      REQUIRE(found->has_value());
      CHECK((*found)->seq() == static_cast<Seq>(it - times.begin()) + 1);
    }
  }
}

TEST_CASE("wall_time_us 0 is stamped by the log at commit and stays monotone") {
  TempDir dir;
  auto log = open_log(dir / "log");
  const std::int64_t before = now_us();
  append_events(*log, 1, 0, {make_event(1, "a"), make_event(1, "b"), make_event(1, "c")});
  append_one(*log, 1, 3, make_event(1, "d"));
  const std::int64_t after = now_us();

  const auto events = read_stream_all(*log, 1);
  REQUIRE(events.size() == 4);
  constexpr std::int64_t slack = 5'000'000; // a clock step, not a speed requirement
  for (std::size_t i = 0; i < events.size(); ++i) {
    CAPTURE(i);
    CHECK(events[i].wall_time_us() != 0);
    CHECK(events[i].wall_time_us() >= before - slack);
    CHECK(events[i].wall_time_us() <= after + slack);
    if (i > 0) CHECK(events[i].wall_time_us() >= events[i - 1].wall_time_us());
  }

  // After an explicit time ahead of the clock, a stamped event still keeps the stream monotone.
  const std::int64_t ahead = now_us() + 3'600'000'000;
  append_one(*log, 1, 4, make_event(1, "ahead", {}, ahead));
  auto stamped = log->append(1, 5, std::vector<NewEvent>{make_event(1, "stamped")});
  REQUIRE_OK(stamped);
  const auto last = read_stream_all(*log, 1).back();
  CHECK(last.seq() == 6);
  CHECK(last.wall_time_us() >= ahead);
}

TEST_CASE("verify checks each stream's chain and counts its events") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 7);
  append_n(*log, 2, 1);
  append_events(*log, 1, 7, std::vector<NewEvent>(5, make_event(1, "batch")));
  const std::vector<std::pair<StreamId, std::uint64_t>> expected = {{1, 12}, {2, 1}};
  for (const auto& entry : expected) {
    const StreamId stream = entry.first; // a plain variable: clang 14 cannot capture bindings
    CAPTURE(stream);
    auto verified = log->verify(stream);
    REQUIRE_OK(verified);
    CHECK(*verified == entry.second);
  }
}

TEST_CASE("find_lost_tails names a stream whose newest records are gone, from what names them") {
  TempDir dir;
  const auto path = dir / "log";
  const Actor player{ActorKind::player, 9};
  std::vector<Event> tail; // stream 1's seqs 4..6, the log's last positions
  {
    auto log = open_log(path);
    append_n(*log, 1, 3, player);
    append_n(*log, 2, 2, player);
    append_n(*log, 1, 3, player);
    REQUIRE_OK(log->put_snapshot(1, 2, "older"));
    auto intact = log->find_lost_tails();
    REQUIRE_OK(intact);
    CHECK(intact->empty());
    auto read = log->read_stream(1, 4, everything);
    REQUIRE_OK(read);
    tail = std::move(read).value();
    REQUIRE_OK(log->settle_storage(settle_limit));
  }
  REQUIRE(tail.size() == 3);
  const auto remove = [&](std::string_view cf,
                          const std::function<std::string(const Event&)>& key) {
    RawDb raw(path.string());
    for (const auto& event : tail)
      raw.remove(cf, key(event));
  };
  const auto record_key = [](const Event& e) {
    return std::string(format::as_view(format::stream_seq_key(e.stream(), e.seq())));
  };
  const auto position_key = [](const Event& e) {
    return std::string(format::as_view(format::position_key(e.position())));
  };
  const auto actor_key = [&](const Event& e) {
    return std::string(format::as_view(format::actor_key(player, e.position())));
  };
  const auto lost_tails = [&] {
    auto log = open_log(path, {.read_only = true});
    auto found = log->find_lost_tails();
    REQUIRE_OK(found);
    return std::move(found).value();
  };

  // The records go; the indexes still name them.
  remove(format::events_cf, record_key);
  auto found = lost_tails();
  REQUIRE(found.size() == 1);
  CHECK(found[0].stream == std::optional<StreamId>(1));
  CHECK(found[0].head == 3);
  CHECK(found[0].reached == 6);
  CHECK(found[0].evidence == "the positions index");

  // And without their positions, the actors index names them, and its watermark positions
  // the log no longer has (the log as a whole comes first).
  remove(format::positions_cf, position_key);
  found = lost_tails();
  REQUIRE(found.size() == 2);
  CHECK_FALSE(found[0].stream.has_value());
  CHECK(found[1].stream == std::optional<StreamId>(1));
  CHECK(found[1].head == 3);
  CHECK(found[1].reached == 6);
  CHECK(found[1].evidence == "the actors index");

  // With the actors index's entries gone too, its watermark still says how far the log got.
  remove(format::actors_cf, actor_key);
  found = lost_tails();
  REQUIRE(found.size() == 1);
  CHECK_FALSE(found[0].stream.has_value());
  CHECK(found[0].head == 5);
  CHECK(found[0].reached == 8);

  // A snapshot taken after a seq the stream no longer has, also of a stream with no records.
  {
    auto log = open_log(path);
    REQUIRE_OK(log->put_snapshot(1, 5, "lost"));
    REQUIRE_OK(log->put_snapshot(7, 1, "gone"));
  }
  found = lost_tails();
  REQUIRE(found.size() == 3);
  CHECK(found[1].stream == std::optional<StreamId>(1));
  CHECK(found[1].reached == 5);
  CHECK(found[1].evidence == "a snapshot");
  CHECK(found[2].stream == std::optional<StreamId>(7));
  CHECK(found[2].head == 0);
  CHECK(found[2].reached == 1);
}

TEST_CASE("the on-disk layout is the one format.hpp describes") {
  TempDir dir;
  Event first("");
  {
    auto log = open_log(dir / "log");
    append_n(*log, 3, 2);
    first = read_stream_all(*log, 3).front();
  }
  RawDb raw((dir / "log").string());
  const auto version = raw.get("default", format::format_version_key);
  CHECK(version == big_endian_u32(format::format_version));
  CHECK(raw.get(format::events_cf, format::as_view(format::stream_seq_key(3, 1))) ==
        first.view().record());
  CHECK(raw.get(format::positions_cf, format::as_view(format::position_key(2))) ==
        format::as_view(format::stream_seq_key(3, 2)));
}

TEST_CASE("a log written by a newer format version fails to open with incompatible_format") {
  TempDir dir;
  {
    auto log = open_log(dir / "log");
    append_n(*log, 1, 2);
  }
  {
    RawDb raw((dir / "log").string());
    raw.put("default", format::format_version_key, big_endian_u32(99));
  }
  auto opened = log::EventLog::open(dir / "log", fast_options());
  CHECK(error_code(opened) == Errc::incompatible_format);
  CHECK_MESSAGE(error_message(opened).find("99") != std::string::npos, error_message(opened));
}

TEST_CASE("a log of format version 1 reads as it is and takes current records after its own") {
  TempDir dir;
  // Format version 1: every record a FlatBuffers envelope (format 1), as worldlog wrote them
  // before envelope format 2; the encoder of format 1 is the one that wrote them.
  std::vector<NewEvent> old_events;
  for (int i = 0; i < 5; ++i) {
    NewEvent event = make_event(3, fmt::format("old {}", i), {ActorKind::player, 8}, base_time + i);
    event.command_id = 100 + static_cast<std::uint64_t>(i);
    event.envelope = format::envelope_v1;
    old_events.push_back(event);
  }
  std::vector<Event> before;
  {
    auto log = open_log(dir / "log");
    append_events(*log, 7, 0, old_events);
    append_events(*log, 9, 0, {old_events.front()});
    before = read_stream_all(*log, 7);
  }
  {
    RawDb raw((dir / "log").string());
    raw.put("default", format::format_version_key, big_endian_u32(1));
  }
  {
    // A reader neither writes nor upgrades it.
    auto reader = open_log(dir / "log", {.read_only = true});
    auto checked = reader->verify(7);
    REQUIRE_OK(checked);
    CHECK(*checked == 5);
  }
  CHECK(RawDb((dir / "log").string()).get("default", format::format_version_key) ==
        big_endian_u32(1));

  auto log = open_log(dir / "log");
  const AppendResult added =
      append_events(*log, 7, 5,
                    {make_event(3, "new 0", {ActorKind::player, 8}, base_time + 10),
                     make_event(3, "new 1", {}, base_time + 11)});
  CHECK(added.first_seq == 6);
  const auto stream = read_stream_all(*log, 7);
  REQUIRE(stream.size() == 7);
  for (std::size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(stream[i].view().schema_version() == format::envelope_v1);
    CHECK(stream[i].view().record() == before[i].view().record());
    CHECK(stream[i].payload() == old_events[i].payload);
    CHECK(stream[i].command_id() == old_events[i].command_id);
    CHECK(stream[i].epoch() == 0);
  }
  CHECK(stream[5].view().schema_version() == format::current_envelope);
  CHECK(stream[5].payload() == "new 0");
  // The chain runs on across the two formats.
  CHECK(stream[5].prev_hash() == stream[4].hash());
  auto verified = log->verify(7);
  REQUIRE_OK(verified);
  CHECK(*verified == 7);
  const auto all = read_all_events(*log);
  REQUIRE(all.size() == 8);
  CHECK(all[5].stream() == 9);
  CHECK(all[7].payload() == "new 1");
  log.reset();
  // The writer recorded the version its records need before it wrote any.
  CHECK(RawDb((dir / "log").string()).get("default", format::format_version_key) ==
        big_endian_u32(format::format_version));
}

TEST_CASE("a record keeps its payload version and its command, and an older envelope reads on") {
  TempDir dir;
  auto log = open_log(dir / "log");
  NewEvent decided = make_event(3, "moved", {ActorKind::player, 8}, base_time);
  decided.payload_version = 3;
  decided.command = std::string("move\0to", 7);
  NewEvent followed = make_event(4, "levelled", {ActorKind::player, 8}, base_time);
  NewEvent older = make_event(5, "older", {ActorKind::mob, 2}, base_time + 1);
  older.envelope = format::envelope_v2;
  append_events(*log, 7, 0, {decided, followed});
  append_one(*log, 7, 2, older);

  const auto stream = read_stream_all(*log, 7);
  REQUIRE(stream.size() == 3);
  CHECK(stream[0].view().schema_version() == format::envelope_v3);
  CHECK(stream[0].payload_version() == 3);
  CHECK(stream[0].payload() == "moved");
  CHECK(stream[0].command() == decided.command);
  CHECK(stream[1].payload_version() == 1);
  CHECK(stream[1].command().empty());
  CHECK(stream[1].payload() == "levelled");
  CHECK(stream[2].view().schema_version() == format::envelope_v2);
  CHECK(stream[2].payload_version() == 1);
  CHECK(stream[2].command().empty());
  CHECK(stream[2].payload() == "older");
  // The command is in the record, so the chain covers it.
  CHECK(stream[1].prev_hash() == stream[0].hash());
  auto verified = log->verify(7);
  REQUIRE_OK(verified);
  CHECK(*verified == 3);
}

TEST_CASE("an append that its envelope cannot hold is refused naming the event") {
  TempDir dir;
  auto log = open_log(dir / "log");
  NewEvent with_command = make_event(3, "moved", {}, base_time);
  with_command.command = "move";
  with_command.envelope = format::envelope_v2;
  NewEvent versioned = make_event(3, "moved", {}, base_time);
  versioned.payload_version = 2;
  versioned.envelope = format::envelope_v1;
  NewEvent unversioned = make_event(3, "moved", {}, base_time);
  unversioned.payload_version = 0;
  NewEvent unknown = make_event(3, "moved", {}, base_time);
  unknown.envelope = 9;
  for (const NewEvent& event : {with_command, versioned, unversioned, unknown}) {
    const std::vector<NewEvent> events{make_event(1, "fine", {}, base_time), event};
    const auto appended = log->append(7, any_seq, events);
    CHECK(error_code(appended) == Errc::invalid_argument);
    CHECK_MESSAGE(error_message(appended).find("event 1 ") != std::string::npos,
                  error_message(appended));
  }
  CHECK(log->head(7) == 0);
}

TEST_CASE("an append is one positions entry, and an actor's consecutive events in it one") {
  TempDir dir;
  const Actor a{ActorKind::player, 1};
  const Actor b{ActorKind::mob, 2};
  {
    auto log = open_log(dir / "log");
    append_one(*log, 5, 0, make_event(1, "p1", b));
    append_events(*log, 5, 1,
                  {make_event(1, "p2", a), make_event(1, "p3", a), make_event(1, "p4", b),
                   make_event(1, "p5", a), make_event(1, "p6", a)});
    REQUIRE_OK(log->settle_storage(settle_limit));
  }
  {
    RawDb raw((dir / "log").string());
    const auto entry = [](std::span<const char> key, format::IndexRun run) {
      return std::pair{std::string(format::as_view(key)),
                       std::string(format::IndexRunValue(run).view())};
    };
    using Entries = std::vector<std::pair<std::string, std::string>>;
    CHECK(raw.entries(format::positions_cf) == Entries{entry(format::position_key(1), {5, 1, 1}),
                                                       entry(format::position_key(6), {5, 6, 5})});
    CHECK(raw.entries(format::actors_cf) ==
          Entries{entry(format::actor_key(a, 3), {5, 3, 2}),
                  entry(format::actor_key(a, 6), {5, 6, 2}),
                  entry(format::actor_key(b, 1), {5, 1, 1}),
                  entry(format::actor_key(b, 4), {5, 4, 1}),
                  {std::string(format::actor_watermark_key),
                   std::string(format::as_view(format::position_key(6)))}});
  }
  auto log = open_log(dir / "log");
  // Reads that start inside a run.
  CHECK(positions_of(read_all_events(*log, 4)) == std::vector<std::uint64_t>{4, 5, 6});
  auto limited = log->read_all(3, 2);
  REQUIRE_OK(limited);
  CHECK(positions_of(*limited) == std::vector<std::uint64_t>{3, 4});
  auto of_a = log->read_actor(a, 3, everything);
  REQUIRE_OK(of_a);
  CHECK(positions_of(*of_a) == std::vector<std::uint64_t>{3, 5, 6});
  auto first_three = log->read_actor(a, 1, 3);
  REQUIRE_OK(first_three);
  CHECK(positions_of(*first_three) == std::vector<std::uint64_t>{2, 3, 5});
}

TEST_CASE("the actor index skips the WAL: a close leaves it to the next open, which stores it") {
  TempDir dir;
  const Actor actor{ActorKind::player, 4};
  {
    auto log = open_log(dir / "log");
    append_n(*log, 1, 3, actor);
    append_n(*log, 2, 2, actor);
    auto found = log->read_actor(actor, 1, everything); // indexed, in memory only
    REQUIRE_OK(found);
    CHECK(found->size() == 5);
  }
  // What the WAL and the table files hold: the records and positions, no actors entry.
  CHECK(RawDb((dir / "log").string()).entries(format::actors_cf).empty());
  CHECK(RawDb((dir / "log").string()).entries(format::positions_cf).size() == 5);
  {
    auto log = open_log(dir / "log");
    auto found = log->read_actor(actor, 1, everything);
    REQUIRE_OK(found);
    CHECK(positions_of(*found) == numbers(1, 5));
  }
  // The open stored what it rebuilt: two runs (one per stream) and the watermark.
  RawDb raw((dir / "log").string());
  const auto stored = raw.entries(format::actors_cf);
  REQUIRE(stored.size() == 3);
  CHECK(stored[1].first == format::as_view(format::actor_key(actor, 5)));
  CHECK(stored[1].second == format::IndexRunValue({2, 2, 2}).view());
  CHECK(stored[2].second == format::as_view(format::position_key(5)));
}

TEST_CASE("a log of format version 2 reads with its indexes as they are, and a writer goes on") {
  // Format version 2 indexed every event on its own, 16-byte values, and kept the actors
  // watermark in the default column family; its actors index went through the WAL.
  const Actor actors[] = {{ActorKind::player, 1}, {ActorKind::mob, 1}};
  const auto actor_at = [&](Position position) { return actors[position % 2]; };
  TempDir dir;
  {
    auto log = open_log(dir / "log");
    for (Position position = 1; position <= 6; ++position) {
      append_one(*log, 1 + position % 3, any_seq,
                 make_event(1, fmt::format("event {}", position), actor_at(position)));
    }
  }
  const auto written = [&] {
    auto log = open_log(dir / "log", {.read_only = true});
    return read_all_events(*log);
  }();
  REQUIRE(written.size() == 6);
  {
    RawDb raw((dir / "log").string());
    for (const char* cf : {format::positions_cf, format::actors_cf}) {
      for (const auto& [key, value] : raw.entries(cf))
        raw.remove(cf, key);
    }
    // The watermark stops short of the last event: the rest is for the writer to index.
    for (const auto& event : written) {
      const auto key = format::stream_seq_key(event.stream(), event.seq());
      raw.put(format::positions_cf, format::as_view(format::position_key(event.position())),
              format::as_view(key));
      if (event.position() <= 5) {
        raw.put(format::actors_cf,
                format::as_view(format::actor_key(event.actor(), event.position())),
                format::as_view(key));
      }
    }
    raw.put("default", format::legacy_actor_watermark_key,
            format::as_view(format::position_key(5)));
    raw.put("default", format::format_version_key, big_endian_u32(2));
  }
  const auto check_reads = [&](const EventLog& log, Position through) {
    const auto all = read_all_events(log);
    REQUIRE(all.size() == through);
    for (std::size_t i = 0; i < written.size(); ++i)
      CHECK(all[i].view().record() == written[i].view().record());
    for (const Actor& actor : actors) {
      CAPTURE(actor);
      std::vector<std::uint64_t> expected;
      for (Position position = 1; position <= through; ++position) {
        if (actor_at(position) == actor) expected.push_back(position);
      }
      auto found = log.read_actor(actor, 1, everything);
      REQUIRE_OK(found);
      CHECK(positions_of(*found) == expected);
    }
  };
  {
    auto reader = open_log(dir / "log", {.read_only = true});
    check_reads(*reader, 6);
    auto lost = reader->find_lost_tails();
    REQUIRE_OK(lost);
    CHECK(lost->empty());
  }
  CHECK(RawDb((dir / "log").string()).get("default", format::format_version_key) ==
        big_endian_u32(2));
  {
    auto log = open_log(dir / "log");
    for (Position position = 7; position <= 10; ++position) {
      append_one(*log, 1 + position % 3, any_seq,
                 make_event(1, fmt::format("event {}", position), actor_at(position)));
    }
    check_reads(*log, 10);
  }
  CHECK(RawDb((dir / "log").string()).get("default", format::format_version_key) ==
        big_endian_u32(format::format_version));
  auto reopened = open_log(dir / "log");
  check_reads(*reopened, 10);
  auto lost = reopened->find_lost_tails();
  REQUIRE_OK(lost);
  CHECK(lost->empty());
}

TEST_CASE("a current record is smaller than its format 1 envelope by the widths it does not need") {
  TempDir dir;
  auto log = open_log(dir / "log");
  NewEvent event = make_event(3, std::string(100, 'p'), {ActorKind::player, 8}, base_time);
  event.tick = 1234;
  event.command_id = 77;
  append_events(*log, 1, 0, {event});
  event.envelope = format::envelope_v1;
  append_events(*log, 2, 0, {event});
  const auto current = read_stream_all(*log, 1).front();
  const auto old = read_stream_all(*log, 2).front();
  CHECK(old.view().record().size() == 304);
  CHECK(current.view().record().size() <= 216);
  // Models decode payloads in place: it starts 8-byte aligned within the record.
  CHECK((current.payload().data() - current.view().record().data()) % 8 == 0);
}

/// Makes a plain RocksDB database (not a log) in `dir` with a key in each of `families`
/// ("default" first).
void make_plain_rocksdb(const std::filesystem::path& dir,
                        const std::vector<std::string>& families) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : families)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const auto opened = rocksdb::DB::Open(options, dir.string(), descriptors, &handles, &raw);
  REQUIRE_MESSAGE(opened.ok(), opened.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  for (auto* handle : handles) {
    CHECK(db->Put(synced, handle, "someone's key", "someone's value").ok());
    CHECK(db->DestroyColumnFamilyHandle(handle).ok());
  }
  CHECK(db->Close().ok());
}

TEST_CASE("an open that refuses a directory leaves every byte of it as it was") {
  TempDir dir;
  const auto target = dir / "target";
  std::string expected_words;
  SUBCASE("a plain RocksDB database with only the default column family") {
    make_plain_rocksdb(target, {"default"});
    expected_words = "not a worldlog log";
  }
  SUBCASE("a plain RocksDB database with column families of its own") {
    make_plain_rocksdb(target, {"default", "users", "events"});
    expected_words = "not a worldlog log";
  }
  SUBCASE("a log written by a newer format version") {
    {
      auto log = open_log(target);
      append_n(*log, 1, 3);
      REQUIRE_OK(log->put_snapshot(1, 3, "state"));
    }
    {
      RawDb raw(target.string());
      raw.put("default", format::format_version_key, big_endian_u32(99));
    }
    expected_words = "format version 99";
  }
  SUBCASE("a directory of files that is no database") {
    std::filesystem::create_directories(target / "notes");
    std::ofstream(target / "notes" / "todo.txt") << "buy milk\n";
    std::ofstream(target / "LOG") << "not RocksDB's\n";
    expected_words = "no worldlog log";
  }
  SUBCASE("a regular file") {
    std::ofstream(target) << "a file where the log would go\n";
    expected_words = "not a directory";
  }
  const auto before = dir_contents(target);
  REQUIRE_FALSE(before.empty());

  auto opened = log::EventLog::open(target, fast_options());
  CHECK(error_code(opened) == Errc::incompatible_format);
  CHECK_MESSAGE(error_message(opened).find(target.string()) != std::string::npos,
                error_message(opened));
  CHECK_MESSAGE(error_message(opened).find(expected_words) != std::string::npos,
                error_message(opened));
  CHECK_CONTENTS_UNCHANGED(before, dir_contents(target));
}

TEST_CASE("a second writer is refused without a byte of the open log changed") {
  TempDir dir;
  auto writer = open_log(dir / "log");
  append_n(*writer, 1, 3);
  auto indexed = writer->read_actor({}, 1, everything); // waits for the indexer's write
  REQUIRE_OK(indexed);
  const auto before = dir_contents(dir / "log");
  auto second = log::EventLog::open(dir / "log", fast_options());
  CHECK(error_code(second) == Errc::io_error);
  CHECK_MESSAGE(error_message(second).find("open for writing elsewhere") != std::string::npos,
                error_message(second));
  CHECK_CONTENTS_UNCHANGED(before, dir_contents(dir / "log"));
  // And the writer still holds its lock and appends.
  append_n(*writer, 1, 1);
  CHECK(writer->head(1) == 4);
}

TEST_CASE("a log whose creation stopped before its format version was stored opens as new") {
  TempDir dir;
  {
    // What a crash between creating the column families and storing the version leaves.
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const char* name : {"default", format::events_cf, format::positions_cf, format::actors_cf,
                             format::snapshots_cf})
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(options, (dir / "log").string(), descriptors, &handles, &raw).ok());
    for (auto* handle : handles)
      CHECK(raw->DestroyColumnFamilyHandle(handle).ok());
    CHECK(raw->Close().ok());
    delete raw;
  }
  {
    auto log = open_log(dir / "log");
    CHECK(log->streams().empty());
    append_n(*log, 1, 2);
  }
  RawDb raw((dir / "log").string());
  CHECK(raw.get("default", format::format_version_key) == big_endian_u32(format::format_version));
}

TEST_CASE("a new log is created in a missing or an empty directory, or where a creation stopped") {
  TempDir dir;
  std::filesystem::create_directory(dir / "empty");
  // What RocksDB writes before the CURRENT file that makes a database, when a creation stops
  // there (a crash, a full disk).
  std::filesystem::create_directory(dir / "stopped");
  for (const char* name :
       {"LOCK", "IDENTITY", "LOG", "LOG.old.1700000000000000", "MANIFEST-000001", "000001.dbtmp"})
    std::ofstream(dir / "stopped" / name) << "";
  for (const auto& target : {dir / "missing", dir / "empty", dir / "stopped"}) {
    CAPTURE(target);
    {
      auto log = open_log(target);
      append_n(*log, 1, 2);
    }
    auto log = open_log(target);
    CHECK(log->head(1) == 2);
  }
}

TEST_SUITE_END();

// ---- read-only logs: a reader beside the writer, or on a copy ------------------------------

[[nodiscard]] log::Options read_only() { return {.read_only = true}; }

/// The entries of `dir`, recursively, with their sizes: what a reader must leave as it was.
std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    entries.push_back(fmt::format("{} {}", entry.path().lexically_relative(dir).string(),
                                  entry.is_regular_file() ? entry.file_size() : 0));
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

/// Points the temporary directory ($TMPDIR) somewhere else while it lives.
class TmpdirOverride {
public:
  explicit TmpdirOverride(const std::filesystem::path& dir) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TmpdirOverride() {
    if (old_) {
      ::setenv("TMPDIR", old_->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }
  TmpdirOverride(const TmpdirOverride&) = delete;
  TmpdirOverride& operator=(const TmpdirOverride&) = delete;

private:
  std::optional<std::string> old_;
};

TEST_SUITE_BEGIN("log/read_only");

TEST_CASE("a reader beside an open writer sees the log as of opening until it refreshes") {
  TempDir dir;
  auto writer = open_log(dir / "log");
  const Actor player{ActorKind::player, 3};
  append_n(*writer, 1, 3, player);
  append_n(*writer, 2, 2);

  // The writer holds RocksDB's lock on the directory; a reader takes none.
  auto reader = open_log(dir / "log", read_only());
  CHECK(reader->streams() == std::vector<StreamId>{1, 2});
  CHECK(reader->head(1) == 3);
  CHECK(reader->last_position() == 5);
  CHECK(positions_of(read_all_events(*reader)) == numbers(1, 5));
  CHECK(payloads_of(read_stream_all(*reader, 1)) == payloads_of(read_stream_all(*writer, 1)));
  auto verified = reader->verify(1);
  REQUIRE_OK(verified);
  CHECK(*verified == 3);

  append_n(*writer, 1, 2, player);
  append_n(*writer, 3, 1);
  CHECK(reader->head(1) == 3);
  CHECK(reader->last_position() == 5);
  CHECK(positions_of(read_all_events(*reader)) == numbers(1, 5));
  CHECK(seqs_of(read_stream_all(*reader, 1)) == numbers(1, 3));

  auto refreshed = reader->refresh();
  REQUIRE_OK(refreshed);
  CHECK(reader->streams() == std::vector<StreamId>{1, 2, 3});
  CHECK(reader->head(1) == 5);
  CHECK(reader->last_position() == 8);
  CHECK(positions_of(read_all_events(*reader)) == numbers(1, 8));
  CHECK(payloads_of(read_stream_all(*reader, 1)) == payloads_of(read_stream_all(*writer, 1)));
  auto by_player = reader->read_actor(player, 1, everything);
  REQUIRE_OK(by_player);
  CHECK(positions_of(*by_player) == std::vector<std::uint64_t>{1, 2, 3, 6, 7});
  verified = reader->verify(1);
  REQUIRE_OK(verified);
  CHECK(*verified == 5);

  auto again = reader->refresh();
  CHECK_OK(again);
  CHECK(reader->last_position() == 8);
}

TEST_CASE("a reader refuses appends and snapshots and a writer refuses refresh") {
  TempDir dir;
  {
    auto writer = open_log(dir / "log");
    append_n(*writer, 1, 2);
    REQUIRE_OK(writer->put_snapshot(1, 2, "state"));
    auto refreshed = writer->refresh();
    CHECK(error_code(refreshed) == Errc::invalid_argument);
  }
  auto reader = open_log(dir / "log", read_only());
  auto appended = reader->append(1, 2, std::vector<NewEvent>{make_event(1, "more")});
  CHECK(error_code(appended) == Errc::invalid_argument);
  CHECK_MESSAGE(error_message(appended).find("read-only") != std::string::npos,
                error_message(appended));
  auto stored = reader->put_snapshot(1, 2, "other");
  CHECK(error_code(stored) == Errc::invalid_argument);
  CHECK(reader->head(1) == 2);

  auto snapshot = reader->latest_snapshot(1);
  REQUIRE_OK(snapshot);
  REQUIRE(snapshot->has_value());
  CHECK((*snapshot)->bytes == "state");
}

TEST_CASE("a reader changes nothing in the log's directory and leaves nothing behind") {
  TempDir dir;
  {
    auto writer = open_log(dir / "log");
    append_n(*writer, 1, 4);
  }
  const auto before = listing(dir / "log");
  std::filesystem::create_directory(dir / "tmp");
  {
    const TmpdirOverride tmpdir(dir / "tmp");
    auto reader = open_log(dir / "log", read_only());
    CHECK(seqs_of(read_stream_all(*reader, 1)) == numbers(1, 4));
    REQUIRE_OK(reader->refresh());
    // Its own directory is gone once it is open, so a reader killed by a signal leaves none.
    CHECK(std::filesystem::is_empty(dir / "tmp"));
  }
  CHECK(listing(dir / "log") == before);
  CHECK(std::filesystem::is_empty(dir / "tmp"));
}

TEST_CASE("a read-only open of a directory without a log is not_found and creates nothing") {
  TempDir dir;
  auto missing = log::EventLog::open(dir / "nothing", read_only());
  CHECK(error_code(missing) == Errc::not_found);
  CHECK_FALSE(std::filesystem::exists(dir / "nothing"));

  std::filesystem::create_directory(dir / "empty");
  auto empty = log::EventLog::open(dir / "empty", {.create_if_missing = true, .read_only = true});
  CHECK(error_code(empty) == Errc::not_found);
  CHECK(std::filesystem::is_empty(dir / "empty"));
}

TEST_CASE("a reader's read_actor covers the events past the writer's index watermark") {
  // A reader does not index: what the writer's indexer has not stored yet (it runs just behind
  // the commit, and a crash loses its newest entries) is found by scanning past the watermark.
  const Actor actors[] = {{ActorKind::player, 1}, {ActorKind::player, 2}, {ActorKind::mob, 1}};
  const auto actor_at = [&](Position position) { return actors[(position - 1) % 3]; };
  constexpr Position events = 12;
  for (const Position watermark : {Position{12}, Position{5}, Position{0}}) {
    CAPTURE(watermark);
    TempDir dir;
    {
      auto log = open_log(dir / "log");
      for (Position position = 1; position <= events; ++position) {
        append_one(*log, 1 + position % 2, any_seq,
                   make_event(1, fmt::format("event {}", position), actor_at(position)));
      }
      REQUIRE_OK(log->settle_storage(settle_limit));
    }
    {
      RawDb raw((dir / "log").string());
      for (Position position = watermark + 1; position <= events; ++position) {
        raw.remove(format::actors_cf,
                   format::as_view(format::actor_key(actor_at(position), position)));
      }
      raw.put(format::actors_cf, format::actor_watermark_key,
              format::as_view(format::position_key(watermark)));
    }
    auto reader = open_log(dir / "log", read_only());
    for (const Actor& actor : actors) {
      CAPTURE(actor);
      std::vector<std::uint64_t> expected;
      for (Position position = 1; position <= events; ++position) {
        if (actor_at(position) == actor) expected.push_back(position);
      }
      auto found = reader->read_actor(actor, 1, everything);
      REQUIRE_OK(found);
      CHECK(positions_of(*found) == expected);

      // From a position and with a limit, on both sides of the watermark.
      auto later = reader->read_actor(actor, 5, 2);
      REQUIRE_OK(later);
      std::vector<std::uint64_t> expected_later;
      for (const auto position : expected) {
        if (position >= 5 && expected_later.size() < 2) expected_later.push_back(position);
      }
      CHECK(positions_of(*later) == expected_later);
    }
  }
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// Corruption: records tampered with on disk (through raw RocksDB, the log closed) are reported
// as corruption naming the stream and seq, and the rest of the log stays readable.
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "log/format.hpp"
#include "support/log_helpers.hpp"
#include "support/raw_db.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

namespace format = log::format;
using log::end_seq;

constexpr StreamId stream_a = 11;
constexpr StreamId stream_b = 12;
constexpr Seq events_per_stream = 8;
constexpr Seq bad_seq = 5; // K: the record of stream A that gets damaged

/// A closed log of two interleaved streams, A and B, and a way to damage it.
class DamagedLog {
public:
  DamagedLog() {
    auto log = open_log(dir_ / "log");
    for (Seq seq = 1; seq <= events_per_stream; ++seq) {
      const auto a = append_n(*log, stream_a, 1);
      if (seq == bad_seq) bad_position_ = a.front().first_position;
      append_n(*log, stream_b, 1);
    }
    last_position_ = log->last_position();
  }

  /// Rewrites the stored record of stream A seq K with `damage`.
  void damage_record(const std::function<void(std::string&)>& damage) {
    RawDb raw((dir_ / "log").string());
    const auto key = format::stream_seq_key(stream_a, bad_seq);
    std::string record = raw.get(format::events_cf, format::as_view(key));
    REQUIRE(record.size() > format::hash_size);
    damage(record);
    raw.put(format::events_cf, format::as_view(key), record);
  }

  /// Deletes the record of stream A seq K (the indexes still point at it).
  void delete_record() {
    RawDb raw((dir_ / "log").string());
    raw.remove(format::events_cf, format::as_view(format::stream_seq_key(stream_a, bad_seq)));
  }

  /// Deletes the positions index entry of stream A seq K (the record stays).
  void delete_position() {
    RawDb raw((dir_ / "log").string());
    raw.remove(format::positions_cf, format::as_view(format::position_key(bad_position_)));
  }

  [[nodiscard]] std::unique_ptr<EventLog> reopen() { return open_log(dir_ / "log"); }
  [[nodiscard]] Position bad_position() const { return bad_position_; }
  [[nodiscard]] Position last_position() const { return last_position_; }

private:
  TempDir dir_;
  Position bad_position_ = 0;
  Position last_position_ = 0;
};

void flip(std::string& record, std::size_t offset) {
  REQUIRE(offset < record.size());
  record[offset] = static_cast<char>(record[offset] ^ 0x5a);
}

/// "stream A seq K", the words every report of the damage must contain.
std::string bad_record_name() { return fmt::format("stream {} seq {}", stream_a, bad_seq); }

template <typename R> void check_names_bad_record(const R& result) {
  CHECK(error_code(result) == Errc::corruption);
  const std::string message = error_message(result);
  CHECK_MESSAGE(message.find(bad_record_name()) != std::string::npos,
                fmt::format("'{}' does not name {}", message, bad_record_name()));
}

template <typename R> void check_names_bad_seq(const R& result) {
  CHECK(error_code(result) == Errc::corruption);
  const std::string message = error_message(result);
  CHECK_MESSAGE(message.find(fmt::format("seq {}", bad_seq)) != std::string::npos,
                fmt::format("'{}' does not name seq {}", message, bad_seq));
}

/// Everything that does not touch the bad record still reads and verifies.
void check_rest_is_readable(const EventLog& log, const DamagedLog& damaged) {
  auto below = log.read_stream(stream_a, 1, bad_seq - 1);
  REQUIRE_OK(below);
  CHECK(seqs_of(*below) == numbers(1, bad_seq - 1));

  auto above = log.read_stream(stream_a, bad_seq + 1, everything);
  REQUIRE_OK(above);
  CHECK(seqs_of(*above) == numbers(bad_seq + 1, events_per_stream));

  auto newest = log.read_stream_backward(stream_a, end_seq, events_per_stream - bad_seq);
  REQUIRE_OK(newest);
  CHECK(newest->size() == events_per_stream - bad_seq);

  const auto other = read_stream_all(log, stream_b);
  CHECK(seqs_of(other) == numbers(1, events_per_stream));
  auto verified = log.verify(stream_b);
  REQUIRE_OK(verified);
  CHECK(*verified == events_per_stream);

  auto after = log.read_all(damaged.bad_position() + 1, everything);
  REQUIRE_OK(after);
  CHECK(positions_of(*after) == numbers(damaged.bad_position() + 1, damaged.last_position()));

  auto before = log.read_all(1, damaged.bad_position() - 1);
  REQUIRE_OK(before);
  CHECK(positions_of(*before) == numbers(1, damaged.bad_position() - 1));
}

TEST_SUITE_BEGIN("log/corruption");

TEST_CASE("a flipped envelope byte is corruption naming the stream and seq") {
  DamagedLog damaged;
  damaged.damage_record([](std::string& record) {
    // A byte inside the payload: the envelope stays well-formed, only the hash can tell.
    const auto offset = record.find(payload_for(stream_a, bad_seq));
    REQUIRE(offset != std::string::npos);
    flip(record, offset + 3);
  });
  auto log = damaged.reopen();
  CHECK(log->head(stream_a) == events_per_stream);

  check_names_bad_record(log->read_stream(stream_a, 1, everything));
  check_names_bad_record(log->read_stream_backward(stream_a, end_seq, everything));
  check_names_bad_record(log->read_all(1, everything));
  check_names_bad_seq(log->verify(stream_a));
  check_rest_is_readable(*log, damaged);
}

TEST_CASE(
    "a scan that trusts hashes passes an edited payload and still refuses a broken envelope") {
  DamagedLog damaged;
  damaged.damage_record([](std::string& record) {
    const auto offset = record.find(payload_for(stream_a, bad_seq));
    REQUIRE(offset != std::string::npos);
    flip(record, offset + 3);
  });
  auto log = damaged.reopen();
  const auto scan = [&](log::RecordCheck check) {
    std::vector<Seq> seen;
    const Status scanned = log->scan_stream(
        stream_a, 1, everything,
        [&](const log::EventView& event) {
          seen.push_back(event.seq());
          return true;
        },
        check);
    return std::pair{scanned, seen};
  };
  // Not structured bindings: clang 14 cannot capture those in the check macros' lambdas.
  const auto checked = scan(log::RecordCheck::hash);
  check_names_bad_record(checked.first);
  CHECK(checked.second == numbers(1, bad_seq - 1));
  const auto trusted = scan(log::RecordCheck::envelope);
  REQUIRE_OK(trusted.first);
  CHECK(trusted.second == numbers(1, events_per_stream));
  // The edit is the chain's business: verify still finds it.
  check_names_bad_seq(log->verify(stream_a));

  DamagedLog broken;
  broken.damage_record([](std::string& record) { flip(record, format::hash_size); });
  auto reopened = broken.reopen();
  check_names_bad_record(reopened->scan_stream(
      stream_a, 1, everything, [](const log::EventView&) { return true; },
      log::RecordCheck::envelope));
}

TEST_CASE("a flipped byte in the envelope's header is corruption naming the seq") {
  DamagedLog damaged;
  // The envelope's format tag: without it the record cannot be read at all.
  damaged.damage_record([](std::string& record) { flip(record, format::hash_size); });
  auto log = damaged.reopen();
  check_names_bad_record(log->read_stream(stream_a, 1, everything));
  check_names_bad_seq(log->verify(stream_a));
  check_rest_is_readable(*log, damaged);
}

TEST_CASE("a flipped byte of the hash prefix is reported at that seq") {
  DamagedLog damaged;
  damaged.damage_record([](std::string& record) { flip(record, 7); });
  auto log = damaged.reopen();
  check_names_bad_record(log->read_stream(stream_a, 1, everything));
  check_names_bad_seq(log->verify(stream_a));
  check_rest_is_readable(*log, damaged);
}

TEST_CASE("a record copied under another seq's key is corruption naming the seq") {
  DamagedLog damaged;
  std::string previous;
  {
    auto log = damaged.reopen();
    previous = std::string(read_stream_all(*log, stream_a)[bad_seq - 2].view().record());
  }
  // A well-formed record with a valid hash, but it claims seq K - 1.
  damaged.damage_record([&](std::string& record) { record = previous; });
  auto log = damaged.reopen();
  check_names_bad_record(log->read_stream(stream_a, 1, everything));
  check_names_bad_seq(log->verify(stream_a));
  check_rest_is_readable(*log, damaged);
}

TEST_CASE("verify finds a re-hashed record whose chain link is broken") {
  DamagedLog damaged;
  damaged.damage_record([&](std::string& record) {
    // Forge a different predecessor and recompute the record's own hash: the record alone
    // verifies, only the chain can tell.
    log::Hash forged{};
    forged.fill(0xab);
    const auto view = log::EventView(record);
    (void)format::seal(record, bad_seq, view.position(), view.wall_time_us(), forged);
  });
  auto log = damaged.reopen();
  check_names_bad_seq(log->verify(stream_a));
  auto verified = log->verify(stream_b);
  REQUIRE_OK(verified);
  CHECK(*verified == events_per_stream);
}

TEST_CASE("verify names the seq of a record deleted from the middle of a stream") {
  DamagedLog damaged;
  damaged.delete_record();
  auto log = damaged.reopen();
  check_names_bad_seq(log->verify(stream_a));
  auto verified = log->verify(stream_b);
  REQUIRE_OK(verified);
  CHECK(*verified == events_per_stream);
}

TEST_CASE("reading across a deleted record is an error and not a silent gap") {
  DamagedLog damaged;
  damaged.delete_record();
  auto log = damaged.reopen();
  auto read = log->read_stream(stream_a, 1, everything);
  const std::string handed_out =
      read.ok() ? fmt::format("{}", fmt::join(seqs_of(read.value()), ",")) : std::string();
  CHECK_MESSAGE(!read.ok(),
                fmt::format("read_stream handed out seqs {} without seq {}", handed_out, bad_seq));
  CHECK(error_code(read) == Errc::corruption);
}

TEST_CASE("reading backward across a deleted record names the missing seq") {
  DamagedLog damaged;
  damaged.delete_record();
  auto log = damaged.reopen();
  check_names_bad_seq(log->read_stream_backward(stream_a, log::end_seq, everything));
  auto above = log->read_stream_backward(stream_a, log::end_seq, events_per_stream - bad_seq);
  REQUIRE_OK(above);
  CHECK(seqs_of(above.value()) == std::vector<std::uint64_t>{8, 7, 6});
}

TEST_CASE("a position deleted from the index is corruption naming it and not a silent gap") {
  DamagedLog damaged;
  damaged.delete_position();
  auto log = damaged.reopen();
  const std::string name = fmt::format("position {}", damaged.bad_position());
  for (const Position from : {Position{1}, damaged.bad_position()}) {
    CAPTURE(from);
    auto read = log->read_all(from, everything);
    CHECK(error_code(read) == Errc::corruption);
    CHECK_MESSAGE(error_message(read).find(name) != std::string::npos, error_message(read));
  }
  auto before = log->read_all(1, damaged.bad_position() - 1);
  REQUIRE_OK(before);
  CHECK(positions_of(*before) == numbers(1, damaged.bad_position() - 1));
  auto after = log->read_all(damaged.bad_position() + 1, everything);
  REQUIRE_OK(after);
  CHECK(positions_of(*after) == numbers(damaged.bad_position() + 1, damaged.last_position()));
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// Snapshots: opaque bytes per (stream, seq), found at-or-before a seq, pruned to the newest few.
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include <worldlog/log/event_log.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

using log::end_seq;

/// The seq of the snapshot latest_snapshot finds, or nullopt; requires the call to succeed.
std::optional<Seq> snapshot_seq(const EventLog& log, StreamId stream, Seq at_or_before = end_seq) {
  auto found = log.latest_snapshot(stream, at_or_before);
  REQUIRE_OK(found);
  if (!found->has_value()) return std::nullopt;
  return (*found)->seq;
}

std::string state_at(StreamId stream, Seq seq) {
  // Binary on purpose: snapshots are opaque bytes, NULs included.
  return fmt::format("state of {} after {}", stream, seq) + std::string("\0\xff", 2);
}

void put(EventLog& log, StreamId stream, Seq seq, std::size_t keep_last = 3) {
  auto stored = log.put_snapshot(stream, seq, state_at(stream, seq), keep_last);
  REQUIRE_OK(stored);
}

TEST_SUITE_BEGIN("log/snapshot");

TEST_CASE("latest_snapshot finds the newest snapshot at or before a seq") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 40);
  append_n(*log, 2, 40);
  put(*log, 1, 10);
  put(*log, 1, 20);
  put(*log, 1, 30);
  put(*log, 2, 15); // a neighbouring stream's snapshots must not be found for stream 1

  auto newest = log->latest_snapshot(1);
  REQUIRE_OK(newest);
  REQUIRE(newest->has_value());
  CHECK((*newest)->seq == 30);
  CHECK((*newest)->bytes == state_at(1, 30));

  CHECK(snapshot_seq(*log, 1, 35) == Seq{30});
  CHECK(snapshot_seq(*log, 1, 30) == Seq{30}); // at
  CHECK(snapshot_seq(*log, 1, 29) == Seq{20}); // before
  CHECK(snapshot_seq(*log, 1, 20) == Seq{20});
  CHECK(snapshot_seq(*log, 1, 10) == Seq{10});
  CHECK(snapshot_seq(*log, 1, 9) == std::nullopt);
  CHECK(snapshot_seq(*log, 2, 14) == std::nullopt);
  CHECK(snapshot_seq(*log, 2) == Seq{15});

  auto twenty = log->latest_snapshot(1, 25);
  REQUIRE_OK(twenty);
  REQUIRE(twenty->has_value());
  CHECK((*twenty)->bytes == state_at(1, 20));
}

TEST_CASE("latest_snapshot is nullopt when a stream has none") {
  TempDir dir;
  auto log = open_log(dir / "log");
  CHECK(snapshot_seq(*log, 1) == std::nullopt);
  append_n(*log, 1, 5);
  CHECK(snapshot_seq(*log, 1) == std::nullopt);
  append_n(*log, 2, 5);
  put(*log, 2, 5);
  CHECK(snapshot_seq(*log, 1) == std::nullopt); // stream 2's does not count
  CHECK(snapshot_seq(*log, 3) == std::nullopt); // nor for a stream above it
}

TEST_CASE("put_snapshot keeps only the newest keep_last snapshots of the stream") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 50);
  append_n(*log, 2, 50);
  put(*log, 1, 5); // stream 1, kept: pruning stream 2 must not reach it
  put(*log, 2, 10);
  put(*log, 2, 20);
  put(*log, 2, 30);
  put(*log, 2, 40, 2); // keeps 30 and 40

  CHECK(snapshot_seq(*log, 2) == Seq{40});
  CHECK(snapshot_seq(*log, 2, 39) == Seq{30});
  CHECK(snapshot_seq(*log, 2, 29) == std::nullopt); // 10 and 20 were deleted
  CHECK(snapshot_seq(*log, 1) == Seq{5});

  // The default keeps three.
  put(*log, 2, 41);
  put(*log, 2, 42);
  put(*log, 2, 43);
  CHECK(snapshot_seq(*log, 2, 40) == std::nullopt);
  CHECK(snapshot_seq(*log, 2, 41) == Seq{41});

  put(*log, 2, 50, 1);
  CHECK(snapshot_seq(*log, 2, 49) == std::nullopt);
  CHECK(snapshot_seq(*log, 2) == Seq{50});
  CHECK(snapshot_seq(*log, 1) == Seq{5});
}

TEST_CASE("snapshots survive reopening the log") {
  TempDir dir;
  {
    auto log = open_log(dir / "log");
    append_n(*log, 1, 30);
    put(*log, 1, 10);
    put(*log, 1, 25);
  }
  auto log = open_log(dir / "log");
  auto newest = log->latest_snapshot(1);
  REQUIRE_OK(newest);
  REQUIRE(newest->has_value());
  CHECK((*newest)->seq == 25);
  CHECK((*newest)->bytes == state_at(1, 25));
  CHECK(snapshot_seq(*log, 1, 24) == Seq{10});
  CHECK(snapshot_seq(*log, 1, 9) == std::nullopt);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

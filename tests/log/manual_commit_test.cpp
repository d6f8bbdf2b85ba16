// A log without a commit thread: appends wait in the queue until the caller commits them, as a
// deterministic simulation needs; a crash's discard drops what was not committed; and the same
// commits write the same bytes.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

log::Options manual() {
  log::Options options = fast_options();
  options.commit_thread = false;
  return options;
}

/// The bytes of every WAL file in `dir`, in file name order.
std::string wal_bytes(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> wals;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".log") wals.push_back(entry.path());
  std::sort(wals.begin(), wals.end());
  std::string bytes;
  for (const auto& wal : wals) {
    std::ifstream in(wal, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return bytes;
}

/// Forty commits of two actors' events, a little apart in time, as a simulation makes them.
std::string wal_of_a_schedule(const std::filesystem::path& dir) {
  auto log = open_log(dir, manual());
  for (std::int64_t i = 1; i <= 40; ++i) {
    const Actor actor{.kind = ActorKind::player, .id = static_cast<std::uint64_t>(i % 2 + 1)};
    const std::vector<NewEvent> one = {make_event(1, "step", actor, i)};
    log->append_async(static_cast<StreamId>(i % 3 + 1), log::any_seq, one, [](auto) {});
    CHECK(log->commit_queued() == 1);
    // Who did what is answerable as soon as the commit returns: no indexer thread to wait on.
    auto done = log->read_actor(actor, 1, everything);
    REQUIRE_OK(done);
    CHECK(done->back().position() == static_cast<Position>(i));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  log.reset();
  return wal_bytes(dir);
}

} // namespace

TEST_CASE("without a commit thread, appends commit only when the caller commits them") {
  TempDir dir;
  auto log = open_log(dir / "log", manual());
  std::vector<Result<AppendResult>> outcomes;
  const auto record = [&](Result<AppendResult> result) { outcomes.push_back(std::move(result)); };
  const std::vector<NewEvent> one = {make_event(1, "a")};
  log->append_async(7, 0, one, record);
  log->append_async(8, 0, one, record);
  log->append_async(7, 1, one, record);
  CHECK(outcomes.empty());
  CHECK(log->head(7) == 0);

  // Oldest first, at most as many as asked for, each handler run on this thread.
  CHECK(log->commit_queued(2) == 2);
  REQUIRE(outcomes.size() == 2);
  REQUIRE_OK(outcomes[0]);
  CHECK(outcomes[0]->last_position == 1);
  REQUIRE_OK(outcomes[1]);
  CHECK(outcomes[1]->stream == 8);
  CHECK(log->head(7) == 1);
  CHECK(log->commit_queued() == 1);
  CHECK(log->head(7) == 2);
  CHECK(log->commit_queued() == 0);
}

TEST_CASE("without a commit thread, a blocking append commits the queue itself") {
  TempDir dir;
  auto log = open_log(dir / "log", manual());
  std::optional<Result<AppendResult>> earlier;
  const std::vector<NewEvent> one = {make_event(1, "a")};
  log->append_async(3, 0, one, [&](Result<AppendResult> result) { earlier = std::move(result); });
  auto appended = log->append(3, 1, one);
  REQUIRE_OK(appended);
  CHECK(appended->last_seq == 2);
  REQUIRE(earlier.has_value());
  CHECK(earlier->ok());
}

TEST_CASE("discarding the queue drops uncommitted appends and tells their handlers") {
  TempDir dir;
  {
    auto log = open_log(dir / "log", manual());
    const std::vector<NewEvent> one = {make_event(1, "a")};
    REQUIRE_OK(log->append(5, 0, one));
    std::optional<Result<AppendResult>> dropped;
    log->append_async(5, 1, one, [&](Result<AppendResult> result) { dropped = std::move(result); });
    CHECK(log->discard_queued() == 1);
    REQUIRE(dropped.has_value());
    CHECK(error_code(*dropped) == Errc::closed);
    CHECK(log->commit_queued() == 0);
  }
  // Reopened, as after a crash: only what was committed is there.
  auto log = open_log(dir / "log");
  CHECK(log->head(5) == 1);
  CHECK(log->last_position() == 1);
}

TEST_CASE("without a commit thread, the same commits write the same WAL, actor index included") {
  TempDir dir;
  const std::string first = wal_of_a_schedule(dir / "first");
  const std::string second = wal_of_a_schedule(dir / "second");
  CHECK(!first.empty());
  CHECK(first == second);
}

} // namespace worldlog::test

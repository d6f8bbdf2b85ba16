// A log without a commit thread: appends wait in the queue until the caller commits them, as a
// deterministic simulation needs; a crash's discard drops what was not committed.
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

} // namespace worldlog::test

// EventLog under concurrency: many threads appending through the group commit, asynchronous
// appends, and failures inside a shared batch.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

using log::any_seq;

/// One append as a writer thread saw it: what it sent and where the log put it.
struct Landed {
  std::size_t thread = 0;
  AppendResult result;
  std::vector<std::string> payloads;
};

/// Counts completions of asynchronous appends and lets the test wait for a number of them.
class Completions {
public:
  explicit Completions(std::size_t count) : calls_(count, 0), results_(count) {}

  log::AppendHandler handler(std::size_t index) {
    return [this, index](Result<AppendResult> result) {
      std::lock_guard lock(mutex_);
      ++calls_[index];
      results_[index].emplace(std::move(result));
      ++done_;
      changed_.notify_all();
    };
  }

  /// Waits until `count` completions arrived; false if they did not within a minute (a hang).
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::minutes(1), [&] { return done_ >= count; });
  }

  std::size_t calls(std::size_t index) {
    std::lock_guard lock(mutex_);
    return calls_[index];
  }
  const Result<AppendResult>& result(std::size_t index) {
    std::lock_guard lock(mutex_);
    return *results_[index];
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::size_t> calls_;                           // guarded by mutex_
  std::vector<std::optional<Result<AppendResult>>> results_; // guarded by mutex_
  std::size_t done_ = 0;                                     // guarded by mutex_
};

TEST_SUITE_BEGIN("log/concurrent_append");

TEST_CASE("eight threads appending concurrently get gap-free positions and seqs") {
  constexpr std::size_t threads = 8;
  constexpr std::size_t rounds = 40;
  constexpr StreamId shared_stream = 1;
  const auto own_stream = [](std::size_t thread) -> StreamId { return 100 + thread; };

  TempDir dir;
  // Durability::sync, the default: this is the group commit's real path.
  auto log = open_log(dir / "log", log::Options{});

  std::mutex mutex;
  std::vector<Landed> landed;      // guarded by mutex
  std::vector<std::string> errors; // guarded by mutex; doctest asserts stay on this thread
  std::vector<std::thread> writers;
  for (std::size_t t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 random(static_cast<std::uint32_t>(t));
      Seq own_head = 0;
      for (std::size_t round = 0; round < rounds; ++round) {
        for (const bool shared : {false, true}) {
          const StreamId stream = shared ? shared_stream : own_stream(t);
          const std::size_t count = 1 + random() % 3;
          std::vector<NewEvent> events;
          std::vector<std::string> payloads;
          for (std::size_t i = 0; i < count; ++i) {
            payloads.push_back(fmt::format("thread {} round {} event {} {}", t, round, i,
                                           shared ? "shared" : "own"));
            events.push_back(make_event(1, payloads.back(), {ActorKind::player, t}));
          }
          auto appended = log->append(stream, shared ? any_seq : own_head, events);
          std::lock_guard lock(mutex);
          if (!appended.ok()) {
            errors.push_back(
                fmt::format("thread {} stream {}: {}", t, stream, appended.error().to_string()));
            return;
          }
          if (!shared) own_head = appended->last_seq;
          landed.push_back({t, *appended, std::move(payloads)});
        }
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  for (const auto& error : errors)
    FAIL_CHECK(error);
  REQUIRE(errors.empty());

  std::size_t total = 0;
  for (const auto& append : landed) {
    const auto& r = append.result;
    CHECK(r.last_seq - r.first_seq + 1 == append.payloads.size());
    CHECK(r.last_position - r.first_position + 1 == append.payloads.size());
    total += append.payloads.size();
  }
  CHECK(log->last_position() == total);

  // Positions 1..N, each once, strictly increasing; each append's events where it was told.
  const auto all = read_all_events(*log);
  REQUIRE(all.size() == total);
  CHECK(positions_of(all) == numbers(1, total));
  for (const auto& append : landed) {
    for (std::size_t i = 0; i < append.payloads.size(); ++i) {
      const Event& event = all[append.result.first_position + i - 1];
      CHECK(event.stream() == append.result.stream);
      CHECK(event.seq() == append.result.first_seq + i);
      CHECK(event.payload() == append.payloads[i]);
    }
  }

  // Per stream: seqs gap-free, positions rising with seqs, each thread's appends in its order,
  // and an intact hash chain.
  std::vector<StreamId> expected_streams = {shared_stream};
  for (std::size_t t = 0; t < threads; ++t)
    expected_streams.push_back(own_stream(t));
  CHECK(log->streams() == expected_streams);
  for (const StreamId stream : expected_streams) {
    CAPTURE(stream);
    const auto events = read_stream_all(*log, stream);
    CHECK(seqs_of(events) == numbers(1, events.size()));
    CHECK(log->head(stream) == events.size());
    for (std::size_t i = 1; i < events.size(); ++i) {
      CHECK(events[i].position() > events[i - 1].position());
    }
    std::map<std::size_t, std::vector<std::string>> sent_by_thread;
    for (const auto& append : landed) {
      if (append.result.stream != stream) continue;
      auto& sent = sent_by_thread[append.thread];
      sent.insert(sent.end(), append.payloads.begin(), append.payloads.end());
    }
    std::map<std::size_t, std::vector<std::string>> stored_by_thread;
    for (const auto& event : events) {
      stored_by_thread[event.actor().id].emplace_back(event.payload());
    }
    CHECK(stored_by_thread == sent_by_thread);
    auto verified = log->verify(stream);
    REQUIRE_OK(verified);
    CHECK(*verified == events.size());
  }
}

TEST_CASE("append_async completes the handler exactly once with the result") {
  constexpr std::size_t appends = 50;
  TempDir dir;
  Completions completions(appends); // outlives the log, whose close may still run handlers
  std::vector<std::vector<NewEvent>> batches; // kept alive until every append completed
  for (std::size_t i = 0; i < appends; ++i) {
    batches.push_back(
        {make_event(1, fmt::format("async {} a", i)), make_event(1, fmt::format("async {} b", i))});
  }
  auto log = open_log(dir / "log", log::Options{});
  for (std::size_t i = 0; i < appends; ++i) {
    log->append_async(7, any_seq, batches[i], completions.handler(i));
  }
  REQUIRE(completions.wait_for(appends));

  // Every append landed whole, at the positions and seqs its handler was told.
  std::vector<bool> seq_taken(2 * appends + 1, false);
  for (std::size_t i = 0; i < appends; ++i) {
    CAPTURE(i);
    const auto& result = completions.result(i);
    REQUIRE_OK(result);
    CHECK(result->stream == 7);
    CHECK(result->last_seq == result->first_seq + 1);
    CHECK(result->last_position == result->first_position + 1);
    REQUIRE(result->last_seq <= 2 * appends);
    CHECK(!seq_taken[result->first_seq]);
    CHECK(!seq_taken[result->last_seq]);
    seq_taken[result->first_seq] = seq_taken[result->last_seq] = true;
    auto stored = log->read_stream(7, result->first_seq, 2);
    REQUIRE_OK(stored);
    REQUIRE(stored->size() == 2);
    CHECK((*stored)[0].payload() == batches[i][0].payload);
    CHECK((*stored)[1].payload() == batches[i][1].payload);
    CHECK((*stored)[0].position() == result->first_position);
  }
  CHECK(log->head(7) == 2 * appends);
  CHECK(positions_of(read_all_events(*log)) == numbers(1, 2 * appends));

  // Closing the log must not run any handler a second time.
  log.reset();
  for (std::size_t i = 0; i < appends; ++i) {
    CAPTURE(i);
    CHECK(completions.calls(i) == 1);
  }
}

TEST_CASE("append_async reports errors to the handler") {
  TempDir dir;
  Completions completions(2);
  auto log = open_log(dir / "log");
  append_n(*log, 7, 3);
  const std::vector<NewEvent> events = {make_event(1, "late")};
  log->append_async(7, 1, events, completions.handler(0));
  log->append_async(7, 3, std::span<const NewEvent>{}, completions.handler(1));
  REQUIRE(completions.wait_for(2));
  CHECK(error_code(completions.result(0)) == Errc::conflict);
  CHECK(error_code(completions.result(1)) == Errc::invalid_argument);
  CHECK(log->head(7) == 3);
  log.reset();
  CHECK(completions.calls(0) == 1);
  CHECK(completions.calls(1) == 1);
}

TEST_CASE("a failing append in a group-committed batch fails alone") {
  constexpr std::size_t appends = 60;
  TempDir dir;
  Completions completions(appends);
  const std::vector<NewEvent> good = {make_event(1, "good")};
  const std::vector<NewEvent> backwards = {make_event(1, "late", {}, 2000),
                                           make_event(1, "early", {}, 1000)};
  auto log = open_log(dir / "log", log::Options{});
  append_n(*log, 2, 1);
  // Submitted back to back, so that many land in the same batch: every third is a conflict,
  // every third is invalid, the rest are fine.
  for (std::size_t i = 0; i < appends; ++i) {
    switch (i % 3) {
    case 0: log->append_async(1, any_seq, good, completions.handler(i)); break;
    case 1: log->append_async(2, 0, good, completions.handler(i)); break;
    default: log->append_async(3, any_seq, backwards, completions.handler(i)); break;
    }
  }
  REQUIRE(completions.wait_for(appends));
  for (std::size_t i = 0; i < appends; ++i) {
    CAPTURE(i);
    const auto& result = completions.result(i);
    switch (i % 3) {
    case 0: CHECK_OK(result); break;
    case 1: CHECK(error_code(result) == Errc::conflict); break;
    default: CHECK(error_code(result) == Errc::invalid_argument); break;
    }
  }
  CHECK(log->head(1) == appends / 3);
  CHECK(log->head(2) == 1);
  CHECK(log->head(3) == 0);
  CHECK(log->last_position() == appends / 3 + 1);
  CHECK(positions_of(read_all_events(*log)) == numbers(1, appends / 3 + 1));
  auto verified = log->verify(1);
  REQUIRE_OK(verified);
  CHECK(*verified == appends / 3);
}

TEST_CASE("appends refused as overloaded store nothing") {
  constexpr std::size_t appends = 300;
  TempDir dir;
  Completions completions(appends);
  std::vector<std::vector<NewEvent>> batches;
  for (std::size_t i = 0; i < appends; ++i) {
    batches.push_back({make_event(1, fmt::format("maybe {}", i))});
  }
  log::Options options;
  options.max_queued_events = 2; // a tiny backlog, so that some of the burst is refused
  auto log = open_log(dir / "log", options);
  for (std::size_t i = 0; i < appends; ++i) {
    log->append_async(1, any_seq, batches[i], completions.handler(i));
  }
  REQUIRE(completions.wait_for(appends));

  std::map<Position, std::string> accepted;
  for (std::size_t i = 0; i < appends; ++i) {
    CAPTURE(i);
    const auto& result = completions.result(i);
    if (result.ok()) {
      accepted[result->first_position] = batches[i][0].payload;
    } else {
      CHECK(result.error().code() == Errc::overloaded);
    }
  }
  MESSAGE(fmt::format("{} of {} appends accepted", accepted.size(), appends));
  CHECK(!accepted.empty());
  const auto stored = read_all_events(*log);
  CHECK(positions_of(stored) == numbers(1, accepted.size()));
  for (const auto& event : stored)
    CHECK(event.payload() == accepted[event.position()]);
  CHECK(log->head(1) == accepted.size());
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

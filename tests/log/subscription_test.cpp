// Subscriptions: catch-up from storage, then live events, each exactly once and in order, with
// a bounded buffer that reports fell_behind instead of growing or skipping.
#include <chrono>
#include <cstdint>
#include <mutex>
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

using namespace std::chrono_literals;
using log::Subscription;

/// Long enough that only a lost event (a bug) runs into it; never a measure of speed.
constexpr auto patience = std::chrono::milliseconds(10'000);

/// Takes `count` events from `subscription`, counting fell_behind reports in `fell_behind`.
/// Fails the test on any other error, or when an event does not come at all.
std::vector<Event> take(Subscription& subscription, std::size_t count,
                        std::size_t* fell_behind = nullptr) {
  std::vector<Event> events;
  while (events.size() < count) {
    auto next = subscription.next(patience);
    if (!next.ok() && next.error().code() == Errc::fell_behind && fell_behind != nullptr) {
      ++*fell_behind;
      continue;
    }
    REQUIRE_MESSAGE(next.ok(), fmt::format("after {} of {} events: {}", events.size(), count,
                                           error_text(next)));
    REQUIRE_MESSAGE(next->has_value(),
                    fmt::format("no event after {} of {}: one was lost", events.size(), count));
    events.push_back(std::move(**next));
  }
  return events;
}

/// Requires that `subscription` has nothing more to deliver right now.
void require_quiet(Subscription& subscription) {
  auto next = subscription.next(50ms);
  REQUIRE_OK(next);
  CHECK_MESSAGE(!next->has_value(), "an event was delivered twice or out of nowhere");
}

/// Appends one event at a time to each of `streams` in turn, `rounds` times, from its own
/// thread; doctest asserts stay on the test's thread, so errors are collected.
class Producer {
public:
  Producer(EventLog& log, std::vector<StreamId> streams, std::size_t rounds)
      : thread_([this, &log, streams = std::move(streams), rounds] {
          for (std::size_t round = 0; round < rounds; ++round) {
            for (const StreamId stream : streams) {
              const Seq head = log.head(stream);
              const NewEvent event = make_event(1, payload_for(stream, head + 1));
              auto appended = log.append(stream, head, {&event, 1});
              if (!appended.ok()) {
                std::lock_guard lock(mutex_);
                errors_.push_back(appended.error().to_string());
                return;
              }
            }
          }
        }) {}

  ~Producer() {
    if (thread_.joinable()) thread_.join();
  }
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Waits for the producer and returns its errors.
  std::vector<std::string> join() {
    thread_.join();
    std::lock_guard lock(mutex_);
    return errors_;
  }

private:
  std::mutex mutex_;
  std::vector<std::string> errors_; // guarded by mutex_
  std::thread thread_;              // last: starts once the members above exist
};

TEST_SUITE_BEGIN("log/subscription");

TEST_CASE("subscribe_stream delivers stored then live events exactly once in order") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 5, 5);
  append_n(*log, 6, 2);
  auto subscription = log->subscribe_stream(5, 2);
  REQUIRE(subscription != nullptr);

  constexpr std::size_t rounds = 30;
  Producer producer(*log, {6, 5}, rounds); // stream 6 interleaves and must be filtered out
  const auto events = take(*subscription, 3 + rounds);
  const auto errors = producer.join();
  CHECK_MESSAGE(errors.empty(), fmt::format("{}", fmt::join(errors, "; ")));

  CHECK(seqs_of(events) == numbers(3, 5 + rounds));
  for (const auto& event : events) {
    CHECK(event.stream() == 5);
    CHECK(event.payload() == payload_for(5, event.seq()));
  }
  CHECK(subscription->last_delivered() == 5 + rounds);
  require_quiet(*subscription);
}

TEST_CASE("subscribe_all delivers stored then live events exactly once in order") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 4);
  append_n(*log, 2, 3);
  auto subscription = log->subscribe_all(3);
  REQUIRE(subscription != nullptr);

  constexpr std::size_t rounds = 20;
  Producer producer(*log, {1, 2, 3}, rounds);
  const std::size_t total = 7 + 3 * rounds;
  const auto events = take(*subscription, total - 3);
  const auto errors = producer.join();
  CHECK_MESSAGE(errors.empty(), fmt::format("{}", fmt::join(errors, "; ")));

  CHECK(positions_of(events) == numbers(4, total));
  const auto stored = read_all_events(*log);
  REQUIRE(stored.size() == total);
  for (const auto& event : events) {
    CHECK(event.view().record() == stored[event.position() - 1].view().record());
  }
  CHECK(subscription->last_delivered() == total);
  require_quiet(*subscription);
}

TEST_CASE("a stream subscriber that overflows its buffer is told once then gets every event") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 1);
  auto subscription = log->subscribe_stream(1, 0, {.buffer_events = 4});
  REQUIRE(subscription != nullptr);
  // Catch up and go live before the burst.
  CHECK(seqs_of(take(*subscription, 1)) == numbers(1, 1));
  require_quiet(*subscription);

  append_n(*log, 2, 10);  // noise on another stream
  append_n(*log, 1, 100); // the consumer does not read meanwhile

  std::size_t fell_behind = 0;
  const auto events = take(*subscription, 100, &fell_behind);
  CHECK(fell_behind == 1);
  CHECK(seqs_of(events) == numbers(2, 101));
  for (const auto& event : events)
    CHECK(event.payload() == payload_for(1, event.seq()));
  CHECK(subscription->last_delivered() == 101);
  require_quiet(*subscription);

  // Live again afterwards.
  append_n(*log, 1, 1);
  CHECK(seqs_of(take(*subscription, 1)) == numbers(102, 102));
}

TEST_CASE("a whole-log subscriber that overflows its buffer is told once then gets every event") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 1);
  auto subscription = log->subscribe_all(0, {.buffer_events = 4});
  REQUIRE(subscription != nullptr);
  CHECK(positions_of(take(*subscription, 1)) == numbers(1, 1));
  require_quiet(*subscription);

  for (int i = 0; i < 50; ++i) {
    append_n(*log, 1, 1);
    append_n(*log, 2, 1);
  }

  std::size_t fell_behind = 0;
  const auto events = take(*subscription, 100, &fell_behind);
  CHECK(fell_behind == 1);
  CHECK(positions_of(events) == numbers(2, 101));
  for (const auto& event : events)
    CHECK(event.payload() == payload_for(event.stream(), event.seq()));
  CHECK(subscription->last_delivered() == 101);
  require_quiet(*subscription);
}

TEST_CASE("next returns nullopt after the timeout when there is nothing new") {
  TempDir dir;
  auto log = open_log(dir / "log");
  auto everything_ever = log->subscribe_all(0);
  REQUIRE(everything_ever != nullptr);
  require_quiet(*everything_ever);

  append_n(*log, 1, 3);
  auto after_head = log->subscribe_stream(1, 3);
  REQUIRE(after_head != nullptr);
  require_quiet(*after_head);
  CHECK(positions_of(take(*everything_ever, 3)) == numbers(1, 3));
  require_quiet(*everything_ever);

  append_n(*log, 1, 1);
  CHECK(seqs_of(take(*after_head, 1)) == numbers(4, 4));
  CHECK(positions_of(take(*everything_ever, 1)) == numbers(4, 4));
}

TEST_CASE("a subscription that outlives its log reports closed") {
  TempDir dir;
  auto log = open_log(dir / "log");
  append_n(*log, 1, 1);
  auto subscription = log->subscribe_all(0);
  REQUIRE(subscription != nullptr);
  CHECK(positions_of(take(*subscription, 1)) == numbers(1, 1));
  log.reset();
  auto next = subscription->next(50ms);
  CHECK(error_code(next) == Errc::closed);
  subscription.reset(); // destroying it must not touch the closed log either, and it lets
                        // go of the database files: the log opens again
  log = open_log(dir / "log");
  CHECK(positions_of(read_all_events(*log)) == numbers(1, 1));
}

TEST_CASE("a reader's subscriptions deliver what each refresh brings exactly once") {
  TempDir dir;
  auto writer = open_log(dir / "log");
  append_n(*writer, 1, 2);
  append_n(*writer, 2, 1);
  auto reader = open_log(dir / "log", {.read_only = true});
  auto whole = reader->subscribe_all(1);
  auto stream = reader->subscribe_stream(1, 0);
  REQUIRE(whole != nullptr);
  REQUIRE(stream != nullptr);
  CHECK(positions_of(take(*whole, 2)) == numbers(2, 3));
  CHECK(seqs_of(take(*stream, 2)) == numbers(1, 2));
  require_quiet(*whole);
  require_quiet(*stream);

  // Both are live now; the writer's new events reach them only through refresh.
  append_n(*writer, 1, 3);
  append_n(*writer, 2, 2);
  require_quiet(*whole);
  require_quiet(*stream);
  REQUIRE_OK(reader->refresh());
  CHECK(positions_of(take(*whole, 5)) == numbers(4, 8));
  const auto live = take(*stream, 3);
  CHECK(seqs_of(live) == numbers(3, 5));
  for (const auto& event : live)
    CHECK(event.payload() == payload_for(1, event.seq()));
  require_quiet(*whole);
  require_quiet(*stream);

  // A subscriber with a buffer too small for one refresh falls behind and catches up.
  auto small = reader->subscribe_all(8, {.buffer_events = 2});
  REQUIRE(small != nullptr);
  require_quiet(*small);
  append_n(*writer, 3, 6);
  REQUIRE_OK(reader->refresh());
  std::size_t fell_behind = 0;
  CHECK(positions_of(take(*small, 6, &fell_behind)) == numbers(9, 14));
  CHECK(fell_behind == 1);
  CHECK(positions_of(take(*whole, 6)) == numbers(9, 14));
  require_quiet(*small);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

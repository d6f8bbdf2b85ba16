// async_append with Asio completion tokens: the completion runs on the caller's executor, only
// once the events are durable, for coroutines, callbacks and futures alike.
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <doctest/doctest.h>

#include <worldlog/log/async.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace asio = boost::asio;

TEST_CASE("a coroutine awaits its append and sees the events durable") {
  // Declared first, so destroyed last: the log's commit thread may still hold a copy of a
  // handler's executor until the log is destroyed.
  asio::io_context io;
  TempDir dir;
  auto log = open_log(dir / "log");
  const std::vector<NewEvent> events = {make_event(1, "a"), make_event(1, "b")};
  std::optional<Result<AppendResult>> outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        outcome = co_await log::async_append(*log, 9, 0, events, asio::use_awaitable);
      },
      asio::detached);
  io.run();
  REQUIRE(outcome.has_value());
  REQUIRE_OK(*outcome);
  CHECK((*outcome)->first_seq == 1);
  CHECK((*outcome)->last_seq == 2);
  CHECK(log->head(9) == 2);
}

TEST_CASE("an async_append callback runs on the handler's strand, not the commit thread") {
  // Declared first, so destroyed last: the log's commit thread may still hold a copy of a
  // handler's executor until the log is destroyed.
  asio::io_context io;
  TempDir dir;
  auto log = open_log(dir / "log");
  auto strand = asio::make_strand(io);
  const std::vector<NewEvent> events = {make_event(1, "a")};
  std::thread::id completed_on;
  bool in_strand = false;
  log::async_append(*log, 3, 0, events,
                    asio::bind_executor(strand, [&](Result<AppendResult> result) {
                      CHECK_OK(result);
                      completed_on = std::this_thread::get_id();
                      in_strand = strand.running_in_this_thread();
                    }));
  io.run(); // returns only once the completion ran: the pending operation keeps io busy
  CHECK(in_strand);
  CHECK(completed_on == std::this_thread::get_id());
}

TEST_CASE("async_append with use_future reports a conflict") {
  // Declared first, so destroyed last: the log's commit thread may still hold a copy of a
  // handler's executor until the log is destroyed.
  asio::io_context io;
  TempDir dir;
  auto log = open_log(dir / "log");
  const std::vector<NewEvent> events = {make_event(1, "a")};
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  auto first = log::async_append(*log, 4, 0, events, asio::use_future).get();
  auto second = log::async_append(*log, 4, 0, events, asio::use_future).get();
  work.reset();
  runner.join();
  CHECK_OK(first);
  CHECK(error_code(second) == Errc::conflict);
}

} // namespace worldlog::test

// Actors: mailbox order, cast and call, timeouts, overload, stop and failure.
#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "runtime_support.hpp"

namespace worldlog::runtime::testing {
namespace {

/// A handler that holds its actor's mailbox until `gate` opens.
auto hold_until(Gate& gate) {
  return [&gate]() -> asio::awaitable<void> { co_await gate.wait(); };
}

/// Waits until `probe` has started the message it was sent first (its mailbox is empty).
void wait_until_busy(const Probe& probe) {
  REQUIRE(eventually([&] { return probe.mailbox_depth() == 0; }));
}

/// Records each exit the actor reports.
std::future<ExitReason> watch_exit(Actor& actor) {
  auto exit = std::make_shared<std::promise<ExitReason>>();
  actor.set_exit_handler([exit](ActorId, const ExitReason& reason) { exit->set_value(reason); });
  return exit->get_future();
}

TEST_CASE("casts run one at a time in the order each sender sent them") {
  Pool pool;
  auto probe = std::make_shared<Probe>(pool.executor(),
                                       ActorOptions{.name = "probe", .mailbox_capacity = 20000});
  probe->start();
  constexpr int per_sender = 5000;
  auto send = [&](int first) {
    for (int i = first; i < first + per_sender; ++i) {
      Status sent = probe->cast([p = probe.get(), i] { p->seen.push_back(i); });
      REQUIRE(sent.ok());
    }
  };
  std::thread other(send, per_sender);
  send(0);
  other.join();

  auto seen = call_blocking(
      *probe, [p = probe.get()] { return p->seen; }, wait_long);
  REQUIRE_OK(seen);
  REQUIRE(seen->size() == 2 * per_sender);
  std::vector<int> from_this, from_other;
  for (int value : *seen)
    (value < per_sender ? from_this : from_other).push_back(value);
  std::vector<int> expected_this, expected_other;
  for (int i = 0; i < per_sender; ++i) {
    expected_this.push_back(i);
    expected_other.push_back(per_sender + i);
  }
  CHECK(from_this == expected_this);
  CHECK(from_other == expected_other);
  stop_and_wait(*probe);
}

TEST_CASE("a call returns the handler's value to the calling actor") {
  Pool pool;
  auto caller = Probe::started(pool.executor(), "caller");
  auto target = Probe::started(pool.executor(), "target");
  add_to(*target, 41);

  auto got = call_blocking(
      *caller,
      [caller = caller.get(), target = target.get()]() -> asio::awaitable<Result<int>> {
        co_return co_await caller->call(*target, [target] { return target->value + 1; });
      },
      wait_long);
  REQUIRE_OK(got);
  CHECK(*got == 42);
  stop_and_wait(*caller);
  stop_and_wait(*target);
}

TEST_CASE("a call of a coroutine handler yields what it co_returns after awaiting") {
  Pool pool;
  auto target = Probe::started(pool.executor(), "target");
  auto got = call_blocking(
      *target,
      [target = target.get()]() -> asio::awaitable<int> {
        asio::steady_timer timer(target->strand(), 1ms);
        co_await timer.async_wait(asio::use_awaitable);
        co_return 7;
      },
      wait_long);
  REQUIRE_OK(got);
  CHECK(*got == 7);
  stop_and_wait(*target);
}

TEST_CASE("a handler's own Result or Status is the call's reply, not wrapped again") {
  auto refuse = []() -> Result<int> { return make_error(Errc::conflict, "refused"); };
  auto check = []() -> Status { return make_error(Errc::not_found, "missing"); };
  auto nothing = [] {};
  static_assert(std::is_same_v<CallReply<decltype(refuse)>, Result<int>>);
  static_assert(std::is_same_v<CallReply<decltype(check)>, Status>);
  static_assert(std::is_same_v<CallReply<decltype(nothing)>, Status>);

  Pool pool;
  auto target = Probe::started(pool.executor(), "target");
  auto refused = call_blocking(*target, refuse, wait_long);
  CHECK(error_code(refused) == Errc::conflict);
  Status checked = call_blocking(*target, check, wait_long);
  CHECK(error_code(checked) == Errc::not_found);
  Status done = call_blocking(*target, nothing, wait_long);
  CHECK_OK(done);
  stop_and_wait(*target);
}

TEST_CASE("a call without a reply within its timeout answers timeout and drops the late reply") {
  Pool pool;
  auto caller = Probe::started(pool.executor(), "caller");
  auto target = Probe::started(pool.executor(), "target");
  Gate gate(pool.executor());

  auto late = call_blocking(
      *caller,
      [caller = caller.get(), target = target.get(), &gate]() -> asio::awaitable<Result<int>> {
        co_return co_await caller->call(
            *target,
            [&gate]() -> asio::awaitable<int> {
              co_await gate.wait();
              co_return 1;
            },
            50ms);
      },
      wait_long);
  CHECK(error_code(late) == Errc::timeout);
  CHECK(error_message(late).find("target") != std::string::npos);

  gate.open(); // the handler now replies 1, to nobody
  add_to(*target, 2);
  auto fresh = call_blocking(
      *caller,
      [caller = caller.get(), target = target.get()]() -> asio::awaitable<Result<int>> {
        co_return co_await caller->call(*target, [target] { return target->value; });
      },
      wait_long);
  REQUIRE_OK(fresh);
  CHECK(*fresh == 2);
  stop_and_wait(*caller);
  stop_and_wait(*target);
}

TEST_CASE("a call that timed out before its handler started never runs the handler") {
  Pool pool;
  auto target = Probe::started(pool.executor(), "target");
  Gate gate(pool.executor());
  REQUIRE_OK(target->cast(hold_until(gate)));
  wait_until_busy(*target);

  Status late = call_blocking(
      *target, [t = target.get()] { ++t->value; }, 20ms);
  CHECK(error_code(late) == Errc::timeout);
  gate.open();
  CHECK(value_of(*target) == 0);
  stop_and_wait(*target);
}

TEST_CASE("a full mailbox answers overloaded to casts and calls, and does not grow") {
  Pool pool;
  constexpr std::size_t capacity = 4;
  auto probe = std::make_shared<Probe>(pool.executor(),
                                       ActorOptions{.name = "probe", .mailbox_capacity = capacity});
  probe->start();
  Gate gate(pool.executor());
  REQUIRE_OK(probe->cast(hold_until(gate)));
  wait_until_busy(*probe);

  for (std::size_t i = 0; i < capacity; ++i) {
    Status sent = probe->cast([p = probe.get()] { ++p->value; });
    REQUIRE_OK(sent);
  }
  Status refused = probe->cast([p = probe.get()] { ++p->value; });
  CHECK(error_code(refused) == Errc::overloaded);
  auto refused_call = call_blocking(
      *probe, [p = probe.get()] { return p->value; }, wait_long);
  CHECK(error_code(refused_call) == Errc::overloaded);
  for (int i = 0; i < 1000; ++i) {
    Status sent = probe->cast([p = probe.get()] { ++p->value; });
    REQUIRE(error_code(sent) == Errc::overloaded);
  }
  CHECK(probe->mailbox_depth() == capacity);

  gate.open();
  REQUIRE(eventually([&] { return probe->mailbox_depth() == 0; }));
  CHECK(value_of(*probe) == static_cast<int>(capacity));
  stop_and_wait(*probe);
}

TEST_CASE("resume is accepted by a full mailbox and runs after the messages queued before it") {
  Pool pool;
  auto probe = std::make_shared<Probe>(pool.executor(),
                                       ActorOptions{.name = "probe", .mailbox_capacity = 1});
  probe->start();
  Gate gate(pool.executor());
  REQUIRE_OK(probe->cast(hold_until(gate)));
  wait_until_busy(*probe);
  REQUIRE_OK(probe->cast([p = probe.get()] { p->seen.push_back(1); }));
  Status refused = probe->cast([p = probe.get()] { p->seen.push_back(-1); });
  REQUIRE(error_code(refused) == Errc::overloaded);
  CHECK(probe->resume([p = probe.get()] { p->seen.push_back(2); }));
  CHECK(probe->mailbox_depth() == 2);

  gate.open();
  REQUIRE(eventually([&] { return probe->mailbox_depth() == 0; }));
  auto seen = call_blocking(
      *probe, [p = probe.get()] { return p->seen; }, wait_long);
  REQUIRE_OK(seen);
  CHECK(*seen == std::vector<int>{1, 2});
  stop_and_wait(*probe);
  CHECK_FALSE(probe->resume([] {}));
}

TEST_CASE("stop finishes the current message, drops the queue, and queued calls answer closed") {
  Pool pool;
  auto caller = Probe::started(pool.executor(), "caller");
  auto target = Probe::make(pool.executor(), "target");
  auto target_exit = watch_exit(*target);
  target->start();
  Gate gate(pool.executor());
  REQUIRE_OK(target->cast([t = target.get(), &gate]() -> asio::awaitable<void> {
    co_await gate.wait();
    t->value += 10;
  }));
  wait_until_busy(*target);
  REQUIRE_OK(target->cast([t = target.get()] { ++t->value; }));
  std::promise<Result<int>> queued_call;
  REQUIRE_OK(
      caller->cast([&, caller = caller.get(), target = target.get()]() -> asio::awaitable<void> {
        queued_call.set_value(co_await caller->call(*target, [target] { return target->value; }));
      }));
  REQUIRE(eventually([&] { return target->mailbox_depth() == 2; }));

  target->stop();
  Status after_stop = target->cast([] {});
  CHECK(error_code(after_stop) == Errc::closed);
  gate.open();

  auto future = queued_call.get_future();
  auto answer = get_soon(future);
  CHECK(error_code(answer) == Errc::closed);
  ExitReason reason = get_soon(target_exit);
  CHECK_FALSE(reason.failed);
  REQUIRE(eventually([&] { return target->exited(); }));
  CHECK(target->value == 10); // the message in progress finished; the queued one never ran
  stop_and_wait(*caller);
}

TEST_CASE("a throwing handler fails the actor: on_stop runs, the exit handler hears why, and "
          "queued calls answer closed") {
  Pool pool;
  Journal stops;
  auto caller = Probe::started(pool.executor(), "caller");
  auto target = Probe::make(pool.executor(), "target", &stops);
  auto target_exit = watch_exit(*target);
  target->start();
  Gate gate(pool.executor());
  REQUIRE_OK(target->cast([&gate]() -> asio::awaitable<void> {
    co_await gate.wait();
    throw std::runtime_error("broken invariant");
  }));
  wait_until_busy(*target);
  std::promise<Status> queued_call;
  REQUIRE_OK(
      caller->cast([&, caller = caller.get(), target = target.get()]() -> asio::awaitable<void> {
        queued_call.set_value(co_await caller->call(*target, [] {}));
      }));
  REQUIRE(eventually([&] { return target->mailbox_depth() == 1; }));
  gate.open();

  ExitReason reason = get_soon(target_exit);
  CHECK(reason.failed);
  CHECK(reason.what == "broken invariant");
  auto future = queued_call.get_future();
  Status answer = get_soon(future);
  CHECK(error_code(answer) == Errc::closed);
  CHECK(error_message(answer).find("broken invariant") != std::string::npos);
  REQUIRE(eventually([&] { return target->exited(); }));
  CHECK(stops.entries() == std::vector<std::string>{"target"});
  CHECK_FALSE(target->running());
  stop_and_wait(*caller);
}

TEST_CASE("a call whose handler throws answers closed with the reason and fails the target") {
  Pool pool;
  auto target = Probe::make(pool.executor(), "target");
  auto target_exit = watch_exit(*target);
  target->start();
  auto answer = call_blocking(
      *target, []() -> int { throw std::runtime_error("no such item"); }, wait_long);
  CHECK(error_code(answer) == Errc::closed);
  CHECK(error_message(answer).find("no such item") != std::string::npos);
  CHECK(get_soon(target_exit).failed);
}

TEST_CASE("fail() ends the message at once and is not swallowed by catch (std::exception&)") {
  Pool pool;
  auto target = Probe::make(pool.executor(), "target");
  auto target_exit = watch_exit(*target);
  target->start();
  REQUIRE_OK(target->cast([t = target.get()] {
    try {
      t->fail("hit points below zero");
    } catch (const std::exception&) {
      ++t->value;
    }
  }));
  ExitReason reason = get_soon(target_exit);
  CHECK(reason.failed);
  CHECK(reason.what == "hit points below zero");
  REQUIRE(eventually([&] { return target->exited(); }));
  CHECK(target->value == 0);
}

/// Records -1 in on_start (after awaiting), so a test can see it ran before any message.
class Recovering final : public Actor {
public:
  Recovering(Executor executor, bool fail_to_start)
      : Actor(std::move(executor), ActorOptions{.name = "recovering"}),
        fail_to_start_(fail_to_start) {}

  std::vector<int> seen; ///< handlers only

protected:
  asio::awaitable<void> on_start() override {
    asio::steady_timer timer(strand(), 1ms);
    co_await timer.async_wait(asio::use_awaitable);
    if (fail_to_start_) fail("the log is corrupt");
    seen.push_back(-1);
  }

private:
  bool fail_to_start_;
};

TEST_CASE("on_start runs before messages cast before start, and not running until it ends") {
  Pool pool;
  auto actor = std::make_shared<Recovering>(pool.executor(), false);
  REQUIRE_OK(actor->cast([a = actor.get()] { a->seen.push_back(1); }));
  CHECK_FALSE(actor->running());
  actor->start();
  auto seen = call_blocking(
      *actor, [a = actor.get()] { return a->seen; }, wait_long);
  REQUIRE_OK(seen);
  CHECK(*seen == std::vector<int>{-1, 1});
  CHECK(actor->running());
  stop_and_wait(*actor);
}

TEST_CASE("an on_start that fails fails the actor, which then answers calls with closed") {
  Pool pool;
  auto actor = std::make_shared<Recovering>(pool.executor(), true);
  auto exit = watch_exit(*actor);
  actor->start();
  CHECK(get_soon(exit).what == "the log is corrupt");
  auto answer = call_blocking(
      *actor, [] { return 1; }, wait_long);
  CHECK(error_code(answer) == Errc::closed);
}

} // namespace
} // namespace worldlog::runtime::testing

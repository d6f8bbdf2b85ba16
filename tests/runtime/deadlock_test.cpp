// Deadlock detection: a call that would close a cycle of waiting actors fails at once with
// Errc::deadlock naming the cycle. Every actor here has a 60 s call timeout, longer than the
// test waits (wait_long), so a missed cycle shows up as a test failure, never as a pass.
#include <future>
#include <string>
#include <utility>

#include "runtime_support.hpp"

namespace worldlog::runtime::testing {
namespace {

std::shared_ptr<Probe> patient(Executor executor, std::string name) {
  auto probe = std::make_shared<Probe>(std::move(executor),
                                       ActorOptions{.name = std::move(name), .call_timeout = 60s});
  probe->start();
  return probe;
}

TEST_CASE("a call back to the actor waiting on the caller fails at once: alpha -> beta -> alpha") {
  Pool pool;
  auto alpha = patient(pool.executor(), "alpha");
  auto beta = patient(pool.executor(), "beta");

  Status outcome = call_blocking(
      *alpha,
      [alpha = alpha.get(), beta = beta.get()]() -> asio::awaitable<Status> {
        co_return co_await alpha->call(*beta, [alpha, beta]() -> asio::awaitable<Status> {
          co_return co_await beta->call(*alpha, [] {});
        });
      },
      wait_long);
  REQUIRE(error_code(outcome) == Errc::deadlock);
  CHECK(error_message(outcome).find("beta -> alpha -> beta") != std::string::npos);
  CHECK(error_message(outcome).find("from beta to alpha") != std::string::npos);
  stop_and_wait(*alpha);
  stop_and_wait(*beta);
}

TEST_CASE("a three-actor cycle fails at once and names all three: alpha -> beta -> gamma -> "
          "alpha") {
  Pool pool;
  auto alpha = patient(pool.executor(), "alpha");
  auto beta = patient(pool.executor(), "beta");
  auto gamma = patient(pool.executor(), "gamma");

  Status outcome = call_blocking(
      *alpha,
      [alpha = alpha.get(), beta = beta.get(), gamma = gamma.get()]() -> asio::awaitable<Status> {
        co_return co_await alpha->call(*beta, [=]() -> asio::awaitable<Status> {
          co_return co_await beta->call(*gamma, [=]() -> asio::awaitable<Status> {
            co_return co_await gamma->call(*alpha, [] {});
          });
        });
      },
      wait_long);
  REQUIRE(error_code(outcome) == Errc::deadlock);
  CHECK(error_message(outcome).find("gamma -> alpha -> beta -> gamma") != std::string::npos);
  stop_and_wait(*alpha);
  stop_and_wait(*beta);
  stop_and_wait(*gamma);
}

TEST_CASE("a call to an actor blocked on the caller, from an unrelated cast, fails at once") {
  // alpha waits on beta; beta, in a handler of a cast (no call chain), calls alpha. Only the
  // wait-for graph can see this cycle.
  Pool pool;
  auto alpha = patient(pool.executor(), "alpha");
  auto beta = patient(pool.executor(), "beta");
  Gate gate(pool.executor());

  std::promise<Result<int>> beta_got;
  REQUIRE_OK(beta->cast([&, alpha = alpha.get(), beta = beta.get()]() -> asio::awaitable<void> {
    co_await gate.wait();
    beta_got.set_value(co_await beta->call(*alpha, [] { return 1; }));
  }));
  REQUIRE(eventually([&] { return beta->mailbox_depth() == 0; }));
  std::promise<Result<int>> alpha_got;
  REQUIRE_OK(alpha->cast([&, alpha = alpha.get(), beta = beta.get()]() -> asio::awaitable<void> {
    alpha_got.set_value(co_await alpha->call(*beta, [] { return 2; }));
  }));
  // alpha's call is queued behind beta's held handler, so alpha now waits on beta.
  REQUIRE(eventually([&] { return beta->mailbox_depth() == 1; }));
  gate.open();

  auto beta_future = beta_got.get_future();
  auto beta_outcome = get_soon(beta_future);
  REQUIRE(error_code(beta_outcome) == Errc::deadlock);
  CHECK(error_message(beta_outcome).find("beta -> alpha -> beta") != std::string::npos);
  // The refused call did not disturb alpha's: beta answers it once its handler ends.
  auto alpha_future = alpha_got.get_future();
  auto alpha_outcome = get_soon(alpha_future);
  REQUIRE_OK(alpha_outcome);
  CHECK(*alpha_outcome == 2);
  stop_and_wait(*alpha);
  stop_and_wait(*beta);
}

TEST_CASE("a call to itself fails at once") {
  Pool pool;
  auto alpha = patient(pool.executor(), "alpha");
  Status outcome = call_blocking(
      *alpha,
      [alpha = alpha.get()]() -> asio::awaitable<Status> {
        co_return co_await alpha->call(*alpha, [] {});
      },
      wait_long);
  REQUIRE(error_code(outcome) == Errc::deadlock);
  CHECK(error_message(outcome).find("alpha -> alpha") != std::string::npos);
  stop_and_wait(*alpha);
}

TEST_CASE("nested calls without a cycle work: alpha -> beta -> gamma, and alpha -> gamma after") {
  Pool pool;
  auto alpha = patient(pool.executor(), "alpha");
  auto beta = patient(pool.executor(), "beta");
  auto gamma = patient(pool.executor(), "gamma");
  add_to(*gamma, 40);

  using Pair = std::pair<int, int>;
  auto outcome = call_blocking(
      *alpha,
      [alpha = alpha.get(), beta = beta.get(),
       gamma = gamma.get()]() -> asio::awaitable<Result<Pair>> {
        auto nested = co_await alpha->call(*beta, [=]() -> asio::awaitable<Result<int>> {
          auto inner = co_await beta->call(*gamma, [gamma] { return gamma->value; });
          if (!inner.ok()) co_return inner;
          co_return *inner + 1;
        });
        if (!nested.ok()) co_return std::move(nested).error();
        // The finished call's chain is gone: alpha may call gamma directly now.
        auto direct = co_await alpha->call(*gamma, [gamma] { return gamma->value; });
        if (!direct.ok()) co_return std::move(direct).error();
        co_return Pair{*nested, *direct};
      },
      wait_long);
  REQUIRE_OK(outcome);
  CHECK(*outcome == Pair{41, 40});
  stop_and_wait(*alpha);
  stop_and_wait(*beta);
  stop_and_wait(*gamma);
}

} // namespace
} // namespace worldlog::runtime::testing

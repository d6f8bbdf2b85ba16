// Helpers for the runtime tests: a two-thread pool, a small test actor (Probe), a Gate that
// holds a handler until the test opens it, and waits on conditions instead of sleeps.
//
//   Pool pool;
//   auto probe = Probe::started(pool.executor(), "probe");
//   REQUIRE_OK(probe->cast([p = probe.get()] { ++p->value; }));
//   CHECK(value_of(*probe) == 1);
//   stop_and_wait(*probe);
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <support/log_helpers.hpp>
#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/supervisor.hpp>

namespace worldlog::runtime::testing {

using namespace std::chrono_literals;
using worldlog::test::error_code;
using worldlog::test::error_message;

/// How long a test waits for something that should happen at once. Only a broken runtime
/// waits this long; no test asserts on time.
inline constexpr std::chrono::milliseconds wait_long = 10s;

/// Two worker threads, like the target machine. Stopped and joined when the test ends.
class Pool {
public:
  Pool() = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() {
    pool_.stop();
    pool_.join();
  }

  [[nodiscard]] Executor executor() { return pool_.get_executor(); }

private:
  asio::thread_pool pool_{2};
};

/// Names appended in order from several actors' handlers (which run on different threads).
class Journal {
public:
  void add(std::string entry) {
    std::lock_guard lock(mutex_);
    entries_.push_back(std::move(entry));
  }
  [[nodiscard]] std::vector<std::string> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_; ///< guarded by mutex_
};

/// A test actor with state that only its handlers touch.
class Probe final : public Actor {
public:
  Probe(Executor executor, ActorOptions options, Journal* stops = nullptr)
      : Actor(std::move(executor), std::move(options)), stops_(stops) {}

  /// A probe with default options but `name`, not started.
  [[nodiscard]] static std::shared_ptr<Probe> make(Executor executor, std::string name,
                                                   Journal* stops = nullptr) {
    return std::make_shared<Probe>(std::move(executor), ActorOptions{.name = std::move(name)},
                                   stops);
  }
  /// The same, started.
  [[nodiscard]] static std::shared_ptr<Probe> started(Executor executor, std::string name) {
    auto probe = make(std::move(executor), std::move(name));
    probe->start();
    return probe;
  }

  using Actor::fail;   // tests break invariants on purpose
  using Actor::resume; // and continue their own work

  int value = 0;         ///< handlers only
  std::vector<int> seen; ///< handlers only

protected:
  void on_stop() override {
    if (stops_) stops_->add(name());
  }

private:
  Journal* stops_; ///< where on_stop() records this probe's name, if anywhere
};

/// Holds coroutine handlers until the test opens it; open() is safe from any thread and wakes
/// every waiter, present and future.
class Gate {
public:
  explicit Gate(Executor executor) : channel_(std::move(executor), 1) {}

  [[nodiscard]] asio::awaitable<void> wait() {
    boost::system::error_code closed;
    co_await channel_.async_receive(asio::redirect_error(asio::use_awaitable, closed));
  }
  void open() { channel_.close(); }

private:
  asio::experimental::concurrent_channel<void(boost::system::error_code)> channel_;
};

/// Polls `condition` until it holds or `wait_long` passed; true if it held.
[[nodiscard]] inline bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + wait_long;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// The value a future gets, failing the test if it does not get one soon.
template <typename T> [[nodiscard]] T get_soon(std::future<T>& future) {
  REQUIRE(future.wait_for(wait_long) == std::future_status::ready);
  return future.get();
}

/// The probe's value, read by a call.
[[nodiscard]] inline int value_of(Probe& probe) {
  auto value = call_blocking(
      probe, [&probe] { return probe.value; }, wait_long);
  REQUIRE_OK(value);
  return value.value();
}

/// Adds `by` to the probe's value and waits until it is done.
inline void add_to(Probe& probe, int by) {
  Status done = call_blocking(
      probe, [&probe, by] { probe.value += by; }, wait_long);
  REQUIRE_OK(done);
}

/// A handler that throws, failing the actor that runs it.
inline void crash(Actor& actor) {
  Status sent = actor.cast([] { throw std::runtime_error("boom"); });
  REQUIRE_OK(sent);
}

inline void stop_and_wait(Actor& actor) {
  actor.stop();
  REQUIRE(eventually([&] { return actor.exited(); }));
}

/// The current incarnation of a supervisor's child, as a Probe (nullptr if none).
[[nodiscard]] inline std::shared_ptr<Probe> probe_child(const Supervisor& supervisor,
                                                        std::string_view name) {
  return std::static_pointer_cast<Probe>(supervisor.child(name));
}

/// Waits until `name` runs as an incarnation other than `old_id`; returns it.
[[nodiscard]] inline std::shared_ptr<Probe> restarted(const Supervisor& supervisor,
                                                      std::string_view name, ActorId old_id) {
  std::shared_ptr<Probe> current;
  REQUIRE(eventually([&] {
    current = probe_child(supervisor, name);
    return current && current->id() != old_id && current->running();
  }));
  return current;
}

/// Waits until `name` runs; returns it.
[[nodiscard]] inline std::shared_ptr<Probe> running_child(const Supervisor& supervisor,
                                                          std::string_view name) {
  return restarted(supervisor, name, 0);
}

/// A ChildSpec making probes named like the child.
[[nodiscard]] inline ChildSpec probe_spec(Executor executor, std::string name,
                                          Journal* stops = nullptr) {
  return {name, [executor, name, stops] { return Probe::make(executor, name, stops); }};
}

} // namespace worldlog::runtime::testing

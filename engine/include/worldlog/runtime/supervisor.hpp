// Supervisors restart failed actors, as Erlang/OTP's do (docs/architecture.md, "Actors, zones and
// the reference game").
//
//   auto world = Supervisor::create(executor, "world", Strategy::one_for_one, {}, clock);
//   world->add_child({"zone-1", [&] { return std::make_shared<Zone>(executor, 1); }});
//   world->start();
//
// A child that fails (throws, or calls fail()) is restarted per the strategy, as a new
// incarnation with a new id. More than `max_restarts` restarts within `within` and the
// supervisor gives up: it stops its children and fails itself, so that its own supervisor
// applies its strategy (escalation). A supervisor is an Actor, so supervisors nest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/clock.hpp>

namespace worldlog::runtime {

enum class Strategy {
  one_for_one,  ///< restart the failed child only; its siblings keep running undisturbed
  one_for_all,  ///< stop every other child, then restart them all
  rest_for_one, ///< stop the children added after the failed one, then restart it and them
};

/// More than `max_restarts` restarts within `within` and the supervisor gives up.
struct RestartIntensity {
  std::size_t max_restarts = 5;    ///< restarts tolerated in any window of `within`
  std::chrono::seconds within{10}; ///< the window, measured with the supervisor's Clock
};

struct ChildSpec {
  std::string name;                             ///< unique among the supervisor's children
  std::function<std::shared_ptr<Actor>()> make; ///< a fresh, not yet started incarnation
};

class Supervisor final : public Actor {
  struct PrivateTag {};

public:
  /// A supervisor, not yet started (start() it, or hand it to a parent's ChildSpec::make).
  /// REQUIRES: `clock` outlives the supervisor.
  [[nodiscard]] static std::shared_ptr<Supervisor> create(Executor executor, std::string name,
                                                          Strategy strategy,
                                                          RestartIntensity intensity,
                                                          const Clock& clock);
  Supervisor(PrivateTag, Executor executor, std::string name, Strategy strategy,
             RestartIntensity intensity, const Clock& clock);

  /// Makes a child (calling spec.make on this thread) and starts it once the supervisor runs;
  /// children start in the order added, which rest_for_one follows. A child that exits
  /// normally is not restarted. Safe from any thread. REQUIRES: a unique name; `make` returns
  /// a new actor each time (it is called again for every restart, on the supervisor's strand).
  void add_child(ChildSpec spec);
  /// The child's current incarnation; nullptr while it is being restarted, after it stopped,
  /// after the supervisor gave up, or for an unknown name. Safe from any thread.
  [[nodiscard]] std::shared_ptr<Actor> child(std::string_view name) const;
  /// Restarts performed so far; one per handled failure, however many children it restarted.
  [[nodiscard]] std::uint64_t restarts() const noexcept {
    return restarts_.load(std::memory_order_relaxed);
  }

protected:
  asio::awaitable<void> on_start() override;
  /// Stopping a supervisor stops its children first, one by one in reverse order, each waited
  /// for (their exits are told to this strand while this coroutine waits).
  asio::awaitable<void> before_stop() override;

private:
  enum class ChildState {
    pending,          ///< made, not started yet
    up,               ///< started
    stopping,         ///< told to stop, to be restarted once it exited
    awaiting_restart, ///< exited; restarted when no restart-stop is pending
    down,             ///< exited for good (normal stop, or the supervisor is stopping)
  };
  struct Child {
    ChildSpec spec;
    std::shared_ptr<Actor> actor; ///< current incarnation, nullptr once it exited
    ChildState state = ChildState::pending;
  };

  std::shared_ptr<Actor> make_incarnation(const ChildSpec& spec);
  // The rest run on the strand.
  void start_pending_children();
  void on_child_exit(const std::string& child_name, ActorId id, const ExitReason& reason);
  /// Records a restart now; false when it exceeds the intensity (the supervisor gives up).
  bool admit_restart();
  /// Indices of the children the strategy restarts when child `failed` fails.
  std::vector<std::size_t> restart_set(std::size_t failed) const;
  void restart_stopped_children();

  const Strategy strategy_;
  const RestartIntensity intensity_;
  const Clock& clock_;

  mutable std::mutex children_mutex_; ///< guards children_
  std::vector<Child> children_;       ///< in the order added; guarded by children_mutex_
  std::atomic<std::uint64_t> restarts_{0};

  enum class Phase { starting, running, stopping };
  Phase phase_ = Phase::starting;             ///< strand only
  std::deque<std::int64_t> restart_times_us_; ///< restarts within the window; strand only
  asio::steady_timer child_exited_;           ///< cancelled on each child exit; strand only
};

} // namespace worldlog::runtime

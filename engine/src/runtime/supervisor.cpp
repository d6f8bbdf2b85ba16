// Supervision. Everything that decides runs on the supervisor's strand: a child's exit is
// posted there by the exit handler the supervisor installs on every incarnation. The mutex
// only lets child() and add_child() work from other threads.
#include <worldlog/runtime/supervisor.hpp>

#include <algorithm>
#include <cassert>
#include <exception>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace worldlog::runtime {

std::shared_ptr<Supervisor> Supervisor::create(Executor executor, std::string name,
                                               Strategy strategy, RestartIntensity intensity,
                                               const Clock& clock) {
  return std::make_shared<Supervisor>(PrivateTag{}, std::move(executor), std::move(name), strategy,
                                      intensity, clock);
}

Supervisor::Supervisor(PrivateTag, Executor executor, std::string name, Strategy strategy,
                       RestartIntensity intensity, const Clock& clock)
    : Actor(std::move(executor), ActorOptions{.name = std::move(name)}), strategy_(strategy),
      intensity_(intensity), clock_(clock), child_exited_(strand()) {}

void Supervisor::add_child(ChildSpec spec) {
  auto actor = make_incarnation(spec);
  {
    std::lock_guard lock(children_mutex_);
    assert(std::none_of(children_.begin(), children_.end(),
                        [&](const Child& child) { return child.spec.name == spec.name; }) &&
           "child names are unique");
    children_.push_back({std::move(spec), std::move(actor), ChildState::pending});
  }
  asio::post(strand(), [self = std::static_pointer_cast<Supervisor>(shared_from_this())] {
    self->start_pending_children();
  });
}

std::shared_ptr<Actor> Supervisor::child(std::string_view name) const {
  std::lock_guard lock(children_mutex_);
  for (const Child& child : children_) {
    if (child.spec.name != name) continue;
    const bool current = child.state == ChildState::pending || child.state == ChildState::up;
    return current ? child.actor : nullptr;
  }
  return nullptr;
}

std::shared_ptr<Actor> Supervisor::make_incarnation(const ChildSpec& spec) {
  auto actor = spec.make();
  assert(actor && "ChildSpec::make returns an actor");
  actor->set_exit_handler([weak = weak_from_this(), name = spec.name](ActorId id,
                                                                      const ExitReason& reason) {
    auto self = std::static_pointer_cast<Supervisor>(weak.lock());
    if (!self) return;
    asio::post(self->strand(), [self, name, id, reason] { self->on_child_exit(name, id, reason); });
  });
  return actor;
}

asio::awaitable<void> Supervisor::on_start() {
  phase_ = Phase::running;
  start_pending_children();
  co_return;
}

void Supervisor::start_pending_children() {
  if (phase_ == Phase::starting) return; // on_start() starts them
  std::vector<std::shared_ptr<Actor>> to_start;
  {
    std::lock_guard lock(children_mutex_);
    for (Child& child : children_) {
      if (child.state != ChildState::pending) continue;
      if (phase_ == Phase::stopping) {
        child.state = ChildState::down;
        child.actor.reset();
      } else {
        child.state = ChildState::up;
        to_start.push_back(child.actor);
      }
    }
  }
  for (auto& actor : to_start)
    actor->start();
}

void Supervisor::on_child_exit(const std::string& child_name, ActorId id,
                               const ExitReason& reason) {
  std::vector<std::shared_ptr<Actor>> to_stop;
  bool give_up = false;
  bool restart_now = false;
  {
    std::lock_guard lock(children_mutex_);
    const auto found = std::find_if(children_.begin(), children_.end(), [&](const Child& child) {
      return child.spec.name == child_name && child.actor && child.actor->id() == id;
    });
    if (found == children_.end()) return;
    Child& exited = *found;
    const ChildState was = exited.state;
    exited.actor.reset();
    if (phase_ == Phase::stopping) {
      exited.state = ChildState::down;
    } else if (was == ChildState::stopping) {
      exited.state = ChildState::awaiting_restart;
    } else if (!reason.failed) {
      exited.state = ChildState::down;
    } else if (!admit_restart()) {
      exited.state = ChildState::down;
      phase_ = Phase::stopping; // no more restarts: before_stop() stops the rest
      give_up = true;
    } else {
      restarts_.fetch_add(1, std::memory_order_relaxed);
      exited.state = ChildState::awaiting_restart;
      const auto set = restart_set(static_cast<std::size_t>(found - children_.begin()));
      for (auto index = set.rbegin(); index != set.rend(); ++index) {
        Child& sibling = children_[*index];
        if (sibling.state != ChildState::up) continue;
        sibling.state = ChildState::stopping;
        to_stop.push_back(sibling.actor);
      }
    }
    restart_now = std::none_of(children_.begin(), children_.end(), [](const Child& child) {
      return child.state == ChildState::stopping;
    });
  }
  child_exited_.cancel(); // wakes before_stop(), if it waits for this child
  if (give_up) {
    request_exit({.failed = true,
                  .what = fmt::format("{} gave up: more than {} restarts within {} s; last, {} "
                                      "failed: {}",
                                      name(), intensity_.max_restarts, intensity_.within.count(),
                                      child_name, reason.what)});
    return;
  }
  for (auto& actor : to_stop)
    actor->stop();
  if (restart_now) restart_stopped_children();
}

bool Supervisor::admit_restart() {
  const std::int64_t now = clock_.now_us();
  const std::int64_t window =
      std::chrono::duration_cast<std::chrono::microseconds>(intensity_.within).count();
  while (!restart_times_us_.empty() && now - restart_times_us_.front() >= window)
    restart_times_us_.pop_front();
  if (restart_times_us_.size() >= intensity_.max_restarts) return false;
  restart_times_us_.push_back(now);
  return true;
}

std::vector<std::size_t> Supervisor::restart_set(std::size_t failed) const {
  std::vector<std::size_t> set;
  switch (strategy_) {
  case Strategy::one_for_one: set.push_back(failed); break;
  case Strategy::one_for_all:
    for (std::size_t index = 0; index < children_.size(); ++index)
      set.push_back(index);
    break;
  case Strategy::rest_for_one:
    for (std::size_t index = failed; index < children_.size(); ++index)
      set.push_back(index);
    break;
  }
  return set;
}

void Supervisor::restart_stopped_children() {
  if (phase_ != Phase::running) return;
  // In the order added. Indices stay valid: children are only ever appended.
  for (std::size_t index = 0;; ++index) {
    ChildSpec spec;
    {
      std::lock_guard lock(children_mutex_);
      if (index >= children_.size()) return;
      if (children_[index].state != ChildState::awaiting_restart) continue;
      spec = children_[index].spec;
    }
    std::shared_ptr<Actor> actor;
    try {
      actor = make_incarnation(spec);
    } catch (...) {
      request_exit({.failed = true,
                    .what = fmt::format("{} could not restart {}: {}", name(), spec.name,
                                        detail::describe(std::current_exception()))});
      return;
    }
    {
      std::lock_guard lock(children_mutex_);
      children_[index].actor = actor;
      children_[index].state = ChildState::up;
    }
    actor->start();
  }
}

asio::awaitable<void> Supervisor::before_stop() {
  phase_ = Phase::stopping;
  std::size_t count = 0;
  {
    std::lock_guard lock(children_mutex_);
    count = children_.size();
  }
  for (std::size_t index = count; index-- > 0;) {
    std::shared_ptr<Actor> actor;
    {
      std::lock_guard lock(children_mutex_);
      Child& child = children_[index];
      if (child.state == ChildState::pending || child.state == ChildState::awaiting_restart) {
        child.state = ChildState::down; // never started, or exited already
        child.actor.reset();
      }
      actor = child.actor;
    }
    if (!actor) continue;
    actor->stop();
    // on_child_exit() clears the child's actor and cancels the timer; both run on this
    // strand, so checking and then waiting cannot miss the wake-up.
    for (;;) {
      {
        std::lock_guard lock(children_mutex_);
        if (!children_[index].actor) break;
      }
      child_exited_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code cancelled;
      co_await child_exited_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
    }
  }
}

} // namespace worldlog::runtime

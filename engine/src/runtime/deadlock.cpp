// Deadlock detection for calls: refuse a call that would close a cycle of waiting actors.
//
// Two checks, because each sees what the other cannot:
//  - the call chain travels with the messages: while B handles A's call, B's chain is {A}, so
//    B calling A is refused without touching shared state;
//  - the wait-for graph (every actor's waiting_on_) sees waits the chain does not carry: A
//    blocked calling B while B, handling an unrelated cast, calls A.
// The chain records who waited when the call was sent: a caller that has since timed out is
// still in it, so a call back to that caller is refused too. That is the conservative side:
// its reply would go to nobody anyway.
// The graph is checked and the new edge added under one process-wide mutex, so two actors
// calling each other at the same instant cannot both pass the check: one of them is refused.
// A call takes this mutex twice (begin and end); calls are rare next to casts, and the cost is
// far below the call's own post and timer.
#include <worldlog/runtime/actor.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace worldlog::runtime {

namespace {

/// Guards every actor's waiting_on_.
std::mutex wait_graph_mutex;

/// Longer wait chains than this are not followed; real chains are a handful of actors.
constexpr std::size_t max_wait_walk = 1024;

Error deadlock(const std::vector<std::string>& cycle, const Actor& caller, const Actor& target) {
  return make_error(Errc::deadlock, "{} (a call from {} to {} would wait on itself)",
                    fmt::join(cycle, " -> "), caller.name(), target.name());
}

} // namespace

Status Actor::begin_wait(const Actor& target) {
  // The cycle is reported in wait-for order from this actor: self -> target -> ... -> self.
  if (&target == this) return deadlock({name(), name()}, *this, target);

  // Chain: most recent caller first, so the callers from the target down to the one that
  // waits on this actor are the chain's prefix, reversed.
  std::vector<std::string> waiters;
  for (const detail::CallChain* link = current_chain_.get(); link; link = link->parent.get()) {
    waiters.push_back(link->name);
    if (link->id == target.id_) {
      std::vector<std::string> cycle{name()};
      cycle.insert(cycle.end(), waiters.rbegin(), waiters.rend());
      cycle.push_back(name());
      return deadlock(cycle, *this, target);
    }
  }

  std::lock_guard lock(wait_graph_mutex);
  // Each actor on the walk is alive: whoever points at it holds it until it clears its
  // pointer, which needs this mutex.
  std::size_t steps = 0;
  for (const Actor* waiter = target.waiting_on_; waiter != nullptr && steps < max_wait_walk;
       waiter = waiter->waiting_on_, ++steps) {
    if (waiter != this) continue;
    std::vector<std::string> cycle{name(), target.name()};
    for (const Actor* link = target.waiting_on_; link != this; link = link->waiting_on_)
      cycle.push_back(link->name());
    cycle.push_back(name());
    return deadlock(cycle, *this, target);
  }
  waiting_on_ = &target;
  return {};
}

void Actor::end_wait() noexcept {
  std::lock_guard lock(wait_graph_mutex);
  waiting_on_ = nullptr;
}

} // namespace worldlog::runtime

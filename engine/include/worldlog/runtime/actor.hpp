// Actors on Boost.Asio: one strand and one bounded mailbox each (docs/architecture.md, "Actors,
// zones and the reference game").
//
//   class Counter : public Actor { ... };
//   auto counter = std::make_shared<Counter>(executor, ActorOptions{.name = "counter"});
//   counter->start();
//   Status sent = counter->cast([c = counter.get()] { ++c->value; });
//   // inside another actor's handler:
//   Result<int> value = co_await self->call(*counter, [c = counter.get()] { return c->value; });
//
// An actor handles one message at a time, in the order they arrived; a coroutine handler that
// co_awaits (a call, an append) holds the mailbox until it completes, as a gen_server does.
// State that only handlers touch therefore needs no lock.
//
// A call carries the chain of actors blocked waiting on it, and every actor publishes whom it
// is waiting on; a call that would close a cycle fails at once with Errc::deadlock, naming
// the cycle, instead of hanging until its timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <worldlog/runtime/detail/message.hpp>
#include <worldlog/status.hpp>

namespace worldlog::runtime {

namespace asio = boost::asio;

/// The executor actors run on (an io_context's or a thread_pool's).
using Executor = asio::any_io_executor;

struct ActorOptions {
  std::string name;                             ///< in errors, deadlock reports, metrics
  std::size_t mailbox_capacity = 4096;          ///< queued messages at most; beyond: overloaded
  std::chrono::milliseconds call_timeout{5000}; ///< default timeout of calls this actor makes
};

/// Why an actor exited. `failed` is false for a normal stop.
struct ExitReason {
  bool failed = false;
  std::string what; ///< "stopped", or the failure: fail()'s reason, an exception's what()
};

/// What `call` and `call_blocking` yield for a handler `F`: Status when F returns void or
/// Status; Result<T> when F returns Result<T> (not double-wrapped); Result<R> for any other R.
/// For a coroutine handler returning asio::awaitable<R>, the same rules apply to R. The
/// runtime's own errors (deadlock, timeout, overloaded, closed) arrive in the same value.
template <typename F> using CallReply = detail::call_reply_t<std::decay_t<F>>;

class Actor : public std::enable_shared_from_this<Actor> {
public:
  /// Queued messages are dropped; their calls answer closed.
  virtual ~Actor();
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;

  /// Unique in the process, never reused: a restarted actor is a new incarnation, a new id.
  [[nodiscard]] ActorId id() const noexcept { return id_; }
  [[nodiscard]] const std::string& name() const noexcept { return options_.name; }
  /// The actor's strand: everything the actor does runs here, one message at a time. Bind
  /// completions to it (`asio::bind_executor(strand(), ...)`) to touch the actor's state.
  [[nodiscard]] const asio::strand<Executor>& strand() const noexcept { return strand_; }
  /// Messages queued and not yet started. Safe from any thread; a snapshot.
  [[nodiscard]] std::size_t mailbox_depth() const noexcept {
    return depth_.load(std::memory_order_relaxed);
  }
  /// True from the end of `on_start()` until the actor exits. Safe from any thread.
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  /// True once the actor has exited: `on_stop()` ran and the exit handler was told. Safe from
  /// any thread.
  [[nodiscard]] bool exited() const noexcept { return exited_.load(std::memory_order_acquire); }
  /// Why the actor exited (or is exiting); {failed=false, ""} while no exit is pending. Safe
  /// from any thread.
  [[nodiscard]] ExitReason exit_reason() const;

  /// Starts the actor: runs `on_start()` on the strand first, then the mailbox (messages cast
  /// before start wait for it). REQUIRES: called once; the actor is owned by a shared_ptr.
  void start();
  /// Stops after the message being handled: the mailbox closes at once (later casts and calls
  /// answer closed), queued messages are dropped (their calls answer closed), `before_stop()`
  /// and `on_stop()` run, and the exit handler is told {failed=false}. A stop before `start()`
  /// takes effect when the actor is started. Safe from any thread; later calls do nothing.
  void stop();
  /// Called once, on the strand, when the actor exits (normal stop or failure).
  /// REQUIRES: set before start().
  void set_exit_handler(std::function<void(ActorId, const ExitReason&)> handler);

  /// Posts `fn` to the mailbox and returns at once. `fn` is `void()` or
  /// `asio::awaitable<void>()`; a plain function costs one allocation and no coroutine frame.
  /// A handler that throws (or calls fail()) fails the actor.
  /// Errors: overloaded when the mailbox is full; closed when the actor is stopped or exited.
  /// Safe from any thread.
  template <typename F> [[nodiscard]] Status cast(F&& fn);
  /// Like cast, and if the actor exits with the message still queued, `dropped(why)` runs
  /// instead of `fn` (on the exiting actor's strand), so that a message carrying a promise can
  /// keep it. Not called when cast itself fails: its result says why.
  template <typename F, typename D> [[nodiscard]] Status cast(F&& fn, D&& dropped);

  /// Runs `fn` on `target` and returns its result (see CallReply) to this actor's coroutine,
  /// which is blocked meanwhile: this actor's mailbox does not advance. `fn` is `R()` or
  /// `asio::awaitable<R>()`; it may run after the call timed out (unless it had not started),
  /// so it must not capture the caller's locals by reference.
  /// Errors: deadlock at once when `target` is waiting on this actor, directly or through a
  /// chain (the message names the cycle: "a -> b -> a ..."); timeout after `timeout` (default
  /// `call_timeout`); overloaded; closed (target stopped, or failed before replying).
  /// REQUIRES: awaited on this actor's strand, inside a handler or `on_start()`; one call at a
  /// time per actor.
  template <typename F>
  [[nodiscard]] asio::awaitable<CallReply<F>>
  call(Actor& target, F&& fn, std::optional<std::chrono::milliseconds> timeout = {});

protected:
  Actor(Executor executor, ActorOptions options);

  /// First thing the actor runs, on its strand (recovery, say). Throwing = failure.
  virtual asio::awaitable<void> on_start() { co_return; }
  /// Runs first when the actor exits, on its strand, after the mailbox closed; it may
  /// co_await (a supervisor stops its children here). Throwing = the exit counts as a failure.
  virtual asio::awaitable<void> before_stop() { co_return; }
  /// Last thing the actor runs, on its strand, on stop and on failure (also when `on_start()`
  /// did not finish). Throwing = the exit counts as a failure.
  virtual void on_stop() {}
  /// Breaks an invariant: ends the current message; the actor fails with `reason` and its
  /// supervisor restarts it. A handler that throws any exception fails the actor the same way.
  /// REQUIRES: called from a handler or `on_start()`.
  [[noreturn]] void fail(std::string reason);

  /// Posts a continuation of work this actor started itself (an append's completion, say) to
  /// its mailbox, handled like any message. Unlike cast it is never refused for a full
  /// mailbox: such messages are bounded by the work the actor has in flight, not by senders,
  /// and dropping one would lose the outcome of that work. Returns false when the actor has
  /// stopped (the continuation is dropped). Safe from any thread.
  template <typename F> bool resume(F&& fn);

private:
  friend class Supervisor;
  template <typename F>
  friend CallReply<F> call_blocking(Actor& target, F&& fn, std::chrono::milliseconds timeout);

  using Mailbox = std::deque<std::unique_ptr<detail::Message>>;

  /// Queues `message`, scheduling a drain if none is. Errors: overloaded (only when `bounded`),
  /// closed.
  Status enqueue(std::unique_ptr<detail::Message> message, bool bounded = true);
  /// Closes the mailbox and exits after the current message with `reason`. A failure replaces a
  /// normal stop that has not been carried out yet. Safe from any thread.
  void request_exit(ExitReason reason);
  // On the strand: runs on_start, then drains.
  void begin();
  // On the strand: handles queued messages until the mailbox is empty, a coroutine handler
  // holds it, or the actor exits.
  void drain();
  // On the strand: handles one message; false when draining must stop here.
  bool handle(std::unique_ptr<detail::Message> message);
  // On the strand, holding `lock` on mutex_: when the mailbox is closed, releases the lock,
  // runs finish() and returns true.
  bool finish_if_closed(std::unique_lock<std::mutex>& lock);
  // On the strand, once: drops the mailbox and runs the exit sequence.
  void finish(ExitReason reason);
  static asio::awaitable<void> exit_sequence(std::shared_ptr<Actor> self, ExitReason reason);

  /// Refuses a call to `target` that would close a wait cycle; otherwise records that this
  /// actor now waits on `target`. Errors: deadlock. Defined in deadlock.cpp.
  Status begin_wait(const Actor& target);
  /// This actor no longer waits on anyone.
  void end_wait() noexcept;

  template <typename Reply>
  asio::awaitable<Reply> await_reply(std::shared_ptr<Actor> target,
                                     std::unique_ptr<detail::Message> message,
                                     std::shared_ptr<detail::AwaitedReply<Reply>> reply,
                                     std::chrono::milliseconds timeout);

  const ActorId id_;
  const ActorOptions options_;
  asio::strand<Executor> strand_;

  mutable std::mutex mutex_; ///< guards the mailbox state below
  Mailbox mailbox_;          ///< guarded by mutex_
  bool closed_ = false;      ///< no new messages; an exit is pending or done; guarded by mutex_
  bool finishing_ = false;   ///< finish() ran; guarded by mutex_
  /// The strand owns the mailbox: a drain (or the start) is scheduled or a handler runs, so
  /// enqueue need not post a drain. True until start(). Guarded by mutex_.
  bool scheduled_ = true;
  ExitReason exit_reason_;            ///< the pending exit when closed_; guarded by mutex_
  std::atomic<std::size_t> depth_{0}; ///< mailbox_.size(), for readers without the lock

  std::atomic<bool> started_{false};                             ///< start() was called
  std::atomic<bool> running_{false};                             ///< see running()
  std::atomic<bool> exited_{false};                              ///< see exited()
  std::function<void(ActorId, const ExitReason&)> exit_handler_; ///< set before start; strand

  /// The callers blocked on the message being handled; strand only.
  std::shared_ptr<const detail::CallChain> current_chain_;
  /// The actor this one is blocked calling, or nullptr. Guarded by the process-wide wait-graph
  /// mutex (deadlock.cpp); the caller keeps the target alive while this points at it.
  const Actor* waiting_on_ = nullptr;
};

template <typename F> Status Actor::cast(F&& fn) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_void_v<detail::handler_value_t<Fn>>,
                "cast takes a void() or asio::awaitable<void>() function");
  return enqueue(std::make_unique<detail::CastMessage<Fn>>(std::forward<F>(fn)));
}

template <typename F, typename D> Status Actor::cast(F&& fn, D&& dropped) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_void_v<detail::handler_value_t<Fn>>,
                "cast takes a void() or asio::awaitable<void>() function");
  return enqueue(std::make_unique<detail::CastMessage<Fn, std::decay_t<D>>>(
      std::forward<F>(fn), std::forward<D>(dropped)));
}

template <typename F> bool Actor::resume(F&& fn) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_void_v<detail::handler_value_t<Fn>>,
                "resume takes a void() or asio::awaitable<void>() function");
  return enqueue(std::make_unique<detail::CastMessage<Fn>>(std::forward<F>(fn)), false).ok();
}

template <typename F>
asio::awaitable<CallReply<F>> Actor::call(Actor& target, F&& fn,
                                          std::optional<std::chrono::milliseconds> timeout) {
  // Not a coroutine itself: `fn` is moved into the message now, so a temporary lambda cannot
  // dangle; the coroutine that waits takes everything by value.
  using Fn = std::decay_t<F>;
  using Reply = CallReply<F>;
  auto reply = std::make_shared<detail::AwaitedReply<Reply>>(strand_);
  auto message = std::make_unique<detail::CallMessage<Fn>>(std::forward<F>(fn), reply);
  return await_reply<Reply>(target.shared_from_this(), std::move(message), std::move(reply),
                            timeout.value_or(options_.call_timeout));
}

template <typename Reply>
asio::awaitable<Reply> Actor::await_reply(std::shared_ptr<Actor> target,
                                          std::unique_ptr<detail::Message> message,
                                          std::shared_ptr<detail::AwaitedReply<Reply>> reply,
                                          std::chrono::milliseconds timeout) {
  if (Status refused = begin_wait(*target); !refused.ok())
    co_return Reply(std::move(refused).error());
  // Ends the wait before `target` (a parameter, destroyed after the locals) is released.
  struct EndWait {
    Actor& self;
    ~EndWait() { self.end_wait(); }
  } end_wait{*this};

  message->set_chain(std::make_shared<const detail::CallChain>(
      detail::CallChain{id_, options_.name, current_chain_}));
  if (Status sent = target->enqueue(std::move(message)); !sent.ok())
    co_return Reply(std::move(sent).error());
  if (auto answer = co_await reply->wait(timeout)) co_return std::move(*answer);
  co_return Reply(make_error(Errc::timeout, "{} got no reply from {} within {} ms", name(),
                             target->name(), timeout.count()));
}

/// From outside any actor (tests, tools, the main thread): runs `fn` on `target` and waits for
/// its result (see CallReply), blocking this thread at most `timeout`. If it times out, `fn`
/// may still run later: capture nothing by reference that dies with the caller.
/// Errors: timeout, overloaded, closed. REQUIRES: not called on an actor's strand or on a
/// thread that the target's executor needs to make progress.
template <typename F>
[[nodiscard]] CallReply<F> call_blocking(Actor& target, F&& fn, std::chrono::milliseconds timeout) {
  using Reply = CallReply<F>;
  auto reply = std::make_shared<detail::BlockingReply<Reply>>();
  Status sent = target.enqueue(
      std::make_unique<detail::CallMessage<std::decay_t<F>>>(std::forward<F>(fn), reply));
  if (!sent.ok()) return Reply(std::move(sent).error());
  if (auto answer = reply->wait(timeout)) return std::move(*answer);
  return Reply(
      make_error(Errc::timeout, "no reply from {} within {} ms", target.name(), timeout.count()));
}

} // namespace worldlog::runtime

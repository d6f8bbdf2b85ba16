// The mailbox and the life of an actor: start, drain, exit.
//
// The mailbox is a mutex-guarded deque rather than an Asio channel: a cast of a plain function
// is then one allocation, one lock and, only when the actor was idle, one post; and the strand
// keeps "ownership" of the mailbox (scheduled_) while a coroutine handler holds it, so no
// second message can start meanwhile.
#include <worldlog/runtime/actor.hpp>

#include <cassert>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

namespace worldlog::runtime {

namespace {

std::atomic<ActorId> next_actor_id{1};

// Messages handled per turn before the drain re-posts itself, so that actors sharing threads
// take turns under load instead of one busy actor starving the rest.
constexpr std::size_t drain_batch = 64;

} // namespace

namespace detail {

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ActorFailure& failure) {
    return failure.reason;
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

} // namespace detail

Actor::Actor(Executor executor, ActorOptions options)
    : id_(next_actor_id.fetch_add(1, std::memory_order_relaxed)), options_(std::move(options)),
      strand_(asio::make_strand(std::move(executor))) {}

Actor::~Actor() {
  // Reached with a non-empty mailbox only when the actor never started or nobody kept it.
  const Error why =
      make_error(Errc::closed, "{} was destroyed before handling the message", name());
  for (auto& message : mailbox_)
    message->abandon(why);
}

void Actor::start() {
  if (started_.exchange(true)) {
    assert(false && "Actor::start() is called once");
    return;
  }
  asio::post(strand_, [self = shared_from_this()] { self->begin(); });
}

void Actor::stop() { request_exit({.failed = false, .what = "stopped"}); }

void Actor::set_exit_handler(std::function<void(ActorId, const ExitReason&)> handler) {
  assert(!started_.load() && "set the exit handler before start()");
  exit_handler_ = std::move(handler);
}

void Actor::fail(std::string reason) { throw detail::ActorFailure{std::move(reason)}; }

Status Actor::enqueue(std::unique_ptr<detail::Message> message, bool bounded) {
  enum class Outcome { queued, closed, full };
  Outcome outcome = Outcome::queued;
  bool schedule = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      outcome = Outcome::closed;
    } else if (bounded && mailbox_.size() >= options_.mailbox_capacity) {
      outcome = Outcome::full;
    } else {
      mailbox_.push_back(std::move(message));
      depth_.store(mailbox_.size(), std::memory_order_relaxed);
      schedule = !scheduled_;
      scheduled_ = true;
    }
  }
  // The errors are built outside the lock: an overloaded actor must not slow its own drain.
  switch (outcome) {
  case Outcome::closed: return make_error(Errc::closed, "{} is stopped", name());
  case Outcome::full:
    return make_error(Errc::overloaded, "{}'s mailbox is full ({} messages)", name(),
                      options_.mailbox_capacity);
  case Outcome::queued: break;
  }
  if (schedule) asio::post(strand_, [self = shared_from_this()] { self->drain(); });
  return {};
}

ExitReason Actor::exit_reason() const {
  const std::lock_guard lock(mutex_);
  return exit_reason_;
}

void Actor::request_exit(ExitReason reason) {
  {
    std::lock_guard lock(mutex_);
    if (finishing_) return;
    if (closed_ && (exit_reason_.failed || !reason.failed)) return;
    closed_ = true;
    exit_reason_ = std::move(reason);
    if (scheduled_) return; // whoever owns the mailbox sees closed_ next
    scheduled_ = true;
  }
  asio::post(strand_, [self = shared_from_this()] { self->drain(); });
}

bool Actor::finish_if_closed(std::unique_lock<std::mutex>& lock) {
  if (!closed_) return false;
  ExitReason reason = exit_reason_;
  lock.unlock();
  finish(std::move(reason));
  return true;
}

void Actor::begin() {
  {
    std::unique_lock lock(mutex_);
    if (finish_if_closed(lock)) return;
  }
  asio::co_spawn(
      strand_, on_start(),
      asio::bind_executor(strand_, [self = shared_from_this()](std::exception_ptr error) {
        if (error) {
          self->finish({.failed = true, .what = detail::describe(error)});
          return;
        }
        self->running_.store(true, std::memory_order_release);
        self->drain();
      }));
}

void Actor::drain() {
  for (std::size_t handled = 0; handled < drain_batch; ++handled) {
    std::unique_ptr<detail::Message> message;
    {
      std::unique_lock lock(mutex_);
      if (finish_if_closed(lock)) return;
      if (mailbox_.empty()) {
        scheduled_ = false;
        return;
      }
      message = std::move(mailbox_.front());
      mailbox_.pop_front();
      depth_.store(mailbox_.size(), std::memory_order_relaxed);
    }
    if (!handle(std::move(message))) return;
  }
  asio::post(strand_, [self = shared_from_this()] { self->drain(); });
}

bool Actor::handle(std::unique_ptr<detail::Message> message) {
  current_chain_ = message->chain();
  std::optional<asio::awaitable<void>> coroutine;
  try {
    coroutine = message->run(options_.name);
  } catch (...) {
    current_chain_.reset();
    finish({.failed = true, .what = detail::describe(std::current_exception())});
    return false;
  }
  if (!coroutine) {
    current_chain_.reset();
    return true;
  }
  // The coroutine holds the mailbox until it completes; the completion handler owns the
  // message, which the coroutine refers to.
  asio::co_spawn(
      strand_, std::move(*coroutine),
      asio::bind_executor(strand_, [self = shared_from_this(),
                                    message = std::move(message)](std::exception_ptr error) {
        self->current_chain_.reset();
        if (error) {
          self->finish({.failed = true, .what = detail::describe(error)});
          return;
        }
        self->drain();
      }));
  return false;
}

void Actor::finish(ExitReason reason) {
  Mailbox dropped;
  {
    std::lock_guard lock(mutex_);
    assert(!finishing_);
    finishing_ = true;
    closed_ = true;
    dropped.swap(mailbox_);
    depth_.store(0, std::memory_order_relaxed);
  }
  running_.store(false, std::memory_order_release);
  const Error why =
      reason.failed ? make_error(Errc::closed, "{} failed before handling the message: {}", name(),
                                 reason.what)
                    : make_error(Errc::closed, "{} stopped before handling the message", name());
  for (auto& message : dropped)
    message->abandon(why);
  dropped.clear();
  asio::co_spawn(strand_, exit_sequence(shared_from_this(), std::move(reason)), asio::detached);
}

asio::awaitable<void> Actor::exit_sequence(std::shared_ptr<Actor> self, ExitReason reason) {
  try {
    co_await self->before_stop();
  } catch (...) {
    if (!reason.failed)
      reason = {.failed = true, .what = detail::describe(std::current_exception())};
  }
  try {
    self->on_stop();
  } catch (...) {
    if (!reason.failed)
      reason = {.failed = true, .what = detail::describe(std::current_exception())};
  }
  auto handler = std::move(self->exit_handler_);
  if (handler) handler(self->id_, reason);
  self->exited_.store(true, std::memory_order_release);
}

} // namespace worldlog::runtime

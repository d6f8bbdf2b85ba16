// Internals of actor.hpp: the messages a mailbox holds and the ways a call's reply travels back
// to its caller. Not part of the public API; include <worldlog/runtime/actor.hpp> instead.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <worldlog/status.hpp>

namespace worldlog::runtime {

using ActorId = std::uint64_t;

namespace detail {

namespace asio = boost::asio;

// ---- what a handler returns, and what its caller gets back --------------------------------

template <typename T> struct awaited {
  static constexpr bool is_awaitable = false;
  using type = T;
};
template <typename T> struct awaited<asio::awaitable<T>> {
  static constexpr bool is_awaitable = true;
  using type = T;
};

/// True when `Fn` is a coroutine handler (returns asio::awaitable<T>).
template <typename Fn>
inline constexpr bool is_coroutine_v = awaited<std::invoke_result_t<Fn&>>::is_awaitable;
/// What a handler produces: its return type, or T for a coroutine returning awaitable<T>.
template <typename Fn> using handler_value_t = typename awaited<std::invoke_result_t<Fn&>>::type;

// A call yields Status for void and Status handlers, Result<T> for Result<T> handlers (no
// double wrapping), and Result<R> for any other R.
template <typename R> struct reply_for { using type = Result<R>; };
template <> struct reply_for<void> { using type = Status; };
template <> struct reply_for<Status> { using type = Status; };
template <typename T> struct reply_for<Result<T>> { using type = Result<T>; };
template <typename Fn> using call_reply_t = typename reply_for<handler_value_t<Fn>>::type;

// ---- messages -------------------------------------------------------------------------------

/// The actors blocked waiting on a call, most recent caller first. A persistent list: the calls
/// a handler makes share its chain as their tail.
struct CallChain {
  ActorId id = 0;
  std::string name;
  std::shared_ptr<const CallChain> parent;
};

/// What fail() throws. Deliberately not a std::exception, so that a handler's
/// `catch (const std::exception&)` does not swallow the failure.
struct ActorFailure {
  std::string reason;
};

/// A readable description of a handler's exception (its what(), or fail()'s reason).
[[nodiscard]] std::string describe(const std::exception_ptr& error);

/// One mailbox entry.
class Message {
public:
  Message() = default;
  virtual ~Message() = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  /// Runs the handler on the actor's strand. A plain handler runs to completion and yields
  /// nullopt; a coroutine handler yields the awaitable to spawn, which refers to this message,
  /// so the message must outlive it. Throws what the handler throws.
  virtual std::optional<asio::awaitable<void>> run(const std::string& actor_name) = 0;
  /// The message will never run (its actor exited): a call answers `why`.
  virtual void abandon(const Error& why) noexcept { static_cast<void>(why); }

  /// The callers blocked on this message (nullptr for a cast or a call from outside actors).
  [[nodiscard]] const std::shared_ptr<const CallChain>& chain() const noexcept { return chain_; }
  void set_chain(std::shared_ptr<const CallChain> chain) noexcept { chain_ = std::move(chain); }

private:
  std::shared_ptr<const CallChain> chain_;
};

/// A fire-and-forget message: `void()` or `asio::awaitable<void>()`, with an optional
/// `void(const Error&)` told instead when the message never runs.
template <typename Fn, typename Dropped = std::nullptr_t> class CastMessage final : public Message {
public:
  explicit CastMessage(Fn fn, Dropped dropped = {})
      : fn_(std::move(fn)), dropped_(std::move(dropped)) {}

  void abandon(const Error& why) noexcept override {
    if constexpr (!std::is_null_pointer_v<Dropped>) dropped_(why);
  }

  std::optional<asio::awaitable<void>> run(const std::string&) override {
    if constexpr (is_coroutine_v<Fn>) {
      return std::invoke(fn_);
    } else {
      std::invoke(fn_);
      return std::nullopt;
    }
  }

private:
  Fn fn_;
  Dropped dropped_;
};

// ---- replies --------------------------------------------------------------------------------

/// Where a call's reply goes. The target delivers exactly one reply per call that reached its
/// mailbox: the handler's result, or closed when the handler failed or never ran.
template <typename Reply> class ReplySink {
public:
  virtual ~ReplySink() = default;

  /// Hands the caller its reply; a reply after the caller gave up is dropped. Any thread.
  virtual void deliver(Reply reply) = 0;
  /// True once the caller stopped waiting: a handler that has not started need not run.
  [[nodiscard]] bool abandoned() const noexcept {
    return abandoned_.load(std::memory_order_acquire);
  }

protected:
  void abandon() noexcept { abandoned_.store(true, std::memory_order_release); }

private:
  std::atomic<bool> abandoned_{false};
};

/// The reply to an actor's `call`: delivered on the caller's strand, where the caller's
/// coroutine waits on a timer that the reply cancels. Everything but `deliver` runs on that
/// strand, so the reply and the timeout cannot both win.
template <typename Reply>
class AwaitedReply final : public ReplySink<Reply>,
                           public std::enable_shared_from_this<AwaitedReply<Reply>> {
public:
  explicit AwaitedReply(asio::any_io_executor caller_strand)
      : caller_strand_(std::move(caller_strand)), timer_(caller_strand_) {}

  void deliver(Reply reply) override {
    asio::post(caller_strand_,
               [self = this->shared_from_this(), reply = std::move(reply)]() mutable {
                 if (self->settled_) return; // the caller timed out: drop it
                 self->settled_ = true;
                 self->reply_.emplace(std::move(reply));
                 self->timer_.cancel();
               });
  }

  /// Waits for the reply, at most `timeout`; nullopt on timeout. REQUIRES: runs on the
  /// caller's strand, once.
  asio::awaitable<std::optional<Reply>> wait(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    boost::system::error_code cancelled_or_expired;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled_or_expired));
    settled_ = true;
    if (!reply_) this->abandon();
    co_return std::move(reply_);
  }

private:
  const asio::any_io_executor caller_strand_; ///< where replies are delivered
  asio::steady_timer timer_;                  ///< the timeout; caller strand only
  bool settled_ = false;                      ///< a reply or the timeout won; caller strand only
  std::optional<Reply> reply_;                ///< caller strand only
};

/// The reply to `call_blocking`: a thread outside the actors waits on a condition variable.
template <typename Reply> class BlockingReply final : public ReplySink<Reply> {
public:
  void deliver(Reply reply) override {
    std::lock_guard lock(mutex_);
    if (reply_) return;
    reply_.emplace(std::move(reply));
    ready_.notify_all();
  }

  /// Blocks until the reply or `timeout`; nullopt on timeout.
  std::optional<Reply> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, timeout, [this] { return reply_.has_value(); })) {
      this->abandon();
      return std::nullopt;
    }
    return std::move(reply_);
  }

private:
  std::mutex mutex_;
  std::condition_variable ready_; ///< signalled once reply_ is set
  std::optional<Reply> reply_;    ///< guarded by mutex_
};

/// A request that answers: `R()` or `asio::awaitable<R>()`, replying call_reply_t<Fn>.
template <typename Fn> class CallMessage final : public Message {
public:
  using Reply = call_reply_t<Fn>;

  CallMessage(Fn fn, std::shared_ptr<ReplySink<Reply>> sink)
      : fn_(std::move(fn)), sink_(std::move(sink)) {}

  std::optional<asio::awaitable<void>> run(const std::string& actor_name) override {
    if (sink_->abandoned()) return std::nullopt; // the caller gave up before it started
    if constexpr (is_coroutine_v<Fn>) {
      return answer_async(actor_name);
    } else {
      try {
        sink_->deliver(answer());
      } catch (...) {
        sink_->deliver(failed(actor_name));
        throw;
      }
      return std::nullopt;
    }
  }

  void abandon(const Error& why) noexcept override { sink_->deliver(Reply(why)); }

private:
  Reply answer() {
    if constexpr (std::is_void_v<handler_value_t<Fn>>) {
      std::invoke(fn_);
      return Status{};
    } else {
      return Reply(std::invoke(fn_));
    }
  }

  asio::awaitable<void> answer_async(std::string actor_name) {
    try {
      if constexpr (std::is_void_v<handler_value_t<Fn>>) {
        co_await std::invoke(fn_);
        sink_->deliver(Status{});
      } else {
        sink_->deliver(Reply(co_await std::invoke(fn_)));
      }
    } catch (...) {
      sink_->deliver(failed(actor_name));
      throw;
    }
  }

  static Reply failed(const std::string& actor_name) {
    return Reply(make_error(Errc::closed, "{} failed while handling the call: {}", actor_name,
                            describe(std::current_exception())));
  }

  Fn fn_;
  std::shared_ptr<ReplySink<Reply>> sink_;
};

} // namespace detail
} // namespace worldlog::runtime

// Asio completion tokens for EventLog appends: `co_await async_append(log, ..., use_awaitable)`,
// a callback, `use_future`, or any other token. The completion runs on the handler's associated
// executor (a zone actor's strand, say), never on the log's commit thread.
//
// Header-only; include it only where Boost.Asio is available.
#pragma once

#include <memory>
#include <span>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <worldlog/log/event_log.hpp>

namespace worldlog::log {

/// Appends like `EventLog::append` and completes `token` with `Result<AppendResult>` once the
/// events are durable (or the append failed). The events are encoded before this returns, so
/// `events` need not outlive the call. REQUIRES: `log` outlives the operation, and the
/// handler's execution context outlives `log` (the commit thread may hold a copy of the
/// handler's executor until the log is destroyed).
template <typename CompletionToken>
auto async_append(EventLog& log, StreamId stream, Seq expected_seq,
                  std::span<const NewEvent> events, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(Result<AppendResult>)>(
      [&log, stream, expected_seq, events](auto handler) {
        // AppendHandler is a std::function, which must be copyable; Asio handlers are move-only.
        using Handler = decltype(handler);
        struct Pending {
          Handler handler;
          boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work;
        };
        auto executor = boost::asio::get_associated_executor(handler);
        auto pending = std::make_shared<Pending>(
            Pending{std::move(handler), boost::asio::make_work_guard(executor)});
        log.append_async(stream, expected_seq, events, [pending](Result<AppendResult> result) {
          auto target = pending->work.get_executor();
          boost::asio::post(target, [pending, result = std::move(result)]() mutable {
            std::move(pending->handler)(std::move(result));
            pending->work.reset();
          });
        });
      },
      token);
}

} // namespace worldlog::log

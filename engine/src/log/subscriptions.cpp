// Catch-up-then-live subscriptions. A subscription reads from storage until it has delivered
// everything durable, then registers a bounded live buffer that the commit thread fills. The
// check "nothing newer is durable" and the registration happen under the same lock the commit
// thread publishes under, so no event falls between the two phases. When the live buffer
// overflows, the subscriber is told once and goes back to reading from storage.
#include <algorithm>

#include "log/event_log_impl.hpp"

namespace worldlog::log {
namespace {

class CatchUpSubscription final : public Subscription {
public:
  CatchUpSubscription(std::shared_ptr<EventLog::Impl> log, std::optional<StreamId> stream,
                      std::uint64_t after, SubscribeOptions options)
      : log_(std::move(log)), stream_(stream), last_(after), options_(options) {}

  ~CatchUpSubscription() override {
    if (live_) log_->unregister_live(live_.get());
  }

  Result<std::optional<Event>> next(std::chrono::milliseconds timeout) override {
    bool waited = false;
    for (;;) {
      if (!pending_.empty()) {
        Event event = std::move(pending_.front());
        pending_.pop_front();
        return deliver(std::move(event));
      }
      if (!live_) {
        if (auto status = catch_up(); !status.ok()) return std::move(status).error();
        if (!pending_.empty()) continue;
        auto live = try_go_live();
        if (!live.ok()) return std::move(live).error();
        if (!*live) continue;
      }
      std::unique_lock lock(live_->mutex);
      if (live_->events.empty() && !live_->overflowed && !live_->closed && !waited) {
        waited = true;
        live_->ready.wait_for(lock, timeout, [this] {
          return !live_->events.empty() || live_->overflowed || live_->closed;
        });
      }
      while (!live_->events.empty()) {
        Event event = std::move(live_->events.front());
        live_->events.pop_front();
        // A batch is readable from RocksDB a moment before the commit thread publishes it,
        // so catch-up may already have delivered the first live events.
        if (key_of(event) > last_) return deliver(std::move(event));
      }
      if (live_->closed) return make_error(Errc::closed, "the log was closed");
      if (live_->overflowed) {
        lock.unlock();
        log_->unregister_live(live_.get());
        live_.reset();
        return make_error(Errc::fell_behind,
                          "subscriber fell behind after {} {} (live buffer of {} events); "
                          "continuing from storage",
                          stream_ ? "seq" : "position", last_, options_.buffer_events);
      }
      if (waited) return std::optional<Event>{}; // timed out
    }
  }

  [[nodiscard]] std::uint64_t last_delivered() const override { return last_; }

private:
  [[nodiscard]] std::uint64_t key_of(const Event& event) const {
    return stream_ ? event.seq() : event.position();
  }

  Result<std::optional<Event>> deliver(Event event) {
    last_ = key_of(event);
    return std::optional<Event>(std::move(event));
  }

  /// Reads the next chunk after `last_` from storage into `pending_`.
  Status catch_up() {
    constexpr std::size_t chunk = 256;
    const EventVisitor collect = [this](const EventView& event) {
      pending_.emplace_back(std::string(event.record()));
      return true;
    };
    return stream_ ? log_->scan_stream(*stream_, last_ + 1, chunk, collect)
                   : log_->scan_all(last_ + 1, chunk, collect);
  }

  /// Registers the live buffer if nothing after `last_` is durable; false means read more.
  Result<bool> try_go_live() {
    auto buffer = std::make_shared<LiveBuffer>();
    buffer->stream = stream_;
    buffer->capacity = std::max<std::size_t>(options_.buffer_events, 1);
    std::lock_guard lock(log_->state_mutex);
    if (log_->closed) return make_error(Errc::closed, "the log was closed");
    const std::uint64_t durable = stream_ ? head_of(*stream_) : log_->durable_position;
    if (durable > last_) return false;
    log_->live.push_back(buffer);
    live_ = std::move(buffer);
    return true;
  }

  /// REQUIRES: log_.state_mutex is held.
  [[nodiscard]] Seq head_of(StreamId stream) const {
    const auto it = log_->durable_heads.find(stream);
    return it == log_->durable_heads.end() ? 0 : it->second;
  }

  std::shared_ptr<EventLog::Impl> log_;
  const std::optional<StreamId> stream_; ///< nullopt: the whole log
  std::uint64_t last_;                   ///< seq or position of the last delivered event
  const SubscribeOptions options_;
  std::deque<Event> pending_;        ///< read from storage, not yet delivered
  std::shared_ptr<LiveBuffer> live_; ///< set while live
};

} // namespace

void EventLog::Impl::unregister_live(const LiveBuffer* buffer) {
  std::lock_guard lock(state_mutex);
  std::erase_if(live, [buffer](const auto& entry) { return entry.get() == buffer; });
}

std::unique_ptr<Subscription> EventLog::subscribe_stream(StreamId stream, Seq after,
                                                         SubscribeOptions options) {
  return std::make_unique<CatchUpSubscription>(impl_, stream, after, options);
}

std::unique_ptr<Subscription> EventLog::subscribe_all(Position after, SubscribeOptions options) {
  return std::make_unique<CatchUpSubscription>(impl_, std::nullopt, after, options);
}

} // namespace worldlog::log

// Calls a function at a fixed period on its own thread: what drives the zones' ticks when the
// world runs on the system clock. Ticks that fall behind are not replayed in a burst: a zone's
// tick is derived from the clock, so a late tick simply covers more time.
//
//   runtime::Ticker ticker(std::chrono::microseconds(world.options().tick_us),
//                          [&world] { world.tick(); });   // until ticker.stop() or its end
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace worldlog::runtime {

class Ticker {
public:
  Ticker(std::chrono::microseconds period, std::function<void()> tick)
      : thread_([this, period, tick = std::move(tick)] {
          auto next = std::chrono::steady_clock::now() + period;
          std::unique_lock lock(mutex_);
          while (!stop_requested_) {
            if (cv_.wait_until(lock, next, [this] { return stop_requested_; })) break;
            lock.unlock();
            tick();
            lock.lock();
            next = std::max(next + period, std::chrono::steady_clock::now());
          }
        }) {}
  ~Ticker() { stop(); }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  /// Stops ticking and waits for a tick in progress. Idempotent.
  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stop_requested_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_requested_ = false; ///< guarded by mutex_
  std::thread thread_;          ///< last: starts once the members above exist
};

} // namespace worldlog::runtime

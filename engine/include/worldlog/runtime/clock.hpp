// The time source of zones and supervisors. Injected, so that tests control time: a test
// advances a ManualClock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace worldlog::runtime {

/// Time source injected into zones and supervisors, so tests are deterministic.
class Clock {
public:
  virtual ~Clock() = default;

  /// Microseconds since the Unix epoch. Safe from any thread.
  [[nodiscard]] virtual std::int64_t now_us() const noexcept = 0;
};

/// The wall clock (std::chrono::system_clock).
class SystemClock final : public Clock {
public:
  [[nodiscard]] std::int64_t now_us() const noexcept override;
};

/// A clock that moves only when told to. Thread-safe: one thread may advance it while actors
/// read it.
class ManualClock final : public Clock {
public:
  explicit ManualClock(std::int64_t start_us = 0) noexcept : now_us_(start_us) {}

  [[nodiscard]] std::int64_t now_us() const noexcept override {
    return now_us_.load(std::memory_order_acquire);
  }
  /// Sets the time, also backwards (tests of clock skew may want that).
  void set(std::int64_t now_us) noexcept { now_us_.store(now_us, std::memory_order_release); }
  /// Moves the time forward by `by`.
  void advance(std::chrono::microseconds by) noexcept {
    now_us_.fetch_add(by.count(), std::memory_order_acq_rel);
  }

private:
  std::atomic<std::int64_t> now_us_;
};

} // namespace worldlog::runtime

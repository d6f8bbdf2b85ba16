// A latency histogram that many threads record into without locks, for benchmarks, the demo
// and the log's own timing of its commits: log-linear buckets (16 per power of two, so a percentile
// is within ~6% of the truth) from 1 µs to about 70 minutes.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace worldlog {

class LatencyHistogram {
public:
  /// Records `times` latencies of `latency`; negative durations count as zero. Safe from any
  /// thread.
  void record(std::chrono::nanoseconds latency, std::uint64_t times = 1) noexcept {
    const auto us = latency.count() <= 0 ? std::uint64_t{0}
                                         : static_cast<std::uint64_t>(latency.count()) / 1000;
    buckets_[bucket_of(us)].fetch_add(times, std::memory_order_relaxed);
    count_.fetch_add(times, std::memory_order_relaxed);
    std::uint64_t seen = max_us_.load(std::memory_order_relaxed);
    while (us > seen && !max_us_.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {
    }
  }

  /// Forgets every recording; for a quiet moment, as a record meanwhile may be half kept.
  void reset() noexcept {
    for (auto& bucket : buckets_)
      bucket.store(0, std::memory_order_relaxed);
    count_.store(0, std::memory_order_relaxed);
    max_us_.store(0, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t count() const noexcept {
    return count_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t max_us() const noexcept {
    return max_us_.load(std::memory_order_relaxed);
  }

  /// The latency below which `fraction` (0..1) of the recordings fall, in µs: the upper edge
  /// of the bucket holding that rank (so it never understates). 0 when nothing was recorded.
  [[nodiscard]] std::uint64_t percentile_us(double fraction) const noexcept {
    const std::uint64_t total = count();
    if (total == 0) return 0;
    auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total));
    if (rank >= total) rank = total - 1;
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < bucket_count; ++bucket) {
      seen += buckets_[bucket].load(std::memory_order_relaxed);
      if (seen > rank) return std::min(upper_edge(bucket), max_us());
    }
    return max_us();
  }

private:
  static constexpr std::size_t sub_buckets = 16; // per power of two
  static constexpr std::size_t powers = 32;      // 2^32 µs ≈ 71 minutes
  static constexpr std::size_t bucket_count = sub_buckets * (powers + 1);

  // Values below 16 µs get a bucket each; above, each power of two [2^p, 2^(p+1)) is split
  // into 16 equal buckets.
  static constexpr std::size_t bucket_of(std::uint64_t us) noexcept {
    if (us < sub_buckets) return static_cast<std::size_t>(us);
    const auto power = static_cast<std::size_t>(std::bit_width(us) - 1); // >= 4
    if (power >= powers + 3) return bucket_count - 1;
    const auto offset = static_cast<std::size_t>((us >> (power - 4)) - sub_buckets);
    return (power - 3) * sub_buckets + offset;
  }
  static constexpr std::uint64_t upper_edge(std::size_t bucket) noexcept {
    if (bucket < sub_buckets) return bucket;
    const std::size_t power = bucket / sub_buckets + 3;
    const std::uint64_t offset = bucket % sub_buckets;
    return ((sub_buckets + offset + 1) << (power - 4)) - 1;
  }

  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> max_us_{0};
};

} // namespace worldlog

// Metrics for Prometheus: counters, gauges and histograms in a small thread-safe registry,
// rendered in the text exposition format 0.0.4 (what `GET /metrics` serves).
//
//   net::Metrics metrics;
//   net::Counter& accepted = metrics.counter("worldlog_commands_total", "Commands by result.",
//                                            {{"result", "accepted"}});
//   net::LatencyHistogram& latency = metrics.latency_histogram(
//       "worldlog_command_latency_ms", "Command to durable answer, in ms.");
//   accepted.inc();                          // lock-free, from any thread
//   latency.observe(elapsed);                // likewise
//   metrics.add_collector([&](net::Sink& sink) {
//     sink.gauge("worldlog_zone_mailbox_depth", "Messages queued.", {{"zone", "1"}}, depth());
//   });
//   std::string text = metrics.prometheus_text();
//
// Registration locks; the counters, gauges and histograms it returns are updated with relaxed
// atomics only, so hot paths never contend on the registry. A scrape reads each atomic once:
// values that change during it may be a moment apart, never torn.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace worldlog::net {

/// A series' fixed labels as name=value pairs: `{{"result", "accepted"}}`. Their order does
/// not matter; a series is known by its labels sorted by name. Label names match
/// [a-zA-Z_][a-zA-Z0-9_]* and are unique within a series; values are any text.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotone count (events appended, connections refused).
class Counter {
public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (open connections).
class Gauge {
public:
  void set(std::int64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(std::int64_t delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<std::int64_t> value_{0};
};

/// Counts of integer observations (append batch sizes) in fixed buckets: bucket i holds the
/// values v with bounds[i-1] < v <= bounds[i], and a last bucket those above every bound.
class Histogram {
public:
  /// REQUIRES: at least one bound, strictly increasing.
  explicit Histogram(std::vector<std::uint64_t> bounds);

  void observe(std::uint64_t value) noexcept;

  [[nodiscard]] const std::vector<std::uint64_t>& bounds() const noexcept { return bounds_; }
  /// Observations per bucket (not cumulative), one more than bounds(): the last is above all.
  [[nodiscard]] std::vector<std::uint64_t> bucket_counts() const;
  [[nodiscard]] std::uint64_t count() const noexcept;
  [[nodiscard]] std::uint64_t sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  /// The largest value observed; 0 before any.
  [[nodiscard]] std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }

  /// An estimate of the q-quantile (q in [0, 1], clamped), as Prometheus' histogram_quantile
  /// makes it: linear within the bucket that holds the rank, where the bucket above every bound
  /// ends at max(). Never above max(). 0 before any observation.
  [[nodiscard]] double quantile(double q) const;

private:
  std::vector<std::uint64_t> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; // bounds_.size() + 1 counts
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

/// A Histogram of durations, exposed in milliseconds (`le="2.5"`, `_sum` in ms) and kept in
/// nanoseconds, so that sub-millisecond latencies keep their precision.
class LatencyHistogram {
public:
  /// 0.1 ms to 10 s, roughly three buckets a decade: command round trips on one machine are
  /// around a millisecond, and a stalled fsync is seconds.
  [[nodiscard]] static std::vector<std::chrono::microseconds> default_bounds();

  /// REQUIRES: at least one bound, strictly increasing, positive.
  explicit LatencyHistogram(const std::vector<std::chrono::microseconds>& bounds);

  /// A negative latency (a clock that stepped) counts as 0.
  void observe(std::chrono::nanoseconds latency) noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return histogram_.count(); }
  [[nodiscard]] std::chrono::nanoseconds max() const noexcept;
  /// As Histogram::quantile: `quantile(0.99)` is the p99 estimate.
  [[nodiscard]] std::chrono::nanoseconds quantile(double q) const;
  /// The underlying counts, in nanoseconds.
  [[nodiscard]] const Histogram& nanoseconds() const noexcept { return histogram_; }

private:
  Histogram histogram_;
};

/// Where a collector reports values it reads at scrape time from elsewhere (a zone's mailbox
/// depth, a supervisor's restart count). Series join the registered ones of the same name;
/// one that repeats an earlier series (same name and labels) replaces it.
class Sink {
public:
  void counter(std::string_view name, std::string_view help, Labels labels, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, Labels labels, std::int64_t value);
  /// A gauge of a real value (a ratio, a score). A value that is not finite is left out: the
  /// exposition would parse, but no alert should fire on a division by zero.
  void real_gauge(std::string_view name, std::string_view help, Labels labels, double value);

private:
  friend class Metrics;
  struct Sample {
    std::string name;
    std::string help;
    Labels labels;
    std::variant<std::uint64_t, std::int64_t, double> value; // a counter's or a gauge's
  };
  std::vector<Sample> samples_;
};

/// The registry. Thread-safe. Each registration returns the series for (name, labels),
/// creating it the first time; the reference stays valid as long as the registry.
/// REQUIRES (asserted): names match [a-zA-Z_:][a-zA-Z0-9_:]*; a name keeps one type (and the
/// help text of its first registration); a histogram series keeps its bounds.
class Metrics {
public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  [[nodiscard]] Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  [[nodiscard]] Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  [[nodiscard]] Histogram& histogram(std::string_view name, std::string_view help,
                                     std::vector<std::uint64_t> bounds, Labels labels = {});
  /// `bounds` defaults to LatencyHistogram::default_bounds().
  [[nodiscard]] LatencyHistogram& latency_histogram(std::string_view name, std::string_view help,
                                                    std::vector<std::chrono::microseconds> bounds,
                                                    Labels labels = {});
  [[nodiscard]] LatencyHistogram& latency_histogram(std::string_view name, std::string_view help,
                                                    Labels labels = {});

  /// Adds a function that prometheus_text() calls, in the order added, on the scraping thread
  /// and without the registry's lock held (it may register metrics). REQUIRES: what it reads
  /// outlives the registry, or at least every later scrape.
  void add_collector(std::function<void(Sink&)> collect);

  /// Every series in the text exposition format 0.0.4: per metric name, in name order, its
  /// `# HELP` and `# TYPE` lines, then its series in label order (a histogram's buckets in
  /// bound order, then `_sum` and `_count`). The same values give the same bytes.
  [[nodiscard]] std::string prometheus_text() const;

private:
  enum class Type { counter, gauge, histogram };
  using Series = std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>,
                              std::unique_ptr<Histogram>, std::unique_ptr<LatencyHistogram>>;
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, Series> series; // by rendered labels: `a="1",b="2"`
  };

  Series& find_or_add(std::string_view name, std::string_view help, Type type, const Labels& labels,
                      const std::function<Series()>& make);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_; // guarded by mutex_
  std::vector<std::function<void(Sink&)>> collectors_;  // guarded by mutex_
};

} // namespace worldlog::net

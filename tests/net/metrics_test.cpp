// The metrics registry: its Prometheus text to the byte, histogram quantile estimates, and
// counts that stay exact when many threads update them while others scrape.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/net/metrics.hpp>

namespace worldlog::test {
namespace {

using namespace std::chrono_literals;

double ms(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

} // namespace

TEST_CASE("the text format lists names in order, series by labels, buckets cumulative") {
  net::Metrics metrics;
  metrics.counter("worldlog_commands_total", "Commands by result.", {{"result", "rejected"}})
      .inc(2);
  net::Counter& accepted =
      metrics.counter("worldlog_commands_total", "Commands by result.", {{"result", "accepted"}});
  accepted.inc(5);
  // Registering a series again gives the same one.
  metrics.counter("worldlog_commands_total", "Commands by result.", {{"result", "accepted"}}).inc();
  CHECK(accepted.value() == 6);
  metrics.gauge("worldlog_connections", "Open connections.").set(3);

  net::LatencyHistogram& latency = metrics.latency_histogram(
      "worldlog_command_latency_ms", "Command to durable answer, in ms.", {500us, 1ms, 2500us});
  latency.observe(200us);
  latency.observe(1ms); // on a bound: counted in that bucket (le is "<=")
  latency.observe(1500us);
  latency.observe(7ms);
  net::Histogram& batches =
      metrics.histogram("worldlog_append_batch_size", "Events per batch.", {1, 8, 64});
  batches.observe(1);
  batches.observe(9);

  std::uint64_t scrapes = 0;
  metrics.add_collector([&](net::Sink& sink) {
    ++scrapes;
    sink.gauge("worldlog_zone_mailbox_depth", "Messages queued per zone.", {{"zone", "2"}}, 7);
    sink.gauge("worldlog_zone_mailbox_depth", "Messages queued per zone.", {{"zone", "10"}}, 0);
    sink.counter("worldlog_zone_restarts_total", "Zone restarts.", {}, scrapes);
    sink.real_gauge("worldlog_score", "A score.", {{"zone", "1"}}, -4.25);
    sink.real_gauge("worldlog_score", "A score.", {{"zone", "2"}},
                    std::numeric_limits<double>::quiet_NaN());
  });

  const std::string expected = R"(# HELP worldlog_append_batch_size Events per batch.
# TYPE worldlog_append_batch_size histogram
worldlog_append_batch_size_bucket{le="1"} 1
worldlog_append_batch_size_bucket{le="8"} 1
worldlog_append_batch_size_bucket{le="64"} 2
worldlog_append_batch_size_bucket{le="+Inf"} 2
worldlog_append_batch_size_sum 10
worldlog_append_batch_size_count 2
# HELP worldlog_command_latency_ms Command to durable answer, in ms.
# TYPE worldlog_command_latency_ms histogram
worldlog_command_latency_ms_bucket{le="0.5"} 1
worldlog_command_latency_ms_bucket{le="1"} 2
worldlog_command_latency_ms_bucket{le="2.5"} 3
worldlog_command_latency_ms_bucket{le="+Inf"} 4
worldlog_command_latency_ms_sum 9.7
worldlog_command_latency_ms_count 4
# HELP worldlog_commands_total Commands by result.
# TYPE worldlog_commands_total counter
worldlog_commands_total{result="accepted"} 6
worldlog_commands_total{result="rejected"} 2
# HELP worldlog_connections Open connections.
# TYPE worldlog_connections gauge
worldlog_connections 3
# HELP worldlog_score A score.
# TYPE worldlog_score gauge
worldlog_score{zone="1"} -4.25
# HELP worldlog_zone_mailbox_depth Messages queued per zone.
# TYPE worldlog_zone_mailbox_depth gauge
worldlog_zone_mailbox_depth{zone="10"} 0
worldlog_zone_mailbox_depth{zone="2"} 7
# HELP worldlog_zone_restarts_total Zone restarts.
# TYPE worldlog_zone_restarts_total counter
worldlog_zone_restarts_total 1
)";
  CHECK(metrics.prometheus_text() == expected);
  // Collectors run at every scrape, not once.
  CHECK(metrics.prometheus_text().find("worldlog_zone_restarts_total 2\n") != std::string::npos);
  CHECK(scrapes == 2);
}

TEST_CASE("labels are sorted by name and help and label values are escaped") {
  net::Metrics metrics;
  metrics.gauge("g", "a \\ and a\nnewline", {{"z", "1"}, {"a", "say \"hi\"\\\n"}}).set(-4);
  // The same labels in another order are the same series.
  metrics.gauge("g", "ignored: the first help stays", {{"a", "say \"hi\"\\\n"}, {"z", "1"}}).add(1);
  CHECK(metrics.prometheus_text() == "# HELP g a \\\\ and a\\nnewline\n"
                                     "# TYPE g gauge\n"
                                     "g{a=\"say \\\"hi\\\"\\\\\\n\",z=\"1\"} -3\n");
}

TEST_CASE("a collector may register metrics while the registry is being scraped") {
  net::Metrics metrics;
  metrics.add_collector([&](net::Sink&) { metrics.counter("registered_late", "Late.").inc(); });
  CHECK(metrics.prometheus_text().empty());
  CHECK(metrics.prometheus_text() == "# HELP registered_late Late.\n"
                                     "# TYPE registered_late counter\n"
                                     "registered_late 1\n");
}

TEST_CASE("quantile estimates interpolate within the bucket and never pass the maximum") {
  net::LatencyHistogram empty(net::LatencyHistogram::default_bounds());
  CHECK(empty.quantile(0.99) == 0ns);

  // 1, 2, ..., 1000 ms: the true p50 is 500 ms and the true p99 990 ms.
  net::LatencyHistogram uniform(net::LatencyHistogram::default_bounds());
  for (int i = 1; i <= 1000; ++i)
    uniform.observe(std::chrono::milliseconds(i));
  CHECK(uniform.count() == 1000);
  CHECK(uniform.max() == 1000ms);
  CHECK(ms(uniform.quantile(0.5)) == doctest::Approx(500).epsilon(0.001));
  CHECK(ms(uniform.quantile(0.99)) == doctest::Approx(990).epsilon(0.001));
  CHECK(uniform.quantile(1.0) == 1000ms);
  CHECK(uniform.quantile(7.0) == 1000ms); // q is clamped
  // 1 ms and 2 ms fall in (0.5, 1] and (1, 2.5]; q=0 is the lower edge of the first of them.
  CHECK(uniform.quantile(0.0) == 500us);

  // All alike: interpolation alone would say 4.9 ms for p99 of (2.5, 5]; the max caps it.
  net::LatencyHistogram alike(net::LatencyHistogram::default_bounds());
  for (int i = 0; i < 100; ++i)
    alike.observe(3ms);
  CHECK(alike.quantile(0.99) == 3ms);
  CHECK(alike.quantile(0.5) == 3ms);

  // Above every bound: the last bucket ends at the largest value observed.
  net::LatencyHistogram tail({1ms, 10ms});
  for (int i = 0; i < 98; ++i)
    tail.observe(500us);
  tail.observe(20ms);
  tail.observe(30ms);
  CHECK(tail.quantile(0.5) < 1ms);
  CHECK(tail.quantile(0.995) > 10ms);
  CHECK(tail.quantile(0.995) <= 30ms);
  CHECK(tail.quantile(1.0) == 30ms);

  tail.observe(-5ms); // a clock that stepped back counts as 0
  CHECK(tail.count() == 101);
  CHECK(tail.nanoseconds().bucket_counts() == std::vector<std::uint64_t>{99, 0, 2});

  net::Histogram sizes({10, 20});
  for (int i = 0; i < 4; ++i)
    sizes.observe(12);
  CHECK(sizes.quantile(0.5) == 12); // 15 by interpolation, capped by the max
  sizes.observe(20);
  CHECK(sizes.quantile(0.5) == doctest::Approx(15)); // rank 2.5 of 5 in (10, 20]
}

TEST_CASE("concurrent updates from several threads add up exactly while others scrape") {
  net::Metrics metrics;
  constexpr int threads = 4;
  constexpr int per_thread = 50'000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&metrics] {
      // Each thread registers for itself: they must all get the same series.
      net::Counter& hits = metrics.counter("hits_total", "Hits.", {{"worker", "shared"}});
      net::Gauge& level = metrics.gauge("level", "Level.");
      net::Histogram& sizes = metrics.histogram("sizes", "Sizes.", {10, 50});
      net::LatencyHistogram& latency = metrics.latency_histogram("latency_ms", "Latency.");
      for (int i = 0; i < per_thread; ++i) {
        hits.inc();
        level.add(i % 2 == 0 ? 3 : -1);
        sizes.observe(static_cast<std::uint64_t>(i % 100));
        latency.observe(std::chrono::microseconds(i % 1000));
      }
    });
  }
  std::thread scraper([&metrics] {
    for (int i = 0; i < 50; ++i)
      CHECK(metrics.prometheus_text().size() < 100'000);
  });
  for (auto& worker : workers)
    worker.join();
  scraper.join();

  constexpr std::uint64_t total = std::uint64_t{threads} * per_thread;
  CHECK(metrics.counter("hits_total", "Hits.", {{"worker", "shared"}}).value() == total);
  CHECK(metrics.gauge("level", "Level.").value() == std::int64_t{threads} * per_thread);
  net::Histogram& sizes = metrics.histogram("sizes", "Sizes.", {10, 50});
  CHECK(sizes.count() == total);
  // Per thread: 500 rounds of 0..99, whose sum is 4950.
  CHECK(sizes.sum() == std::uint64_t{threads} * (per_thread / 100) * 4950);
  CHECK(sizes.bucket_counts() ==
        std::vector<std::uint64_t>{total * 11 / 100, total * 40 / 100, total * 49 / 100});
  CHECK(metrics.latency_histogram("latency_ms", "Latency.").count() == total);
  const std::string text = metrics.prometheus_text();
  CHECK(text.find("hits_total{worker=\"shared\"} 200000\n") != std::string::npos);
  CHECK(text.find("sizes_count 200000\n") != std::string::npos);
}

} // namespace worldlog::test

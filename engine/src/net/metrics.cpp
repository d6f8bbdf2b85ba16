#include <worldlog/net/metrics.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>

#include <fmt/format.h>

namespace worldlog::net {
namespace {

using namespace std::chrono_literals;

// A latency histogram keeps nanoseconds and shows milliseconds: six decimal places.
constexpr std::uint64_t nanoseconds_per_ms = 1'000'000;
constexpr int ms_decimals = 6;

// Checked by assertions only: a bad name is a bug in the code that registers it.
[[maybe_unused]] bool valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    if (!letter && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

std::string escape(std::string_view text, bool quote) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    if (c == '\\')
      escaped += "\\\\";
    else if (c == '\n')
      escaped += "\\n";
    else if (quote && c == '"')
      escaped += "\\\"";
    else
      escaped += c;
  }
  return escaped;
}

// The canonical form of a series' labels, `a="1",b="x"`: sorted by name, values escaped. It
// is both the key that identifies the series and the text between the braces.
std::string render_labels(Labels labels) {
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string rendered;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    assert(valid_name(labels[i].first, false));
    assert(i == 0 || labels[i].first != labels[i - 1].first);
    if (i != 0) rendered += ',';
    rendered += fmt::format("{}=\"{}\"", labels[i].first, escape(labels[i].second, true));
  }
  return rendered;
}

// `name{labels} value`, and the braces only when there are labels.
std::string sample_line(std::string_view name, std::string_view labels, std::string_view value) {
  if (labels.empty()) return fmt::format("{} {}\n", name, value);
  return fmt::format("{}{{{}}} {}\n", name, labels, value);
}

// `value / 10^decimals` in decimal, without trailing zeros: 2500000 ns -> "2.5" ms.
std::string scaled(std::uint64_t value, std::uint64_t divisor, int decimals) {
  if (divisor == 1) return fmt::format("{}", value);
  std::string text = fmt::format("{}.{:0{}}", value / divisor, value % divisor, decimals);
  while (text.back() == '0')
    text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string histogram_lines(std::string_view name, const std::string& labels,
                            const Histogram& histogram, std::uint64_t divisor, int decimals) {
  const std::vector<std::uint64_t> counts = histogram.bucket_counts();
  const std::string prefix = labels.empty() ? std::string() : labels + ",";
  const std::string bucket = fmt::format("{}_bucket", name);
  std::string lines;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const std::string le =
        i < histogram.bounds().size() ? scaled(histogram.bounds()[i], divisor, decimals) : "+Inf";
    lines +=
        sample_line(bucket, fmt::format("{}le=\"{}\"", prefix, le), fmt::format("{}", cumulative));
  }
  lines +=
      sample_line(fmt::format("{}_sum", name), labels, scaled(histogram.sum(), divisor, decimals));
  // The count is the +Inf bucket's, read once, so the two never disagree within a scrape.
  lines += sample_line(fmt::format("{}_count", name), labels, fmt::format("{}", cumulative));
  return lines;
}

} // namespace

Histogram::Histogram(std::vector<std::uint64_t> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  assert(!bounds_.empty());
  assert(std::adjacent_find(bounds_.begin(), bounds_.end(), std::greater_equal<>()) ==
         bounds_.end());
}

void Histogram::observe(std::uint64_t value) noexcept {
  // max_ before the bucket: a reader that sees the count also sees a max that covers it
  // (quantile() relies on it for the bucket above every bound).
  std::uint64_t seen = max_.load(std::memory_order_relaxed);
  while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_release,
                                                     std::memory_order_relaxed)) {
  }
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_release);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> counts(bounds_.size() + 1);
  for (std::size_t i = 0; i < counts.size(); ++i)
    counts[i] = buckets_[i].load(std::memory_order_acquire);
  return counts;
}

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    total += buckets_[i].load(std::memory_order_relaxed);
  return total;
}

double Histogram::quantile(double q) const {
  const std::vector<std::uint64_t> counts = bucket_counts();
  const auto top = static_cast<double>(max_.load(std::memory_order_acquire));
  std::uint64_t total = 0;
  for (const std::uint64_t count : counts)
    total += count;
  if (total == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    if (static_cast<double>(below + counts[i]) >= rank) {
      const double lower = i == 0 ? 0.0 : static_cast<double>(bounds_[i - 1]);
      const double upper = i < bounds_.size() ? static_cast<double>(bounds_[i]) : top;
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
      return std::min(lower + (upper - lower) * within, top);
    }
    below += counts[i];
  }
  return top;
}

std::vector<std::chrono::microseconds> LatencyHistogram::default_bounds() {
  return {100us, 250us, 500us, 1ms,   2500us, 5ms,    10ms, 25ms,
          50ms,  100ms, 250ms, 500ms, 1s,     2500ms, 5s,   10s};
}

namespace {

std::vector<std::uint64_t> in_nanoseconds(const std::vector<std::chrono::microseconds>& bounds) {
  std::vector<std::uint64_t> nanoseconds;
  nanoseconds.reserve(bounds.size());
  for (const auto bound : bounds) {
    assert(bound.count() > 0);
    nanoseconds.push_back(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(bound).count()));
  }
  return nanoseconds;
}

} // namespace

LatencyHistogram::LatencyHistogram(const std::vector<std::chrono::microseconds>& bounds)
    : histogram_(in_nanoseconds(bounds)) {}

void LatencyHistogram::observe(std::chrono::nanoseconds latency) noexcept {
  histogram_.observe(latency.count() < 0 ? 0 : static_cast<std::uint64_t>(latency.count()));
}

std::chrono::nanoseconds LatencyHistogram::max() const noexcept {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(histogram_.max()));
}

std::chrono::nanoseconds LatencyHistogram::quantile(double q) const {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(histogram_.quantile(q)));
}

void Sink::counter(std::string_view name, std::string_view help, Labels labels,
                   std::uint64_t value) {
  samples_.push_back({std::string(name), std::string(help), std::move(labels), value});
}

void Sink::gauge(std::string_view name, std::string_view help, Labels labels, std::int64_t value) {
  samples_.push_back({std::string(name), std::string(help), std::move(labels), value});
}

void Sink::real_gauge(std::string_view name, std::string_view help, Labels labels, double value) {
  if (!std::isfinite(value)) return;
  samples_.push_back({std::string(name), std::string(help), std::move(labels), value});
}

Metrics::Series& Metrics::find_or_add(std::string_view name, std::string_view help, Type type,
                                      const Labels& labels, const std::function<Series()>& make) {
  assert(valid_name(name, true));
  std::string key = render_labels(labels);
  std::lock_guard lock(mutex_);
  auto family = families_.find(name);
  if (family == families_.end())
    family = families_.emplace(std::string(name), Family{type, std::string(help), {}}).first;
  assert(family->second.type == type);
  auto series = family->second.series.find(key);
  if (series == family->second.series.end())
    series = family->second.series.emplace(std::move(key), make()).first;
  return series->second;
}

Counter& Metrics::counter(std::string_view name, std::string_view help, Labels labels) {
  Series& series = find_or_add(name, help, Type::counter, labels,
                               [] { return Series(std::make_unique<Counter>()); });
  return *std::get<std::unique_ptr<Counter>>(series);
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help, Labels labels) {
  Series& series = find_or_add(name, help, Type::gauge, labels,
                               [] { return Series(std::make_unique<Gauge>()); });
  return *std::get<std::unique_ptr<Gauge>>(series);
}

Histogram& Metrics::histogram(std::string_view name, std::string_view help,
                              std::vector<std::uint64_t> bounds, Labels labels) {
  assert(std::none_of(labels.begin(), labels.end(), [](const auto& l) { return l.first == "le"; }));
  Series& series = find_or_add(name, help, Type::histogram, labels,
                               [&] { return Series(std::make_unique<Histogram>(bounds)); });
  Histogram& histogram = *std::get<std::unique_ptr<Histogram>>(series);
  assert(histogram.bounds() == bounds);
  return histogram;
}

LatencyHistogram& Metrics::latency_histogram(std::string_view name, std::string_view help,
                                             std::vector<std::chrono::microseconds> bounds,
                                             Labels labels) {
  assert(std::none_of(labels.begin(), labels.end(), [](const auto& l) { return l.first == "le"; }));
  Series& series = find_or_add(name, help, Type::histogram, labels,
                               [&] { return Series(std::make_unique<LatencyHistogram>(bounds)); });
  LatencyHistogram& histogram = *std::get<std::unique_ptr<LatencyHistogram>>(series);
  assert(histogram.nanoseconds().bounds() == in_nanoseconds(bounds));
  return histogram;
}

LatencyHistogram& Metrics::latency_histogram(std::string_view name, std::string_view help,
                                             Labels labels) {
  return latency_histogram(name, help, LatencyHistogram::default_bounds(), std::move(labels));
}

void Metrics::add_collector(std::function<void(Sink&)> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Metrics::prometheus_text() const {
  struct FamilyText {
    Type type;
    std::string help;
    std::map<std::string, std::string> series; // rendered labels -> the series' lines
  };
  std::map<std::string, FamilyText, std::less<>> families;
  std::vector<std::function<void(Sink&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
      FamilyText& text = families[name];
      text.type = family.type;
      text.help = family.help;
      for (const auto& [labels, series] : family.series) {
        text.series[labels] = std::visit(
            [&, &name = name, &labels = labels](const auto& metric) {
              using Metric = std::decay_t<decltype(*metric)>;
              if constexpr (std::is_same_v<Metric, Counter> || std::is_same_v<Metric, Gauge>) {
                return sample_line(name, labels, fmt::format("{}", metric->value()));
              } else if constexpr (std::is_same_v<Metric, Histogram>) {
                return histogram_lines(name, labels, *metric, 1, 0);
              } else {
                return histogram_lines(name, labels, metric->nanoseconds(), nanoseconds_per_ms,
                                       ms_decimals);
              }
            },
            series);
      }
    }
    collectors = collectors_;
  }

  Sink sink;
  for (const auto& collect : collectors)
    collect(sink);
  for (Sink::Sample& sample : sink.samples_) {
    assert(valid_name(sample.name, true));
    const Type type =
        std::holds_alternative<std::uint64_t>(sample.value) ? Type::counter : Type::gauge;
    auto family = families.find(sample.name);
    if (family == families.end())
      family = families.emplace(sample.name, FamilyText{type, std::move(sample.help), {}}).first;
    // A name reused with another type is a bug; skipped, the exposition stays parseable.
    assert(family->second.type == type);
    if (family->second.type != type) continue;
    std::string labels = render_labels(std::move(sample.labels));
    std::string line = std::visit(
        [&](auto value) { return sample_line(sample.name, labels, fmt::format("{}", value)); },
        sample.value);
    family->second.series[std::move(labels)] = std::move(line);
  }

  std::string text;
  for (const auto& [name, family] : families) {
    const std::string_view type = family.type == Type::counter ? "counter"
                                  : family.type == Type::gauge ? "gauge"
                                                               : "histogram";
    text +=
        fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(family.help, false), name, type);
    for (const auto& [labels, lines] : family.series)
      text += lines;
  }
  return text;
}

} // namespace worldlog::net

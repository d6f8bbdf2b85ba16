#include <worldlog/replay/progress.hpp>

#include <unistd.h> // isatty, fileno

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace worldlog::replay {
namespace {

constexpr std::size_t bar_width = 30;
constexpr std::chrono::milliseconds redraw_every{100};

} // namespace

ProgressBar::ProgressBar(std::string label, Options options, std::FILE* out)
    : label_(std::move(label)), options_(options), out_(out),
      active_(options.enabled && out != nullptr && isatty(fileno(out)) == 1) {}

ProgressBar::~ProgressBar() { erase(); }

void ProgressBar::update(std::uint64_t folded, std::uint64_t total) {
  if (!active_) return;
  const Clock::time_point now = Clock::now();
  if (folded < last_folded_ || started_ == Clock::time_point{}) {
    erase();
    started_ = now;
  }
  last_folded_ = folded;
  if (folded >= total) {
    // The fold is over: the next one starts from zero, and the line is left clean for output.
    erase();
    last_folded_ = 0;
    started_ = {};
    return;
  }
  const bool long_fold = total > options_.min_events || now - started_ >= options_.min_time;
  if (!long_fold || (shown_ && now - drawn_ < redraw_every)) return;
  draw(folded, total);
  drawn_ = now;
}

Progress ProgressBar::callback() {
  return [this](std::uint64_t folded, std::uint64_t total) { update(folded, total); };
}

void ProgressBar::draw(std::uint64_t folded, std::uint64_t total) {
  const std::uint64_t done = total == 0 ? bar_width : std::min(folded, total) * bar_width / total;
  const std::string bar = std::string(static_cast<std::size_t>(done), '#') +
                          std::string(bar_width - static_cast<std::size_t>(done), '.');
  // \r and "erase to end of line": the bar rewrites its own line and nothing else.
  fmt::print(out_, "\r\x1b[K{} [{}] {}/{} events", label_, bar, folded, total);
  std::fflush(out_);
  shown_ = true;
}

void ProgressBar::erase() {
  if (!shown_) return;
  fmt::print(out_, "\r\x1b[K");
  std::fflush(out_);
  shown_ = false;
}

} // namespace worldlog::replay

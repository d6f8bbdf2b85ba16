// Progress of long folds: the callback folds report to, and the bar the command line draws.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace worldlog::replay {

/// Called during a fold with the events folded so far and the events the fold covers in all,
/// every few thousand events and once at the end (folded == total). It runs on the folding
/// thread and must not throw.
using Progress = std::function<void(std::uint64_t folded, std::uint64_t total)>;

/// A progress bar on one line of a terminal for folds that are long enough to wait for: it
/// appears once a fold covers more than `min_events` or has lasted `min_time`, redraws at most
/// ten times a second, and erases itself when the fold ends. On anything but a terminal (a
/// pipe, a file) or when disabled it draws nothing, so scripted output stays clean.
class ProgressBar {
public:
  struct Options {
    bool enabled = true;                      ///< false: never draw (e.g. with --json)
    std::uint64_t min_events = 100'000;       ///< folds this long are shown at once
    std::chrono::milliseconds min_time{1000}; ///< shorter folds appear after this long
  };

  /// A bar labelled `label` on `out` (stderr by default), if `out` is a terminal.
  explicit ProgressBar(std::string label, Options options, std::FILE* out = stderr);
  /// Erases the bar if it is shown.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Reports a fold's progress; a `folded` below the last one starts a new fold.
  void update(std::uint64_t folded, std::uint64_t total);
  /// A Progress that updates this bar. REQUIRES: the bar outlives the folds it is given to.
  [[nodiscard]] Progress callback();
  /// True when the bar would draw: enabled and `out` is a terminal.
  [[nodiscard]] bool active() const noexcept { return active_; }

private:
  using Clock = std::chrono::steady_clock;
  void draw(std::uint64_t folded, std::uint64_t total);
  void erase();

  std::string label_;
  Options options_;
  std::FILE* out_;
  bool active_;                   ///< enabled, and out_ is a terminal
  bool shown_ = false;            ///< the bar is on the screen now
  std::uint64_t last_folded_ = 0; ///< to tell a new fold from the next step of this one
  Clock::time_point started_{};   ///< when the current fold started
  Clock::time_point drawn_{};     ///< when the bar was last drawn
};

} // namespace worldlog::replay

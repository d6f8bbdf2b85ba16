// A probe of the disk under a benchmark: a result waits for its events' fdatasync, so a run
// whose disk stalls has a floor under its latency that no CPU figure explains.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "latency.hpp"

namespace worldlog::tools {

/// Times a small write and its fdatasync in `dir` every 10 ms on a thread of its own, from
/// construction to stop(): a result waits for its events' fdatasync, so a run whose disk stalls
/// shows it here, and the server's tail can be told from the disk's.
class DiskProbe {
public:
  explicit DiskProbe(const std::filesystem::path& dir) : path_(dir / "disk-probe") {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0) fail(fmt::format("cannot create {}: {}", path_.string(), std::strerror(errno)));
    thread_ = std::thread([this] { run(); });
  }
  ~DiskProbe() {
    stop();
    ::close(fd_);
  }
  DiskProbe(const DiskProbe&) = delete;
  DiskProbe& operator=(const DiskProbe&) = delete;

  void stop() {
    stopping_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  struct Figures {
    double p99_ms = 0;
    double max_ms = 0;
    std::uint64_t over_20ms = 0;
  };
  /// REQUIRES: stop() was called.
  [[nodiscard]] Figures figures() const {
    const auto as_ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000; };
    return {as_ms(syncs_.percentile_us(0.99)), as_ms(syncs_.max_us()), slow_syncs_};
  }

private:
  void run() {
    const std::string block(4096, 'p');
    while (!stopping_.load()) {
      if (::write(fd_, block.data(), block.size()) != static_cast<ssize_t>(block.size())) return;
      const auto before = std::chrono::steady_clock::now();
      if (::fdatasync(fd_) != 0) return;
      const auto took = std::chrono::steady_clock::now() - before;
      syncs_.record(took);
      if (took > slow_sync) ++slow_syncs_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::filesystem::path path_;
  int fd_ = -1;
  static constexpr auto slow_sync = std::chrono::milliseconds(20);

  std::atomic<bool> stopping_{false};
  LatencyHistogram syncs_;
  std::uint64_t slow_syncs_ = 0; ///< over slow_sync; written by the thread until stop()
  std::thread thread_;
};

} // namespace worldlog::tools

#include "log/info_log.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>

#include <fmt/format.h>

namespace worldlog::log {

InfoLog::InfoLog(const std::filesystem::path& dir,
                 std::function<void(bool error, std::string_view message)> on_message)
    : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), on_message_(std::move(on_message)) {
  std::error_code ignored;
  if (std::filesystem::exists(dir / "LOG", ignored))
    std::filesystem::rename(dir / "LOG", dir / "LOG.old.1", ignored);
  file_ = std::fopen((dir / "LOG").c_str(), "w");
}

InfoLog::~InfoLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void InfoLog::Logv(const char* format, va_list ap) {
  Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
}

void InfoLog::Logv(rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (level < GetInfoLogLevel()) return;
  char text[2048];
  const int length = std::vsnprintf(text, sizeof text, format, ap);
  if (length < 0) return;
  const std::string_view line(
      text, std::min<std::size_t>(static_cast<std::size_t>(length), sizeof text - 1));
  const bool warning =
      level >= rocksdb::InfoLogLevel::WARN_LEVEL && level != rocksdb::InfoLogLevel::HEADER_LEVEL;
  {
    std::lock_guard lock(mutex_);
    if (file_ != nullptr) {
      const auto now = std::chrono::system_clock::now();
      const auto micros =
          std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
      const std::string stamped =
          fmt::format("{}.{:06} {}\n", micros / 1'000'000, micros % 1'000'000, line);
      // A failed write (a full disk) is ignored: this is a diagnostic, not the log.
      static_cast<void>(std::fputs(stamped.c_str(), file_));
      if (warning) static_cast<void>(std::fflush(file_));
    }
    if (warning) {
      warnings_.emplace_back(line);
      if (warnings_.size() > kept_warnings) warnings_.pop_front();
    }
  }
  if (warning && on_message_) on_message_(level >= rocksdb::InfoLogLevel::ERROR_LEVEL, line);
}

std::vector<std::string> InfoLog::warnings() const {
  std::lock_guard lock(mutex_);
  return {warnings_.begin(), warnings_.end()};
}

} // namespace worldlog::log

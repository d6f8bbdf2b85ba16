// RocksDB's info log, written by the log itself.
//
// RocksDB's own file-backed info log asserts (in Debian's librocksdb, built with assertions on)
// on the write that follows a failed one: on a full disk the process aborts, in DB::Open, on the
// commit thread or in Close. This one writes the LOG file with stdio and ignores what fails, so
// a full disk is an error the log returns, never an abort. It also keeps the newest warnings and
// errors, so that an open RocksDB refuses can say which file and which offset it found damaged,
// and hands each of them to the embedder's `Options::on_storage_message`.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/env.h>

namespace worldlog::log {

class InfoLog final : public rocksdb::Logger {
public:
  /// Writes `dir`/LOG (the previous one kept as LOG.old.1), or nothing if it cannot be opened.
  InfoLog(const std::filesystem::path& dir,
          std::function<void(bool error, std::string_view message)> on_message);
  ~InfoLog() override;
  InfoLog(const InfoLog&) = delete;
  InfoLog& operator=(const InfoLog&) = delete;

  void Logv(const char* format, va_list ap) override;
  void Logv(rocksdb::InfoLogLevel level, const char* format, va_list ap) override;

  /// The newest warnings and errors, oldest first.
  [[nodiscard]] std::vector<std::string> warnings() const;

private:
  static constexpr std::size_t kept_warnings = 16;

  mutable std::mutex mutex_;
  std::FILE* file_ = nullptr;        ///< guarded by mutex_
  std::deque<std::string> warnings_; ///< guarded by mutex_
  std::function<void(bool error, std::string_view message)> on_message_;
};

} // namespace worldlog::log

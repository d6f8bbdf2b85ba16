// A file system whose writes fail on cue, as a full disk's or a failing device's do, for tests
// of what the log and the world do then (no mock: RocksDB runs as it does, its writes refused):
//
//   auto disk = std::make_shared<FaultyFileSystem>();
//   auto log = open_log(dir, {.file_system = disk});
//   disk->fail_writes(rocksdb::IOStatus::NoSpace("injected"));
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <rocksdb/file_system.h>

namespace worldlog::test {

class FaultyFileSystem : public rocksdb::FileSystemWrapper {
public:
  FaultyFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

  [[nodiscard]] const char* Name() const override { return "FaultyFileSystem"; }

  /// From now on every append, sync and new file fails with `error` (nullopt: they work).
  void fail_writes(std::optional<rocksdb::IOStatus> error) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
  }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    if (auto failed = failure()) return *failed;
    auto status = target()->NewWritableFile(name, options, file, debug);
    if (status.ok()) *file = std::make_unique<File>(std::move(*file), *this);
    return status;
  }

  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* debug) override {
    if (auto failed = failure()) return *failed;
    auto status = target()->ReuseWritableFile(name, old_name, options, file, debug);
    if (status.ok()) *file = std::make_unique<File>(std::move(*file), *this);
    return status;
  }

private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
  public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, FaultyFileSystem& fs)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override {
      if (auto failed = fs_.failure()) return *failed;
      return target()->Append(data, options, debug);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& verification,
                             rocksdb::IODebugContext* debug) override {
      if (auto failed = fs_.failure()) return *failed;
      return target()->Append(data, options, verification, debug);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
      if (auto failed = fs_.failure()) return *failed;
      return target()->Sync(options, debug);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* debug) override {
      if (auto failed = fs_.failure()) return *failed;
      return target()->Fsync(options, debug);
    }

  private:
    FaultyFileSystem& fs_;
  };

  std::optional<rocksdb::IOStatus> failure() {
    std::lock_guard lock(mutex_);
    return error_;
  }

  std::mutex mutex_;
  std::optional<rocksdb::IOStatus> error_; ///< guarded by mutex_
};

} // namespace worldlog::test

#include "power_loss_file_system.hpp"

#include <unistd.h> // truncate

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

namespace worldlog::game {

/// A writable file that tells the file system what reached the page cache and the disk.
class PowerLossFileSystem::File : public rocksdb::FSWritableFileOwnerWrapper {
public:
  File(std::unique_ptr<rocksdb::FSWritableFile> file, PowerLossFileSystem& fs, std::string name)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), name_(std::move(name)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
    if (fs_.full()) return rocksdb::IOStatus::NoSpace("the simulated disk is full");
    auto status = target()->Append(data, options, debug);
    if (status.ok()) fs_.appended(name_, data.size());
    return status;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& verification,
                           rocksdb::IODebugContext* debug) override {
    if (fs_.full()) return rocksdb::IOStatus::NoSpace("the simulated disk is full");
    auto status = target()->Append(data, options, verification, debug);
    if (status.ok()) fs_.appended(name_, data.size());
    return status;
  }
  rocksdb::IOStatus Truncate(std::uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override {
    auto status = target()->Truncate(size, options, debug);
    if (status.ok()) fs_.truncated(name_, size);
    return status;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* debug) override {
    auto status = target()->Sync(options, debug);
    if (status.ok()) fs_.synced(name_);
    return status;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* debug) override {
    auto status = target()->Fsync(options, debug);
    if (status.ok()) fs_.synced(name_);
    return status;
  }
  // RangeSync starts writeback of a range and waits for none of it: nothing becomes durable.

private:
  PowerLossFileSystem& fs_;
  std::string name_;
};

PowerLossFileSystem::PowerLossFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

void PowerLossFileSystem::track(const std::string& name, std::optional<std::uint64_t> on_disk,
                                std::unique_ptr<rocksdb::FSWritableFile>* file) {
  {
    std::lock_guard lock(mutex_);
    if (!on_disk) {
      files_[name] = Lengths{.unborn = !powered_};
    } else {
      // A file written since the last cut keeps its unsynced tail; any other is on the disk.
      files_.try_emplace(name, Lengths{.written = *on_disk, .synced = *on_disk});
    }
  }
  *file = std::make_unique<File>(std::move(*file), *this, name);
}

rocksdb::IOStatus
PowerLossFileSystem::NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                     std::unique_ptr<rocksdb::FSWritableFile>* file,
                                     rocksdb::IODebugContext* debug) {
  if (full()) return rocksdb::IOStatus::NoSpace("the simulated disk is full");
  auto status = target()->NewWritableFile(name, options, file, debug);
  if (status.ok()) track(name, std::nullopt, file);
  return status;
}

rocksdb::IOStatus PowerLossFileSystem::ReopenWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* file, rocksdb::IODebugContext* debug) {
  std::uint64_t length = 0;
  auto status = target()->GetFileSize(name, rocksdb::IOOptions(), &length, debug);
  if (!status.ok() && !status.IsNotFound()) return status;
  status = target()->ReopenWritableFile(name, options, file, debug);
  if (status.ok()) track(name, length, file);
  return status;
}

rocksdb::IOStatus PowerLossFileSystem::ReuseWritableFile(
    const std::string& name, const std::string& old_name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* file, rocksdb::IODebugContext* debug) {
  auto status = target()->ReuseWritableFile(name, old_name, options, file, debug);
  if (status.ok()) {
    {
      std::lock_guard lock(mutex_);
      files_.erase(old_name);
    }
    track(name, std::nullopt, file);
  }
  return status;
}

rocksdb::IOStatus PowerLossFileSystem::RenameFile(const std::string& from, const std::string& to,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* debug) {
  if (!powered()) return rocksdb::IOStatus::OK(); // the dying process thinks it renamed
  auto status = target()->RenameFile(from, to, options, debug);
  if (status.ok()) {
    std::lock_guard lock(mutex_);
    const auto moved = files_.find(from);
    if (moved == files_.end()) {
      files_.erase(to); // replaced by a file that is on the disk as it is
    } else {
      files_[to] = moved->second;
      files_.erase(moved);
    }
  }
  return status;
}

rocksdb::IOStatus PowerLossFileSystem::DeleteFile(const std::string& name,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* debug) {
  // A file the dying process deletes (say, one a compaction it finished replaced) is still
  // there when the power is back, and the MANIFEST that will be read then still needs it.
  if (!powered()) return rocksdb::IOStatus::OK();
  auto status = target()->DeleteFile(name, options, debug);
  if (status.ok()) {
    std::lock_guard lock(mutex_);
    files_.erase(name);
  }
  return status;
}

void PowerLossFileSystem::appended(const std::string& name, std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  files_[name].written += bytes;
}

void PowerLossFileSystem::synced(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (!powered_) return;
  auto& lengths = files_[name];
  lengths.synced = lengths.written;
}

void PowerLossFileSystem::truncated(const std::string& name, std::uint64_t length) {
  std::lock_guard lock(mutex_);
  auto& lengths = files_[name];
  lengths.written = length;
  lengths.synced = std::min(lengths.synced, length);
}

void PowerLossFileSystem::write_back() {
  std::lock_guard lock(mutex_);
  if (!powered_) return;
  for (auto& [name, lengths] : files_)
    lengths.synced = lengths.written;
}

bool PowerLossFileSystem::powered() {
  std::lock_guard lock(mutex_);
  return powered_;
}

void PowerLossFileSystem::fill(bool full) {
  std::lock_guard lock(mutex_);
  full_ = full;
}

bool PowerLossFileSystem::full() {
  std::lock_guard lock(mutex_);
  return full_;
}

void PowerLossFileSystem::cut_power() {
  std::lock_guard lock(mutex_);
  powered_ = false;
}

Status PowerLossFileSystem::lose_unsynced(
    const std::function<std::uint64_t(const std::string& name, std::uint64_t unsynced)>& kept) {
  std::lock_guard lock(mutex_);
  for (const auto& [name, lengths] : files_) {
    if (lengths.unborn) {
      std::error_code failed;
      std::filesystem::remove(name, failed);
      if (failed) {
        return make_error(Errc::io_error, "removing {}, created after the power failed: {}", name,
                          failed.message());
      }
      continue;
    }
    if (lengths.written <= lengths.synced) continue;
    const std::uint64_t unsynced = lengths.written - lengths.synced;
    const std::uint64_t keep = lengths.synced + std::min(kept(name, unsynced), unsynced);
    if (keep == lengths.written) continue;
    if (::truncate(name.c_str(), static_cast<off_t>(keep)) != 0) {
      return make_error(Errc::io_error, "losing the unsynced tail of {}: {}", name,
                        std::strerror(errno));
    }
  }
  files_.clear();
  powered_ = true;
  return {};
}

} // namespace worldlog::game

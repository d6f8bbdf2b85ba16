// A file system that can forget, as a power loss does, what was written and never synced.
//
// Every file written through it is tracked with two lengths: what was written (it is in the
// page cache) and what was synced (it is on the disk). The simulation decides when the kernel
// writes dirty pages back (`write_back`), when the power fails, and how much of each unsynced
// tail writeback had got to by then, so a record may be cut short. Files not written since the
// last power loss are on the disk as they are.
//
// It can also fill up: every write then fails with NoSpace, as a full disk's does.
//
// Not modelled: a directory entry that was never fsynced (a created or renamed file survives),
// and reordered writeback within a file (what survives is always a prefix).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <rocksdb/file_system.h>

#include <worldlog/status.hpp>

namespace worldlog::game {

class PowerLossFileSystem : public rocksdb::FileSystemWrapper {
public:
  PowerLossFileSystem();

  [[nodiscard]] const char* Name() const override { return "PowerLossFileSystem"; }

  /// The kernel writes every dirty page back: all that is written is on the disk.
  void write_back();
  /// true: the disk is full; every append to a file and every new file fails with NoSpace
  /// (nothing of it is written) until this is called with false.
  void fill(bool full);
  /// The power fails: from now on nothing reaches the disk, synced or not, and whatever files
  /// the dying process creates, renames or deletes are as they were when the power is back.
  void cut_power();
  /// After `cut_power`, with every file closed: each file written since the last power loss
  /// keeps what was on the disk, plus `kept(name, unsynced)` bytes (at most `unsynced`) of what
  /// was written but not synced, as far as writeback got. Then the power is back and nothing is
  /// tracked: what is on the disk is all there is. Files are visited in name order.
  Status lose_unsynced(
      const std::function<std::uint64_t(const std::string& name, std::uint64_t unsynced)>& kept);

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;

private:
  class File;
  struct Lengths {
    std::uint64_t written = 0;
    std::uint64_t synced = 0;
    bool unborn = false; ///< created after the power failed: it never reached the disk
  };
  /// Tracks `name` and wraps `file`: a new file (nothing on the disk yet), or one reopened
  /// with `on_disk` bytes.
  void track(const std::string& name, std::optional<std::uint64_t> on_disk,
             std::unique_ptr<rocksdb::FSWritableFile>* file);
  bool powered();
  [[nodiscard]] bool full();
  void appended(const std::string& name, std::uint64_t bytes);
  void synced(const std::string& name);
  void truncated(const std::string& name, std::uint64_t length);

  std::mutex mutex_;
  std::map<std::string, Lengths> files_; ///< guarded by mutex_
  bool powered_ = true;                  ///< guarded by mutex_; false: syncs reach nothing
  bool full_ = false;                    ///< guarded by mutex_; true: writes fail
};

} // namespace worldlog::game

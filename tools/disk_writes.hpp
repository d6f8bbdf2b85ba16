// What a benchmark's log wrote to disk per event appended: its write amplification. RocksDB
// counts the bytes of the WAL, of the memtable flushes and of the compactions
// (log::StorageStats); the kernel counts every byte the process caused to be written to storage
// (/proc/self/io write_bytes), which also sees what RocksDB's counters do not, such as the
// MANIFEST and the file system's own writeback. Both cover the same span: from a mark to now
// (or to when the storage has settled).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include <boost/json/object.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

namespace worldlog::tools {

/// The bytes this process has caused to be written to storage so far (/proc/self/io
/// `write_bytes`); 0 where the kernel does not say.
[[nodiscard]] inline std::uint64_t process_write_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return 0;
}

/// Bytes written per event appended, over a span.
struct WritesPerEvent {
  std::uint64_t events = 0; ///< appended in the span
  double written = 0;       ///< WAL + flushes + compactions
  double wal = 0;
  double flush = 0;
  double compaction = 0;
  double process = 0; ///< what the kernel saw the process write
  std::uint64_t flushes = 0;
  std::uint64_t compactions = 0;
  log::StorageStats storage; ///< the log's figures at the end of the span (the times)

  /// "  disk       ..." and "  storage    ..." (two lines).
  void print() const {
    fmt::print("  disk       {:.0f} B/event written: WAL {:.0f}, flushes {:.0f}, compactions "
               "{:.0f} ({} flushes, {} compactions); the kernel saw {:.0f} B/event\n",
               written, wal, flush, compaction, flushes, compactions, process);
    fmt::print("  storage    append to durable p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms; of it "
               "RocksDB Write p99 {:.2f} ms, max {:.2f} ms; of that WAL fdatasync p50 {:.2f} "
               "ms, p99 {:.2f} ms, max {:.2f} ms; stalled {:.2f} ms in all\n",
               ms(storage.commit_p50_us), ms(storage.commit_p99_us), ms(storage.commit_max_us),
               ms(storage.write_p99_us), ms(storage.write_max_us), ms(storage.wal_sync_p50_us),
               ms(storage.wal_sync_p99_us), ms(storage.wal_sync_max_us), ms(storage.stall_us));
  }
  /// The figures as members of a JSON object, with a leading comma: `,"wal_bytes_per_event":...`.
  [[nodiscard]] std::string json_members() const {
    return fmt::format(",\"written_bytes_per_event\":{:.1f},\"wal_bytes_per_event\":{:.1f},"
                       "\"flush_bytes_per_event\":{:.1f},\"compaction_bytes_per_event\":{:.1f},"
                       "\"process_bytes_per_event\":{:.1f},\"flushes\":{},\"compactions\":{}",
                       written, wal, flush, compaction, process, flushes, compactions);
  }
  void add_to(boost::json::object& out) const {
    out["written_bytes_per_event"] = written;
    out["wal_bytes_per_event"] = wal;
    out["flush_bytes_per_event"] = flush;
    out["compaction_bytes_per_event"] = compaction;
    out["process_bytes_per_event"] = process;
    out["flushes"] = flushes;
    out["compactions"] = compactions;
    out["wal_sync_p50_ms"] = ms(storage.wal_sync_p50_us);
    out["wal_sync_p99_ms"] = ms(storage.wal_sync_p99_us);
    out["wal_sync_max_ms"] = ms(storage.wal_sync_max_us);
    out["write_p99_ms"] = ms(storage.write_p99_us);
    out["write_max_ms"] = ms(storage.write_max_us);
    out["stall_ms"] = ms(storage.stall_us);
    out["commit_p50_ms"] = ms(storage.commit_p50_us);
    out["commit_p99_ms"] = ms(storage.commit_p99_us);
    out["commit_max_ms"] = ms(storage.commit_max_us);
  }

private:
  [[nodiscard]] static double ms(std::uint64_t us) { return static_cast<double>(us) / 1000; }
};

class DiskWrites {
public:
  /// Marks the start of the span. REQUIRES: `log` was opened with
  /// Options::storage_statistics and outlives this.
  explicit DiskWrites(log::EventLog& log)
      : log_(log), storage_(log.storage_stats()), process_(process_write_bytes()),
        position_(log.last_position()) {}

  /// From the mark to now, once the memtables holding the span's events are flushed and the
  /// compactions that brings on are done: all that the span's events cost, WAL to compaction.
  [[nodiscard]] WritesPerEvent settled() const {
    if (Status settled = log_.settle_storage(std::chrono::minutes(2)); !settled.ok()) {
      fmt::print(stderr, "worldlog: the figures below miss some background writes: {}\n",
                 settled.error());
    }
    return since_mark();
  }

  /// From the mark to now.
  [[nodiscard]] WritesPerEvent since_mark() const {
    const log::StorageStats now = log_.storage_stats();
    const std::uint64_t events = log_.last_position() - position_;
    const auto per = [events](std::uint64_t bytes) {
      return events == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(events);
    };
    const std::uint64_t wal = now.wal_bytes - storage_.wal_bytes;
    const std::uint64_t flush = now.flush_bytes - storage_.flush_bytes;
    const std::uint64_t compaction = now.compaction_write_bytes - storage_.compaction_write_bytes;
    return {.events = events,
            .written = per(wal + flush + compaction),
            .wal = per(wal),
            .flush = per(flush),
            .compaction = per(compaction),
            .process = per(process_write_bytes() - process_),
            .flushes = now.flushes - storage_.flushes,
            .compactions = now.compactions - storage_.compactions,
            .storage = now};
  }

private:
  log::EventLog& log_;
  const log::StorageStats storage_;
  const std::uint64_t process_;
  const log::Position position_;
};

} // namespace worldlog::tools

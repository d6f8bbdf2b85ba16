// The event log: durable, append-only streams of events in one RocksDB database.
//
// Every event belongs to a stream (a zone, in the reference game) and gets a gap-free per-stream
// seq and a gap-free global position; positions are handed out in commit order. Appends from
// many threads are merged into one synced RocksDB write (group commit) and complete only once
// durable. Every record carries the SHA-256 of its stream predecessor, and every record read
// back is verified before it is handed out. The log knows nothing of games.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <worldlog/log/event.hpp>
#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>

namespace rocksdb {
class FileSystem;
} // namespace rocksdb

namespace worldlog::log {

enum class Durability {
  sync,     ///< fsync the WAL once per group-committed batch (survives power loss)
  buffered, ///< write the WAL without fsync (survives a process crash, not power loss)
};

struct Options {
  bool create_if_missing = true;             ///< create an empty log if `dir` holds none
  Durability durability = Durability::sync;  ///< when an append counts as durable
  std::size_t max_batch_events = 16384;      ///< events merged into one write, at most
  std::size_t max_payload_bytes = 1 << 20;   ///< larger payloads are an invalid_argument
  std::size_t max_events_per_append = 65536; ///< larger appends are an invalid_argument
  std::size_t max_queued_events = 1 << 20;   ///< appends beyond this backlog are overloaded
  /// Open an existing log as a reader beside its writer (a running server in another process)
  /// or on a copy: reads only, as of open or the last `refresh()`; never creates a log.
  bool read_only = false;
  /// Called on the thread that committed (the commit thread, or a caller of `append`) once each
  /// batch of appends is durable, with the number of events it wrote: how well group commit
  /// merges appends. Keep it cheap (a histogram).
  std::function<void(std::size_t events)> on_commit = nullptr;
  /// false: no commit thread; appends wait in the queue until `commit_queued()` commits them on
  /// the caller's thread. A deterministic simulation drives group commit this way: it decides
  /// when each batch commits, and which appends a crash loses (`discard_queued()`).
  /// The actor index is then written by `commit_queued` too, right behind each commit, so
  /// that what a run writes depends on nothing but its schedule.
  bool commit_thread = true;
  /// The file system RocksDB writes through; null: the operating system's. A simulation
  /// passes one that can forget what was never synced, as a power loss does.
  std::shared_ptr<rocksdb::FileSystem> file_system = nullptr;
  /// Called with each error (`error`: a write failed, damage was found) and warning (a write
  /// stall, say) of the storage, on whichever thread meets it. RocksDB's are in the LOG file in
  /// the log's directory too.
  std::function<void(bool error, std::string_view message)> on_storage_message = nullptr;
  /// A WAL damaged before its last record is refused on open (a record cut short at its very
  /// end, as a crash leaves it, is not damage). true: open it anyway, dropping every record
  /// from the damage on, acknowledged or not; `worldlog repair` does this when asked.
  bool drop_damaged_wal = false;
  /// A writable open is refused when the log's file system has less free space than this: a
  /// log that fills its disk stops taking appends, and one opened on a full disk could not
  /// even record that its players logged out.
  std::uint64_t min_free_bytes = 64 << 20;
  /// Count what the storage writes (StorageStats), from RocksDB's statistics: a little CPU on
  /// every write, so off unless measured (the benchmarks turn it on).
  bool storage_statistics = false;
};

/// What the storage wrote since the log was opened: the bytes behind each event's durability,
/// to measure write amplification (each byte is a chance for a stall behind it). Counted only
/// with Options::storage_statistics; zero otherwise.
struct StorageStats {
  std::uint64_t wal_bytes = 0;              ///< appended to write-ahead log files
  std::uint64_t flush_bytes = 0;            ///< table files written by memtable flushes
  std::uint64_t compaction_read_bytes = 0;  ///< table files read back by compactions
  std::uint64_t compaction_write_bytes = 0; ///< table files written by compactions
  std::uint64_t flushes = 0;                ///< memtable flushes completed
  std::uint64_t compactions = 0;            ///< compactions completed
  // Where a commit's time goes in the storage (µs, over every write since the open): the WAL's
  // fdatasync alone, and RocksDB's whole Write call (its write queue, the WAL append and sync,
  // the memtable inserts); the time writes were held back by stalls (too many memtables or
  // level-0 files) is a total.
  std::uint64_t wal_sync_p50_us = 0;
  std::uint64_t wal_sync_p99_us = 0;
  std::uint64_t wal_sync_max_us = 0;
  std::uint64_t write_p99_us = 0;
  std::uint64_t write_max_us = 0;
  std::uint64_t stall_us = 0;
  // An append's whole time in the log, from the call to durable: the wait for the commit
  // thread and the batch before it, then the batch's Write.
  std::uint64_t commit_p50_us = 0;
  std::uint64_t commit_p99_us = 0;
  std::uint64_t commit_max_us = 0;

  /// Every byte written: WAL, flushes and compactions.
  [[nodiscard]] std::uint64_t written_bytes() const noexcept {
    return wal_bytes + flush_bytes + compaction_write_bytes;
  }
};

/// Which subscription buffer to use and how large; see `Subscription`.
struct SubscribeOptions {
  std::size_t buffer_events = 4096; ///< live events held for a slow subscriber, at most
};

/// An `Options::on_storage_message` for tools: prints each message on stderr, as
/// "worldlog: storage error: ..." (or warning).
void print_storage_message(bool error, std::string_view message);

class Subscription;

/// Called once with the outcome of an asynchronous append, on the thread that committed it (the
/// log's commit thread, or a caller of the synchronous `append` that committed the queue
/// itself): keep it short (post to your own executor; see worldlog/log/async.hpp for Asio
/// completion tokens).
using AppendHandler = std::function<void(Result<AppendResult>)>;

/// Called for each event of a scan, in order; return false to stop early. The view is valid
/// only during the call.
using EventVisitor = std::function<bool(const EventView&)>;

class EventLog {
public:
  /// Opens (or, with `create_if_missing`, creates) the log in `dir`, recovering stream heads
  /// and the global position. A new log is created only where `dir` is missing or an empty
  /// directory (or holds only what a creation that stopped left). Everything that is refused is
  /// refused before anything in `dir` is changed. Errors: not_found when `dir` holds no log and
  /// none may be created; incompatible_format, naming `dir` and what is wrong, when it was
  /// written by a newer format version, is a RocksDB database that is not a worldlog log, a
  /// directory of other files, or a file; io_error when RocksDB cannot open it (another
  /// process holds it open, say).
  ///
  /// With `read_only`, the log is opened as a RocksDB secondary instance: it takes no lock, so
  /// another process may keep appending, and it writes nothing into `dir` (its own info log goes
  /// to a scratch directory under the system's temporary directory, removed once open). No
  /// commit or index thread runs; appends and put_snapshot fail with invalid_argument. Reads
  /// see what the writer had written when the log was opened or last refreshed, possibly a
  /// batch whose sync the writer is still waiting for.
  [[nodiscard]] static Result<std::unique_ptr<EventLog>> open(const std::filesystem::path& dir,
                                                              const Options& options = {});

  /// Completes in-flight appends, then closes the database (once no subscription holds it).
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // ---- appends ------------------------------------------------------------------------------

  /// Appends `events` to `stream` atomically (all or none) if the stream's last seq equals
  /// `expected_seq` (0 for a new stream, `any_seq` to skip the check), and waits until they are
  /// durable. Errors: conflict (names stream, expected and actual seq); invalid_argument (empty
  /// append, oversized payload, wall time earlier than the stream's last); overloaded (more than
  /// `max_queued_events` waiting); io_error (the log refuses appends until reopened); closed.
  /// When no commit is under way it commits the queue (this append with it) on the calling
  /// thread rather than wait for the commit thread to; without a commit thread, always.
  [[nodiscard]] Result<AppendResult> append(StreamId stream, Seq expected_seq,
                                            std::span<const NewEvent> events);

  /// The same as `append`, but returns at once; `done` runs on the thread that commits it (see
  /// AppendHandler) when the events are durable or the append failed. Safe to call from any
  /// thread.
  void append_async(StreamId stream, Seq expected_seq, std::span<const NewEvent> events,
                    AppendHandler done);

  /// For a log opened without a commit thread: commits up to `max_appends` queued appends, the
  /// oldest first, as one group commit on the calling thread, and runs their handlers there.
  /// Returns how many appends it took (0 when none was queued). With a commit thread: returns 0.
  std::size_t commit_queued(std::size_t max_appends = std::numeric_limits<std::size_t>::max());
  /// For a log opened without a commit thread: drops every queued append without writing it, as
  /// a process crash does to appends not yet committed; each handler gets a closed error, so
  /// that whoever waits on it can wind down. Returns how many.
  std::size_t discard_queued();

  // ---- reads (every record is verified; a bad one is a corruption error) ---------------------

  /// Events of `stream` with seq >= `from`, oldest first, at most `limit`.
  [[nodiscard]] Result<std::vector<Event>> read_stream(StreamId stream, Seq from,
                                                       std::size_t limit) const;
  /// Events of `stream` with seq <= `from` (`end_seq` = newest), newest first, at most `limit`.
  [[nodiscard]] Result<std::vector<Event>> read_stream_backward(StreamId stream, Seq from,
                                                                std::size_t limit) const;
  /// Events of the whole log with position >= `from`, in position order, at most `limit`.
  [[nodiscard]] Result<std::vector<Event>> read_all(Position from, std::size_t limit) const;
  /// Events caused by `actor` with position >= `from`, in position order, at most `limit`.
  [[nodiscard]] Result<std::vector<Event>> read_actor(Actor actor, Position from,
                                                      std::size_t limit) const;
  /// The first event of `stream` whose wall time is >= `wall_time_us` (a binary search over
  /// the stream's seqs), or nullopt when every event is earlier.
  [[nodiscard]] Result<std::optional<Event>> find_at_time(StreamId stream,
                                                          std::int64_t wall_time_us) const;

  /// Zero-copy forms of read_stream and read_all for folds and catch-up: `visit` sees each
  /// event in order until it returns false or `limit` events were seen. `check` says how much
  /// of each record a stream scan checks first (see RecordCheck).
  [[nodiscard]] Status scan_stream(StreamId stream, Seq from, std::size_t limit,
                                   const EventVisitor& visit,
                                   RecordCheck check = RecordCheck::hash) const;
  [[nodiscard]] Status scan_all(Position from, std::size_t limit, const EventVisitor& visit) const;

  // ---- heads and integrity -------------------------------------------------------------------

  /// The write error that made the log refuse every append since (the disk is full, the device
  /// failed), if one did; it lasts until the log is reopened. Safe from any thread.
  [[nodiscard]] std::optional<Error> write_failure() const;

  /// The last durable seq of `stream` (0 if it has no events).
  [[nodiscard]] Seq head(StreamId stream) const;
  /// The last durable position of the log (0 if empty).
  [[nodiscard]] Position last_position() const;
  /// What the storage wrote since the open (zero without Options::storage_statistics).
  [[nodiscard]] StorageStats storage_stats() const;
  /// Lets the actor index catch up, flushes every memtable and waits, up to `limit`, until no
  /// compaction is running or due: after it, storage_stats() holds everything the events
  /// appended so far will ever cost (unless more appends trigger more compactions), and every
  /// index entry is in a table file. For benchmarks and tests. Errors: storage, or timeout.
  [[nodiscard]] Status settle_storage(std::chrono::milliseconds limit);
  /// Every stream with at least one event, in ascending order.
  [[nodiscard]] std::vector<StreamId> streams() const;

  /// A read-only log catches up with what its writer has written since it was opened or last
  /// refreshed: heads, reads and live subscriptions move on. Errors: invalid_argument for a log
  /// opened for writing (it is always current); io_error when the writer's files cannot be
  /// read; corruption when the new events fail verification. Safe beside reads on other
  /// threads.
  [[nodiscard]] Status refresh();

  /// Recomputes `stream`'s hash chain from seq 1: each record's hash, each predecessor link,
  /// and the seq/position fields against the keys. Returns the number of events checked, or a
  /// corruption error naming the first bad seq.
  [[nodiscard]] Result<std::uint64_t> verify(StreamId stream) const;

  /// Evidence that a stream once reached past its head, as when the log lost its newest writes
  /// (a WAL whose tail was lost, a copy taken without them) or its newest records were deleted.
  struct LostTail {
    /// nullopt: the log as a whole, when the evidence names positions and no stream
    std::optional<StreamId> stream;
    Seq head = 0;         ///< the stream's last seq now (nullopt: the log's last position)
    Seq reached = 0;      ///< the furthest seq (nullopt: position) the evidence names
    std::string evidence; ///< what names it: "a snapshot", "the positions index", ...
  };
  /// Looks in everything the log keeps beside the records for a stream that ends before a seq
  /// that the log once held: a snapshot taken after a later seq, a positions or actors index
  /// entry naming a later seq (also of a stream with no records left), or an actors index
  /// watermark past the log's last position. One entry per stream, its furthest evidence, in
  /// stream order (the log as a whole first); empty when every stream ends where the log says it
  /// reached. Errors: io_error; corruption for a malformed index entry.
  [[nodiscard]] Result<std::vector<LostTail>> find_lost_tails() const;

  // ---- snapshots (opaque bytes, e.g. a zone's folded state) ----------------------------------

  /// Stores `bytes` as the snapshot of `stream` after `seq`, then deletes all but the newest
  /// `keep_last` snapshots of the stream. REQUIRES: keep_last >= 1.
  [[nodiscard]] Status put_snapshot(StreamId stream, Seq seq, std::string_view bytes,
                                    std::size_t keep_last = 3);
  struct Snapshot {
    Seq seq = 0;       ///< the snapshot reflects the stream after this seq
    std::string bytes; ///< as given to put_snapshot
  };
  /// The newest snapshot of `stream` taken at or before `seq`, or nullopt if none.
  [[nodiscard]] Result<std::optional<Snapshot>> latest_snapshot(StreamId stream,
                                                                Seq at_or_before = end_seq) const;

  // ---- subscriptions -------------------------------------------------------------------------

  /// Events of `stream` with seq > `after`, first from storage (catch-up) then as they commit.
  [[nodiscard]] std::unique_ptr<Subscription> subscribe_stream(StreamId stream, Seq after,
                                                               SubscribeOptions options = {});
  /// Events of the whole log with position > `after`, catch-up then live.
  [[nodiscard]] std::unique_ptr<Subscription> subscribe_all(Position after,
                                                            SubscribeOptions options = {});

  struct Impl;

private:
  explicit EventLog(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_; ///< shared with subscriptions, which may outlive the log
};

/// A catch-up-then-live feed of events, delivered exactly once and in order. Live events are
/// held in a bounded buffer; when a subscriber is too slow and the buffer fills, `next` reports
/// fell_behind once and the subscription continues from storage after the last delivered event,
/// so nothing is skipped and memory stays bounded. Not thread-safe: one consumer per object.
/// A subscription that outlives its EventLog reports closed, and keeps the database files
/// open until it is destroyed.
class Subscription {
public:
  virtual ~Subscription() = default;

  /// The next event, waiting up to `timeout` for one (nullopt when none came). Errors:
  /// fell_behind (once per overflow; call again to continue), corruption, closed.
  [[nodiscard]] virtual Result<std::optional<Event>> next(std::chrono::milliseconds timeout) = 0;
  /// Seq (stream subscriptions) or position (whole-log ones) of the last delivered event.
  [[nodiscard]] virtual std::uint64_t last_delivered() const = 0;
};

} // namespace worldlog::log

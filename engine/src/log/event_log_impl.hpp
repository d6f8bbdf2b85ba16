// EventLog's private state, shared by the files of engine/src/log/.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/listener.h>
#include <rocksdb/statistics.h>

#include <worldlog/latency_histogram.hpp>
#include <worldlog/log/event_log.hpp>

#include "log/info_log.hpp"

namespace worldlog::log {

/// What the log knows of a stream's newest record.
struct StreamHead {
  Seq seq = 0;
  Hash hash{}; ///< hash of record `seq` (all zero before the first)
  std::int64_t wall_time_us = 0;
};

/// An append on its way to the commit thread; the records are already encoded by the caller.
struct AppendRequest {
  StreamId stream = 0;
  Seq expected_seq = 0;
  std::vector<std::string> records; ///< encoded, sealed at commit
  std::vector<Actor> actors;        ///< actor of each record, for the actor index
  AppendHandler done;
  std::chrono::steady_clock::time_point queued{}; ///< when it was handed to the commit thread
};

/// A committed event on its way to live subscribers and the actor index.
struct Committed {
  StreamId stream;
  Seq seq;
  Position position;
  Actor actor;
  const std::string* record; ///< valid during publish only
};

/// An entry of the actor index, on its way to the indexer thread.
struct ActorEntry {
  Actor actor;
  Position position;
  StreamId stream;
  Seq seq;
};

/// The bounded buffer of one live subscription, filled by the commit thread.
struct LiveBuffer {
  std::optional<StreamId> stream; ///< only this stream's events; nullopt = whole log
  std::size_t capacity = 0;

  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Event> events; ///< guarded by mutex
  bool overflowed = false;  ///< guarded by mutex; events were dropped after the buffered ones
  bool closed = false;      ///< guarded by mutex; the log is closing
};

/// Counts the flushes and compactions that complete (StorageStats).
class StorageCounter final : public rocksdb::EventListener {
public:
  void OnFlushCompleted(rocksdb::DB* /*db*/, const rocksdb::FlushJobInfo& /*info*/) override {
    flushes.fetch_add(1, std::memory_order_relaxed);
  }
  void OnCompactionCompleted(rocksdb::DB* /*db*/,
                             const rocksdb::CompactionJobInfo& /*info*/) override {
    compactions.fetch_add(1, std::memory_order_relaxed);
  }

  std::atomic<std::uint64_t> flushes{0};
  std::atomic<std::uint64_t> compactions{0};
};

struct EventLog::Impl {
  Options options;
  std::unique_ptr<rocksdb::Env> env; ///< over options.file_system, when there is one; outlives db
  std::shared_ptr<InfoLog> info_log; ///< RocksDB's, writable logs only
  /// With Options::storage_statistics (writable logs): what the storage wrote (StorageStats).
  std::shared_ptr<rocksdb::Statistics> statistics;
  std::shared_ptr<StorageCounter> storage_counter;
  /// With Options::storage_statistics: each append's time from submit to durable.
  std::unique_ptr<LatencyHistogram> commit_latency;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* meta_cf = nullptr;
  rocksdb::ColumnFamilyHandle* events_cf = nullptr;
  rocksdb::ColumnFamilyHandle* positions_cf = nullptr;
  rocksdb::ColumnFamilyHandle* actors_cf = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_cf = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles; ///< all of the above, owned; closed last
  /// Read-only logs: one catch-up at a time, so that live subscribers see each event once.
  std::mutex refresh_mutex;

  // ---- commit thread (group_commit.cpp) ----
  std::mutex queue_mutex;
  std::condition_variable queue_ready;
  std::deque<AppendRequest> queue; ///< guarded by queue_mutex
  std::size_t queued_events = 0;   ///< guarded by queue_mutex
  bool stopping = false;           ///< guarded by queue_mutex
  std::optional<Error> failure;    ///< guarded by queue_mutex; sticky after a failed write
  /// Whether `failure` is set, read without the lock: every command asks (write_failure).
  std::atomic<bool> failed{false};
  /// Held while a batch is taken and committed, by the commit thread or by a caller of the
  /// synchronous append that commits the queue itself (group_commit.cpp): batches are
  /// committed one at a time, in queue order.
  std::mutex commit_mutex;
  /// Heads including batches not yet durable. Touched only under commit_mutex.
  std::unordered_map<StreamId, StreamHead> pending_heads;
  Position pending_position = 0; ///< touched only under commit_mutex
  std::thread committer;

  // ---- durable state, visible to readers and subscribers ----
  mutable std::mutex state_mutex;
  std::map<StreamId, Seq> durable_heads;         ///< guarded by state_mutex
  Position durable_position = 0;                 ///< guarded by state_mutex
  std::vector<std::shared_ptr<LiveBuffer>> live; ///< guarded by state_mutex
  bool closed = false;                           ///< guarded by state_mutex; EventLog is gone

  // ---- actor index, built just behind the commit (actor_index.cpp) ----
  std::mutex index_mutex;
  std::condition_variable index_work;     ///< wakes the indexer
  std::condition_variable index_progress; ///< wakes readers waiting for the index
  std::vector<ActorEntry> index_queue;    ///< guarded by index_mutex
  Position indexed_position = 0;          ///< guarded by index_mutex; actors holds all up to it
  std::optional<Error> index_failure;     ///< guarded by index_mutex; sticky
  bool index_stopping = false;            ///< guarded by index_mutex
  std::size_t index_waiters = 0;          ///< guarded by index_mutex; in wait_indexed
  std::thread indexer;
  /// How long the indexer lets commits gather before it writes their entries, at most, and how
  /// many entries end a gathering early.
  static constexpr std::chrono::milliseconds index_gather_time{10};
  static constexpr std::size_t index_gather_entries = 16 * 1024;

  /// Indexes the events past the stored watermark (lost in a crash), before threads start.
  [[nodiscard]] Status recover_actor_index();
  /// The watermark as stored: the actor index holds every event up to it.
  [[nodiscard]] Result<Position> stored_actor_index_position() const;
  void run_indexer();
  /// Writes `entries` (not empty) and the watermark past them in one write, outside the WAL.
  void write_index(std::span<const ActorEntry> entries);
  /// Hands a durable batch to the indexer (or, with no commit thread, writes it). Committer only.
  void index_behind(const std::vector<Committed>& committed);
  /// Waits until the actor index covers `position`.
  [[nodiscard]] Status wait_indexed(Position position);

  /// Every stream's newest record and the last position, as stored.
  struct StoredHeads {
    std::map<StreamId, StreamHead> heads;
    Position last_position = 0;
  };
  [[nodiscard]] Result<StoredHeads> read_heads(const rocksdb::ReadOptions& read = {}) const;
  /// Read-only logs: reads what the writer wrote since the last catch-up into RocksDB's view.
  [[nodiscard]] Status catch_up();
  /// Read-only logs: makes what the last catch-up read visible (heads, position, live
  /// subscribers). REQUIRES: refresh_mutex is held.
  [[nodiscard]] Status publish_caught_up();

  /// Stops the commit thread after it drained the queue and closes live subscriptions.
  void shut_down();
  /// Closes the database: the last owner (the EventLog or a subscription) is gone.
  ~Impl();

  /// Validates and encodes an append and queues it (or refuses it through `done`).
  void enqueue(StreamId stream, Seq expected_seq, std::span<const NewEvent> events,
               AppendHandler done, bool wake);
  /// Queues an append; `wake` tells the commit thread about it.
  void submit(AppendRequest request, bool wake);
  void run_committer();
  /// Commits a batch of the queue in this thread, unless a commit is under way elsewhere
  /// (which takes the queue next). Returns whether it did.
  bool commit_here();
  /// Moves the oldest queued appends into `batch`: whole appends, at most `max_appends` and
  /// `options.max_batch_events` events (at least one append when any is queued).
  void take_batch(std::vector<AppendRequest>& batch, std::size_t max_appends);
  void commit(std::vector<AppendRequest>& batch);
  /// Makes a durable batch visible: heads, position, live subscribers. Under commit_mutex.
  void publish(const std::vector<Committed>& committed);

  void unregister_live(const LiveBuffer* buffer);

  [[nodiscard]] Status scan_stream(StreamId stream, Seq from, std::size_t limit,
                                   const EventVisitor& visit,
                                   RecordCheck check = RecordCheck::hash) const;
  /// Damage a scan came across (a record or index entry missing or malformed); true lets the
  /// scan go on past it.
  using DamageHandler = std::function<bool(const Error& damage)>;
  /// The events from `from` in position order. Damage ends the scan with its error, unless
  /// `on_damage` lets it go on.
  [[nodiscard]] Status scan_all(Position from, std::size_t limit, const EventVisitor& visit,
                                RecordCheck check = RecordCheck::hash,
                                const DamageHandler* on_damage = nullptr) const;
  [[nodiscard]] Result<std::optional<Event>> get(StreamId stream, Seq seq) const;
};

/// A RocksDB view of an encoded key (format.hpp).
[[nodiscard]] inline rocksdb::Slice slice(std::span<const char> bytes) {
  return {bytes.data(), bytes.size()};
}

/// Converts a failed RocksDB status into an io_error (or corruption) naming `what`.
[[nodiscard]] Error storage_error(const rocksdb::Status& status, std::string_view what);

/// The actor index's watermark as `db` holds it (format.hpp): the newer of the one stored with
/// the entries and the one a log of format version 2 kept in `meta`; 0 when there is none.
[[nodiscard]] Result<Position> read_actor_watermark(rocksdb::DB& db,
                                                    const rocksdb::ReadOptions& read,
                                                    rocksdb::ColumnFamilyHandle* actors,
                                                    rocksdb::ColumnFamilyHandle* meta);

} // namespace worldlog::log

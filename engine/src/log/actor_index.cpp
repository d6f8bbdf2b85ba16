// The actor index (who did what), written just behind the commit. Each durable batch is handed
// to an indexer thread, which lets the batches of a few milliseconds gather and writes their
// entries and the index's watermark in one unsynced WriteBatch. A crash may lose the newest
// entries, never a prefix, and the watermark says where they stop: open re-indexes the events
// past it from the positions index.
#include <rocksdb/write_batch.h>

#include "log/event_log_impl.hpp"
#include "log/format.hpp"

namespace worldlog::log {
namespace {

/// Adds `entries` and the watermark `through` to `batch`.
void add_entries(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* actors_cf,
                 rocksdb::ColumnFamilyHandle* meta_cf, std::span<const ActorEntry> entries,
                 Position through) {
  for (const auto& entry : entries) {
    (void)batch.Put(actors_cf, slice(format::actor_key(entry.actor, entry.position)),
                    slice(format::stream_seq_key(entry.stream, entry.seq)));
  }
  (void)batch.Put(meta_cf, format::actor_index_position_key.data(),
                  slice(format::position_key(through)));
}

} // namespace

Result<Position> EventLog::Impl::stored_actor_index_position() const {
  std::string stored;
  const auto read =
      db->Get(rocksdb::ReadOptions(), meta_cf, format::actor_index_position_key.data(), &stored);
  if (!read.ok() && !read.IsNotFound()) return storage_error(read, "reading the actor index mark");
  return stored.size() == 8 ? format::get_u64(stored.data()) : Position{0};
}

Status EventLog::Impl::recover_actor_index() {
  auto stored = stored_actor_index_position();
  if (!stored.ok()) return std::move(stored).error();
  Position through = *stored;

  std::vector<ActorEntry> entries;
  const auto flush = [&]() -> Status {
    rocksdb::WriteBatch batch;
    add_entries(batch, actors_cf, meta_cf, entries, through);
    if (const auto status = db->Write(rocksdb::WriteOptions(), &batch); !status.ok()) {
      return storage_error(status, "rebuilding the actor index");
    }
    entries.clear();
    return {};
  };
  Status flushed;
  auto scanned = scan_all(through + 1, ~std::size_t{0}, [&](const EventView& event) {
    entries.push_back({event.actor(), event.position(), event.stream(), event.seq()});
    through = event.position();
    if (entries.size() == 4096) flushed = flush();
    return flushed.ok();
  });
  if (!scanned.ok()) return scanned;
  if (!flushed.ok()) return flushed;
  if (!entries.empty()) {
    if (auto status = flush(); !status.ok()) return status;
  }
  indexed_position = through;
  return {};
}

void EventLog::Impl::index_behind(const std::vector<Committed>& committed) {
  if (!options.commit_thread) {
    // No indexer thread: the caller that drives the commits writes the index as well.
    std::vector<ActorEntry> entries;
    entries.reserve(committed.size());
    for (const auto& event : committed) {
      entries.push_back({event.actor, event.position, event.stream, event.seq});
    }
    if (!entries.empty()) write_index(entries);
    return;
  }
  bool wake = false;
  {
    std::lock_guard lock(index_mutex);
    // The indexer sleeps only on an empty queue or while a gathering is under way: it needs a
    // wake-up for the first batch of a gathering, and for a queue that is full.
    wake = index_queue.empty();
    for (const auto& event : committed) {
      index_queue.push_back({event.actor, event.position, event.stream, event.seq});
    }
    wake = wake || index_queue.size() >= index_gather_entries;
  }
  if (wake) index_work.notify_one();
}

void EventLog::Impl::run_indexer() {
  std::vector<ActorEntry> entries;
  for (;;) {
    {
      std::unique_lock lock(index_mutex);
      index_work.wait(lock, [this] { return index_stopping || !index_queue.empty(); });
      if (index_queue.empty()) return; // stopping, and everything handed over is indexed
      // One write for the commits of a few milliseconds instead of one per commit: each write
      // is a WAL append and a place in RocksDB's write queue, ahead of the next synced commit.
      index_work.wait_for(lock, index_gather_time, [this] {
        return index_stopping || index_waiters > 0 || index_queue.size() >= index_gather_entries;
      });
      entries.swap(index_queue);
    }
    write_index(entries);
    entries.clear();
  }
}

void EventLog::Impl::write_index(std::span<const ActorEntry> entries) {
  const Position through = entries.back().position;
  rocksdb::WriteBatch batch;
  add_entries(batch, actors_cf, meta_cf, entries, through);
  const auto status = db->Write(rocksdb::WriteOptions(), &batch);
  {
    std::lock_guard lock(index_mutex);
    if (status.ok()) {
      indexed_position = through;
    } else if (!index_failure) {
      index_failure = storage_error(status, "writing the actor index");
    }
  }
  index_progress.notify_all();
}

Status EventLog::Impl::wait_indexed(Position position) {
  std::unique_lock lock(index_mutex);
  ++index_waiters; // the indexer stops gathering for us
  index_work.notify_one();
  index_progress.wait(
      lock, [&] { return indexed_position >= position || index_failure || index_stopping; });
  --index_waiters;
  if (index_failure) return *index_failure;
  if (indexed_position < position) return make_error(Errc::closed, "the log is closing");
  return {};
}

} // namespace worldlog::log

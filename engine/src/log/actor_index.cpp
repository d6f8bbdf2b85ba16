// The actor index (who did what), written just behind the commit. Each durable batch is handed
// to an indexer thread, which lets the batches of a few milliseconds gather and writes their
// entries and the index's watermark in one WriteBatch that skips the WAL: the index is derived
// from the log, so it need not cost the log's disk a byte until a flush. A crash or a close
// loses what was not flushed, entries and watermark together (they share a column family),
// and open re-indexes the events past the watermark it finds from the positions index.
#include <rocksdb/write_batch.h>

#include "log/event_log_impl.hpp"
#include "log/format.hpp"

namespace worldlog::log {
namespace {

/// Adds `entries` (in position order) and the watermark `through` to `batch`: an actor's events
/// at consecutive positions of one stream are one entry.
void add_entries(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* actors_cf,
                 std::span<const ActorEntry> entries, Position through) {
  for (std::size_t first = 0; first < entries.size();) {
    std::size_t last = first;
    while (last + 1 < entries.size() && entries[last + 1].actor == entries[first].actor &&
           entries[last + 1].stream == entries[first].stream &&
           entries[last + 1].position == entries[last].position + 1) {
      ++last;
    }
    const format::IndexRunValue run(
        {entries[last].stream, entries[last].seq, static_cast<std::uint32_t>(last - first + 1)});
    (void)batch.Put(actors_cf,
                    slice(format::actor_key(entries[last].actor, entries[last].position)),
                    run.view());
    first = last + 1;
  }
  (void)batch.Put(actors_cf, format::actor_watermark_key.data(),
                  slice(format::position_key(through)));
}

rocksdb::WriteOptions index_write_options() {
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  return write;
}

} // namespace

Result<Position> read_actor_watermark(rocksdb::DB& db, const rocksdb::ReadOptions& read,
                                      rocksdb::ColumnFamilyHandle* actors,
                                      rocksdb::ColumnFamilyHandle* meta) {
  Position watermark = 0;
  for (const auto& [cf, key] : {std::pair{actors, format::actor_watermark_key},
                                std::pair{meta, format::legacy_actor_watermark_key}}) {
    std::string stored;
    const auto got = db.Get(read, cf, key.data(), &stored);
    if (!got.ok() && !got.IsNotFound()) return storage_error(got, "reading the actor index mark");
    if (stored.size() == sizeof(Position)) {
      watermark = std::max(watermark, format::get_u64(stored.data()));
    }
  }
  return watermark;
}

Result<Position> EventLog::Impl::stored_actor_index_position() const {
  return read_actor_watermark(*db, rocksdb::ReadOptions(), actors_cf, meta_cf);
}

Status EventLog::Impl::recover_actor_index() {
  auto stored = stored_actor_index_position();
  if (!stored.ok()) return std::move(stored).error();
  Position through = *stored;

  std::vector<ActorEntry> entries;
  const auto write = [&]() -> Status {
    rocksdb::WriteBatch batch;
    add_entries(batch, actors_cf, entries, through);
    if (const auto status = db->Write(index_write_options(), &batch); !status.ok()) {
      return storage_error(status, "rebuilding the actor index");
    }
    entries.clear();
    return {};
  };
  Status written;
  // Who did what needs each envelope, not its hash. Damage is for the reads and verify() to
  // report, not a reason to refuse the open: what cannot be read is left out of the index.
  const DamageHandler skip_damage = [](const Error&) { return true; };
  auto scanned = scan_all(
      through + 1, ~std::size_t{0},
      [&](const EventView& event) {
        entries.push_back({event.actor(), event.position(), event.stream(), event.seq()});
        through = event.position();
        if (entries.size() == 4096) written = write();
        return written.ok();
      },
      RecordCheck::envelope, &skip_damage);
  if (!scanned.ok()) return scanned;
  if (!written.ok()) return written;
  // Every position up to the head was visited, the damaged ones too.
  through = std::max(through, durable_position);
  if (through > *stored) {
    if (auto status = write(); !status.ok()) return status;
    // Stored now, so that the next open does not index the same events again. The open has
    // just moved the WAL's records into table files, so no older WAL is left whose damage
    // this table could be ahead of.
    if (const auto flushed = db->Flush(rocksdb::FlushOptions(), actors_cf); !flushed.ok()) {
      return storage_error(flushed, "storing the rebuilt actor index");
    }
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
  add_entries(batch, actors_cf, entries, through);
  const auto status = db->Write(index_write_options(), &batch);
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

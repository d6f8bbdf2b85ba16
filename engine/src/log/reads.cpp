// Reads. Every record is verified (FlatBuffers verifier, hash, key) before a caller sees it.
#include <algorithm>
#include <cstring>

#include "log/event_log_impl.hpp"
#include "log/format.hpp"

namespace worldlog::log {
namespace {

/// Options for scans. A fold or a catch-up reads each block once; putting those blocks in the
/// block cache costs more than it saves and evicts the blocks point lookups need (measured:
/// a one-stream scan of fresh data goes from 1.4 M to 1.8 M events/s).
rocksdb::ReadOptions scan_options() {
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  return options;
}

/// A RocksDB snapshot released on scope exit, so that the several iterators of one read agree.
/// A reader (a secondary instance) has no snapshots, and needs none: its view changes only
/// when it catches up, and a later view holds everything an earlier one did.
class ReadSnapshot {
public:
  ReadSnapshot(rocksdb::DB& db, bool read_only)
      : db_(db), snapshot_(read_only ? nullptr : db.GetSnapshot()), options_(scan_options()) {
    options_.snapshot = snapshot_;
  }
  ~ReadSnapshot() {
    if (snapshot_ != nullptr) db_.ReleaseSnapshot(snapshot_);
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  [[nodiscard]] const rocksdb::ReadOptions& options() const { return options_; }

private:
  rocksdb::DB& db_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

/// Copies a value into a reusable heap buffer: RocksDB values sit at any offset inside a
/// block, and FlatBuffers reads scalars in place, so they must be 8-byte aligned.
std::string_view aligned(const rocksdb::Slice& value, std::string& buffer) {
  buffer.assign(value.data(), value.size());
  return buffer;
}

/// Walks the records of the whole log in position order. Each stream gets a cursor that only
/// ever steps forward, because a stream's positions rise with its seqs; a step that misses its
/// key (another reader's view, a deleted record) falls back to a seek.
class StreamCursors {
public:
  StreamCursors(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events,
                const rocksdb::ReadOptions& options)
      : db_(db), events_(events), options_(options) {}

  /// The iterator positioned at (stream, seq), or null when that record does not exist.
  rocksdb::Iterator* find(StreamId stream, Seq seq) {
    // A log with more live streams than this reuses cursors by seeking; memory stays bounded.
    constexpr std::size_t max_cursors = 1024;
    auto& cursor = cursors_[stream];
    if (!cursor) {
      if (cursors_.size() > max_cursors) {
        cursors_.clear();
        return find(stream, seq);
      }
      cursor.reset(db_.NewIterator(options_, events_));
    }
    const auto key = format::stream_seq_key(stream, seq);
    const rocksdb::Slice target = slice(key);
    if (cursor->Valid() && cursor->key().compare(target) < 0) cursor->Next();
    if (!cursor->Valid() || cursor->key() != target) cursor->Seek(target);
    return cursor->Valid() && cursor->key() == target ? cursor.get() : nullptr;
  }

private:
  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* events_;
  const rocksdb::ReadOptions& options_;
  std::unordered_map<StreamId, std::unique_ptr<rocksdb::Iterator>> cursors_;
};

/// A record that must exist (seqs are gap-free) is not there; `why` says how we know.
Error missing(StreamId stream, Seq seq, std::string_view why) {
  return make_error(Errc::corruption, "stream {} seq {}: missing ({})", stream, seq, why);
}

} // namespace

Status EventLog::Impl::scan_stream(StreamId stream, Seq from, std::size_t limit,
                                   const EventVisitor& visit, RecordCheck check) const {
  // The head is read before the iterator is made, so the iterator holds at least every seq up
  // to it: a head read afterwards could be newer than the iterator's view.
  Seq head = 0;
  {
    std::lock_guard lock(state_mutex);
    const auto found = durable_heads.find(stream);
    if (found != durable_heads.end()) head = found->second;
  }
  const auto upper = format::stream_seq_key(stream + 1, 0);
  const rocksdb::Slice upper_bound = slice(upper);
  rocksdb::ReadOptions read = scan_options();
  if (stream != ~StreamId{0}) read.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, events_cf));
  std::string buffer;
  // Seqs are gap-free, so a scan expects each one in turn: a deleted record is an error, not
  // a silent hole in somebody's fold.
  Seq expected = std::max<Seq>(from, 1);
  std::size_t seen = 0;
  for (it->Seek(slice(format::stream_seq_key(stream, expected))); it->Valid() && seen < limit;
       it->Next(), ++expected, ++seen) {
    const Seq seq = format::get_u64(it->key().data() + 8);
    if (seq != expected) {
      return missing(stream, expected, fmt::format("next stored seq is {}", seq));
    }
    const auto record = aligned(it->value(), buffer);
    auto fields = format::check_record(record, stream, seq, check);
    if (!fields.ok()) return std::move(fields).error();
    if (!visit(EventView(record, *fields))) return {};
  }
  if (!it->status().ok())
    return storage_error(it->status(), fmt::format("reading stream {}", stream));
  if (seen < limit && expected <= head) {
    return missing(stream, expected, fmt::format("stream head is {}", head));
  }
  return {};
}

Status EventLog::Impl::scan_all(Position from, std::size_t limit, const EventVisitor& visit,
                                RecordCheck check, const DamageHandler* on_damage) const {
  const ReadSnapshot snapshot(*db, options.read_only);
  std::unique_ptr<rocksdb::Iterator> positions(db->NewIterator(snapshot.options(), positions_cf));
  StreamCursors cursors(*db, events_cf, snapshot.options());
  std::string buffer;
  std::size_t seen = 0;
  /// Damage ends the scan, unless `on_damage` lets the scan go on past it.
  const auto go_on_past = [on_damage](const Error& damage) {
    return on_damage != nullptr && (*on_damage)(damage);
  };
  // Positions are gap-free, so a scan expects each one in turn: an index entry that is gone
  // would otherwise drop its events from the log's order without a word. The first entry at
  // or after `from` is the run that holds it.
  Position expected = std::max<Position>(from, 1);
  for (positions->Seek(slice(format::position_key(expected))); positions->Valid() && seen < limit;
       positions->Next()) {
    const Position last = format::get_u64(positions->key().data());
    const auto run = format::parse_index_run(positions->value().ToStringView(), last);
    if (!run) {
      auto damage = make_error(Errc::corruption, "position {}: malformed index entry", last);
      if (!go_on_past(damage)) return damage;
      continue;
    }
    if (const Position first = run->first_position(last); first > expected) {
      auto damage = make_error(Errc::corruption,
                               "position {}: missing from the positions index (the next is {})",
                               expected, first);
      if (!go_on_past(damage)) return damage;
      expected = first;
    }
    for (; expected <= last && seen < limit; ++expected, ++seen) {
      const Seq seq = run->seq_at(expected, last);
      auto* record_it = cursors.find(run->stream, seq);
      if (record_it == nullptr) {
        auto damage = missing(run->stream, seq, fmt::format("indexed at position {}", expected));
        if (!go_on_past(damage)) return damage;
        continue;
      }
      const auto record = aligned(record_it->value(), buffer);
      auto fields = format::check_record(record, run->stream, seq, check);
      if (fields.ok() && fields->position != expected) {
        fields = make_error(Errc::corruption, "stream {} seq {}: record says position {}, index {}",
                            run->stream, seq, fields->position, expected);
      }
      if (!fields.ok()) {
        if (!go_on_past(fields.error())) return std::move(fields).error();
        continue;
      }
      if (!visit(EventView(record, *fields))) return {};
    }
  }
  if (!positions->status().ok()) return storage_error(positions->status(), "reading the log");
  return {};
}

Result<std::optional<Event>> EventLog::Impl::get(StreamId stream, Seq seq) const {
  std::string value;
  const auto status = db->Get(rocksdb::ReadOptions(), events_cf,
                              slice(format::stream_seq_key(stream, seq)), &value);
  if (status.IsNotFound()) return std::optional<Event>{};
  if (!status.ok()) {
    return storage_error(status, fmt::format("reading stream {} seq {}", stream, seq));
  }
  if (auto valid = format::verify_record(value, stream, seq); !valid.ok()) {
    return std::move(valid).error();
  }
  return std::optional<Event>(Event(std::move(value)));
}

namespace {

EventVisitor collect_into(std::vector<Event>& events) {
  return [&events](const EventView& event) {
    events.emplace_back(std::string(event.record()));
    return true;
  };
}

} // namespace

Status EventLog::scan_stream(StreamId stream, Seq from, std::size_t limit,
                             const EventVisitor& visit, RecordCheck check) const {
  return impl_->scan_stream(stream, from, limit, visit, check);
}

Status EventLog::scan_all(Position from, std::size_t limit, const EventVisitor& visit) const {
  return impl_->scan_all(from, limit, visit);
}

Result<std::vector<Event>> EventLog::read_stream(StreamId stream, Seq from,
                                                 std::size_t limit) const {
  std::vector<Event> events;
  if (auto status = impl_->scan_stream(stream, from, limit, collect_into(events)); !status.ok()) {
    return std::move(status).error();
  }
  return events;
}

Result<std::vector<Event>> EventLog::read_all(Position from, std::size_t limit) const {
  std::vector<Event> events;
  if (auto status = impl_->scan_all(from, limit, collect_into(events)); !status.ok()) {
    return std::move(status).error();
  }
  return events;
}

Result<std::vector<Event>> EventLog::read_stream_backward(StreamId stream, Seq from,
                                                          std::size_t limit) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->events_cf));
  std::vector<Event> events;
  std::string buffer;
  // As forward scans do, expect every seq down from the start: a deleted record is an error.
  const Seq head = this->head(stream);
  Seq expected = std::min(from, head);
  for (it->SeekForPrev(slice(format::stream_seq_key(stream, expected)));
       expected > 0 && events.size() < limit; it->Prev(), --expected) {
    const bool ours = it->Valid() && format::get_u64(it->key().data()) == stream;
    const Seq seq = ours ? format::get_u64(it->key().data() + 8) : 0;
    if (seq != expected) {
      return missing(stream, expected, fmt::format("stream head is {}", head));
    }
    const auto record = aligned(it->value(), buffer);
    if (auto status = format::verify_record(record, stream, seq); !status.ok()) {
      return std::move(status).error();
    }
    events.emplace_back(std::string(record));
  }
  if (!it->status().ok())
    return storage_error(it->status(), fmt::format("reading stream {}", stream));
  return events;
}

Result<std::vector<Event>> EventLog::read_actor(Actor actor, Position from,
                                                std::size_t limit) const {
  // The index is written just behind the commit. A writer lets it catch up with what is
  // durable now; a reader has no indexer, so it takes the index as far as the writer's indexer
  // stored it and scans the events past that watermark.
  Position indexed = ~Position{0};
  if (impl_->options.read_only) {
    auto stored = impl_->stored_actor_index_position();
    if (!stored.ok()) return std::move(stored).error();
    indexed = *stored;
  } else if (auto caught_up = impl_->wait_indexed(last_position()); !caught_up.ok()) {
    return std::move(caught_up).error();
  }
  const auto upper = format::actor_key(actor, indexed);
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->actors_cf));
  std::vector<Event> events;
  // The first run at or after `from` may start before it.
  for (it->Seek(slice(format::actor_key(actor, from)));
       it->Valid() && events.size() < limit && it->key().compare(slice(upper)) <= 0; it->Next()) {
    if (it->key().size() != sizeof(format::ActorKey)) {
      return make_error(Errc::corruption, "actor {}: malformed index key", actor);
    }
    const Position last = format::get_u64(it->key().data() + 9);
    const auto run = format::parse_index_run(it->value().ToStringView(), last);
    if (!run) return make_error(Errc::corruption, "actor {}: malformed index entry", actor);
    for (Position position = std::max(run->first_position(last), from);
         position <= last && events.size() < limit; ++position) {
      const Seq seq = run->seq_at(position, last);
      auto event = impl_->get(run->stream, seq);
      if (!event.ok()) return std::move(event).error();
      if (!*event)
        return missing(run->stream, seq, fmt::format("indexed at position {}", position));
      events.push_back(std::move(**event));
    }
  }
  if (!it->status().ok())
    return storage_error(it->status(), fmt::format("reading actor {}", actor));
  if (events.size() < limit && indexed != ~Position{0}) {
    auto scanned =
        impl_->scan_all(std::max(from, indexed + 1), ~std::size_t{0}, [&](const EventView& event) {
          if (event.actor() == actor) {
            events.emplace_back(std::string(event.record()));
          }
          return events.size() < limit;
        });
    if (!scanned.ok()) return std::move(scanned).error();
  }
  return events;
}

Result<std::optional<Event>> EventLog::find_at_time(StreamId stream,
                                                    std::int64_t wall_time_us) const {
  // Lower bound over seqs [1, head]: the first seq whose wall time is >= the one asked for.
  Seq low = 1;
  Seq high = head(stream) + 1;
  std::optional<Event> found;
  while (low < high) {
    const Seq mid = low + (high - low) / 2;
    auto event = impl_->get(stream, mid);
    if (!event.ok()) return std::move(event).error();
    if (!*event) return missing(stream, mid, fmt::format("stream head is {}", head(stream)));
    if ((*event)->wall_time_us() >= wall_time_us) {
      high = mid;
      found = std::move(*event);
    } else {
      low = mid + 1;
    }
  }
  return found;
}

} // namespace worldlog::log

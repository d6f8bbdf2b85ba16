// Group commit. Appending threads encode their records (off the commit path) and queue them;
// one commit thread takes everything queued, checks expected seqs, seals the records (seq,
// position, predecessor hash, own hash) and writes them with a positions index entry per append
// in a single RocksDB WriteBatch with a single WAL sync. While it syncs, new appends queue up and
// form the next batch, so the number of syncs falls as the load rises. A caller of the
// synchronous append, which would only wait, does the commit thread's work itself when no
// commit is under way. The actor index is written just behind the commit (actor_index.cpp).
#include <chrono>
#include <future>
#include <limits>

#include <rocksdb/write_batch.h>

#include "log/event_log_impl.hpp"
#include "log/format.hpp"

namespace worldlog::log {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// What the envelope asked for can hold the event: only format 3 has a payload version other
/// than 1 and a command.
Status validate_envelope(StreamId stream, std::size_t index, const NewEvent& event,
                         const Options& options) {
  if (event.envelope > format::current_envelope) {
    return make_error(Errc::invalid_argument,
                      "append to stream {}: event {} asks for envelope format {}; this worldlog "
                      "writes 1 to {}",
                      stream, index, event.envelope, format::current_envelope);
  }
  if (event.payload_version == 0) {
    return make_error(Errc::invalid_argument,
                      "append to stream {}: event {} has payload version 0 (versions start at 1)",
                      stream, index);
  }
  if (event.command.size() > options.max_payload_bytes) {
    return make_error(Errc::invalid_argument,
                      "append to stream {}: event {} has a {}-byte command; the limit is {}",
                      stream, index, event.command.size(), options.max_payload_bytes);
  }
  const bool old_envelope =
      event.envelope == format::envelope_v1 || event.envelope == format::envelope_v2;
  if (old_envelope && (event.payload_version != 1 || !event.command.empty())) {
    return make_error(Errc::invalid_argument,
                      "append to stream {}: event {} has a payload version or a command, which "
                      "envelope format {} cannot hold",
                      stream, index, event.envelope);
  }
  return {};
}

Status validate(StreamId stream, std::span<const NewEvent> events, const Options& options) {
  if (events.empty()) {
    return make_error(Errc::invalid_argument, "append to stream {} has no events", stream);
  }
  if (events.size() > options.max_events_per_append) {
    return make_error(Errc::invalid_argument, "append to stream {} has {} events; the limit is {}",
                      stream, events.size(), options.max_events_per_append);
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].payload.size() > options.max_payload_bytes) {
      return make_error(Errc::invalid_argument,
                        "append to stream {}: event {} has a {}-byte payload; the limit is {}",
                        stream, i, events[i].payload.size(), options.max_payload_bytes);
    }
    if (events[i].wall_time_us < 0) {
      return make_error(Errc::invalid_argument, "append to stream {}: event {} has wall time {}",
                        stream, i, events[i].wall_time_us);
    }
    if (auto status = validate_envelope(stream, i, events[i], options); !status.ok()) {
      return status;
    }
  }
  return {};
}

} // namespace

void EventLog::append_async(StreamId stream, Seq expected_seq, std::span<const NewEvent> events,
                            AppendHandler done) {
  impl_->enqueue(stream, expected_seq, events, std::move(done), true);
}

void EventLog::Impl::enqueue(StreamId stream, Seq expected_seq, std::span<const NewEvent> events,
                             AppendHandler done, bool wake) {
  if (options.read_only) {
    done(make_error(Errc::invalid_argument, "append to stream {}: the log was opened read-only",
                    stream));
    return;
  }
  if (auto valid = validate(stream, events, options); !valid.ok()) {
    done(std::move(valid).error());
    return;
  }
  AppendRequest request{stream, expected_seq, {}, {}, std::move(done)};
  request.records.reserve(events.size());
  request.actors.reserve(events.size());
  for (const auto& event : events) {
    request.records.push_back(format::encode(stream, event));
    request.actors.push_back(event.actor);
  }
  submit(std::move(request), wake);
}

Result<AppendResult> EventLog::append(StreamId stream, Seq expected_seq,
                                      std::span<const NewEvent> events) {
  std::promise<Result<AppendResult>> outcome;
  auto future = outcome.get_future();
  impl_->enqueue(
      stream, expected_seq, events,
      [&outcome](Result<AppendResult> result) { outcome.set_value(std::move(result)); }, false);
  if (!impl_->options.commit_thread) {
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      commit_queued();
  } else if (!impl_->commit_here()) {
    // This caller would only wait, as RocksDB's own writers do: when no commit is under way it
    // commits the queue itself, and spares the commit thread's wake-up and its own.
    impl_->queue_ready.notify_one();
  }
  return future.get();
}

std::size_t EventLog::commit_queued(std::size_t max_appends) {
  if (impl_->options.commit_thread) return 0;
  std::vector<AppendRequest> batch;
  impl_->take_batch(batch, max_appends);
  if (!batch.empty()) impl_->commit(batch);
  return batch.size();
}

std::size_t EventLog::discard_queued() {
  if (impl_->options.commit_thread) return 0;
  std::deque<AppendRequest> dropped;
  {
    std::lock_guard lock(impl_->queue_mutex);
    dropped.swap(impl_->queue);
    impl_->queued_events = 0;
  }
  for (auto& request : dropped) {
    request.done(make_error(Errc::closed, "append to stream {} was dropped before it was committed",
                            request.stream));
  }
  return dropped.size();
}

void EventLog::Impl::submit(AppendRequest request, bool wake) {
  if (commit_latency) request.queued = std::chrono::steady_clock::now();
  std::unique_lock lock(queue_mutex);
  std::optional<Error> refusal;
  if (stopping) {
    refusal = make_error(Errc::closed, "the log is closing");
  } else if (failure) {
    refusal = *failure;
  } else if (queued_events + request.records.size() > options.max_queued_events) {
    refusal = make_error(Errc::overloaded, "append to stream {}: {} events already queued",
                         request.stream, queued_events);
  }
  if (refusal) {
    lock.unlock();
    request.done(std::move(*refusal));
    return;
  }
  queued_events += request.records.size();
  queue.push_back(std::move(request));
  lock.unlock();
  if (wake && options.commit_thread) queue_ready.notify_one();
}

void EventLog::Impl::run_committer() {
  std::vector<AppendRequest> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex);
      queue_ready.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) return; // stopping, and everything queued is committed
    }
    const std::lock_guard committing(commit_mutex);
    take_batch(batch, std::numeric_limits<std::size_t>::max());
    if (!batch.empty()) commit(batch); // a caller may have committed the queue meanwhile
    batch.clear();
  }
}

bool EventLog::Impl::commit_here() {
  const std::unique_lock committing(commit_mutex, std::try_to_lock);
  if (!committing.owns_lock()) return false;
  std::vector<AppendRequest> batch;
  take_batch(batch, std::numeric_limits<std::size_t>::max());
  if (!batch.empty()) commit(batch);
  bool more = false;
  {
    const std::lock_guard lock(queue_mutex);
    more = !queue.empty();
  }
  if (more) queue_ready.notify_one(); // what did not fit in the batch, or came meanwhile
  return true;
}

void EventLog::Impl::take_batch(std::vector<AppendRequest>& batch, std::size_t max_appends) {
  std::lock_guard lock(queue_mutex);
  // Whole appends only, so each stays atomic; at least one even if it is larger.
  std::size_t events = 0;
  while (!queue.empty() && batch.size() < max_appends &&
         (batch.empty() || events + queue.front().records.size() <= options.max_batch_events)) {
    events += queue.front().records.size();
    batch.push_back(std::move(queue.front()));
    queue.pop_front();
  }
  queued_events -= events;
}

void EventLog::Impl::commit(std::vector<AppendRequest>& batch) {
  rocksdb::WriteBatch write_batch;
  std::vector<Result<AppendResult>> results;
  results.reserve(batch.size());
  std::vector<Committed> committed;
  const std::int64_t now = now_us();
  const Position first_position = pending_position;

  std::vector<std::int64_t> wall_times;
  for (auto& request : batch) {
    const auto found = pending_heads.find(request.stream);
    StreamHead head = found != pending_heads.end() ? found->second : StreamHead{};
    if (request.expected_seq != any_seq && request.expected_seq != head.seq) {
      results.emplace_back(make_error(Errc::conflict, "stream {} expected seq {}, actual seq {}",
                                      request.stream, request.expected_seq, head.seq));
      continue;
    }
    // Wall times never run backwards within a stream, so time lookups can binary-search.
    // Events without one are stamped with the commit time.
    wall_times.clear();
    std::optional<Error> backwards;
    for (std::size_t i = 0; i < request.records.size() && !backwards; ++i) {
      const std::int64_t last = wall_times.empty() ? head.wall_time_us : wall_times.back();
      const std::int64_t given = format::wall_time_of(request.records[i]);
      if (given != 0 && given < last) {
        backwards = make_error(Errc::invalid_argument,
                               "append to stream {}: event {} has wall time {}, before {}",
                               request.stream, i, given, last);
      }
      wall_times.push_back(given != 0 ? given : std::max(now, last));
    }
    if (backwards) {
      results.emplace_back(std::move(*backwards));
      continue;
    }

    AppendResult result{request.stream, head.seq + 1, 0, pending_position + 1, 0};
    for (std::size_t i = 0; i < request.records.size(); ++i) {
      auto& record = request.records[i];
      const Seq seq = ++head.seq;
      const Position position = ++pending_position;
      head.hash = format::seal(record, seq, position, wall_times[i], head.hash);
      head.wall_time_us = wall_times[i];

      (void)write_batch.Put(events_cf, slice(format::stream_seq_key(request.stream, seq)), record);
      committed.push_back({request.stream, seq, position, request.actors[i], &record});
    }
    // The append's events are one run of the positions index.
    const format::IndexRunValue run(
        {request.stream, head.seq, static_cast<std::uint32_t>(request.records.size())});
    (void)write_batch.Put(positions_cf, slice(format::position_key(pending_position)), run.view());
    pending_heads[request.stream] = head;
    result.last_seq = head.seq;
    result.last_position = pending_position;
    results.emplace_back(result);
  }

  if (write_batch.Count() > 0) {
    rocksdb::WriteOptions write;
    write.sync = options.durability == Durability::sync;
    if (const auto status = db->Write(write, &write_batch); !status.ok()) {
      // The batch may or may not be on disk; the in-memory heads can no longer be trusted.
      // Refuse all further appends: reopening recovers the truth from the log.
      Error error = storage_error(
          status, fmt::format("committing positions {}..{}", first_position + 1, pending_position));
      {
        std::lock_guard lock(queue_mutex);
        failure = error;
        failed.store(true, std::memory_order_release);
      }
      if (options.on_storage_message) {
        options.on_storage_message(
            true, fmt::format("the log refuses every append until it is reopened: {}", error));
      }
      for (auto& request : batch)
        request.done(error);
      return;
    }
    if (options.on_commit) options.on_commit(committed.size());
    publish(committed);
    index_behind(committed);
  }
  if (commit_latency) {
    const auto durable = std::chrono::steady_clock::now();
    for (const auto& request : batch)
      commit_latency->record(durable - request.queued);
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    batch[i].done(std::move(results[i]));
}

void EventLog::Impl::publish(const std::vector<Committed>& committed) {
  std::lock_guard lock(state_mutex);
  for (const auto& event : committed)
    durable_heads[event.stream] = event.seq;
  durable_position = committed.back().position;
  for (const auto& buffer : live) {
    std::lock_guard buffer_lock(buffer->mutex);
    bool delivered = false;
    for (const auto& event : committed) {
      if (buffer->stream && *buffer->stream != event.stream) continue;
      if (buffer->overflowed) break;
      if (buffer->events.size() >= buffer->capacity) {
        buffer->overflowed = true;
        break;
      }
      buffer->events.emplace_back(*event.record);
      delivered = true;
    }
    if (delivered || buffer->overflowed) buffer->ready.notify_one();
  }
}

} // namespace worldlog::log

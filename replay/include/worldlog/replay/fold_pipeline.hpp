// The two-thread form of a long fold, used by Replayer: the caller's thread reads records and
// folds them; a worker thread checks each record's hash and decodes it in between.
//
//   reader:  read batch k+1 ───────────────► fold batch k ──► read batch k+2 ...
//   worker:                hash + decode batch k+1 ──────────────► hash + decode batch k+2
//
// A record's hash is as costly as reading it, so a fold that checks hashes on one thread runs
// at a third of a raw scan's speed; split this way the two threads each do about half of the
// work. Results are folded strictly in seq order, and a record is folded only after its hash
// was checked, so a tampered record stops the fold exactly where a one-thread fold would.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>

#include <worldlog/log/event.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::replay::detail {

template <zone::GameModel M> class FoldPipeline {
public:
  /// Called in seq order with each record and its decoding; an error stops the fold with it.
  using Apply =
      std::function<Status(const log::EventView&, Result<zone::StreamEvent<M>>&& decoded)>;

  /// Folds through `apply`, on the caller's thread. Memory is bounded: three batches of at most
  /// batch_records records (or a little over batch_bytes) are in flight.
  explicit FoldPipeline(Apply apply) : apply_(std::move(apply)), worker_([this] { work(); }) {}

  /// Stops the worker; results not yet folded are dropped.
  ~FoldPipeline() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  FoldPipeline(const FoldPipeline&) = delete;
  FoldPipeline& operator=(const FoldPipeline&) = delete;

  /// Takes a copy of `record`. When that fills a batch, hands it to the worker and folds the
  /// batch before it (waiting for the worker if need be). Errors: the first of a hash
  /// mismatch, a decoding error or an error of `apply`, in seq order.
  [[nodiscard]] Status push(std::string_view record) {
    // Offsets are rounded up to 8 and the buffer comes from the heap, so every record is
    // 8-byte aligned, as FlatBuffers needs.
    const std::size_t offset = (filling_.bytes.size() + 7) & ~std::size_t{7};
    filling_.bytes.append(offset - filling_.bytes.size(), '\0');
    filling_.bytes.append(record);
    filling_.records.push_back({offset, record.size()});
    if (filling_.records.size() < batch_records && filling_.bytes.size() < batch_bytes) return {};
    hand_over();
    return in_flight_ > 1 ? fold_oldest() : Status{};
  }

  /// Hands over the last batch and folds everything still in flight. Errors: those of push.
  [[nodiscard]] Status finish() {
    if (!filling_.records.empty()) hand_over();
    while (in_flight_ > 0) {
      if (auto folded = fold_oldest(); !folded.ok()) return folded;
    }
    return {};
  }

private:
  static constexpr std::size_t batch_records = 2048;
  static constexpr std::size_t batch_bytes = 512 * 1024;

  struct Batch {
    struct Record {
      std::size_t offset;
      std::size_t size;
    };
    std::string bytes;
    std::vector<Record> records;
    /// Filled by the worker, one per record up to the first hash mismatch (included).
    std::vector<Result<zone::StreamEvent<M>>> decoded;

    [[nodiscard]] log::EventView view(std::size_t i) const {
      return log::EventView(std::string_view(bytes).substr(records[i].offset, records[i].size));
    }
  };

  void hand_over() {
    Batch next = take_spare();
    {
      std::lock_guard lock(mutex_);
      to_worker_.push_back(std::move(filling_));
    }
    changed_.notify_all();
    filling_ = std::move(next);
    ++in_flight_;
  }

  Batch take_spare() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return Batch{};
    Batch batch = std::move(spare_.back());
    spare_.pop_back();
    batch.bytes.clear();
    batch.records.clear();
    batch.decoded.clear();
    return batch;
  }

  Status fold_oldest() {
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !from_worker_.empty(); });
      batch = std::move(from_worker_.front());
      from_worker_.pop_front();
    }
    --in_flight_;
    Status folded;
    for (std::size_t i = 0; i < batch.decoded.size() && folded.ok(); ++i)
      folded = apply_(batch.view(i), std::move(batch.decoded[i]));
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(batch));
    return folded;
  }

  void work() {
    pthread_setname_np(pthread_self(), "worldlog-fold");
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return !to_worker_.empty() || closed_; });
      if (closed_) return;
      Batch batch = std::move(to_worker_.front());
      to_worker_.pop_front();
      lock.unlock();
      for (std::size_t i = 0; i < batch.records.size(); ++i) {
        const log::EventView event = batch.view(i);
        if (auto hashed = event.check_hash(); !hashed.ok()) {
          batch.decoded.emplace_back(std::move(hashed).error());
          break;
        }
        batch.decoded.push_back(zone::decode_stream_event<M>(event));
      }
      lock.lock();
      from_worker_.push_back(std::move(batch));
      changed_.notify_all();
    }
  }

  Apply apply_;
  Batch filling_;             // reader only
  std::size_t in_flight_ = 0; // reader only: batches handed over and not yet folded
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> to_worker_;   // guarded by mutex_
  std::deque<Batch> from_worker_; // guarded by mutex_: hashed and decoded, in seq order
  std::vector<Batch> spare_;      // guarded by mutex_: folded batches, for reuse
  bool closed_ = false;           // guarded by mutex_
  std::thread worker_;
};

} // namespace worldlog::replay::detail

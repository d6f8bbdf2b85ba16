// `worldlog bench append`: durable append throughput of the engine against raw RocksDB, then
// read throughput of the two scan orders.
//
// Both writers do the same durable work per batch from the same number of threads: the engine
// through EventLog::append with Durability::sync (its commit thread merges producers into one
// synced WriteBatch), the baseline with one synced WriteBatch per producer batch (RocksDB's own
// write-group merging does the rest). The ratio engine/raw is therefore the cost of everything
// the log adds: encoding, hashing, the positions and actors indexes, the commit thread.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <worldlog/log/event_log.hpp>

#include "commands.hpp"
#include "disk_writes.hpp"
#include "scratch_dir.hpp"

namespace worldlog::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::uint64_t events = 1'000'000;
  std::size_t payload = 100;
  std::size_t command = 0; ///< bytes of a recorded command on every event (a Move: 64)
  std::size_t batch = 256;
  unsigned producers = 4;
  bool json = false;
  std::string dir;
};

/// The first error any thread reports; the others stop at their next batch.
class FirstError {
public:
  void set(std::string message) {
    const std::lock_guard lock(mutex_);
    if (!message_) message_ = std::move(message);
    failed_.store(true, std::memory_order_relaxed);
  }
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
  void fail_if_set() {
    const std::lock_guard lock(mutex_);
    if (message_) fail(*message_);
  }

private:
  std::atomic<bool> failed_ = false;
  std::mutex mutex_;
  std::optional<std::string> message_; ///< guarded by mutex_
};

std::string random_bytes(std::size_t size, std::mt19937_64& rng) {
  std::string bytes(size, '\0');
  for (char& byte : bytes)
    byte = static_cast<char>(rng() & 0xff);
  return bytes;
}

/// Producer `p`'s share of `total`, so that the shares add up to exactly `total`.
std::uint64_t share_of(unsigned p, std::uint64_t total, unsigned producers) {
  return total / producers + (p < total % producers ? 1 : 0);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double rate(std::uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

void run_producers(unsigned producers, const auto& produce) {
  std::vector<std::thread> threads;
  threads.reserve(producers);
  for (unsigned p = 0; p < producers; ++p)
    threads.emplace_back(produce, p);
  for (auto& thread : threads)
    thread.join();
}

/// Engine phase: producer p appends its share to stream p + 1. Returns the elapsed seconds.
double append_through_engine(log::EventLog& log, const BenchOptions& options) {
  FirstError error;
  const auto start = Clock::now();
  run_producers(options.producers, [&](unsigned p) {
    std::mt19937_64 rng(p + 1);
    const log::StreamId stream = p + 1;
    std::vector<log::NewEvent> events(options.batch);
    for (auto& event : events) {
      event.payload_type = 1;
      event.payload = random_bytes(options.payload, rng);
      event.command = random_bytes(options.command, rng);
      event.actor = {log::ActorKind::player, stream};
    }
    log::Seq seq = 0;
    for (std::uint64_t left = share_of(p, options.events, options.producers); left > 0;) {
      if (error.failed()) return;
      const std::size_t count = std::min<std::uint64_t>(left, options.batch);
      for (std::size_t i = 0; i < count; ++i) {
        events[i].tick = seq + i + 1;
        events[i].command_id = seq + i + 1;
      }
      const auto appended = log.append(stream, seq, std::span(events.data(), count));
      if (!appended) return error.set(fmt::format("engine append failed: {}", appended.error()));
      seq = appended->last_seq;
      left -= count;
    }
  });
  const double seconds = seconds_since(start);
  error.fail_if_set();
  return seconds;
}

/// Raw phase: the same records, straight into RocksDB. Returns the elapsed seconds.
double append_raw(const fs::path& dir, const BenchOptions& options, std::size_t record_size) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::DB* raw_db = nullptr;
  const rocksdb::Status opened = rocksdb::DB::Open(db_options, dir.string(), &raw_db);
  if (!opened.ok()) fail(fmt::format("cannot open raw RocksDB: {}", opened.ToString()));
  const std::unique_ptr<rocksdb::DB> db(raw_db);

  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  FirstError error;
  const auto start = Clock::now();
  run_producers(options.producers, [&](unsigned p) {
    std::mt19937_64 rng(p + 1);
    const std::string value = random_bytes(record_size, rng);
    const std::uint64_t stream = p + 1;
    std::uint64_t seq = 0;
    char key[16];
    for (std::uint64_t left = share_of(p, options.events, options.producers); left > 0;) {
      if (error.failed()) return;
      const std::size_t count = std::min<std::uint64_t>(left, options.batch);
      rocksdb::WriteBatch batch;
      for (std::size_t i = 0; i < count; ++i) {
        ++seq;
        for (int b = 0; b < 8; ++b) {
          key[b] = static_cast<char>(stream >> (56 - 8 * b));
          key[8 + b] = static_cast<char>(seq >> (56 - 8 * b));
        }
        const rocksdb::Status put =
            batch.Put(rocksdb::Slice(key, sizeof key), rocksdb::Slice(value));
        if (!put.ok()) return error.set(fmt::format("raw put failed: {}", put.ToString()));
      }
      const rocksdb::Status written = db->Write(write_options, &batch);
      if (!written.ok()) return error.set(fmt::format("raw write failed: {}", written.ToString()));
      left -= count;
    }
  });
  const double seconds = seconds_since(start);
  error.fail_if_set();
  return seconds;
}

/// Counts what a scan visits and checks it saw `expected` events. Returns the elapsed seconds.
double timed_scan(const char* what, std::uint64_t expected, const auto& scan) {
  std::uint64_t seen = 0;
  const auto start = Clock::now();
  const Status status = scan([&seen](const log::EventView&) {
    ++seen;
    return true;
  });
  const double seconds = seconds_since(start);
  if (!status) fail(fmt::format("{} failed: {}", what, status.error()));
  if (seen != expected) fail(fmt::format("{} saw {} events, expected {}", what, seen, expected));
  return seconds;
}

void print_rate(const char* label, std::uint64_t count, double seconds) {
  fmt::print("{:<46} {:>9} in {:>7.3f} s {:>10.0f} events/s\n", label, count, seconds,
             rate(count, seconds));
}

void run_bench_append(const BenchOptions& options) {
  const ScratchDir scratch(options.dir);

  auto opened = log::EventLog::open(
      scratch.path() / "engine",
      {.create_if_missing = true, .durability = log::Durability::sync, .storage_statistics = true});
  if (!opened) fail(fmt::format("cannot create the bench log: {}", opened.error()));
  const std::unique_ptr<log::EventLog> log = std::move(opened).value();

  fmt::print("bench append: {} events, {} B payloads, {} B commands, appends of {}, {} producers, "
             "in {}\n",
             options.events, options.payload, options.command, options.batch, options.producers,
             scratch.path().string());

  const DiskWrites disk(*log);
  const double engine_seconds = append_through_engine(*log, options);
  print_rate("engine  EventLog::append, Durability::sync", options.events, engine_seconds);
  const WritesPerEvent written = disk.settled();
  written.print();

  // The baseline writes records of exactly the size the engine stored.
  const auto first = log->read_stream(1, 1, 1);
  if (!first || first->empty()) {
    fail(fmt::format("reading back stream 1 failed: {}",
                     first ? "no events" : first.error().to_string()));
  }
  const std::size_t record_size = first->front().view().record().size();
  const double raw_seconds = append_raw(scratch.path() / "raw", options, record_size);
  print_rate(fmt::format("raw     RocksDB WriteBatch sync, {} B values", record_size).c_str(),
             options.events, raw_seconds);

  const double engine_eps = rate(options.events, engine_seconds);
  const double raw_eps = rate(options.events, raw_seconds);
  const double ratio = raw_eps > 0 ? engine_eps / raw_eps : 0.0;
  fmt::print("{:<46} {:.3f}\n", "ratio   engine/raw", ratio);

  const std::uint64_t stream_events = share_of(0, options.events, options.producers);
  const double stream_seconds = timed_scan("scan_stream", stream_events, [&](const auto& visit) {
    return log->scan_stream(1, 1, std::numeric_limits<std::size_t>::max(), visit);
  });
  print_rate("read    scan_stream (stream 1, from seq 1)", stream_events, stream_seconds);
  const double all_seconds = timed_scan("scan_all", options.events, [&](const auto& visit) {
    return log->scan_all(1, std::numeric_limits<std::size_t>::max(), visit);
  });
  print_rate("read    scan_all (from position 1)", options.events, all_seconds);

  if (options.json) {
    // Every value is a number, so fmt writes the object directly; Boost.JSON would print the
    // ratio as 8.69E-1, valid but unkind to the people reading CI logs.
    fmt::print("{{\"events\":{},\"payload\":{},\"command\":{},\"batch\":{},\"producers\":{},"
               "\"record_bytes\":{},\"engine_eps\":{:.0f},\"raw_eps\":{:.0f},\"ratio\":{:.3f},"
               "\"read_stream_eps\":{:.0f},\"read_all_eps\":{:.0f}{}}}\n",
               options.events, options.payload, options.command, options.batch, options.producers,
               record_size, engine_eps, raw_eps, ratio, rate(stream_events, stream_seconds),
               rate(options.events, all_seconds), written.json_members());
  }
}

} // namespace

void add_bench_append_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  auto* command = app.add_subcommand(
      "append", "Durable append throughput of the engine vs raw RocksDB, then read throughput");
  command->add_option("--events", options->events, "Events to append in all")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command->add_option("--payload", options->payload, "Payload bytes per event")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  command
      ->add_option("--command", options->command,
                   "Bytes of a recorded command on every event (0: none, as a tick's events)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  command->add_option("--batch", options->batch, "Events per append (and per raw WriteBatch)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  command->add_option("--producers", options->producers, "Producer threads, one stream each")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command->add_flag("--json", options->json, "Print the figures as one JSON object, last line");
  command->add_option("--dir", options->dir,
                      "Where to create the scratch directories (default: the system temp dir)");
  command->callback([options] { run_bench_append(*options); });
}

} // namespace worldlog::tools

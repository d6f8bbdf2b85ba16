// Opening, recovery, heads, verification and snapshots. Appends are in group_commit.cpp,
// reads in reads.cpp, subscriptions in subscriptions.cpp.
#include <worldlog/log/event_log.hpp>

#include <stdlib.h> // mkdtemp

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <system_error>
#include <thread>

#include <pthread.h>

#include <fmt/format.h>

#include <rocksdb/env.h>
#include <rocksdb/listener.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "log/event_log_impl.hpp"
#include "log/format.hpp"
#include "log/wal_scan.hpp"

namespace worldlog::log {
namespace {

/// Keeps RocksDB from recovering from a background error by itself. After a failed write the log
/// fails closed (every later append answers with the same error, see write_failure()) until it
/// is reopened, so a recovery behind its back would only race the close: RocksDB's Close waits
/// for a recovery in progress, and one from a full disk retries until there is room, which can
/// be never.
class NoAutoRecovery final : public rocksdb::EventListener {
public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status /*bg_error*/,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

rocksdb::Options db_options(const Options& options, rocksdb::Env* env,
                            std::shared_ptr<rocksdb::Logger> info_log,
                            std::shared_ptr<rocksdb::Statistics> statistics,
                            std::shared_ptr<rocksdb::EventListener> storage_counter) {
  rocksdb::Options db;
  if (env != nullptr) db.env = env;
  db.info_log = std::move(info_log);
  // A record cut short at the end of the WAL is what a crash leaves, and never acknowledged
  // (sync) or never synced (buffered): dropped. Damage anywhere before it would drop records
  // that were acknowledged, so the open is refused instead, naming the file and offset
  // (point-in-time recovery, RocksDB's default, drops them in silence).
  db.wal_recovery_mode = options.drop_damaged_wal
                             ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                             : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = options.create_if_missing;
  db.IncreaseParallelism(2);
  db.max_background_jobs = 2;
  // Flushes and compactions run at a lower CPU priority than the commit path: on a small game
  // server they compete with the zones for the same cores, and a command waiting behind a
  // compaction is a latency spike players feel; background work can wait.
  db.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);
  db.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::HIGH);
  // Every commit waits for a WAL fdatasync, and on a shared disk that sync queues behind
  // whatever else is being written back. Two things keep it short: flushes and compactions
  // start writeback of their files every megabyte instead of leaving tens of megabytes dirty
  // for one large sync, and WAL files are reused rather than created, so an append
  // overwrites allocated blocks and its sync has no file-size or extent change to journal.
  // Measured with `worldlog bench zone` at 100,000 commands/s: p99 from 13-21 ms to 6-8 ms.
  db.bytes_per_sync = 1 << 20;
  db.recycle_log_file_num = 4;
  // Files are preallocated as RocksDB does by default; off measured the same
  // (docs/architecture.md, "Storage faults").
  db.allow_fallocate = true;
  // A close leaves the records in the WAL, for the next open to replay, rather than wait for a
  // flush of up to a memtable's worth of them. The actor index's newest entries, which skip
  // the WAL, are lost with it and re-indexed by that open (actor_index.cpp).
  db.avoid_flush_during_shutdown = true;
  // After a failed write the log fails closed until it is reopened (NoAutoRecovery).
  db.listeners.push_back(std::make_shared<NoAutoRecovery>());
  db.max_bgerror_resume_count = 0; // nor retry a retryable I/O error in the background
  // StorageStats, when asked for.
  db.statistics = std::move(statistics);
  if (storage_counter) db.listeners.push_back(std::move(storage_counter));
  return db;
}

rocksdb::ColumnFamilyOptions cf_options(const std::shared_ptr<rocksdb::Cache>& block_cache,
                                        std::size_t sequential_prefix) {
  rocksdb::ColumnFamilyOptions cf;
  // Within a key prefix (a stream, an actor, the whole position range) keys only ever grow, so
  // the memtable can insert next to the previous key of that prefix instead of searching the
  // skiplist from the top: the commit path's memtable work is its largest CPU cost.
  if (sequential_prefix != 0) {
    cf.memtable_insert_with_hint_prefix_extractor.reset(
        rocksdb::NewFixedPrefixTransform(sequential_prefix));
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = block_cache;
  table.block_size = 16 * 1024;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.write_buffer_size = 64 << 20;
  // Every table file is compressed from the first flush on. The flush's bytes are what the
  // WAL's fdatasync queues behind, and LZ4 takes two thirds of them away (the envelopes'
  // zero bytes, the keys' shared prefixes): in `worldlog bench zone`, 349 B per event flushed
  // without, 114 with. It runs on the low-priority background threads, and a read decompresses
  // at gigabytes a second.
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kLZ4Compression;
  return cf;
}

/// The key prefix within which a column family's keys are written in ascending order (see
/// format.hpp), or 0 when they are not.
std::size_t sequential_prefix_of(std::string_view cf) {
  if (cf == format::events_cf) return 8;    // stream | seq: seqs grow within a stream
  if (cf == format::positions_cf) return 4; // position: grows, and the top bytes rarely change
  if (cf == format::actors_cf) return 9;    // kind | actor | position: grows per actor
  return 0;
}

Result<std::uint32_t> read_format_version(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta,
                                          const std::filesystem::path& dir) {
  std::string value;
  const auto status =
      db.Get(rocksdb::ReadOptions(), meta, format::format_version_key.data(), &value);
  if (status.IsNotFound()) {
    return make_error(Errc::incompatible_format,
                      "{} holds a RocksDB database without a worldlog format version",
                      dir.string());
  }
  if (!status.ok()) return storage_error(status, "reading the format version");
  if (value.size() != 4) {
    return make_error(Errc::incompatible_format, "{}: malformed format version ({} bytes)",
                      dir.string(), value.size());
  }
  std::uint32_t version = 0;
  for (const char byte : value)
    version = (version << 8) | static_cast<std::uint8_t>(byte);
  return version;
}

/// A RocksDB info log that keeps nothing: inspecting a directory must not write RocksDB's LOG
/// file into it (a read-only open writes one unless it is given a logger).
class SilentLogger final : public rocksdb::Logger {
public:
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
  void Logv(const rocksdb::InfoLogLevel /*level*/, const char* /*format*/,
            va_list /*ap*/) override {}
};

/// The column families of every worldlog log, in the order of EventLog::Impl's handles.
const std::vector<std::string>& known_column_families() {
  static const std::vector<std::string> known = {rocksdb::kDefaultColumnFamilyName,
                                                 format::events_cf, format::positions_cf,
                                                 format::actors_cf, format::snapshots_cf};
  return known;
}

/// What a directory holds, as far as opening a log there is concerned.
enum class Found {
  nothing,    ///< missing, or an empty directory: a new log may be created
  unfinished, ///< a log whose creation stopped before its format version was stored
  log,        ///< a log of a format version this build reads
};

/// Up to three of the entries of `dir`, for an error that says what is there.
std::string some_entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::size_t count = 0;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    if (names.size() < 3) names.push_back(entry.path().filename().string());
    ++count;
  }
  std::sort(names.begin(), names.end());
  std::string listed;
  for (const auto& name : names)
    listed += fmt::format("{}'{}'", listed.empty() ? "" : ", ", name);
  return count > names.size() ? fmt::format("{} and {} more", listed, count - names.size())
                              : listed;
}

/// Whether `name` is one of the files RocksDB writes while it creates a database before the
/// CURRENT file that makes it one: LOCK, IDENTITY, LOG, LOG.old.N, MANIFEST-N and N.dbtmp. (Its
/// WAL and OPTIONS files come after CURRENT.)
bool creation_leftover(std::string_view name) {
  const auto digits = [](std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto suffixed = [&](std::string_view prefix) {
    return name.substr(0, prefix.size()) == prefix && digits(name.substr(prefix.size()));
  };
  constexpr std::string_view temporary = ".dbtmp";
  const bool dbtmp = name.size() > temporary.size() &&
                     name.substr(name.size() - temporary.size()) == temporary &&
                     digits(name.substr(0, name.size() - temporary.size()));
  return name == "LOCK" || name == "IDENTITY" || name == "LOG" || suffixed("LOG.old.") ||
         suffixed("MANIFEST-") || dbtmp;
}

/// Whether `dir` holds nothing, or nothing but what a database creation that stopped (a crash,
/// a full disk) left before its CURRENT file: a new log may be created there.
bool only_creation_leftovers(const std::filesystem::path& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (!entry.is_regular_file(error) || !creation_leftover(entry.path().filename().string()))
      return false;
  }
  return !error;
}

/// Whether every key-value column family of `db` is empty.
bool all_empty(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  for (auto* handle : handles) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), handle));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) return false;
  }
  return true;
}

/// Reads the format version of the RocksDB database in `dir` (whose column families are
/// `present`) through a read-only open that writes nothing, neither into `dir` nor anywhere
/// else. A database without a version is a log only when its creation was cut short: it has
/// exactly the log's column families, all empty.
Result<Found> inspect_database(const std::filesystem::path& dir,
                               const std::vector<std::string>& present) {
  rocksdb::DBOptions options;
  options.info_log = std::make_shared<SilentLogger>();
  options.max_open_files = -1;
  const auto open_read_only = [&](const std::vector<std::string>& names,
                                  std::vector<rocksdb::ColumnFamilyHandle*>& handles)
      -> Result<std::unique_ptr<rocksdb::DB>> {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    const auto opened =
        rocksdb::DB::OpenForReadOnly(options, dir.string(), descriptors, &handles, &raw);
    if (!opened.ok()) return storage_error(opened, fmt::format("inspecting {}", dir.string()));
    return std::unique_ptr<rocksdb::DB>(raw);
  };
  const auto close = [](std::unique_ptr<rocksdb::DB>& db,
                        std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    for (auto* handle : handles)
      db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    db->Close().PermitUncheckedError();
    db.reset();
  };

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto db = open_read_only({rocksdb::kDefaultColumnFamilyName}, handles);
  if (!db.ok()) return std::move(db).error();
  auto version = read_format_version(**db, handles[0], dir);
  close(*db, handles);
  if (version.ok()) {
    if (*version > format::format_version) {
      return make_error(Errc::incompatible_format,
                        "{} was written by format version {}; this worldlog reads up to {}",
                        dir.string(), *version, format::format_version);
    }
    return Found::log;
  }
  if (version.error().code() != Errc::incompatible_format) return std::move(version).error();

  // No version. Creating a log makes its column families, then stores the version: a crash in
  // between leaves exactly these, empty, which nothing but a log creation makes.
  auto sorted = present;
  auto known = known_column_families();
  std::sort(sorted.begin(), sorted.end());
  std::sort(known.begin(), known.end());
  if (sorted == known) {
    auto all = open_read_only(present, handles);
    if (!all.ok()) return std::move(all).error();
    const bool empty = all_empty(**all, handles);
    close(*all, handles);
    if (empty) return Found::unfinished;
  }
  std::string names;
  for (const auto& name : present)
    names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  return make_error(Errc::incompatible_format,
                    "{} holds a RocksDB database that is not a worldlog log: it has no format "
                    "version (column families {})",
                    dir.string(), names);
}

/// Checks what `dir` holds before anything is opened for writing, so that a directory this
/// build must refuse is refused with every byte of it as it was: the read-write open creates
/// missing column families and rewrites the MANIFEST and OPTIONS files before a format version
/// could be read. Errors: not_found (nothing there, and nothing may be created);
/// incompatible_format (a file, a directory of other files, a RocksDB database that is not a
/// log, a newer format version, a column family this format does not know); io_error.
Result<Found> inspect(const std::filesystem::path& dir, const Options& options) {
  std::error_code error;
  const auto status = std::filesystem::status(dir, error);
  if (error && error != std::errc::no_such_file_or_directory) {
    return make_error(Errc::io_error, "cannot look at {}: {}", dir.string(), error.message());
  }
  const bool is_directory = std::filesystem::is_directory(status);
  const bool has_database = is_directory && std::filesystem::exists(dir / "CURRENT", error);
  if (!has_database) {
    if (options.read_only || !options.create_if_missing) {
      return make_error(Errc::not_found, "no event log at {}", dir.string());
    }
    if (std::filesystem::exists(status) && !is_directory) {
      return make_error(Errc::incompatible_format,
                        "{} is a file, not a directory: a log is a directory of its own",
                        dir.string());
    }
    if (is_directory && !only_creation_leftovers(dir)) {
      return make_error(Errc::incompatible_format,
                        "{} holds {} but no worldlog log; a new log is created only in a missing "
                        "or an empty directory",
                        dir.string(), some_entries(dir));
    }
    return Found::nothing;
  }

  std::vector<std::string> present;
  const auto listed = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &present);
  if (!listed.ok()) return storage_error(listed, fmt::format("listing {}", dir.string()));
  // A reader opens without writing anything in any case, and checks the version once open.
  Found found = Found::log;
  if (!options.read_only) {
    auto inspected = inspect_database(dir, present);
    if (!inspected.ok()) return std::move(inspected).error();
    found = *inspected;
  }
  const auto& known = known_column_families();
  for (const auto& name : present) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return make_error(Errc::incompatible_format,
                        "{} has column family '{}', unknown to this format (version {})",
                        dir.string(), name, format::format_version);
    }
  }
  for (const auto& name : known) {
    if (std::find(present.begin(), present.end(), name) == present.end()) {
      return make_error(Errc::incompatible_format,
                        "{} holds a RocksDB database that is not a worldlog log: it has no "
                        "column family '{}'",
                        dir.string(), name);
    }
  }
  // A writer that finds the database's lock taken would fail only after RocksDB had started
  // a new info LOG. RocksDB's own lock call tells a lock this process holds without opening
  // the file (closing any descriptor of it would drop that lock), and the LOCK file exists.
  if (!options.read_only && std::filesystem::exists(dir / "LOCK", error)) {
    rocksdb::Env* env = rocksdb::Env::Default();
    rocksdb::FileLock* lock = nullptr;
    const auto locked = env->LockFile((dir / "LOCK").string(), &lock);
    if (!locked.ok()) {
      return make_error(Errc::io_error, "{} is open for writing elsewhere (its lock is held): {}",
                        dir.string(), locked.ToString());
    }
    env->UnlockFile(lock).PermitUncheckedError();
  }
  return found;
}

/// Names the calling thread for top, perf and debuggers (at most 15 characters on Linux).
void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

/// How many times a reader tries to open or catch up before it gives up. The writer deletes
/// table files that its compactions made obsolete, possibly between the moment a reader reads
/// the MANIFEST and the moment it opens them; that attempt fails, and RocksDB's advice is to
/// try again.
constexpr int reader_attempts = 5;

/// Options of a reader (a secondary instance). It keeps every table file open, since a file
/// the writer deletes stays readable through a descriptor opened before; it neither flushes
/// nor compacts, so it needs none of the writer's tuning.
rocksdb::DBOptions reader_options() {
  rocksdb::DBOptions db;
  db.max_open_files = -1;
  return db;
}

Result<std::filesystem::path> make_reader_dir() {
  std::error_code ignored;
  std::filesystem::path base = std::filesystem::temp_directory_path(ignored);
  if (base.empty()) base = "/tmp";
  std::string pattern = (base / "worldlog-reader-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return make_error(Errc::io_error, "creating the reader's directory {}: {}", pattern,
                      std::strerror(errno));
  }
  return std::filesystem::path(pattern);
}

/// Refuses a database whose MANIFEST names a table file that is not there: RocksDB may open it
/// anyway and answer reads from the files that are left, as if the missing one held nothing.
Status check_table_files(rocksdb::DB& db, const std::filesystem::path& dir) {
  std::vector<rocksdb::LiveFileMetaData> files;
  db.GetLiveFilesMetaData(&files);
  for (const auto& file : files) {
    const std::filesystem::path path = std::filesystem::path(file.db_path) / file.relative_filename;
    std::error_code looked;
    if (std::filesystem::exists(path, looked)) continue;
    return make_error(Errc::corruption,
                      "{} is missing its table file {} (column family '{}', {} entries): the "
                      "log does not answer from part of its data",
                      dir.string(), file.relative_filename, file.column_family_name,
                      file.num_entries);
  }
  return {};
}

/// A reader (a secondary instance) opens a database one of whose table files is missing and
/// answers without it, taking it for a file its writer deleted. A read-only open (which writes
/// nothing) tells which files the MANIFEST names; one that is missing is an error, unless it is
/// gone in the next attempt's MANIFEST too (a writer's compaction replaced it meanwhile).
Status check_reader_table_files(const std::filesystem::path& dir,
                                const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors) {
  rocksdb::DBOptions options;
  options.info_log = std::make_shared<SilentLogger>();
  Status checked;
  for (int attempt = 0; attempt < reader_attempts; ++attempt) {
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const auto opened =
        rocksdb::DB::OpenForReadOnly(options, dir.string(), descriptors, &handles, &raw);
    if (!opened.ok()) {
      checked = storage_error(opened, fmt::format("opening {} read-only", dir.string()));
      continue;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    checked = check_table_files(*db, dir);
    for (auto* handle : handles)
      db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    db->Close().PermitUncheckedError();
    if (checked.ok()) return checked;
  }
  return checked;
}

/// Why RocksDB refused to open `dir`, with what it reported on the way and, for a damaged
/// WAL, the file and the byte where the damage starts.
Error open_error(const rocksdb::Status& status, const std::filesystem::path& dir,
                 std::string_view what, const InfoLog& info_log) {
  std::string reported;
  std::vector<std::string> seen; // a reader's attempts report the same damage each time
  for (const auto& warning : info_log.warnings()) {
    if (std::find(seen.begin(), seen.end(), warning) != seen.end()) continue;
    seen.push_back(warning);
    reported += fmt::format("\n  {}", warning);
  }
  if (status.IsCorruption()) {
    // RocksDB names a damaged WAL file, not where in it: find the first bad record.
    std::vector<std::filesystem::path> wals;
    std::error_code listed;
    for (const auto& entry : std::filesystem::directory_iterator(dir, listed))
      if (entry.path().extension() == ".log") wals.push_back(entry.path());
    std::sort(wals.begin(), wals.end());
    for (const auto& wal : wals) {
      if (auto damage = find_wal_damage(wal)) {
        reported += fmt::format("\n  the first damage is in {} at byte {}: {}\n  nothing was "
                                "changed; `worldlog repair --data {}` says what opening it "
                                "anyway would drop",
                                wal.string(), damage->offset, damage->what, dir.string());
        break;
      }
    }
  }
  Error error = storage_error(status, what);
  if (reported.empty()) return error;
  return make_error(error.code(), "{}; the storage engine reported:{}", error.message(), reported);
}

/// Opens `dir` as a secondary instance. Its own directory, where it creates its info log, is
/// removed as soon as the instance is open: the log file stays open and written, unlinked, so
/// nothing is left behind even when the process dies by a signal (SIGPIPE, in
/// `worldlog events | head`).
Status open_reader(const std::filesystem::path& dir,
                   const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors,
                   std::vector<rocksdb::ColumnFamilyHandle*>& handles, rocksdb::DB*& db) {
  auto reader_dir = make_reader_dir();
  if (!reader_dir.ok()) return std::move(reader_dir).error();
  rocksdb::DBOptions options = reader_options();
  const auto info_log = std::make_shared<InfoLog>(*reader_dir, nullptr);
  options.info_log = info_log;
  rocksdb::Status opened;
  for (int attempt = 0; attempt < reader_attempts; ++attempt) {
    opened = rocksdb::DB::OpenAsSecondary(options, dir.string(), reader_dir->string(), descriptors,
                                          &handles, &db);
    if (opened.ok()) break;
  }
  std::error_code ignored;
  std::filesystem::remove_all(*reader_dir, ignored);
  if (!opened.ok()) {
    return open_error(opened, dir, fmt::format("opening {} read-only", dir.string()), *info_log);
  }
  return {};
}

/// The table files of a database's current version, by name.
std::vector<std::string> table_files(rocksdb::DB& db) {
  std::vector<rocksdb::LiveFileMetaData> files;
  db.GetLiveFilesMetaData(&files);
  std::vector<std::string> names;
  names.reserve(files.size());
  for (const auto& file : files)
    names.push_back(file.name);
  std::sort(names.begin(), names.end());
  return names;
}

/// Refuses a directory whose file system (the nearest existing one, for a directory not yet
/// made) has less than `needed` bytes free for this user.
Status check_free_space(const std::filesystem::path& dir, std::uint64_t needed) {
  std::error_code error;
  auto existing = std::filesystem::absolute(dir, error);
  while (!std::filesystem::exists(existing, error) && existing.has_parent_path() &&
         existing != existing.parent_path())
    existing = existing.parent_path();
  const auto space = std::filesystem::space(existing, error);
  if (error) {
    return make_error(Errc::io_error, "cannot tell the free space at {}: {}", dir.string(),
                      error.message());
  }
  if (space.available >= needed) return {};
  return make_error(Errc::io_error,
                    "{} has {} MiB free on its file system; a log opens for writing only with "
                    "{} MiB free or more (log::Options::min_free_bytes)",
                    dir.string(), space.available >> 20, needed >> 20);
}

} // namespace

void print_storage_message(bool error, std::string_view message) {
  fmt::print(stderr, "worldlog: storage {}: {}\n", error ? "error" : "warning", message);
}

Error storage_error(const rocksdb::Status& status, std::string_view what) {
  return make_error(status.IsCorruption() ? Errc::corruption : Errc::io_error, "{}: {}", what,
                    status.ToString());
}

EventLog::EventLog(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventLog::~EventLog() { impl_->shut_down(); }

void EventLog::Impl::shut_down() {
  {
    std::lock_guard lock(queue_mutex);
    stopping = true;
  }
  queue_ready.notify_all();
  if (committer.joinable()) committer.join();
  if (!options.commit_thread) {
    // What a commit thread would have done before it stopped: commit everything queued.
    for (std::vector<AppendRequest> batch;; batch.clear()) {
      take_batch(batch, std::numeric_limits<std::size_t>::max());
      if (batch.empty()) break;
      commit(batch);
    }
  }
  {
    std::lock_guard lock(index_mutex);
    index_stopping = true;
  }
  index_work.notify_all();
  index_progress.notify_all();
  if (indexer.joinable()) indexer.join();
  std::lock_guard lock(state_mutex);
  closed = true;
  for (const auto& buffer : live) {
    std::lock_guard buffer_lock(buffer->mutex);
    buffer->closed = true;
    buffer->ready.notify_all();
  }
  live.clear();
}

EventLog::Impl::~Impl() {
  if (db) {
    for (auto* handle : handles)
      db->DestroyColumnFamilyHandle(handle);
    db->Close().PermitUncheckedError();
  }
}

Result<EventLog::Impl::StoredHeads>
EventLog::Impl::read_heads(const rocksdb::ReadOptions& read) const {
  StoredHeads stored;
  std::unique_ptr<rocksdb::Iterator> positions(db->NewIterator(read, positions_cf));
  positions->SeekToLast();
  if (positions->Valid()) stored.last_position = format::get_u64(positions->key().data());
  if (!positions->status().ok()) return storage_error(positions->status(), "recovering positions");

  // The head's hash is taken from the stored prefix without verifying it, so one bad record
  // does not stop the log from opening: reads and verify() report it.
  std::unique_ptr<rocksdb::Iterator> events(db->NewIterator(read, events_cf));
  for (events->SeekToFirst(); events->Valid();) {
    const StreamId stream = format::get_u64(events->key().data());
    events->SeekForPrev(slice(format::stream_seq_key(stream, ~Seq{0})));
    StreamHead head;
    head.seq = format::get_u64(events->key().data() + 8);
    const auto record = events->value();
    if (record.size() > format::hash_size) {
      std::memcpy(head.hash.data(), record.data(), format::hash_size);
      const std::string aligned(record.data(), record.size());
      if (format::verify_record(aligned, stream, head.seq).ok()) {
        head.wall_time_us = format::wall_time_of(aligned);
      }
    }
    stored.heads[stream] = head;
    if (stream == ~StreamId{0}) break;
    events->Seek(slice(format::stream_seq_key(stream + 1, 0)));
  }
  if (!events->status().ok()) return storage_error(events->status(), "recovering stream heads");
  return stored;
}

Result<std::unique_ptr<EventLog>> EventLog::open(const std::filesystem::path& dir,
                                                 const Options& options) {
  auto impl = std::make_shared<Impl>();
  impl->options = options;

  // Everything that can be refused is refused here, before the directory is opened for
  // writing: a failed open leaves every byte as it was.
  auto found = inspect(dir, options);
  if (!found.ok()) return std::move(found).error();
  const bool fresh = *found != Found::log;
  const auto& known = known_column_families();

  // One block cache for all column families, so the log's memory has one bound. Scans bypass
  // it (reads.cpp); it serves point lookups: time searches, audits, index blocks.
  const auto block_cache = rocksdb::NewLRUCache(256 << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : known) {
    descriptors.emplace_back(name, cf_options(block_cache, sequential_prefix_of(name)));
  }
  rocksdb::DB* raw = nullptr;
  if (options.read_only) {
    if (auto complete = check_reader_table_files(dir, descriptors); !complete.ok()) {
      return std::move(complete).error();
    }
    auto opened = open_reader(dir, descriptors, impl->handles, raw);
    if (!opened.ok()) return std::move(opened).error();
    impl->db.reset(raw);
    // Opening reads the MANIFEST and then the WAL files, like a catch-up, with the same hole.
    if (auto caught_up = impl->catch_up(); !caught_up.ok()) return std::move(caught_up).error();
  } else {
    if (options.file_system) impl->env = rocksdb::NewCompositeEnv(options.file_system);
    if (auto room = check_free_space(dir, options.min_free_bytes); !room.ok()) {
      return std::move(room).error();
    }
    std::error_code made;
    std::filesystem::create_directories(dir, made); // for the LOG file; RocksDB would make it
    impl->info_log = std::make_shared<InfoLog>(dir, options.on_storage_message);
    if (options.storage_statistics) {
      impl->statistics = rocksdb::CreateDBStatistics();
      impl->storage_counter = std::make_shared<StorageCounter>();
      impl->commit_latency = std::make_unique<LatencyHistogram>();
    }
    const auto opened = rocksdb::DB::Open(db_options(options, impl->env.get(), impl->info_log,
                                                     impl->statistics, impl->storage_counter),
                                          dir.string(), descriptors, &impl->handles, &raw);
    if (!opened.ok()) {
      return open_error(opened, dir, fmt::format("opening {}", dir.string()), *impl->info_log);
    }
    impl->db.reset(raw);
  }
  impl->meta_cf = impl->handles[0];
  impl->events_cf = impl->handles[1];
  impl->positions_cf = impl->handles[2];
  impl->actors_cf = impl->handles[3];
  impl->snapshots_cf = impl->handles[4];

  const auto store_format_version = [&impl]() -> Status {
    std::string version(4, '\0');
    for (int i = 0; i < 4; ++i) {
      version[static_cast<std::size_t>(i)] =
          static_cast<char>(format::format_version >> (8 * (3 - i)));
    }
    rocksdb::WriteOptions write;
    write.sync = true;
    const auto put =
        impl->db->Put(write, impl->meta_cf, format::format_version_key.data(), version);
    if (!put.ok()) return storage_error(put, "writing the format version");
    return {};
  };
  if (fresh) {
    if (auto stored = store_format_version(); !stored.ok()) return std::move(stored).error();
  }
  auto version = read_format_version(*impl->db, impl->meta_cf, dir);
  if (!version.ok()) return std::move(version).error();
  if (*version > format::format_version) {
    return make_error(Errc::incompatible_format,
                      "{} was written by format version {}; this worldlog reads up to {}",
                      dir.string(), *version, format::format_version);
  }
  // A log of an older version is read as it is; a writer is about to add records of the
  // current envelope to it, which an older worldlog cannot read: it says so before it does.
  if (*version < format::format_version && !options.read_only) {
    if (auto stored = store_format_version(); !stored.ok()) return std::move(stored).error();
  }

  auto stored = impl->read_heads();
  if (!stored.ok()) return std::move(stored).error();
  for (const auto& [stream, head] : stored->heads) {
    impl->pending_heads[stream] = head;
    impl->durable_heads[stream] = head.seq;
  }
  impl->pending_position = stored->last_position;
  impl->durable_position = stored->last_position;
  // A reader leaves the index to the writer: read_actor covers the events past its watermark
  // by scanning them (reads.cpp).
  if (options.read_only) return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));

  if (auto status = impl->recover_actor_index(); !status.ok()) return std::move(status).error();
  if (options.commit_thread) {
    impl->committer = std::thread([raw_impl = impl.get()] {
      name_this_thread("worldlog-commit");
      raw_impl->run_committer();
    });
  }
  if (options.commit_thread) {
    impl->indexer = std::thread([raw_impl = impl.get()] {
      name_this_thread("worldlog-index");
      raw_impl->run_indexer();
    });
  }
  return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));
}

Status EventLog::Impl::catch_up() {
  // A catch-up reads the writer's MANIFEST, then the WAL files it finds. A flush the writer
  // completes in between may let it recycle or delete a WAL file before the reader finds it,
  // and then the reader holds those records nowhere: not in a table it knows of, not in a WAL.
  // The next catch-up reads that flush from the MANIFEST and closes the hole, so catch-ups go
  // on until one finds no new table file, which proves the one before missed nothing. Each
  // round has less to read, so this settles at once unless the writer flushes continuously.
  auto before = table_files(*db);
  rocksdb::Status status;
  for (int attempt = 0; attempt < reader_attempts; ++attempt) {
    status = db->TryCatchUpWithPrimary();
    if (!status.ok()) continue;
    auto after = table_files(*db);
    if (after == before) return {};
    before = std::move(after);
  }
  if (!status.ok()) return storage_error(status, "catching up with the log's writer");
  return make_error(Errc::io_error,
                    "catching up with the log's writer: its tables changed in each of {} rounds",
                    reader_attempts);
}

Status EventLog::refresh() {
  if (!impl_->options.read_only) {
    return make_error(Errc::invalid_argument,
                      "refresh is for logs opened read-only; this one is its own writer");
  }
  std::lock_guard lock(impl_->refresh_mutex);
  if (auto caught_up = impl_->catch_up(); !caught_up.ok()) return caught_up;
  return impl_->publish_caught_up();
}

Status EventLog::Impl::publish_caught_up() {
  auto stored = read_heads();
  if (!stored.ok()) return std::move(stored).error();
  Position from = 0;
  {
    // Without live subscribers the new heads are all there is to publish. The check and the
    // update share the lock a subscriber goes live under, so none can fall in between.
    std::lock_guard lock(state_mutex);
    if (live.empty()) {
      for (const auto& [stream, head] : stored->heads)
        durable_heads[stream] = head.seq;
      durable_position = stored->last_position;
      return {};
    }
    from = durable_position + 1;
  }
  // Live subscribers get the new events as if the commit thread had just made them durable,
  // a chunk at a time, so memory stays bounded however far the writer got.
  constexpr std::size_t chunk = 1024;
  std::vector<std::string> records;
  const auto deliver = [&] {
    std::vector<Committed> committed;
    committed.reserve(records.size());
    for (const auto& record : records) {
      const EventView event(record);
      committed.push_back({event.stream(), event.seq(), event.position(), event.actor(), &record});
    }
    if (!committed.empty()) publish(committed);
    records.clear();
  };
  auto scanned = scan_all(from, ~std::size_t{0}, [&](const EventView& event) {
    records.emplace_back(event.record());
    if (records.size() == chunk) deliver();
    return true;
  });
  deliver();
  return scanned;
}

std::optional<Error> EventLog::write_failure() const {
  if (!impl_->failed.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(impl_->queue_mutex);
  return impl_->failure;
}

Seq EventLog::head(StreamId stream) const {
  std::lock_guard lock(impl_->state_mutex);
  const auto it = impl_->durable_heads.find(stream);
  return it == impl_->durable_heads.end() ? 0 : it->second;
}

StorageStats EventLog::storage_stats() const {
  StorageStats stats;
  if (const auto& counted = impl_->statistics) {
    stats.wal_bytes = counted->getTickerCount(rocksdb::WAL_FILE_BYTES);
    stats.flush_bytes = counted->getTickerCount(rocksdb::FLUSH_WRITE_BYTES);
    stats.compaction_read_bytes = counted->getTickerCount(rocksdb::COMPACT_READ_BYTES);
    stats.compaction_write_bytes = counted->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
    rocksdb::HistogramData sync;
    counted->histogramData(rocksdb::WAL_FILE_SYNC_MICROS, &sync);
    rocksdb::HistogramData write;
    counted->histogramData(rocksdb::DB_WRITE, &write);
    const auto us = [](double micros) { return static_cast<std::uint64_t>(micros); };
    stats.wal_sync_p50_us = us(sync.median);
    stats.wal_sync_p99_us = us(sync.percentile99);
    stats.wal_sync_max_us = us(sync.max);
    stats.write_p99_us = us(write.percentile99);
    stats.write_max_us = us(write.max);
    stats.stall_us = counted->getTickerCount(rocksdb::STALL_MICROS);
  }
  if (const auto& commits = impl_->commit_latency) {
    stats.commit_p50_us = commits->percentile_us(0.50);
    stats.commit_p99_us = commits->percentile_us(0.99);
    stats.commit_max_us = commits->max_us();
  }
  if (const auto& counter = impl_->storage_counter) {
    stats.flushes = counter->flushes.load(std::memory_order_relaxed);
    stats.compactions = counter->compactions.load(std::memory_order_relaxed);
  }
  return stats;
}

Status EventLog::settle_storage(std::chrono::milliseconds limit) {
  if (impl_->options.read_only) {
    return make_error(Errc::invalid_argument, "settling storage: the log was opened read-only");
  }
  if (auto indexed = impl_->wait_indexed(last_position()); !indexed.ok()) return indexed;
  rocksdb::DB& db = *impl_->db;
  const std::vector<rocksdb::ColumnFamilyHandle*> families{
      impl_->meta_cf, impl_->events_cf, impl_->positions_cf, impl_->actors_cf, impl_->snapshots_cf};
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  if (auto flushed = db.Flush(flush, families); !flushed.ok()) {
    return storage_error(flushed, "flushing the memtables");
  }
  const auto busy = [&db, &families] {
    for (auto* family : families) {
      std::uint64_t pending = 0;
      std::uint64_t running = 0;
      db.GetIntProperty(family, rocksdb::DB::Properties::kCompactionPending, &pending);
      db.GetIntProperty(family, rocksdb::DB::Properties::kNumRunningCompactions, &running);
      if (pending != 0 || running != 0) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (busy()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(Errc::timeout, "compactions still running or due after {} ms",
                        limit.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

Position EventLog::last_position() const {
  std::lock_guard lock(impl_->state_mutex);
  return impl_->durable_position;
}

std::vector<StreamId> EventLog::streams() const {
  std::lock_guard lock(impl_->state_mutex);
  std::vector<StreamId> ids;
  ids.reserve(impl_->durable_heads.size());
  for (const auto& [stream, seq] : impl_->durable_heads)
    ids.push_back(stream);
  return ids;
}

Result<std::uint64_t> EventLog::verify(StreamId stream) const {
  // scan_stream already checks each record and that no seq is missing; this adds the links.
  Hash expected_prev{};
  std::uint64_t checked = 0;
  Position last_position = 0;
  std::optional<Error> broken;
  auto status = impl_->scan_stream(stream, 1, ~std::size_t{0}, [&](const EventView& event) {
    if (event.prev_hash() != expected_prev) {
      broken = make_error(
          Errc::corruption, "stream {} seq {}: predecessor hash {} does not match seq {} ({})",
          stream, event.seq(), to_hex(event.prev_hash()), event.seq() - 1, to_hex(expected_prev));
    } else if (event.position() <= last_position) {
      broken =
          make_error(Errc::corruption, "stream {} seq {}: position {} does not follow position {}",
                     stream, event.seq(), event.position(), last_position);
    }
    expected_prev = event.hash();
    last_position = event.position();
    ++checked;
    return !broken;
  });
  if (!status.ok()) return std::move(status).error();
  if (broken) return std::move(*broken);
  return checked;
}

Result<std::vector<EventLog::LostTail>> EventLog::find_lost_tails() const {
  // One consistent view of every column family: a writer appending meanwhile must not look
  // like evidence (index entries of events past heads read earlier). A reader's view changes
  // only when it refreshes, so it needs no snapshot (and has none).
  rocksdb::DB& db = *impl_->db;
  const rocksdb::Snapshot* snapshot = impl_->options.read_only ? nullptr : db.GetSnapshot();
  const std::unique_ptr<const rocksdb::Snapshot, std::function<void(const rocksdb::Snapshot*)>>
      release(snapshot, [&db](const rocksdb::Snapshot* taken) { db.ReleaseSnapshot(taken); });
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  read.fill_cache = false;

  auto stored = impl_->read_heads(read);
  if (!stored.ok()) return std::move(stored).error();
  std::map<StreamId, LostTail> lost;
  const auto evidence = [&](StreamId stream, Seq reached, std::string_view what) {
    const auto found = stored->heads.find(stream);
    const Seq head = found == stored->heads.end() ? Seq{0} : found->second.seq;
    if (reached <= head) return;
    auto [it, added] = lost.try_emplace(stream, LostTail{stream, head, reached, std::string(what)});
    if (!added && reached > it->second.reached) {
      it->second.reached = reached;
      it->second.evidence = what;
    }
  };
  /// Visits every entry of `cf`; one that `visit` finds malformed is corruption.
  const auto scan =
      [&](rocksdb::ColumnFamilyHandle* cf, std::string_view what,
          const std::function<bool(std::string_view key, std::string_view value)>& visit)
      -> Status {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!visit(it->key().ToStringView(), it->value().ToStringView())) {
        return make_error(Errc::corruption, "the {} hold a malformed entry ({} + {} bytes)", what,
                          it->key().size(), it->value().size());
      }
    }
    if (!it->status().ok()) return storage_error(it->status(), fmt::format("reading the {}", what));
    return {};
  };
  /// An index entry: its key ends in its run's last position.
  const auto index_entry = [&](std::size_t key_size, std::string_view what) {
    return [&evidence, key_size, what](std::string_view key, std::string_view value) {
      if (key.size() != key_size) return false;
      const auto run = format::parse_index_run(value, format::get_u64(key.data() + key_size - 8));
      if (run) evidence(run->stream, run->last_seq, what);
      return run.has_value();
    };
  };

  // A snapshot is stored only once its seq is durable: one past the head folded events that
  // are gone.
  auto scanned =
      scan(impl_->snapshots_cf, "snapshots", [&](std::string_view key, std::string_view) {
        if (key.size() != sizeof(format::StreamSeqKey)) return false;
        evidence(format::get_u64(key.data()), format::get_u64(key.data() + 8), "a snapshot");
        return true;
      });
  if (!scanned.ok()) return std::move(scanned).error();
  // Both indexes are written after (or with) the records they name.
  scanned = scan(impl_->positions_cf, "positions index",
                 index_entry(sizeof(format::PositionKey), "the positions index"));
  if (!scanned.ok()) return std::move(scanned).error();
  const auto actor_entry = index_entry(sizeof(format::ActorKey), "the actors index");
  scanned =
      scan(impl_->actors_cf, "actors index", [&](std::string_view key, std::string_view value) {
        return key == format::actor_watermark_key || actor_entry(key, value);
      });
  if (!scanned.ok()) return std::move(scanned).error();

  std::vector<LostTail> tails;
  // The actors index's watermark says which positions it has indexed, whatever the streams.
  auto watermark = read_actor_watermark(db, read, impl_->actors_cf, impl_->meta_cf);
  if (!watermark.ok()) return std::move(watermark).error();
  if (*watermark > stored->last_position) {
    tails.push_back(
        {std::nullopt, stored->last_position, *watermark, "the actors index's watermark"});
  }
  for (auto& [stream, tail] : lost)
    tails.push_back(std::move(tail));
  return tails;
}

Status EventLog::put_snapshot(StreamId stream, Seq seq, std::string_view bytes,
                              std::size_t keep_last) {
  assert(keep_last >= 1);
  if (impl_->options.read_only) {
    return make_error(Errc::invalid_argument,
                      "snapshot of stream {} at seq {}: the log was opened read-only", stream, seq);
  }
  // Snapshots carry their own hash like records do, so a damaged one is reported rather than
  // silently restored.
  rocksdb::WriteBatch batch;
  (void)batch.Put(impl_->snapshots_cf, slice(format::stream_seq_key(stream, seq)),
                  format::hash_prefixed(bytes));
  // A stream keeps a handful of snapshots, so listing them all is cheap.
  std::vector<Seq> seqs{seq};
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->snapshots_cf));
  for (it->Seek(slice(format::stream_seq_key(stream, 0)));
       it->Valid() && format::get_u64(it->key().data()) == stream; it->Next()) {
    const Seq stored = format::get_u64(it->key().data() + 8);
    if (stored != seq) seqs.push_back(stored);
  }
  if (!it->status().ok()) return storage_error(it->status(), "listing snapshots");
  std::sort(seqs.begin(), seqs.end(), std::greater<>());
  for (std::size_t i = keep_last; i < seqs.size(); ++i) {
    (void)batch.Delete(impl_->snapshots_cf, slice(format::stream_seq_key(stream, seqs[i])));
  }
  rocksdb::WriteOptions write;
  write.sync = impl_->options.durability == Durability::sync;
  if (const auto status = impl_->db->Write(write, &batch); !status.ok())
    return storage_error(status, fmt::format("storing snapshot of stream {}", stream));
  return {};
}

Result<std::optional<EventLog::Snapshot>> EventLog::latest_snapshot(StreamId stream,
                                                                    Seq at_or_before) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->snapshots_cf));
  it->SeekForPrev(slice(format::stream_seq_key(stream, at_or_before)));
  if (!it->status().ok()) return storage_error(it->status(), "reading snapshots");
  if (!it->Valid() || format::get_u64(it->key().data()) != stream) {
    return std::optional<Snapshot>{};
  }
  const Seq seq = format::get_u64(it->key().data() + 8);
  const std::string_view value(it->value().data(), it->value().size());
  if (!format::hash_prefix_matches(value)) {
    return make_error(Errc::corruption, "snapshot of stream {} at seq {}: hash mismatch", stream,
                      seq);
  }
  return std::optional<Snapshot>(Snapshot{seq, std::string(value.substr(format::hash_size))});
}

} // namespace worldlog::log

// Direct access to a closed log's RocksDB, for tests that tamper with what is on disk.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>

namespace worldlog::test {

/// Opens every column family of the RocksDB in `dir` (the log must be closed) with default
/// options. Reads, writes and deletes are synced, so a later EventLog::open sees them.
class RawDb {
public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    auto listed = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
    REQUIRE_MESSAGE(listed.ok(),
                    fmt::format("list column families of {}: {}", dir, listed.ToString()));
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    auto opened = rocksdb::DB::Open(rocksdb::DBOptions(), dir, descriptors, &handles_, &db);
    REQUIRE_MESSAGE(opened.ok(), fmt::format("open {}: {}", dir, opened.ToString()));
    db_.reset(db);
    names_ = names;
  }

  ~RawDb() {
    for (auto* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    db_->Close().PermitUncheckedError();
  }

  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  [[nodiscard]] std::string get(std::string_view cf, std::string_view key) {
    std::string value;
    auto status = db_->Get(rocksdb::ReadOptions(), handle(cf), key, &value);
    REQUIRE_MESSAGE(status.ok(), fmt::format("get from {}: {}", cf, status.ToString()));
    return value;
  }

  /// Every key and value of `cf`, in key order.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> entries(std::string_view cf) {
    std::vector<std::pair<std::string, std::string>> found;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      found.emplace_back(it->key().ToString(), it->value().ToString());
    REQUIRE_MESSAGE(it->status().ok(), fmt::format("scan {}: {}", cf, it->status().ToString()));
    return found;
  }

  void put(std::string_view cf, std::string_view key, std::string_view value) {
    auto status = db_->Put(synced(), handle(cf), key, value);
    REQUIRE_MESSAGE(status.ok(), fmt::format("put into {}: {}", cf, status.ToString()));
  }

  void remove(std::string_view cf, std::string_view key) {
    auto status = db_->Delete(synced(), handle(cf), key);
    REQUIRE_MESSAGE(status.ok(), fmt::format("delete from {}: {}", cf, status.ToString()));
  }

private:
  static rocksdb::WriteOptions synced() {
    rocksdb::WriteOptions options;
    options.sync = true;
    return options;
  }

  rocksdb::ColumnFamilyHandle* handle(std::string_view cf) {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == cf) return handles_[i];
    }
    FAIL(fmt::format("the log has no column family {}", cf));
    return nullptr;
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

/// The table file that holds column family `cf` of the closed log in `dir` (the first, if it
/// has more), found through a read-only open that changes no file of the log.
[[nodiscard]] inline std::filesystem::path table_file_of(const std::filesystem::path& dir,
                                                         std::string_view cf) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const auto opened =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.string(), descriptors, &handles, &raw);
  REQUIRE_MESSAGE(opened.ok(), opened.ToString());
  std::vector<rocksdb::LiveFileMetaData> files;
  raw->GetLiveFilesMetaData(&files);
  for (auto* handle : handles)
    raw->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  delete raw;
  for (const auto& file : files)
    if (file.column_family_name == cf) return dir / file.relative_filename;
  FAIL(fmt::format("no table file of {} holds column family {}", dir.string(), cf));
  return {};
}

} // namespace worldlog::test

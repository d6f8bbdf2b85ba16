// Finds where a RocksDB WAL file is damaged, for an error that names the byte.
//
// RocksDB refuses a WAL damaged before its last record (the log's recovery mode) and says which
// file, but not where in it. This reads the file the way RocksDB's log reader does — 32 KiB
// blocks of records, each with a masked CRC32C of its type and payload — and reports the first
// record that is not what it should be, ignoring a record cut short at the very end (a crash's).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace worldlog::log {

struct WalDamage {
  std::uint64_t offset = 0; ///< of the first bad record's header
  std::string what;         ///< "checksum mismatch in a record of 240 bytes", ...
};

/// The first damage in the WAL file at `path`, or nullopt if it reads to its end (or its torn
/// last record). A file that cannot be read is reported as damage at offset 0.
[[nodiscard]] std::optional<WalDamage> find_wal_damage(const std::filesystem::path& path);

} // namespace worldlog::log

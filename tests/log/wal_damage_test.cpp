// A damaged WAL: damage before its last record is refused on open, naming the file, with every
// file kept; a record cut short at its very end (what a crash leaves) is dropped and the log
// opens with the records before it; and when asked (`drop_damaged_wal`) the log opens with
// everything from the damage on dropped. A log missing its CURRENT file is refused, not created
// anew over its tables.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "support/dir_contents.hpp"
#include "support/log_helpers.hpp"
#include "support/raw_db.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

constexpr StreamId stream = 4;
constexpr Seq appended = 300;

/// A closed log whose last `appended` events, one append each, are only in its WAL.
std::filesystem::path wal_only_log(const TempDir& dir) {
  const auto path = dir / "log";
  auto log = open_log(path, {.durability = log::Durability::sync});
  append_n(*log, stream, appended);
  return path;
}

/// The newest WAL file of `dir`.
std::filesystem::path newest_wal(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> wals;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".log") wals.push_back(entry.path());
  REQUIRE(!wals.empty());
  return *std::max_element(wals.begin(), wals.end());
}

void flip_byte(const std::filesystem::path& file, std::uintmax_t offset) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  io.get(byte);
  io.seekp(static_cast<std::streamoff>(offset));
  io.put(static_cast<char>(byte ^ 0x5a));
}

/// The stream's chain verifies from seq 1 to its head.
void check_chain(const EventLog& log) {
  auto verified = log.verify(stream);
  REQUIRE_OK(verified);
  CHECK(*verified == log.head(stream));
}

/// Every file but RocksDB's info log, which an open writes whatever becomes of it.
std::map<std::string, std::string> data_files(const std::filesystem::path& dir) {
  auto contents = dir_contents(dir);
  std::erase_if(contents, [](const auto& entry) { return entry.first.starts_with("LOG"); });
  return contents;
}

} // namespace

TEST_CASE("a byte flipped in the middle of the WAL is refused on open, naming the file") {
  TempDir dir;
  const auto path = wal_only_log(dir);
  const auto wal = newest_wal(path);
  flip_byte(wal, std::filesystem::file_size(wal) / 2);
  const auto before = data_files(path);

  auto opened = log::EventLog::open(path, {});
  CHECK(error_code(opened) == Errc::corruption);
  CHECK_MESSAGE(error_message(opened).find(wal.filename().string()) != std::string::npos,
                error_message(opened));
  // Where: the header of the record that holds the flipped byte, in the same 32 KiB block of
  // the WAL (a record is one append, or one batch of the actor index, which can be larger).
  const auto at = error_message(opened).find(" at byte ");
  REQUIRE(at != std::string::npos);
  const std::uintmax_t offset = std::stoull(error_message(opened).substr(at + 9));
  CHECK(offset <= std::filesystem::file_size(wal) / 2);
  CHECK(offset / 32768 == std::filesystem::file_size(wal) / 2 / 32768);
  CHECK_CONTENTS_UNCHANGED(before, data_files(path));
  // Refused again, the same way: nothing was dropped by the first attempt; and by a reader.
  CHECK(error_code(log::EventLog::open(path, {})) == Errc::corruption);
  auto read = log::EventLog::open(path, {.create_if_missing = false, .read_only = true});
  CHECK(error_code(read) == Errc::corruption);
  CHECK_MESSAGE(error_message(read).find(wal.filename().string()) != std::string::npos,
                error_message(read));
  CHECK_CONTENTS_UNCHANGED(before, data_files(path));
}

TEST_CASE("a WAL cut short anywhere in its last records opens, keeping every whole record") {
  // What a crash leaves: the last write torn, at any byte. Each cut is tried on a copy.
  TempDir dir;
  const auto original = wal_only_log(dir);
  const auto wal_name = newest_wal(original).filename();
  for (std::uintmax_t cut = 1; cut < 1200; cut += 97) {
    CAPTURE(cut);
    const auto copy = dir / fmt::format("cut-{}", cut);
    std::filesystem::copy(original, copy);
    const auto wal = copy / wal_name;
    std::filesystem::resize_file(wal, std::filesystem::file_size(wal) - cut);
    auto log = open_log(copy);
    CHECK(log->head(stream) <= appended);
    // Each append is one WAL record of more than 100 bytes (its event's alone is).
    CHECK(log->head(stream) + cut / 100 + 1 >= appended);
    check_chain(*log);
  }
}

TEST_CASE("asked to, the log opens a damaged WAL up to the damage and drops the rest") {
  TempDir dir;
  const auto path = wal_only_log(dir);
  const auto wal = newest_wal(path);
  flip_byte(wal, std::filesystem::file_size(wal) / 2);
  auto log = open_log(path, {.drop_damaged_wal = true});
  CHECK(log->head(stream) > appended / 4);
  CHECK(log->head(stream) < appended * 3 / 4);
  check_chain(*log);
}

TEST_CASE("a log whose CURRENT and WAL are gone is refused, never made anew over its tables") {
  TempDir dir;
  const auto path = wal_only_log(dir);
  static_cast<void>(open_log(path)); // its recovery moves the WAL's events into table files
  std::filesystem::remove(path / "CURRENT");
  for (const auto& entry : std::filesystem::directory_iterator(path))
    if (entry.path().extension() == ".log") std::filesystem::remove(entry.path());
  const auto before = data_files(path);

  auto opened = log::EventLog::open(path, {});
  CHECK(error_code(opened) == Errc::incompatible_format);
  CHECK_MESSAGE(error_message(opened).find("no worldlog log") != std::string::npos,
                error_message(opened));
  CHECK_CONTENTS_UNCHANGED(before, data_files(path));
}

TEST_CASE("a log missing one of its table files is refused, naming it, by writers and readers") {
  TempDir dir;
  const auto path = dir / "log";
  {
    auto log = open_log(path);
    append_n(*log, stream, 50, Actor{.kind = ActorKind::player, .id = 7});
  }
  static_cast<void>(open_log(path)); // its recovery moves the WAL's contents into table files
  const auto actors = table_file_of(path, "actors");
  std::filesystem::remove(actors);

  for (const bool read_only : {false, true}) {
    CAPTURE(read_only);
    auto opened = log::EventLog::open(path, {.create_if_missing = false, .read_only = read_only});
    CHECK(!opened.ok());
    // By its number: RocksDB names the file by the legacy name it looked for last (.ldb).
    CHECK_MESSAGE(error_message(opened).find(actors.stem().string()) != std::string::npos,
                  error_message(opened));
    CHECK_MESSAGE(error_message(opened).find("No such file") != std::string::npos,
                  error_message(opened));
  }
}

TEST_CASE("a byte flipped in an events table file is named by verify, by writers and readers") {
  TempDir dir;
  const auto path = wal_only_log(dir);
  static_cast<void>(open_log(path)); // its recovery moves the WAL's events into table files
  const auto events = table_file_of(path, "events");
  flip_byte(events, std::filesystem::file_size(events) / 2);
  const auto damaged = dir_contents(path).at(events.filename().string());

  for (const bool read_only : {false, true}) {
    CAPTURE(read_only);
    auto opened = log::EventLog::open(path, {.create_if_missing = false, .read_only = read_only});
    // The damage is in a block of the stream's middle: the open reads only its end.
    REQUIRE_OK(opened);
    auto verified = (*opened)->verify(stream);
    CHECK(error_code(verified) == Errc::corruption);
    CHECK_MESSAGE(error_message(verified).find(events.filename().string()) != std::string::npos,
                  error_message(verified));
  }
  // The damaged file is kept as it is, for an operator to look at or restore.
  CHECK(dir_contents(path).at(events.filename().string()) == damaged);
}

TEST_CASE("a byte flipped in the MANIFEST is refused on open, naming it, with every file kept") {
  TempDir dir;
  const auto path = wal_only_log(dir);
  static_cast<void>(open_log(path));
  std::filesystem::path manifest;
  for (const auto& entry : std::filesystem::directory_iterator(path))
    if (entry.path().filename().string().starts_with("MANIFEST-")) manifest = entry.path();
  REQUIRE(!manifest.empty());
  flip_byte(manifest, std::filesystem::file_size(manifest) / 2);
  const auto before = data_files(path);

  for (const bool read_only : {false, true}) {
    CAPTURE(read_only);
    auto opened = log::EventLog::open(path, {.create_if_missing = false, .read_only = read_only});
    CHECK(error_code(opened) == Errc::corruption);
    CHECK_MESSAGE(error_message(opened).find(manifest.filename().string()) != std::string::npos,
                  error_message(opened));
  }
  CHECK_CONTENTS_UNCHANGED(before, data_files(path));
}

} // namespace worldlog::test

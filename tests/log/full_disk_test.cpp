// A log on a file system that fills up: a small tmpfs, and a small ext4 on a loop device, mounted
// for the test (it needs root and the right to mount; elsewhere the test says so and checks
// nothing). Appends fail with a
// storage error, and nothing aborts — neither the commit thread, nor the close, nor an open
// on the full disk; once there is room again the log reopens with every acknowledged event.
#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

/// How a test disk is made.
enum class DiskKind {
  tmpfs, ///< in memory; allocates a page at a time
  ext4,  ///< an image on a loop device; ext4 honours fallocate, and RocksDB preallocates with it
};

/// A small file system at a fresh directory, unmounted at the end: `free_megabytes` free, plus
/// `spare_megabytes` taken by a filler file that make_room() deletes. mounted() is false where
/// this process may not mount (or, for ext4, lacks mkfs.ext4 or loop devices).
class SmallDisk {
public:
  SmallDisk(DiskKind kind, int free_megabytes, int spare_megabytes) : path_(dir_ / "disk") {
    std::filesystem::create_directories(path_);
    if (kind == DiskKind::tmpfs) {
      const std::string size = fmt::format("size={}m", free_megabytes + spare_megabytes);
      if (::mount("worldlog-test", path_.c_str(), "tmpfs", 0, size.c_str()) != 0) {
        why_not_ = std::strerror(errno);
        return;
      }
    } else {
      // ext4 keeps a few MiB for its journal and metadata, and 5% for root.
      const auto image = dir_ / "ext4.img";
      const int image_megabytes = (free_megabytes + spare_megabytes) * 21 / 20 + 8;
      const auto make = fmt::format("truncate -s {}M {} && mkfs.ext4 -q -m 0 {} >/dev/null 2>&1",
                                    image_megabytes, image.string(), image.string());
      const auto mount =
          fmt::format("mount -o loop {} {} 2>/dev/null", image.string(), path_.string());
      if (std::system(make.c_str()) != 0 || std::system(mount.c_str()) != 0) {
        why_not_ = "mkfs.ext4 or mount -o loop failed";
        return;
      }
    }
    mounted_ = true;
    const auto filler =
        fmt::format("fallocate -l {}M {}", spare_megabytes, (path_ / "filler").string());
    if (std::system(filler.c_str()) != 0) throw std::runtime_error("cannot write " + filler);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] const std::string& why_not() const { return why_not_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// Deletes the filler: room again.
  bool make_room() { return std::filesystem::remove(path_ / "filler"); }

private:
  TempDir dir_;
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string why_not_;
};

constexpr StreamId stream = 3;

/// Appends until the disk is full, then checks that the log fails closed, aborts nothing, is
/// refused while the disk is full and reopens with everything acknowledged once there is room.
void fill_and_recover(DiskKind kind) {
  SmallDisk disk(kind, 12, 64);
  if (!disk.mounted()) {
    MESSAGE("skipped: cannot mount a small file system here (" << disk.why_not() << ")");
    return;
  }
  const auto dir = disk.path() / "log";
  const log::Options options{.durability = log::Durability::sync, .min_free_bytes = 1 << 20};
  Seq acknowledged = 0;
  std::vector<std::string> messages;
  {
    log::Options noisy = options;
    noisy.on_storage_message = [&messages](bool error, std::string_view message) {
      if (error) messages.emplace_back(message);
    };
    auto log = open_log(dir, noisy);
    const std::string payload(16 * 1024, 'x');
    std::optional<Error> failed;
    // 12 MiB cannot take 2,000 appends of 16 KiB: the disk fills long before the end.
    for (int i = 0; i < 2000 && !failed; ++i) {
      const std::vector<NewEvent> one = {make_event(1, payload)};
      auto appended = log->append(stream, log::any_seq, one);
      if (appended.ok()) {
        acknowledged = appended->last_seq;
      } else {
        failed = appended.error();
      }
    }
    REQUIRE(failed.has_value());
    CHECK(failed->code() == Errc::io_error);
    CHECK(acknowledged > 0);
    // Refused from now on, with the same error, until reopened.
    const std::vector<NewEvent> one = {make_event(1, "small")};
    CHECK(error_code(log->append(stream, log::any_seq, one)) == Errc::io_error);
    CHECK(log->write_failure().has_value());
    CHECK_FALSE(messages.empty());
  } // the close, on the full disk

  // Still full: the open is refused, with the reason, and nothing is changed.
  auto refused = log::EventLog::open(dir, {.min_free_bytes = 8 << 20});
  CHECK(error_code(refused) == Errc::io_error);
  CHECK_MESSAGE(error_message(refused).find("MiB free") != std::string::npos,
                error_message(refused));

  REQUIRE(disk.make_room());
  auto log = open_log(dir, options);
  CHECK(log->head(stream) >= acknowledged);
  auto verified = log->verify(stream);
  REQUIRE_OK(verified);
  CHECK(*verified == log->head(stream));
}

} // namespace

TEST_CASE("a full tmpfs fails appends with a storage error, aborts nothing, and loses nothing") {
  fill_and_recover(DiskKind::tmpfs);
}

TEST_CASE("a full ext4 disk fails appends with a storage error, aborts nothing, loses nothing") {
  fill_and_recover(DiskKind::ext4);
}

} // namespace worldlog::test

// A log on a file system that fills up: a small tmpfs mounted for the test (it needs root and
// the right to mount; elsewhere the test says so and checks nothing). Appends fail with a
// storage error, and nothing aborts — neither the commit thread, nor the close, nor an open
// on the full disk; once there is room again the log reopens with every acknowledged event.
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

/// A tmpfs of `megabytes` at a fresh directory, unmounted at the end; mounted() is false where
/// this process may not mount.
class SmallDisk {
public:
  explicit SmallDisk(int megabytes) : path_(dir_ / "disk") {
    std::filesystem::create_directories(path_);
    const std::string size = fmt::format("size={}m", megabytes);
    if (::mount("worldlog-test", path_.c_str(), "tmpfs", 0, size.c_str()) == 0) {
      mounted_ = true;
    } else {
      why_not_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] const std::string& why_not() const { return why_not_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// Grows the file system to `megabytes`: room again.
  bool grow(int megabytes) {
    const std::string size = fmt::format("size={}m", megabytes);
    return ::mount("worldlog-test", path_.c_str(), "tmpfs", MS_REMOUNT, size.c_str()) == 0;
  }

private:
  TempDir dir_;
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string why_not_;
};

constexpr StreamId stream = 3;

} // namespace

TEST_CASE("a full disk fails appends with a storage error, aborts nothing, and loses nothing") {
  SmallDisk disk(12);
  if (!disk.mounted()) {
    MESSAGE("skipped: cannot mount a small tmpfs here (" << disk.why_not() << ")");
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

  REQUIRE(disk.grow(64));
  auto log = open_log(dir, options);
  CHECK(log->head(stream) >= acknowledged);
  auto verified = log->verify(stream);
  REQUIRE_OK(verified);
  CHECK(*verified == log->head(stream));
}

} // namespace worldlog::test

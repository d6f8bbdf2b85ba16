// Opens a log with the installed worldlog, appends one event and reads it back.
// Exits 0 when everything matches, 1 (with a message on stderr) otherwise.
#include <stdlib.h> // mkdtemp

#include <filesystem>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

namespace {

int fail(const std::string& what) {
  fmt::print(stderr, "consumer: {}\n", what);
  return 1;
}

int run(const std::filesystem::path& dir) {
  using namespace worldlog::log;
  auto opened = EventLog::open(dir / "log");
  if (!opened.ok()) return fail(fmt::format("open: {}", opened.error()));
  auto& log = *opened.value();

  NewEvent event;
  event.payload_type = 42;
  event.payload = "hello from an installed worldlog";
  event.actor = {ActorKind::player, 7};
  auto appended = log.append(1, 0, {&event, 1});
  if (!appended.ok()) return fail(fmt::format("append: {}", appended.error()));
  if (appended->first_seq != 1 || appended->first_position != 1) {
    return fail(fmt::format("append landed at seq {} position {}", appended->first_seq,
                            appended->first_position));
  }

  auto read = log.read_stream(1, 1, 10);
  if (!read.ok()) return fail(fmt::format("read: {}", read.error()));
  if (read->size() != 1) return fail(fmt::format("read {} events, expected 1", read->size()));
  const Event& stored = read->front();
  if (stored.payload() != event.payload || stored.payload_type() != 42 ||
      stored.actor() != event.actor || stored.seq() != 1) {
    return fail(fmt::format("read back payload '{}' type {} actor {} seq {}", stored.payload(),
                            stored.payload_type(), stored.actor(), stored.seq()));
  }
  auto verified = log.verify(1);
  if (!verified.ok()) return fail(fmt::format("verify: {}", verified.error()));
  fmt::print("consumer: appended and read back '{}'\n", stored.payload());
  return 0;
}

} // namespace

int main() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "worldlog-consumer-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return fail("mkdtemp failed");
  const int status = run(pattern);
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
  return status;
}

// crash_appender <data dir> <stream count> <seed>
//
// Opens the log in <data dir> with Durability::sync and appends small batches to streams
// 1..<stream count>, one thread per stream, forever. Each acknowledged (durable) append is
// written to stdout as one line, unbuffered, before the next append of that stream; see
// crash_protocol.hpp. crash_test.cpp kills it with SIGKILL at a random moment and checks that
// every acknowledged event survived.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "log/crash_protocol.hpp"

namespace {

using namespace worldlog;
using namespace worldlog::test;

std::mutex stdout_mutex; // one whole line at a time on stdout

/// Writes `line` to stdout with write(2): no stdio buffer that SIGKILL could discard.
void say(std::string_view line) {
  std::lock_guard lock(stdout_mutex);
  while (!line.empty()) {
    const auto written = ::write(STDOUT_FILENO, line.data(), line.size());
    if (written < 0) std::_Exit(3); // the test went away
    line.remove_prefix(static_cast<std::size_t>(written));
  }
}

[[noreturn]] void die(const std::string& message) {
  fmt::print(stderr, "crash_appender: {}\n", message);
  std::fflush(stderr);
  std::_Exit(2);
}

void append_forever(log::EventLog& log, log::StreamId stream, std::uint32_t seed) {
  std::mt19937 random(seed);
  log::Seq head = log.head(stream);
  for (;;) {
    const std::size_t count = 1 + random() % 4;
    std::vector<log::NewEvent> events(count);
    for (std::size_t i = 0; i < count; ++i) {
      events[i].payload_type = 1;
      events[i].payload = crash::event_payload(stream, head + 1 + i);
      events[i].actor = {log::ActorKind::service, stream};
      events[i].tick = head + 1 + i;
    }
    auto appended = log.append(stream, head, events);
    if (!appended.ok()) die(fmt::format("append to stream {}: {}", stream, appended.error()));
    const auto& result = appended.value();
    if (result.first_seq != head + 1 || result.last_seq != head + count) {
      die(fmt::format("stream {}: appended seqs {}..{} after head {}", stream, result.first_seq,
                      result.last_seq, head));
    }
    head = result.last_seq;
    say(crash::format_ack(
        {stream, result.first_seq, result.last_seq, result.first_position, result.last_position}));
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) die("usage: crash_appender <data dir> <stream count> <seed>");
  const std::string dir = argv[1];
  const auto stream_count = std::strtoull(argv[2], nullptr, 10);
  const auto seed = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
  if (stream_count == 0) die("stream count must be at least 1");

  auto opened = log::EventLog::open(dir, {.durability = log::Durability::sync});
  if (!opened.ok()) die(fmt::format("open {}: {}", dir, opened.error()));
  auto& log = *opened.value();
  say(fmt::format("{}\n", crash::ready_line));

  std::vector<std::thread> writers;
  for (log::StreamId stream = 1; stream <= stream_count; ++stream) {
    writers.emplace_back(append_forever, std::ref(log), stream,
                         static_cast<std::uint32_t>(seed + stream));
  }
  for (auto& writer : writers)
    writer.join(); // never: the test kills us
  return 0;
}

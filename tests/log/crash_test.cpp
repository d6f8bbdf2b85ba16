// Crash safety: a real child process (crash_appender) appends with Durability::sync and is
// killed with SIGKILL at a random moment, several times over the same directory. After each
// kill the log must hold every acknowledged event, gap-free, with intact hash chains, and
// accept appends where it left off. And a read-only log in this process follows the child's
// log while it appends: the reader beside a running server.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "log/crash_protocol.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

#ifndef CRASH_APPENDER_PATH
#error "CRASH_APPENDER_PATH must name the crash_appender executable"
#endif

namespace worldlog::test {
namespace {

using Clock = std::chrono::steady_clock;
using crash::Ack;

/// How long to wait for the child to open the log or make its first append: only a hang (a
/// bug) takes this long; it is not a measure of speed.
constexpr auto patience = std::chrono::seconds(60);

/// A child process whose stdout is a pipe to us, read line by line.
class Child {
public:
  explicit Child(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec: the parent may have threads.
      ::dup2(fds[1], STDOUT_FILENO); // the duplicate does not inherit O_CLOEXEC
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }

  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// The next complete line (without '\n'), or nullopt at end of file or at `deadline`.
  std::optional<std::string> read_line(Clock::time_point deadline) {
    for (;;) {
      if (const auto end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      if (eof_) return std::nullopt;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd ready{out_, POLLIN, 0};
      const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
      if (polled < 0 && errno == EINTR) continue;
      REQUIRE(polled >= 0);
      if (polled == 0) continue; // the deadline check above ends the wait
      char chunk[4096];
      const auto got = ::read(out_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      REQUIRE(got >= 0);
      if (got == 0) {
        eof_ = true; // a partial last line is dropped: it was never a whole ack
      } else {
        buffer_.append(chunk, static_cast<std::size_t>(got));
      }
    }
  }

  [[nodiscard]] bool at_eof() const { return eof_; }

  void kill() { REQUIRE(::kill(pid_, SIGKILL) == 0); }

  /// Kills the child unless it already ended, then describes how it ended: for reports of a
  /// child that misbehaved, which must not hang the test.
  std::string stop() {
    if (!reaped_) ::kill(pid_, SIGKILL);
    return wait();
  }

  /// Waits for the child to end and describes how it ended. Asserts nothing: it also runs
  /// while a failure is being reported.
  std::string wait() {
    if (reaped_) return status_;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
      if (errno != EINTR) return fmt::format("could not be waited for (errno {})", errno);
    }
    reaped_ = true;
    status_ = WIFSIGNALED(status) ? fmt::format("killed by signal {}", WTERMSIG(status))
                                  : fmt::format("exited with status {}", WEXITSTATUS(status));
    return status_;
  }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  bool eof_ = false;
  std::string buffer_;
  std::string status_; // how the child ended, once reaped
};

/// Runs crash_appender on `dir` until its first ack plus `delay`, kills it with SIGKILL, and
/// returns every ack it wrote before dying.
std::vector<Ack> run_and_kill(const std::filesystem::path& dir, std::size_t streams,
                              std::uint32_t seed, std::chrono::milliseconds delay) {
  Child child({CRASH_APPENDER_PATH, dir.string(), std::to_string(streams), std::to_string(seed)});
  std::vector<Ack> acks;
  const auto take = [&](const std::string& line) {
    const auto ack = crash::parse_ack(line);
    REQUIRE_MESSAGE(ack.has_value(), fmt::format("unexpected line from the child: '{}'", line));
    acks.push_back(*ack);
  };

  // Failure messages are built eagerly, outside doctest's macros: stopping the child has side
  // effects, and doctest may evaluate a message even when the assertion holds.
  const auto ready = child.read_line(Clock::now() + patience);
  if (ready != std::string(crash::ready_line)) {
    const std::string why = fmt::format("the child did not open the log; it {}", child.stop());
    FAIL(why);
  }
  const auto first = child.read_line(Clock::now() + patience);
  if (!first) {
    const std::string why = fmt::format("the child made no append; it {}", child.stop());
    FAIL(why);
  }
  take(*first);

  const auto kill_at = Clock::now() + delay;
  while (auto line = child.read_line(kill_at))
    take(*line);
  if (child.at_eof()) {
    const std::string why = fmt::format("the child stopped by itself; it {}", child.stop());
    FAIL(why);
  }
  child.kill();
  // Lines already in the pipe were acknowledged before the kill.
  while (auto line = child.read_line(Clock::now() + patience))
    take(*line);
  REQUIRE(child.at_eof());
  const std::string ended = child.wait();
  CHECK_MESSAGE(ended == fmt::format("killed by signal {}", SIGKILL), ended);
  return acks;
}

/// Checks the log in `dir` against every ack so far, then appends one event to stream 1.
void check_recovered(const std::filesystem::path& dir, std::size_t stream_count,
                     const std::vector<Ack>& acks) {
  auto log = open_log(dir, log::Options{});

  Position max_acked = 0;
  for (const auto& ack : acks)
    max_acked = std::max(max_acked, ack.last_position);
  const Position last = log->last_position();
  CHECK(last >= max_acked);

  // Positions 1..last, each once, each event the one its stream and seq say.
  const auto all = read_all_events(*log);
  CHECK(positions_of(all) == numbers(1, last));
  for (const auto& event : all) {
    if (event.payload() != crash::event_payload(event.stream(), event.seq())) {
      FAIL_CHECK(fmt::format("position {} holds stream {} seq {} with payload '{}'",
                             event.position(), event.stream(), event.seq(), event.payload()));
    }
  }

  // Every stream gap-free with an intact chain; together they hold every position.
  std::uint64_t events_in_streams = 0;
  std::map<StreamId, std::vector<Event>> by_stream;
  for (const StreamId stream : log->streams()) {
    CAPTURE(stream);
    CHECK((stream >= 1 && stream <= stream_count));
    auto events = read_stream_all(*log, stream);
    CHECK(seqs_of(events) == numbers(1, log->head(stream)));
    auto verified = log->verify(stream);
    CHECK_OK(verified);
    if (verified.ok()) CHECK(*verified == events.size());
    events_in_streams += events.size();
    by_stream[stream] = std::move(events);
  }
  CHECK(events_in_streams == last);

  // Every acknowledged event is there, at the seq and position it was acknowledged with.
  std::size_t missing = 0;
  for (const auto& ack : acks) {
    const auto& events = by_stream[ack.stream];
    for (Seq seq = ack.first_seq; seq <= ack.last_seq; ++seq) {
      const Position position = ack.first_position + (seq - ack.first_seq);
      if (seq > events.size() || events[seq - 1].position() != position ||
          events[seq - 1].payload() != crash::event_payload(ack.stream, seq)) {
        if (++missing <= 10) {
          FAIL_CHECK(fmt::format("acknowledged stream {} seq {} at position {} is {}", ack.stream,
                                 seq, position, seq > events.size() ? "missing" : "different"));
        }
      }
    }
  }
  CHECK(missing == 0);

  // The actor index (written behind the commit, without a sync) holds each stream's events:
  // the child's actor for stream s is service:s.
  for (const auto& entry : by_stream) {
    const StreamId stream = entry.first; // a plain variable: clang 14 cannot capture bindings
    CAPTURE(stream);
    auto by_actor = log->read_actor({ActorKind::service, stream}, 1, everything);
    CHECK_OK(by_actor);
    if (by_actor.ok()) CHECK(positions_of(*by_actor) == positions_of(entry.second));
  }

  // The log continues where it stopped.
  const Seq head = log->head(1);
  NewEvent next = make_event(1, crash::event_payload(1, head + 1), {ActorKind::service, 1});
  next.tick = head + 1;
  const AppendResult appended = append_one(*log, 1, head, next);
  CHECK(appended.first_seq == head + 1);
  CHECK(appended.first_position == last + 1);
  auto verified = log->verify(1);
  REQUIRE_OK(verified);
  CHECK(*verified == head + 1);
}

/// Checks what a reader sees of a log that crash_appender keeps writing: everything gap-free
/// and verified, every ack taken before its last refresh included.
void check_reader(const EventLog& reader, std::size_t stream_count, const std::vector<Ack>& acks) {
  Position max_acked = 0;
  for (const auto& ack : acks)
    max_acked = std::max(max_acked, ack.last_position);
  const Position last = reader.last_position();
  CHECK(last >= max_acked);

  const auto all = read_all_events(reader);
  CHECK(positions_of(all) == numbers(1, last));
  std::map<StreamId, std::vector<std::uint64_t>> positions_by_stream;
  for (const auto& event : all) {
    positions_by_stream[event.stream()].push_back(event.position());
    if (event.payload() != crash::event_payload(event.stream(), event.seq())) {
      FAIL_CHECK(fmt::format("position {} holds stream {} seq {} with payload '{}'",
                             event.position(), event.stream(), event.seq(), event.payload()));
    }
  }
  for (const StreamId stream : reader.streams()) {
    CAPTURE(stream);
    CHECK((stream >= 1 && stream <= stream_count));
    CHECK(seqs_of(read_stream_all(reader, stream)) == numbers(1, reader.head(stream)));
    auto verified = reader.verify(stream);
    CHECK_OK(verified);
    if (verified.ok()) CHECK(*verified == reader.head(stream));
    // The writer's index, as far as its indexer got, and the reader's scan past it.
    auto by_actor = reader.read_actor({ActorKind::service, stream}, 1, everything);
    CHECK_OK(by_actor);
    if (by_actor.ok()) CHECK(positions_of(*by_actor) == positions_by_stream[stream]);
  }
  for (const auto& ack : acks) {
    CAPTURE(ack.stream);
    CAPTURE(ack.last_seq);
    CHECK(reader.head(ack.stream) >= ack.last_seq);
  }
}

/// The position of the last event the child has acknowledged as durable.
Position last_acked(const std::vector<Ack>& acks) {
  Position last = 0;
  for (const auto& ack : acks)
    last = std::max<Position>(last, ack.last_position);
  return last;
}

TEST_SUITE_BEGIN("log/crash");

TEST_CASE("a reader in another process follows a log that is being appended to") {
  constexpr std::size_t streams = 3;
  constexpr std::size_t acks_per_round = 30;
  TempDir dir;
  const auto log_dir = dir / "log";
  Child child({CRASH_APPENDER_PATH, log_dir.string(), std::to_string(streams), "17"});
  std::vector<Ack> acks;
  const auto take_acks = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const auto line = child.read_line(Clock::now() + patience);
      if (!line) {
        const std::string why = fmt::format("the child stopped appending; it {}", child.stop());
        FAIL(why);
      }
      if (*line == crash::ready_line) continue;
      const auto ack = crash::parse_ack(*line);
      REQUIRE_MESSAGE(ack.has_value(), fmt::format("unexpected line from the child: '{}'", *line));
      acks.push_back(*ack);
    }
  };

  take_acks(acks_per_round);
  auto reader = open_log(log_dir, log::Options{.read_only = true});
  check_reader(*reader, streams, acks);
  for (int round = 1; round <= 4; ++round) {
    CAPTURE(round);
    // The child runs ahead of the acks read so far, so the reader may already hold the next
    // ones: a round goes on reading until an ack names an event past the reader's position.
    const Position before = reader->last_position();
    take_acks(acks_per_round);
    while (last_acked(acks) <= before)
      take_acks(1);
    REQUIRE_OK(reader->refresh());
    CHECK(reader->last_position() >= last_acked(acks));
    check_reader(*reader, streams, acks);
  }
  child.kill();
  const std::string ended = child.wait();
  CHECK_MESSAGE(ended == fmt::format("killed by signal {}", SIGKILL), ended);
  REQUIRE_OK(reader->refresh());
  check_reader(*reader, streams, acks);
}

TEST_CASE("every acknowledged append survives SIGKILL of the appending process") {
  constexpr std::size_t rounds = 5;
  constexpr std::size_t streams = 3;
  const std::uint32_t seed = std::random_device{}();
  INFO("seed ", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(50, 400);

  TempDir dir;
  const auto log_dir = dir / "log";
  std::vector<Ack> acks; // over all rounds: later rounds must not lose earlier ones
  for (std::size_t round = 1; round <= rounds; ++round) {
    CAPTURE(round);
    const auto delay = std::chrono::milliseconds(delay_ms(random));
    const auto round_acks =
        run_and_kill(log_dir, streams, static_cast<std::uint32_t>(random()), delay);
    MESSAGE(fmt::format("round {}: killed {} ms after the first ack, {} acks", round, delay.count(),
                        round_acks.size()));
    acks.insert(acks.end(), round_acks.begin(), round_acks.end());
    check_recovered(log_dir, streams, acks);
  }
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// Tiny helpers so that event log tests read like scripts:
//
//   auto log = open_log(dir / "log");
//   append_n(*log, 7, 3);
//   CHECK(seqs_of(read_stream_all(*log, 7)) == numbers(1, 3));
//
// The helpers assert with doctest, so call them from the test's own thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/status.hpp>

namespace worldlog::test {

[[nodiscard]] inline std::string error_text(const Status& status) {
  return status.ok() ? std::string("ok") : status.error().to_string();
}

template <typename T> [[nodiscard]] std::string error_text(const Result<T>& result) {
  return result.ok() ? std::string("ok") : result.error().to_string();
}

/// The error code of a failed Result or Status; nullopt when it succeeded, which then fails
/// the comparison it is used in: `CHECK(error_code(appended) == Errc::conflict)`.
template <typename R> [[nodiscard]] std::optional<Errc> error_code(const R& result) {
  if (result.ok()) return std::nullopt;
  return result.error().code();
}

/// The error message of a failed Result or Status; a placeholder when it succeeded.
template <typename R> [[nodiscard]] std::string error_message(const R& result) {
  return result.ok() ? std::string("(no error: the call succeeded)") : result.error().message();
}

} // namespace worldlog::test

/// REQUIRE that a Result or Status (an lvalue) is ok, printing its error otherwise.
#define REQUIRE_OK(result) REQUIRE_MESSAGE((result).ok(), ::worldlog::test::error_text(result))
/// CHECK that a Result or Status (an lvalue) is ok, printing its error otherwise.
#define CHECK_OK(result) CHECK_MESSAGE((result).ok(), ::worldlog::test::error_text(result))

namespace doctest {
template <> struct StringMaker<worldlog::Errc> {
  static String convert(worldlog::Errc code) {
    return String(fmt::format("Errc::{}", code).c_str());
  }
};
template <> struct StringMaker<std::optional<worldlog::Errc>> {
  static String convert(const std::optional<worldlog::Errc>& code) {
    return code ? StringMaker<worldlog::Errc>::convert(*code) : String("ok (no error)");
  }
};
template <> struct StringMaker<worldlog::log::Actor> {
  static String convert(const worldlog::log::Actor& actor) {
    return String(fmt::format("{}", actor).c_str());
  }
};
template <> struct StringMaker<std::vector<std::uint64_t>> {
  static String convert(const std::vector<std::uint64_t>& values) {
    return String(fmt::format("{{{}}}", fmt::join(values, ", ")).c_str());
  }
};
template <> struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& values) {
    return String(fmt::format("{{\"{}\"}}", fmt::join(values, "\", \"")).c_str());
  }
};
} // namespace doctest

namespace worldlog::test {

using log::Actor;
using log::ActorKind;
using log::AppendResult;
using log::Event;
using log::EventLog;
using log::NewEvent;
using log::Position;
using log::Seq;
using log::StreamId;

/// A read limit larger than anything a test writes.
inline constexpr std::size_t everything = std::size_t{1} << 20;

/// Options for tests that are not about durability: the WAL is written without fsync, which
/// still survives a process crash and keeps the suite fast on a shared machine.
[[nodiscard]] inline log::Options fast_options() {
  return {.durability = log::Durability::buffered};
}

[[nodiscard]] inline std::unique_ptr<EventLog>
open_log(const std::filesystem::path& dir, const log::Options& options = fast_options()) {
  auto opened = EventLog::open(dir, options);
  REQUIRE_MESSAGE(opened.ok(), fmt::format("open {}: {}", dir.string(), error_text(opened)));
  return std::move(opened).value();
}

[[nodiscard]] inline NewEvent make_event(std::uint32_t payload_type, std::string payload,
                                         Actor actor = {}, std::int64_t wall_time_us = 0) {
  NewEvent event;
  event.payload_type = payload_type;
  event.payload = std::move(payload);
  event.actor = actor;
  event.wall_time_us = wall_time_us;
  return event;
}

/// The payload the helpers give event `seq` of `stream`, so a reader can tell which one it got.
[[nodiscard]] inline std::string payload_for(StreamId stream, Seq seq) {
  return fmt::format("stream {} seq {}", stream, seq);
}

/// Appends `events` and requires success.
inline AppendResult append_events(EventLog& log, StreamId stream, Seq expected_seq,
                                  const std::vector<NewEvent>& events) {
  auto appended = log.append(stream, expected_seq, events);
  REQUIRE_MESSAGE(appended.ok(), fmt::format("append to stream {} expecting seq {}: {}", stream,
                                             expected_seq, error_text(appended)));
  return appended.value();
}

inline AppendResult append_one(EventLog& log, StreamId stream, Seq expected_seq, NewEvent event) {
  return append_events(log, stream, expected_seq, {std::move(event)});
}

/// Appends `n` events to `stream`, one append each, expecting the current head; event `seq`
/// gets payload_for(stream, seq) and tick `seq`.
inline std::vector<AppendResult> append_n(EventLog& log, StreamId stream, std::size_t n,
                                          Actor actor = {}) {
  std::vector<AppendResult> results;
  for (std::size_t i = 0; i < n; ++i) {
    const Seq head = log.head(stream);
    NewEvent event = make_event(1, payload_for(stream, head + 1), actor);
    event.tick = head + 1;
    results.push_back(append_one(log, stream, head, std::move(event)));
  }
  return results;
}

[[nodiscard]] inline std::vector<Event> read_stream_all(const EventLog& log, StreamId stream) {
  auto read = log.read_stream(stream, 1, everything);
  REQUIRE_MESSAGE(read.ok(), fmt::format("read stream {}: {}", stream, error_text(read)));
  return std::move(read).value();
}

[[nodiscard]] inline std::vector<Event> read_all_events(const EventLog& log, Position from = 1) {
  auto read = log.read_all(from, everything);
  REQUIRE_MESSAGE(read.ok(), fmt::format("read all from {}: {}", from, error_text(read)));
  return std::move(read).value();
}

[[nodiscard]] inline std::vector<std::uint64_t> seqs_of(const std::vector<Event>& events) {
  std::vector<std::uint64_t> seqs;
  for (const auto& event : events)
    seqs.push_back(event.seq());
  return seqs;
}

[[nodiscard]] inline std::vector<std::uint64_t> positions_of(const std::vector<Event>& events) {
  std::vector<std::uint64_t> positions;
  for (const auto& event : events)
    positions.push_back(event.position());
  return positions;
}

[[nodiscard]] inline std::vector<std::string> payloads_of(const std::vector<Event>& events) {
  std::vector<std::string> payloads;
  for (const auto& event : events)
    payloads.emplace_back(event.payload());
  return payloads;
}

/// first, first + 1, ..., last (empty when last < first).
[[nodiscard]] inline std::vector<std::uint64_t> numbers(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> values;
  for (std::uint64_t value = first; value <= last; ++value)
    values.push_back(value);
  return values;
}

} // namespace worldlog::test

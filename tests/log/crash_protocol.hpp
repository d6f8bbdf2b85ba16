// What crash_appender (crash_child.cpp) tells crash_test.cpp through its stdout pipe.
//
//   ready                                                  the log is open
//   ack <stream> <first_seq> <last_seq> <first_position> <last_position>
//                                                          an append is durable
//
// Event `seq` of stream `s` carries the payload event_payload(s, seq), so the test can check
// that what it finds after a crash is what was acknowledged.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace worldlog::test::crash {

inline constexpr std::string_view ready_line = "ready";

struct Ack {
  std::uint64_t stream = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
};

[[nodiscard]] inline std::string format_ack(const Ack& ack) {
  return fmt::format("ack {} {} {} {} {}\n", ack.stream, ack.first_seq, ack.last_seq,
                     ack.first_position, ack.last_position);
}

/// The ack a line reports, or nullopt if it is not an ack line.
[[nodiscard]] inline std::optional<Ack> parse_ack(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  Ack ack;
  if (!(in >> word) || word != "ack") return std::nullopt;
  if (!(in >> ack.stream >> ack.first_seq >> ack.last_seq >> ack.first_position >>
        ack.last_position)) {
    return std::nullopt;
  }
  return ack;
}

[[nodiscard]] inline std::string event_payload(std::uint64_t stream, std::uint64_t seq) {
  // Padded so that records are not all tiny; the pad depends only on (stream, seq).
  return fmt::format("crash stream {} seq {} ", stream, seq) +
         std::string(static_cast<std::size_t>((stream * 31 + seq * 7) % 200), '.');
}

} // namespace worldlog::test::crash

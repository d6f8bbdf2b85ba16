// `worldlog verify`: recompute every stream's hash chain (or one stream's) from seq 1.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

struct VerifyOptions {
  std::string data;
  std::optional<log::StreamId> stream;
};

void run_verify(const VerifyOptions& options) {
  const auto log = open_existing_log(options.data);
  std::vector<log::StreamId> streams;
  if (options.stream) {
    if (log->head(*options.stream) == 0) {
      fail(fmt::format("stream {} has no events in {}", *options.stream, options.data));
    }
    streams.push_back(*options.stream);
  } else {
    streams = log->streams();
  }

  std::uint64_t total = 0;
  for (const log::StreamId stream : streams) {
    const auto checked = log->verify(stream);
    // The engine's corruption errors name the stream and the first bad seq.
    if (!checked) fail(fmt::format("verify failed: {}", checked.error()));
    fmt::print("stream {}: {} events ok\n", stream, *checked);
    total += *checked;
  }

  // A chain that is intact can still be cut short: its newest records gone, with nothing in
  // the chain to show it. What the log keeps beside the records shows how far each stream got.
  auto tails = log->find_lost_tails();
  if (!tails) fail(fmt::format("verify failed: {}", tails.error()));
  std::vector<std::string> cut;
  for (const auto& tail : *tails) {
    if (options.stream && tail.stream != options.stream) continue;
    cut.push_back(
        tail.stream
            ? fmt::format(
                  "stream {} ends at seq {}, but {} names seq {}: its events {}..{} are lost",
                  *tail.stream, tail.head, tail.evidence, tail.reached, tail.head + 1, tail.reached)
            : fmt::format("the log ends at position {}, but {} names position {}: the events up "
                          "to it are lost",
                          tail.head, tail.evidence, tail.reached));
  }
  if (cut.size() == 1) fail(fmt::format("verify failed: {}", cut.front()));
  if (!cut.empty()) {
    for (const auto& each : cut)
      fmt::print(stderr, "worldlog: {}\n", each);
    fail(fmt::format("verify failed: {} streams end before what the log says they reached",
                     cut.size()));
  }
  fmt::print("{} stream{}, {} events: all chains ok\n", streams.size(),
             streams.size() == 1 ? "" : "s", total);
}

} // namespace

void add_verify_command(CLI::App& app) {
  auto options = std::make_shared<VerifyOptions>();
  auto* command = app.add_subcommand(
      "verify",
      "Verify hash chains, seqs and positions of every stream (or one), and that none was "
      "cut short; exit 1 if bad");
  command->add_option("--data", options->data, "Directory of the log")->required();
  command->add_option("--stream", options->stream, "Only this stream");
  command->callback([options] { run_verify(*options); });
}

} // namespace worldlog::tools

// `worldlog events`: print the log, or one stream of it, as lines or as one JSON document.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/export.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

struct EventsOptions {
  std::string data;
  std::optional<log::StreamId> stream;
  std::uint64_t from = 1;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  bool json = false;
};

void print_line(const log::EventView& event) {
  fmt::print("{:>10}  stream {:<6} seq {:<8} {}  {:<14} cmd {:<10} type {:<4} {:>6} B  {}\n",
             event.position(), event.stream(), event.seq(),
             replay::format_wall_time(event.wall_time_us()), fmt::format("{}", event.actor()),
             event.command_id(), event.payload_type(), event.payload().size(),
             log::to_hex(event.hash()).substr(0, 8));
}

/// Every envelope field; hashes and payload in hex, so the document is plain JSON.
boost::json::object to_json(const log::EventView& event) {
  const log::Actor actor = event.actor();
  boost::json::object object;
  object["position"] = event.position();
  object["stream"] = event.stream();
  object["seq"] = event.seq();
  object["tick"] = event.tick();
  object["wall_time_us"] = event.wall_time_us();
  object["wall_time"] = replay::format_wall_time(event.wall_time_us());
  object["actor"] = {{"kind", fmt::format("{}", actor.kind)}, {"id", actor.id}};
  object["command_id"] = event.command_id();
  object["causation"] = event.causation();
  object["rules_version"] = event.rules_version();
  object["schema_version"] = event.schema_version();
  object["prev_hash"] = log::to_hex(event.prev_hash());
  object["hash"] = log::to_hex(event.hash());
  object["payload_type"] = event.payload_type();
  object["payload_size"] = event.payload().size();
  object["payload"] = log::to_hex(event.payload());
  return object;
}

void run_events(const EventsOptions& options) {
  const auto log = open_existing_log(options.data);
  if (options.stream && log->head(*options.stream) == 0) {
    fail(fmt::format("stream {} has no events in {}", *options.stream, options.data));
  }

  // The document is streamed one object at a time, so a large log never sits in memory.
  bool first = true;
  const log::EventVisitor visit = [&](const log::EventView& event) {
    if (options.json) {
      fmt::print("{}\n  {}", first ? "[" : ",", boost::json::serialize(to_json(event)));
    } else {
      print_line(event);
    }
    first = false;
    return true;
  };
  const Status status = options.stream
                            ? log->scan_stream(*options.stream, options.from, options.limit, visit)
                            : log->scan_all(options.from, options.limit, visit);
  if (options.json) fmt::print("{}\n", first ? "[]" : "\n]");
  std::fflush(stdout);
  if (!status) fail(fmt::format("reading the log failed: {}", status.error()));
}

} // namespace

void add_events_command(CLI::App& app) {
  auto options = std::make_shared<EventsOptions>();
  auto* command = app.add_subcommand(
      "events", "Print events: the whole log in position order, or one stream in seq order");
  command->add_option("--data", options->data, "Directory of the log")->required();
  command->add_option("--stream", options->stream, "Only this stream, in seq order");
  command
      ->add_option("--from", options->from, "First position (whole log) or seq (--stream) to print")
      ->capture_default_str();
  command->add_option("--limit", options->limit, "Print at most N events (default: all)");
  command->add_flag("--json", options->json,
                    "One JSON array of objects with every envelope field (hex hashes, payload)");
  command->callback([options] { run_events(*options); });
}

} // namespace worldlog::tools

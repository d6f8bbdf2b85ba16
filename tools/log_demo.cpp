// `worldlog demo`: a few thousand game events through the event log, read back and verified.
//
// Each stream is a zone with its own thread, as a zone actor would be: the thread is the only
// writer of its stream, so it knows the stream's seq and every append carries it as the
// expected seq. Players and mobs issue commands; a command's events (one to three) go into one
// atomic append. The payloads are small hand-rolled binary structs standing in for the
// reference game model's FlatBuffers, which the log never looks into anyway.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "commands.hpp"

namespace worldlog::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct DemoOptions {
  std::string data = "./worldlog-data";
  std::uint64_t events = 5000;
  unsigned streams = 8;
};

/// Payload types of the demo's pretend game.
enum PayloadType : std::uint32_t {
  moved = 1,        ///< entity u64, x y z i32 (millimetres)
  attacked = 2,     ///< target u64, damage u32, roll u32
  mob_died = 3,     ///< mob u64, killer u64
  item_dropped = 4, ///< item u32, count u16, x y z i32
  item_picked = 5,  ///< item u32, count u16
  chat = 6,         ///< channel u8, text
  mob_spawned = 7,  ///< mob u64, template u32, x y z i32
};

constexpr std::uint32_t rules_version = 1;
constexpr std::uint64_t first_mob_id = 100'000;

/// Big-endian fields appended to a payload, so the bytes are the same on every machine.
class PayloadWriter {
public:
  PayloadWriter& u8(std::uint8_t value) { return put(value, 1); }
  PayloadWriter& u16(std::uint16_t value) { return put(value, 2); }
  PayloadWriter& u32(std::uint32_t value) { return put(value, 4); }
  PayloadWriter& i32(std::int32_t value) { return put(static_cast<std::uint32_t>(value), 4); }
  PayloadWriter& u64(std::uint64_t value) { return put(value, 8); }
  PayloadWriter& text(std::string_view value) {
    bytes_.append(value);
    return *this;
  }
  [[nodiscard]] std::string take() { return std::move(bytes_); }

private:
  PayloadWriter& put(std::uint64_t value, int size) {
    for (int i = size - 1; i >= 0; --i)
      bytes_.push_back(static_cast<char>(value >> (8 * i)));
    return *this;
  }
  std::string bytes_;
};

/// One zone's pretend game: turns dice rolls into the events of one command.
class ZoneScript {
public:
  /// `last_tick`: the tick of the zone's newest event, so a second run continues the clock.
  ZoneScript(log::StreamId zone, std::uint64_t last_tick, std::uint64_t seed)
      : zone_(zone), rng_(seed), tick_(last_tick) {}

  /// The events of the next command, at most `max_events` (>= 1) of them.
  std::vector<log::NewEvent> next_command(std::size_t max_events) {
    ++tick_;
    std::vector<log::NewEvent> events;
    const auto roll = pick(100);
    if (roll < 45) {
      const log::Actor player = random_player();
      events.push_back(make(moved, player, position_payload(player.id)));
    } else if (roll < 65) {
      const log::Actor mob = random_mob();
      events.push_back(make(moved, mob, position_payload(mob.id)));
    } else if (roll < 85) {
      const log::Actor player = random_player();
      const std::uint64_t target = random_mob().id;
      events.push_back(
          make(attacked, player,
               PayloadWriter().u64(target).u32(pick(40) + 1).u32(pick(20) + 1).take()));
      if (max_events >= 3 && pick(4) == 0) {
        events.push_back(make(mob_died, player, PayloadWriter().u64(target).u64(player.id).take()));
        events.push_back(make(item_dropped, player,
                              PayloadWriter()
                                  .u32(pick(500))
                                  .u16(1)
                                  .i32(coordinate())
                                  .i32(0)
                                  .i32(coordinate())
                                  .take()));
      }
    } else if (roll < 93) {
      const log::Actor player = random_player();
      events.push_back(make(chat, player, PayloadWriter().u8(0).text(random_phrase()).take()));
    } else if (roll < 97) {
      const log::Actor player = random_player();
      events.push_back(
          make(item_picked, player, PayloadWriter().u32(pick(500)).u16(pick(3) + 1).take()));
    } else {
      const log::Actor system{log::ActorKind::system, 0};
      events.push_back(make(mob_spawned, system,
                            PayloadWriter()
                                .u64(random_mob().id)
                                .u32(pick(12))
                                .i32(coordinate())
                                .i32(0)
                                .i32(coordinate())
                                .take()));
    }
    return events;
  }

private:
  std::uint32_t pick(std::uint32_t bound) {
    return static_cast<std::uint32_t>(
        std::uniform_int_distribution<std::uint32_t>(0, bound - 1)(rng_));
  }
  std::int32_t coordinate() { return static_cast<std::int32_t>(pick(200'000)) - 100'000; }
  log::Actor random_player() { return {log::ActorKind::player, zone_ * 100 + pick(40) + 1}; }
  log::Actor random_mob() { return {log::ActorKind::mob, first_mob_id + zone_ * 100 + pick(25)}; }
  std::string_view random_phrase() {
    static constexpr std::array<std::string_view, 6> phrases = {
        "lfg dungeon", "wts iron sword 40g",  "anyone seen the wolf king?", "brb",
        "gg",          "thanks for the heal!"};
    return phrases[pick(phrases.size())];
  }
  std::string position_payload(std::uint64_t entity) {
    return PayloadWriter().u64(entity).i32(coordinate()).i32(0).i32(coordinate()).take();
  }

  log::NewEvent make(PayloadType type, log::Actor actor, std::string payload) {
    log::NewEvent event;
    event.payload_type = type;
    event.payload = std::move(payload);
    event.actor = actor;
    event.tick = tick_;
    // A client-chosen command id for players; mobs and the system act on their own.
    event.command_id = actor.kind == log::ActorKind::player ? zone_ * 1'000'000'000 + tick_ : 0;
    event.rules_version = rules_version;
    return event; // wall_time_us stays 0: the log stamps it at commit
  }

  log::StreamId zone_;
  std::mt19937_64 rng_;
  std::uint64_t tick_ = 0;
};

struct ZoneOutcome {
  std::uint64_t events = 0;
  std::uint64_t appends = 0;
  std::optional<Error> error;
};

/// Appends `events` events to `zone`, one command at a time, continuing from its head.
ZoneOutcome play_zone(log::EventLog& log, log::StreamId zone, std::uint64_t events) {
  ZoneOutcome outcome;
  const auto newest = log.read_stream_backward(zone, log::end_seq, 1);
  if (!newest) {
    outcome.error = newest.error();
    return outcome;
  }
  const std::uint64_t last_tick = newest->empty() ? 0 : newest->front().tick();
  log::Seq seq = newest->empty() ? 0 : newest->front().seq();
  ZoneScript script(zone, last_tick, std::random_device{}());
  while (outcome.events < events) {
    const auto command = script.next_command(events - outcome.events);
    const auto appended = log.append(zone, seq, command);
    if (!appended) {
      outcome.error = appended.error();
      break;
    }
    seq = appended->last_seq;
    outcome.events += command.size();
    ++outcome.appends;
  }
  return outcome;
}

/// Reads the whole log back in position order, in pages, checking positions have no gaps.
std::uint64_t read_back(const log::EventLog& log) {
  constexpr std::size_t page = 4096;
  std::uint64_t count = 0;
  log::Position next = 1;
  for (;;) {
    const auto events = log.read_all(next, page);
    if (!events) fail(fmt::format("read_all from position {} failed: {}", next, events.error()));
    for (const auto& event : *events) {
      if (event.position() != next) {
        fail(fmt::format("read_all returned position {} where {} was expected", event.position(),
                         next));
      }
      ++next;
      ++count;
    }
    if (events->size() < page) return count;
  }
}

void run_demo(const DemoOptions& options) {
  auto opened = log::EventLog::open(options.data, {.create_if_missing = true});
  if (!opened) fail(fmt::format("cannot open the log at {}: {}", options.data, opened.error()));
  const std::unique_ptr<log::EventLog> log = std::move(opened).value();
  const log::Position position_before = log->last_position();

  std::vector<ZoneOutcome> outcomes(options.streams);
  const auto start = Clock::now();
  {
    std::vector<std::thread> zones;
    for (unsigned z = 0; z < options.streams; ++z) {
      const std::uint64_t share =
          options.events / options.streams + (z < options.events % options.streams ? 1 : 0);
      zones.emplace_back([&, z, share] { outcomes[z] = play_zone(*log, z + 1, share); });
    }
    for (auto& zone : zones)
      zone.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::uint64_t appended = 0;
  std::uint64_t appends = 0;
  for (unsigned z = 0; z < options.streams; ++z) {
    if (outcomes[z].error)
      fail(fmt::format("append to stream {} failed: {}", z + 1, *outcomes[z].error));
    appended += outcomes[z].events;
    appends += outcomes[z].appends;
  }

  const auto read_start = Clock::now();
  const std::uint64_t read = read_back(*log);
  const double read_seconds = std::chrono::duration<double>(Clock::now() - read_start).count();
  const log::Position last = log->last_position();
  if (read != last) fail(fmt::format("read_all returned {} events, the log holds {}", read, last));

  const std::vector<log::StreamId> streams = log->streams();
  std::uint64_t verified = 0;
  for (const log::StreamId stream : streams) {
    const auto checked = log->verify(stream);
    if (!checked) fail(fmt::format("verify failed: {}", checked.error()));
    verified += *checked;
  }

  std::error_code ec;
  const fs::path data = fs::absolute(options.data, ec);
  fmt::print("worldlog demo\n");
  fmt::print("  events appended  {} in {} atomic appends from {} zone threads (Durability::sync)\n",
             appended, appends, options.streams);
  fmt::print("  append rate      {:.0f} events/s ({:.3f} s)\n",
             seconds > 0 ? static_cast<double>(appended) / seconds : 0.0, seconds);
  fmt::print("  positions        {}..{} this run, last position {}\n", position_before + 1, last,
             last);
  fmt::print("  read back        {} events in position order (read_all) in {:.3f} s\n", read,
             read_seconds);
  fmt::print("  streams          {}\n", streams.size());
  for (std::size_t i = 0; i < streams.size(); i += 8) {
    std::string row;
    for (std::size_t j = i; j < std::min(streams.size(), i + 8); ++j) {
      row += fmt::format("{:<12}", fmt::format("{}:{}", streams[j], log->head(streams[j])));
    }
    fmt::print("  {:<16} {}\n", i == 0 ? "stream heads" : "",
               row.substr(0, row.find_last_not_of(' ') + 1));
  }
  fmt::print("  chains verified  {} streams, {} events OK\n", streams.size(), verified);
  fmt::print("  data dir         {}\n", ec ? options.data : data.lexically_normal().string());
}

} // namespace

void add_demo_command(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  auto* command = app.add_subcommand(
      "demo", "Append game events across zones from several threads, read back, verify");
  command->add_option("--data", options->data, "Directory of the log (created if missing)")
      ->capture_default_str();
  command->add_option("--events", options->events, "Events to append")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
      ->capture_default_str();
  command->add_option("--streams", options->streams, "Streams (zones), one thread each")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command->callback([options] { run_demo(*options); });
}

} // namespace worldlog::tools

// Writes seed inputs for the fuzz targets into two directories: well-formed records (a
// genesis at seq 1, then one event of each kind the reference game writes) for fuzz_record,
// and framed Hello and Command messages for fuzz_frame. Without them libFuzzer spends its
// minute failing the first identifier check.
//
//   fuzz_seeds RECORD_DIR FRAME_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <worldlog/game/commands.hpp>
#include <worldlog/game/model.hpp>
#include <worldlog/net/frame.hpp>
#include <worldlog/net/protocol.hpp>
#include <worldlog/zone/records.hpp>

#include "log/format.hpp"

namespace {

namespace fs = std::filesystem;
using namespace worldlog;

void write(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seeds RECORD_DIR FRAME_DIR\n");
    return 2;
  }
  const fs::path records = argv[1];
  const fs::path frames = argv[2];
  fs::create_directories(records);
  fs::create_directories(frames);

  const zone::ZoneInfo info{.zone = 1, .zone_count = 2, .seed = 7};
  const auto event_of = [](std::uint32_t payload_type, std::string payload) {
    log::NewEvent event;
    event.payload_type = payload_type;
    event.payload = std::move(payload);
    event.rules_version = game::Model::rules_version;
    return event;
  };
  std::vector<log::NewEvent> events;
  events.push_back(event_of(
      zone::genesis_payload_type,
      zone::encode_genesis({std::string(game::Model::name), game::Model::rules_version, info})));
  const game::Point at{1000, 2000};
  const game::Event samples[] = {
      game::Joined{7, at, 1},
      game::Moved{7, {1500, 2000}, 2},
      game::Attacked{7, 100, 12, 3},
      game::Said{7, "hello"},
      game::PickedUp{7, 5, game::ItemKind::potion},
      game::Left{7},
  };
  for (const auto& sample : samples) {
    const auto encoded = game::Model::encode(sample);
    events.push_back(event_of(encoded.payload_type, encoded.payload));
  }
  // Both envelope formats: a log may hold either.
  for (const std::uint16_t envelope : {log::format::envelope_v1, log::format::envelope_v2}) {
    log::Hash prev{};
    for (std::size_t i = 0; i < events.size(); ++i) {
      log::NewEvent event = events[i];
      event.envelope = envelope;
      std::string record = log::format::encode(1, event);
      prev = log::format::seal(record, i + 1, i + 1, 1'700'000'000'000'000, prev);
      write(records / fmt::format("record-v{}-{}", envelope, i + 1), record);
    }
  }

  write(frames / "hello", net::frame(net::encode(net::Hello{7, std::vector<std::uint8_t>(32, 1)})));
  write(frames / "command",
        net::frame(net::encode(net::Command{1, game::Model::encode_command(game::move(7, at))})) +
            net::frame(
                net::encode(net::Command{2, game::Model::encode_command(game::say(7, "hi"))})));
  return 0;
}

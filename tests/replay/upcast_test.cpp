// Versioned event payloads: an event stored at an older schema version (the reference game's
// Died version 1, which carried the killer's xp) reads everywhere as the events the current
// code understands (Died version 2 and XpGained), folds to the state it always folded to, and a
// snapshot taken under other event versions is refolded, never trusted; verify names where the
// upcast changed the meaning.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include <worldlog/game/model.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/replay/verify.hpp>
#include <worldlog/schema/game_generated.h>
#include <worldlog/zone/describe.hpp>
#include <worldlog/zone/fold.hpp>

#include "replay/game_log.hpp"
#include "support/log_helpers.hpp"

namespace worldlog::test {
namespace {

constexpr zone::ZoneId zone_1 = 1;
constexpr game::EntityId hero = 7;
constexpr std::uint64_t wolf_xp = 25;

/// A Died as version 1 wrote it: {entity, killer, xp, tick}.
std::string died_v1(game::EntityId entity, game::EntityId killer, std::uint64_t xp,
                    std::uint64_t tick) {
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(game::schema::CreateDied(builder, entity, killer, xp, tick));
  return {reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()};
}

/// A zone with a hero and a wolf, then the wolf's death by the hero: stored as a build before
/// versioned events wrote it (`old_log`: one Died version 1 carrying the xp) or as the current
/// build writes it (Died version 2, then XpGained).
struct Killing {
  explicit Killing(bool old_log) {
    world.append(zone_1, game::Joined{hero, world.spawn(zone_1), 0});
    world.append(zone_1, game::MobSpawned{wolf, game::MobKind::wolf, 0, world.spawn(zone_1)});
    if (old_log) {
      died = world.append_raw(zone_1, game::Died::type, died_v1(wolf, hero, wolf_xp, 3));
    } else {
      died = world.append(zone_1, game::Died{wolf, hero, 3});
      world.append(zone_1, game::XpGained{hero, wolf_xp, wolf});
    }
  }

  GameLog world;
  const game::EntityId wolf = game::mob_id(zone_1, 0);
  log::Seq died = 0;
};

TEST_SUITE_BEGIN("replay/upcast");

TEST_CASE("a Died of version 1 decodes as Died version 2 and XpGained on every read") {
  Killing old(true);
  auto stored = old.world.log().read_stream(zone_1, old.died, 1);
  REQUIRE_OK(stored);
  REQUIRE(stored->size() == 1);
  const log::EventView view = stored->front().view();
  CHECK(zone::stored_payload_version(view) == 1);

  auto decoded = zone::decode_stream_event<game::Model>(view);
  REQUIRE_OK(decoded);
  REQUIRE(decoded->index() == 2);
  const auto& events = std::get<2>(*decoded);
  REQUIRE(events.size() == 2);
  CHECK(events[0] == game::Event{game::Died{old.wolf, hero, 3}});
  CHECK(events[1] == game::Event{game::XpGained{hero, wolf_xp, old.wolf}});
  CHECK(replay::event_name<game::Model>(*decoded) == "Died");

  // What export and the viewer show: the events it stands for.
  const auto described = zone::describe_event<game::Model>(view);
  REQUIRE(described.has_value());
  const auto& shown = described->as_object();
  CHECK(shown.at("type") == "Upcast");
  REQUIRE(shown.at("events").as_array().size() == 2);
  CHECK(shown.at("events").as_array()[1].as_object().at("type") == "XpGained");
  CHECK(shown.at("events").as_array()[1].as_object().at("xp") == wolf_xp);
}

TEST_CASE("the current build records Died at version 2 and reads it without upcasting") {
  Killing current(false);
  auto stored = current.world.log().read_stream(zone_1, current.died, 1);
  REQUIRE_OK(stored);
  REQUIRE(stored->size() == 1);
  CHECK(zone::stored_payload_version(stored->front().view()) == 2);
  auto decoded = zone::decode_stream_event<game::Model>(stored->front().view());
  REQUIRE_OK(decoded);
  REQUIRE(std::get<2>(*decoded).size() == 1);
  CHECK(std::get<2>(*decoded)[0] == game::Event{game::Died{current.wolf, hero, 3}});
}

TEST_CASE("a payload of a version newer than the code's is refused, naming where and which") {
  Killing current(false);
  const log::Seq seq = current.world.append_raw(
      zone_1, game::Died::type, died_v1(current.wolf, hero, 0, 4), {log::ActorKind::system, 0}, 3);
  auto stored = current.world.log().read_stream(zone_1, seq, 1);
  REQUIRE_OK(stored);
  REQUIRE(stored->size() == 1);
  const auto decoded = zone::decode_stream_event<game::Model>(stored->front().view());
  CHECK(error_code(decoded) == Errc::incompatible_format);
  CHECK(error_message(decoded) ==
        fmt::format("zone 1 seq {}: payload type 5 is stored at schema version 3, newer than "
                    "version 2, the newest model 'worldlog.reference' reads: a newer build "
                    "wrote it",
                    seq));
  // A replay stops there, naming it too.
  const auto replayed = replay::Replayer<game::Model>(current.world.log(), zone_1).state_at(seq);
  CHECK(error_code(replayed) == Errc::incompatible_format);
  CHECK(error_message(replayed).find("schema version 3") != std::string::npos);
}

TEST_CASE("an old log folds to the state the current events fold to") {
  Killing old(true);
  Killing current(false);
  const auto folded = replay::Replayer<game::Model>(old.world.log(), zone_1).state_at(old.died);
  REQUIRE_OK(folded);
  CHECK(folded->state.player(hero)->xp == wolf_xp);
  CHECK(folded->state.player(hero)->wolves_killed == 1);
  CHECK(game::Model::hash(folded->state) == current.world.hash(zone_1));
}

TEST_CASE("a snapshot taken under other event versions is refused and the stream refolded") {
  Killing old(true);
  // The state is right (the same as the refold), but it was folded under Died version 1: a
  // snapshot of a build before versioned events.
  const auto refolded = replay::Replayer<game::Model>(old.world.log(), zone_1).state_at(old.died);
  REQUIRE_OK(refolded);
  old.world.snapshot_under(zone_1, {}, refolded->state);

  std::vector<std::string> skipped;
  auto restored = zone::restore_latest_snapshot<game::Model>(
      old.world.log(), zone_1, log::end_seq, 8,
      [&](const Error& why) { skipped.push_back(why.to_string()); });
  REQUIRE_OK(restored);
  CHECK_FALSE(restored->has_value());
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].find("incompatible_format") != std::string::npos);
  CHECK(skipped[0].find(fmt::format("snapshot of zone 1 at seq {}", old.died)) !=
        std::string::npos);
  CHECK(skipped[0].find("event versions all 1, not the current {5: 2}") != std::string::npos);

  const auto replayed = replay::Replayer<game::Model>(old.world.log(), zone_1).state_at(old.died);
  REQUIRE_OK(replayed);
  CHECK(replayed->from_snapshot == 0);
  CHECK(game::Model::hash(replayed->state) == game::Model::hash(refolded->state));

  // Taken under the current versions, the same snapshot is used.
  old.world.snapshot(zone_1);
  const auto again = replay::Replayer<game::Model>(old.world.log(), zone_1).state_at(old.died);
  REQUIRE_OK(again);
  CHECK(again->from_snapshot == old.died);
}

TEST_CASE("verify accepts an old snapshot whose meaning the upcast kept, and counts upcasts") {
  Killing old(true);
  const auto refolded = replay::Replayer<game::Model>(old.world.log(), zone_1).state_at(old.died);
  REQUIRE_OK(refolded);
  old.world.snapshot_under(zone_1, {}, refolded->state);
  const auto report = replay::verify<game::Model>(old.world.log());
  REQUIRE_OK(report);
  CHECK(report->ok());
  REQUIRE(report->streams.size() == 1);
  const replay::StreamVerdict& stream = report->streams[0];
  CHECK(stream.upcast_events == 1);
  CHECK(stream.first_upcast == old.died);
  REQUIRE(stream.snapshots.size() == 1);
  CHECK(stream.snapshots[0].event_versions.empty());
  CHECK(stream.snapshots[0].refolded == stream.snapshots[0].recorded);
  CHECK(stream.snapshots[0].unusable.find("event versions") != std::string::npos);
}

TEST_CASE("verify names the zone, seq and versions where an upcast changed the meaning") {
  Killing old(true);
  // What the old build's fold recorded at the Died: the hero without the xp (as if version 1
  // had meant "no xp"), so the refold under the upcaster differs there.
  const auto before = replay::Replayer<game::Model>(old.world.log(), zone_1).state_at(old.died);
  REQUIRE_OK(before);
  game::State recorded = before->state;
  recorded.players.at(hero).xp = 0;
  old.world.snapshot_under(zone_1, {}, recorded);

  const auto report = replay::verify<game::Model>(old.world.log());
  REQUIRE_OK(report);
  CHECK_FALSE(report->ok());
  const replay::StreamVerdict* stream = report->first_problem();
  REQUIRE(stream != nullptr);
  REQUIRE(stream->problem.has_value());
  const replay::Problem& problem = *stream->problem;
  CHECK(problem.kind == replay::Problem::Kind::diverged);
  CHECK(problem.seq == old.died);
  CHECK(problem.expected == game::Model::hash(recorded));
  CHECK(problem.actual == game::Model::hash(before->state));
  CHECK(problem.message.find(fmt::format("zone 1 diverges at seq {}", old.died)) !=
        std::string::npos);
  CHECK(problem.message.find("folded under event versions all 1, this is {5: 2}") !=
        std::string::npos);
  CHECK(problem.message.find(fmt::format("the first event stored at an older version is at seq {}",
                                         old.died)) != std::string::npos);
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

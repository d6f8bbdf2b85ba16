// A log of reference-game zones written event by event, for replay tests that need an exact
// event at an exact seq (the one that breaks an invariant) rather than what bots happen to do:
//
//   GameLog world(2);                            // zones 1 and 2, each opened by its genesis
//   const Seq seq = world.append(1, game::Joined{7, world.spawn(1), 0});
//   world.snapshot(1);                           // as the zone stores one
//   CHECK(world.hash(1) == replayed_hash);       // the state the events fold to
//
// Every event is also applied to a state kept here, which is what the replay must rebuild.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/game/model.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/zone/records.hpp>

#include "log/format.hpp"
#include "support/log_helpers.hpp"
#include "support/raw_db.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {

class GameLog {
public:
  /// Zones 1..zones of a world with seed 42, each stream opened by its genesis event.
  explicit GameLog(zone::ZoneId zones = 1) : log_(open_log(temp_ / "log")) {
    for (zone::ZoneId z = 1; z <= zones; ++z) {
      const zone::ZoneInfo info{.zone = z, .zone_count = zones, .seed = 42};
      states_.emplace(z, game::Model::initial_state(info));
      append_raw(
          z, zone::genesis_payload_type,
          zone::encode_genesis({std::string(game::Model::name), game::Model::rules_version, info}));
    }
  }

  /// Appends `event` to zone `z` at the current wall time, then moves the time on by 1 ms.
  log::Seq append(zone::ZoneId z, const game::Event& event,
                  log::Actor actor = {log::ActorKind::system, 0}) {
    const zone::EncodedEvent encoded = game::Model::encode(event);
    const log::Seq seq =
        append_raw(z, encoded.payload_type, encoded.payload, actor, encoded.version);
    game::Model::evolve(states_.at(z), event);
    return seq;
  }

  /// Appends raw bytes of `payload_type` at schema version `payload_version` to zone `z` (the
  /// state here is left as it is).
  log::Seq append_raw(zone::ZoneId z, std::uint32_t payload_type, std::string payload,
                      log::Actor actor = {log::ActorKind::system, 0},
                      std::uint16_t payload_version = 1) {
    NewEvent event = make_event(payload_type, std::move(payload), actor, now_us_);
    event.rules_version = game::Model::rules_version;
    event.payload_version = payload_version;
    now_us_ += 1000;
    return append_one(*log_, z, log_->head(z), std::move(event)).last_seq;
  }

  /// Stores the snapshot of zone `z` after its head, as the zone would.
  void snapshot(zone::ZoneId z) {
    const auto current = zone::event_versions<game::Model>();
    snapshot_under(z, {current.begin(), current.end()});
  }

  /// Stores the snapshot of zone `z` after its head as if taken under `event_versions` (empty:
  /// as a build before versioned events wrote it), with `state` (default: the state here).
  void snapshot_under(zone::ZoneId z, std::vector<zone::EventVersion> event_versions,
                      const std::optional<game::State>& state_taken = std::nullopt) {
    const game::State& state = state_taken ? *state_taken : states_.at(z);
    const log::Seq seq = log_->head(z);
    const zone::ZoneSnapshot snapshot{
        std::string(game::Model::name), game::Model::rules_version,   seq,
        game::Model::hash(state),       game::Model::snapshot(state), std::move(event_versions)};
    const zone::RecentCommands none(1);
    const Status stored = log_->put_snapshot(z, seq, zone::encode_snapshot(snapshot, none), 3);
    REQUIRE_OK(stored);
  }

  /// Rewrites the stored record of zone `z` at `seq` with `edit`, behind the log's back (it is
  /// closed meanwhile), as someone editing the files would.
  void tamper(zone::ZoneId z, log::Seq seq, const std::function<void(std::string&)>& edit) {
    log_.reset();
    {
      RawDb raw((temp_ / "log").string());
      const auto key = log::format::stream_seq_key(z, seq);
      std::string record = raw.get(log::format::events_cf, log::format::as_view(key));
      edit(record);
      raw.put(log::format::events_cf, log::format::as_view(key), record);
    }
    log_ = open_log(temp_ / "log");
  }

  [[nodiscard]] log::EventLog& log() { return *log_; }
  [[nodiscard]] const game::State& state(zone::ZoneId z) const { return states_.at(z); }
  [[nodiscard]] log::Hash hash(zone::ZoneId z) const { return game::Model::hash(state(z)); }
  [[nodiscard]] game::Point spawn(zone::ZoneId z) const { return state(z).map.spawn; }
  /// The wall time the next event gets.
  [[nodiscard]] std::int64_t now_us() const noexcept { return now_us_; }

private:
  TempDir temp_;
  std::unique_ptr<log::EventLog> log_;
  std::map<zone::ZoneId, game::State> states_;
  std::int64_t now_us_ = 1'700'000'000'000'000;
};

} // namespace worldlog::test

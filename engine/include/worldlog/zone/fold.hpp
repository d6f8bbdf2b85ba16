// The fold of a zone stream, in one place: how each stored event changes a model's state, and
// which stored snapshots may stand in for a fold. The zone's recovery and every replay tool
// (worldlog::replay) fold with these functions, so a replayed state can never disagree with
// the state the zone had.
//
// A zone stream is a genesis event at seq 1 (the model and the ZoneInfo its initial state is
// made from), then the model's events and the zone's CommandRejected audit records, which
// change nothing. The fold is pure: it reads nothing but the events and the snapshots.
//
// decode_stream_event is the one place a stored event becomes the model's: it reads the
// payload type, the payload's schema version and the bytes, decodes a current version with
// M::decode and an older one with M::upcast (model.hpp, VersionsEvents), so every reader of
// the log sees the events the current code understands.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include <worldlog/log/event.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/model.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::zone {

/// The model events one stored event of M stands for (one, or 0..N when upcast).
template <GameModel M> using ModelEvents = Events<typename M::Event>;

/// One event of a zone stream, decoded: the genesis record, a rejected command, or the model
/// events the stored event stands for (in that order of alternatives).
template <GameModel M> using StreamEvent = std::variant<Genesis, CommandRejected, ModelEvents<M>>;

/// The schema version `event`'s payload was stored at.
[[nodiscard]] inline std::uint16_t stored_payload_version(const log::EventView& event) {
  return event.payload_version();
}

/// Decodes the model payload of `event` (payload type `type`), a stored event of zone stream
/// `zone` at `seq`: M::decode for the current version, M::upcast for an older one.
template <GameModel M>
[[nodiscard]] Result<ModelEvents<M>> decode_model_event(const log::EventView& event) {
  const ZoneId zone = event.stream();
  const log::Seq seq = event.seq();
  const std::uint32_t type = event.payload_type();
  const std::uint16_t stored = stored_payload_version(event);
  const std::uint16_t current = event_version<M>(type);
  if (stored == 0) {
    return make_error(Errc::corruption, "zone {} seq {}: payload type {} has schema version 0",
                      zone, seq, type);
  }
  if (stored > current) {
    return make_error(Errc::incompatible_format,
                      "zone {} seq {}: payload type {} is stored at schema version {}, newer than "
                      "version {}, the newest model '{}' reads: a newer build wrote it",
                      zone, seq, type, stored, current, M::name);
  }
  if (stored == current) {
    auto decoded = M::decode(type, event.payload());
    if (!decoded.ok()) {
      return make_error(Errc::corruption, "zone {} seq {}: {}", zone, seq,
                        decoded.error().message());
    }
    return ModelEvents<M>(std::move(decoded).value());
  }
  ModelEvents<M> events;
  if constexpr (VersionsEvents<M>) {
    auto upcast = M::upcast(type, stored, event.payload());
    if (!upcast.ok()) {
      return make_error(upcast.error().code(),
                        "zone {} seq {}: payload type {} at schema version {} (current {}): {}",
                        zone, seq, type, stored, current, upcast.error().message());
    }
    for (auto& upcast_event : *upcast)
      events.push_back(std::move(upcast_event));
  }
  return events;
}

/// Decodes `event` of a zone stream of model M, upcasting an older payload version (above).
/// Errors: corruption naming the zone and seq when the payload does not decode or upcast, when
/// seq 1 is not a genesis event or a genesis event comes later; incompatible_format when the
/// genesis names another model or the payload's version is newer than M's.
template <GameModel M>
[[nodiscard]] Result<StreamEvent<M>> decode_stream_event(const log::EventView& event) {
  const ZoneId zone = event.stream();
  const log::Seq seq = event.seq();
  const std::uint32_t type = event.payload_type();
  if ((type == genesis_payload_type) != (seq == 1)) {
    if (seq == 1) {
      return make_error(Errc::corruption, "zone {} seq 1 is not a genesis event (payload type {})",
                        zone, type);
    }
    return make_error(Errc::corruption, "zone {} seq {} is a second genesis event", zone, seq);
  }
  switch (type) {
  case genesis_payload_type: {
    auto genesis = decode_genesis(event.payload());
    if (!genesis.ok()) {
      return make_error(Errc::corruption, "zone {} seq {}: {}", zone, seq,
                        genesis.error().message());
    }
    if (genesis->model != M::name) {
      return make_error(Errc::incompatible_format, "zone {} was created by model '{}', not '{}'",
                        zone, genesis->model, M::name);
    }
    return StreamEvent<M>(std::in_place_index<0>, std::move(genesis).value());
  }
  case command_rejected_payload_type: {
    // Decoded although it changes nothing, so that a damaged record is found by every fold.
    auto rejected = decode_command_rejected(event.payload());
    if (!rejected.ok()) {
      return make_error(Errc::corruption, "zone {} seq {}: {}", zone, seq,
                        rejected.error().message());
    }
    return StreamEvent<M>(std::in_place_index<1>, std::move(rejected).value());
  }
  default: {
    auto decoded = decode_model_event<M>(event);
    if (!decoded.ok()) return std::move(decoded).error();
    return StreamEvent<M>(std::in_place_index<2>, std::move(decoded).value());
  }
  }
}

/// The state a zone stream starts from: the model's initial state for the genesis' ZoneInfo.
template <GameModel M> [[nodiscard]] typename M::State genesis_state(const Genesis& genesis) {
  return M::initial_state(genesis.info);
}

/// Applies a decoded stream event to `state`: a genesis starts from genesis_state, a rejected
/// command changes nothing, model events are evolved in order.
template <GameModel M>
void apply_stream_event(typename M::State& state, const StreamEvent<M>& event) {
  if (const auto* genesis = std::get_if<0>(&event)) {
    state = genesis_state<M>(*genesis);
  } else if (const auto* model_events = std::get_if<2>(&event)) {
    for (const auto& model_event : *model_events)
      M::evolve(state, model_event);
  }
}

/// Event versions for messages: "{5: 2, 9: 3}"; "all 1" when none is above 1.
[[nodiscard]] inline std::string describe_versions(std::span<const EventVersion> versions) {
  if (versions.empty()) return "all 1";
  std::string text = "{";
  for (const EventVersion& version : versions) {
    if (text.size() > 1) text += ", ";
    text += fmt::format("{}: {}", version.payload_type, version.version);
  }
  return text + "}";
}

/// A stored snapshot that may stand in for the fold up to `seq`.
template <GameModel M> struct RestoredSnapshot {
  log::Seq seq = 0;        ///< the state is the state after this event
  log::Hash state_hash{};  ///< as recorded, and equal to M::hash(state)
  typename M::State state; ///< restored by M::restore
  RecentCommands recent;   ///< the zone's idempotency window at `seq`
};

/// Restores `stored`, a snapshot of `zone`, if it can be trusted: it decodes, it was taken by
/// model M at M's rules version and event versions (zone::event_versions<M>) for the seq it is
/// stored under, and the restored state hashes to the recorded hash. A snapshot taken under
/// other event versions is refused: its state is a fold of the events under meanings the code
/// no longer has, so the events are refolded instead. `recent_capacity` (> 0) bounds the
/// idempotency window restored with it. Errors: corruption (does not decode or restore, or the
/// hash differs) and incompatible_format (another model, rules version or event versions),
/// naming the zone and seq.
template <GameModel M>
[[nodiscard]] Result<RestoredSnapshot<M>>
restore_snapshot(ZoneId zone, const log::EventLog::Snapshot& stored, std::size_t recent_capacity) {
  RecentCommands recent(recent_capacity);
  auto snapshot = decode_snapshot(stored.bytes, recent);
  if (!snapshot.ok()) {
    return make_error(Errc::corruption, "snapshot of zone {} at seq {}: {}", zone, stored.seq,
                      snapshot.error().message());
  }
  if (snapshot->seq != stored.seq) {
    return make_error(Errc::corruption, "snapshot of zone {} stored at seq {} is for seq {}", zone,
                      stored.seq, snapshot->seq);
  }
  if (snapshot->model != M::name || snapshot->rules_version != M::rules_version) {
    return make_error(Errc::incompatible_format,
                      "snapshot of zone {} at seq {} was taken by model '{}' rules version {}, "
                      "not '{}' rules version {}",
                      zone, stored.seq, snapshot->model, snapshot->rules_version, M::name,
                      M::rules_version);
  }
  if (const auto current = event_versions<M>();
      !std::ranges::equal(snapshot->event_versions, current)) {
    return make_error(Errc::incompatible_format,
                      "snapshot of zone {} at seq {} was folded under event versions {}, not the "
                      "current {}: refolded from the events",
                      zone, stored.seq, describe_versions(snapshot->event_versions),
                      describe_versions(current));
  }
  auto state = M::restore(snapshot->state);
  if (!state.ok()) {
    return make_error(Errc::corruption, "snapshot of zone {} at seq {}: {}", zone, stored.seq,
                      state.error().message());
  }
  if (M::hash(*state) != snapshot->state_hash) {
    return make_error(Errc::corruption,
                      "snapshot of zone {} at seq {}: the restored state's hash {} is not the "
                      "recorded {}",
                      zone, stored.seq, log::to_hex(M::hash(*state)),
                      log::to_hex(snapshot->state_hash));
  }
  return RestoredSnapshot<M>{stored.seq, snapshot->state_hash, std::move(state).value(),
                             std::move(recent)};
}

/// Called with each snapshot skipped: one restore_snapshot refused, or one past the stream's
/// head. The error names the zone and the snapshot's seq (and the head).
using SkippedSnapshot = std::function<void(const Error& why)>;

/// The newest snapshot of `zone` taken at or before `at_or_before` (log::end_seq: any) and at or
/// before the stream's durable head that restore_snapshot accepts, or nullopt when there is
/// none (fold from the genesis). A snapshot is a fold of events the log holds, so one past the
/// head stands for events the log no longer has (its tail was lost: an unsynced WAL, a copy
/// taken without it): it is skipped as corruption, naming its seq and the head, like a snapshot
/// restore_snapshot refuses. A snapshot that cannot be read (a damaged block of the snapshots'
/// table file: the error names the file) is skipped with every older one, for a fold from the
/// genesis. Each skipped snapshot is shown to `skipped`, if given, newest first; none is ever
/// trusted. Errors: the log's, other than corruption.
template <GameModel M>
[[nodiscard]] Result<std::optional<RestoredSnapshot<M>>>
restore_latest_snapshot(const log::EventLog& log, ZoneId zone, log::Seq at_or_before,
                        std::size_t recent_capacity, const SkippedSnapshot& skipped = {}) {
  const log::Seq head = log.head(zone);
  for (log::Seq before = at_or_before; before != 0;) {
    auto stored = log.latest_snapshot(zone, before);
    if (!stored.ok() && stored.error().code() == Errc::corruption) {
      if (skipped) {
        skipped(make_error(Errc::corruption,
                           "the snapshots of zone {} at or before seq {} cannot be read ({}); "
                           "skipped for a fold from the genesis",
                           zone, before, stored.error().message()));
      }
      break;
    }
    if (!stored.ok()) return std::move(stored).error();
    if (!stored->has_value()) break;
    const log::Seq seq = (*stored)->seq;
    before = seq - 1;
    if (seq > head) {
      if (skipped) {
        skipped(make_error(Errc::corruption,
                           "snapshot of zone {} at seq {} lies past the stream's head, seq {}: "
                           "the log lost the events it folded; skipped for an older one",
                           zone, seq, head));
      }
      continue;
    }
    auto restored = restore_snapshot<M>(zone, **stored, recent_capacity);
    if (restored.ok()) return std::optional<RestoredSnapshot<M>>(std::move(restored).value());
    if (skipped) skipped(restored.error());
  }
  return std::optional<RestoredSnapshot<M>>();
}

} // namespace worldlog::zone

// Proof that a rebuild is exact: every zone stream refolded from scratch, its state hash
// compared with the hash each stored snapshot recorded and, at the head, with the state rebuilt
// from the nearest snapshot. A difference means the fold is not deterministic (or the rules
// changed), which the model contract (zone/model.hpp) forbids; a stream that cannot be folded is
// reported, not fatal.
//
// Events stored at an older schema version are refolded through the model's upcasters. A
// snapshot taken under other event versions is never restored (fold.hpp), but its recorded
// hash is still compared with the refold: equal, the upcasters kept the meaning; different,
// the meaning changed there, and verify says so, naming the zone, the seq, the versions the
// snapshot was taken under and the first event it upcast.
//
// The log keeps only the newest few snapshots of each stream, so those are the seqs compared.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/progress.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/model.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::replay {

/// What is wrong with a stream: the first problem verify found in it.
struct Problem {
  enum class Kind {
    diverged,     ///< a refolded state hash differs from the expected one
    bad_snapshot, ///< a stored snapshot does not decode, or its state does not restore to its hash
    undecodable,  ///< an event does not decode, or the stream is not a zone of this model
    damaged_log,  ///< the log itself: a record or the hash chain fails verification, or is missing
  };
  Kind kind = Kind::diverged;
  log::Seq seq = 0;      ///< where (0 when the log could not say)
  std::string message{}; ///< names the zone and seq, for people
  /// diverged: the hash recorded by the snapshot at `seq` (or, at the head, the hash of the state
  /// rebuilt from the nearest snapshot), and the hash of the fold from scratch.
  std::optional<log::Hash> expected{};
  std::optional<log::Hash> actual{};
};

/// "diverged", "bad_snapshot", "undecodable", "damaged_log".
[[nodiscard]] inline std::string_view to_string(Problem::Kind kind) noexcept {
  switch (kind) {
  case Problem::Kind::diverged: return "diverged";
  case Problem::Kind::bad_snapshot: return "bad_snapshot";
  case Problem::Kind::undecodable: return "undecodable";
  case Problem::Kind::damaged_log: return "damaged_log";
  }
  return "unknown";
}

/// One stored snapshot, compared.
struct SnapshotCheck {
  log::Seq seq = 0;
  std::uint32_t rules_version = 0;     ///< recorded in the snapshot (0: it does not decode)
  std::optional<log::Hash> recorded{}; ///< nullopt: the snapshot does not decode
  std::optional<log::Hash> refolded{}; ///< nullopt: the fold did not get that far
  std::string unusable{};              ///< why a replay skips it ("" when it is used)
  /// The event versions it was folded under (zone::ZoneSnapshot::event_versions).
  std::vector<zone::EventVersion> event_versions{};
};

/// The rules that decided a span of a stream: seqs `first` to `last` (the events decided under
/// them; `last` < `first` when none is yet: a change of rules at the head). For a model whose
/// rules are data (zone::RulesAsData): from the genesis, and from each RulesChanged event on.
struct RulesSpan {
  log::Seq first = 0;
  log::Seq last = 0;
  zone::RulesId rules{};
  std::string error{}; ///< the genesis' rules do not parse: why ("" when they do)
};

/// What verify found in one stream.
struct StreamVerdict {
  zone::ZoneId zone = 0;
  log::Seq head = 0;
  log::Seq folded = 0;                          ///< events refolded from scratch (head when ok)
  std::string model{};                          ///< recorded in the genesis ("" if unreadable)
  std::optional<std::uint32_t> genesis_rules{}; ///< rules version recorded in the genesis
  std::uint32_t min_event_rules = 0;            ///< rules versions the events were decided by
  std::uint32_t max_event_rules = 0;
  std::uint64_t upcast_events = 0; ///< events stored at an older schema version than M's
  log::Seq first_upcast = 0;       ///< the first of them (0: none)
  /// Which rules decided which seqs, oldest first (only for zone::RulesAsData models; as far as
  /// the fold got).
  std::vector<RulesSpan> rules_spans{};
  std::vector<SnapshotCheck> snapshots{}; ///< oldest first
  std::optional<log::Hash> head_hash{};   ///< of the fold from scratch, when it got there
  log::Seq head_from_snapshot = 0;        ///< the snapshot the head was rebuilt from (0: none)
  std::optional<Problem> problem{};       ///< the first problem; none when the stream verifies

  [[nodiscard]] bool ok() const noexcept { return !problem.has_value(); }
};

struct VerifyReport {
  std::uint32_t running_rules = 0; ///< M::rules_version of the binary that verified
  std::vector<StreamVerdict> streams{};

  [[nodiscard]] bool ok() const noexcept {
    return std::all_of(streams.begin(), streams.end(),
                       [](const StreamVerdict& stream) { return stream.ok(); });
  }
  /// The first stream with a problem, or nullptr.
  [[nodiscard]] const StreamVerdict* first_problem() const noexcept {
    for (const StreamVerdict& stream : streams)
      if (!stream.ok()) return &stream;
    return nullptr;
  }
};

struct VerifyOptions {
  std::optional<zone::ZoneId> zone{}; ///< only this stream (default: every stream of the log)
  Progress progress{};                ///< told about each stream's fold (optional)
};

/// Verifies one zone stream of model M; problems are in the verdict, never errors.
template <zone::GameModel M>
[[nodiscard]] StreamVerdict verify_stream(const log::EventLog& log, zone::ZoneId zone,
                                          const VerifyOptions& options = {});

/// Verifies every stream of `log` (or options.zone). Errors: not_found when options.zone has
/// no events; everything found in the streams is in the report.
template <zone::GameModel M>
[[nodiscard]] Result<VerifyReport> verify(const log::EventLog& log,
                                          const VerifyOptions& options = {}) {
  VerifyReport report;
  report.running_rules = M::rules_version;
  std::vector<zone::ZoneId> zones;
  if (options.zone) {
    if (log.head(*options.zone) == 0) {
      return make_error(Errc::not_found, "zone {} has no events", *options.zone);
    }
    zones.push_back(*options.zone);
  } else {
    zones = log.streams();
  }
  for (const zone::ZoneId zone : zones)
    report.streams.push_back(verify_stream<M>(log, zone, options));
  return report;
}

namespace detail {

/// Every stored snapshot of `zone`, oldest first.
inline Result<std::vector<log::EventLog::Snapshot>> stored_snapshots(const log::EventLog& log,
                                                                     zone::ZoneId zone) {
  std::vector<log::EventLog::Snapshot> snapshots;
  for (log::Seq before = log::end_seq; before != 0;) {
    auto stored = log.latest_snapshot(zone, before);
    if (!stored.ok()) return std::move(stored).error();
    if (!stored->has_value()) break;
    before = (*stored)->seq - 1;
    snapshots.push_back(std::move(**stored));
  }
  std::reverse(snapshots.begin(), snapshots.end());
  return snapshots;
}

/// The seq the log's error about `zone` names ("stream 2 seq 700: ..."), 0 if none: the log
/// reports damage as a message, and this is where a report wants it as a number.
inline log::Seq seq_named(const Error& error, zone::ZoneId zone) {
  const std::string prefix = fmt::format("stream {} seq ", zone);
  const std::string& message = error.message();
  const std::size_t at = message.find(prefix);
  if (at == std::string::npos) return 0;
  log::Seq seq = 0; // stays 0 if no number follows
  static_cast<void>(
      std::from_chars(message.data() + at + prefix.size(), message.data() + message.size(), seq));
  return seq;
}

/// The problem a fold's error reveals, once the stream's hash chain has been verified: the
/// records are intact, so a corrupt one is a payload that does not decode (or another model's
/// stream); anything else is the storage failing.
inline Problem problem_of(const Error& error, log::Seq seq) {
  const bool decoding =
      error.code() == Errc::corruption || error.code() == Errc::incompatible_format;
  return Problem{decoding ? Problem::Kind::undecodable : Problem::Kind::damaged_log, seq,
                 error.to_string(), std::nullopt, std::nullopt};
}

} // namespace detail

template <zone::GameModel M>
StreamVerdict verify_stream(const log::EventLog& log, zone::ZoneId zone,
                            const VerifyOptions& options) {
  StreamVerdict verdict;
  verdict.zone = zone;
  verdict.head = log.head(zone);
  // The chain first: a tampered, missing or reordered record is named as such, and whatever
  // the fold then trips over is in the payloads.
  if (auto chain = log.verify(zone); !chain.ok()) {
    verdict.problem = Problem{Problem::Kind::damaged_log, detail::seq_named(chain.error(), zone),
                              chain.error().to_string(), std::nullopt, std::nullopt};
    return verdict;
  }
  auto stored = detail::stored_snapshots(log, zone);
  if (!stored.ok()) {
    verdict.problem = Problem{Problem::Kind::damaged_log, 0, stored.error().to_string(),
                              std::nullopt, std::nullopt};
    return verdict;
  }

  // What each snapshot recorded, and whether a replay may start from it.
  for (const log::EventLog::Snapshot& snapshot : *stored) {
    SnapshotCheck check{.seq = snapshot.seq};
    zone::RecentCommands recent(1);
    auto decoded = zone::decode_snapshot(snapshot.bytes, recent);
    if (decoded.ok()) {
      check.rules_version = decoded->rules_version;
      check.recorded = decoded->state_hash;
      check.event_versions = decoded->event_versions;
      auto restored = zone::restore_snapshot<M>(zone, snapshot, 1);
      if (!restored.ok()) check.unusable = restored.error().message();
    } else {
      check.unusable = decoded.error().message();
    }
    verdict.snapshots.push_back(std::move(check));
  }

  const Replayer<M> replayer(log, zone, options.progress);
  auto genesis = replayer.genesis();
  if (!genesis.ok()) {
    verdict.problem = detail::problem_of(genesis.error(), 1);
    return verdict;
  }
  verdict.model = genesis->model;
  verdict.genesis_rules = genesis->rules_version;
  if constexpr (zone::RulesAsData<M>) {
    // The genesis (seq 1) was written under the rules it names.
    RulesSpan first{.first = 1, .last = 1};
    if (auto rules = zone::genesis_rules<M>(genesis->info); rules.ok()) {
      first.rules = M::rules_id(*rules);
    } else {
      first.error = rules.error().message();
    }
    verdict.rules_spans.push_back(std::move(first));
  }
  const std::string rules_note =
      genesis->rules_version == M::rules_version
          ? std::string()
          : fmt::format(" (the stream was created under rules version {}, this is version {})",
                        genesis->rules_version, M::rules_version);

  // The refold from scratch: each snapshot's seq is checked as the fold passes it. A snapshot
  // that does not decode, or whose state does not restore to its own hash, is damage; one
  // from another rules version or other event versions is compared all the same (and a
  // difference is named as the change it is).
  const auto current_versions = zone::event_versions<M>();
  auto versions_note = [&](const SnapshotCheck& check) {
    if (std::ranges::equal(check.event_versions, current_versions)) return std::string();
    const std::string upcast =
        verdict.first_upcast == 0
            ? std::string("no event before it is stored at an older version")
            : fmt::format("the first event stored at an older version is at seq {}",
                          verdict.first_upcast);
    return fmt::format(" (the snapshot was folded under event versions {}, this is {}: the "
                       "upcasters changed the meaning; {})",
                       zone::describe_versions(check.event_versions),
                       zone::describe_versions(current_versions), upcast);
  };
  auto next = verdict.snapshots.begin();
  auto check_snapshots = [&](const Replayed<M>& replayed) -> Status {
    // The fold visits every seq, so the snapshots are met in order.
    for (; next != verdict.snapshots.end() && next->seq == replayed.seq; ++next) {
      SnapshotCheck& check = *next;
      const log::Hash actual = M::hash(replayed.state);
      check.refolded = actual;
      if (!check.recorded) {
        verdict.problem = Problem{Problem::Kind::bad_snapshot, check.seq,
                                  fmt::format("snapshot of zone {} at seq {} does not decode: {}",
                                              zone, check.seq, check.unusable),
                                  std::nullopt, std::nullopt};
      } else if (*check.recorded != actual) {
        verdict.problem = Problem{
            Problem::Kind::diverged, check.seq,
            fmt::format("zone {} diverges at seq {}: the snapshot recorded state hash {}, the "
                        "fold from scratch gives {}{}{}",
                        zone, check.seq, log::to_hex(*check.recorded), log::to_hex(actual),
                        check.rules_version == M::rules_version
                            ? rules_note
                            : fmt::format(" (the snapshot was taken under rules version {}, "
                                          "this is version {})",
                                          check.rules_version, M::rules_version),
                        versions_note(check)),
            check.recorded, actual};
      } else if (!check.unusable.empty() && check.rules_version == M::rules_version &&
                 std::ranges::equal(check.event_versions, current_versions)) {
        verdict.problem = Problem{Problem::Kind::bad_snapshot, check.seq, check.unusable,
                                  std::nullopt, std::nullopt};
      }
      if (verdict.problem) return make_error(Errc::corruption, "{}", verdict.problem->message);
    }
    return {};
  };

  auto start = replayer.initial();
  if (!start.ok()) {
    verdict.problem = detail::problem_of(start.error(), 1);
    return verdict;
  }
  verdict.min_event_rules = verdict.max_event_rules = genesis->rules_version;
  log::Seq reached = 1;
  if (auto checked = check_snapshots(*start); !checked.ok()) {
    verdict.folded = reached;
    return verdict;
  }
  auto folded = replayer.advance(
      std::move(start).value(), verdict.head,
      [&](const Replayed<M>& replayed, const log::EventView& event,
          const zone::StreamEvent<M>& decoded) {
        reached = replayed.seq;
        if constexpr (zone::RulesAsData<M>) {
          // An event was decided under the rules of the span it ends; a RulesChanged opens the
          // next one.
          verdict.rules_spans.back().last = replayed.seq;
          if (const auto* model_events = std::get_if<2>(&decoded)) {
            for (const auto& model_event : *model_events) {
              if (auto changed = M::rules_changed(model_event)) {
                verdict.rules_spans.push_back(
                    RulesSpan{.first = replayed.seq + 1, .last = replayed.seq, .rules = *changed});
              }
            }
          }
        }
        verdict.min_event_rules = std::min(verdict.min_event_rules, event.rules_version());
        verdict.max_event_rules = std::max(verdict.max_event_rules, event.rules_version());
        if (event.payload_type() < zone::zone_payload_types &&
            zone::stored_payload_version(event) < zone::event_version<M>(event.payload_type())) {
          if (verdict.upcast_events++ == 0) verdict.first_upcast = event.seq();
        }
        return check_snapshots(replayed);
      });
  verdict.folded = reached;
  if (!folded.ok()) {
    if (!verdict.problem) verdict.problem = detail::problem_of(folded.error(), reached + 1);
    return verdict;
  }
  verdict.head_hash = M::hash(folded->state);
  if (next != verdict.snapshots.end()) {
    verdict.problem = Problem{Problem::Kind::bad_snapshot, next->seq,
                              fmt::format("snapshot of zone {} at seq {} is past the head, seq {}",
                                          zone, next->seq, verdict.head),
                              std::nullopt, std::nullopt};
    return verdict;
  }

  // The head as a replay rebuilds it: from the nearest usable snapshot and the tail.
  auto rebuilt = replayer.state_at(verdict.head);
  if (!rebuilt.ok()) {
    verdict.problem = detail::problem_of(rebuilt.error(), verdict.head);
    return verdict;
  }
  verdict.head_from_snapshot = rebuilt->from_snapshot;
  const log::Hash rebuilt_hash = M::hash(rebuilt->state);
  if (rebuilt_hash != *verdict.head_hash) {
    verdict.problem =
        Problem{Problem::Kind::diverged, verdict.head,
                fmt::format("zone {} diverges at its head, seq {}: rebuilt from the snapshot at "
                            "seq {} its state hash is {}, from scratch {}{}",
                            zone, verdict.head, rebuilt->from_snapshot, log::to_hex(rebuilt_hash),
                            log::to_hex(*verdict.head_hash), rules_note),
                rebuilt_hash, verdict.head_hash};
  }
  return verdict;
}

} // namespace worldlog::replay

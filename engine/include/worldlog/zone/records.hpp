// What a zone records besides the model's events, independent of the model: the genesis event
// that opens every zone stream, the CommandRejected audit event, the idempotency window of
// recent command outcomes, and the snapshot envelope. Encoded as FlatBuffers
// (schemas/zone.fbs); the zone template uses these, and so do replay and audit tools.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::zone {

/// Payload types of the zone's own events (model payload types stay below zone_payload_types).
inline constexpr std::uint32_t genesis_payload_type = zone_payload_types + 1;
inline constexpr std::uint32_t command_rejected_payload_type = zone_payload_types + 2;

/// The first event of a zone stream: everything a replay of the stream depends on.
struct Genesis {
  std::string model;
  std::uint32_t rules_version = 0;
  ZoneInfo info;

  /// SHA-256 over the fields above: equal configurations give equal hashes.
  [[nodiscard]] log::Hash config_hash() const;
};
[[nodiscard]] std::string encode_genesis(const Genesis& genesis);
[[nodiscard]] Result<Genesis> decode_genesis(std::string_view payload);

/// A refused command as the audit event records it.
struct CommandRejected {
  std::uint32_t code = 0;
  std::string reason;
  std::string command_name;
  std::string command; ///< the model's encoding of the command
};
[[nodiscard]] std::string encode_command_rejected(const CommandRejected& rejected);
[[nodiscard]] Result<CommandRejected> decode_command_rejected(std::string_view payload);

/// What the sender of a command learns once it is durable (or answered from the window).
struct Outcome {
  bool accepted = false;
  log::Seq first_seq = 0; ///< accepted: its first event (0 if it appended none);
  log::Seq last_seq = 0;  ///< rejected: the CommandRejected record (first == last)
  std::uint32_t code = 0; ///< rejected: the model's reason code
  std::string reason{};   ///< rejected: the model's sentence
  bool duplicate = false; ///< answered from an earlier command with the same id
  ZoneId zone = 0;        ///< the zone whose stream holds the seqs (set when answered)
};

/// Identifies a command for idempotency: the same id from another actor is another command.
struct CommandKey {
  log::Actor actor;
  std::uint64_t command_id = 0;

  friend bool operator==(const CommandKey&, const CommandKey&) = default;
};

/// The outcomes of the last `capacity` commands of a zone, by command key: a retried command
/// is answered from here and appends nothing. Rebuilt from the log on recovery (every event
/// carries its command id) and carried in snapshots, so it survives restarts. Lookups only:
/// iteration is in insertion order, so snapshots are deterministic.
class RecentCommands {
public:
  /// REQUIRES: capacity > 0.
  explicit RecentCommands(std::size_t capacity) : capacity_(capacity) {}

  /// The outcome recorded for `key`, or nullptr.
  [[nodiscard]] const Outcome* find(const CommandKey& key) const;
  /// Records `outcome` for `key`, evicting the oldest entry when full. A key already present
  /// keeps its first outcome (the log holds the first command; a later one was a retry).
  void record(const CommandKey& key, Outcome outcome);
  /// Extends the accepted outcome of `key` to `seq` (the fold sees a command's events one by
  /// one), or records it when absent.
  void record_event(const CommandKey& key, log::Seq seq);

  [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }
  /// Entries oldest first.
  template <typename Visitor> void for_each(Visitor&& visit) const {
    for (const auto& key : order_)
      visit(key, outcomes_.at(key));
  }

private:
  struct KeyHash {
    std::size_t operator()(const CommandKey& key) const noexcept;
  };
  std::size_t capacity_;
  std::deque<CommandKey> order_; ///< oldest first
  std::unordered_map<CommandKey, Outcome, KeyHash> outcomes_;
};

/// The snapshot envelope around a model's state bytes.
struct ZoneSnapshot {
  std::string model;
  std::uint32_t rules_version = 0;
  log::Seq seq = 0;
  log::Hash state_hash{};
  std::string state; ///< the model's snapshot bytes
  /// The event versions the state was folded under (zone::event_versions<M>(): the payload
  /// types above version 1). Empty for a snapshot written before versions existed: all 1.
  std::vector<EventVersion> event_versions{};
};
[[nodiscard]] std::string encode_snapshot(const ZoneSnapshot& snapshot,
                                          const RecentCommands& recent);
/// Decodes a snapshot and fills `recent` with its window. Errors: corruption.
[[nodiscard]] Result<ZoneSnapshot> decode_snapshot(std::string_view bytes, RecentCommands& recent);

} // namespace worldlog::zone

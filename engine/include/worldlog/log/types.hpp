// Identifiers and plain values of the event log.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace worldlog::log {

using StreamId = std::uint64_t;
/// 1-based sequence of an event within its stream; 0 means "before the first event".
using Seq = std::uint64_t;
/// 1-based position of an event in the whole log, equal to commit order; 0 means "before all".
using Position = std::uint64_t;

/// Passed as `expected_seq` to append without an optimistic-concurrency check.
inline constexpr Seq any_seq = ~Seq{0};
/// Passed as a read's starting seq to mean "from the newest event".
inline constexpr Seq end_seq = ~Seq{0};

/// Who caused an event. Mirrors `worldlog.schema.ActorKind`; the game model gives it meaning.
enum class ActorKind : std::uint8_t { system = 0, player = 1, mob = 2, service = 3 };

struct Actor {
  ActorKind kind = ActorKind::system;
  std::uint64_t id = 0;

  friend constexpr auto operator<=>(const Actor&, const Actor&) = default;
};

/// SHA-256 digest; the link of each stream's tamper-evident chain.
using Hash = std::array<std::uint8_t, 32>;

/// SHA-256 of `bytes`: the record hash, and what models use for a canonical state hash.
[[nodiscard]] Hash sha256(std::string_view bytes) noexcept;

/// Lower-case hex of `bytes` (a payload, say), and of a hash.
[[nodiscard]] std::string to_hex(std::string_view bytes);
[[nodiscard]] std::string to_hex(const Hash& hash);

/// One event as a caller hands it to `EventLog::append`. The log assigns stream, seq,
/// position and predecessor hash; everything else is recorded as given.
struct NewEvent {
  std::uint32_t payload_type = 0;  ///< game-model tag for `payload`
  std::string payload;             ///< opaque bytes (the model's own FlatBuffer, usually)
  Actor actor;                     ///< who caused it
  std::uint64_t tick = 0;          ///< simulation tick of the stream
  std::int64_t wall_time_us = 0;   ///< µs since the epoch; 0 = stamped by the log at commit
  std::uint64_t command_id = 0;    ///< client-chosen id of the producing command (0 = none)
  std::uint64_t causation = 0;     ///< position of the causing event (0 = none)
  std::uint32_t rules_version = 0; ///< version of the rules that decided it
  /// The writer's epoch: the term of the stream's owner that decided it (a zone counts one
  /// per start). A replicated log fences a stale owner by it; the log records it as given.
  std::uint64_t epoch = 0;
  /// The version of the payload's schema: a model versions each of its payload types from 1
  /// and upcasts older versions when it reads them (zone/model.hpp).
  std::uint16_t payload_version = 1;
  /// The command whose decision this event is the first event of, as the model encodes it;
  /// empty for every other event. The log stores it in the record, so the log holds inputs as
  /// well as decisions (a what-if replay decides them again).
  std::string command{};
  /// The envelope format to store it in; 0 is the current one. Only an import that recreates
  /// a log written by an older worldlog, byte for byte, asks for an older one, which holds
  /// neither a payload version other than 1 nor a command.
  std::uint16_t envelope = 0;
};

/// Where an append landed: seqs [first_seq, last_seq] at positions [first_position, ...].
/// The positions of one append are contiguous.
struct AppendResult {
  StreamId stream = 0;
  Seq first_seq = 0;
  Seq last_seq = 0;
  Position first_position = 0;
  Position last_position = 0;
};

/// How much of each record a read checks before handing it over. Every read checks that the
/// envelope is well formed and belongs to its key, which is all a reader needs in order not to
/// misread a record; RocksDB's block checksums catch bit rot underneath. Recomputing the
/// record's SHA-256 is what also catches a deliberate edit, and costs about as much as the
/// rest of the read: a fold that does not audit may skip it, since `verify` (and `worldlog
/// audit verify`) checks every hash and link of the chain.
enum class RecordCheck {
  hash,     ///< envelope, key and the record's own hash
  envelope, ///< envelope and key only
};

} // namespace worldlog::log

template <> struct fmt::formatter<worldlog::log::ActorKind> : fmt::formatter<std::string_view> {
  auto format(worldlog::log::ActorKind kind, format_context& ctx) const {
    constexpr std::string_view names[] = {"system", "player", "mob", "service"};
    const auto index = static_cast<std::size_t>(kind);
    return fmt::formatter<std::string_view>::format(index < 4 ? names[index] : "unknown", ctx);
  }
};

template <> struct fmt::formatter<worldlog::log::Actor> : fmt::formatter<std::string_view> {
  auto format(const worldlog::log::Actor& actor, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}:{}", actor.kind, actor.id);
  }
};

// The on-disk format of the event log: column families, key encodings and the record layout.
//
// Keys are big-endian so that RocksDB's bytewise order is numeric order.
//
//   column family  key                                   value
//   default        "format_version"                      u32 (big-endian)
//   events         stream u64 | seq u64                  record (below)
//   positions      last position u64                     run (below)
//   actors         kind u8 | actor id u64 | last pos u64 run (below)
//                  "watermark"                           u64: actors holds every event up to it
//   snapshots      stream u64 | seq u64                  opaque snapshot bytes
//
// An index entry names a run: `count` events of one stream at consecutive positions (and so
// at consecutive seqs), keyed by the run's last position and valued stream u64 | last seq u64
// | count u32, or just stream | seq for a run of one. An append is one run of the positions
// index, and an actor's consecutive events in it one run of the actors index, so the indexes
// cost an entry per append rather than per event. Keyed by the last position, the run that
// holds position p is the first entry at or after p. (Format versions 1 and 2 wrote runs of
// one only, which read the same way.)
//
// The records are keyed by stream, so a stream fold is one range scan. The whole-log order is
// a range scan of `positions` that walks one cursor per stream forward in step: since each
// stream's positions rise with its seqs, every stream cursor only ever moves to its next key,
// and no read is a point lookup per event.
//
// The actors index is written just behind the commit, by its own thread, together with its
// watermark and outside the WAL: it costs the commit path nothing, and whatever of it a crash
// loses is rebuilt from the positions index on open. Entries and watermark share a column
// family, so a flush stores both or neither. (Before format version 3 the watermark was
// "actor_index_position" in default, and the index went through the WAL; a log of version 2
// keeps that watermark until its actors hold a newer one.)
//
// A record is the 32-byte SHA-256 of the rest of it followed by an envelope, which holds the
// previous record's hash: the hash covers the record and its predecessor, a tamper-evident chain
// per stream. Three envelope formats exist, and a log may hold all (one stream can too):
//
//   1  a FlatBuffer with file identifier "WLEV" (schemas/envelope.fbs), every field at full
//      width; what worldlog wrote before format version 2.
//   2  "WLE2", then fixed little-endian fields at fixed offsets, then LEB128 varints, then the
//      payload at an 8-byte aligned offset (models decode it in place):
//        32  "WLE2"        36  payload_type u32   40  prev_hash [32]
//        72  seq u64       80  position u64       88  wall_time_us i64
//        96  varints: stream, tick, actor kind, actor id, command_id, causation,
//            rules_version, epoch, payload size; zero bytes to the next multiple of 8; payload
//      The fields patched at commit (seq, position, wall time, prev_hash) are fixed, the rest
//      take the bytes their values need: a Move's record is about 170 bytes instead of 256.
//   3  "WLE3", then format 2's fixed fields; the varints gain the payload version (after
//      epoch) and the command's size (after the payload's), and the command follows the
//      payload: stream, tick, actor kind, actor id, command_id, causation, rules_version,
//      epoch, payload_version, payload size, command size; zero bytes to the next multiple
//      of 8; payload; command. What worldlog writes since format version 4.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <worldlog/log/event.hpp>
#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>

namespace worldlog::log::format {

/// Version of this layout. A log whose version is higher was written by a newer worldlog.
/// Version 2 added envelope format 2, version 3 index runs, version 4 envelope format 3. Every
/// log of an older version is read as it is, and a writable open of one records the current
/// version (nothing to rewrite).
inline constexpr std::uint32_t format_version = 4;
/// The envelope formats (above), which EventView::schema_version() reports.
inline constexpr std::uint16_t envelope_v1 = 1;
inline constexpr std::uint16_t envelope_v2 = 2;
inline constexpr std::uint16_t envelope_v3 = 3;
inline constexpr std::uint16_t current_envelope = envelope_v3;

inline constexpr std::string_view format_version_key = "format_version";
inline constexpr std::string_view actor_watermark_key = "watermark";
inline constexpr std::string_view legacy_actor_watermark_key = "actor_index_position";
inline constexpr const char* events_cf = "events";
inline constexpr const char* positions_cf = "positions";
inline constexpr const char* actors_cf = "actors";
inline constexpr const char* snapshots_cf = "snapshots";

inline constexpr std::size_t hash_size = 32;

inline void put_u64(char* out, std::uint64_t value) noexcept {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

[[nodiscard]] inline std::uint64_t get_u64(const char* in) noexcept {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value = (value << 8) | static_cast<std::uint8_t>(in[i]);
  return value;
}

/// stream | seq: the key of a record (events) or of a snapshot (snapshots); also the value of
/// the positions and actors indexes.
using StreamSeqKey = std::array<char, 16>;
[[nodiscard]] inline StreamSeqKey stream_seq_key(StreamId stream, Seq seq) noexcept {
  StreamSeqKey key;
  put_u64(key.data(), stream);
  put_u64(key.data() + 8, seq);
  return key;
}

using PositionKey = std::array<char, 8>;
[[nodiscard]] inline PositionKey position_key(Position position) noexcept {
  PositionKey key;
  put_u64(key.data(), position);
  return key;
}

using ActorKey = std::array<char, 17>;
[[nodiscard]] inline ActorKey actor_key(Actor actor, Position position) noexcept {
  ActorKey key;
  key[0] = static_cast<char>(actor.kind);
  put_u64(key.data() + 1, actor.id);
  put_u64(key.data() + 9, position);
  return key;
}

/// The value of an index entry: the run of `count` events of `stream` whose last is `last_seq`.
struct IndexRun {
  StreamId stream = 0;
  Seq last_seq = 0;
  std::uint32_t count = 1;

  /// Where the run keyed by `last` starts, and the seq it holds at `position` (in the run).
  [[nodiscard]] Position first_position(Position last) const noexcept { return last - count + 1; }
  [[nodiscard]] Seq seq_at(Position position, Position last) const noexcept {
    return last_seq - (last - position);
  }
};

/// The stored bytes of `run`: 16 for a run of one, else 20.
class IndexRunValue {
public:
  explicit IndexRunValue(const IndexRun& run) noexcept : size_(run.count == 1 ? 16 : 20) {
    put_u64(bytes_.data(), run.stream);
    put_u64(bytes_.data() + 8, run.last_seq);
    for (int i = 0; i < 4; ++i)
      bytes_[16 + static_cast<std::size_t>(i)] = static_cast<char>(run.count >> (8 * (3 - i)));
  }
  [[nodiscard]] std::string_view view() const noexcept { return {bytes_.data(), size_}; }

private:
  std::array<char, 20> bytes_{};
  std::size_t size_;
};

/// The run an index entry keyed by `last_position` holds, or nullopt when it is malformed:
/// of another size, empty, or longer than its stream or the log before it.
[[nodiscard]] inline std::optional<IndexRun> parse_index_run(std::string_view value,
                                                             Position last_position) noexcept {
  if (value.size() != 16 && value.size() != 20) return std::nullopt;
  IndexRun run{get_u64(value.data()), get_u64(value.data() + 8), 1};
  if (value.size() == 20) {
    run.count = 0;
    for (std::size_t i = 16; i < 20; ++i)
      run.count = (run.count << 8) | static_cast<std::uint8_t>(value[i]);
  }
  if (run.count == 0 || run.count > run.last_seq || run.count > last_position) return std::nullopt;
  return run;
}

[[nodiscard]] inline std::string_view as_view(std::span<const char> bytes) noexcept {
  return {bytes.data(), bytes.size()};
}

using log::sha256;

/// `bytes` behind its SHA-256: how records and snapshots are stored.
[[nodiscard]] std::string hash_prefixed(std::string_view bytes);
/// Whether `value` is a hash prefix followed by bytes that hash to it.
[[nodiscard]] bool hash_prefix_matches(std::string_view value) noexcept;

/// Encodes `event` as a record of `stream` in envelope format `event.envelope` (0: the
/// current one) with seq, position and predecessor hash still to be filled in by `seal`. Runs
/// on the appending thread, off the commit path. REQUIRES: `event.envelope` is 0 to 3, and
/// envelopes 1 and 2 get payload version 1 and no command (the append validates both).
[[nodiscard]] std::string encode(StreamId stream, const NewEvent& event);

/// Fills in the commit-time fields of an encoded record and its hash prefix; returns the hash.
Hash seal(std::string& record, Seq seq, Position position, std::int64_t wall_time_us,
          const Hash& prev_hash) noexcept;

/// The wall time an encoded (not yet sealed) record carries.
[[nodiscard]] std::int64_t wall_time_of(std::string_view record) noexcept;

/// Parses a record that passed verify_record; all zero for bytes that are no record at all.
[[nodiscard]] RecordFields parse(std::string_view record) noexcept;

/// Checks that `record` is a well-formed envelope whose stream and seq are those of its key,
/// and (with RecordCheck::hash) that its hash prefix matches its bytes; returns its fields, read
/// once for the check and the EventView both. Errors: corruption,
/// naming stream and seq.
/// REQUIRES: `record.data()` is 8-byte aligned (FlatBuffers reads scalars in place).
[[nodiscard]] Result<RecordFields> check_record(std::string_view record, StreamId stream, Seq seq,
                                                RecordCheck check = RecordCheck::hash);
/// check_record, for a caller that does not need the fields.
[[nodiscard]] Status verify_record(std::string_view record, StreamId stream, Seq seq,
                                   RecordCheck check = RecordCheck::hash);

/// The error for a record of `stream` at `seq` whose hash prefix does not match its bytes.
/// REQUIRES: `record` is longer than its hash prefix.
[[nodiscard]] Error hash_mismatch(std::string_view record, StreamId stream, Seq seq);

} // namespace worldlog::log::format

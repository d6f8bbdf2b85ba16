// A stored event, as the log hands it back: a verified record and accessors for its fields.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>

namespace worldlog::log {

/// The fields of one record, read from it once: what EventView's accessors return.
struct RecordFields {
  StreamId stream = 0;
  Seq seq = 0;
  Position position = 0;
  std::uint64_t tick = 0;
  std::int64_t wall_time_us = 0;
  Actor actor;
  std::uint64_t command_id = 0;
  std::uint64_t causation = 0;
  std::uint64_t epoch = 0;
  std::uint32_t rules_version = 0;
  std::uint32_t payload_type = 0;
  std::uint32_t prev_hash_offset = 0; ///< where in the record the predecessor's hash is
  std::uint32_t payload_offset = 0;
  std::uint32_t payload_size = 0;
  std::uint32_t command_size = 0; ///< the command follows the payload (format 3 only)
  std::uint16_t payload_version = 1;
  std::uint16_t envelope = 0; ///< the envelope format: 1 (FlatBuffers), 2 or 3 (format.hpp)
};

/// A read-only view of one verified record. It does not own the bytes: it is valid as long as
/// the buffer it was made from (an `Event`, or the callback invocation of a scan).
class EventView {
public:
  /// REQUIRES: `record` passed `verify_record` (format.hpp); the log only hands out such views.
  explicit EventView(std::string_view record) noexcept;
  EventView(std::string_view record, const RecordFields& fields) noexcept
      : record_(record), fields_(fields) {}

  [[nodiscard]] StreamId stream() const noexcept { return fields_.stream; }
  [[nodiscard]] Seq seq() const noexcept { return fields_.seq; }
  [[nodiscard]] Position position() const noexcept { return fields_.position; }
  [[nodiscard]] std::uint64_t tick() const noexcept { return fields_.tick; }
  [[nodiscard]] std::int64_t wall_time_us() const noexcept { return fields_.wall_time_us; }
  [[nodiscard]] Actor actor() const noexcept { return fields_.actor; }
  [[nodiscard]] std::uint64_t command_id() const noexcept { return fields_.command_id; }
  [[nodiscard]] std::uint64_t causation() const noexcept { return fields_.causation; }
  [[nodiscard]] std::uint32_t rules_version() const noexcept { return fields_.rules_version; }
  /// The writer's epoch (NewEvent::epoch); 0 in records of envelope format 1.
  [[nodiscard]] std::uint64_t epoch() const noexcept { return fields_.epoch; }
  /// The record's envelope format: 1, 2 or 3 (engine/src/log/format.hpp).
  [[nodiscard]] std::uint16_t schema_version() const noexcept { return fields_.envelope; }
  /// The version of the payload's schema (NewEvent::payload_version); 1 in envelopes 1 and 2.
  [[nodiscard]] std::uint16_t payload_version() const noexcept { return fields_.payload_version; }
  /// The encoded command this event is the first event of (NewEvent::command); empty for
  /// other events and in envelopes 1 and 2.
  [[nodiscard]] std::string_view command() const noexcept {
    return record_.substr(fields_.payload_offset + fields_.payload_size, fields_.command_size);
  }
  /// Hash of the previous record of this stream (all zero for seq 1).
  [[nodiscard]] Hash prev_hash() const noexcept;
  /// This record's own hash: SHA-256 over its envelope bytes, which include `prev_hash`.
  [[nodiscard]] Hash hash() const noexcept;
  /// Recomputes the record's SHA-256 and compares it with hash(): what a read checks unless
  /// told to trust the hashes (RecordCheck::envelope). Errors: corruption ("stream S seq N:
  /// hash mismatch ...", with both hashes) for a record edited after it was written.
  [[nodiscard]] Status check_hash() const;
  [[nodiscard]] std::uint32_t payload_type() const noexcept { return fields_.payload_type; }
  [[nodiscard]] std::string_view payload() const noexcept {
    return record_.substr(fields_.payload_offset, fields_.payload_size);
  }

  /// The whole stored record (hash prefix and envelope), e.g. to copy it elsewhere.
  [[nodiscard]] std::string_view record() const noexcept { return record_; }
  [[nodiscard]] const RecordFields& fields() const noexcept { return fields_; }

private:
  std::string_view record_;
  RecordFields fields_;
};

/// An event that owns its record bytes. Cheap to move; copying copies the record.
class Event {
public:
  /// REQUIRES: `record` passed `verify_record`.
  explicit Event(std::string record);

  [[nodiscard]] EventView view() const noexcept { return EventView(record_, fields_); }
  [[nodiscard]] StreamId stream() const noexcept { return view().stream(); }
  [[nodiscard]] Seq seq() const noexcept { return view().seq(); }
  [[nodiscard]] Position position() const noexcept { return view().position(); }
  [[nodiscard]] std::uint64_t tick() const noexcept { return view().tick(); }
  [[nodiscard]] std::int64_t wall_time_us() const noexcept { return view().wall_time_us(); }
  [[nodiscard]] Actor actor() const noexcept { return view().actor(); }
  [[nodiscard]] std::uint64_t command_id() const noexcept { return view().command_id(); }
  [[nodiscard]] std::uint64_t causation() const noexcept { return view().causation(); }
  [[nodiscard]] std::uint32_t rules_version() const noexcept { return view().rules_version(); }
  [[nodiscard]] std::uint64_t epoch() const noexcept { return view().epoch(); }
  [[nodiscard]] Hash prev_hash() const noexcept { return view().prev_hash(); }
  [[nodiscard]] Hash hash() const noexcept { return view().hash(); }
  [[nodiscard]] std::uint32_t payload_type() const noexcept { return view().payload_type(); }
  [[nodiscard]] std::uint16_t payload_version() const noexcept { return view().payload_version(); }
  [[nodiscard]] std::string_view payload() const noexcept { return view().payload(); }
  [[nodiscard]] std::string_view command() const noexcept { return view().command(); }

private:
  std::string record_;
  RecordFields fields_;
};

} // namespace worldlog::log

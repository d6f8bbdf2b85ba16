// A stored event, as the log hands it back: a verified record and accessors for its fields.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <worldlog/log/types.hpp>
#include <worldlog/status.hpp>

namespace worldlog::log {

/// A read-only view of one verified record. It does not own the bytes: it is valid as long as
/// the buffer it was made from (an `Event`, or the callback invocation of a scan).
class EventView {
public:
  /// REQUIRES: `record` passed `verify_record` (format.hpp); the log only hands out such views.
  explicit EventView(std::string_view record) noexcept : record_(record) {}

  [[nodiscard]] StreamId stream() const noexcept;
  [[nodiscard]] Seq seq() const noexcept;
  [[nodiscard]] Position position() const noexcept;
  [[nodiscard]] std::uint64_t tick() const noexcept;
  [[nodiscard]] std::int64_t wall_time_us() const noexcept;
  [[nodiscard]] Actor actor() const noexcept;
  [[nodiscard]] std::uint64_t command_id() const noexcept;
  [[nodiscard]] std::uint64_t causation() const noexcept;
  [[nodiscard]] std::uint32_t rules_version() const noexcept;
  [[nodiscard]] std::uint16_t schema_version() const noexcept;
  /// Hash of the previous record of this stream (all zero for seq 1).
  [[nodiscard]] Hash prev_hash() const noexcept;
  /// This record's own hash: SHA-256 over its envelope bytes, which include `prev_hash`.
  [[nodiscard]] Hash hash() const noexcept;
  /// Recomputes the record's SHA-256 and compares it with hash(): what a read checks unless
  /// told to trust the hashes (RecordCheck::envelope). Errors: corruption ("stream S seq N:
  /// hash mismatch ...", with both hashes) for a record edited after it was written.
  [[nodiscard]] Status check_hash() const;
  [[nodiscard]] std::uint32_t payload_type() const noexcept;
  [[nodiscard]] std::string_view payload() const noexcept;

  /// The whole stored record (hash prefix and envelope), e.g. to copy it elsewhere.
  [[nodiscard]] std::string_view record() const noexcept { return record_; }

private:
  std::string_view record_;
};

/// An event that owns its record bytes. Cheap to move; copying copies the record.
class Event {
public:
  explicit Event(std::string record) : record_(std::move(record)) {}

  [[nodiscard]] EventView view() const noexcept { return EventView(record_); }
  [[nodiscard]] StreamId stream() const noexcept { return view().stream(); }
  [[nodiscard]] Seq seq() const noexcept { return view().seq(); }
  [[nodiscard]] Position position() const noexcept { return view().position(); }
  [[nodiscard]] std::uint64_t tick() const noexcept { return view().tick(); }
  [[nodiscard]] std::int64_t wall_time_us() const noexcept { return view().wall_time_us(); }
  [[nodiscard]] Actor actor() const noexcept { return view().actor(); }
  [[nodiscard]] std::uint64_t command_id() const noexcept { return view().command_id(); }
  [[nodiscard]] std::uint64_t causation() const noexcept { return view().causation(); }
  [[nodiscard]] std::uint32_t rules_version() const noexcept { return view().rules_version(); }
  [[nodiscard]] Hash prev_hash() const noexcept { return view().prev_hash(); }
  [[nodiscard]] Hash hash() const noexcept { return view().hash(); }
  [[nodiscard]] std::uint32_t payload_type() const noexcept { return view().payload_type(); }
  [[nodiscard]] std::string_view payload() const noexcept { return view().payload(); }

private:
  std::string record_;
};

} // namespace worldlog::log

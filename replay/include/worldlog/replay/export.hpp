// The export format: a log, or some of its streams, as text, so that a session can be attached
// to a bug report and replayed elsewhere; and the import that rebuilds an identical log from it.
//
// An export is JSON Lines: a header line, then one line per event in position order, each
// with every envelope field, the payload in base64 and the record's hash (docs/export-format.md
// is the reference for people). Importing a whole-log export gives the same streams,
// seqs, positions and wall times, and so the same record hashes, which the import checks line
// by line. Snapshots are not exported: they are derived from the events.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include <worldlog/log/event_log.hpp>
#include <worldlog/status.hpp>

namespace worldlog::replay {

/// The header line's "format" and "version". A reader refuses versions newer than its own.
/// Version 2 added the lines' "payload_version" and "command" (records of envelope format 3).
inline constexpr std::string_view export_format = "worldlog-export";
inline constexpr std::uint32_t export_version = 2;

/// Decodes an event for people: the "event" field of its line, or nullopt for none
/// (zone::describe_event<M> describes the records of model M).
using EventDescriber = std::function<std::optional<boost::json::value>(const log::EventView&)>;

struct ExportOptions {
  std::vector<log::StreamId> streams{}; ///< only these streams, in position order (empty: all)
  EventDescriber describe{};            ///< adds a decoded "event" to each line (none if empty)
};

struct ExportSummary {
  std::uint64_t events = 0;           ///< event lines written
  std::vector<log::StreamId> streams; ///< the streams exported
  bool whole_log = true;              ///< every stream; false when `streams` were chosen
};

/// Writes `log` to `out` in the export format: the events durable when the call starts (a log
/// being appended to meanwhile exports the same lines). Errors: not_found for a chosen stream
/// without events; corruption from reading the log; io_error when `out` fails.
[[nodiscard]] Result<ExportSummary> export_log(const log::EventLog& log, std::ostream& out,
                                               const ExportOptions& options = {});

struct ImportSummary {
  std::uint64_t events = 0;           ///< events appended
  std::vector<log::StreamId> streams; ///< the streams the export holds
  bool whole_log = true;              ///< positions and hashes are the source's (see below)
};

/// Appends the events of the export read from `in` to `log`, which must be empty, and checks
/// each appended record against its line: for a whole-log export, its position and hash (and
/// with it every field and the chain); for an export of chosen streams, which cannot keep the
/// source's positions (they are numbered afresh from 1, so the hashes differ), every field but
/// those. Errors: invalid_argument for a log that is not empty or a malformed line, naming
/// the line; corruption for an appended record that differs from its line, naming the line;
/// and the log's append errors.
[[nodiscard]] Result<ImportSummary> import_log(log::EventLog& log, std::istream& in);

/// "2024-11-21T08:15:02.123456Z": a wall time (µs since the epoch) in ISO 8601 UTC, as the
/// export and the tools print it.
[[nodiscard]] std::string format_wall_time(std::int64_t wall_time_us);

/// A wall time in µs since the epoch from ISO 8601 ("2024-11-21", "2024-11-21T08:15",
/// "2024-11-21T08:15:02.5Z", "2024-11-21 08:15:02+01:00"; no zone means UTC) or from a plain
/// number of µs. Errors: invalid_argument naming the text.
[[nodiscard]] Result<std::int64_t> parse_wall_time(std::string_view text);

} // namespace worldlog::replay

// A deterministic simulation of a whole world with injected faults, in the manner of
// FoundationDB's: the reference game's world (zones, presence, chat and their supervisors), the
// sessions of simulated players and the log all run on one thread, driven by one seeded scheduler
// and a manual clock, so the same seed always makes the same log, byte for byte.
//
//   SimReport report = simulate({.seed = 7, .steps = 20'000}).value();
//   if (report.violation) fmt::print("{}\n", report.violation->repro);
//
// Each step the scheduler draws one thing to happen, from the seed: a player's turn (its bot
// connects and joins, walks, fights, picks up, crosses into the next zone...), a few handlers of
// the actors' mailboxes, a group commit of a few queued appends, a tick of the clock — or a fault:
// the process crashes (every actor and every append not yet committed is dropped, the log reopened,
// the world restarted from it), the power fails (a crash that also loses what the disk had not
// synced: the log is buffered, and writes through a file system that forgets the unsynced part of
// each file but what writeback got to), the disk fills up (writes fail until a restart frees it), a
// zone crashes (its supervisor restarts it), a player's connection drops (its commands in flight
// are retried with the same ids once it is back), or a frame arrives twice. Crossings, logouts and
// retries are cut by crashes at every point the schedule reaches.
//
// After every step it checks that no player is in two zones and that every zone's items are
// conserved; every `check_every` steps, after each restart and at the end it lets the world settle
// and checks that each zone's live state hashes like a refold of its log, that no player is online
// without a connection, that the directory says where each character is, and that every
// acknowledged command is in the log (after a power loss: that the log is a prefix of the one
// before, up to the last writeback at least). Every outcome is checked as it comes: a client id is
// applied at most once per player, and a retry is answered with the first outcome. At the end every
// player logs out and in again and must get its character back, level, xp, inventory and quests.
// The first violation stops the run; the report names the step, what broke and a command that
// reproduces it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <worldlog/status.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::game {

struct SimOptions {
  std::uint64_t seed = 1;
  std::uint64_t steps = 10'000;
  std::uint32_t players = 12; ///< simulated players, ids 1..players
  zone::ZoneId zones = 3;     ///< zones in a row, so players cross between them
  /// Where the log is written; empty: a fresh directory under the system's temporary directory,
  /// removed at the end. An existing log in `dir` is refused (the run must start empty).
  std::filesystem::path dir{};
  std::uint64_t check_every = 1'000; ///< steps between the settled checks (refolds)
  /// The rules the zones are created with (ZoneInfo::rules: a rules file's text); empty: the
  /// defaults. `rules_file` is only named in the repro line.
  std::string rules{};
  std::string rules_file{};
};

/// The first invariant a run broke.
struct SimViolation {
  std::uint64_t step = 0;
  std::string invariant; ///< "one_zone_per_player", "items_conserved", ...
  std::string what;      ///< what broke, naming players, zones and seqs
  std::string repro;     ///< a `worldlog sim` command line that stops right after it
};

/// What happened in a run, counted.
struct SimCounts {
  std::uint64_t commands = 0;     ///< commands the players sent, retries included
  std::uint64_t acknowledged = 0; ///< outcomes applied (accepted or rejected, recorded)
  std::uint64_t duplicates = 0;   ///< retries answered with the first outcome
  std::uint64_t retries = 0;      ///< commands resent after a reconnect
  std::uint64_t duplicated_frames = 0;
  std::uint64_t crossings = 0; ///< players who arrived in another zone
  std::uint64_t disconnects = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t process_crashes = 0;
  std::uint64_t zone_crashes = 0;
  std::uint64_t power_losses = 0;   ///< crashes that also lost what the disk had not synced
  std::uint64_t disk_fulls = 0;     ///< times the disk filled up (until a restart freed it)
  std::uint64_t storage_errors = 0; ///< commands answered with the storage's error (disk full)
  std::uint64_t lost_appends = 0;   ///< appends queued but not committed when the process crashed
  std::uint64_t lost_events = 0;    ///< committed events a power loss took back (unsynced)
  /// Acknowledged outcomes whose events a power loss took back: buffered durability allows it.
  std::uint64_t lost_acknowledged = 0;
  std::uint64_t settled_checks = 0;
};

struct SimReport {
  std::uint64_t seed = 0;
  std::uint64_t steps = 0;  ///< steps run (fewer than asked when a violation stopped the run)
  std::string log_hash;     ///< hex SHA-256 of every stream's head (seq, hash) and position
  std::uint64_t events = 0; ///< events in the log at the end
  double seconds = 0;       ///< wall time of the run
  SimCounts counts;
  std::optional<SimViolation> violation;
};

/// Runs one simulation. Errors: only the environment's (the directory cannot be created, the
/// log cannot be opened); whatever the world does wrong is a violation in the report.
[[nodiscard]] Result<SimReport> simulate(const SimOptions& options);

} // namespace worldlog::game

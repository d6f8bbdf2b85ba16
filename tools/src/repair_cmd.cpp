// `worldlog repair --data DIR [--yes]`: the explicit way to open a log whose WAL is damaged
// before its last record, which every other command refuses. Without --yes it changes nothing:
// it opens a copy the way a repair would and says what the log would keep and what RocksDB
// would drop. With --yes it first copies the WAL files aside (DIR.damaged-N), then opens the
// log in place with everything from the damage on dropped, and says what is left.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

struct RepairOptions {
  std::string data;
  bool yes = false;
};

/// What a log holds, in a line: its last position and each stream's head.
std::string summary(const log::EventLog& log) {
  std::string heads;
  for (const log::StreamId stream : log.streams())
    heads +=
        fmt::format("{}stream {} at seq {}", heads.empty() ? "" : ", ", stream, log.head(stream));
  return fmt::format("{} events ({})", log.last_position(), heads.empty() ? "no streams" : heads);
}

/// Opens `dir` dropping a damaged WAL's tail; what RocksDB reported doing is added to `dropped`.
Result<std::unique_ptr<log::EventLog>> open_dropping(const std::filesystem::path& dir,
                                                     std::vector<std::string>& dropped) {
  return log::EventLog::open(
      dir, {.create_if_missing = false,
            .on_storage_message =
                [&dropped](bool, std::string_view message) { dropped.emplace_back(message); },
            .drop_damaged_wal = true});
}

/// A directory beside `dir` that does not exist yet: DIR.<what>-N.
std::filesystem::path beside(const std::filesystem::path& dir, std::string_view what) {
  for (int n = 1;; ++n) {
    auto candidate = dir;
    candidate += fmt::format(".{}-{}", what, n);
    std::error_code looked;
    if (!std::filesystem::exists(candidate, looked) && !looked) return candidate;
  }
}

/// Copies every file of `from` whose name passes `wanted` into `to` (made). Table files, which
/// RocksDB never changes once written, are hard-linked where the file system allows.
void copy_files(const std::filesystem::path& from, const std::filesystem::path& to,
                bool (*wanted)(const std::filesystem::path&)) {
  std::filesystem::create_directories(to);
  for (const auto& entry : std::filesystem::directory_iterator(from)) {
    if (!entry.is_regular_file() || !wanted(entry.path())) continue;
    const auto copy = to / entry.path().filename();
    std::error_code linked;
    if (entry.path().extension() == ".sst") std::filesystem::create_hard_link(entry, copy, linked);
    if (entry.path().extension() != ".sst" || linked) std::filesystem::copy_file(entry, copy);
  }
}

bool any_file(const std::filesystem::path& path) { return path.filename() != "LOCK"; }
bool wal_file(const std::filesystem::path& path) { return path.extension() == ".log"; }

void print_dropped(const std::vector<std::string>& dropped) {
  for (const auto& message : dropped)
    fmt::print("  {}\n", message);
}

void run_repair(const RepairOptions& options) {
  const std::filesystem::path dir = options.data;
  {
    auto opened = log::EventLog::open(dir, {.create_if_missing = false});
    if (opened.ok()) {
      fmt::print("{} opens as it is, with {}: nothing to repair\n", dir.string(),
                 summary(**opened));
      return;
    }
    if (opened.error().code() != Errc::corruption) {
      fail(fmt::format("{} cannot be opened, and not for damage a repair mends: {}", dir.string(),
                       opened.error()));
    }
    fmt::print("{} is refused on open: {}\n", dir.string(), opened.error());
  }

  std::vector<std::string> dropped;
  if (!options.yes) {
    const auto trial = beside(dir, "repair-trial");
    std::error_code removed;
    try {
      copy_files(dir, trial, any_file);
    } catch (const std::filesystem::filesystem_error& error) {
      std::filesystem::remove_all(trial, removed);
      fail(fmt::format("cannot copy {} to try the repair on: {}", dir.string(), error.what()));
    }
    std::string outcome;
    std::optional<Error> error;
    {
      auto repaired = open_dropping(trial, dropped);
      if (repaired.ok()) {
        outcome = summary(**repaired);
      } else {
        error = repaired.error();
      }
    }
    std::filesystem::remove_all(trial, removed);
    if (error) fail(fmt::format("even a repair cannot open {}: {}", dir.string(), *error));
    fmt::print("a repair would keep {}; the storage engine would drop, as it reported:\n", outcome);
    print_dropped(dropped);
    fmt::print("nothing was changed; run again with --yes to repair (the WAL files are copied "
               "aside first)\n");
    return;
  }

  const auto aside = beside(dir, "damaged");
  try {
    copy_files(dir, aside, wal_file);
  } catch (const std::filesystem::filesystem_error& error) {
    fail(fmt::format("cannot copy the WAL files of {} aside, so nothing was repaired: {}",
                     dir.string(), error.what()));
  }
  auto repaired = open_dropping(dir, dropped);
  if (!repaired.ok()) fail(fmt::format("the repair failed: {}", repaired.error()));
  fmt::print("repaired {}: it now holds {}; the damaged WAL files are in {}; the storage engine "
             "dropped, as it reported:\n",
             dir.string(), summary(**repaired), aside.string());
  print_dropped(dropped);
}

} // namespace

void add_repair_command(CLI::App& app) {
  auto options = std::make_shared<RepairOptions>();
  auto* command = app.add_subcommand(
      "repair", "Open a log whose WAL is damaged, dropping everything from the damage on (says "
                "what it would drop; changes nothing without --yes)");
  command->add_option("--data", options->data, "Directory of the log")->required();
  command->add_flag("--yes", options->yes,
                    "Do it: copy the WAL files aside, then drop the damaged part");
  command->callback([options] { run_repair(*options); });
}

} // namespace worldlog::tools

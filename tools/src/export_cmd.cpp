// `replay export` and `replay import`: a log as text (JSON Lines, see docs/export-format.md) for
// a bug report, and an identical log rebuilt from that text. The decoded "event" of each line
// comes from the model of its zone; --no-decode and import need no model.
#include <stdlib.h> // mkdtemp

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/tools/model_tools.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

struct ExportCommand {
  std::string data;
  std::vector<log::StreamId> zones;
  std::string format = "jsonl";
  std::string out; ///< empty: stdout
  bool no_decode = false;
};

struct ImportCommand {
  std::string data;
  std::string in; ///< empty: stdin
};

void run_export(const Models& models, const ExportCommand& options) {
  const auto log = open_existing_log(options.data);
  // Each line is described by the model of its zone; every zone's model is found before the
  // export starts, so a zone of a model this binary does not know is refused before a line is
  // written.
  StreamModels zone_models(models, *log);
  replay::EventDescriber describe;
  if (!options.no_decode) {
    for (const log::StreamId stream : options.zones.empty() ? log->streams() : options.zones) {
      if (auto found = zone_models.find(stream); !found.ok()) {
        fail(fmt::format("{}; --no-decode exports it without the decoded events",
                         found.error().message()));
      }
    }
    describe = [&zone_models](const log::EventView& event) -> std::optional<boost::json::value> {
      const ModelTools* model = zone_models.of(event.stream());
      return model != nullptr ? model->describe(event) : std::nullopt;
    };
  }
  const replay::ExportOptions export_options{.streams = options.zones,
                                             .describe = std::move(describe)};
  std::ofstream file;
  if (!options.out.empty()) {
    file.open(options.out, std::ios::binary | std::ios::trunc);
    if (!file) fail(fmt::format("cannot write {}", options.out));
  }
  std::ostream& out = options.out.empty() ? std::cout : file;
  const auto exported = replay::export_log(*log, out, export_options);
  if (!exported) {
    if (!options.out.empty()) {
      file.close();
      std::error_code ignored; // a half-written export must not pass for a whole one
      std::filesystem::remove(options.out, ignored);
    }
    fail(fmt::format("export failed: {}", exported.error()));
  }
  // stderr: stdout may be the export itself.
  fmt::print(stderr, "worldlog: exported {} events of zone{} {}{} ({})\n", exported->events,
             exported->streams.size() == 1 ? "" : "s", fmt::join(exported->streams, ", "),
             options.out.empty() ? "" : fmt::format(" to {}", options.out),
             exported->whole_log ? "the whole log"
                                 : "not the whole log: an import numbers positions afresh");
}

/// Whether `dir` is missing or an empty directory, the only places import writes a log.
bool fresh_target(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return !ec;
  return std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec);
}

void run_import(const ImportCommand& options) {
  const std::filesystem::path dir = options.data;
  if (!fresh_target(dir)) {
    fail(fmt::format("refusing to import into {}: it exists and is not an empty directory",
                     dir.string()));
  }
  std::ifstream file;
  if (!options.in.empty()) {
    file.open(options.in, std::ios::binary);
    if (!file) fail(fmt::format("cannot read {}", options.in));
  }
  std::istream& in = options.in.empty() ? std::cin : file;

  // The log is built in a directory of its own beside the target and renamed into place only
  // once complete: a failed or killed import never leaves a partial log where a log is looked
  // for (a killed one leaves the hidden ".<name>.importing-*" directory, named on stderr here).
  const std::filesystem::path target = std::filesystem::absolute(dir);
  std::filesystem::create_directories(target.parent_path());
  std::string pattern =
      (target.parent_path() / fmt::format(".{}.importing-XXXXXX", target.filename().string()))
          .string();
  if (mkdtemp(pattern.data()) == nullptr) {
    fail(fmt::format("cannot make a directory beside {} to import into: {}", dir.string(),
                     std::strerror(errno)));
  }
  const std::filesystem::path building = pattern;
  const auto undo = [&] {
    std::error_code ignored;
    std::filesystem::remove_all(building, ignored);
  };
  Result<replay::ImportSummary> imported = make_error(Errc::closed, "not imported");
  {
    auto opened =
        log::EventLog::open(building / "log", {.create_if_missing = true,
                                               .on_storage_message = log::print_storage_message});
    if (!opened) {
      undo();
      fail(fmt::format("cannot create a log beside {}: {}", dir.string(), opened.error()));
    }
    imported = replay::import_log(**opened, in);
  }
  if (!imported) {
    undo();
    fail(fmt::format("import failed: {}", imported.error()));
  }
  // rename(2) replaces a missing or empty directory, and nothing else: a target that got files
  // meanwhile is left alone.
  std::error_code renamed;
  std::filesystem::rename(building / "log", target, renamed);
  if (renamed) {
    undo();
    fail(fmt::format("cannot move the imported log into {}: {}", dir.string(), renamed.message()));
  }
  undo();
  fmt::print("imported {} events of {} {} into {}: {}\n", imported->events,
             imported->streams.size() == 1 ? "zone" : "zones", fmt::join(imported->streams, ", "),
             dir.string(),
             imported->whole_log
                 ? "every record's position and hash match its line"
                 : "every event matches its line (a partial export: positions renumbered from 1, "
                   "so record hashes differ from the source's)");
}

} // namespace

void add_replay_export_commands(CLI::App& app, const Models& models) {
  auto export_options = std::make_shared<ExportCommand>();
  auto* export_command = app.add_subcommand(
      "export", "Write the log (or some zones) as text, one JSON object per line, for a bug "
                "report; snapshots are not exported");
  export_command->add_option("--data", export_options->data, "Directory of the log")->required();
  export_command->add_option("--zone", export_options->zones,
                             "Only this zone (repeat for more; default: the whole log)");
  export_command->add_option("--format", export_options->format, "Text form of the export")
      ->check(CLI::IsMember({"jsonl"}))
      ->capture_default_str();
  export_command->add_option("--out", export_options->out, "Write to FILE (default: stdout)");
  export_command->add_flag("--no-decode", export_options->no_decode,
                           "Leave out the decoded \"event\" of each line (payloads stay)");
  export_command->callback([&models, export_options] { run_export(models, *export_options); });

  auto import_options = std::make_shared<ImportCommand>();
  auto* import_command = app.add_subcommand(
      "import", "Rebuild a log from an export in a new directory, checking every record "
                "against its line");
  import_command
      ->add_option("--data", import_options->data, "Directory of the new log (missing or empty)")
      ->required();
  import_command->add_option("--in", import_options->in, "Read FILE (default: stdin)");
  import_command->callback([import_options] { run_import(*import_options); });
}

} // namespace worldlog::tools

// The commands of worldlog::tools, and what they share: finding the model of a stream.
//
// Each add_X_command registers one subcommand (its options and its callback) on the app it is
// given; Cli's constructor calls them. A callback that fails calls fail(), which throws
// CLI::RuntimeError, and Cli::run turns that into exit status 1.
#pragma once

#include <map>

#include <CLI/CLI.hpp>

#include <worldlog/log/event_log.hpp>
#include <worldlog/status.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/tools/model_tools.hpp>

namespace worldlog::tools {

void add_events_command(CLI::App& app);
void add_verify_command(CLI::App& app);
void add_repair_command(CLI::App& app);
/// Registers state, step, verify, diff and bisect under the `replay` group given; returns
/// bisect's --invariant option, whose description Cli::run writes once the models are known.
CLI::Option* add_replay_commands(CLI::App& replay, const Models& models);
/// Registers export and import under the `replay` group given.
void add_replay_export_commands(CLI::App& replay, const Models& models);
/// Registers the `audit` group and its subcommands.
void add_audit_commands(CLI::App& app, const Models& models);
/// Registers `analyze`, the behaviour projection over a stored log.
void add_analyze_command(CLI::App& app, const Models& models);
/// Registers `view`, the viewer over a stored log.
void add_view_command(CLI::App& app, const Models& models);

/// The --invariant help of `replay bisect`: every model's invariants, one a line.
[[nodiscard]] std::string invariants_help(const Models& models);

/// The model of each stream of a log, read from its genesis once per stream.
class StreamModels {
public:
  /// REQUIRES: `models` and `log` outlive this.
  StreamModels(const Models& models, const log::EventLog& log) : models_(models), log_(log) {}

  /// The model of stream `stream`: the registered model its genesis names. A stream whose first
  /// record cannot be read or is not a genesis gets the first model registered (nullptr when
  /// there is none), whose replay then says what is wrong with it. Fails (see fail()) for a
  /// genesis that names a model not registered, naming it and the models there are.
  [[nodiscard]] const ModelTools* of(log::StreamId stream);
  /// As of(), but a genesis naming a model not registered is an error (not_found, with the
  /// message of() fails with) rather than a failure.
  [[nodiscard]] Result<const ModelTools*> find(log::StreamId stream);

private:
  const Models& models_;
  const log::EventLog& log_;
  std::map<log::StreamId, const ModelTools*> found_;
};

/// The model of `stream`, which must be known: StreamModels::of, and a failure naming the
/// stream when the binary knows no model at all.
[[nodiscard]] const ModelTools& model_of(const Models& models, const log::EventLog& log,
                                         log::StreamId stream);

} // namespace worldlog::tools

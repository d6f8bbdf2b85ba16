// worldlog::tools: the log tools of the `worldlog` binary as a library over the game model, for
// an embedder's own binary (RocksDB's LDBTool is the pattern):
//
//   int main(int argc, char** argv) {
//     worldlog::tools::Cli cli("mygame-log", "my game's log tools");
//     cli.models().add<MyModel>({.invariants = my_invariants()});
//     return cli.run(argc, argv);
//   }
//
// The commands, as docs/cli.md describes them: `events`, `verify`, `repair`, `replay
// state|step|verify|diff|bisect|export|import`, `audit player|verify|anchor`, `analyze`
// (docs/behaviour.md: a model's signals come from ModelPlugins<M>::behaviour) and `view` (the
// viewer over a stored log, docs/viewer.md). Every zone
// stream names its model in its genesis event (zone::Genesis), and a command that decodes
// events or states runs each stream with the registered model of that name; a stream of a model
// the binary does not know is refused, naming the model and the ones it knows, with exit status
// 1. The log-level commands (`events`, `verify`, `repair`, `audit verify`, `audit anchor`,
// `replay export --no-decode`, `replay import`) need no model and work on any log. A stream
// whose first record cannot be read or is not a genesis (a damaged or a non-zone stream) goes
// to the first model registered, whose replay then names what is wrong with it.
//
// Threads: none of its own. run() parses the command line and runs the command on the calling
// thread before it returns; nothing here is shared between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <worldlog/log/event_log.hpp>
#include <worldlog/tools/model_tools.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::tools {

/// The models a Cli knows, by name, in the order they were registered.
class Models {
public:
  /// Registers model M with its plug-ins. Throws std::invalid_argument when a model of the same
  /// name is registered already: a mistake in main, found when it starts (as CLI11 does with an
  /// option added twice).
  template <zone::GameModel M> Models& add(ModelPlugins<M> plugins = {}) {
    return add(std::make_unique<ModelToolsFor<M>>(std::move(plugins)));
  }
  /// Registers a model given as its ModelTools. Throws as add<M> does, and std::invalid_argument
  /// for a null model.
  Models& add(std::unique_ptr<ModelTools> model);

  /// The model named `name`, or nullptr.
  [[nodiscard]] const ModelTools* find(std::string_view name) const noexcept;
  /// Every model, in the order registered.
  [[nodiscard]] const std::vector<std::unique_ptr<ModelTools>>& all() const noexcept {
    return models_;
  }
  /// "worldlog.reference, acme.chess"; "none" when there are none.
  [[nodiscard]] std::string names() const;

private:
  std::vector<std::unique_ptr<ModelTools>> models_;
};

/// A command line with the log tools: a CLI11 app with the commands above, and the models they
/// decode streams with.
class Cli {
public:
  /// `name` is what --help and every error message are headed with ("mygame-log: ..."),
  /// `description` the line --help shows under it.
  Cli(std::string name, std::string description);
  ~Cli();
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;

  /// The models; register each before run().
  [[nodiscard]] Models& models() noexcept { return models_; }
  /// The CLI11 app, to add commands of your own before run() (the stock `worldlog` adds the
  /// reference game's `demo`, `serve`, `bots`, `sim` and `bench`). A command that fails should
  /// call fail() below.
  [[nodiscard]] CLI::App& app() noexcept { return app_; }

  /// Parses the command line and runs the command chosen, on this thread. Returns the exit
  /// status: 0 when it succeeded, 1 when it failed (having said why on stderr), and CLI11's for
  /// --help and usage errors.
  [[nodiscard]] int run(int argc, char** argv);

private:
  std::string name_;
  Models models_;
  CLI::App app_;
  CLI::Option* invariant_option_ = nullptr; ///< `replay bisect --invariant`, described in run()
};

/// Prints "NAME: <message>" to stderr, NAME being the Cli's (the last one made), and ends the
/// running command with exit status 1: it throws CLI::RuntimeError, which Cli::run turns into
/// the status without printing more.
[[noreturn]] void fail(std::string_view message);

/// Opens the log in `dir` for reading; a missing directory or a directory that holds no log
/// fails (see fail()), and never becomes a new empty log. Read-only, so it works beside a
/// server that is writing the log (the view is the log as of opening) and on a copy, and never
/// changes the files.
[[nodiscard]] std::unique_ptr<log::EventLog> open_existing_log(const std::filesystem::path& dir);

/// The whole of the file at `path` (a rules file, say), given by option `option`. Fails naming
/// the option and the path when it is missing, a directory, unreadable or over 1 MiB.
[[nodiscard]] std::string read_text_file(const std::filesystem::path& path,
                                         std::string_view option);

/// A "HOST:PORT" option (an IPv6 host in brackets) split into the host, brackets removed, and
/// the port. Fails naming `option` when the text is not of that form or the port is not a
/// number from 0 to 65535.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
[[nodiscard]] HostPort split_host_port(std::string_view text, std::string_view option);

/// A "HOST:PORT" option with an IP address as HOST, to listen on. Fails naming `option` when
/// it is not one.
[[nodiscard]] boost::asio::ip::tcp::endpoint listen_endpoint(std::string_view text,
                                                             std::string_view option);

} // namespace worldlog::tools

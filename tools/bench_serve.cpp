// `worldlog bench serve`: `worldlog serve` and `worldlog bots` run against each other as two
// processes on this machine, the way the targets are stated, and the figures of each run.
//
// Every run starts a server on a fresh log in a scratch directory (after a sync and a pause, so
// that the writeback of the run before does not land in this one), listening on ports the
// kernel picks; the bots play it for --seconds; the server then gets SIGTERM and must exit 0.
// A run reports the bots' figures (commands/s, round trip p50/p99, errors) and the CPU seconds
// each process used, from the kernel's accounting of the child: on a machine whose cores both
// processes share, that says which side ran out first. Beside them a probe times fdatasync on
// the log's filesystem while the bots play: results wait for their events' sync, so a disk that
// stalls puts a floor under the round trip that no CPU figure explains.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "disk_probe.hpp"
#include "latency.hpp"
#include "median.hpp"
#include "scratch_dir.hpp"
#include "serve_banner.hpp"
#include "viewer_watch.hpp"

extern char** environ;

namespace worldlog::tools {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct ServeBenchOptions {
  std::uint64_t players = 2'000;
  std::uint64_t zones = 64;
  bool spread = false;
  std::uint64_t seconds = 20;
  std::uint64_t move_every_ms = 150;
  std::uint64_t runs = 1;
  std::uint64_t event_batch_ms = 100;
  std::uint64_t settle_ms = 5'000;
  std::string dir;
  bool json = false;
  bool viewer = false; ///< keep the viewer open on zone 1 while the bots play (ViewerWatch)
};

/// How long the server may take to listen, and to stop after SIGTERM: only a hang takes this.
constexpr auto patience = std::chrono::seconds(60);

/// A child process of this one, its stdout and stderr going to files.
class Child {
public:
  /// Starts this program (/proc/self/exe) with `args`; fails naming the command if it cannot.
  Child(const std::vector<std::string>& args, const fs::path& out, const fs::path& err)
      : out_(out), err_(err) {
    std::vector<std::string> argv_text{"worldlog"};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_text)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int spawned =
        ::posix_spawn(&pid_, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      fail(fmt::format("cannot start `worldlog {}`: {}", args.front(), std::strerror(spawned)));
    }
  }
  /// A child still running when the benchmark fails is killed, not left behind.
  ~Child() {
    if (pid_ == 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// How a child ended, and the CPU it used.
  struct Ended {
    int status = 0;
    double cpu_seconds = 0; ///< user + system
  };

  /// Waits for the child; nullopt if it is still running at `deadline`.
  std::optional<Ended> wait(Clock::time_point deadline) {
    for (;;) {
      int status = 0;
      rusage usage{};
      const pid_t ended = ::wait4(pid_, &status, WNOHANG, &usage);
      if (ended == pid_) {
        pid_ = 0;
        const auto seconds = [](const timeval& time) {
          return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
        };
        return Ended{status, seconds(usage.ru_utime) + seconds(usage.ru_stime)};
      }
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void signal(int number) const {
    if (pid_ != 0) ::kill(pid_, number);
  }
  [[nodiscard]] std::string out() const { return read_text(out_); }
  [[nodiscard]] std::string err() const { return read_text(err_); }

private:
  static std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  pid_t pid_ = 0;
  fs::path out_;
  fs::path err_;
};

/// What a child's wait status means, for an error message.
std::string describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "ended";
}

struct RunFigures {
  double commands_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::uint64_t errors = 0;
  double serve_cpu_s = 0;
  double bots_cpu_s = 0;
  double wall_s = 0;
  DiskProbe::Figures disk;
  json::object written; ///< what the server's log wrote per event (serve --storage-stats)
  std::uint64_t viewer_frames = 0; ///< with --viewer: live map frames taken, and their bytes
  std::uint64_t viewer_bytes = 0;
  std::uint64_t viewer_polls = 0; ///< and API requests answered
};

double number(const json::object& report, std::string_view key) {
  const auto* value = report.if_contains(key);
  if (value == nullptr || !value->is_number()) {
    fail(fmt::format("the bots' report has no number '{}': {}", key, json::serialize(report)));
  }
  return value->to_number<double>();
}

/// The last line of `output`, a JSON object; `whose` names the output in the error.
json::object last_line_object(const std::string& output, std::string_view whose) {
  std::istringstream lines(output);
  std::string line;
  std::string last;
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  boost::system::error_code parse_error;
  json::value parsed = json::parse(last, parse_error);
  if (parse_error || !parsed.is_object()) {
    fail(fmt::format("{} last line is not a JSON object: '{}'", whose, last));
  }
  return std::move(parsed.as_object());
}

RunFigures run_once(const ServeBenchOptions& options, std::uint64_t run) {
  const ScratchDir scratch(options.dir);
  const fs::path secret = scratch.path() / "secret";
  std::ofstream(secret) << fmt::format("bench serve secret, run {} of {}\n", run, options.runs);
  // The run before left tens of megabytes to write back; they would land in this run's syncs.
  ::sync();
  std::this_thread::sleep_for(std::chrono::milliseconds(options.settle_ms));

  const auto started = Clock::now();
  Child serve({"serve", "--data", (scratch.path() / "data").string(), "--listen", "127.0.0.1:0",
               "--http", "127.0.0.1:0", "--secret-file", secret.string(), "--zones",
               std::to_string(options.zones), "--event-batch-ms",
               std::to_string(options.event_batch_ms), "--storage-stats"},
              scratch.path() / "serve.out", scratch.path() / "serve.err");
  std::optional<std::string> port;
  std::optional<std::uint16_t> http_port;
  for (const auto deadline = Clock::now() + patience;
       !(port = served_port(serve.out())) || !(http_port = served_http_port(serve.out()));) {
    if (auto ended = serve.wait(Clock::now()); ended) {
      fail(fmt::format("`worldlog serve` {} before it listened: {}", describe(ended->status),
                       serve.err()));
    }
    if (Clock::now() >= deadline) fail("`worldlog serve` did not listen within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  std::vector<std::string> bots_args{"bots",
                                     "--connect",
                                     "127.0.0.1:" + *port,
                                     "--secret-file",
                                     secret.string(),
                                     "--players",
                                     std::to_string(options.players),
                                     "--seconds",
                                     std::to_string(options.seconds),
                                     "--move-every",
                                     std::to_string(options.move_every_ms),
                                     "--json"};
  if (options.spread) bots_args.emplace_back("--spread");
  DiskProbe disk(scratch.path());
  std::optional<ViewerWatch> viewer;
  if (options.viewer) viewer.emplace(*http_port, 1);
  Child bots(bots_args, scratch.path() / "bots.out", scratch.path() / "bots.err");
  // The bots end on their own: ramp, --seconds of turns, then leaving, each bounded.
  const auto bots_ended =
      bots.wait(Clock::now() + std::chrono::seconds(options.seconds) + std::chrono::minutes(5));
  disk.stop();
  if (!bots_ended) fail("`worldlog bots` did not end within 5 minutes of its --seconds");
  if (!WIFEXITED(bots_ended->status) || WEXITSTATUS(bots_ended->status) != 0) {
    fail(fmt::format("`worldlog bots` {}: {}", describe(bots_ended->status), bots.err()));
  }

  serve.signal(SIGTERM);
  const auto serve_ended = serve.wait(Clock::now() + patience);
  if (!serve_ended) fail("`worldlog serve` did not stop within 60 s of SIGTERM");
  if (!WIFEXITED(serve_ended->status) || WEXITSTATUS(serve_ended->status) != 0) {
    fail(fmt::format("`worldlog serve` {} after SIGTERM: {}", describe(serve_ended->status),
                     serve.err()));
  }

  const std::uint64_t viewer_frames = viewer ? viewer->frames() : 0;
  const std::uint64_t viewer_bytes = viewer ? viewer->frame_bytes() : 0;
  const std::uint64_t viewer_polls = viewer ? viewer->polls() : 0;
  viewer.reset(); // the server closed its WebSocket
  const json::object report = last_line_object(bots.out(), "the bots'");
  return {number(report, "commands_per_s"),
          number(report, "p50_ms"),
          number(report, "p99_ms"),
          static_cast<std::uint64_t>(number(report, "errors")),
          serve_ended->cpu_seconds,
          bots_ended->cpu_seconds,
          std::chrono::duration<double>(Clock::now() - started).count(),
          disk.figures(),
          last_line_object(serve.out(), "`worldlog serve --storage-stats`'s"),
          viewer_frames,
          viewer_bytes,
          viewer_polls};
}

/// A figure of what the server's log wrote (RunFigures::written).
double written(const RunFigures& figures, std::string_view key) {
  const auto* value = figures.written.if_contains(key);
  return value != nullptr && value->is_number() ? value->to_number<double>() : 0.0;
}

void run_serve_bench(const ServeBenchOptions& options) {
  if (options.players == 0 || options.zones == 0 || options.seconds == 0 ||
      options.move_every_ms == 0 || options.runs == 0) {
    fail("--players, --zones, --seconds, --move-every and --runs must be positive");
  }
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  fmt::print("bench serve: {} players{} over {} zones, a turn every {} ms for {} s, events "
             "batched {} ms{}; server and bots share {} core{}\n",
             options.players, options.spread ? " spread out" : " crowded", options.zones,
             options.move_every_ms, options.seconds, options.event_batch_ms,
             options.viewer ? ", the viewer open on zone 1" : "", cores, cores == 1 ? "" : "s");
  std::fflush(stdout);
  std::vector<RunFigures> runs;
  for (std::uint64_t run = 1; run <= options.runs; ++run) {
    const RunFigures figures = run_once(options, run);
    fmt::print("run {}: {:.0f} commands/s, round trip p50 {:.2f} ms, p99 {:.2f} ms, {} errors; "
               "CPU serve {:.1f} s, bots {:.1f} s, of {:.1f} s on {} cores; disk fdatasync p99 "
               "{:.1f} ms, max {:.1f} ms, {} over 20 ms\n",
               run, figures.commands_per_s, figures.p50_ms, figures.p99_ms, figures.errors,
               figures.serve_cpu_s, figures.bots_cpu_s, figures.wall_s * cores, cores,
               figures.disk.p99_ms, figures.disk.max_ms, figures.disk.over_20ms);
    fmt::print("       the server's log wrote {:.0f} B per event: WAL {:.0f}, flushes {:.0f}, "
               "compactions {:.0f} ({:.0f} flushes, {:.0f} compactions); the kernel saw {:.0f} B "
               "per event\n",
               written(figures, "written_bytes_per_event"), written(figures, "wal_bytes_per_event"),
               written(figures, "flush_bytes_per_event"),
               written(figures, "compaction_bytes_per_event"), written(figures, "flushes"),
               written(figures, "compactions"), written(figures, "process_bytes_per_event"));
    fmt::print("       its appends to durable p99 {:.2f} ms, max {:.2f} ms; of it RocksDB Write "
               "p99 {:.2f} ms, max {:.2f} ms; of that WAL fdatasync p99 {:.2f} ms, max {:.2f} ms; "
               "stalled {:.2f} ms\n",
               written(figures, "commit_p99_ms"), written(figures, "commit_max_ms"),
               written(figures, "write_p99_ms"), written(figures, "write_max_ms"),
               written(figures, "wal_sync_p99_ms"), written(figures, "wal_sync_max_ms"),
               written(figures, "stall_ms"));
    fmt::print("       a command's p99 in the server: arrival to result {:.2f} ms; in a zone's "
               "mailbox {:.2f} ms, decided to appended {:.2f} ms, appended to durable {:.2f} ms\n",
               written(figures, "served_p99_ms"), written(figures, "mailbox_p99_ms"),
               written(figures, "batching_p99_ms"), written(figures, "log_p99_ms"));
    if (options.viewer) {
      fmt::print("       the viewer open on zone 1 took {} live map frames ({:.1f} MB) and had {} "
                 "API requests answered\n",
                 figures.viewer_frames, static_cast<double>(figures.viewer_bytes) / 1e6,
                 figures.viewer_polls);
    }
    std::fflush(stdout);
    runs.push_back(figures);
  }

  std::vector<double> p99s;
  std::uint64_t errors = 0;
  for (const auto& figures : runs) {
    p99s.push_back(figures.p99_ms);
    errors += figures.errors;
  }
  if (runs.size() > 1) {
    const auto [best, worst] = std::minmax_element(p99s.begin(), p99s.end());
    fmt::print("p99 over {} runs: median {:.2f} ms, best {:.2f} ms, worst {:.2f} ms; {} errors\n",
               runs.size(), median(p99s), *best, *worst, errors);
  }
  if (options.json) {
    json::array each;
    for (const auto& figures : runs) {
      each.push_back(json::object{{"commands_per_s", figures.commands_per_s},
                                  {"p50_ms", figures.p50_ms},
                                  {"p99_ms", figures.p99_ms},
                                  {"errors", figures.errors},
                                  {"serve_cpu_s", figures.serve_cpu_s},
                                  {"bots_cpu_s", figures.bots_cpu_s},
                                  {"disk_sync_p99_ms", figures.disk.p99_ms},
                                  {"disk_sync_max_ms", figures.disk.max_ms},
                                  {"disk_syncs_over_20ms", figures.disk.over_20ms},
                                  {"storage", figures.written},
                                  {"viewer_frames", figures.viewer_frames},
                                  {"viewer_polls", figures.viewer_polls}});
    }
    const json::object result{{"players", options.players}, {"zones", options.zones},
                              {"spread", options.spread},   {"p99_ms_median", median(p99s)},
                              {"errors", errors},           {"runs", std::move(each)}};
    fmt::print("{}\n", json::serialize(result));
  }
}

} // namespace

void add_bench_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeBenchOptions>();
  auto* command = app.add_subcommand(
      "serve", "Run `worldlog serve` and `worldlog bots` against each other on this machine");
  command->add_option("--players", options->players, "Bots, one connection each")
      ->capture_default_str();
  command->add_option("--zones", options->zones, "Zones of the served world")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  command->add_flag("--spread", options->spread,
                    "Each bot walks to a tile of its own (else every player of a zone sees "
                    "every other: the crowded case)");
  command->add_option("--seconds", options->seconds, "How long each bot takes turns, per run")
      ->capture_default_str();
  command->add_option("--move-every", options->move_every_ms, "Milliseconds between two turns")
      ->capture_default_str();
  command->add_option("--runs", options->runs, "Runs, each on a fresh log")->capture_default_str();
  command->add_option("--event-batch-ms", options->event_batch_ms, "The server's --event-batch-ms")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  command
      ->add_option("--settle-ms", options->settle_ms,
                   "Pause after syncing, before each run, for the disk to settle")
      ->capture_default_str();
  command->add_option("--dir", options->dir,
                      "Where each run's log is made (default: the temporary directory)");
  command->add_flag("--json", options->json, "Print the figures as one JSON object, last line");
  command->add_flag("--viewer", options->viewer,
                    "Keep the viewer open on zone 1 while the bots play: its live map over the "
                    "WebSocket, and the world and behaviour polled every second, as the page does");
  command->callback([options] { run_serve_bench(*options); });
}

} // namespace worldlog::tools

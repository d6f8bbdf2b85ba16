// `worldlog serve` and `worldlog bots` end to end, as docs/cli.md runs them: bots play against a
// served world over loopback, then SIGTERM stops the server, which snapshots every zone and
// leaves a log that verifies.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"
#include "serve_banner.hpp"
#include "support/dir_contents.hpp"

namespace worldlog::test {
namespace {

using Clock = std::chrono::steady_clock;
using tools::served_port;

/// How long to wait for the server to listen: only a hang (a bug) takes this long.
constexpr auto patience = std::chrono::seconds(60);

TEST_SUITE_BEGIN("cli");

/// A TCP port of 127.0.0.1 held by a listening socket for as long as this object lives.
class BusyPort {
public:
  BusyPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0; // any free port
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~BusyPort() { ::close(fd_); }
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;

  [[nodiscard]] std::string address() const { return fmt::format("127.0.0.1:{}", port_); }

private:
  int fd_;
  std::uint16_t port_ = 0;
};

TEST_CASE("serve on a busy port fails naming the address before it creates or changes a log") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const BusyPort busy;
  const fs::path data = dir / "data";
  bool existing = false;
  SUBCASE("a new world") {}
  SUBCASE("a world that exists") {
    existing = true;
    auto log = open_log(data, log::Options{});
    append_n(*log, 1, 3);
  }
  const auto before = dir_contents(data);
  for (const bool game_port : {true, false}) {
    CAPTURE(game_port);
    const Run served = run(
        {"serve", "--data", data.string(), "--listen", game_port ? busy.address() : "127.0.0.1:0",
         "--http", game_port ? "127.0.0.1:0" : busy.address(), "--secret-file", secret.string()});
    CHECK(served.status == 1);
    CHECK_SAYS(served.err, busy.address());
    CHECK(fs::exists(data) == existing);
    CHECK_CONTENTS_UNCHANGED(before, dir_contents(data));
  }
}

TEST_CASE("bots play a served world without an error and SIGTERM leaves a log that verifies") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const fs::path data = dir / "data";
  const TempDir serve_scratch("worldlog-cli-serve-");
  const pid_t serve = start({"serve", "--data", data.string(), "--listen", "127.0.0.1:0", "--http",
                             "127.0.0.1:0", "--secret-file", secret.string(), "--zones", "2"},
                            serve_scratch.path());
  std::optional<std::string> port;
  for (const auto deadline = Clock::now() + patience; !port && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    port = served_port(read_file(serve_scratch.path() / "stdout"));
  }
  constexpr int players = 20;
  Run bots;
  if (port) {
    bots = run({"bots", "--connect", "127.0.0.1:" + *port, "--secret-file", secret.string(),
                "--players", std::to_string(players), "--seconds", "2", "--json"});
  }
  ::kill(serve, SIGTERM);
  const Run served = finish(serve, serve_scratch.path());
  REQUIRE_MESSAGE(port, describe(served));
  REQUIRE_RUN_OK(bots);
  REQUIRE_RUN_OK(served);

  const json::value report = json::parse(lines_of(bots.out).back());
  CHECK(as_number(report.at("players")) == players);
  CHECK(as_number(report.at("errors")) == 0);
  CHECK(as_number(report.at("joined")) == players);
  CHECK(as_number(report.at("left")) == players);
  CHECK(as_number(report.at("unanswered")) == 0);
  // Every command was answered: 2 s of turns every 150 ms is 13 each, a few fewer when the
  // machine is slow (a bot that falls behind skips turns).
  const std::uint64_t sent = as_number(report.at("sent"));
  CHECK(sent >= players * 5);
  CHECK(as_number(report.at("accepted")) + as_number(report.at("rejected")) == sent);
  CHECK_SAYS(served.out, "every zone snapshotted");

  const Run verified = run({"audit", "verify", "--data", data.string()});
  REQUIRE_RUN_OK(verified);
  CHECK_SAYS(verified.out, "audit ok");
}

TEST_CASE("serve over a world made with another seed refuses at once, naming both seeds") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const fs::path data = copy_of_demo(dir); // seed 1, every zone snapshotted at its head
  std::vector<Seq> heads;
  for (StreamId zone = 1; zone <= 4; ++zone)
    heads.push_back(head_of(data, zone));
  const TempDir serve_scratch("worldlog-cli-serve-");
  const auto began = Clock::now();
  const pid_t serve =
      start({"serve", "--data", data.string(), "--seed", "2", "--listen", "127.0.0.1:0", "--http",
             "127.0.0.1:0", "--secret-file", secret.string()},
            serve_scratch.path());
  // Were it to serve, it is stopped once it says so, and the checks below fail.
  for (const auto deadline = began + patience; Clock::now() < deadline;) {
    siginfo_t exited{};
    if (::waitid(P_PID, static_cast<id_t>(serve), &exited, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        exited.si_pid == serve) {
      break;
    }
    if (served_port(read_file(serve_scratch.path() / "stdout"))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(serve, SIGTERM);
  const Run served = finish(serve, serve_scratch.path());
  CHECK(served.status == 1);
  CHECK_SAYS(served.err, "with seed 1");
  CHECK_SAYS(served.err, "with seed 2");
  CHECK(Clock::now() - began < patience / 4);
  // Nothing was written: the world made with seed 1 is as it was, and verifies.
  for (StreamId zone = 1; zone <= 4; ++zone)
    CHECK(head_of(data, zone) == heads[zone - 1]);
  const Run verified = run({"replay", "verify", "--data", data.string()});
  CHECK_MESSAGE(verified.status == 0, describe(verified));
}

TEST_CASE("serve --rules patches the zones of an existing world under other rules at start") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const fs::path data = copy_of_demo(dir); // 4 zones, seed 1, version 1
  const TempDir serve_scratch("worldlog-cli-serve-");
  const pid_t serve = start({"serve", "--data", data.string(), "--listen", "127.0.0.1:0", "--http",
                             "127.0.0.1:0", "--secret-file", secret.string(), "--rules",
                             std::string(WORLDLOG_EXAMPLES_DIR) + "/rules/gentle-wolves.json"},
                            serve_scratch.path());
  std::optional<std::string> port;
  for (const auto deadline = Clock::now() + patience; !port && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    port = served_port(read_file(serve_scratch.path() / "stdout"));
  }
  ::kill(serve, SIGTERM);
  const Run served = finish(serve, serve_scratch.path());
  REQUIRE_MESSAGE(port, describe(served));
  REQUIRE_RUN_OK(served);
  for (int zone = 1; zone <= 4; ++zone)
    CHECK_SAYS(served.out, fmt::format("zone {}: rules changed to version 2", zone));

  const json::value verified = run_json({"replay", "verify", "--data", data.string(), "--json"});
  const json::array spans = verdict_of(verified, 3).at("rules_spans").as_array();
  REQUIRE(spans.size() == 2);
  CHECK(as_number(spans[0].at("version")) == 1);
  CHECK(as_number(spans[1].at("version")) == 2);
}

/// Starts `serve` on `data` and waits until it listens (its world started); its pid.
pid_t start_serve(const fs::path& data, const fs::path& secret, const TempDir& scratch,
                  std::optional<std::string>& port) {
  const pid_t serve = start({"serve", "--data", data.string(), "--listen", "127.0.0.1:0",
                             "--secret-file", secret.string(), "--zones", "2"},
                            scratch.path());
  port.reset();
  for (const auto deadline = Clock::now() + patience; !port && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    port = served_port(read_file(scratch.path() / "stdout"));
  }
  return serve;
}

TEST_CASE("players online when serve is killed are logged out on restart, characters kept") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const fs::path data = dir / "data";
  std::optional<std::string> port;
  {
    const TempDir serve_scratch("worldlog-cli-serve-");
    const pid_t serve = start_serve(data, secret, serve_scratch, port);
    REQUIRE_MESSAGE(port, read_file(serve_scratch.path() / "stderr"));
    const TempDir bots_scratch("worldlog-cli-bots-");
    const pid_t bots = start({"bots", "--connect", "127.0.0.1:" + *port, "--secret-file",
                              secret.string(), "--players", "10", "--seconds", "30"},
                             bots_scratch.path());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ::kill(serve, SIGKILL);
    static_cast<void>(finish(serve, serve_scratch.path()));
    ::kill(bots, SIGTERM);
    static_cast<void>(finish(bots, bots_scratch.path()));
  }
  const auto online = [&] {
    std::uint64_t players = 0;
    std::uint64_t offline = 0;
    for (const char* zone : {"1", "2"}) {
      const Run state = run({"replay", "state", "--data", data.string(), "--zone", zone, "--json"});
      REQUIRE_RUN_OK(state);
      const json::value parsed = json::parse(state.out);
      players += parsed.at("state").at("players").as_array().size();
      offline += parsed.at("state").at("offline").as_array().size();
    }
    return std::pair{players, offline};
  };
  // The kill left the bots' players online in the log, with nobody connected.
  CHECK(online().first > 0);

  // Restarted, the server logs every one of them out before it serves anyone; a clean stop
  // then has nobody left to log out, and so does the next start.
  for (int restart = 0; restart < 2; ++restart) {
    const TempDir serve_scratch("worldlog-cli-serve-");
    const pid_t serve = start_serve(data, secret, serve_scratch, port);
    ::kill(serve, SIGTERM);
    const Run served = finish(serve, serve_scratch.path());
    REQUIRE_MESSAGE(port, describe(served));
    REQUIRE_RUN_OK(served);
    const auto [players, offline] = online();
    CHECK(players == 0);
    CHECK(offline == 10);
  }
}

TEST_CASE("bench serve runs a server and bots against each other and reports each run") {
  const TempDir dir;
  const Run benched =
      run({"bench", "serve", "--players", "10", "--zones", "2", "--seconds", "1", "--runs", "2",
           "--settle-ms", "0", "--dir", dir.path().string(), "--json"});
  REQUIRE_RUN_OK(benched);
  CHECK_SAYS(benched.out, "run 2: ");
  const json::value report = json::parse(lines_of(benched.out).back());
  CHECK(as_number(report.at("players")) == 10);
  CHECK(as_number(report.at("errors")) == 0);
  const auto& runs = report.at("runs").as_array();
  REQUIRE(runs.size() == 2);
  for (const auto& each : runs) {
    // 10 bots, a turn every 150 ms: about 67 commands a second once all play.
    CHECK(each.at("commands_per_s").to_number<double>() > 20);
    CHECK(each.at("p99_ms").to_number<double>() > 0);
    CHECK(each.at("serve_cpu_s").to_number<double>() > 0);
    CHECK(each.at("bots_cpu_s").to_number<double>() > 0);
    // The disk probe timed syncs while the bots played: a sync takes some time.
    CHECK(each.at("disk_sync_max_ms").to_number<double>() > 0);
    CHECK(each.at("disk_sync_max_ms").to_number<double>() >=
          each.at("disk_sync_p99_ms").to_number<double>());
    // What the server's log wrote: every event passed through the WAL, a record of some
    // hundred bytes at least.
    const auto& storage = each.at("storage").as_object();
    CHECK(as_number(storage.at("events_appended")) > 0);
    CHECK(storage.at("wal_bytes_per_event").to_number<double>() > 100);
    CHECK(storage.at("written_bytes_per_event").to_number<double>() >=
          storage.at("wal_bytes_per_event").to_number<double>());
    // Where the commands' time went: from arrival to result, and waiting to be durable, some.
    CHECK(storage.at("served_p99_ms").to_number<double>() > 0);
    CHECK(storage.at("log_p99_ms").to_number<double>() > 0);
  }
  // Each run's scratch directory, log included, is gone.
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("bench zone answers every command it offers and counts the appends of every zone") {
  const TempDir dir;
  const Run benched =
      run({"bench", "zone", "--players", "40", "--rate", "5", "--zones", "2", "--seconds", "1",
           "--settle-ms", "0", "--dir", dir.path().string(), "--json"});
  REQUIRE_RUN_OK(benched);
  const json::value report = json::parse(lines_of(benched.out).back());
  const auto& runs = report.at("runs").as_array();
  REQUIRE(runs.size() == 1);
  const auto& each = runs.front();
  // 40 players, 5 moves a second each, for a second: every one answered, most accepted (the
  // mobs are real: a player they kill moves no more).
  CHECK(as_number(each.at("accepted")) + as_number(each.at("rejected")) == 200);
  CHECK(as_number(each.at("accepted")) >= 150);
  CHECK(as_number(each.at("errors")) == 0);
  CHECK(each.at("error_kinds").as_object().empty());
  // Both zones answered for their appends, and the 240 commands (the joins too) took at least
  // one append per zone and at most one each.
  CHECK(as_number(each.at("zones_without_stats")) == 0);
  CHECK(as_number(each.at("appends")) >= 2);
  CHECK(as_number(each.at("appends")) <= 240);
  CHECK(each.at("wal_bytes_per_event").to_number<double>() > 100);
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("bench serve refuses a zone count the server would refuse, before starting anything") {
  const Run refused = run({"bench", "serve", "--zones", "65"});
  CHECK(refused.status != 0);
  CHECK_SAYS(refused.err, "--zones");
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

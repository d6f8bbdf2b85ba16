// Player behaviour as a leading indicator, live: `worldlog serve` with bots playing, and a zone
// that silently answers three moves in four as accepted without logging them (`--fault`). No log
// line says so; the behaviour projection that follows the server's log flags that zone's moves
// on /metrics within a bound of the fault's onset, and the same world without the fault raises
// nothing while the bots play (docs/behaviour.md, "A worked example").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"
#include "serve_banner.hpp"

namespace worldlog::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("cli");

constexpr int players = 20;
constexpr auto window = 2s;
/// The fault begins this long after serve starts: after the baselines' warm-up of 12 windows.
constexpr auto onset = 34s;
constexpr auto play = 60s;
/// Three windows out of line, the lateness of 2 s and the window's alignment take about 10 s;
/// the rest is room for a loaded machine.
constexpr auto detect_within = 22s;

/// The body of GET `target` from 127.0.0.1:`port` over HTTP/1.0 (the server closes after it),
/// or nullopt when the server does not answer.
std::optional<std::string> http_get(std::uint16_t port, std::string_view target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  std::optional<std::string> body;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = fmt::format("GET {} HTTP/1.0\r\n\r\n", target);
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      std::string response;
      char buffer[16 * 1024];
      for (ssize_t got = 0; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
        response.append(buffer, static_cast<std::size_t>(got));
      if (const auto end = response.find("\r\n\r\n"); end != std::string::npos)
        body = response.substr(end + 4);
    }
  }
  ::close(fd);
  return body;
}

/// The series of worldlog_behaviour_anomalies_total: "zone/signal" -> count.
std::map<std::string, std::uint64_t> anomalies_in(const std::string& metrics) {
  constexpr std::string_view name = "worldlog_behaviour_anomalies_total{signal=\"";
  std::map<std::string, std::uint64_t> found;
  for (const std::string& line : lines_of(metrics)) {
    if (!line.starts_with(name)) continue;
    const auto signal_end = line.find('"', name.size());
    const std::string signal = line.substr(name.size(), signal_end - name.size());
    const auto zone_begin = line.find("zone=\"") + 6;
    const std::string zone = line.substr(zone_begin, line.find('"', zone_begin) - zone_begin);
    found[zone + "/" + signal] = std::stoull(line.substr(line.rfind(' ') + 1));
  }
  return found;
}

struct Played {
  /// Each anomaly seen on /metrics while the bots played, with when it was first seen
  /// (from serve's start).
  std::map<std::string, Clock::duration> anomalies;
  Run bots;
  Run served;
};

/// Serves 2 zones to `players` bots for `play`, with `fault` (empty: none), reading /metrics
/// every 250 ms.
Played play_world(const std::string& fault) {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  std::vector<std::string> args{"serve",
                                "--data",
                                (dir / "data").string(),
                                "--listen",
                                "127.0.0.1:0",
                                "--http",
                                "127.0.0.1:0",
                                "--secret-file",
                                secret.string(),
                                "--zones",
                                "2",
                                "--behaviour-window-ms",
                                std::to_string(std::chrono::milliseconds(window).count())};
  if (!fault.empty()) {
    args.emplace_back("--fault");
    args.push_back(fault);
  }
  const TempDir serve_scratch("worldlog-cli-serve-");
  const auto started = Clock::now();
  const pid_t serve = start(args, serve_scratch.path());
  std::optional<std::string> port;
  std::optional<std::uint16_t> metrics_port;
  for (const auto deadline = started + 60s; !port && Clock::now() < deadline;) {
    std::this_thread::sleep_for(50ms);
    const std::string out = read_file(serve_scratch.path() / "stdout");
    port = tools::served_port(out);
    metrics_port = tools::served_http_port(out);
  }
  Played played;
  if (port && metrics_port) {
    const TempDir bots_scratch("worldlog-cli-bots-");
    const pid_t bots =
        start({"bots", "--connect", "127.0.0.1:" + *port, "--secret-file", secret.string(),
               "--players", std::to_string(players), "--spread", "--seconds",
               std::to_string(std::chrono::seconds(play).count()), "--json"},
              bots_scratch.path());
    // Until the bots begin to leave: what the analytics say about their end is not the test's.
    for (const auto end = Clock::now() + play - 2s; Clock::now() < end;) {
      std::this_thread::sleep_for(250ms);
      if (const auto metrics = http_get(*metrics_port, "/metrics")) {
        for (const auto& [series, count] : anomalies_in(*metrics))
          played.anomalies.try_emplace(series, Clock::now() - started);
      }
    }
    played.bots = finish(bots, bots_scratch.path());
  }
  ::kill(serve, SIGTERM);
  played.served = finish(serve, serve_scratch.path());
  REQUIRE_MESSAGE(port, describe(played.served));
  REQUIRE_MESSAGE(metrics_port, describe(played.served));
  return played;
}

std::string listed(const std::map<std::string, Clock::duration>& anomalies) {
  std::string text;
  for (const auto& [series, seen] : anomalies)
    text += fmt::format(" {} (seen {} ms after the start)", series,
                        std::chrono::duration_cast<std::chrono::milliseconds>(seen).count());
  return text.empty() ? " none" : text;
}

TEST_CASE("a world played by bots with no fault raises no behaviour anomaly") {
  const Played clean = play_world("");
  REQUIRE_RUN_OK(clean.bots);
  REQUIRE_RUN_OK(clean.served);
  CHECK_MESSAGE(clean.anomalies.empty(),
                (std::string("anomalies of an unfaulted world:") + listed(clean.anomalies)));
}

TEST_CASE("a zone that silently drops three moves in four is flagged on its moves within a bound") {
  const Played faulted = play_world(fmt::format(
      "drop-moves:2:75:{}", std::chrono::duration_cast<std::chrono::seconds>(onset).count()));
  REQUIRE_RUN_OK(faulted.bots);
  REQUIRE_RUN_OK(faulted.served);
  INFO("anomalies of the faulted world:", listed(faulted.anomalies));
  const auto flagged = faulted.anomalies.find("2/move");
  REQUIRE(flagged != faulted.anomalies.end());
  MESSAGE(fmt::format(
      "zone 2's moves flagged {} ms after the fault began",
      std::chrono::duration_cast<std::chrono::milliseconds>(flagged->second - onset).count()));
  CHECK(flagged->second > onset);
  CHECK(flagged->second < onset + detect_within);
  // Nothing else: the other zone plays on as before (the world, which sums the two, may drop).
  for (const auto& anomaly : faulted.anomalies) {
    const std::string& series = anomaly.first;
    CHECK_MESSAGE((series.starts_with("2/") || series.starts_with("world/")), series);
  }
}

TEST_CASE("a --fault that does not parse is refused, named, before serve or demo makes a log") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const fs::path data = dir / "data";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"drop-chat:1:50:0", "the only fault is drop-moves"},
      {"drop-moves:3:50:0", "the world has zones 1 to 2"},
      {"drop-moves:1:101:0", "PERCENT is at most 100"},
      {"drop-moves:1:x:0", "'x' is not a number"},
      {"drop-moves:1:50", "fewer than three numbers"},
      {"drop-moves:1:50:0:9", "more than three numbers"}};
  for (const auto& refused : cases) {
    const std::string& fault = refused.first;
    const std::string& why = refused.second;
    CAPTURE(fault);
    const Run served =
        run({"serve", "--data", data.string(), "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
             "--secret-file", secret.string(), "--zones", "2", "--fault", fault});
    CHECK(served.status == 1);
    CHECK_SAYS(served.err, why);
    const Run demo = run({"demo", "--data", data.string(), "--zones", "2", "--fault", fault});
    CHECK(demo.status == 1);
    CHECK_SAYS(demo.err, why);
    CHECK_FALSE(fs::exists(data));
  }
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

// The viewer end to end, as docs/viewer.md documents it for scripts: `worldlog view` over the
// demo's log and `worldlog serve` with bots playing, answered over real sockets; what the API
// shows is checked against what `worldlog replay` prints for the same seqs.
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cli/cli.hpp"
#include "serve_banner.hpp"
#include "support/dir_contents.hpp"

namespace worldlog::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

/// How long to wait for a server to start, or answer: only a hang (a bug) takes this long.
constexpr auto patience = std::chrono::seconds(60);

TEST_SUITE_BEGIN("cli");

struct Answer {
  unsigned status = 0;
  json::value body; ///< when the answer is JSON
  std::string content_type;
  std::string text; ///< the body as it came
};

/// GET http://127.0.0.1:port/target, on a connection of its own.
Answer get(std::uint16_t port, std::string_view target, std::string_view authorization = {}) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(patience);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> request(http::verb::get, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  Answer answer{response.result_int(), nullptr, std::string(response[http::field::content_type]),
                response.body()};
  if (answer.content_type == "application/json") answer.body = json::parse(answer.text);
  return answer;
}

/// GET that must answer 200; its JSON.
json::value get_ok(std::uint16_t port, std::string_view target) {
  Answer answer = get(port, target);
  REQUIRE_MESSAGE(answer.status == 200, fmt::format("GET {}: {} {}", target, answer.status,
                                                    json::serialize(answer.body)));
  return std::move(answer.body);
}

/// The error of a GET that must answer `status`.
std::string get_error(std::uint16_t port, std::string_view target, unsigned status) {
  const Answer answer = get(port, target);
  CHECK_MESSAGE(answer.status == status,
                fmt::format("GET {}: {} {}", target, answer.status, json::serialize(answer.body)));
  const json::object* object = answer.body.if_object();
  return object != nullptr && object->contains("error") ? as_text(object->at("error")) : "";
}

/// A WebSocket on ws://127.0.0.1:port/target, reading frames as JSON.
class Watcher {
public:
  Watcher(std::uint16_t port, std::string_view target) {
    beast::get_lowest_layer(ws_).expires_after(patience);
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws_.handshake("127.0.0.1", target);
  }
  json::value next() {
    beast::flat_buffer buffer;
    beast::get_lowest_layer(ws_).expires_after(patience);
    ws_.read(buffer);
    return json::parse(beast::buffers_to_string(buffer.data()));
  }

private:
  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_{io_};
};

/// The port in the URL a line of `out` gives after `prefix` ("...http://127.0.0.1:PORT/...").
std::optional<std::uint16_t> url_port(const std::string& out, std::string_view prefix) {
  const auto at = out.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  const auto begin = at + prefix.size();
  const auto end = out.find('/', begin);
  if (end == std::string::npos) return std::nullopt;
  return static_cast<std::uint16_t>(std::stoul(out.substr(begin, end - begin)));
}

/// `worldlog view ARGS...` started in `scratch`, once it printed its URL (its line whole).
struct Viewing {
  pid_t pid = 0;
  std::optional<std::uint16_t> port; ///< of a URL on 127.0.0.1
  std::string out;
};
Viewing start_view(const std::vector<std::string>& args, const TempDir& scratch) {
  Viewing viewing{start(args, scratch.path()), std::nullopt, {}};
  for (const auto deadline = Clock::now() + patience;
       viewing.out.find('\n') == std::string::npos && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    viewing.out = read_file(scratch.path() / "stdout");
  }
  viewing.port = url_port(viewing.out, "worldlog: viewer at http://127.0.0.1:");
  return viewing;
}

Run stop(pid_t pid, const TempDir& scratch) {
  ::kill(pid, SIGTERM);
  return finish(pid, scratch.path());
}

TEST_CASE("view serves the API over a stored log: the state hash is replay's, and the log is "
          "unchanged") {
  const TempDir dir;
  const fs::path data = copy_of_demo(dir);
  const auto before = dir_contents(data);
  const TempDir scratch("worldlog-cli-view-");
  const Viewing view =
      start_view({"view", "--data", data.string(), "--http", "127.0.0.1:0"}, scratch);
  REQUIRE_MESSAGE(view.port, read_file(scratch.path() / "stderr"));
  const std::uint16_t port = *view.port;
  CHECK_SAYS(view.out, fmt::format("worldlog: viewer at http://127.0.0.1:{}/\n", port));

  const json::value world = get_ok(port, "/api/world");
  CHECK(world.at("live") == false);
  CHECK(as_text(world.at("model")) == "worldlog.reference");
  const json::array& zones = world.at("zones").as_array();
  REQUIRE(zones.size() >= 2);
  CHECK(zones[0].at("zone") == 1);
  CHECK(zones[0].at("mailbox").is_null());
  const std::uint64_t head = as_number(zones[0].at("head"));
  REQUIRE(head > 10);

  // The state at a seq is the one `replay state` rebuilds: the same hash.
  const std::uint64_t at = head / 2;
  const json::value state = get_ok(port, fmt::format("/api/zones/1/state?at={}", at));
  CHECK(as_number(state.at("seq")) == at);
  const json::value replayed = run_json({"replay", "state", "--data", data.string(), "--zone", "1",
                                         "--at", std::to_string(at), "--json"});
  CHECK(state.at("hash") == replayed.at("state_hash"));
  CHECK(state.at("state").at("zone") == 1);
  // Without a seq: the head.
  CHECK(as_number(get_ok(port, "/api/zones/1/state").at("seq")) == head);

  const json::value events = get_ok(port, "/api/zones/1/events?from=1&limit=5");
  const json::array& listed = events.at("events").as_array();
  REQUIRE(listed.size() == 5);
  CHECK(as_number(events.at("head")) == head);
  CHECK(listed[0].at("seq") == 1);
  CHECK(listed[0].at("type") == "ZoneCreated");
  CHECK(listed[4].at("seq") == 5);

  // Each step's hash is the state's after it; the changes lead from one to the next.
  const json::value steps = get_ok(port, fmt::format("/api/zones/1/step?from={}&count=3", at));
  const json::array& stepped = steps.at("steps").as_array();
  REQUIRE(stepped.size() == 3);
  CHECK(as_number(stepped[0].at("seq")) == at);
  CHECK(stepped[0].at("hash") == state.at("hash"));
  CHECK(as_number(stepped[2].at("seq")) == at + 2);
  CHECK(stepped[2].at("hash") ==
        get_ok(port, fmt::format("/api/zones/1/state?at={}", at + 2)).at("hash"));

  const json::value diff = get_ok(port, fmt::format("/api/zones/1/diff?from=2&to={}", at));
  CHECK(diff.at("from").at("seq") == 2);
  CHECK(diff.at("to").at("hash") == state.at("hash"));
  CHECK_FALSE(diff.at("changes").as_array().empty());

  const json::value invariants = get_ok(port, "/api/invariants");
  REQUIRE_FALSE(invariants.as_array().empty());
  const std::string invariant = as_text(invariants.as_array()[0].at("name"));
  const json::value bisect =
      get_ok(port, fmt::format("/api/zones/1/bisect?invariant={}", invariant));
  CHECK(bisect.at("holds") == true);
  CHECK(bisect.at("first_broken").is_null());
  CHECK(as_number(bisect.at("checked_to")) == head);

  const json::value map = get_ok(port, "/api/zones/1/map");
  CHECK(as_number(map.at("width_mm")) > 0);
  CHECK(map.at("exits").as_array().size() == 1); // zone 1 has no west exit

  // A player's last events, oldest first, each naming its zone.
  std::optional<std::uint64_t> player;
  for (const json::value& event : listed)
    if (event.at("actor").at("kind") == "player") player = as_number(event.at("actor").at("id"));
  if (!player) {
    const json::value more = get_ok(port, "/api/zones/1/events?from=1&limit=1000");
    for (const json::value& event : more.at("events").as_array())
      if (!player && event.at("actor").at("kind") == "player")
        player = as_number(event.at("actor").at("id"));
  }
  REQUIRE(player);
  const json::value actor =
      get_ok(port, fmt::format("/api/actors/player/{}/events?limit=3", *player));
  const json::array& acted = actor.at("events").as_array();
  REQUIRE_FALSE(acted.empty());
  CHECK(acted.size() <= 3);
  for (const json::value& event : acted) {
    CHECK(as_number(event.at("actor").at("id")) == *player);
    CHECK(event.at("zone").is_number());
  }
  if (acted.size() == 3)
    CHECK(as_number(acted[0].at("position")) < as_number(acted[2].at("position")));

  // The live map of a stored log: the state at its head.
  Watcher watcher(port, "/ws/zones/1");
  const json::value frame = watcher.next();
  CHECK(as_number(frame.at("seq")) == head);
  CHECK(frame.at("hash") == get_ok(port, "/api/zones/1/state").at("hash"));

  const Run stopped = stop(view.pid, scratch);
  CHECK(stopped.status == 0);
  CHECK_CONTENTS_UNCHANGED(before, dir_contents(data));
}

TEST_CASE("view refuses bad parameters with 400 naming them, and what is not there with 404") {
  const TempDir scratch("worldlog-cli-view-");
  const Viewing view =
      start_view({"view", "--data", demo_log().string(), "--http", "127.0.0.1:0"}, scratch);
  REQUIRE_MESSAGE(view.port, read_file(scratch.path() / "stderr"));
  const std::uint16_t port = *view.port;

  CHECK_SAYS(get_error(port, "/api/zones/1/events?limit=5000", 400), "'limit'");
  CHECK_SAYS(get_error(port, "/api/zones/1/events?limit=0", 400), "'limit'");
  CHECK_SAYS(get_error(port, "/api/zones/1/step?count=101", 400), "'count'");
  CHECK_SAYS(get_error(port, "/api/zones/1/state?at=abc", 400), "'at'");
  CHECK_SAYS(get_error(port, "/api/zones/1/state?time=soon", 400), "'time'");
  CHECK_SAYS(get_error(port, "/api/zones/1/diff?from=1", 400), "'to'");
  CHECK_SAYS(get_error(port, "/api/zones/1/bisect", 400), "'invariant'");
  CHECK_SAYS(get_error(port, "/api/zones/1/bisect?invariant=no-such", 400), "'invariant'");
  CHECK_SAYS(get_error(port, "/api/actors/ghost/1/events", 400), "ghost");
  CHECK_SAYS(get_error(port, "/api/actors/player/1/events?limit=500", 400), "'limit'");

  CHECK_SAYS(get_error(port, "/api/zones/99/state", 404), "no zone 99");
  CHECK_SAYS(get_error(port, "/api/zones/x/map", 404), "no zone");
  CHECK_SAYS(get_error(port, "/api/zones/1/state?at=99999999", 404), "seq 99999999");
  CHECK_SAYS(get_error(port, "/api/zones/1/diff?from=1&to=0", 404), "seq 0");
  CHECK_SAYS(get_error(port, "/api/nothing", 404), "/api/nothing");
  CHECK_SAYS(get_error(port, "/viewer/../secret", 404), "no such file");
  CHECK_SAYS(get_error(port, "/viewer/%2e%2e/secret", 404), "no such file");
  // A WebSocket path asked without an upgrade.
  CHECK_SAYS(get_error(port, "/ws/zones/1", 400), "WebSocket");

  CHECK(stop(view.pid, scratch).status == 0);
}

TEST_CASE("view with a token answers 401 without it and 200 with it") {
  const TempDir scratch("worldlog-cli-view-");
  const Viewing view = start_view(
      {"view", "--data", demo_log().string(), "--http", "127.0.0.1:0", "--token", "let-me-in"},
      scratch);
  REQUIRE_MESSAGE(view.port, read_file(scratch.path() / "stderr"));
  const std::uint16_t port = *view.port;
  CHECK_SAYS(view.out, "?token=let-me-in");
  CHECK(get(port, "/api/world").status == 401);
  CHECK(get(port, "/api/world?token=wrong").status == 401);
  CHECK(get(port, "/api/world?token=let-me-in").status == 200);
  CHECK(get(port, "/api/world", "Bearer let-me-in").status == 200);
  CHECK(get(port, "/healthz").status == 200);
  CHECK(stop(view.pid, scratch).status == 0);
}

TEST_CASE("view bound beyond loopback makes a random token and prints it in its URL") {
  const TempDir scratch("worldlog-cli-view-");
  const Viewing view =
      start_view({"view", "--data", demo_log().string(), "--http", "0.0.0.0:0"}, scratch);
  const auto port = url_port(view.out, "worldlog: viewer at http://0.0.0.0:");
  REQUIRE_MESSAGE(port, (view.out + read_file(scratch.path() / "stderr")));
  const auto mark = view.out.find("?token=");
  REQUIRE(mark != std::string::npos);
  const std::string token = view.out.substr(mark + 7, view.out.find('\n', mark) - mark - 7);
  CHECK(token.size() == 32);
  CHECK(get(*port, "/api/world").status == 401);
  CHECK(get(*port, "/api/world?token=" + token).status == 200);
  CHECK(stop(view.pid, scratch).status == 0);
}

TEST_CASE("view --viewer-dir serves the page's files from it with their content types") {
  const TempDir dir;
  const fs::path page = dir / "page";
  fs::create_directories(page / "lib");
  std::ofstream(page / "index.html") << "<!doctype html><title>world</title>\n";
  std::ofstream(page / "viewer.js") << "console.log('map');\n";
  std::ofstream(page / "lib" / "chart.css") << "body {}\n";
  std::ofstream(dir / "secret.txt") << "not for the web\n";
  const TempDir scratch("worldlog-cli-view-");
  const Viewing view = start_view({"view", "--data", demo_log().string(), "--http", "127.0.0.1:0",
                                   "--viewer-dir", page.string()},
                                  scratch);
  REQUIRE_MESSAGE(view.port, read_file(scratch.path() / "stderr"));
  const std::uint16_t port = *view.port;

  const Answer index = get(port, "/");
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  CHECK(index.text == "<!doctype html><title>world</title>\n");
  const Answer script = get(port, "/viewer/viewer.js");
  CHECK(script.status == 200);
  CHECK(script.content_type == "text/javascript; charset=utf-8");
  CHECK(script.text == "console.log('map');\n");
  const Answer style = get(port, "/viewer/lib/chart.css");
  CHECK(style.status == 200);
  CHECK(style.content_type == "text/css; charset=utf-8");

  CHECK(get(port, "/viewer/missing.js").status == 404);
  CHECK(get(port, "/viewer/../secret.txt").status == 404);
  CHECK(get(port, "/viewer/%2e%2e/secret.txt").status == 404);
  CHECK(get(port, "/viewer/lib/../../secret.txt").status == 404);
  CHECK(stop(view.pid, scratch).status == 0);
}

TEST_CASE("demo --view serves the viewer of the world it just wrote, and says so without it") {
  const TempDir dir;
  const fs::path data = dir / "data";
  const Run plain = run({"demo", "--data", data.string(), "--seconds", "1", "--players", "4"});
  REQUIRE_RUN_OK(plain);
  CHECK_SAYS(plain.out, fmt::format("run `worldlog view --data {}` and open http://127.0.0.1:7778/",
                                    data.string()));

  const TempDir scratch("worldlog-cli-demo-view-");
  const pid_t demo = start({"demo", "--data", data.string(), "--seconds", "1", "--players", "4",
                            "--view", "127.0.0.1:0"},
                           scratch.path());
  std::optional<std::uint16_t> port;
  for (const auto deadline = Clock::now() + patience; !port && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string out = read_file(scratch.path() / "stdout");
    if (out.find("/\n", out.find("worldlog: viewer at ")) != std::string::npos)
      port = url_port(out, "worldlog: viewer at http://127.0.0.1:");
  }
  // What the viewer shows is the log the demo wrote, both runs of it.
  const std::optional<json::value> world =
      port ? std::optional<json::value>(get_ok(*port, "/api/world")) : std::nullopt;
  const Run viewed = stop(demo, scratch);
  REQUIRE_MESSAGE(port, describe(viewed));
  REQUIRE_RUN_OK(viewed);
  CHECK_SAYS(viewed.out, "worldlog: verified");
  CHECK(as_number(world->at("position")) == open_log(data, {.read_only = true})->last_position());
}

TEST_CASE("serve prints its viewer URL, and the live map follows a zone bots play in") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const TempDir scratch("worldlog-cli-serve-");
  const pid_t serve =
      start({"serve", "--data", (dir / "data").string(), "--listen", "127.0.0.1:0", "--http",
             "127.0.0.1:0", "--secret-file", secret.string(), "--zones", "2"},
            scratch.path());
  std::optional<std::string> game_port;
  std::optional<std::string> viewer;
  for (const auto deadline = Clock::now() + patience; !viewer && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string out = read_file(scratch.path() / "stdout");
    game_port = tools::served_port(out);
    viewer = tools::served_viewer(out);
  }
  REQUIRE_MESSAGE(viewer, read_file(scratch.path() / "stderr"));
  REQUIRE(game_port);
  const auto port = url_port(*viewer, "http://127.0.0.1:");
  REQUIRE(port);
  CHECK(viewer->find("token") == std::string::npos); // loopback: no token

  const TempDir bots_scratch("worldlog-cli-bots-");
  const pid_t bots = start({"bots", "--connect", "127.0.0.1:" + *game_port, "--secret-file",
                            secret.string(), "--players", "10", "--seconds", "20"},
                           bots_scratch.path());
  // Frames come as zone 1 moves on, their seqs growing.
  Watcher watcher(*port, "/ws/zones/1");
  const std::uint64_t first = as_number(watcher.next().at("seq"));
  std::uint64_t later = first;
  for (int i = 0; i < 3; ++i)
    later = as_number(watcher.next().at("seq"));
  CHECK(later > first);

  // The world's zones with their live figures; the bots come online.
  std::uint64_t online = 0;
  for (const auto deadline = Clock::now() + patience; online == 0 && Clock::now() < deadline;) {
    const json::value world = get_ok(*port, "/api/world");
    CHECK(world.at("live") == true);
    const json::array& zones = world.at("zones").as_array();
    REQUIRE(zones.size() == 2);
    CHECK(zones[0].at("mailbox").is_number());
    for (const json::value& zone : zones)
      online += as_number(zone.at("online"));
    if (online == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(online > 0);
  CHECK(get_ok(*port, "/api/behaviour").at("scopes").is_array());
  CHECK(get(*port, "/metrics").status == 200);

  ::kill(bots, SIGTERM);
  static_cast<void>(finish(bots, bots_scratch.path()));
  ::kill(serve, SIGTERM);
  const Run served = finish(serve, scratch.path());
  REQUIRE_RUN_OK(served);
}

TEST_CASE("serve bound beyond loopback wants the token its viewer URL carries") {
  const TempDir dir;
  const fs::path secret = dir / "secret";
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  const TempDir scratch("worldlog-cli-serve-");
  const pid_t serve =
      start({"serve", "--data", (dir / "data").string(), "--listen", "127.0.0.1:0", "--http",
             "0.0.0.0:0", "--secret-file", secret.string(), "--zones", "1"},
            scratch.path());
  std::optional<std::string> viewer;
  for (const auto deadline = Clock::now() + patience; !viewer && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    viewer = tools::served_viewer(read_file(scratch.path() / "stdout"));
  }
  REQUIRE_MESSAGE(viewer, read_file(scratch.path() / "stderr"));
  const auto port = url_port(*viewer, "http://0.0.0.0:");
  REQUIRE(port);
  const auto mark = viewer->find("?token=");
  REQUIRE(mark != std::string::npos);
  const std::string token = viewer->substr(mark + 7);
  CHECK(token.size() == 64);
  CHECK(get(*port, "/api/world").status == 401);
  CHECK(get(*port, "/api/world?token=" + token).status == 200);
  CHECK(get(*port, "/metrics").status == 200);

  ::kill(serve, SIGTERM);
  REQUIRE_RUN_OK(finish(serve, scratch.path()));
}

TEST_SUITE_END();

} // namespace
} // namespace worldlog::test

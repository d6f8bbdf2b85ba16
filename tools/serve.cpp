// `worldlog serve`: the reference game's world behind a TCP listener speaking the wire protocol
// (schemas/protocol.fbs), with the viewer (docs/viewer.md) on its HTTP port, and `worldlog
// token`, which prints a player's token.
//
// Threads: the zones run on a pool of two, the game's network on one io_context thread, the
// HTTP endpoints and the viewer on another, the ticks on their own, the behaviour projection
// and the viewer's live map one each (reading the log). SIGINT
// or SIGTERM: stop accepting, answer what is in flight, close every connection, then the world's
// clean shutdown (every zone snapshots) and the log closes. A restart continues where it stopped.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <worldlog/game/world.hpp>
#include <worldlog/latency_histogram.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/net/http.hpp>
#include <worldlog/net/metrics.hpp>
#include <worldlog/net/server.hpp>
#include <worldlog/net/token.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/ticker.hpp>
#include <worldlog/tools/behaviour_follower.hpp>
#include <worldlog/tools/viewer.hpp>

#include "commands.hpp"
#include "disk_writes.hpp"
#include "fault.hpp"
#include "rules_file.hpp"
#include "serve_banner.hpp"

namespace worldlog::tools {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::uint64_t tick_us = 50'000;

struct ServeOptions {
  std::string data = "./worldlog-data";
  std::string listen = "127.0.0.1:7777";
  std::string http = "127.0.0.1:7778";
  std::string secret_file;
  std::uint64_t zones = 4;
  std::uint64_t seed = 1;
  std::uint32_t max_frame = 64 * 1024;
  std::uint32_t rate = 50;
  std::uint64_t idle_timeout_ms = 30'000;
  std::uint64_t max_connections = 10'000;
  std::uint64_t event_batch_ms = 100;
  std::uint64_t view_radius_m = 20;
  std::uint64_t full_rate_movers = zone::ZoneOptions{}.full_rate_movers;
  std::uint64_t far_move_ticks = zone::ZoneOptions{}.far_move_ticks;
  bool storage_stats = false; ///< count what the log writes, and print it when stopped
  std::uint64_t behaviour_window_ms = 10'000;
  std::string fault;      ///< "drop-moves:ZONE:PERCENT:AFTER_SECONDS", or empty
  std::string rules_file; ///< --rules: the rules file new zones record and running ones adopt
};

net::Secret secret_or_exit(const std::string& file) {
  auto secret = net::read_secret(file);
  if (!secret.ok()) fail(std::string(secret.error().message()));
  return std::move(secret).value();
}

/// Each zone's players online (from the directory) and mailbox depth.
std::map<zone::ZoneId, ZoneFigures> zone_figures(game::World& world, zone::ZoneId zones) {
  std::map<zone::ZoneId, ZoneFigures> figures;
  for (zone::ZoneId zone = 1; zone <= zones; ++zone) {
    const auto running = world.zones().zone(zone);
    figures[zone] = {.online = 0, .mailbox = running ? running->mailbox_depth() : 0};
  }
  for (const auto& [player, place] : world.directory().places()) {
    if (!place.online) continue;
    if (auto found = figures.find(place.zone); found != figures.end()) ++*found->second.online;
  }
  return figures;
}

void serve(const ServeOptions& options, const Models& models) {
  const net::Secret secret = secret_or_exit(options.secret_file);
  const tcp::endpoint listen = listen_endpoint(options.listen, "--listen");
  const tcp::endpoint http = listen_endpoint(options.http, "--http");
  std::function<bool(zone::ZoneId, const game::Command&)> drop;
  if (!options.fault.empty()) drop = parse_fault(options.fault, options.zones);
  const std::string rules = options.rules_file.empty() ? "" : read_rules_file(options.rules_file);
  // The viewer is read-only, but beyond loopback it shows the world only to the secret's holders.
  const std::string viewer_token =
      http.address().is_loopback() ? std::string() : net::viewer_token(secret);

  // The sockets are bound first: an address that is in use (or not this host's) is refused
  // before the log is opened, so a refused serve creates no world and changes no log.
  net::Metrics metrics; // before the log, which reports every commit to it
  asio::io_context io;  // before everything that posts to it, so that it outlives them
  // /metrics, /healthz and the viewer on a thread of their own: a viewer's request (a fold, a
  // bisect) never holds up the game's sessions on `io`.
  asio::io_context http_io;
  auto listening = net::bind_listener(io, listen);
  if (!listening.ok()) fail(std::string(listening.error().message()));
  // /healthz and the viewer ask the world and the log, which exist only once the log is open.
  // Requests are served only by io.run() below, while the world runs.
  game::World* running_world = nullptr;
  Viewer* running_viewer = nullptr;
  auto endpoints = net::HttpServer::start(
      http_io, http,
      {.metrics = [&metrics] { return metrics.prometheus_text(); },
       .health = [&running_world]() -> Status {
         if (running_world == nullptr) return make_error(Errc::closed, "the world is starting");
         if (auto failed = running_world->zones().write_failure()) return std::move(*failed);
         if (!running_world->world_supervisor()) {
           return make_error(Errc::closed, "the world supervisor is restarting");
         }
         return {};
       },
       .handler =
           [&running_viewer](const net::HttpRequest& request) {
             if (running_viewer == nullptr) return net::json_error(503, "the world is starting");
             return running_viewer->handle(request);
           }},
      {.token = viewer_token});
  if (!endpoints.ok()) fail(std::string(endpoints.error().message()));

  auto opened =
      log::EventLog::open(options.data, {.create_if_missing = true,
                                         .on_commit = net::append_batch_metrics(metrics),
                                         .on_storage_message = net::storage_messages(metrics),
                                         .storage_statistics = options.storage_stats});
  if (!opened.ok())
    fail(fmt::format("cannot open the log in {}: {}", options.data, opened.error()));
  log::EventLog& log = **opened;

  // Player behaviour as a health signal, read from the log on a thread of its own.
  BehaviourFollower behaviour(
      log, models,
      {.options = {.window_us = static_cast<std::int64_t>(options.behaviour_window_ms) * 1000}});
  metrics.add_collector([&behaviour](net::Sink& sink) { behaviour.collect(sink); });

  runtime::SystemClock clock;
  asio::thread_pool pool(2);
  // With --storage-stats: where the commands' time went, from arrival on.
  const auto stages = options.storage_stats ? std::make_shared<zone::StageTimes>() : nullptr;
  worldlog::LatencyHistogram served; // arrival -> result, as the server saw it
  game::WorldOptions world_options{
      .zones = options.zones,
      .seed = options.seed,
      .tick_us = tick_us,
      .rules = rules,
      .zone = {.view_radius_mm = static_cast<std::int64_t>(options.view_radius_m) * 1000,
               .full_rate_movers = options.full_rate_movers,
               .far_move_ticks = options.far_move_ticks,
               .stage_times = stages}};
  world_options.drop = std::move(drop);
  game::World world(pool.get_executor(), log, clock, std::move(world_options));
  if (Status started = world.start(); !started.ok()) {
    fail(fmt::format("the world did not start: {}", started.error()));
  }
  // Zones of an existing world under other rules adopt these, and their logs say so.
  if (!rules.empty()) patch_rules(world, options.zones, rules);
  running_world = &world;
  runtime::Ticker ticker(std::chrono::microseconds(tick_us), [&world] { world.tick(); });
  // The viewer reads the log (and the behaviour projection), never the zones, so the command
  // path does no work for it.
  Viewer viewer(log, models, behaviour,
                {.live = [&world, zones = options.zones] { return zone_figures(world, zones); }});
  running_viewer = &viewer;

  net::Server server(io, world, secret,
                     net::ServerOptions{
                         .max_frame = options.max_frame,
                         .commands_per_second = options.rate,
                         .command_burst = options.rate,
                         .idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms),
                         .max_connections = options.max_connections,
                         .event_batch = std::chrono::milliseconds(options.event_batch_ms),
                     });
  auto bound = server.listen(std::move(listening).value());
  if (!bound.ok()) fail(std::string(bound.error().message()));
  net::add_server_metrics(metrics, server, log);
  if (stages) {
    server.add_latency_observer(
        [&served](std::uint64_t micros) { served.record(std::chrono::microseconds(micros)); });
  }
  // Tests and scripts read the ports and the viewer's URL from this line (with HOST:0).
  fmt::print("{}\n",
             serve_banner(options.zones, options.data, bound->address().to_string(), bound->port(),
                          (*endpoints)->local_endpoint().address().to_string(),
                          (*endpoints)->local_endpoint().port(),
                          viewer_url((*endpoints)->local_endpoint(), viewer_token)));
  std::fflush(stdout);
  std::optional<DiskWrites> disk; // from the first command on
  if (options.storage_stats) disk.emplace(log);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code error, int signal) {
    if (error) return;
    fmt::print("worldlog: signal {}: finishing the commands in flight\n", signal);
    std::fflush(stdout);
    (*endpoints)->stop();
    server.stop(10s, [&io] { io.stop(); });
  });
  // Started once the world and the viewer are up, which it reads; joined before anything
  // below can fail (and stopped if io.run() throws, a bug). The signal stopped the endpoints,
  // so it runs out of work.
  std::thread http_thread([&http_io] { http_io.run(); });
  try {
    io.run();
  } catch (...) {
    http_io.stop();
    http_thread.join();
    throw;
  }
  http_thread.join();

  ticker.stop();
  if (Status stopped = world.shutdown(30s); !stopped.ok()) {
    fail(fmt::format("the world did not shut down cleanly: {}", stopped.error()));
  }
  const auto& counters = server.counters();
  fmt::print("worldlog: stopped after {} connections, {} commands accepted, {} rejected; "
             "every zone snapshotted\n",
             counters.connections_total.load(), counters.commands_accepted.load(),
             counters.commands_rejected.load());
  if (disk) {
    // What `bench serve` reads: the last line, a JSON object.
    const WritesPerEvent written = disk->settled();
    written.print();
    const auto p99_ms = [](const worldlog::LatencyHistogram& histogram) {
      return static_cast<double>(histogram.percentile_us(0.99)) / 1000;
    };
    fmt::print("worldlog: a command's time, p99: arrival to result {:.2f} ms; of it in a zone's "
               "mailbox {:.2f} ms, decided to appended {:.2f} ms, appended to durable {:.2f} ms\n",
               p99_ms(served), p99_ms(stages->mailbox), p99_ms(stages->batching),
               p99_ms(stages->log));
    boost::json::object figures{{"events_appended", written.events},
                                {"served_p99_ms", p99_ms(served)},
                                {"mailbox_p99_ms", p99_ms(stages->mailbox)},
                                {"batching_p99_ms", p99_ms(stages->batching)},
                                {"log_p99_ms", p99_ms(stages->log)}};
    written.add_to(figures);
    fmt::print("{}\n", boost::json::serialize(figures));
  }
}

} // namespace

void add_serve_commands(CLI::App& app, const Models& models) {
  auto options = std::make_shared<ServeOptions>();
  auto* serve_command = app.add_subcommand(
      "serve", "Run the world behind a TCP listener (the wire protocol of schemas/protocol.fbs)");
  serve_command->add_option("--data", options->data, "Directory of the event log")
      ->capture_default_str();
  serve_command->add_option("--listen", options->listen, "HOST:PORT of the game protocol")
      ->capture_default_str();
  serve_command
      ->add_option("--http", options->http,
                   "HOST:PORT of /metrics, /healthz and the viewer (beyond loopback the viewer "
                   "needs the token its URL carries)")
      ->capture_default_str();
  serve_command
      ->add_option("--secret-file", options->secret_file,
                   "File holding the server secret (tokens are HMACs under it)")
      ->required();
  serve_command->add_option("--zones", options->zones, "Zones of the world")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve_command->add_option("--seed", options->seed, "World seed (maps, mob spawn points)")
      ->capture_default_str();
  serve_command->add_option("--rules", options->rules_file,
                            "Rules file (docs/rules.md): new zones record it in their genesis, "
                            "zones of an existing world under other rules change to it");
  serve_command->add_option("--max-frame", options->max_frame, "Largest frame a client may send")
      ->capture_default_str()
      ->check(CLI::Range(256, 16 << 20));
  serve_command->add_option("--rate", options->rate, "Commands per second per connection")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve_command
      ->add_option("--view-radius-m", options->view_radius_m,
                   "Players see what happens this close to them (a zone is 64 m square)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  serve_command
      ->add_option("--full-rate-movers", options->full_rate_movers,
                   "In a crowd a player is told every move of this many nearest movers, and of "
                   "the others only the latest, every --far-move-ticks (0: every move of all)")
      ->capture_default_str();
  serve_command
      ->add_option("--far-move-ticks", options->far_move_ticks,
                   "Ticks between two moves told of a mover beyond a player's nearest")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  serve_command
      ->add_option("--event-batch-ms", options->event_batch_ms,
                   "World events wait up to this long to be sent together (0: at once); "
                   "results go at once")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  serve_command
      ->add_option("--idle-timeout-ms", options->idle_timeout_ms,
                   "Close a connection that sends nothing for this long")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve_command
      ->add_option("--max-connections", options->max_connections,
                   "Connections at once; more are told server_full and closed")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve_command->add_flag("--storage-stats", options->storage_stats,
                          "Count the bytes the log writes and time each command's stages (a "
                          "little CPU on every write and command) and print both when stopped, "
                          "the last line a JSON object");
  serve_command
      ->add_option("--behaviour-window-ms", options->behaviour_window_ms,
                   "Width of the behaviour analytics' windows (docs/behaviour.md)")
      ->capture_default_str()
      ->check(CLI::Range(10, 3'600'000));
  serve_command->add_option("--fault", options->fault, std::string(fault_help));
  serve_command->callback([options, &models] { serve(*options, models); });

  auto token_options = std::make_shared<std::pair<std::uint64_t, std::string>>();
  auto* token_command =
      app.add_subcommand("token", "Print a player's token (hex) for the server's secret");
  token_command->add_option("--player", token_options->first, "Player id")->required();
  token_command->add_option("--secret-file", token_options->second, "The server's secret file")
      ->required();
  token_command->callback([token_options] {
    const net::Secret secret = secret_or_exit(token_options->second);
    const net::Token token = net::make_token(secret, token_options->first);
    fmt::print("{}\n", log::to_hex(std::string_view(reinterpret_cast<const char*>(token.data()),
                                                    token.size())));
  });
}

} // namespace worldlog::tools

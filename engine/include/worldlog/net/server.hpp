// The network front of a world of any model: a TCP listener speaking the wire protocol
// (schemas/protocol.fbs, docs/protocol.md), one session per connection.
//
//   net::Server server(io, world, secret, {.max_frame = 64 * 1024}); // world: world::World<M>
//   auto bound = server.listen({asio::ip::make_address("127.0.0.1"), 7777});
//   io.run();                 // until server.stop() and the world's shutdown
//
// The envelope (Hello, Welcome, CommandResult, Error, Events) is the engine's; the commands and
// events inside it are the model's own bytes (served_world.hpp). A session acts only as the
// player its token names: commands go to the player's zone with that player as the actor, so a
// command for another entity is rejected by the model and recorded in the log. A result is sent
// only once the command's events are durable. Each session sees the events near its player (the
// zone's interest grid); an event is encoded once, however many sessions it goes to.
//
// Threads. Everything a session does with its socket, its reads, its writes and its timers, and
// everything the server does to accept and stop, runs on the threads that run `io` (one is
// enough; more share the work, but a session's handlers never overlap: each one is started
// from the last, or posted with the others of its session behind a flag). The world answers on
// its own threads: a command's result comes from a zone's strand or the log's commit thread
// and is posted to `io`; a world event is queued from the zone's strand (under the session's
// out_mutex_), and written from `io` when its batch lane's interval ends.
//
// What a hostile client can do is bounded per connection: the frame size, commands per second
// (a token bucket), client ids remembered for duplicates, the bytes waiting to be sent (a
// client that does not read is disconnected), the time between frames (idle timeout), and the
// number of connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <worldlog/net/protocol.hpp>
#include <worldlog/net/served_world.hpp>
#include <worldlog/net/token.hpp>
#include <worldlog/status.hpp>

namespace worldlog::net {

struct ServerOptions {
  std::uint32_t max_frame = 64 * 1024;      ///< bytes of one incoming frame, at most
  std::uint32_t commands_per_second = 50;   ///< per connection, sustained
  std::uint32_t command_burst = 50;         ///< per connection, at once
  std::size_t max_outgoing_bytes = 4 << 20; ///< unsent bytes before a slow reader is dropped
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  std::size_t max_connections = 10'000;
  std::size_t remembered_client_ids = 4'096; ///< per connection, for duplicate detection
  /// World events wait up to this long to leave together (results and errors go at once, and
  /// take every event queued before them along): a crowd's moves then cost a few large
  /// writes per connection instead of one small write each. Zero sends every event at once.
  /// Ten updates a second, two game ticks: measured at 2,000 players moving every 150 ms, a
  /// fifth fewer TCP segments than one tick and about half the round-trip p50.
  std::chrono::milliseconds event_batch = std::chrono::milliseconds(100);
};

/// What the server counts, for /metrics. Every field only grows, except `connections`.
struct ServerCounters {
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> commands_accepted{0};
  std::atomic<std::uint64_t> commands_rejected{0};
  std::atomic<std::uint64_t> commands_failed{0}; ///< lost: the zone was overloaded or closed
  std::atomic<std::uint64_t> events_sent{0};     ///< world events queued to sessions
  std::atomic<std::uint64_t> frames_received{0};
  /// Errors sent, by ErrorCode (index = the code's number).
  std::array<std::atomic<std::uint64_t>, error_code_count> errors{};
};

class Session;

/// An acceptor on `io` bound to `endpoint` (port 0: any free port) and listening, which accepts
/// nothing until it is given to Server::listen: a program can hold its address before it opens
/// anything else, and fail without having changed anything when the address is taken. Errors:
/// io_error naming the address (in use, no permission).
[[nodiscard]] Result<boost::asio::ip::tcp::acceptor>
bind_listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint);

class Server {
public:
  /// Serves `world`. REQUIRES: `io` outlives the server; the world is started.
  Server(boost::asio::io_context& io, std::unique_ptr<ServedWorld> world, Secret secret,
         ServerOptions options);
  /// Serves a world::World<M>. REQUIRES: `io`, `world` outlive the server; the world is started.
  template <world::PlayerModel M>
  Server(boost::asio::io_context& io, world::World<M>& world, Secret secret, ServerOptions options)
      : Server(io, std::make_unique<WorldOf<M>>(world), std::move(secret), options) {}
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Starts accepting on `endpoint` (port 0: any free port). Errors: io_error naming the
  /// address (in use, no permission).
  [[nodiscard]] Result<boost::asio::ip::tcp::endpoint>
  listen(const boost::asio::ip::tcp::endpoint& endpoint);
  /// Starts accepting on `listening`, bound and listening already (bind_listener), and returns
  /// its address. REQUIRES: `listening` belongs to this server's io_context.
  [[nodiscard]] Result<boost::asio::ip::tcp::endpoint>
  listen(boost::asio::ip::tcp::acceptor listening);

  /// Stops accepting and reading commands; sessions answer what is in flight (their results
  /// come as the zones make them durable), then say shutting_down and close. `done` is called
  /// (on the io_context) once every session has closed or after `grace`.
  void stop(std::chrono::milliseconds grace, std::function<void()> done);

  [[nodiscard]] const ServerCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const ServerOptions& options() const noexcept { return options_; }
  [[nodiscard]] ServedWorld& world() noexcept { return *world_; }
  /// Adds an observer of the round trips from a command's arrival to its result, in µs (the
  /// latency histogram, a benchmark's own). Before `listen`.
  void add_latency_observer(std::function<void(std::uint64_t micros)> observe) {
    latency_observers_.push_back(std::move(observe));
  }

private:
  friend class Session;

  void accept();
  /// Registers `player` as connected through `session`; false when it already is.
  bool claim(std::uint64_t player, const std::shared_ptr<Session>& session);
  void release(std::uint64_t player, const Session* session);
  void closed(const Session* session);
  /// Sessions take turns in batch_lanes lanes, whose batch intervals end at evenly spaced
  /// moments: a tick's events for every session then leave as several small bursts, not one
  /// that holds up every read and result behind thousands of writes.
  static constexpr std::size_t batch_lanes = 10;
  struct BatchLane {
    explicit BatchLane(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    std::vector<std::weak_ptr<Session>> batched; // guarded by batch_mutex_
    bool armed = false;                          // guarded by batch_mutex_
  };

  /// Has `session`, of lane `lane`, write its queued events when its lane's batch interval
  /// ends. The sessions of a lane then write together (measured: steadier than each on its own
  /// schedule), a few at a time so that reads and results are not held up behind all of them.
  void flush_later(std::size_t lane, std::weak_ptr<Session> session);
  /// When lane `lane`'s interval that is under way ends.
  [[nodiscard]] std::chrono::steady_clock::time_point batch_end(std::size_t lane) const;
  void flush_batch(BatchLane& lane);
  void flush_some();

  boost::asio::io_context& io_;
  std::unique_ptr<ServedWorld> world_;
  Secret secret_;
  ServerOptions options_;
  ServerCounters counters_;
  std::vector<std::function<void(std::uint64_t)>> latency_observers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  bool stopping_ = false;
  std::function<void()> stopped_;
  std::mutex mutex_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_; // guarded by mutex_
  std::unordered_map<std::uint64_t, const Session*> players_;           // guarded by mutex_
  std::size_t next_lane_ = 0; ///< for the next session; io_context only
  const std::chrono::steady_clock::time_point batch_epoch_ = std::chrono::steady_clock::now();
  std::mutex batch_mutex_;
  std::vector<std::unique_ptr<BatchLane>> lanes_;
  std::deque<std::weak_ptr<Session>> flushing_; ///< of the batches that ended; io_context only
};

class Metrics;

/// Registers worldlog_append_batch_events, the events of each durable write to the log, and
/// returns what feeds it: pass it as log::Options::on_commit when opening the log.
/// REQUIRES: `metrics` outlives the log.
[[nodiscard]] std::function<void(std::size_t events)> append_batch_metrics(Metrics& metrics);

/// Registers worldlog_storage_errors_total and worldlog_storage_warnings_total and returns what
/// counts them and prints each message on stderr: pass it as log::Options::on_storage_message.
/// REQUIRES: `metrics` outlives the log.
[[nodiscard]] std::function<void(bool error, std::string_view message)>
storage_messages(Metrics& metrics);

/// Registers what `server`, its world and `log` show on /metrics: connections, frames, commands
/// by result, protocol errors by code, events sent, the round-trip latency histogram and its
/// p99, the log's last position (events appended), zone mailbox depths and zone restarts.
/// REQUIRES: all three outlive every later scrape of `metrics`.
void add_server_metrics(Metrics& metrics, Server& server, const log::EventLog& log);

} // namespace worldlog::net

// `worldlog bots`: N players over real TCP connections from one process, as load for
// `worldlog serve`.
//
// Each bot is one connection with two coroutines on its own strand: `live` runs its life
// (connect, Hello, Join, a turn every --move-every, Leave, close) and `read_frames` takes what
// the server sends (the Welcome, one CommandResult per command, world events, errors). The turns
// are an open loop on a fixed schedule: a bot does not wait for one command's answer before it
// sends the next, so a slow server shows as latency rather than as fewer commands. Latency runs
// from the moment a command is handed to the socket to its CommandResult; how late the bots were
// for their turns is reported beside it, so that a saturated bots process is not mistaken for a
// slow server.
//
// What a bot plays is bots_player.hpp: by default every bot steps to and fro beside its zone's
// spawn point, so every player of a zone sees every other (the crowded case); with --spread each
// first walks to a tile of its own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <worldlog/game/model.hpp>
#include <worldlog/net/frame.hpp>
#include <worldlog/net/protocol.hpp>
#include <worldlog/net/token.hpp>

#include "bots_player.hpp"
#include "bots_tally.hpp"
#include "commands.hpp"
#include "latency.hpp"

namespace worldlog::tools {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// A command without its CommandResult after this long is an error (a timeout), and so is a
/// connection, a Hello or a write that takes longer.
constexpr auto answer_timeout = 5s;
/// The server's frames are trusted to be sane, but not unbounded.
constexpr std::size_t max_frame_from_server = std::size_t{64} << 20;
constexpr std::size_t read_chunk = 16 * 1024;
/// Connections open one after the other over this long at most (a millisecond per bot, but
/// never faster than one --move-every), so that the server is not hit by N handshakes at once
/// and the bots' turns fall evenly over the period.
constexpr auto longest_ramp = 2000ms;

/// What every client shares. Set before the first client starts; then only the atomics and the
/// histograms (which are thread-safe) change.
struct Run {
  std::string address; ///< as the user wrote it, for messages
  tcp::resolver::results_type endpoints;
  net::Secret secret;
  std::chrono::milliseconds move_every{};
  std::chrono::seconds seconds{};    ///< how long each bot takes turns
  bool spread = false;               ///< each bot walks to a post of its own (spread_post)
  std::atomic<bool> stopping{false}; ///< Ctrl-C: end the turns, leave and close
  std::atomic<bool> give_up{false};  ///< nobody could connect: the others need not try
  std::atomic<std::uint64_t> connected{0};
  LatencyHistogram latency; ///< command handed to the socket -> its CommandResult
  LatencyHistogram lag;     ///< how late the bots took their turns
};

class Client {
public:
  /// Player `player`, which connects at `start_at` and takes turns for run.seconds from then.
  /// Every handler runs on `strand`.
  Client(asio::any_io_executor strand, Run& run, game::EntityId player, Clock::time_point start_at)
      : run_(run), player_id_(player), start_at_(start_at), play_end_(start_at + run.seconds),
        socket_(strand), wake_(strand), decoder_(max_frame_from_server) {}

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// The bot's whole life; co_spawn it on the strand. Its reader runs on until the socket
  /// closes, so the Client must outlive the io_context's run().
  asio::awaitable<void> live();

  /// Read once every handler has run.
  [[nodiscard]] const BotTally& tally() const noexcept { return tally_; }

private:
  struct Pending {
    Clock::time_point sent;
    game::Command command;
    bool awaited = false; ///< call() waits for its answer
  };
  struct Answer {
    bool accepted = false;
    game::Reject reason{}; ///< when rejected by the rules; 0 when refused by an Error frame
  };

  [[nodiscard]] bool playing(Clock::time_point now) const {
    return now < play_end_ && !run_.stopping.load(std::memory_order_relaxed) &&
           !run_.give_up.load(std::memory_order_relaxed);
  }

  asio::awaitable<bool> connect();
  asio::awaitable<bool> handshake();
  asio::awaitable<bool> join();
  asio::awaitable<void> play();
  asio::awaitable<void> leave();
  asio::awaitable<void> read_frames();

  /// Sends `command` with the next client id; false when the connection is down. An `awaited`
  /// command's answer goes to awaited_answer_.
  asio::awaitable<bool> send(game::Command command, bool awaited = false);
  /// Sends `command` and waits for its answer; nullopt on a timeout or a lost connection.
  asio::awaitable<std::optional<Answer>> call(game::Command command);
  asio::awaitable<bool> write(std::string frame);
  /// Returns at `deadline`, or earlier when the reader calls notify(); callers check again
  /// what they wait for.
  asio::awaitable<void> wait_until(Clock::time_point deadline);
  void notify() { wake_.cancel(); }

  void on_message(net::Message& message);
  void on_welcome(const net::Welcome& welcome);
  void on_result(const net::CommandResult& result);
  void on_events(const net::Events& events);
  void on_error(const net::Error& error);
  /// Counts the commands older than answer_timeout as timed out.
  void expire(Clock::time_point now);
  /// Counts an error and closes the connection.
  void drop(const std::string& kind, std::string message);
  void close();

  Run& run_;
  const game::EntityId player_id_;
  const Clock::time_point start_at_;
  const Clock::time_point play_end_;
  tcp::socket socket_;
  /// The coroutine of `live` sleeps on it; the reader cancels it when something `live` may be
  /// waiting for has happened (a Welcome, an awaited answer, the connection going down).
  asio::steady_timer wake_;
  net::FrameDecoder decoder_;
  BotTally tally_;
  std::optional<BotPlayer> player_;          ///< once welcomed: the map is known then
  std::map<std::uint64_t, Pending> pending_; ///< by client id, so the oldest comes first
  std::set<std::uint64_t> timed_out_;        ///< client ids counted as timed out
  /// Client ids are the zone's idempotency keys for the player, across connections: a Join
  /// with an id an earlier run of the same player used would be answered from that run's
  /// outcome and not applied. Counting up from the wall clock in µs keeps every run's ids above
  /// the last one's.
  std::uint64_t next_client_id_ = 0;
  std::optional<Answer> awaited_answer_; ///< of the command call() waits for, once it came
  bool in_play_ = false;                 ///< taking turns: answers now count towards commands/s
  bool draining_ = false;                ///< leaving: every answer wakes `live`
  bool down_ = false;                    ///< the connection is closed, or closing
};

asio::awaitable<void> Client::live() {
  co_await wait_until(start_at_);
  if (!playing(Clock::now())) co_return;
  const bool connected = co_await connect();
  if (!connected) co_return;
  asio::co_spawn(socket_.get_executor(), read_frames(), asio::detached);
  const bool welcomed = co_await handshake();
  if (welcomed) {
    const bool joined = co_await join();
    if (joined) {
      co_await play();
      co_await leave();
    }
  }
  close();
}

asio::awaitable<bool> Client::connect() {
  asio::steady_timer timeout(socket_.get_executor(), answer_timeout);
  auto result = co_await (asio::async_connect(socket_, run_.endpoints, use_tuple) ||
                          timeout.async_wait(use_tuple));
  std::string why;
  if (result.index() == 1) {
    why = fmt::format("no answer within {} s", answer_timeout.count());
  } else if (const auto& [ec, endpoint] = std::get<0>(result); ec) {
    why = ec.message();
  }
  if (!why.empty()) {
    tally_.error("connect", fmt::format("cannot connect to {}: {}", run_.address, why));
    if (run_.connected.load() == 0) run_.give_up.store(true);
    co_return false;
  }
  run_.connected.fetch_add(1);
  ++tally_.connected;
  next_client_id_ =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  // Frames are small and latency is what we measure: no Nagle. Failing to set it only makes the
  // figures worse, which the report shows.
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  boost::system::error_code error;
  socket_.non_blocking(true, error); // write() relies on it
  if (error) {
    drop("connect", fmt::format("player {}: cannot make the socket non-blocking: {}", player_id_,
                                error.message()));
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Client::handshake() {
  const net::Token token = net::make_token(run_.secret, player_id_);
  // Named, not a temporary of the co_await expression: gcc 12 destroys such temporaries twice.
  const net::Hello hello{player_id_, {token.begin(), token.end()}};
  std::string frame = net::frame(net::encode(hello));
  const bool written = co_await write(std::move(frame));
  if (!written) co_return false;
  const auto deadline = Clock::now() + answer_timeout;
  while (!player_ && !down_ && Clock::now() < deadline)
    co_await wait_until(deadline);
  if (player_) co_return true;
  if (!down_) {
    drop("timeout", fmt::format("player {}: no Welcome from {} within {} s", player_id_,
                                run_.address, answer_timeout.count()));
  }
  co_return false;
}

asio::awaitable<bool> Client::join() {
  auto answer = co_await call(game::join(player_id_));
  if (answer && !answer->accepted && answer->reason == game::Reject::already_joined) {
    // An earlier run left the player in the world (it was killed before it could leave): take
    // it out and in again, so that it stands at the spawn point, where its stride begins.
    answer = co_await call(game::leave(player_id_));
    if (answer && answer->accepted) answer = co_await call(game::join(player_id_));
  }
  if (!answer || !answer->accepted) co_return false;
  ++tally_.joined;
  co_return true;
}

asio::awaitable<void> Client::play() {
  const auto first = Clock::now() + run_.move_every;
  auto due = first;
  auto last = first;
  in_play_ = true;
  while (!down_) {
    co_await wait_until(due);
    const auto now = Clock::now();
    if (down_ || now < due) continue;
    if (!playing(now)) break;
    run_.lag.record(now - due);
    last = now;
    expire(now);
    if (auto command = player_->next(now)) {
      const bool sent = co_await send(std::move(*command));
      if (!sent) break;
    }
    // A bot more than a turn behind skips what it missed instead of sending a burst.
    due = std::max(due + run_.move_every, now);
  }
  in_play_ = false;
  tally_.played += std::max(last - first, Clock::duration{});
  if (player_->at_post()) ++tally_.at_post;
}

asio::awaitable<void> Client::leave() {
  if (down_) co_return;
  const auto answer = co_await call(game::leave(player_id_));
  if (answer && answer->accepted) ++tally_.left;
  // The commands sent before the Leave get their full answer_timeout too.
  draining_ = true;
  while (!pending_.empty() && !down_) {
    const auto deadline = pending_.begin()->second.sent + answer_timeout;
    if (Clock::now() >= deadline) {
      expire(Clock::now());
    } else {
      co_await wait_until(deadline);
    }
  }
}

asio::awaitable<void> Client::read_frames() {
  std::vector<char> buffer(read_chunk);
  while (!down_) {
    const auto [ec, size] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) {
      if (!down_) {
        drop("disconnected",
             fmt::format("player {}: the server at {} closed the connection ({})", player_id_,
                         run_.address, ec == asio::error::eof ? "end of stream" : ec.message()));
      }
      break;
    }
    decoder_.feed({buffer.data(), size});
    while (!down_) {
      auto frame = decoder_.next();
      if (!frame) {
        drop("bad_frame",
             fmt::format("player {}: from {}: {}", player_id_, run_.address, frame.error()));
        break;
      }
      if (!*frame) break;
      auto decoded = net::decode(**frame);
      if (const auto* bad = std::get_if<net::ProtocolError>(&decoded)) {
        drop("bad_frame",
             fmt::format("player {}: a frame from {} that does not decode ({}): {}", player_id_,
                         run_.address, net::error_code_name(bad->code), bad->text));
        break;
      }
      on_message(std::get<net::Message>(decoded));
    }
  }
  tally_.unanswered += pending_.size();
  pending_.clear();
  notify();
}

asio::awaitable<bool> Client::send(game::Command command, bool awaited) {
  if (down_) co_return false;
  const std::uint64_t id = next_client_id_++;
  std::string frame =
      net::frame(net::encode(net::Command{id, game::Model::encode_command(command)}));
  // Registered before the write: the answer may come before the write's completion runs.
  pending_.emplace(id, Pending{Clock::now(), std::move(command), awaited});
  ++tally_.sent;
  co_return co_await write(std::move(frame));
}

asio::awaitable<std::optional<Client::Answer>> Client::call(game::Command command) {
  awaited_answer_.reset();
  const bool sent = co_await send(std::move(command), true);
  if (!sent) co_return std::nullopt;
  const auto deadline = Clock::now() + answer_timeout;
  while (!awaited_answer_ && !down_ && Clock::now() < deadline)
    co_await wait_until(deadline);
  expire(Clock::now());
  co_return awaited_answer_;
}

asio::awaitable<bool> Client::write(std::string frame) {
  const auto failed = [this](const boost::system::error_code& ec) {
    if (!down_) {
      drop("disconnected", fmt::format("player {}: cannot write to {}: {}", player_id_,
                                       run_.address, ec.message()));
    }
  };
  // A frame this small nearly always fits in the socket's buffer at once (the socket is
  // non-blocking): only what it does not take waits, under a timeout. Measured: the timer and
  // the wait for either were a good part of the bots' own CPU per command.
  boost::system::error_code ec;
  const std::size_t taken = socket_.write_some(asio::buffer(frame), ec);
  if (ec && ec != asio::error::would_block) {
    failed(ec);
    co_return false;
  }
  if (taken == frame.size()) co_return true;
  asio::steady_timer timeout(socket_.get_executor(), answer_timeout);
  auto result = co_await (asio::async_write(socket_, asio::buffer(frame) + taken, use_tuple) ||
                          timeout.async_wait(use_tuple));
  if (result.index() == 1) {
    drop("timeout", fmt::format("player {}: {} did not take a frame for {} s", player_id_,
                                run_.address, answer_timeout.count()));
    co_return false;
  }
  if (const auto& [error, size] = std::get<0>(result); error) {
    failed(error);
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Client::wait_until(Clock::time_point deadline) {
  wake_.expires_at(deadline);
  co_await wake_.async_wait(use_tuple);
}

void Client::on_message(net::Message& message) {
  if (const auto* welcome = std::get_if<net::Welcome>(&message)) {
    on_welcome(*welcome);
  } else if (const auto* result = std::get_if<net::CommandResult>(&message)) {
    on_result(*result);
  } else if (const auto* events = std::get_if<net::Events>(&message)) {
    on_events(*events);
  } else if (const auto* error = std::get_if<net::Error>(&message)) {
    on_error(*error);
  } else {
    drop("unexpected_message", fmt::format("player {}: {} sent a client's message (body {})",
                                           player_id_, run_.address, message.index()));
  }
}

void Client::on_welcome(const net::Welcome& welcome) {
  if (player_) {
    drop("unexpected_message",
         fmt::format("player {}: a second Welcome from {}", player_id_, run_.address));
    return;
  }
  if (welcome.player != player_id_ || welcome.zone_count == 0 || welcome.zone == 0 ||
      welcome.zone > welcome.zone_count) {
    drop("unexpected_message",
         fmt::format("player {}: a Welcome for player {} in zone {} of {}", player_id_,
                     welcome.player, welcome.zone, welcome.zone_count));
    return;
  }
  ++tally_.welcomed;
  // The map is a pure function of the zone, so a client builds the same one as the server.
  const game::Map map = game::map_for(
      {.zone = welcome.zone, .zone_count = welcome.zone_count, .seed = welcome.world_seed});
  player_.emplace(player_id_,
                  run_.spread ? spread_post(map, player_id_) : spawn_post(map, player_id_),
                  map.spawn);
  notify();
}

void Client::on_result(const net::CommandResult& result) {
  const auto now = Clock::now();
  const auto found = pending_.find(result.client_id);
  if (found == pending_.end()) {
    // Already counted as timed out; anything else is the server answering what was never sent.
    if (timed_out_.erase(result.client_id) > 0) {
      ++tally_.late;
    } else {
      tally_.error("unexpected_message",
                   fmt::format("player {}: a result for client id {}, which it never sent",
                               player_id_, result.client_id));
    }
    return;
  }
  run_.latency.record(now - found->second.sent);
  const auto reason = static_cast<game::Reject>(result.reason);
  if (result.accepted) {
    ++tally_.accepted;
  } else {
    ++tally_.rejected;
    ++tally_.rejected_by[reason];
  }
  if (in_play_) ++tally_.answered_in_play;
  player_->answered(found->second.command, result.accepted, reason, now);
  if (found->second.awaited) {
    awaited_answer_ = Answer{result.accepted, reason};
    notify();
  }
  pending_.erase(found);
  if (draining_) notify();
}

void Client::on_events(const net::Events& events) {
  const auto now = Clock::now();
  for (const net::WorldEvent& event : events.events) {
    ++tally_.events;
    ++tally_.events_by_type[event.payload_type];
    if (!player_ || !BotPlayer::wants(event.payload_type)) continue;
    auto decoded = game::Model::decode(event.payload_type, event.payload);
    if (!decoded) {
      tally_.error("bad_event", fmt::format("player {}: event {} of zone {}: {}", player_id_,
                                            event.seq, event.zone, decoded.error()));
      continue;
    }
    player_->see(*decoded, now);
  }
}

void Client::on_error(const net::Error& error) {
  const std::string kind(net::error_code_name(error.code));
  tally_.error(
      kind,
      fmt::format("player {}: {} from {}{}: {}", player_id_, kind, run_.address,
                  error.client_id == 0 ? "" : fmt::format(" about command {}", error.client_id),
                  error.text));
  if (const auto found = pending_.find(error.client_id); found != pending_.end()) {
    if (found->second.awaited) {
      awaited_answer_ = Answer{};
      notify();
    }
    pending_.erase(found);
    if (draining_) notify();
  }
  if (error.fatal) close();
}

void Client::expire(Clock::time_point now) {
  while (!pending_.empty() && now - pending_.begin()->second.sent >= answer_timeout) {
    const auto& [id, pending] = *pending_.begin();
    tally_.error("timeout",
                 fmt::format("player {}: no result for command {} ({}) within {} s", player_id_, id,
                             game::Model::command_name(pending.command), answer_timeout.count()));
    timed_out_.insert(id);
    pending_.erase(pending_.begin());
  }
}

void Client::drop(const std::string& kind, std::string message) {
  tally_.error(kind, std::move(message));
  close();
}

void Client::close() {
  if (down_) return;
  down_ = true;
  // Errors here change nothing: the connection is over either way.
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  notify();
}

/// "host:port" (an IPv6 host in brackets) resolved; fails naming the address.
tcp::resolver::results_type resolve(asio::io_context& io, const std::string& address) {
  const HostPort split = split_host_port(address, "--connect");
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(split.host, std::to_string(split.port), ec);
  if (ec) fail(fmt::format("cannot resolve {}: {}", address, ec.message()));
  return endpoints;
}

void run_bots(const BotsOptions& options) {
  if (options.players == 0 || options.move_every_ms == 0 || options.seconds == 0 ||
      options.threads == 0) {
    fail("--players, --move-every, --seconds and --threads must be positive");
  }
  const std::uint64_t last_player = options.first_player + (options.players - 1);
  if (!game::is_player_id(options.first_player) || last_player < options.first_player ||
      !game::is_player_id(last_player)) {
    fail(fmt::format("players {}..{} are not all player ids (1..{})", options.first_player,
                     options.first_player + (options.players - 1),
                     game::default_rules.max_player_id));
  }
  auto secret = net::read_secret(options.secret_file);
  if (!secret) fail(fmt::format("{}", secret.error()));

  asio::io_context io(static_cast<int>(options.threads));
  Run run;
  run.address = options.connect;
  run.endpoints = resolve(io, options.connect);
  run.secret = std::move(secret).value();
  run.move_every = std::chrono::milliseconds(options.move_every_ms);
  run.seconds = std::chrono::seconds(options.seconds);
  run.spread = options.spread;
  const auto ramp = std::max<Clock::duration>(
      run.move_every,
      std::min<Clock::duration>(longest_ramp, std::chrono::milliseconds(std::min<std::uint64_t>(
                                                  options.players, longest_ramp.count()))));

  fmt::print("worldlog bots: {} players ({}..{}) -> {}, a turn every {} ms for {} s each, "
             "connecting over {} ms, on {} thread{}; Ctrl-C ends it early\n",
             options.players, options.first_player, last_player, options.connect,
             options.move_every_ms, options.seconds,
             std::chrono::duration_cast<std::chrono::milliseconds>(ramp).count(), options.threads,
             options.threads == 1 ? "" : "s");
  std::fflush(stdout);

  // SIGINT/SIGTERM end the turns; the bots then leave and close. The handler restores the
  // default action, so a second Ctrl-C ends the process at once.
  auto signal_strand = asio::make_strand(io);
  asio::signal_set signals(signal_strand, SIGINT, SIGTERM);
  bool interrupted = false; // written on signal_strand; read after the threads are joined
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    run.stopping.store(true);
    boost::system::error_code ignored;
    signals.clear(ignored);
  });

  std::mutex crashed_mutex;
  std::string crashed; // guarded by crashed_mutex: what a bot's coroutine threw, if anything
  std::atomic<std::uint64_t> running{options.players};
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(options.players);
  const auto start = Clock::now();
  for (std::uint64_t i = 0; i < options.players; ++i) {
    auto strand = asio::make_strand(io);
    const auto start_at =
        start + ramp * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(options.players);
    clients.push_back(std::make_unique<Client>(strand, run, options.first_player + i, start_at));
    asio::co_spawn(strand, clients.back()->live(), [&](const std::exception_ptr& thrown) {
      if (thrown) {
        try {
          std::rethrow_exception(thrown);
        } catch (const std::exception& error) {
          const std::lock_guard lock(crashed_mutex);
          if (crashed.empty()) crashed = error.what();
        } catch (...) {
          const std::lock_guard lock(crashed_mutex);
          if (crashed.empty()) crashed = "an exception that is not a std::exception";
        }
      }
      if (running.fetch_sub(1) == 1) asio::post(signal_strand, [&] { signals.cancel(); });
    });
  }

  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < options.threads; ++t)
    helpers.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& helper : helpers)
    helper.join();

  if (!crashed.empty()) fail(fmt::format("a bot failed: {}", crashed));
  BotTally total;
  for (const auto& client : clients)
    total.merge(client->tally());
  if (total.welcomed == 0) {
    fail(total.first_error.empty() ? fmt::format("no bot was welcomed by {}", options.connect)
                                   : total.first_error);
  }
  print_report(options, run.latency, run.lag, total, interrupted);
}

} // namespace

void add_bots_command(CLI::App& app) {
  auto options = std::make_shared<BotsOptions>();
  auto* command = app.add_subcommand(
      "bots", "Play the reference game over TCP with N bots, as load for `worldlog serve`");
  command->add_option("--connect", options->connect, "The server's HOST:PORT")
      ->capture_default_str();
  command
      ->add_option("--secret-file", options->secret_file,
                   "The server's secret, to make the players' tokens")
      ->required();
  command->add_option("--players", options->players, "Bots, one connection each")
      ->capture_default_str();
  command->add_option("--first-player", options->first_player, "The first bot's player id")
      ->capture_default_str();
  command->add_option("--move-every", options->move_every_ms, "Milliseconds between two turns")
      ->capture_default_str();
  command->add_option("--seconds", options->seconds, "How long each bot takes turns")
      ->capture_default_str();
  command->add_option("--threads", options->threads, "Threads running the connections")
      ->capture_default_str();
  command->add_flag("--spread", options->spread,
                    "Each bot walks to a tile of its own first, instead of staying by the spawn "
                    "point where every player of the zone sees every other");
  command->add_flag("--json", options->json, "Print a JSON object as the last line");
  command->callback([options] { run_bots(*options); });
}

} // namespace worldlog::tools

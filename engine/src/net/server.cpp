#include <worldlog/net/server.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <worldlog/net/frame.hpp>
#include <worldlog/net/metrics.hpp>

namespace worldlog::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using zone::ZoneId;

namespace {

Frame framed(const Message& message) {
  return std::make_shared<const std::string>(frame(encode(message)));
}

/// Tells a connection the server has no room for it why it is refused, then closes it. The
/// frame is a few dozen bytes into a fresh socket's empty send buffer, so one write that does
/// not wait takes it whole; a refused connection holds nothing of the server's afterwards, not
/// even a pending write, however many arrive. What the client sent already (its Hello) is read
/// and dropped first: a socket closed over unread bytes resets the connection instead of ending
/// it, and a client may then see the reset and not the frame.
void refuse(tcp::socket& socket, std::size_t max_connections) {
  const std::string refusal = frame(
      encode(Error{ErrorCode::server_full,
                   fmt::format("the server is full: its limit is {} connections; try again later",
                               max_connections),
                   true, 0}));
  boost::system::error_code error;
  socket.non_blocking(true, error);
  if (!error) socket.write_some(asio::buffer(refusal), error);
  std::array<char, 512> unread{};
  for (int reads = 0; !error && reads < 8; ++reads)
    socket.read_some(asio::buffer(unread), error);
  socket.shutdown(tcp::socket::shutdown_both, error);
  socket.close(error);
}

} // namespace

/// One connection. Everything but push_event() and the zones' callbacks runs on the
/// io_context's thread; push_event() may be called from any thread (zones show events on their
/// own strands).
class Session : public std::enable_shared_from_this<Session> {
public:
  Session(Server& server, tcp::socket socket)
      : server_(server), lane_(server.next_lane_++ % Server::batch_lanes),
        socket_(std::move(socket)), idle_(socket_.get_executor()),
        decoder_(server.options_.max_frame),
        tokens_(std::uint64_t{server.options_.command_burst} * token_unit),
        refilled_(SteadyClock::now()) {}

  void start() {
    // Frames are small and answered at once: Nagle's algorithm would hold each one back until
    // the previous is acknowledged, which a delayed ACK makes 40 ms.
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    last_heard_ = SteadyClock::now();
    arm_idle_timer(server_.options_.idle_timeout);
    read();
  }

  /// The server is stopping: read nothing more; close once every result is sent.
  void stop() {
    stopping_ = true;
    if (in_flight_ == 0) fail(ErrorCode::shutting_down, "the server is shutting down");
  }

  /// Queues a result or an error and writes it now, if no write is in progress (then when it
  /// ends). On the io_context's thread only.
  void send(Frame frame) {
    if (enqueue({std::move(frame), nullptr}, Send::now)) on_push();
  }

  /// Queues a world event, to be sent with the session's next batch (at once when batching is
  /// off). Safe from any thread.
  void push_event(SharedEvent event) {
    const Send when = server_.options_.event_batch.count() == 0 ? Send::now : Send::batched;
    if (!enqueue({nullptr, std::move(event)}, when)) return;
    if (when == Send::batched) {
      server_.flush_later(lane_, weak_from_this());
    } else {
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_push(); });
    }
  }

  /// The batch interval is over: sends the events queued since it began.
  void flush_batch() {
    {
      const std::lock_guard lock(out_mutex_);
      batched_ = false;
      if (dropped_) return; // drop() closes
    }
    write();
  }

private:
  static constexpr std::uint64_t token_unit = 1'000'000; ///< a command, in bucket units

  enum class Send { now, batched };

  /// What waits to be written: a frame (a result, an error), or a world event, which is written
  /// together with the events queued next to it, many to an Events frame.
  struct Outgoing {
    Frame frame;
    SharedEvent event;

    /// About what it adds to the connection's bytes: an event's envelope in an Events frame
    /// takes some 40 bytes beside its payload.
    [[nodiscard]] std::size_t size() const noexcept {
      return frame ? frame->size() : event->payload.size() + event_overhead;
    }
  };
  static constexpr std::size_t event_overhead = 40;
  /// An Events frame carries at most this many events: a client reads a frame at once, so a
  /// huge one would only make it wait longer for the first of them.
  static constexpr std::size_t events_per_frame = 512;
  /// One write takes at most this many entries of the queue (results and events).
  static constexpr std::size_t entries_per_write = 4 * events_per_frame;

  /// Queues `entry`; whether the caller must arrange its sending (`when`), which is not needed
  /// when a send is arranged already. A client that lets more than max_outgoing_bytes pile up
  /// is disconnected: its memory is not ours to grow.
  bool enqueue(Outgoing entry, Send when) {
    const std::lock_guard lock(out_mutex_);
    if (dropped_) return false;
    const std::size_t size = entry.size();
    if (queued_bytes_ + size > server_.options_.max_outgoing_bytes) {
      dropped_ = true;
      queue_.clear();
      queued_bytes_ = 0;
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->drop(); });
      return false;
    }
    queued_bytes_ += size;
    queue_.push_back(std::move(entry));
    if (flush_posted_) return false;
    if (when == Send::now) return flush_posted_ = true;
    if (batched_) return false;
    return batched_ = true;
  }

  // ---- reading -------------------------------------------------------------------------------

  void read() {
    if (closed_ || stopping_) return;
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](boost::system::error_code error, std::size_t size) {
          if (error) {
            self->close();
            return;
          }
          self->last_heard_ = SteadyClock::now();
          self->decoder_.feed(std::string_view(self->buffer_.data(), size));
          self->drain_frames();
        });
  }

  void drain_frames() {
    for (;;) {
      if (closed_ || closing_) return;
      auto next = decoder_.next();
      if (!next.ok()) {
        fail(ErrorCode::frame_too_large, std::string(next.error().message()));
        return;
      }
      if (!next->has_value()) break;
      server_.counters_.frames_received.fetch_add(1, std::memory_order_relaxed);
      on_frame(**next);
    }
    read();
  }

  void on_frame(std::string_view payload) {
    auto decoded = decode(payload);
    if (auto* refused = std::get_if<ProtocolError>(&decoded)) {
      // A frame that does not verify leaves nothing to trust about what follows it.
      const bool fatal = refused->code != ErrorCode::unknown_message;
      if (fatal) {
        fail(refused->code, std::move(refused->text));
      } else {
        error(refused->code, std::move(refused->text));
      }
      return;
    }
    auto& message = std::get<Message>(decoded);
    if (auto* hello = std::get_if<Hello>(&message)) {
      on_hello(*hello);
    } else if (auto* command = std::get_if<Command>(&message)) {
      on_command(std::move(*command));
    } else {
      error(ErrorCode::unknown_message, "clients send Hello and Command only");
    }
  }

  void on_hello(const Hello& hello) {
    if (player_ != 0) {
      error(ErrorCode::already_authenticated,
            fmt::format("this connection is already player {}", player_));
      return;
    }
    if (!token_matches(server_.secret_, hello.player, hello.token)) {
      fail(ErrorCode::bad_token, fmt::format("the token is not player {}'s", hello.player));
      return;
    }
    if (!server_.claim(hello.player, shared_from_this())) {
      fail(ErrorCode::already_connected,
           fmt::format("player {} is connected on another connection", hello.player));
      return;
    }
    player_ = hello.player;
    // The zone where the player's character is (a new player's home zone): its Join goes
    // there, and the world moves its commands and events along with every crossing.
    follow();
    const ServedWorld& world = *server_.world_;
    send(framed(Welcome{player_, world.zone_of(player_), protocol_version,
                        server_.options_.max_frame, server_.options_.commands_per_second,
                        world.seed(), world.zone_count()}));
  }

  void on_command(Command command) {
    if (player_ == 0) {
      error(ErrorCode::not_authenticated, "send Hello before any command", command.client_id);
      return;
    }
    if (!take_token()) {
      error(ErrorCode::rate_limited,
            fmt::format("more than {} commands per second", server_.options_.commands_per_second),
            command.client_id);
      return;
    }
    if (!remember(command.client_id)) {
      error(ErrorCode::duplicate_client_id,
            fmt::format("client id {} was already used on this connection", command.client_id),
            command.client_id);
      return;
    }
    submit(command.client_id, command.command);
  }

  /// Sends `command` to the player's zone as the player: the model refuses (and the zone
  /// records) a command for another entity.
  void submit(std::uint64_t client_id, std::string_view command) {
    // Counted first: the answer may be posted, and run, before submit returns.
    ++in_flight_;
    const auto arrived = SteadyClock::now();
    const Status submitted = server_.world_->submit(
        player_, client_id, command,
        [self = shared_from_this(), client_id, arrived](Result<zone::Outcome> outcome) {
          // On a zone's strand or the log's commit thread: answer from the session's thread.
          asio::post(self->socket_.get_executor(),
                     [self, client_id, arrived, outcome = std::move(outcome)] {
                       self->answer(client_id, arrived, outcome);
                     });
        });
    if (!submitted.ok()) {
      // It does not decode: never submitted, so the client may use the id again.
      --in_flight_;
      client_ids_.erase(client_id);
      error(ErrorCode::bad_command, std::string(submitted.error().message()), client_id);
    }
  }

  void answer(std::uint64_t client_id, SteadyClock::time_point arrived,
              const Result<zone::Outcome>& outcome) {
    --in_flight_;
    auto& counters = server_.counters_;
    if (!outcome.ok()) {
      counters.commands_failed.fetch_add(1, std::memory_order_relaxed);
      // Not applied: the client may send it again with the same id.
      client_ids_.erase(client_id);
      error(ErrorCode::internal,
            fmt::format("the world could not take the command: {}", outcome.error().message()),
            client_id);
    } else {
      CommandResult result{client_id, outcome->accepted, outcome->zone, {}, 0,
                           {},        outcome->duplicate};
      if (outcome->accepted) {
        counters.commands_accepted.fetch_add(1, std::memory_order_relaxed);
        if (outcome->first_seq != 0) {
          for (log::Seq seq = outcome->first_seq; seq <= outcome->last_seq; ++seq)
            result.seqs.push_back(seq);
        }
      } else {
        counters.commands_rejected.fetch_add(1, std::memory_order_relaxed);
        result.reason = static_cast<std::uint16_t>(outcome->code);
        result.text = outcome->reason;
      }
      send(framed(result));
    }
    if (!server_.latency_observers_.empty()) {
      const auto micros = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - arrived)
              .count());
      for (const auto& observe : server_.latency_observers_)
        observe(micros);
    }
    if (stopping_ && in_flight_ == 0) fail(ErrorCode::shutting_down, "the server is shutting down");
    if (closed_ && in_flight_ == 0 && player_ != 0) log_out();
  }

  /// A token bucket: `command_burst` at once, `commands_per_second` sustained.
  bool take_token() {
    const auto now = SteadyClock::now();
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(now - refilled_).count();
    refilled_ = now;
    const std::uint64_t capacity = std::uint64_t{server_.options_.command_burst} * token_unit;
    tokens_ = std::min(capacity, tokens_ + static_cast<std::uint64_t>(elapsed) *
                                               server_.options_.commands_per_second);
    if (tokens_ < token_unit) return false;
    tokens_ -= token_unit;
    return true;
  }

  /// Whether `client_id` is new on this connection (it is then remembered, up to a bound).
  bool remember(std::uint64_t client_id) {
    if (!client_ids_.insert(client_id).second) return false;
    client_id_order_.push_back(client_id);
    if (client_id_order_.size() > server_.options_.remembered_client_ids) {
      client_ids_.erase(client_id_order_.front());
      client_id_order_.pop_front();
    }
    return true;
  }

  // ---- what the player sees ------------------------------------------------------------------

  /// Shows the player what it can see, in whichever zone its character is.
  void follow() {
    const std::weak_ptr<Session> weak = weak_from_this();
    server_.world_->follow(player_,
                           [weak, &counters = server_.counters_](const SharedEvent& shown) {
                             const auto self = weak.lock();
                             if (!self) return;
                             self->push_event(shown);
                             counters.events_sent.fetch_add(1, std::memory_order_relaxed);
                           });
  }

  // ---- writing -------------------------------------------------------------------------------

  void on_push() {
    {
      const std::lock_guard lock(out_mutex_);
      flush_posted_ = false;
      if (dropped_) return; // drop() closes
    }
    write();
  }

  /// The client let more than max_outgoing_bytes pile up: there is no room left even for an
  /// Error frame, so it is closed without one.
  void drop() {
    server_.counters_.errors[static_cast<std::size_t>(ErrorCode::slow_reader)].fetch_add(
        1, std::memory_order_relaxed);
    close();
  }

  void write() {
    if (writing_ || closed_) return;
    {
      const std::lock_guard lock(out_mutex_);
      while (!queue_.empty() && taken_.size() < entries_per_write) {
        queued_bytes_ -= queue_.front().size();
        taken_.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // Events next to each other leave in one Events frame, in their order: a crowd's moves in
    // one frame per write instead of one each, which took two fifths of the bytes off the wire
    // and most of the per-frame work off the server and its clients.
    std::vector<const WorldEvent*>& run = run_;
    const auto end_run = [&] {
      if (run.empty()) return;
      sending_.push_back(std::make_shared<const std::string>(frame_events(run)));
      run.clear();
    };
    for (const Outgoing& entry : taken_) {
      if (entry.frame) {
        end_run();
        sending_.push_back(entry.frame);
      } else {
        run.push_back(entry.event.get());
        if (run.size() == events_per_frame) end_run();
      }
    }
    end_run();
    taken_.clear();
    if (sending_.empty()) {
      if (closing_) close();
      return;
    }
    writing_ = true;
    buffers_.clear();
    for (const auto& frame : sending_)
      buffers_.emplace_back(asio::buffer(*frame));
    asio::async_write(socket_, buffers_,
                      [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                        self->writing_ = false;
                        self->sending_.clear();
                        if (error) {
                          self->close();
                          return;
                        }
                        self->write();
                      });
  }

  // ---- errors and closing --------------------------------------------------------------------

  /// Sends a non-fatal Error.
  void error(ErrorCode code, std::string text, std::uint64_t client_id = 0) {
    server_.counters_.errors[static_cast<std::size_t>(code)].fetch_add(1,
                                                                       std::memory_order_relaxed);
    send(framed(Error{code, std::move(text), false, client_id}));
  }

  /// Sends a fatal Error, then closes once it is written.
  void fail(ErrorCode code, std::string text) {
    if (closing_ || closed_) return;
    server_.counters_.errors[static_cast<std::size_t>(code)].fetch_add(1,
                                                                       std::memory_order_relaxed);
    closing_ = true;
    send(framed(Error{code, std::move(text), true, 0}));
  }

  /// Checks for silence `after` from now. A read only notes the time: re-arming the timer on
  /// every read would cost a cancelled wait per frame.
  void arm_idle_timer(SteadyClock::duration after) {
    idle_.expires_after(after);
    idle_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (error || self->closed_) return;
      const auto timeout = self->server_.options_.idle_timeout;
      const auto silent = SteadyClock::now() - self->last_heard_;
      if (silent < timeout) {
        self->arm_idle_timer(timeout - silent);
        return;
      }
      self->fail(ErrorCode::idle_timeout,
                 fmt::format("nothing received for {} ms", timeout.count()));
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    idle_.cancel();
    if (player_ == 0) {
      server_.closed(this);
      return;
    }
    if (in_flight_ == 0) log_out();
  }

  /// A player who disconnects goes offline, its character kept; the player is free to connect
  /// again once the logout is recorded. Called once the connection is closed and every command
  /// it sent is answered: a Join still in flight would otherwise bring the player online after
  /// its logout, with nobody connected.
  void log_out() {
    server_.world_->disconnect(player_, [self = shared_from_this()] {
      asio::post(self->socket_.get_executor(), [self] {
        self->server_.release(self->player_, self.get());
        self->server_.closed(self.get());
      });
    });
  }

  Server& server_;
  const std::size_t lane_; ///< whose batch interval its events wait for
  tcp::socket socket_;
  asio::steady_timer idle_;
  FrameDecoder decoder_;
  std::array<char, 16 * 1024> buffer_{};

  std::uint64_t player_ = 0; ///< 0 until Hello
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  bool closing_ = false; ///< a fatal error is on its way; close after it
  bool closed_ = false;

  SteadyClock::time_point last_heard_; ///< when the last bytes arrived
  std::uint64_t tokens_;
  SteadyClock::time_point refilled_;
  std::unordered_set<std::uint64_t> client_ids_; ///< lookups only
  std::deque<std::uint64_t> client_id_order_;

  std::mutex out_mutex_;
  std::deque<Outgoing> queue_;   // guarded by out_mutex_
  std::size_t queued_bytes_ = 0; // guarded by out_mutex_
  bool flush_posted_ = false;    // guarded by out_mutex_: on_push is coming
  bool batched_ = false;         // guarded by out_mutex_: flush_batch is coming
  bool dropped_ = false;         // guarded by out_mutex_: a slow reader, to be closed
  bool writing_ = false;
  std::vector<Frame> sending_;         ///< the frames of the write in progress
  std::vector<Outgoing> taken_;        ///< what write() took off the queue, while it frames it
  std::vector<const WorldEvent*> run_; ///< the events write() gathers into one Events frame
  std::vector<asio::const_buffer> buffers_;
};

Server::Server(asio::io_context& io, std::unique_ptr<ServedWorld> world, Secret secret,
               ServerOptions options)
    : io_(io), world_(std::move(world)), secret_(std::move(secret)), options_(options),
      acceptor_(io) {
  for (std::size_t lane = 0; lane < batch_lanes; ++lane)
    lanes_.push_back(std::make_unique<BatchLane>(io));
}

Server::~Server() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

Result<tcp::acceptor> bind_listener(asio::io_context& io, const tcp::endpoint& endpoint) {
  tcp::acceptor acceptor(io);
  boost::system::error_code error;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return make_error(Errc::io_error, "cannot listen on {}:{}: {}", endpoint.address().to_string(),
                      endpoint.port(), error.message());
  }
  return Result<tcp::acceptor>(std::move(acceptor));
}

Result<tcp::endpoint> Server::listen(const tcp::endpoint& endpoint) {
  auto listening = bind_listener(io_, endpoint);
  if (!listening.ok()) return std::move(listening).error();
  return listen(std::move(listening).value());
}

Result<tcp::endpoint> Server::listen(tcp::acceptor listening) {
  boost::system::error_code error;
  const tcp::endpoint local = listening.local_endpoint(error);
  if (error) {
    return make_error(Errc::io_error, "the listener given has no address: {}", error.message());
  }
  acceptor_ = std::move(listening);
  accept();
  return local;
}

void Server::accept() {
  acceptor_.async_accept([this](boost::system::error_code error, tcp::socket socket) {
    if (error) {
      if (!acceptor_.is_open()) return; // stopped
      accept();
      return;
    }
    counters_.connections_total.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<Session> session;
    {
      const std::lock_guard lock(mutex_);
      if (sessions_.size() < options_.max_connections) {
        session = std::make_shared<Session>(*this, std::move(socket));
        sessions_.emplace(session.get(), session);
      }
    }
    if (session) {
      counters_.connections.fetch_add(1, std::memory_order_relaxed);
      session->start();
    } else {
      counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
      counters_.errors[static_cast<std::size_t>(ErrorCode::server_full)].fetch_add(
          1, std::memory_order_relaxed);
      refuse(socket, options_.max_connections);
    }
    accept();
  });
}

bool Server::claim(std::uint64_t player, const std::shared_ptr<Session>& session) {
  const std::lock_guard lock(mutex_);
  return players_.emplace(player, session.get()).second;
}

void Server::release(std::uint64_t player, const Session* session) {
  const std::lock_guard lock(mutex_);
  const auto found = players_.find(player);
  if (found != players_.end() && found->second == session) players_.erase(found);
}

void Server::flush_later(std::size_t lane, std::weak_ptr<Session> session) {
  BatchLane& waiting = *lanes_[lane];
  {
    const std::lock_guard lock(batch_mutex_);
    waiting.batched.push_back(std::move(session));
    if (std::exchange(waiting.armed, true)) return;
  }
  asio::post(io_, [this, lane, &waiting] {
    waiting.timer.expires_at(batch_end(lane));
    waiting.timer.async_wait([this, &waiting](boost::system::error_code error) {
      if (!error) flush_batch(waiting);
    });
  });
}

SteadyClock::time_point Server::batch_end(std::size_t lane) const {
  // Lane k's intervals end (k + 1) / batch_lanes of an interval after the epoch, then every
  // interval.
  const auto interval = SteadyClock::duration(options_.event_batch);
  const auto first_end =
      batch_epoch_ + interval * static_cast<std::int64_t>(lane + 1) / std::int64_t{batch_lanes};
  const auto now = SteadyClock::now();
  if (now < first_end) return first_end;
  return first_end + interval * ((now - first_end) / interval + 1);
}

void Server::flush_batch(BatchLane& lane) {
  const bool idle = flushing_.empty(); // else the lane before is still being written: join it
  {
    const std::lock_guard lock(batch_mutex_);
    flushing_.insert(flushing_.end(), std::make_move_iterator(lane.batched.begin()),
                     std::make_move_iterator(lane.batched.end()));
    lane.batched.clear();
    lane.armed = false;
  }
  if (idle) flush_some();
}

void Server::flush_some() {
  constexpr std::size_t sessions_at_once = 8;
  for (std::size_t i = 0; i < sessions_at_once && !flushing_.empty(); ++i) {
    if (const auto session = flushing_.front().lock()) session->flush_batch();
    flushing_.pop_front();
  }
  if (!flushing_.empty()) asio::post(io_, [this] { flush_some(); });
}

void Server::closed(const Session* session) {
  std::function<void()> done;
  {
    const std::lock_guard lock(mutex_);
    if (sessions_.erase(session) == 0) return;
    if (stopping_ && sessions_.empty()) done = std::exchange(stopped_, nullptr);
  }
  counters_.connections.fetch_sub(1, std::memory_order_relaxed);
  if (done) done();
}

void Server::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  asio::post(io_, [this, grace, done = std::move(done)]() mutable {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    std::vector<std::shared_ptr<Session>> open;
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
      if (sessions_.empty()) {
        done();
        return;
      }
      stopped_ = std::move(done);
      for (const auto& [key, weak] : sessions_) {
        if (auto session = weak.lock()) open.push_back(std::move(session));
      }
    }
    for (const auto& session : open)
      session->stop();
    auto timer = std::make_shared<asio::steady_timer>(io_, grace);
    timer->async_wait([this, timer](boost::system::error_code) {
      std::function<void()> late;
      {
        const std::lock_guard lock(mutex_);
        late = std::exchange(stopped_, nullptr);
      }
      if (late) late();
    });
  });
}

std::function<void(std::size_t events)> append_batch_metrics(Metrics& metrics) {
  auto& batches = metrics.histogram(
      "worldlog_append_batch_events",
      "Events per durable write to the log: group commit merges concurrent appends",
      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384});
  return [&batches](std::size_t events) { batches.observe(events); };
}

std::function<void(bool error, std::string_view message)> storage_messages(Metrics& metrics) {
  auto& errors = metrics.counter("worldlog_storage_errors_total",
                                 "Storage errors: failed writes, damage found (see stderr)");
  auto& warnings = metrics.counter("worldlog_storage_warnings_total",
                                   "Storage warnings, such as write stalls (see stderr)");
  return [&errors, &warnings](bool error, std::string_view message) {
    (error ? errors : warnings).inc();
    log::print_storage_message(error, message);
  };
}

void add_server_metrics(Metrics& metrics, Server& server, const log::EventLog& log) {
  auto& latency = metrics.latency_histogram(
      "worldlog_command_latency_ms",
      "From a command's arrival to its result (after its events are durable), in ms");
  server.add_latency_observer(
      [&latency](std::uint64_t micros) { latency.observe(std::chrono::microseconds(micros)); });
  metrics.add_collector([&server, &log, &latency](Sink& sink) {
    // The histogram is for Prometheus; the estimate is for a reader of the page.
    sink.gauge(
        "worldlog_command_latency_p99_us",
        "The p99 of worldlog_command_latency_ms since the start, estimated from its "
        "buckets, in µs",
        {}, std::chrono::duration_cast<std::chrono::microseconds>(latency.quantile(0.99)).count());
    const ServerCounters& counters = server.counters();
    sink.gauge("worldlog_connections", "Open client connections", {}, counters.connections.load());
    sink.counter("worldlog_connections_total", "Client connections accepted", {},
                 counters.connections_total.load());
    sink.counter("worldlog_connections_refused_total",
                 "Connections closed at accept (over --max-connections)", {},
                 counters.connections_refused.load());
    sink.counter("worldlog_frames_received_total", "Frames received from clients", {},
                 counters.frames_received.load());
    constexpr std::string_view commands_help = "Client commands answered, by result";
    sink.counter("worldlog_commands_total", commands_help, {{"result", "accepted"}},
                 counters.commands_accepted.load());
    sink.counter("worldlog_commands_total", commands_help, {{"result", "rejected"}},
                 counters.commands_rejected.load());
    sink.counter("worldlog_commands_total", commands_help, {{"result", "failed"}},
                 counters.commands_failed.load());
    for (std::size_t code = 1; code < counters.errors.size(); ++code) {
      sink.counter("worldlog_protocol_errors_total",
                   "Error frames sent and connections dropped, by error code",
                   {{"code", std::string(error_code_name(static_cast<ErrorCode>(code)))}},
                   counters.errors[code].load());
    }
    sink.counter("worldlog_events_sent_total", "World events queued to clients", {},
                 counters.events_sent.load());
    sink.gauge("worldlog_log_position", "Events appended to the log (its last position)", {},
               static_cast<std::int64_t>(log.last_position()));
    const ServedWorld& world = server.world();
    for (ZoneId zone = 1; zone <= world.zone_count(); ++zone) {
      sink.gauge("worldlog_zone_mailbox_depth", "Messages waiting in a zone's mailbox",
                 {{"zone", std::to_string(zone)}},
                 static_cast<std::int64_t>(world.mailbox_depth(zone)));
    }
    sink.counter("worldlog_zone_restarts_total", "Zones restarted by the world supervisor", {},
                 world.zone_restarts());
  });
}

} // namespace worldlog::net

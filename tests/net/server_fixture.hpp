// A running server on 127.0.0.1 (a free port) over a fresh log, and a blocking test client
// on a real socket:
//
//   ServerFixture server;                        // 2 zones, secret "test-secret-of-32-bytes..."
//   TestClient alice(server.endpoint());
//   CHECK(alice.hello(7, server.secret()).index() == welcome);
//   const auto result = alice.command(1, game::join(7));   // the CommandResult, or fails
//
// The world runs on the system clock with no ticker and no mobs: a zone runs the ticks due
// before each command, and with no mobs they do nothing, so every event comes from a test's own
// commands (and no wolf bites a player a test walks across a zone).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/commands.hpp>
#include <worldlog/game/model.hpp>
#include <worldlog/game/world.hpp>
#include <worldlog/net/frame.hpp>
#include <worldlog/net/metrics.hpp>
#include <worldlog/net/protocol.hpp>
#include <worldlog/net/server.hpp>
#include <worldlog/net/token.hpp>
#include <worldlog/runtime/clock.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {

namespace asio = boost::asio;
using asio::ip::tcp;

class ServerFixture {
public:
  explicit ServerFixture(net::ServerOptions options = {}, game::ZoneId zones = 2,
                         zone::ZoneOptions zone_options = {})
      : log_(open_log(temp_ / "log", with_batch_metrics(metrics_))),
        world_(
            std::make_unique<game::World>(pool_.get_executor(), *log_, clock_,
                                          game::WorldOptions{.zones = zones,
                                                             .seed = 5,
                                                             .model_config = game::model_config(0),
                                                             .zone = zone_options})),
        secret_{"test-secret-of-32-bytes-at-least!"} {
    REQUIRE_OK(world_->start());
    server_ = std::make_unique<net::Server>(io_, *world_, secret_, options);
    auto bound = server_->listen({asio::ip::make_address("127.0.0.1"), 0});
    REQUIRE_OK(bound);
    endpoint_ = *bound;
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(io_);
      io_.run();
    });
  }

  ~ServerFixture() {
    stop();
    REQUIRE_OK(world_->shutdown(std::chrono::seconds(30)));
  }
  ServerFixture(const ServerFixture&) = delete;
  ServerFixture& operator=(const ServerFixture&) = delete;

  /// Stops the server as SIGTERM would (idempotent).
  void stop() {
    if (!thread_.joinable()) return;
    server_->stop(std::chrono::seconds(10), [this] { io_.stop(); });
    thread_.join();
  }

  [[nodiscard]] const tcp::endpoint& endpoint() const noexcept { return endpoint_; }
  [[nodiscard]] const net::Secret& secret() const noexcept { return secret_; }
  [[nodiscard]] const net::ServerCounters& counters() const { return server_->counters(); }
  [[nodiscard]] std::uint64_t errors(net::ErrorCode code) const {
    return server_->counters().errors[static_cast<std::size_t>(code)].load();
  }
  [[nodiscard]] log::EventLog& log() noexcept { return *log_; }
  /// Holds worldlog_append_batch_events of the log from its opening; add_server_metrics adds
  /// the rest.
  [[nodiscard]] net::Metrics& metrics() noexcept { return metrics_; }
  [[nodiscard]] net::Server& server() noexcept { return *server_; }
  [[nodiscard]] game::World& world() noexcept { return *world_; }

private:
  static log::Options with_batch_metrics(net::Metrics& metrics) {
    log::Options options = fast_options();
    options.on_commit = net::append_batch_metrics(metrics);
    return options;
  }

  TempDir temp_;
  net::Metrics metrics_;
  std::unique_ptr<EventLog> log_;
  runtime::SystemClock clock_;
  asio::thread_pool pool_{2};
  std::unique_ptr<game::World> world_;
  net::Secret secret_;
  asio::io_context io_;
  std::unique_ptr<net::Server> server_;
  tcp::endpoint endpoint_;
  std::thread thread_;
};

/// A client on a blocking socket; it waits 5 s at most for a message.
class TestClient {
public:
  explicit TestClient(const tcp::endpoint& endpoint, int receive_buffer = 0) : socket_(io_) {
    socket_.open(endpoint.protocol());
    if (receive_buffer > 0)
      socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    socket_.connect(endpoint);
  }

  void send_raw(std::string_view bytes) {
    boost::system::error_code error;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), error);
  }
  void send(const net::Message& message) { send_raw(net::frame(net::encode(message))); }

  /// The next message, or nullopt when the server closed the connection (or 5 s passed).
  std::optional<net::Message> receive() {
    if (!held_.empty()) {
      net::Message message = std::move(held_.front());
      held_.pop_front();
      return message;
    }
    for (;;) {
      auto next = decoder_.next();
      REQUIRE(next.ok());
      if (next->has_value()) {
        auto decoded = net::decode(**next);
        REQUIRE(std::holds_alternative<net::Message>(decoded));
        return std::get<net::Message>(std::move(decoded));
      }
      if (!read_within(std::chrono::seconds(5))) return std::nullopt;
    }
  }

  /// Whether nothing arrives for `wait` (what does arrive is kept for receive()).
  bool quiet_for(std::chrono::milliseconds wait) { return !read_within(wait); }

  /// Reads until nothing has arrived for `quiet` (or `at_most` passed), keeping the world events
  /// in seen() and the other messages for receive(). The frames already read (a reply's read
  /// may have brought events behind it) are taken first.
  void read_events(std::chrono::milliseconds quiet, std::chrono::milliseconds at_most) {
    const auto deadline = std::chrono::steady_clock::now() + at_most;
    do {
      for (;;) {
        auto next = decoder_.next();
        REQUIRE(next.ok());
        if (!next->has_value()) break;
        auto decoded = net::decode(**next);
        REQUIRE(std::holds_alternative<net::Message>(decoded));
        auto& message = std::get<net::Message>(decoded);
        if (auto* events = std::get_if<net::Events>(&message)) {
          seen_.push_back(std::move(*events));
        } else {
          held_.push_back(std::move(message));
        }
      }
    } while (std::chrono::steady_clock::now() < deadline && read_within(quiet));
  }

  /// The next message that is not a world event.
  std::optional<net::Message> receive_reply() {
    for (;;) {
      auto message = receive();
      if (!message || !std::holds_alternative<net::Events>(*message)) return message;
      seen_.push_back(std::get<net::Events>(std::move(*message)));
    }
  }

  /// The next reply, required to be a T.
  template <typename T> T expect() {
    auto message = receive_reply();
    REQUIRE_MESSAGE(message.has_value(), "the server closed the connection");
    REQUIRE_MESSAGE(std::holds_alternative<T>(*message), describe(*message));
    return std::get<T>(std::move(*message));
  }

  /// Hello with `player`'s own token; the Welcome.
  net::Welcome hello(std::uint64_t player, const net::Secret& secret) {
    const net::Token token = net::make_token(secret, player);
    send(net::Hello{player, {token.begin(), token.end()}});
    return expect<net::Welcome>();
  }

  /// Sends a game command; its CommandResult.
  net::CommandResult command(std::uint64_t client_id, const game::Command& command) {
    send(net::Command{client_id, game::Model::encode_command(command)});
    return expect<net::CommandResult>();
  }

  /// Whether the server closes the connection (reading and dropping whatever comes first).
  bool closed_by_server() {
    for (int i = 0; i < 100'000; ++i) {
      if (!receive()) return true;
    }
    return false;
  }

  [[nodiscard]] const std::vector<net::Events>& seen() const noexcept { return seen_; }

  static std::string describe(const net::Message& message) {
    if (const auto* error = std::get_if<net::Error>(&message)) {
      return fmt::format("Error {} '{}'", net::error_code_name(error->code), error->text);
    }
    if (const auto* result = std::get_if<net::CommandResult>(&message)) {
      return fmt::format("CommandResult {} accepted={} '{}'", result->client_id, result->accepted,
                         result->text);
    }
    return fmt::format("message type {}", message.index());
  }

private:
  /// Reads what arrives within `wait`; false when nothing did or the server closed. (The
  /// socket's own SO_RCVTIMEO would not do: Asio polls again when a read times out.)
  bool read_within(std::chrono::milliseconds wait) {
    pollfd readable{socket_.native_handle(), POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(wait.count())) <= 0) return false;
    std::array<char, 4096> buffer{};
    boost::system::error_code error;
    const std::size_t size = socket_.read_some(asio::buffer(buffer), error);
    if (error) return false;
    decoder_.feed(std::string_view(buffer.data(), size));
    return true;
  }

  asio::io_context io_;
  tcp::socket socket_;
  net::FrameDecoder decoder_{16 << 20};
  std::vector<net::Events> seen_;
  std::deque<net::Message> held_; ///< read by read_events, not yet received
};

} // namespace worldlog::test

// The market served over TCP: a world::World<market::Model> on a log, behind the engine's
// net::Server, with the threads that run it. What market_server runs and the server tests play
// against.
//
// Threads: the zones run on a pool of two, the network on one io_context thread, the world's
// ticks on their own.
//
//   auto host = market::Host::bind({boost::asio::ip::make_address("127.0.0.1"), 0});
//   Status started = (*host)->start(log, {.zones = 3, .seed = 1});
//   ... clients connect to (*host)->endpoint() with tokens under (*host)->secret() ...
//   Status stopped = (*host)->stop();   // connections closed, every zone snapshotted
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include <worldlog/log/event_log.hpp>
#include <worldlog/net/server.hpp>
#include <worldlog/net/token.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/runtime/ticker.hpp>
#include <worldlog/status.hpp>
#include <worldlog/world/world.hpp>

#include <market/model.hpp>

namespace worldlog::market {

class Host {
public:
  /// Holds `listen` (port 0: any free port), bound and listening, with a random secret; serves
  /// nothing until `start`. A program binds first, so that an address in use is refused
  /// before it opens or changes any log. Errors: io_error naming the address.
  [[nodiscard]] static Result<std::unique_ptr<Host>>
  bind(const boost::asio::ip::tcp::endpoint& listen);
  /// Stops what `stop` was not called for, and waits for it.
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  /// Starts a world of `options` on `log` (waiting until every zone has recovered and every
  /// trader a crash left online is logged out), its ticks, and the server. REQUIRES: `log`
  /// outlives the host; called once. Errors: the world's start, the listener's.
  [[nodiscard]] Status start(log::EventLog& log, world::WorldOptions<Model> options,
                             net::ServerOptions server = {});

  /// Stops serving: no more connections or commands, what is in flight is answered, every
  /// connection is closed (after `grace` at most); then the ticks stop and the world shuts
  /// down cleanly (every trader online is logged out, every zone snapshots). Errors: the
  /// world's shutdown. Called again: does nothing.
  [[nodiscard]] Status stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  /// Where clients connect.
  [[nodiscard]] const boost::asio::ip::tcp::endpoint& endpoint() const noexcept {
    return endpoint_;
  }
  /// The key of the traders' tokens (net::make_token).
  [[nodiscard]] const net::Secret& secret() const noexcept { return secret_; }
  /// REQUIRES: started.
  [[nodiscard]] world::World<Model>& world() noexcept { return *world_; }
  [[nodiscard]] net::Server& server() noexcept { return *server_; }

private:
  Host();

  // Destroyed in reverse order: what uses another member comes after it.
  boost::asio::io_context io_;
  std::optional<boost::asio::ip::tcp::acceptor> listening_; ///< until the server takes it
  boost::asio::ip::tcp::endpoint endpoint_;
  net::Secret secret_;
  boost::asio::thread_pool pool_{2};
  runtime::SystemClock clock_;
  std::unique_ptr<world::World<Model>> world_;
  std::unique_ptr<runtime::Ticker> ticker_; ///< calls world.tick() every tick until `stop`
  std::unique_ptr<net::Server> server_;
  std::thread network_;
  bool started_ = false; ///< the world started
  bool stopped_ = false;
};

} // namespace worldlog::market

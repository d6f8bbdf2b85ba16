// The market served over TCP: the world, its ticks, the server and the network thread.
#include "host.hpp"

#include <random>
#include <utility>

#include <fmt/format.h>

namespace worldlog::market {

Host::Host() {
  // A run's tokens are good for that run only: nobody outside this process needs them.
  std::random_device entropy;
  for (int i = 0; i < 4; ++i)
    secret_.bytes += fmt::format("{:08x}", entropy());
}

Host::~Host() { static_cast<void>(stop()); }

Result<std::unique_ptr<Host>> Host::bind(const boost::asio::ip::tcp::endpoint& listen) {
  std::unique_ptr<Host> host(new Host());
  auto listening = net::bind_listener(host->io_, listen);
  if (!listening.ok()) return std::move(listening).error();
  boost::system::error_code error;
  host->endpoint_ = listening->local_endpoint(error);
  if (error) {
    return make_error(Errc::io_error, "the listener on {}:{} has no address: {}",
                      listen.address().to_string(), listen.port(), error.message());
  }
  host->listening_.emplace(std::move(listening).value());
  return Result<std::unique_ptr<Host>>(std::move(host));
}

Status Host::start(log::EventLog& log, world::WorldOptions<Model> options,
                   net::ServerOptions server) {
  world_ =
      std::make_unique<world::World<Model>>(pool_.get_executor(), log, clock_, std::move(options));
  if (Status started = world_->start(); !started.ok()) return started;
  started_ = true;
  ticker_ = std::make_unique<runtime::Ticker>(std::chrono::microseconds(world_->options().tick_us),
                                              [this] { world_->tick(); });
  server_ = std::make_unique<net::Server>(io_, *world_, secret_, server);
  auto bound = server_->listen(std::move(*listening_));
  listening_.reset();
  if (!bound.ok()) return std::move(bound).error();
  network_ = std::thread([this] { io_.run(); });
  return {};
}

Status Host::stop(std::chrono::milliseconds grace) {
  if (stopped_) return {};
  stopped_ = true;
  if (server_) {
    // The server calls this once every connection has closed, or after `grace`.
    server_->stop(grace, [this] { io_.stop(); });
  }
  if (network_.joinable()) network_.join();
  if (ticker_) ticker_->stop();
  if (!started_) return {};
  return world_->shutdown(std::chrono::seconds(30));
}

} // namespace worldlog::market

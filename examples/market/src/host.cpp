// The market served over TCP: the world, its ticks, the server and the network thread.
#include "host.hpp"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <utility>

#include <fmt/format.h>

namespace worldlog::market {

/// Calls `tick` at a fixed period on its own thread. A late tick is not made up for: a zone's
/// tick follows the clock, so the next one simply covers more time.
class Host::Ticker {
public:
  Ticker(std::chrono::microseconds period, std::function<void()> tick)
      : thread_([this, period, tick = std::move(tick)] {
          std::unique_lock lock(mutex_);
          while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
            lock.unlock();
            tick();
            lock.lock();
          }
        }) {}
  ~Ticker() { stop(); }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  /// Stops ticking and waits for a tick under way. Idempotent.
  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false; ///< guarded by mutex_
  std::thread thread_;    ///< last: it starts once the members above exist
};

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
  ticker_ = std::make_unique<Ticker>(std::chrono::microseconds(world_->options().tick_us),
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

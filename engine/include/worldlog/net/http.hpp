// The HTTP endpoints of `worldlog serve`, on Boost.Beast: `GET /metrics` (Prometheus text
// format 0.0.4) and `GET /healthz` (200 "ok", or 503 and the reason).
//
//   asio::io_context io;
//   auto http = net::HttpServer::start(io, {asio::ip::make_address("127.0.0.1"), 7778},
//                                      {.metrics = [&] { return metrics.prometheus_text(); },
//                                       .health = [&] { return world.health(); }});
//   if (!http) return fail(http.error());
//   io.run();                     // the caller runs the io_context, on as many threads as it likes
//   (*http)->stop();              // from any thread: run() returns once nothing else is pending
//
// It is written for a hostile network as much as for Prometheus: a request must arrive whole
// within a timeout (a client that connects and sends nothing, or dribbles a header, is
// closed), headers and bodies have size limits, and connections beyond a maximum are closed
// as soon as they are accepted. Requests on one connection are answered in turn (keep-alive).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <worldlog/status.hpp>

namespace worldlog::net {

struct HttpOptions {
  std::size_t max_connections = 64;        ///< open at once; beyond, accepted and closed
  std::chrono::milliseconds timeout{5000}; ///< to receive a request, or send a response;
                                           ///< also how long a keep-alive connection idles
  std::uint32_t header_limit = 8 * 1024;   ///< bytes of request line and headers; beyond: 431
  std::uint64_t body_limit = 4 * 1024;     ///< bytes of request body; beyond: 413
};

/// What the endpoints serve. Called on the io_context's threads, one request at a time, and
/// never again once stop() has returned. An empty function leaves its endpoint out (404); one
/// that throws answers 500 with the exception's text.
struct HttpHandlers {
  std::function<std::string()> metrics; ///< the body of GET /metrics
  std::function<Status()> health;       ///< GET /healthz: ok -> 200 "ok", an error -> 503
};

class HttpServer {
public:
  /// Listens on `endpoint` (port 0 picks a free port: see local_endpoint()) and serves
  /// connections on `io`, which the caller runs. Errors: io_error naming the endpoint when it
  /// cannot be bound (in use, not an address of this host).
  /// REQUIRES: `io` outlives the server's work: keep it until run() returned after stop().
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>>
  start(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
        HttpHandlers handlers, HttpOptions options = {});

  /// Stops.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The address and port listened on. Safe from any thread.
  [[nodiscard]] const boost::asio::ip::tcp::endpoint& local_endpoint() const noexcept {
    return local_endpoint_;
  }

  /// Closes the listener and every open connection (a response being written is cut off).
  /// When it returns, the handlers are not running and will not be called again; the sockets
  /// close on the io_context soon after, and then the server holds no work on it. Safe from
  /// any thread, also from the io_context's; later calls do nothing.
  /// REQUIRES: not called from inside a handler.
  void stop();

private:
  struct State;
  explicit HttpServer(std::shared_ptr<State> state, boost::asio::ip::tcp::endpoint local_endpoint);

  // Shared with the coroutines of the accept loop and the connections, which may outlive
  // this object by the moment it takes them to see that they were stopped.
  std::shared_ptr<State> state_;
  boost::asio::ip::tcp::endpoint local_endpoint_;
};

} // namespace worldlog::net

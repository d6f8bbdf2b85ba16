// The HTTP endpoints of `worldlog serve` and `worldlog view`, on Boost.Beast: `GET /metrics`
// (Prometheus text format 0.0.4), `GET /healthz` (200 "ok", or 503 and the reason), and every
// other GET given to a caller's handler, which may also take a WebSocket upgrade and name the
// frames the server pushes on it (the viewer's API and live map, docs/viewer.md).
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
// The handler's requests may need a token and are limited in rate per connection; a WebSocket
// has one frame in flight at most (a newer frame replaces one not yet sent, so nothing queues),
// and a reader that has not taken a frame in time is dropped. Every connection is served on one
// strand, handlers included: a handler that takes long delays the port's other requests and
// holds a thread of the io_context, so a caller whose io_context serves more (serve's game
// port) runs this server on an io_context of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
  /// When not empty, every request but /metrics and /healthz must carry it, as `?token=T` or
  /// `Authorization: Bearer T`; otherwise 401.
  std::string token{};
  /// Requests to the handler per second per connection, with bursts of `request_burst`; beyond
  /// them 429. /metrics and /healthz are not counted.
  double requests_per_second = 20;
  double request_burst = 60;
  /// A WebSocket frame not taken by the reader within this long drops the connection.
  std::chrono::milliseconds frame_timeout{5000};
  /// How often a WebSocket asks its FrameSource for a newer frame.
  std::chrono::milliseconds frame_poll{100};
  /// Bytes of a message a WebSocket client may send (it is read and ignored); beyond: dropped.
  std::size_t websocket_message_limit = 1024;
};

/// A request the handler answers: a GET other than /metrics and /healthz.
struct HttpRequest {
  std::string path;                                        ///< percent-decoded, no query
  std::map<std::string, std::string, std::less<>> query{}; ///< percent-decoded; the last wins
  bool websocket = false; ///< a WebSocket upgrade: answered with `frames` set, it is taken
};

/// A frame of a WebSocket and its number; numbers grow with each newer frame.
struct WebSocketFrame {
  std::uint64_t number = 0;
  std::shared_ptr<const std::string> text;
};

/// The frames of one WebSocket: called every HttpOptions::frame_poll with the number of the
/// last frame sent (0: none yet), it returns a newer frame, or nullopt when there is none.
using FrameSource = std::function<std::optional<WebSocketFrame>(std::uint64_t after)>;

/// The handler's answer.
struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body{};
  /// For a WebSocket upgrade: set, the connection becomes a WebSocket that pushes these
  /// frames (as text); unset, the response is sent and the connection closes.
  FrameSource frames{};
};

/// What the endpoints serve. Called on the io_context's threads, one request at a time, and
/// never again once stop() has returned. An empty function leaves its endpoint out (404); one
/// that throws answers 500 with the exception's text.
struct HttpHandlers {
  std::function<std::string()> metrics{}; ///< the body of GET /metrics
  std::function<Status()> health{};       ///< GET /healthz: ok -> 200 "ok", an error -> 503
  /// Every other GET, and WebSocket upgrades; its FrameSources are called under the same
  /// rules. Empty: 404.
  std::function<HttpResponse(const HttpRequest&)> handler{};
};

/// {"error": message}, as the handler's errors are answered (status 400, 401, 404, 429, ...).
[[nodiscard]] HttpResponse json_error(unsigned status, std::string_view message);

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

#include <worldlog/net/http.hpp>

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

namespace worldlog::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How long the accept loop rests after a failed accept (out of descriptors, say) before it
// tries again, rather than spinning on the same error.
constexpr auto accept_retry_pause = 50ms;

constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view text_content_type = "text/plain; charset=utf-8";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response text_response(http::status status, unsigned version, std::string body,
                       std::string_view content_type = text_content_type) {
  Response response(status, version);
  response.set(http::field::server, "worldlog");
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// The answer to a request the parser could not take, or nullopt when there is no one to
// answer (the peer left, the timeout expired, the server stopped): then the connection just
// closes.
std::optional<Response> refusal(const beast::error_code& error) {
  if (error == http::error::header_limit)
    return text_response(http::status::request_header_fields_too_large, 11,
                         "request header too large\n");
  if (error == http::error::body_limit)
    return text_response(http::status::payload_too_large, 11, "request body too large\n");
  if (error.category() == http::make_error_code(http::error::end_of_stream).category() &&
      error != http::error::end_of_stream && error != http::error::partial_message)
    return text_response(http::status::bad_request, 11,
                         fmt::format("malformed request: {}\n", error.message()));
  return std::nullopt;
}

// The value of hex digit `c`, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `text` with its %XX escapes (and, in a query, '+' for space) decoded; nullopt for a '%' not
// followed by two hex digits.
std::optional<std::string> percent_decoded(std::string_view text, bool query) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      decoded.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (query && text[i] == '+') {
      decoded.push_back(' ');
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

// The handler's view of `target` ("/path?a=1&b=2"), or nullopt when it is malformed.
std::optional<HttpRequest> parse_target(std::string_view target) {
  const std::size_t mark = target.find('?');
  auto path = percent_decoded(target.substr(0, mark), false);
  if (!path) return std::nullopt;
  HttpRequest request{.path = std::move(*path)};
  if (mark == std::string_view::npos) return request;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    const std::size_t end = rest.find('&');
    const std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    auto name = percent_decoded(pair.substr(0, equals), true);
    auto value = percent_decoded(
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
    if (!name || !value) return std::nullopt;
    request.query.insert_or_assign(std::move(*name), std::move(*value));
  }
  return request;
}

// Whether `given` is `expected`, in time that does not depend on where they differ.
bool same_token(std::string_view given, std::string_view expected) {
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

Response handler_response(HttpResponse answer, unsigned version) {
  Response response(static_cast<http::status>(answer.status), version);
  response.set(http::field::server, "worldlog");
  response.set(http::field::content_type, answer.content_type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(answer.body);
  response.prepare_payload();
  return response;
}

} // namespace

HttpResponse json_error(unsigned status, std::string_view message) {
  return {.status = status,
          .body = boost::json::serialize(boost::json::object{{"error", message}})};
}

namespace {

// One client connection: an HTTP stream, or after an upgrade a WebSocket over it.
struct Connection {
  Connection(tcp::socket socket, asio::strand<asio::io_context::executor_type> strand, double burst)
      : stream(std::move(socket)), watchdog(strand), tokens(burst),
        refilled(std::chrono::steady_clock::now()) {}

  // Cuts the connection off: every operation on it completes with an error.
  void close() {
    if (ws) {
      beast::get_lowest_layer(*ws).close();
    } else {
      stream.close();
    }
  }

  beast::tcp_stream stream;                                 // moved into `ws` on an upgrade
  std::optional<websocket::stream<beast::tcp_stream>> ws{}; // after an upgrade
  asio::steady_timer watchdog; // runs while a frame is written; expired, it closes
  bool reader_done = false;    // the WebSocket's reader saw it close
  // The request rate's token bucket.
  double tokens;
  std::chrono::steady_clock::time_point refilled;
};

} // namespace

struct HttpServer::State {
  State(asio::io_context& io, HttpHandlers handlers_in, HttpOptions options_in)
      : strand(asio::make_strand(io)), acceptor(strand), options(options_in),
        handlers(std::move(handlers_in)) {}

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self);
  static asio::awaitable<void> serve(std::shared_ptr<State> self,
                                     std::shared_ptr<Connection> connection);
  static asio::awaitable<void> push_frames(std::shared_ptr<State> self,
                                           std::shared_ptr<Connection> connection, Request request,
                                           FrameSource frames);
  static asio::awaitable<void> read_frames(std::shared_ptr<Connection> connection);
  void close();
  // The response to a request, which keeps the connection open when the request asked so.
  Response answer(Connection& connection, const Request& request);
  Response respond(Connection& connection, const Request& request);
  // The handler's answer to a request for it (authorised and within the rate), or a refusal.
  HttpResponse ask_handler(Connection& connection, const Request& request);
  // Whether the connection may make one more request now; takes a token if so.
  bool within_rate(Connection& connection) const;
  // The FrameSource's newer frame, unless the server is stopping.
  std::optional<WebSocketFrame> next_frame(const FrameSource& frames, std::uint64_t after);

  // The accept loop, every connection and close() run on this one strand, so that the
  // acceptor and the connection map need no lock. One strand is plenty for a scrape every few
  // seconds, and it makes stopping a plain loop over the open connections.
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  const HttpOptions options;
  bool stopped = false;                                               // on strand
  std::uint64_t next_connection = 0;                                  // on strand
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections{}; // on strand; erased by
                                                                      // serve()

  // Held while a handler runs, so that stop() can wait it out and then take the handlers
  // away: once stop() returns, nothing calls into the caller's objects again.
  std::mutex handlers_mutex;
  std::optional<HttpHandlers> handlers; // guarded by handlers_mutex; reset by stop()
};

namespace {

// What ends a coroutine with an exception is a bug or an allocation failure; it has ended
// that one connection (or the accept loop) and must not escape the caller's io_context::run().
constexpr auto ignore_exception = [](const std::exception_ptr&) {};

} // namespace

asio::awaitable<void> HttpServer::State::accept_loop(std::shared_ptr<State> self) {
  for (;;) {
    auto [error, socket] = co_await self->acceptor.async_accept(use_tuple);
    if (self->stopped) co_return;
    if (error) {
      asio::steady_timer pause(self->strand, accept_retry_pause);
      co_await pause.async_wait(use_tuple);
      if (self->stopped) co_return;
      continue;
    }
    if (self->connections.size() >= self->options.max_connections) {
      // Refused: closed before a byte is read, so a flood of connections costs a descriptor
      // for a moment each and no memory.
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    const std::uint64_t id = self->next_connection++;
    auto connection =
        std::make_shared<Connection>(std::move(socket), self->strand, self->options.request_burst);
    self->connections.emplace(id, connection);
    asio::co_spawn(
        self->strand,
        [](std::shared_ptr<State> state, std::shared_ptr<Connection> served,
           std::uint64_t served_id) -> asio::awaitable<void> {
          co_await serve(state, std::move(served));
          state->connections.erase(served_id);
        }(self, std::move(connection), id),
        ignore_exception);
  }
}

asio::awaitable<void> HttpServer::State::serve(std::shared_ptr<State> self,
                                               std::shared_ptr<Connection> connection) {
  beast::tcp_stream& stream = connection->stream;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(self->options.header_limit);
    parser.body_limit(self->options.body_limit);
    // One deadline for the whole request: a client that sends nothing, or a header a byte at
    // a time, is closed when it expires, as is a keep-alive connection left idle.
    stream.expires_after(self->options.timeout);
    auto [read_error, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (read_error) {
      if (std::optional<Response> response = refusal(read_error); response && !self->stopped) {
        response->keep_alive(false);
        stream.expires_after(self->options.timeout);
        // Best effort: the connection closes whether or not the peer takes the answer.
        [[maybe_unused]] auto answered = co_await http::async_write(stream, *response, use_tuple);
      }
      break;
    }
    Request& request = parser.get();
    if (websocket::is_upgrade(request)) {
      HttpResponse answer = self->ask_handler(*connection, request);
      if (answer.frames && !self->stopped) {
        co_await push_frames(self, connection, std::move(request), std::move(answer.frames));
        co_return;
      }
      if (answer.status == 200) answer = json_error(400, "no WebSocket here");
      Response response = handler_response(std::move(answer), request.version());
      response.keep_alive(false);
      stream.expires_after(self->options.timeout);
      [[maybe_unused]] auto answered = co_await http::async_write(stream, response, use_tuple);
      break;
    }
    Response response = self->answer(*connection, request);
    stream.expires_after(self->options.timeout);
    auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
    if (write_error || !response.keep_alive() || self->stopped) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> HttpServer::State::push_frames(std::shared_ptr<State> self,
                                                     std::shared_ptr<Connection> connection,
                                                     Request request, FrameSource frames) {
  auto& ws = connection->ws.emplace(std::move(connection->stream));
  // The WebSocket's own timeouts: the handshake's, and none while idle (the client need send
  // nothing); a frame the reader does not take is the watchdog's below.
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout{.handshake_timeout = self->options.timeout,
                                                .idle_timeout = websocket::stream_base::none(),
                                                .keep_alive_pings = false});
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "worldlog"); }));
  ws.read_message_max(self->options.websocket_message_limit);
  auto [accept_error] = co_await ws.async_accept(request, use_tuple);
  if (accept_error || self->stopped) co_return;
  ws.text(true);
  asio::co_spawn(self->strand, read_frames(connection), ignore_exception);

  asio::steady_timer poll(self->strand);
  std::uint64_t sent = 0;
  while (!self->stopped && !connection->reader_done) {
    if (std::optional<WebSocketFrame> frame = self->next_frame(frames, sent)) {
      sent = frame->number;
      // One frame in flight: the next is asked for only once this one is taken, so a slow
      // reader skips frames rather than queue them, and one that takes none in time is dropped.
      connection->watchdog.expires_after(self->options.frame_timeout);
      connection->watchdog.async_wait(
          [weak = std::weak_ptr<Connection>(connection)](const beast::error_code& error) {
            if (error) return;
            if (auto late = weak.lock()) late->close();
          });
      auto [write_error, written] = co_await ws.async_write(asio::buffer(*frame->text), use_tuple);
      connection->watchdog.cancel();
      if (write_error) break;
    }
    poll.expires_after(self->options.frame_poll);
    co_await poll.async_wait(use_tuple);
  }
  connection->close();
}

asio::awaitable<void> HttpServer::State::read_frames(std::shared_ptr<Connection> connection) {
  // What the client sends is read (so that its pings and close are answered) and dropped; a
  // message beyond the limit fails the read, and the connection closes.
  beast::flat_buffer buffer;
  for (;;) {
    auto [error, read] = co_await connection->ws->async_read(buffer, use_tuple);
    if (error) break;
    buffer.consume(buffer.size());
  }
  connection->reader_done = true;
  connection->close();
}

std::optional<WebSocketFrame> HttpServer::State::next_frame(const FrameSource& frames,
                                                            std::uint64_t after) {
  std::lock_guard lock(handlers_mutex);
  if (!handlers) return std::nullopt;
  try {
    return frames(after);
  } catch (const std::exception&) {
    // A source that fails sends nothing this time; the connection stays, as a reader's would
    // whose zone has not moved.
    return std::nullopt;
  }
}

void HttpServer::State::close() {
  if (stopped) return;
  stopped = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  // Each connection's coroutine wakes with operation_aborted and erases itself.
  for (auto& [id, connection] : connections)
    connection->close();
}

Response HttpServer::State::answer(Connection& connection, const Request& request) {
  Response response = respond(connection, request);
  response.keep_alive(request.keep_alive());
  return response;
}

Response HttpServer::State::respond(Connection& connection, const Request& request) {
  const unsigned version = request.version();
  std::string_view path(request.target().data(), request.target().size());
  path = path.substr(0, path.find('?'));
  if (path != "/metrics" && path != "/healthz") {
    bool handled = false;
    {
      std::lock_guard lock(handlers_mutex);
      handled = handlers && handlers->handler;
    }
    // Without a handler, anything else is the plain-text 404 below, as before there was one.
    if (handled) return handler_response(ask_handler(connection, request), version);
  }

  std::lock_guard lock(handlers_mutex);
  if (!handlers) return text_response(http::status::service_unavailable, version, "stopping\n");
  const bool metrics = path == "/metrics" && handlers->metrics;
  const bool health = path == "/healthz" && handlers->health;
  if (!metrics && !health)
    return text_response(http::status::not_found, version,
                         fmt::format("no such endpoint: {}\n", path));
  if (request.method() != http::verb::get) {
    Response response = text_response(http::status::method_not_allowed, version,
                                      fmt::format("{} takes GET only\n", path));
    response.set(http::field::allow, "GET");
    return response;
  }
  try {
    if (metrics)
      return text_response(http::status::ok, version, handlers->metrics(), metrics_content_type);
    const Status healthy = handlers->health();
    if (healthy.ok()) return text_response(http::status::ok, version, "ok\n");
    return text_response(http::status::service_unavailable, version,
                         healthy.error().to_string() + "\n");
  } catch (const std::exception& error) {
    return text_response(http::status::internal_server_error, version,
                         fmt::format("{} failed: {}\n", path, error.what()));
  }
}

bool HttpServer::State::within_rate(Connection& connection) const {
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::duration<double> elapsed = now - connection.refilled;
  connection.refilled = now;
  connection.tokens = std::min(options.request_burst,
                               connection.tokens + elapsed.count() * options.requests_per_second);
  if (connection.tokens < 1) return false;
  connection.tokens -= 1;
  return true;
}

HttpResponse HttpServer::State::ask_handler(Connection& connection, const Request& request) {
  if (!within_rate(connection)) return json_error(429, "too many requests");
  std::optional<HttpRequest> parsed =
      parse_target(std::string_view(request.target().data(), request.target().size()));
  if (!parsed) return json_error(400, "malformed request target");
  if (!options.token.empty()) {
    std::string_view given;
    if (auto token = parsed->query.find("token"); token != parsed->query.end()) {
      given = token->second;
    } else if (auto authorization = request.find(http::field::authorization);
               authorization != request.end()) {
      constexpr std::string_view bearer = "Bearer ";
      const std::string_view value(authorization->value().data(), authorization->value().size());
      if (value.starts_with(bearer)) given = value.substr(bearer.size());
    }
    if (given.empty()) return json_error(401, "this server needs a token");
    if (!same_token(given, options.token)) return json_error(401, "wrong token");
  }
  if (request.method() != http::verb::get) {
    return json_error(405, fmt::format("{} takes GET only", parsed->path));
  }
  parsed->websocket = websocket::is_upgrade(request);
  std::lock_guard lock(handlers_mutex);
  if (!handlers) return json_error(503, "stopping");
  if (!handlers->handler) return json_error(404, fmt::format("no such endpoint: {}", parsed->path));
  try {
    return handlers->handler(*parsed);
  } catch (const std::exception& error) {
    return json_error(500, fmt::format("{} failed: {}", parsed->path, error.what()));
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(asio::io_context& io,
                                                      const tcp::endpoint& endpoint,
                                                      HttpHandlers handlers, HttpOptions options) {
  auto state = std::make_shared<State>(io, std::move(handlers), options);
  beast::error_code error;
  state->acceptor.open(endpoint.protocol(), error);
  if (!error) state->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) state->acceptor.bind(endpoint, error);
  if (!error) state->acceptor.listen(tcp::acceptor::max_listen_connections, error);
  tcp::endpoint local;
  if (!error) local = state->acceptor.local_endpoint(error);
  if (error) {
    return make_error(Errc::io_error, "cannot listen for HTTP on {}:{}: {}",
                      endpoint.address().to_string(), endpoint.port(), error.message());
  }
  asio::co_spawn(state->strand, State::accept_loop(state), ignore_exception);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state), local));
}

HttpServer::HttpServer(std::shared_ptr<State> state, tcp::endpoint local_endpoint)
    : state_(std::move(state)), local_endpoint_(local_endpoint) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  {
    std::lock_guard lock(state_->handlers_mutex);
    state_->handlers.reset();
  }
  asio::dispatch(state_->strand, [state = state_] { state->close(); });
}

} // namespace worldlog::net

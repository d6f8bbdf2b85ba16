#include <worldlog/net/http.hpp>

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
#include <fmt/format.h>

namespace worldlog::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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

} // namespace

struct HttpServer::State {
  State(asio::io_context& io, HttpHandlers handlers_in, HttpOptions options_in)
      : strand(asio::make_strand(io)), acceptor(strand), options(options_in),
        handlers(std::move(handlers_in)) {}

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self);
  static asio::awaitable<void> serve(std::shared_ptr<State> self, std::uint64_t id);
  void close();
  // The response to a request, which keeps the connection open when the request asked so.
  Response answer(const Request& request);
  Response respond(const Request& request);

  // The accept loop, every connection and close() run on this one strand, so that the
  // acceptor and the connection map need no lock. One strand is plenty for a scrape every few
  // seconds, and it makes stopping a plain loop over the open connections.
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  const HttpOptions options;
  bool stopped = false;                                     // on strand
  std::uint64_t next_connection = 0;                        // on strand
  std::map<std::uint64_t, beast::tcp_stream> connections{}; // on strand; erased by serve()

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
    self->connections.emplace(id, beast::tcp_stream(std::move(socket)));
    asio::co_spawn(self->strand, serve(self, id), ignore_exception);
  }
}

asio::awaitable<void> HttpServer::State::serve(std::shared_ptr<State> self, std::uint64_t id) {
  struct Forget {
    State& state;
    std::uint64_t id;
    ~Forget() { state.connections.erase(id); }
  } forget{*self, id};
  beast::tcp_stream& stream = self->connections.at(id);
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
    Response response = self->answer(parser.get());
    stream.expires_after(self->options.timeout);
    auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
    if (write_error || !response.keep_alive() || self->stopped) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void HttpServer::State::close() {
  if (stopped) return;
  stopped = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  // Each connection's coroutine wakes with operation_aborted and erases itself.
  for (auto& [id, stream] : connections)
    stream.close();
}

Response HttpServer::State::answer(const Request& request) {
  Response response = respond(request);
  response.keep_alive(request.keep_alive());
  return response;
}

Response HttpServer::State::respond(const Request& request) {
  const unsigned version = request.version();
  std::string_view path(request.target().data(), request.target().size());
  path = path.substr(0, path.find('?'));

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

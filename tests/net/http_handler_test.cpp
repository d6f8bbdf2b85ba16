// The HTTP server's handler over real sockets on 127.0.0.1: what the handler is given and
// answers, the token, the request rate, and WebSockets: frames pushed as the source moves on,
// a reader that takes none dropped, a client that sends too much cut off.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <worldlog/net/http.hpp>

#include "support/log_helpers.hpp"

namespace worldlog::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// How long a client waits for something that should happen at once. Only a broken server
/// makes it wait this long; no test asserts on time.
constexpr std::chrono::seconds wait_long{10};

/// The frames a test hands out: the newest, replaced by publish(); and how many times a
/// WebSocket took one.
class Frames {
public:
  void publish(std::string text) {
    std::lock_guard lock(mutex_);
    latest_ = {latest_.number + 1, std::make_shared<const std::string>(std::move(text))};
  }
  std::optional<net::WebSocketFrame> after(std::uint64_t number) {
    std::lock_guard lock(mutex_);
    if (!latest_.text || latest_.number <= number) return std::nullopt;
    ++taken;
    return latest_;
  }
  std::atomic<int> taken = 0;

private:
  std::mutex mutex_;
  net::WebSocketFrame latest_{};
};

/// A server on 127.0.0.1, port 0, whose handler echoes what it was given as JSON, and takes
/// WebSockets on /ws, its io_context run on a thread.
class Served {
public:
  explicit Served(net::HttpOptions options = {}) {
    auto started = net::HttpServer::start(
        io_, {asio::ip::make_address("127.0.0.1"), 0},
        {.metrics = [] { return std::string("up 1\n"); },
         .health = [] { return Status{}; },
         .handler = [this](const net::HttpRequest& request) { return answer(request); }},
        options);
    REQUIRE_OK(started);
    server_ = std::move(started).value();
    runner_ = std::thread([this] { io_.run(); });
  }
  ~Served() {
    server_.reset();
    io_.stop();
    runner_.join();
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  [[nodiscard]] std::uint16_t port() const { return server_->local_endpoint().port(); }

  Frames frames;
  /// Whether a WebSocket's FrameSource is still held by the server.
  [[nodiscard]] bool source_alive() {
    std::lock_guard lock(mutex_);
    return !source_.expired();
  }

private:
  net::HttpResponse answer(const net::HttpRequest& request) {
    if (request.path == "/ws") {
      if (!request.websocket) return net::json_error(400, "/ws needs an upgrade");
      auto alive = std::make_shared<int>(0);
      {
        std::lock_guard lock(mutex_);
        source_ = alive;
      }
      return {.frames = [this, alive](std::uint64_t after) { return frames.after(after); }};
    }
    if (request.path == "/missing") return net::json_error(404, "no such thing");
    json::object query;
    for (const auto& [name, value] : request.query)
      query[name] = value;
    return {.body = json::serialize(json::object{{"path", request.path}, {"query", query}})};
  }

  asio::io_context io_;
  std::unique_ptr<net::HttpServer> server_;
  std::thread runner_;
  std::mutex mutex_;
  std::weak_ptr<int> source_; // guarded by mutex_
};

struct Reply {
  beast::error_code error;
  http::response<http::string_body> response;
};

/// One keep-alive HTTP connection, blocking.
class Client {
public:
  explicit Client(std::uint16_t port) {
    stream_.expires_after(wait_long);
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  Reply get(std::string_view target, std::string_view authorization = {}) {
    http::request<http::string_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (!authorization.empty()) request.set(http::field::authorization, authorization);
    Reply reply;
    stream_.expires_after(wait_long);
    http::write(stream_, request, reply.error);
    if (!reply.error) http::read(stream_, buffer_, reply.response, reply.error);
    return reply;
  }

private:
  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

json::value body_json(const Reply& reply) { return json::parse(reply.response.body()); }

/// A WebSocket client of /ws, blocking.
class WebSocketClient {
public:
  explicit WebSocketClient(std::uint16_t port, std::string_view target = "/ws") {
    beast::get_lowest_layer(ws_).expires_after(wait_long);
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws_.handshake("127.0.0.1", target, handshake_error_);
  }
  [[nodiscard]] beast::error_code handshake_error() const { return handshake_error_; }

  /// The next frame's text, or the error that ended the connection.
  std::pair<beast::error_code, std::string> read() {
    beast::flat_buffer buffer;
    beast::error_code error;
    beast::get_lowest_layer(ws_).expires_after(wait_long);
    ws_.read(buffer, error);
    return {error, beast::buffers_to_string(buffer.data())};
  }

  beast::error_code write(const std::string& text) {
    beast::error_code error;
    beast::get_lowest_layer(ws_).expires_after(wait_long);
    ws_.write(asio::buffer(text), error);
    return error;
  }

private:
  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_{io_};
  beast::error_code handshake_error_;
};

} // namespace

TEST_CASE("the handler gets every other GET with its path and query decoded") {
  Served served;
  Client client(served.port());
  const Reply echoed = client.get("/api/a%20b?x=1&y=two+words&z=%2Fslash&x=3");
  REQUIRE_FALSE(echoed.error);
  CHECK(echoed.response.result() == http::status::ok);
  CHECK(echoed.response[http::field::content_type] == "application/json");
  const json::value body = body_json(echoed);
  CHECK(body.at("path") == "/api/a b");
  CHECK(body.at("query").at("x") == "3"); // the last of a repeated parameter
  CHECK(body.at("query").at("y") == "two words");
  CHECK(body.at("query").at("z") == "/slash");

  const Reply missing = client.get("/missing");
  REQUIRE_FALSE(missing.error);
  CHECK(missing.response.result() == http::status::not_found);
  CHECK(body_json(missing).at("error") == "no such thing");

  const Reply malformed = client.get("/api?x=%zz");
  REQUIRE_FALSE(malformed.error);
  CHECK(malformed.response.result() == http::status::bad_request);

  // /metrics and /healthz are as they were.
  const Reply metrics = client.get("/metrics");
  REQUIRE_FALSE(metrics.error);
  CHECK(metrics.response.body() == "up 1\n");
}

TEST_CASE("with a token, the handler answers only requests that carry it, and /metrics all") {
  Served served({.token = "s3cret-token"});
  Client client(served.port());
  const Reply bare = client.get("/api/world");
  REQUIRE_FALSE(bare.error);
  CHECK(bare.response.result() == http::status::unauthorized);
  CHECK(body_json(bare).at("error") == "this server needs a token");

  const Reply wrong = client.get("/api/world?token=s3cret-tokeX");
  REQUIRE_FALSE(wrong.error);
  CHECK(wrong.response.result() == http::status::unauthorized);
  const Reply short_one = client.get("/api/world", "Bearer s3cret");
  REQUIRE_FALSE(short_one.error);
  CHECK(short_one.response.result() == http::status::unauthorized);

  const Reply in_query = client.get("/api/world?token=s3cret-token");
  REQUIRE_FALSE(in_query.error);
  CHECK(in_query.response.result() == http::status::ok);
  const Reply in_header = client.get("/api/world", "Bearer s3cret-token");
  REQUIRE_FALSE(in_header.error);
  CHECK(in_header.response.result() == http::status::ok);

  const Reply metrics = client.get("/metrics");
  REQUIRE_FALSE(metrics.error);
  CHECK(metrics.response.result() == http::status::ok);
  const Reply health = client.get("/healthz");
  REQUIRE_FALSE(health.error);
  CHECK(health.response.result() == http::status::ok);

  // A WebSocket needs it too.
  WebSocketClient refused(served.port(), "/ws");
  CHECK(refused.handshake_error());
  WebSocketClient admitted(served.port(), "/ws?token=s3cret-token");
  CHECK_FALSE(admitted.handshake_error());
}

TEST_CASE("a connection past its request rate gets 429 and another connection does not") {
  Served served({.requests_per_second = 0.01, .request_burst = 3});
  Client client(served.port());
  for (int i = 0; i < 3; ++i) {
    const Reply within = client.get("/api/world");
    REQUIRE_FALSE(within.error);
    CHECK(within.response.result() == http::status::ok);
  }
  const Reply past = client.get("/api/world");
  REQUIRE_FALSE(past.error);
  CHECK(past.response.result() == http::status::too_many_requests);
  CHECK(body_json(past).at("error") == "too many requests");
  // Scrapes are not counted.
  CHECK(client.get("/metrics").response.result() == http::status::ok);

  Client other(served.port());
  CHECK(other.get("/api/world").response.result() == http::status::ok);
}

TEST_CASE("a WebSocket gets the newest frame each time the source moves on") {
  Served served({.frame_poll = 10ms});
  served.frames.publish("one");
  WebSocketClient client(served.port());
  REQUIRE_FALSE(client.handshake_error());
  auto [error, first] = client.read();
  REQUIRE_FALSE(error);
  CHECK(first == "one");
  // Published while the client was not looking: only the newest is sent.
  served.frames.publish("two");
  served.frames.publish("three");
  auto [next_error, next] = client.read();
  REQUIRE_FALSE(next_error);
  CHECK((next == "two" || next == "three"));
  if (next == "two") {
    auto [last_error, last] = client.read();
    REQUIRE_FALSE(last_error);
    CHECK(last == "three");
  }
  // What the client sends is read and ignored.
  CHECK_FALSE(client.write("hello"));
  served.frames.publish("four");
  auto [after_error, after] = client.read();
  REQUIRE_FALSE(after_error);
  CHECK(after == "four");

  // A plain GET of a WebSocket path is the handler's to refuse.
  Client plain(served.port());
  CHECK(plain.get("/ws").response.result() == http::status::bad_request);
}

TEST_CASE("a WebSocket reader that takes no frame is dropped, having been sent few") {
  Served served({.frame_timeout = 300ms, .frame_poll = 1ms});
  WebSocketClient idle(served.port());
  REQUIRE_FALSE(idle.handshake_error());
  // Big frames, a new one every moment: the server's buffers and the socket's fill, and the
  // frame being written is not taken in time.
  const std::string big(1 << 20, 'x');
  for (const auto deadline = std::chrono::steady_clock::now() + wait_long;
       served.source_alive() && std::chrono::steady_clock::now() < deadline;) {
    served.frames.publish(big);
    std::this_thread::sleep_for(5ms);
  }
  CHECK_FALSE(served.source_alive());
  // One frame in flight at a time: only what the socket's buffers held was ever taken.
  CHECK(served.frames.taken.load() < 64);
}

TEST_CASE("a WebSocket client that sends a message past the limit is cut off") {
  Served served({.websocket_message_limit = 64});
  WebSocketClient client(served.port());
  REQUIRE_FALSE(client.handshake_error());
  static_cast<void>(client.write(std::string(1000, 'y')));
  const auto [error, text] = client.read();
  CHECK(error);
  CHECK(text.empty());
}

} // namespace worldlog::test

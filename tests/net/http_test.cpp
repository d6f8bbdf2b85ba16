// The HTTP endpoints over real sockets on 127.0.0.1: what /metrics and /healthz answer, what
// anything else gets, and the defences (size limits, the request timeout, the connection
// limit), and stop().
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <doctest/doctest.h>

#include <worldlog/net/http.hpp>

#include "support/log_helpers.hpp"

namespace worldlog::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// How long a client waits for something that should happen at once. Only a broken server
/// makes it wait this long; no test asserts on time.
constexpr std::chrono::seconds wait_long{10};

/// A server on 127.0.0.1, port 0, with handlers the test sets, its io_context run on a thread.
class Served {
public:
  explicit Served(net::HttpOptions options = {}) {
    auto started = net::HttpServer::start(
        io_, {asio::ip::make_address("127.0.0.1"), 0},
        {.metrics = [this] { return metrics_text(); }, .health = [this] { return health(); }},
        options);
    REQUIRE_OK(started);
    server_ = std::move(started).value();
    ran_out_ = ran_out_promise_.get_future();
    runner_ = std::thread([this] {
      io_.run();
      ran_out_promise_.set_value();
    });
  }
  ~Served() {
    server_.reset();
    if (!run_returned()) io_.stop();
    runner_.join();
    // Whatever stop() left queued (the sockets' closing) runs and finishes here.
    io_.restart();
    io_.run_for(wait_long);
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  [[nodiscard]] net::HttpServer& server() { return *server_; }
  [[nodiscard]] std::uint16_t port() const { return server_->local_endpoint().port(); }

  void set_metrics(std::string text) {
    std::lock_guard lock(mutex_);
    metrics_ = std::move(text);
  }
  void set_health(Status status) {
    std::lock_guard lock(mutex_);
    health_ = std::move(status);
  }
  void throw_from_metrics() {
    std::lock_guard lock(mutex_);
    throw_ = true;
  }

  /// Whether the io_context's run() returned (within wait_long): the server left no work.
  [[nodiscard]] bool run_returned() {
    return ran_out_.wait_for(wait_long) == std::future_status::ready;
  }

private:
  std::string metrics_text() {
    std::lock_guard lock(mutex_);
    if (throw_) throw std::runtime_error("the registry is on fire");
    return metrics_;
  }
  Status health() {
    std::lock_guard lock(mutex_);
    return health_;
  }

  asio::io_context io_;
  std::unique_ptr<net::HttpServer> server_;
  std::promise<void> ran_out_promise_;
  std::future<void> ran_out_;
  std::thread runner_;

  std::mutex mutex_;
  std::string metrics_; // guarded by mutex_
  Status health_;       // guarded by mutex_
  bool throw_ = false;  // guarded by mutex_
};

struct Reply {
  beast::error_code error;
  http::response<http::string_body> response;
};

/// A client connection with blocking helpers; each waits at most wait_long.
class Client {
public:
  explicit Client(std::uint16_t port) {
    connected_ = run([&](auto done) {
      stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), done);
    });
  }

  [[nodiscard]] beast::error_code connected() const { return connected_; }

  beast::error_code send(const std::string& bytes) {
    return run([&](auto done) { asio::async_write(stream_, asio::buffer(bytes), done); });
  }

  Reply read_response() {
    Reply reply;
    reply.error = run([&](auto done) { http::async_read(stream_, buffer_, reply.response, done); });
    return reply;
  }

  Reply request(http::verb method, std::string_view target, std::string body = {}) {
    http::request<http::string_body> request(method, target, 11);
    request.set(http::field::host, "127.0.0.1");
    request.body() = std::move(body);
    request.prepare_payload();
    const beast::error_code sent =
        run([&](auto done) { http::async_write(stream_, request, done); });
    if (sent) return {sent, {}};
    return read_response();
  }

  Reply get(std::string_view target) { return request(http::verb::get, target); }

  /// Reads until the server closes the connection: the error that ended it, eof or reset; a
  /// timeout when the server kept it open for wait_long.
  beast::error_code read_until_closed() {
    for (;;) {
      char scratch[512];
      const beast::error_code error =
          run([&](auto done) { stream_.async_read_some(asio::buffer(scratch), done); });
      if (error) return error;
    }
  }

private:
  template <typename Start> beast::error_code run(Start start) {
    beast::error_code result;
    stream_.expires_after(wait_long);
    start([&result](beast::error_code error, auto&&...) { result = error; });
    io_.restart();
    io_.run();
    return result;
  }

  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  beast::error_code connected_;
};

/// The server closed the connection (rather than leaving it open until the client gave up).
bool closed(const beast::error_code& error) {
  return error == asio::error::eof || error == asio::error::connection_reset ||
         error == http::error::end_of_stream;
}

std::string content_type(const Reply& reply) {
  return std::string(reply.response[http::field::content_type]);
}

} // namespace

TEST_CASE("GET /metrics answers the callback's text as Prometheus text format 0.0.4") {
  Served served;
  served.set_metrics("# TYPE up gauge\nup 1\n");
  Client client(served.port());
  REQUIRE_FALSE(client.connected());
  const Reply first = client.get("/metrics");
  REQUIRE_FALSE(first.error);
  CHECK(first.response.result() == http::status::ok);
  CHECK(content_type(first) == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(first.response.body() == "# TYPE up gauge\nup 1\n");

  // Keep-alive: the same connection asks again, and the callback runs again.
  served.set_metrics("up 2\n");
  const Reply second = client.get("/metrics?ignored=query");
  REQUIRE_FALSE(second.error);
  CHECK(second.response.result() == http::status::ok);
  CHECK(second.response.body() == "up 2\n");
}

TEST_CASE("GET /healthz answers 200 ok when healthy and 503 with the reason otherwise") {
  Served served;
  Client client(served.port());
  const Reply healthy = client.get("/healthz");
  REQUIRE_FALSE(healthy.error);
  CHECK(healthy.response.result() == http::status::ok);
  CHECK(healthy.response.body() == "ok\n");

  served.set_health(make_error(Errc::closed, "the event log is closed"));
  const Reply sick = client.get("/healthz");
  REQUIRE_FALSE(sick.error);
  CHECK(sick.response.result() == http::status::service_unavailable);
  CHECK(sick.response.body() == "closed: the event log is closed\n");
}

TEST_CASE("an unknown path is 404, another method 405, and a malformed request 400") {
  Served served;
  Client client(served.port());
  const Reply unknown = client.get("/admin");
  REQUIRE_FALSE(unknown.error);
  CHECK(unknown.response.result() == http::status::not_found);
  CHECK(unknown.response.body() == "no such endpoint: /admin\n");

  const Reply posted = client.request(http::verb::post, "/metrics", "up 0\n");
  REQUIRE_FALSE(posted.error);
  CHECK(posted.response.result() == http::status::method_not_allowed);
  CHECK(posted.response[http::field::allow] == "GET");

  const Reply deleted = client.request(http::verb::delete_, "/healthz");
  REQUIRE_FALSE(deleted.error);
  CHECK(deleted.response.result() == http::status::method_not_allowed);

  // The connection survived all three; then a request that is not HTTP ends it.
  REQUIRE_FALSE(client.send("HELLO?\r\n\r\n"));
  const Reply garbage = client.read_response();
  REQUIRE_FALSE(garbage.error);
  CHECK(garbage.response.result() == http::status::bad_request);
  CHECK(closed(client.read_until_closed()));
}

TEST_CASE("a handler that throws gets a 500 and the server goes on") {
  Served served;
  served.throw_from_metrics();
  Client client(served.port());
  const Reply failed = client.get("/metrics");
  REQUIRE_FALSE(failed.error);
  CHECK(failed.response.result() == http::status::internal_server_error);
  CHECK(failed.response.body() == "/metrics failed: the registry is on fire\n");
  const Reply healthy = client.get("/healthz");
  REQUIRE_FALSE(healthy.error);
  CHECK(healthy.response.result() == http::status::ok);
}

TEST_CASE("an oversized header is refused and the connection closed, and the server goes on") {
  Served served({.header_limit = 1024});
  Client client(served.port());
  // The send itself may fail: the server stops reading at the limit and closes.
  const beast::error_code sent = client.send(
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(4096, 'a') + "\r\n\r\n");
  CAPTURE(sent);
  // The refusal may be lost to the reset that closing on unread bytes sends: either way the
  // connection ends.
  const Reply refused = client.read_response();
  if (!refused.error) {
    CHECK(refused.response.result() == http::status::request_header_fields_too_large);
    CHECK(closed(client.read_until_closed()));
  } else {
    CHECK(closed(refused.error));
  }

  Client next(served.port());
  const Reply healthy = next.get("/healthz");
  REQUIRE_FALSE(healthy.error);
  CHECK(healthy.response.result() == http::status::ok);
}

TEST_CASE("a body above the limit is refused with 413 before it is sent") {
  Served served({.body_limit = 100});
  Client client(served.port());
  REQUIRE_FALSE(
      client.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  const Reply refused = client.read_response();
  REQUIRE_FALSE(refused.error);
  CHECK(refused.response.result() == http::status::payload_too_large);
  CHECK(closed(client.read_until_closed()));
}

TEST_CASE("a client that sends nothing or half a request is closed after the timeout") {
  Served served({.timeout = 200ms});
  Client silent(served.port());
  REQUIRE_FALSE(silent.connected());
  CHECK(closed(silent.read_until_closed()));

  Client dribbling(served.port());
  REQUIRE_FALSE(dribbling.send("GET /metrics HTTP/1.1\r\nHost: "));
  CHECK(closed(dribbling.read_until_closed()));

  // Idle between keep-alive requests counts the same.
  Client idle(served.port());
  const Reply healthy = idle.get("/healthz");
  REQUIRE_FALSE(healthy.error);
  CHECK(healthy.response.result() == http::status::ok);
  CHECK(closed(idle.read_until_closed()));
}

TEST_CASE("connections beyond the maximum are closed at once and the others go on") {
  Served served({.max_connections = 2});
  std::optional<Client> first(std::in_place, served.port());
  Client second(served.port());
  // Answered, so both are open on the server's side before the third arrives.
  REQUIRE(first->get("/healthz").response.result() == http::status::ok);
  REQUIRE(second.get("/healthz").response.result() == http::status::ok);

  Client third(served.port());
  CHECK(closed(third.read_until_closed()));
  CHECK(first->get("/healthz").response.result() == http::status::ok);
  CHECK(second.get("/healthz").response.result() == http::status::ok);

  // Once one leaves there is room again (as soon as the server has seen it leave).
  first.reset();
  bool served_again = false;
  const auto deadline = std::chrono::steady_clock::now() + wait_long;
  while (!served_again && std::chrono::steady_clock::now() < deadline) {
    Client another(served.port());
    served_again = another.get("/healthz").response.result() == http::status::ok;
  }
  CHECK(served_again);
}

TEST_CASE("stop closes the listener and every connection and leaves no work behind") {
  Served served;
  Client open(served.port());
  REQUIRE(open.get("/healthz").response.result() == http::status::ok);

  served.server().stop();
  CHECK(closed(open.read_until_closed()));
  CHECK(served.run_returned());
  Client late(served.port());
  CHECK(late.connected() == asio::error::connection_refused);
  served.server().stop(); // again: nothing more to do
}

TEST_CASE("start reports an endpoint it cannot listen on by name") {
  Served served;
  asio::io_context io;
  auto second = net::HttpServer::start(io, served.server().local_endpoint(), {});
  CHECK(error_code(second) == Errc::io_error);
  CHECK(error_message(second).find(fmt::format("127.0.0.1:{}", served.port())) !=
        std::string::npos);
}

} // namespace worldlog::test

// What a browser with the viewer open costs a server, for `bench serve --viewer`: the page's own
// traffic, made by this process. It keeps the live map of one zone open on its WebSocket, taking
// every frame, and polls `/api/world` and `/api/behaviour` every second, as the page does
// (docs/viewer.md).
//
// Threads: two of its own, one reading the WebSocket and one polling; stop() ends the polls,
// and the WebSocket reader ends when the server closes the connection (at its SIGTERM).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <fmt/format.h>

namespace worldlog::tools {

class ViewerWatch {
public:
  /// Starts watching zone `zone` of the server whose HTTP port is `http_port` on 127.0.0.1.
  ViewerWatch(std::uint16_t http_port, std::uint64_t zone)
      : port_(http_port), reader_([this, zone] { read_frames(zone); }),
        poller_([this] { poll(); }) {}

  /// Stops polling and waits for both threads.
  /// REQUIRES: the server closed its connections (else the reader waits on), or will.
  ~ViewerWatch() {
    stopping_.store(true);
    poller_.join();
    reader_.join();
  }
  ViewerWatch(const ViewerWatch&) = delete;
  ViewerWatch& operator=(const ViewerWatch&) = delete;

  /// Frames of the live map taken so far, their bytes, and the API requests answered 200.
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_.load(); }
  [[nodiscard]] std::uint64_t frame_bytes() const noexcept { return frame_bytes_.load(); }
  [[nodiscard]] std::uint64_t polls() const noexcept { return polls_.load(); }

private:
  using tcp = boost::asio::ip::tcp;
  void read_frames(std::uint64_t zone) {
    namespace beast = boost::beast;
    boost::asio::io_context io;
    beast::websocket::stream<tcp::socket> socket(io);
    beast::error_code error;
    socket.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port_}, error);
    if (!error)
      socket.handshake(fmt::format("127.0.0.1:{}", port_), fmt::format("/ws/zones/{}", zone),
                       error);
    beast::flat_buffer buffer;
    while (!error) {
      const std::size_t read = socket.read(buffer, error);
      if (error) break;
      frames_.fetch_add(1);
      frame_bytes_.fetch_add(read);
      buffer.consume(buffer.size());
    }
  }

  void poll() {
    for (;;) {
      for (const char* target : {"/api/world", "/api/behaviour"}) {
        if (get(target)) polls_.fetch_add(1);
      }
      for (int i = 0; i < 10; ++i) {
        if (stopping_.load()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  /// GET `target`; true when it was answered 200.
  bool get(const char* target) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    beast::error_code error;
    stream.socket().connect({boost::asio::ip::make_address("127.0.0.1"), port_}, error);
    if (error) return false;
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request, error);
    if (error) return false;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response, error);
    return !error && response.result() == http::status::ok;
  }

  const std::uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> frame_bytes_{0};
  std::atomic<std::uint64_t> polls_{0};
  std::thread reader_; // last: they start once the rest is built
  std::thread poller_;
};

} // namespace worldlog::tools

// The viewer's server side: the JSON API of docs/viewer.md over a log and the models of its
// zones, the live map's WebSocket frames, and the static page, as one net::HttpHandlers::handler.
//
//   tools::Viewer viewer(log, models, behaviour, {.live = [&](zone::ZoneId z) { ... }});
//   auto http = net::HttpServer::start(io, endpoint,
//                                      {.metrics = ..., .handler = [&](const net::HttpRequest& r) {
//                                        return viewer.handle(r);
//                                      }});
//
// It only reads the log: every endpoint rebuilds what it shows with the zone's model
// (ModelTools: state_at, step, diff, bisect), each zone with the model its genesis names. The
// live map's frames come from one ZoneFollower per zone that has WebSocket watchers, shared by
// them, advanced by the viewer's one thread at most every `frame_interval` and rendered only
// when the zone's seq moved; a zone without watchers costs nothing.
//
// Threads: one of its own (the followers). handle() may be called from any thread, and the
// FrameSources it hands out too.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include <worldlog/log/event_log.hpp>
#include <worldlog/net/http.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::tools {

class Models;
class BehaviourFollower;

/// What a running server knows of a zone besides its log.
struct ZoneFigures {
  std::optional<std::uint64_t> online{};  ///< players in the zone
  std::optional<std::uint64_t> mailbox{}; ///< commands waiting in the zone's mailbox
};

struct ViewerOptions {
  /// A running world's figures for each zone (`serve`); empty: there are none (`view`), and
  /// /api/world shows them as null with "live": false. Called on the server's threads, once
  /// per /api/world.
  std::function<std::map<zone::ZoneId, ZoneFigures>()> live{};
  /// Serve the page's files from this directory instead of the ones compiled in (to work on
  /// the page without rebuilding); empty: the compiled-in ones.
  std::filesystem::path viewer_dir{};
  /// The live thread's pass over the watched zones: at most one frame per zone per pass.
  std::chrono::milliseconds frame_interval{250};
};

class Viewer {
public:
  /// Starts the live thread.
  /// REQUIRES: `log`, `models` and `behaviour` outlive this.
  Viewer(const log::EventLog& log, const Models& models, const BehaviourFollower& behaviour,
         ViewerOptions options = {});
  /// Stops the live thread. The FrameSources it handed out then send nothing more.
  ~Viewer();
  Viewer(const Viewer&) = delete;
  Viewer& operator=(const Viewer&) = delete;

  /// The answer to a GET (or WebSocket upgrade) the HTTP server gives its handler.
  [[nodiscard]] net::HttpResponse handle(const net::HttpRequest& request);

private:
  struct State;
  std::shared_ptr<State> state_;
};

/// "http://HOST:PORT/" (an IPv6 host in brackets), and "?token=T" when `token` is not empty:
/// the URL `serve` and `view` print.
[[nodiscard]] std::string viewer_url(const boost::asio::ip::tcp::endpoint& endpoint,
                                     std::string_view token);

} // namespace worldlog::tools

// `view`: the viewer (docs/viewer.md) over a stored log, opened read-only: the page, the JSON
// API and the live map's frames (the state at the head), until SIGINT or SIGTERM.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <worldlog/net/http.hpp>
#include <worldlog/net/token.hpp>
#include <worldlog/tools/behaviour_follower.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/tools/viewer.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

namespace asio = boost::asio;

struct ViewCommand {
  std::string data;
  std::string http = "127.0.0.1:7778";
  std::string viewer_dir;
  std::string token;
};

void run_view(const Models& models, const ViewCommand& options) {
  const auto endpoint = listen_endpoint(options.http, "--http");
  // Beyond loopback the viewer needs a token: the one given, or a new random one.
  std::string token = options.token;
  if (token.empty() && !endpoint.address().is_loopback()) token = net::random_viewer_token();

  const auto log = open_existing_log(options.data);
  const BehaviourFollower behaviour(*log, models);
  Viewer viewer(*log, models, behaviour, {.viewer_dir = options.viewer_dir});
  asio::io_context io;
  auto http = net::HttpServer::start(
      io, endpoint,
      {.health = [] { return Status{}; },
       .handler = [&viewer](const net::HttpRequest& request) { return viewer.handle(request); }},
      {.token = token});
  if (!http.ok()) fail(std::string(http.error().message()));
  // Tests and scripts read the URL (and the port, with --http HOST:0) from this line.
  fmt::print("worldlog: viewer at {}\n", viewer_url((*http)->local_endpoint(), token));
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code error, int) {
    if (!error) (*http)->stop();
  });
  io.run();
}

} // namespace

void add_view_command(CLI::App& app, const Models& models) {
  auto options = std::make_shared<ViewCommand>();
  auto* command = app.add_subcommand(
      "view", "Serve the viewer (a web page: map, timeline, behaviour) over a stored log");
  command->add_option("--data", options->data, "Directory of the event log")->required();
  command->add_option("--http", options->http, "HOST:PORT to serve it on (port 0: any free one)")
      ->capture_default_str();
  command
      ->add_option("--viewer-dir", options->viewer_dir,
                   "Serve the page's files from this directory instead of the built-in ones")
      ->check(CLI::ExistingDirectory);
  command->add_option("--token", options->token,
                      "Token every request must carry (?token=T or Authorization: Bearer T); "
                      "bound beyond loopback without one, a random one is made");
  command->callback([options, &models] { run_view(models, *options); });
}

} // namespace worldlog::tools

// market_server: the market behind worldlog's generic server, played by bot traders that are
// real TCP clients over loopback. It opens (or creates) the log in --data, starts a world of
// --zones markets and a net::Server on --listen with a secret of this run, lets --bots traders
// play for --seconds, then closes their connections (the server logs each out), stops the
// server and shuts the world down cleanly (every market snapshots). It checks every market's
// ledger on the log it leaves, prints one summary line, and exits 0; on any failure it names it
// and exits 1.
//
//   market_server --data /tmp/market --zones 3 --bots 8 --seconds 5
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/replay.hpp>

#include <market/invariants.hpp>
#include <market/model.hpp>

#include "bot.hpp"
#include "host.hpp"

namespace {

using namespace worldlog;

struct Options {
  std::string data;
  zone::ZoneId zones = 3;
  std::uint64_t seed = 1;
  std::uint32_t bots = 8;
  std::uint32_t seconds = 5;
  std::string listen = "127.0.0.1:0";
};

/// "ADDRESS:PORT", the address an IP address (an IPv6 one in brackets).
Result<market::tcp::endpoint> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return make_error(Errc::invalid_argument, "--listen '{}' is not ADDRESS:PORT", text);
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string_view port = std::string_view(text).substr(colon + 1);
  std::uint16_t number = 0;
  const auto [end, parsed] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (parsed != std::errc() || end != port.data() + port.size())
    return make_error(Errc::invalid_argument, "--listen '{}': '{}' is not a port", text, port);
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(host, error);
  if (error) {
    return make_error(Errc::invalid_argument, "--listen '{}': '{}' is not an IP address", text,
                      host);
  }
  return market::tcp::endpoint(address, number);
}

/// The markets' ledgers as the log leaves them, each refolded from its snapshot and log.
Status check_ledgers(const log::EventLog& log, zone::ZoneId zones) {
  for (zone::ZoneId z = 1; z <= zones; ++z) {
    const replay::Replayer<market::Model> replayer(log, z);
    auto folded = replayer.state_at(log::end_seq);
    if (!folded.ok()) return make_error(Errc::corruption, "market {}: {}", z, folded.error());
    for (const auto& broken :
         {market::gold_violation(folded->state), market::goods_violation(folded->state),
          market::order_violation(folded->state)}) {
      if (broken) return make_error(Errc::corruption, "market {}: {}", z, *broken);
    }
  }
  return {};
}

int fail(std::string_view what) {
  fmt::print(stderr, "market_server: {}\n", what);
  return 1;
}

int run(const Options& options) {
  auto listen = parse_listen(options.listen);
  if (!listen.ok()) return fail(listen.error().message());
  std::unique_ptr<log::EventLog> log; // outlives the host, whose world writes it
  // Bound first: an address in use is refused before the log is opened or changed.
  auto bound = market::Host::bind(*listen);
  if (!bound.ok()) return fail(bound.error().message());
  market::Host& host = **bound;

  auto opened = log::EventLog::open(
      options.data, {.create_if_missing = true, .on_storage_message = log::print_storage_message});
  if (!opened.ok()) {
    return fail(fmt::format("cannot open the log in {}: {}", options.data, opened.error()));
  }
  log = std::move(opened).value();

  if (Status started = host.start(*log, {.zones = options.zones, .seed = options.seed});
      !started.ok()) {
    return fail(fmt::format("the world did not start: {}", started.error()));
  }
  fmt::print("market_server: {} markets on {}:{}, log in {}; {} bot traders for {} s\n",
             options.zones, host.endpoint().address().to_string(), host.endpoint().port(),
             options.data, options.bots, options.seconds);
  std::fflush(stdout);

  market::Tally tally;
  const Status played =
      market::run_bots(host.endpoint(), host.secret(), options.bots,
                       std::chrono::seconds(options.seconds), {.seed = options.seed}, tally);
  const Status stopped = host.stop();
  if (!played.ok()) return fail(fmt::format("a bot failed: {}", played.error()));
  if (!stopped.ok()) {
    return fail(fmt::format("the world did not shut down cleanly: {}", stopped.error()));
  }
  if (tally.accepted == 0) return fail(fmt::format("no command was accepted: {}", tally.summary()));
  if (Status balanced = check_ledgers(*log, options.zones); !balanced.ok())
    return fail(fmt::format("a ledger does not balance: {}", balanced.error()));
  const auto& counters = host.server().counters();
  fmt::print("market_server: {} bots, {} connections: {}; {} events in the log, every ledger "
             "balanced\n",
             options.bots, counters.connections_total.load(), tally.summary(),
             log->last_position());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app("market_server: the market behind worldlog's server, played by bot traders over "
               "TCP",
               "market_server");
  Options options;
  app.add_option("--data", options.data, "Directory of the log (created if missing)")->required();
  app.add_option("--zones", options.zones, "Markets (zones)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--seed", options.seed, "The world seed (and the bots')")->capture_default_str();
  app.add_option("--bots", options.bots, "Bot traders, one connection each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--seconds", options.seconds, "How long they trade")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--listen", options.listen, "ADDRESS:PORT of the server (port 0: any free one)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return run(options);
}

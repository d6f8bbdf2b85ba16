// A market trader over TCP, as any client of a net::Server would be one: what market_server's
// bots play and what the server tests talk through.
//
// `Client` is one connection: it says Hello with the trader's token, sends the market's commands
// in the engine's envelope (net::Command, bytes of Model::encode_command) and receives frames.
// Every call that waits does so until a deadline: a server that dies or stops answering is an
// error (timeout, closed), never a hang.
//
// `play` is one bot: it joins, then sends a seeded stream of Gather, Craft, List, Buy (of orders
// it saw listed), Cancel and now and then Travel, one command at a time and well under the
// server's commands_per_second, folding what the events (decoded with Model::decode) and the
// results tell it into its own picture of its goods and of the orders open in its market. At
// the end it closes the connection without a Leave: the server logs it out.
//
//   market::Tally tally;
//   const Status played = market::run_bots(server, secret, 8, std::chrono::seconds(5), {}, tally);
//   fmt::print("{}\n", tally.summary());
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <worldlog/net/frame.hpp>
#include <worldlog/net/protocol.hpp>
#include <worldlog/net/token.hpp>
#include <worldlog/status.hpp>

#include <market/model.hpp>

namespace worldlog::market {

using Clock = std::chrono::steady_clock;
using boost::asio::ip::tcp;

/// What bots did, as the server answered them.
struct Tally {
  std::uint64_t sent = 0;                          ///< commands
  std::uint64_t accepted = 0;                      ///< commands
  std::map<std::string, std::uint64_t> rejected{}; ///< commands, by the market's reason name
  std::map<std::string, std::uint64_t> errors{};   ///< Error frames, by code name
  std::uint64_t events = 0;                        ///< world events received
  std::uint64_t trades = 0;                        ///< Buys accepted

  [[nodiscard]] std::uint64_t rejected_total() const;
  void add(const Tally& other);
  /// "412 commands sent, 300 accepted, 112 rejected (40 cooldown, 72 no_such_order), no
  /// errors, 5120 events seen, 37 trades"
  [[nodiscard]] std::string summary() const;
};

/// One connection to a market server. Not thread-safe: one thread at a time.
class Client {
public:
  /// The answer to a command: its result, or an Error frame about it (rate_limited,
  /// bad_command, ...).
  using Answer = std::variant<net::CommandResult, net::Error>;
  using Visitor = std::function<void(const net::Message&)>;

  /// Connects to `server`, says Hello as `trader` with the token `secret` makes for it, and
  /// waits for the Welcome. Errors: io_error (cannot connect), timeout, closed (the server
  /// refused the Hello, naming its error code and text, or closed the connection).
  [[nodiscard]] static Result<std::unique_ptr<Client>> connect(const tcp::endpoint& server,
                                                               const net::Secret& secret,
                                                               TraderId trader,
                                                               Clock::time_point deadline);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] TraderId trader() const noexcept { return trader_; }
  [[nodiscard]] const net::Welcome& welcome() const noexcept { return welcome_; }

  /// Sends `command` (the market's codec) as client id `client_id`. Errors: closed, timeout (the
  /// server took nothing until `deadline`: the connection is closed then).
  [[nodiscard]] Status send(std::uint64_t client_id, const Command& command,
                            Clock::time_point deadline);
  /// Sends a Command frame whose command is `bytes`, whatever they are.
  [[nodiscard]] Status send_bytes(std::uint64_t client_id, std::string bytes,
                                  Clock::time_point deadline);
  /// The next message from the server. Errors: timeout when none came by `deadline` (the
  /// connection stays usable); closed when the server closed the connection; corruption when
  /// a frame does not decode (the connection is closed then).
  [[nodiscard]] Result<net::Message> receive(Clock::time_point deadline);
  /// Receives until the answer to `client_id`; whatever else comes meanwhile goes to `other`.
  /// Errors: receive's; closed, naming the code and text, on a fatal Error frame.
  [[nodiscard]] Result<Answer> await(std::uint64_t client_id, Clock::time_point deadline,
                                     const Visitor& other = {});
  /// Closes the connection (the server then logs the trader out). Idempotent.
  void close();

private:
  explicit Client(TraderId trader);
  /// Runs the one operation started on the socket until it has completed, or cancels it at
  /// `deadline` and lets its handler see operation_aborted.
  void finish(Clock::time_point deadline);
  [[nodiscard]] Status write(std::string frame, Clock::time_point deadline);

  const TraderId trader_;
  boost::asio::io_context io_;
  tcp::socket socket_;
  net::FrameDecoder decoder_;
  std::vector<char> buffer_;
  net::Welcome welcome_{};
  bool closed_ = false;
};

struct BotOptions {
  std::uint64_t seed = 1; ///< each trader draws from its own stream of it
  /// At most this many commands a second, and at most half the server's commands_per_second
  /// (from its Welcome), so that the rate limit never refuses one.
  std::uint32_t commands_per_second = 20;
  std::chrono::milliseconds answer_timeout{5000}; ///< for the Welcome and every answer
};

/// Plays `trader` against the server at `server` until `until`, counting into `tally`, then
/// closes the connection. Errors: the connection's (it could not connect, was refused, closed,
/// or an answer did not come within options.answer_timeout), or an event that does not decode;
/// each names the trader. The tally keeps what was counted up to a failure.
[[nodiscard]] Status play(const tcp::endpoint& server, const net::Secret& secret, TraderId trader,
                          Clock::time_point until, const BotOptions& options, Tally& tally);

/// Runs bots for traders 1..count at once, each on its own thread, for `duration`, and adds
/// what they counted to `tally`. Errors: the first bot's that failed (the others play on).
[[nodiscard]] Status run_bots(const tcp::endpoint& server, const net::Secret& secret,
                              std::uint32_t count, Clock::duration duration,
                              const BotOptions& options, Tally& tally);

} // namespace worldlog::market

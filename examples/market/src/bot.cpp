// A market trader over TCP: the connection, the bot's picture of its market, and its play.
#include "bot.hpp"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace worldlog::market {
namespace {

namespace asio = boost::asio;

/// The server's frames are trusted to be sane, but not unbounded.
constexpr std::size_t max_frame_from_server = std::size_t{64} << 20;
constexpr std::size_t read_chunk = 16 * 1024;
/// A bot that saw no Arrived of its own this long after its journey began assumes it has
/// arrived (it may have missed the event): its next commands say where it is.
constexpr auto longest_journey = std::chrono::seconds(3);
/// Events reach a client this long after their command's result at most (the server sends
/// events in batches, net::ServerOptions::event_batch; results at once).
constexpr auto event_delay = std::chrono::seconds(1);
/// Gold per good a bot asks, and pays at most.
constexpr std::int64_t lowest_price = 5;
constexpr std::int64_t highest_price = 40;

/// What one bot believes about its trader and its market, from what a client can know: its
/// events (its own and those of its market), and the results of its own commands. Wrong beliefs
/// cost a rejection, which corrects them.
class Picture {
public:
  Picture(TraderId self, const net::Welcome& welcome)
      : self_(self), zone_(welcome.zone), zone_count_(welcome.zone_count) {}

  /// Folds an event seen in `zone`.
  void see(zone::ZoneId zone, const Event& event) {
    if (const auto* arrived = std::get_if<Arrived>(&event);
        arrived && arrived->trader.id == self_) {
      zone_ = zone;
      travelling_ = false;
      joined_ = true;
      return;
    }
    if (zone != zone_) return; // late news of a market it left
    std::visit(
        [&](const auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, Joined>) {
            if (e.trader == self_ && e.granted != 0) gold_ = e.granted;
          } else if constexpr (std::is_same_v<E, Gathered>) {
            if (e.trader == self_) goods_[e.item] += e.count;
          } else if constexpr (std::is_same_v<E, Listed>) {
            orders_[e.order] = Order{e.order, e.seller, e.item, e.count, e.price, e.tick};
            if (e.seller == self_) take(e.item, e.count);
          } else if constexpr (std::is_same_v<E, Bought>) {
            const auto found = orders_.find(e.order);
            if (found == orders_.end()) return;
            Order& order = found->second;
            if (e.buyer == self_) {
              goods_[order.item] += e.count;
              gold_ -= e.paid;
            }
            if (order.seller == self_) gold_ += e.paid - e.fee;
            order.count -= std::min(order.count, e.count);
            if (order.count == 0) orders_.erase(found);
          } else if constexpr (std::is_same_v<E, Crafted>) {
            if (e.trader != self_) return;
            take(Item::ore, 1);
            take(Item::wood, 1);
            goods_[Item::tool] += 1;
          }
        },
        event);
  }

  /// Folds the answer to `command`, received at `now`.
  void answered(const Command& command, const net::CommandResult& result, Clock::time_point now) {
    if (result.accepted) {
      std::visit(
          [&](const auto& c) {
            using C = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<C, Join>) {
              joined_ = true;
            } else if constexpr (std::is_same_v<C, Leave>) {
              joined_ = false;
            } else if constexpr (std::is_same_v<C, Gather>) {
              next_gather_ = now + gather_cooldown;
            } else if constexpr (std::is_same_v<C, List>) {
              // Its Listed may come a little after the result: no journey until it has.
              listed_ = now;
            } else if constexpr (std::is_same_v<C, Cancel>) {
              // Cancelled is nobody's to see: the result says the goods are back.
              if (const auto found = orders_.find(c.order); found != orders_.end()) {
                goods_[found->second.item] += found->second.count;
                orders_.erase(found);
              }
            } else if constexpr (std::is_same_v<C, Travel>) {
              travelling_ = true;
              travel_began_ = now;
              zone_ = c.to;
              orders_.clear();
            }
          },
          command);
      return;
    }
    switch (static_cast<Reject>(result.reason)) {
    case Reject::already_joined: joined_ = true; break;
    case Reject::not_joined: joined_ = false; break;
    case Reject::cooldown: next_gather_ = now + gather_cooldown; break;
    case Reject::no_such_order:
      // Sold out, cancelled or expired: none of it is for sale any more.
      std::visit(
          [this](const auto& c) {
            if constexpr (requires { c.order; }) orders_.erase(c.order);
          },
          command);
      break;
    case Reject::not_enough_goods:
      if (const auto* list = std::get_if<List>(&command)) goods_.erase(list->item);
      if (std::holds_alternative<Craft>(command)) {
        goods_.erase(Item::ore);
        goods_.erase(Item::wood);
      }
      break;
    case Reject::not_enough_gold: gold_ = 0; break;
    default: break;
    }
  }

  /// The command to send at `now`, or nullopt: nothing worth trying (waiting for an arrival,
  /// say).
  [[nodiscard]] std::optional<Command> next(zone::Rng& rng, Clock::time_point now) {
    if (travelling_) {
      if (now - travel_began_ < longest_journey) return std::nullopt;
      travelling_ = false;
    }
    if (!joined_) return Join{self_};
    enum class Act { gather, craft, list, buy, cancel, travel };
    std::vector<std::pair<Act, std::uint32_t>> acts; // with their weights
    if (now >= next_gather_) acts.emplace_back(Act::gather, 30);
    if (have(Item::ore) > 0 && have(Item::wood) > 0) acts.emplace_back(Act::craft, 15);
    if (!goods_.empty() && mine() < default_rules.max_listings_per_trader)
      acts.emplace_back(Act::list, 20);
    if (affordable() != 0) acts.emplace_back(Act::buy, 25);
    if (mine() != 0) acts.emplace_back(Act::cancel, 6);
    if (zone_count_ > 1 && mine() == 0 && now - listed_ > event_delay)
      acts.emplace_back(Act::travel, 3);
    std::uint64_t total = 0;
    for (const auto& [act, weight] : acts)
      total += weight;
    if (total == 0) return std::nullopt;
    std::uint64_t roll = rng.below(total);
    Act chosen = acts.front().first;
    for (const auto& [act, weight] : acts) {
      if (roll < weight) {
        chosen = act;
        break;
      }
      roll -= weight;
    }
    switch (chosen) {
    case Act::gather: return Gather{self_, rng.below(2) == 0 ? Item::ore : Item::wood};
    case Act::craft: return Craft{self_};
    case Act::list: {
      auto held = goods_.begin();
      std::advance(held, static_cast<std::ptrdiff_t>(rng.below(goods_.size())));
      const auto count =
          static_cast<std::uint32_t>(rng.between(1, std::min<std::int64_t>(held->second, 3)));
      return List{self_, held->first, count, rng.between(lowest_price, highest_price)};
    }
    case Act::buy: {
      const Order& order = pick(rng, [this](const Order& o) {
        return o.seller != self_ && o.price <= gold_ && o.price <= highest_price;
      });
      return Buy{self_, order.id, 1};
    }
    case Act::cancel:
      return Cancel{self_, pick(rng, [this](const Order& o) { return o.seller == self_; }).id};
    case Act::travel: {
      const auto offset = 1 + rng.below(zone_count_ - 1);
      return Travel{self_, static_cast<zone::ZoneId>((zone_ - 1 + offset) % zone_count_ + 1)};
    }
    }
    return std::nullopt;
  }

private:
  static constexpr auto gather_cooldown =
      std::chrono::microseconds(default_rules.gather_cooldown_ticks * 50'000);

  [[nodiscard]] std::uint32_t have(Item item) const {
    const auto found = goods_.find(item);
    return found == goods_.end() ? 0 : found->second;
  }
  void take(Item item, std::uint32_t count) {
    const auto found = goods_.find(item);
    if (found == goods_.end()) return;
    found->second -= std::min(found->second, count);
    if (found->second == 0) goods_.erase(found);
  }
  /// Open orders of this trader, as far as it knows.
  [[nodiscard]] std::uint32_t mine() const {
    return static_cast<std::uint32_t>(
        std::count_if(orders_.begin(), orders_.end(),
                      [this](const auto& o) { return o.second.seller == self_; }));
  }
  /// Open orders of others it can pay one good of.
  [[nodiscard]] std::size_t affordable() const {
    return static_cast<std::size_t>(
        std::count_if(orders_.begin(), orders_.end(), [this](const auto& o) {
          return o.second.seller != self_ && o.second.price <= gold_ &&
                 o.second.price <= highest_price;
        }));
  }
  /// One of the orders `fits`. REQUIRES: there is one.
  template <typename Fits> const Order& pick(zone::Rng& rng, const Fits& fits) const {
    std::vector<const Order*> fitting;
    for (const auto& [id, order] : orders_)
      if (fits(order)) fitting.push_back(&order);
    return *fitting[rng.below(fitting.size())];
  }

  const TraderId self_;
  zone::ZoneId zone_;
  const zone::ZoneId zone_count_;
  bool joined_ = false;
  bool travelling_ = false;
  Clock::time_point travel_began_{};
  Clock::time_point next_gather_{};
  Clock::time_point listed_{}; ///< when its newest listing was accepted
  /// A returning trader's gold is not told again: it starts from a newcomer's grant.
  std::int64_t gold_ = default_rules.grant;
  std::map<Item, std::uint32_t> goods_;
  std::map<OrderId, Order> orders_; ///< open in zone_, as far as it knows
};

} // namespace

// ---- Tally ---------------------------------------------------------------------------------

std::uint64_t Tally::rejected_total() const {
  std::uint64_t total = 0;
  for (const auto& [reason, count] : rejected)
    total += count;
  return total;
}

void Tally::add(const Tally& other) {
  sent += other.sent;
  accepted += other.accepted;
  for (const auto& [reason, count] : other.rejected)
    rejected[reason] += count;
  for (const auto& [code, count] : other.errors)
    errors[code] += count;
  events += other.events;
  trades += other.trades;
}

std::string Tally::summary() const {
  const auto by_name = [](const std::map<std::string, std::uint64_t>& counts) {
    std::string text;
    for (const auto& [name, count] : counts)
      text += fmt::format("{}{} {}", text.empty() ? "" : ", ", count, name);
    return text;
  };
  std::uint64_t error_total = 0;
  for (const auto& [code, count] : errors)
    error_total += count;
  return fmt::format(
      "{} commands sent, {} accepted, {} rejected{}, {}, {} events seen, {} trades", sent, accepted,
      rejected_total(), rejected.empty() ? "" : fmt::format(" ({})", by_name(rejected)),
      errors.empty() ? "no errors" : fmt::format("{} errors ({})", error_total, by_name(errors)),
      events, trades);
}

// ---- Client --------------------------------------------------------------------------------

Client::Client(TraderId trader)
    : trader_(trader), socket_(io_), decoder_(max_frame_from_server), buffer_(read_chunk) {}

Client::~Client() { close(); }

Result<std::unique_ptr<Client>> Client::connect(const tcp::endpoint& server,
                                                const net::Secret& secret, TraderId trader,
                                                Clock::time_point deadline) {
  std::unique_ptr<Client> client(new Client(trader));
  boost::system::error_code connected = asio::error::would_block;
  client->socket_.async_connect(server,
                                [&connected](boost::system::error_code ec) { connected = ec; });
  client->finish(deadline);
  if (connected == asio::error::operation_aborted) {
    return make_error(Errc::timeout, "trader {}: no connection to {} in time", trader,
                      server.address().to_string());
  }
  if (connected) {
    return make_error(Errc::io_error, "trader {}: cannot connect to {}:{}: {}", trader,
                      server.address().to_string(), server.port(), connected.message());
  }
  // Frames are small and answered at once: no Nagle. Without it they only come later.
  boost::system::error_code ignored;
  client->socket_.set_option(tcp::no_delay(true), ignored);

  const net::Token token = net::make_token(secret, trader);
  const net::Hello hello{trader, {token.begin(), token.end()}};
  if (Status said = client->write(net::frame(net::encode(hello)), deadline); !said.ok())
    return std::move(said).error();
  for (;;) {
    auto message = client->receive(deadline);
    if (!message.ok()) return std::move(message).error();
    if (const auto* welcome = std::get_if<net::Welcome>(&*message)) {
      client->welcome_ = *welcome;
      return Result<std::unique_ptr<Client>>(std::move(client));
    }
    if (const auto* refused = std::get_if<net::Error>(&*message)) {
      client->close();
      return make_error(Errc::closed, "trader {}: the server refused the Hello: {} ({})", trader,
                        net::error_code_name(refused->code), refused->text);
    }
  }
}

void Client::finish(Clock::time_point deadline) {
  io_.restart();
  io_.run_until(deadline);
  if (io_.stopped()) return; // the operation completed: nothing else runs on io_
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  io_.restart();
  io_.run();
}

Status Client::write(std::string frame, Clock::time_point deadline) {
  if (closed_) return make_error(Errc::closed, "trader {}: the connection is closed", trader_);
  boost::system::error_code written = asio::error::would_block;
  asio::async_write(socket_, asio::buffer(frame),
                    [&written](boost::system::error_code ec, std::size_t) { written = ec; });
  finish(deadline);
  if (!written) return {};
  close(); // a frame cut short leaves the stream unreadable to the server
  if (written == asio::error::operation_aborted) {
    return make_error(Errc::timeout, "trader {}: the server took no frame in time", trader_);
  }
  return make_error(Errc::closed, "trader {}: cannot write to the server: {}", trader_,
                    written.message());
}

Status Client::send(std::uint64_t client_id, const Command& command, Clock::time_point deadline) {
  return send_bytes(client_id, Model::encode_command(command), deadline);
}

Status Client::send_bytes(std::uint64_t client_id, std::string bytes, Clock::time_point deadline) {
  return write(net::frame(net::encode(net::Command{client_id, std::move(bytes)})), deadline);
}

Result<net::Message> Client::receive(Clock::time_point deadline) {
  for (;;) {
    auto frame = decoder_.next();
    if (!frame.ok()) {
      close();
      return make_error(Errc::corruption, "trader {}: from the server: {}", trader_,
                        frame.error().message());
    }
    if (frame->has_value()) {
      auto decoded = net::decode(**frame);
      if (auto* bad = std::get_if<net::ProtocolError>(&decoded)) {
        close();
        return make_error(Errc::corruption,
                          "trader {}: a frame from the server that does not "
                          "decode ({}): {}",
                          trader_, net::error_code_name(bad->code), bad->text);
      }
      return std::get<net::Message>(std::move(decoded));
    }
    if (closed_) return make_error(Errc::closed, "trader {}: the connection is closed", trader_);
    boost::system::error_code read = asio::error::would_block;
    std::size_t size = 0;
    socket_.async_read_some(asio::buffer(buffer_),
                            [&read, &size](boost::system::error_code ec, std::size_t n) {
                              read = ec;
                              size = n;
                            });
    finish(deadline);
    if (read == asio::error::operation_aborted) {
      return make_error(Errc::timeout, "trader {}: nothing from the server in time", trader_);
    }
    if (read) {
      close();
      return make_error(Errc::closed, "trader {}: the server closed the connection ({})", trader_,
                        read == asio::error::eof ? "end of stream" : read.message());
    }
    decoder_.feed(std::string_view(buffer_.data(), size));
  }
}

Result<Client::Answer> Client::await(std::uint64_t client_id, Clock::time_point deadline,
                                     const Visitor& other) {
  for (;;) {
    auto message = receive(deadline);
    if (!message.ok()) {
      if (message.error().code() != Errc::timeout) return std::move(message).error();
      return make_error(Errc::timeout, "trader {}: no answer to command {} in time", trader_,
                        client_id);
    }
    if (auto* result = std::get_if<net::CommandResult>(&*message);
        result && result->client_id == client_id) {
      return Answer(std::in_place_type<net::CommandResult>, std::move(*result));
    }
    if (auto* error = std::get_if<net::Error>(&*message)) {
      if (error->fatal) {
        close();
        return make_error(Errc::closed, "trader {}: the server closed the connection: {} ({})",
                          trader_, net::error_code_name(error->code), error->text);
      }
      if (error->client_id == client_id)
        return Answer(std::in_place_type<net::Error>, std::move(*error));
    }
    if (other) other(*message);
  }
}

void Client::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

// ---- the bots ------------------------------------------------------------------------------

Status play(const tcp::endpoint& server, const net::Secret& secret, TraderId trader,
            Clock::time_point until, const BotOptions& options, Tally& tally) {
  auto connected = Client::connect(server, secret, trader, Clock::now() + options.answer_timeout);
  if (!connected.ok()) return std::move(connected).error();
  Client& client = **connected;
  const net::Welcome& welcome = client.welcome();
  const std::uint32_t rate = std::max<std::uint32_t>(
      1, std::min(options.commands_per_second, welcome.commands_per_second / 2));
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) / rate;
  Picture picture(trader, welcome);
  zone::Rng rng(options.seed * 1'000'003 + trader);
  // Client ids are the world's idempotency keys for the trader, across connections and runs:
  // counting up from the wall clock in µs keeps each run's above the last one's.
  std::uint64_t client_id =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());

  std::optional<Error> bad_event;
  const Client::Visitor seen = [&](const net::Message& message) {
    const auto* events = std::get_if<net::Events>(&message);
    if (events == nullptr) return; // a late answer to a command given up on: never, one at a time
    for (const net::WorldEvent& shown : events->events) {
      ++tally.events;
      auto event = Model::decode(shown.payload_type, shown.payload);
      if (!event.ok()) {
        if (!bad_event) {
          bad_event = make_error(Errc::corruption, "trader {}: event {} of zone {}: {}", trader,
                                 shown.seq, shown.zone, event.error().message());
        }
        continue;
      }
      picture.see(shown.zone, *event);
    }
  };

  auto next_turn = Clock::now();
  while (!bad_event) {
    // Between turns, take in what the market shows.
    while (Clock::now() < std::min(next_turn, until)) {
      auto message = client.receive(std::min(next_turn, until));
      if (!message.ok()) {
        if (message.error().code() == Errc::timeout) break;
        return std::move(message).error();
      }
      if (const auto* error = std::get_if<net::Error>(&*message); error && error->fatal) {
        return make_error(Errc::closed, "trader {}: the server closed the connection: {} ({})",
                          trader, net::error_code_name(error->code), error->text);
      }
      seen(*message);
    }
    const auto now = Clock::now();
    if (now >= until) break;
    next_turn = now + period;
    const std::optional<Command> command = picture.next(rng, now);
    if (!command) continue;
    const std::uint64_t id = ++client_id;
    if (Status sent = client.send(id, *command, now + options.answer_timeout); !sent.ok())
      return std::move(sent).error();
    ++tally.sent;
    auto answer = client.await(id, Clock::now() + options.answer_timeout, seen);
    if (!answer.ok()) return std::move(answer).error();
    if (const auto* error = std::get_if<net::Error>(&*answer)) {
      ++tally.errors[std::string(net::error_code_name(error->code))];
      continue;
    }
    const auto& result = std::get<net::CommandResult>(*answer);
    if (result.accepted) {
      ++tally.accepted;
      if (std::holds_alternative<Buy>(*command)) ++tally.trades;
    } else {
      const std::string_view reason = Model::reason_name(result.reason);
      ++tally
            .rejected[reason.empty() ? fmt::format("code {}", result.reason) : std::string(reason)];
    }
    picture.answered(*command, result, Clock::now());
  }
  if (bad_event) return std::move(*bad_event);
  client.close();
  return {};
}

Status run_bots(const tcp::endpoint& server, const net::Secret& secret, std::uint32_t count,
                Clock::duration duration, const BotOptions& options, Tally& tally) {
  const auto until = Clock::now() + duration;
  std::mutex mutex;
  Status first_failure;
  std::vector<std::thread> bots;
  bots.reserve(count);
  for (TraderId trader = 1; trader <= count; ++trader) {
    bots.emplace_back([&, trader] {
      Tally mine;
      Status played = play(server, secret, trader, until, options, mine);
      const std::lock_guard lock(mutex);
      tally.add(mine);
      if (!played.ok() && first_failure.ok()) first_failure = std::move(played);
    });
  }
  for (auto& bot : bots)
    bot.join();
  return first_failure;
}

} // namespace worldlog::market

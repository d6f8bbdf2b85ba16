// The options of `worldlog bots`, what its clients counted, and the report made of it.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <worldlog/game/model.hpp>

#include "latency.hpp"

namespace worldlog::tools {

/// The options of `worldlog bots`.
struct BotsOptions {
  std::string connect = "127.0.0.1:7777"; ///< the server, HOST:PORT
  std::string secret_file;                ///< the server's secret, to make tokens
  std::uint64_t players = 100;            ///< bots, one connection each
  std::uint64_t first_player = 1;         ///< the first bot's player id; the others follow
  std::uint64_t move_every_ms = 150;      ///< between two turns of a bot
  std::uint64_t seconds = 10;             ///< how long each bot takes turns
  /// Running the connections: all the cores by default, so that the bots' own processing is
  /// not what the round trip measures when the server leaves a core idle.
  unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  bool spread = false; ///< each bot walks to a post of its own first
  bool json = false;   ///< a JSON object as the last line
};

/// What one client saw and did. Each client fills its own (on its strand, without locks); the
/// run adds them up when every client is done.
struct BotTally {
  std::uint64_t connected = 0; ///< 1 when its connection was opened
  std::uint64_t welcomed = 0;  ///< 1 when the server answered its Hello with Welcome
  std::uint64_t joined = 0;    ///< 1 when its Join was accepted
  std::uint64_t at_post = 0;   ///< 1 when it stood at its post when its turns ended
  std::uint64_t left = 0;      ///< 1 when its Leave was accepted
  std::uint64_t sent = 0;      ///< commands written to the socket, Join and Leave included
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;         ///< refused by the game's rules (a CommandResult)
  std::uint64_t unanswered = 0;       ///< in flight when the connection went down
  std::uint64_t late = 0;             ///< answered after they had been counted as timed out
  std::uint64_t answered_in_play = 0; ///< results that came while it took its turns
  std::chrono::steady_clock::duration played{}; ///< from its first turn to its last
  std::uint64_t events = 0;                     ///< world events received
  std::map<game::Reject, std::uint64_t> rejected_by;
  /// By kind: an Error frame's code name ("rate_limited"), or "connect", "disconnected",
  /// "timeout", "bad_frame", "bad_event", "unexpected_message".
  std::map<std::string, std::uint64_t> errors;
  std::map<std::uint32_t, std::uint64_t> events_by_type; ///< by payload_type
  std::string first_error; ///< the first error's message, naming the player

  void error(const std::string& kind, std::string message) {
    ++errors[kind];
    if (first_error.empty()) first_error = std::move(message);
  }

  /// Adds `other`'s counts; its first error becomes this one's when this has none.
  void merge(const BotTally& other) {
    connected += other.connected;
    welcomed += other.welcomed;
    joined += other.joined;
    at_post += other.at_post;
    left += other.left;
    sent += other.sent;
    accepted += other.accepted;
    rejected += other.rejected;
    unanswered += other.unanswered;
    late += other.late;
    answered_in_play += other.answered_in_play;
    played += other.played;
    events += other.events;
    for (const auto& [reason, count] : other.rejected_by)
      rejected_by[reason] += count;
    for (const auto& [kind, count] : other.errors)
      errors[kind] += count;
    for (const auto& [type, count] : other.events_by_type)
      events_by_type[type] += count;
    if (first_error.empty()) first_error = other.first_error;
  }

  [[nodiscard]] std::uint64_t error_count() const {
    std::uint64_t sum = 0;
    for (const auto& [kind, count] : errors)
      sum += count;
    return sum;
  }

  /// Commands answered per second while the clients took their turns: the answers in play
  /// over the mean time a client played, so the ramp at the start and the leaving at the end
  /// do not dilute it.
  [[nodiscard]] double commands_per_s() const {
    if (joined == 0) return 0.0;
    const double mean_played =
        std::chrono::duration<double>(played).count() / static_cast<double>(joined);
    return mean_played <= 0.0 ? 0.0 : static_cast<double>(answered_in_play) / mean_played;
  }
};

/// "Moved", "Said", ...: the event type of each payload_type (index + 1 of game::Event).
[[nodiscard]] inline std::string event_type_name(std::uint32_t payload_type) {
  static const auto names = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::string_view, sizeof...(I)>{
        game::Model::event_name(game::Event(std::in_place_index<I>))...};
  }
  (std::make_index_sequence<std::variant_size_v<game::Event>>());
  if (payload_type == 0 || payload_type > names.size()) return fmt::format("type {}", payload_type);
  return std::string(names[payload_type - 1]);
}

/// "dead 6 · out_of_range 4": counts by name, the largest first; "none" when empty.
[[nodiscard]] inline std::string counts_line(const std::map<std::string, std::uint64_t>& counts) {
  std::vector<std::pair<std::string, std::uint64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string line;
  for (const auto& [name, count] : sorted)
    line += fmt::format("{}{} {}", line.empty() ? "" : " · ", name, count);
  return line.empty() ? "none" : line;
}

[[nodiscard]] inline double as_ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }

/// Prints what `total` counted, and with options.json the JSON line. `latency` holds the round
/// trips, `lag` how late the bots took their turns.
inline void print_report(const BotsOptions& options, const LatencyHistogram& latency,
                         const LatencyHistogram& lag, const BotTally& total, bool interrupted) {
  std::map<std::string, std::uint64_t> rejected;
  for (const auto& [reason, count] : total.rejected_by)
    rejected[std::string(game::to_string(reason))] += count;
  std::map<std::string, std::uint64_t> events;
  for (const auto& [type, count] : total.events_by_type)
    events[event_type_name(type)] += count;
  const double per_s = total.commands_per_s();

  if (interrupted) fmt::print("  (interrupted)\n");
  fmt::print("players   {} connected · {} welcomed · {} joined{} · {} left\n", total.connected,
             total.welcomed, total.joined,
             options.spread ? fmt::format(" · {} reached their posts", total.at_post) : "",
             total.left);
  fmt::print("commands  {} sent, {:.0f}/s answered while playing: {} accepted · {} rejected · {} "
             "unanswered{}\n",
             total.sent, per_s, total.accepted, total.rejected, total.unanswered,
             total.late == 0 ? "" : fmt::format(" · {} answered late", total.late));
  fmt::print("          rejected: {}\n", counts_line(rejected));
  fmt::print("errors    {}{}\n", total.error_count(),
             total.errors.empty() ? "" : ": " + counts_line(total.errors));
  if (!total.first_error.empty()) fmt::print("          first: {}\n", total.first_error);
  fmt::print("latency   p50 {:.1f} ms · p90 {:.1f} ms · p99 {:.1f} ms · max {:.1f} ms ({} "
             "results, sent -> CommandResult)\n",
             as_ms(latency.percentile_us(0.50)), as_ms(latency.percentile_us(0.90)),
             as_ms(latency.percentile_us(0.99)), as_ms(latency.max_us()), latency.count());
  fmt::print("turns     late by p99 {:.1f} ms · max {:.1f} ms (the bots' own delay, not in the "
             "latency)\n",
             as_ms(lag.percentile_us(0.99)), as_ms(lag.max_us()));
  fmt::print("events    {} received: {}\n", total.events, counts_line(events));
  if (!options.json) return;

  boost::json::object rejected_json;
  for (const auto& [name, count] : rejected)
    rejected_json[name] = count;
  boost::json::object errors_json;
  for (const auto& [kind, count] : total.errors)
    errors_json[kind] = count;
  boost::json::object events_json;
  for (const auto& [name, count] : events)
    events_json[name] = count;
  const boost::json::object out{{"players", options.players},
                                {"first_player", options.first_player},
                                {"move_every_ms", options.move_every_ms},
                                {"seconds", options.seconds},
                                {"spread", options.spread},
                                {"threads", options.threads},
                                {"connected", total.connected},
                                {"welcomed", total.welcomed},
                                {"joined", total.joined},
                                {"at_post", total.at_post},
                                {"left", total.left},
                                {"sent", total.sent},
                                {"accepted", total.accepted},
                                {"rejected", total.rejected},
                                {"rejected_by_reason", rejected_json},
                                {"unanswered", total.unanswered},
                                {"late", total.late},
                                {"errors", total.error_count()},
                                {"errors_by_kind", errors_json},
                                {"events", total.events},
                                {"events_by_type", events_json},
                                {"commands_per_s", std::llround(per_s)},
                                {"p50_ms", as_ms(latency.percentile_us(0.50))},
                                {"p90_ms", as_ms(latency.percentile_us(0.90))},
                                {"p99_ms", as_ms(latency.percentile_us(0.99))},
                                {"max_ms", as_ms(latency.max_us())},
                                {"turn_lag_p99_ms", as_ms(lag.percentile_us(0.99))},
                                {"turn_lag_max_ms", as_ms(lag.max_us())},
                                {"interrupted", interrupted}};
  fmt::print("{}\n", boost::json::serialize(out));
}

} // namespace worldlog::tools

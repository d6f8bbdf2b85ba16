// The simulation's scheduler, its simulated players and its checks (simulation.hpp).
//
// Everything runs on the calling thread: the actors' executor is an io_context that only the
// scheduler polls, and the log has no commit thread (the scheduler commits queued appends
// itself, and writes the actor index behind each commit), so every handler, commit and reply
// happens at a step the seed chose, and the log's files get the same bytes in every run. They
// are written through a file system that forgets what was not synced when the power fails.
#include <worldlog/game/simulation.hpp>

#include <stdlib.h> // mkdtemp

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <worldlog/game/bot.hpp>
#include <worldlog/game/invariants.hpp>
#include <worldlog/game/world.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/replay.hpp>
#include <worldlog/runtime/clock.hpp>

#include "power_loss_file_system.hpp"

namespace worldlog::game {
namespace {

using game::EntityId;
using zone::ZoneId;
using GameZone = zone::Zone<game::Model>;

/// 2026-01-01, so that wall times look like wall times.
constexpr std::int64_t sim_epoch_us = 1'767'225'600'000'000;
constexpr std::uint64_t tick_us = 50'000;
/// The kernel writes dirty pages back on one tick in this many, on average.
constexpr std::uint64_t write_back_one_in = 8;
/// A full disk is freed (and the server restarted) on one step in this many, on average.
constexpr std::uint64_t full_disk_one_in = 300;
/// Zone crashes at most this often (simulated time), so that supervisors do not give up: their
/// restart intensity is part of the design, not a fault to find.
constexpr std::int64_t zone_crash_gap_us = 2'000'000;
/// Handlers or commits a settle runs at most before it declares the world stuck.
constexpr int settle_rounds = 100'000;

/// The thrown failure of a check: ends the run with the violation.
struct Violated {
  std::string invariant;
  std::string what;
};

[[noreturn]] void violated(std::string invariant, std::string what) {
  throw Violated{std::move(invariant), std::move(what)};
}

Result<std::filesystem::path> make_scratch_dir(std::uint64_t seed) {
  std::error_code error;
  const auto base = std::filesystem::temp_directory_path(error);
  if (error) return make_error(Errc::io_error, "no temporary directory: {}", error.message());
  std::string pattern = (base / fmt::format("worldlog-sim-{}-XXXXXX", seed)).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return make_error(Errc::io_error, "cannot create a directory like {}", pattern);
  }
  return std::filesystem::path(pattern);
}

/// The characters a player's state must keep across logouts.
bool same_character(const game::Player& a, const game::Player& b) {
  return a.level == b.level && a.xp == b.xp && a.inventory == b.inventory &&
         a.quests_done == b.quests_done && a.wolves_killed == b.wolves_killed;
}

class Simulation {
public:
  Simulation(SimOptions options, std::filesystem::path dir)
      : options_(std::move(options)), dir_(std::move(dir)), rng_(options_.seed),
        clock_(sim_epoch_us) {
    for (EntityId id = 1; id <= options_.players; ++id)
      clients_.push_back(Client{.id = id});
  }

  ~Simulation() { shut_down(); }
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  Result<SimReport> run() {
    const auto started = std::chrono::steady_clock::now();
    SimReport report;
    report.seed = options_.seed;
    if (auto opened = open(); !opened.ok()) return std::move(opened).error();
    try {
      start_world();
      for (step_ = 1; step_ <= options_.steps; ++step_) {
        step();
        check_every_step();
        if (step_ % options_.check_every == 0 && !disk_full_) settled_check();
      }
      step_ = options_.steps;
      finale();
    } catch (const Violated& broken) {
      report.violation = SimViolation{
          .step = step_,
          .invariant = broken.invariant,
          .what = broken.what,
          .repro = fmt::format("worldlog sim --seed {} --steps {} --players {} --zones {}",
                               options_.seed, step_, options_.players, options_.zones)};
      if (options_.check_every != SimOptions{}.check_every)
        report.violation->repro += fmt::format(" --check-every {}", options_.check_every);
      if (!options_.rules_file.empty())
        report.violation->repro += fmt::format(" --rules {}", options_.rules_file);
    }
    report.steps = std::min(step_, options_.steps);
    // A run stopped by a violation still hashes what it wrote, for comparing two runs (unless
    // the log itself is what broke, and it did not reopen).
    discard_world();
    if (log_) {
      report.log_hash = log_hash();
      report.events = log_->last_position();
    }
    report.counts = counts_;
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  }

private:
  /// A simulated player: its bot while connected, and what it sent that nobody answered.
  struct Client {
    EntityId id = 0;
    std::optional<game::Bot> bot{}; ///< nullopt: not connected
    std::uint64_t connection = 0;   ///< replies and broadcasts of older connections are not seen
    std::uint64_t next_client_id = 1;
    /// Sent and not answered (on this connection or an earlier one): retried after a reconnect.
    std::map<std::uint64_t, game::Command> in_flight{};
    std::vector<std::pair<std::uint64_t, game::Command>> to_retry{};
    std::optional<std::pair<std::uint64_t, game::Command>> last_sent{}; ///< for a duplicate frame
    bool bot_waits = false; ///< the bot's own command is in flight on this connection
    std::uint64_t bot_command = 0;
  };
  /// The outcome a player's command id was first given: its events (or rejection) in the log.
  struct Applied {
    ZoneId zone = 0;
    log::Seq first_seq = 0;
    log::Seq last_seq = 0;
    bool accepted = false;
  };
  using CommandKey = std::pair<EntityId, std::uint64_t>;

  // ---- the process: log, executor, world -------------------------------------------------------

  Status open() {
    log::Options options{
        .durability = log::Durability::buffered, .commit_thread = false, .file_system = disk_};
    auto opened = log::EventLog::open(dir_, options);
    if (!opened.ok()) return std::move(opened).error();
    if ((*opened)->last_position() != 0 && generation_ == 0) {
      return make_error(Errc::invalid_argument, "{} already holds a log: a simulation starts empty",
                        dir_.string());
    }
    log_ = std::move(*opened);
    io_ = std::make_unique<boost::asio::io_context>();
    // Without work the io_context would stop, and polls would run nothing until a restart.
    work_.emplace(io_->get_executor());
    ++generation_;
    return {};
  }

  void start_world() {
    game::WorldOptions options{.zones = options_.zones,
                               .seed = options_.seed,
                               .tick_us = tick_us,
                               .rules = options_.rules,
                               .pump = [this] { pump_all(); }};
    world_ = std::make_unique<game::World>(io_->get_executor(), *log_, clock_, options);
    if (Status started = world_->start(); !started.ok())
      violated("world_starts", fmt::format("the world did not start: {}", started.error()));
    for (ZoneId zone = 1; zone <= options_.zones; ++zone)
      incarnations_[zone] = world_->zones().zone(zone)->id();
    check_acknowledged_durable();
    settled_check();
  }

  /// What the world's waits run: the mailboxes, and the commits (none while crashing).
  void pump_all() {
    io_->poll();
    if (crashing_) {
      counts_.lost_appends += log_->discard_queued();
    } else {
      log_->commit_queued();
    }
  }

  /// The process dies: nothing more is committed, every actor and every queued append is
  /// dropped. The log's files stay as the last commit left them.
  void discard_world() {
    if (!world_) return;
    crashing_ = true;
    counts_.lost_appends += log_->discard_queued();
    world_.reset(); // stops the tree, pumping without committing
    work_.reset();
    io_.reset(); // handlers still queued are destroyed, never run
    counts_.lost_appends += log_->discard_queued();
    crashing_ = false;
  }

  void crash_process() {
    ++counts_.process_crashes;
    empty_disk();
    sessions_.clear();
    discard_world();
    log_.reset();
    for (Client& client : clients_)
      drop_connection(client);
    if (auto reopened = open(); !reopened.ok())
      violated("log_reopens", fmt::format("the log did not reopen: {}", reopened.error()));
    start_world();
  }

  /// The machine loses power: the process dies as in a crash, and every byte the kernel had
  /// not written back is gone, except as much of each unsynced tail as writeback got to (a WAL
  /// record may be cut short). With buffered durability that takes back acknowledged commits,
  /// newest first: what is left must be exactly the log as it stood at some earlier commit.
  void lose_power() {
    ++counts_.power_losses;
    empty_disk();
    sessions_.clear();
    discard_world();
    const Tail tail = unsynced_tail();
    disk_->cut_power();
    log_.reset();
    for (Client& client : clients_)
      drop_connection(client);
    const auto lost = disk_->lose_unsynced([this](const std::string& name, std::uint64_t unsynced) {
      if (!name.ends_with(".log")) return std::uint64_t{0};
      switch (rng_.below(4)) {
      case 0: return std::uint64_t{0};
      case 1: return unsynced;
      default: return rng_.below(unsynced + 1);
      }
    });
    if (!lost.ok()) violated("power_fails", lost.error().to_string());
    if (auto reopened = open(); !reopened.ok())
      violated("log_reopens",
               fmt::format("the log did not reopen after a power loss: {}", reopened.error()));
    check_lost_tail(tail);
    note_synced();
    start_world();
  }

  /// The disk fills up: the next commit fails, and the world stops taking commands (each is
  /// answered with the storage error) until an operator frees space and restarts the process,
  /// a step drawn with odds 1 in full_disk_one_in. No settled check runs meanwhile.
  void fill_disk() {
    if (disk_full_) return;
    ++counts_.disk_fulls;
    disk_full_ = true;
    disk_->fill(true);
  }

  /// Space is freed (before a restart).
  void empty_disk() {
    disk_full_ = false;
    disk_->fill(false);
  }

  /// The kernel writes back every dirty page of the log's files.
  void write_back() {
    disk_->write_back();
    note_synced();
  }

  /// What is synced now: a power loss keeps at least these heads.
  void note_synced() {
    synced_heads_.clear();
    for (const log::StreamId stream : log_->streams())
      synced_heads_[stream] = log_->head(stream);
    synced_position_ = log_->last_position();
  }

  void shut_down() {
    discard_world();
    log_.reset();
  }

  // ---- the schedule ----------------------------------------------------------------------------

  void step() {
    const std::uint64_t draw = rng_.below(1000);
    if (disk_full_ && rng_.below(full_disk_one_in) == 0) {
      crash_process(); // space was freed, and the server restarted
      return;
    }
    if (draw < 1) {
      switch (rng_.below(3)) {
      case 0: crash_process(); break;
      case 1: lose_power(); break;
      default: fill_disk(); break;
      }
    } else if (draw < 3) {
      crash_zone();
    } else if (draw < 20) {
      disconnect(pick_client());
    } else if (draw < 35) {
      duplicate_frame(pick_client());
    } else if (draw < 420) {
      take_turn(pick_client());
    } else if (draw < 650) {
      for (auto handlers = rng_.between(1, 16); handlers > 0; --handlers)
        io_->poll_one();
    } else if (draw < 850) {
      log_->commit_queued(static_cast<std::size_t>(rng_.between(1, 4)));
    } else {
      clock_.advance(std::chrono::microseconds(tick_us));
      world_->tick();
      if (rng_.below(write_back_one_in) == 0) write_back();
    }
  }

  Client& pick_client() { return clients_[rng_.below(clients_.size())]; }

  [[nodiscard]] std::uint64_t tick() const {
    return static_cast<std::uint64_t>(clock_.now_us()) / tick_us;
  }

  void crash_zone() {
    if (clock_.now_us() - last_zone_crash_us_ < zone_crash_gap_us) return;
    const auto zone = static_cast<ZoneId>(rng_.between(1, options_.zones));
    auto target = world_->zones().zone(zone);
    if (!target || !target->running()) return;
    last_zone_crash_us_ = clock_.now_us();
    ++counts_.zone_crashes;
    static_cast<void>(target->cast([] { throw std::runtime_error("a simulated zone crash"); }));
  }

  void take_turn(Client& client) {
    if (!client.bot) {
      connect(client);
      return;
    }
    game::Bot& bot = *client.bot;
    if (!client.to_retry.empty() && bot.view().joined && !bot.view().arriving) {
      auto [id, command] = std::move(client.to_retry.back());
      client.to_retry.pop_back();
      ++counts_.retries;
      send(client, id, std::move(command), false);
      return;
    }
    if (client.bot_waits) return;
    zone::Rng whims(rng_.next());
    auto command = bot.next(tick(), whims);
    if (!command) return;
    client.bot_waits = true;
    client.bot_command = client.next_client_id;
    send(client, client.next_client_id++, std::move(*command), true);
  }

  void send(Client& client, std::uint64_t id, game::Command command, bool for_bot) {
    ++counts_.commands;
    client.in_flight.insert_or_assign(id, command);
    client.last_sent = {id, command};
    const EntityId player = client.id;
    const std::uint64_t connection = client.connection;
    ++sessions_[connection].unanswered;
    static_cast<void>(
        world_->submit_for(player, id, std::move(command),
                           [this, player, id, connection, for_bot](Result<zone::Outcome> outcome) {
                             observe(player, id, outcome);
                             answered(connection);
                             Client& to = clients_[player - 1];
                             if (to.connection != connection || !to.bot)
                               return; // the connection is gone
                             if (outcome.ok()) to.in_flight.erase(id);
                             if (for_bot && to.bot_waits && to.bot_command == id) {
                               to.bot_waits = false;
                               to.bot->on_outcome(outcome, tick());
                             }
                           }));
  }

  void connect(Client& client) {
    ++counts_.reconnects;
    client.connection = ++connections_;
    const ZoneId zone = world_->zone_of(client.id);
    client.bot.emplace(client.id, zone::ZoneInfo{zone, options_.zones, options_.seed, tick_us, "",
                                                 options_.rules});
    client.bot_waits = false;
    for (auto& [id, command] : client.in_flight)
      client.to_retry.emplace_back(id, command);
    client.in_flight.clear();
    follow(client);
  }

  /// Shows the client's bot what its player sees, on this connection.
  void follow(const Client& client) {
    const EntityId player = client.id;
    const std::uint64_t connection = client.connection;
    world_->follow(player, [this, player, connection](const zone::Broadcast<game::Event>& shown) {
      Client& to = clients_[player - 1];
      if (to.connection != connection || !to.bot) return;
      if (const auto* arrived = std::get_if<game::Arrived>(&shown.event);
          arrived != nullptr && arrived->player.id == player) {
        ++counts_.crossings;
      }
      to.bot->see(shown);
    });
  }

  /// The connection drops. Its session on the server logs the player out once every command
  /// it submitted is answered, as net::Server's sessions do.
  void disconnect(Client& client) {
    if (!client.bot) return;
    ++counts_.disconnects;
    const std::uint64_t connection = client.connection;
    drop_connection(client);
    Session& session = sessions_[connection];
    session.player = client.id;
    session.closed = true;
    if (session.unanswered == 0) log_out(connection);
  }

  void answered(std::uint64_t connection) {
    const auto session = sessions_.find(connection);
    if (session == sessions_.end()) return; // died with the process
    if (--session->second.unanswered == 0 && session->second.closed) log_out(connection);
  }

  void log_out(std::uint64_t connection) {
    const EntityId player = sessions_.at(connection).player;
    sessions_.erase(connection);
    world_->disconnect(player, world::LogoutReason::disconnected, nullptr);
  }

  /// The client side of a lost connection: what it sent and saw no answer to is retried later.
  void drop_connection(Client& client) {
    client.bot.reset();
    client.connection = 0;
    client.bot_waits = false;
  }

  void duplicate_frame(Client& client) {
    if (!client.bot || !client.last_sent) return;
    ++counts_.duplicated_frames;
    auto [id, command] = *client.last_sent;
    send(client, id, std::move(command), false);
  }

  // ---- checks ----------------------------------------------------------------------------------

  /// Every outcome, delivered or not: a client id applies once per player, and a retry gets the
  /// first outcome.
  /// Runs inside replies, on an actor's strand or in a commit: a violation found there is
  /// noted, and thrown by the step's checks (an exception there would fail the actor instead).
  void observe(EntityId player, std::uint64_t id, const Result<zone::Outcome>& outcome) {
    if (!outcome.ok() && outcome.error().code() == Errc::io_error) ++counts_.storage_errors;
    if (noticed_) return;
    try {
      check_outcome(player, id, outcome);
    } catch (Violated& broken) {
      noticed_ = std::move(broken);
    }
  }

  void check_outcome(EntityId player, std::uint64_t id, const Result<zone::Outcome>& outcome) {
    if (!outcome.ok() || outcome->last_seq == 0) return;
    const Applied now{outcome->zone, outcome->first_seq, outcome->last_seq, outcome->accepted};
    const CommandKey key{player, id};
    const auto found = applied_.find(key);
    if (outcome->duplicate) {
      ++counts_.duplicates;
      if (found == applied_.end()) return; // first applied before the run's observer saw it
      const Applied& first = found->second;
      if (first.zone != now.zone || first.first_seq != now.first_seq ||
          first.accepted != now.accepted) {
        violated("retry_gets_first_outcome",
                 fmt::format("player {}'s command {} was first {} at zone {} seq {}; a retry was "
                             "answered {} at zone {} seq {}",
                             player, id, first.accepted ? "accepted" : "rejected", first.zone,
                             first.first_seq, now.accepted ? "accepted" : "rejected", now.zone,
                             now.first_seq));
      }
      return;
    }
    if (found != applied_.end()) {
      const Applied& first = found->second;
      violated("client_id_applied_once",
               fmt::format("player {}'s command {} was applied twice: at zone {} seqs {}..{}, "
                           "then at zone {} seqs {}..{}",
                           player, id, first.zone, first.first_seq, first.last_seq, now.zone,
                           now.first_seq, now.last_seq));
    }
    ++counts_.acknowledged;
    applied_.emplace(key, now);
    unverified_.push_back(key);
  }

  /// The states of the running zones, on this thread (no handler runs between steps).
  std::vector<const game::State*> zone_states() const {
    std::vector<const game::State*> states;
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      auto target = world_->zones().zone(zone);
      if (target && target->running()) states.push_back(&target->state());
    }
    return states;
  }

  void check_every_step() {
    if (noticed_) throw *noticed_;
    follow_restarted_zones();
    const auto states = zone_states();
    std::map<EntityId, ZoneId> seen;
    for (const game::State* state : states) {
      for (const auto* characters : {&state->players, &state->offline}) {
        for (const auto& [id, player] : *characters) {
          const auto [at, fresh] = seen.emplace(id, state->info.zone);
          if (!fresh) {
            violated("one_zone_per_player", fmt::format("player {} is in zone {} and in zone {}",
                                                        id, at->second, state->info.zone));
          }
        }
      }
      if (auto wrong = item_violation(*state)) {
        violated("items_conserved", fmt::format("zone {}: {}", state->info.zone, *wrong));
      }
    }
  }

  /// Runs mailboxes and commits until nothing is left to do.
  void settle() {
    for (int round = 0; round < settle_rounds; ++round) {
      const std::size_t handled = io_->poll();
      const std::size_t committed = log_->commit_queued();
      if (handled == 0 && committed == 0) return;
    }
    violated("world_settles",
             fmt::format("the world was still busy after {} rounds of handlers and commits",
                         settle_rounds));
  }

  /// Settles, and lets time move on while a handoff or a logout waits for its retry.
  void settle_with_retries() {
    settle();
    follow_restarted_zones();
    settle();
    // A handoff the destination could not take (it was restarting) is re-driven every
    // handoff_retry_ticks, and a logout a zone lost on the next tick: time moves on until each
    // is done, or twice that long.
    const std::uint64_t retry_ticks = zone::ZoneOptions{}.handoff_retry_ticks;
    for (std::uint64_t waited = 0; waited < 2 * retry_ticks && (handoffs_pending() || ghosts());
         ++waited) {
      clock_.advance(std::chrono::microseconds(tick_us));
      world_->tick();
      settle();
    }
  }

  /// Zones restarted by their supervisor lose their followers: the players who are connected
  /// follow them again, as a server's sessions do.
  void follow_restarted_zones() {
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      auto target = world_->zones().zone(zone);
      if (!target || target->id() == incarnations_[zone]) continue;
      incarnations_[zone] = target->id();
      for (Client& client : clients_)
        if (client.bot && world_->zone_of(client.id) == zone) follow(client);
    }
  }

  void settled_check() {
    settle_with_retries();
    ++counts_.settled_checks;
    for (ZoneId zone = 1; zone <= options_.zones; ++zone) {
      auto target = world_->zones().zone(zone);
      if (!target || !target->running())
        violated("zones_run", fmt::format("zone {} is not running once the world settled", zone));
      const log::Seq head = log_->head(zone);
      if (target->decided_seq() != head || target->durable_seq() != head) {
        violated("zone_matches_log",
                 fmt::format("zone {} decided seq {} (durable {}), but its stream ends at {}", zone,
                             target->decided_seq(), target->durable_seq(), head));
      }
      check_refold(zone, target->state_hash());
      check_places(*target);
    }
  }

  /// Whether a player is online without a connection.
  bool ghosts() const {
    for (const game::State* state : zone_states()) {
      for (const auto& [id, player] : state->players)
        if (id > clients_.size() || !clients_[id - 1].bot) return true;
    }
    return false;
  }

  bool handoffs_pending() const {
    const auto states = zone_states();
    return std::any_of(states.begin(), states.end(),
                       [](const game::State* state) { return !state->departing.empty(); });
  }

  /// The live state equals a fold of the log (from the last refold, or a snapshot).
  void check_refold(ZoneId zone, const log::Hash& live) {
    const replay::Replayer<Model> replayer(*log_, zone);
    auto& hint = refolds_[zone];
    auto refold = hint ? replayer.state_at(log::end_seq, *hint) : replayer.state_at(log::end_seq);
    if (!refold.ok()) {
      violated("log_refolds",
               fmt::format("zone {}'s stream does not refold: {}", zone, refold.error()));
    }
    const log::Hash folded = game::Model::hash(refold->state);
    if (folded != live) {
      violated("live_state_is_refold",
               fmt::format("zone {} at seq {}: live state hash {}, refold of the log {}", zone,
                           refold->seq, log::to_hex(live), log::to_hex(folded)));
    }
    hint = std::move(*refold);
  }

  /// Online players have a connection, and the directory knows where every character is.
  void check_places(const GameZone& zone) {
    const game::State& state = zone.state();
    const auto check = [&](EntityId id, bool online) {
      const auto place = world_->directory().find(id);
      if (!place || place->zone != state.info.zone || place->online != online) {
        violated("directory_is_true",
                 fmt::format("player {} is {} in zone {}, but the directory says {}", id,
                             online ? "online" : "offline", state.info.zone,
                             place ? fmt::format("zone {} {}", place->zone,
                                                 place->online ? "online" : "offline")
                                   : std::string("nothing")));
      }
      if (online && id <= clients_.size() && !clients_[id - 1].bot) {
        violated("no_ghosts", fmt::format("player {} is online in zone {} without a connection", id,
                                          state.info.zone));
      }
    };
    for (const auto& [id, player] : state.players)
      check(id, true);
    for (const auto& [id, player] : state.offline)
      check(id, false);
    if (!state.departing.empty()) {
      const auto& [key, departure] = *state.departing.begin();
      violated("handoffs_complete",
               fmt::format("player {}'s handoff from zone {} to zone {} (epoch {}) is still "
                           "pending once the world settled",
                           key.first, state.info.zone, departure.to, key.second));
    }
  }

  /// After a restart: every outcome acknowledged before the crash is in the log.
  void check_acknowledged_durable() {
    for (const CommandKey& key : unverified_) {
      const Applied& applied = applied_.at(key);
      auto records = log_->read_stream(applied.zone, applied.first_seq, 1);
      if (!records.ok() || records->empty() || records->front().actor().id != key.first ||
          records->front().command_id() != key.second) {
        violated("acknowledged_is_durable",
                 fmt::format("player {}'s command {} was acknowledged at zone {} seq {}, which "
                             "the log no longer holds for it after a restart",
                             key.first, key.second, applied.zone, applied.first_seq));
      }
    }
    unverified_.clear();
  }

  /// The records a power loss may take: each stream's past its synced head, read before.
  struct TailRecord {
    log::Seq seq = 0;
    log::Position position = 0;
    log::Hash hash{};
  };
  struct Tail {
    std::map<log::StreamId, std::vector<TailRecord>> records;
    log::Position last_position = 0;
  };

  Tail unsynced_tail() const {
    Tail tail;
    tail.last_position = log_->last_position();
    for (const log::StreamId stream : log_->streams()) {
      const auto synced = synced_heads_.find(stream);
      const log::Seq from = synced == synced_heads_.end() ? 1 : synced->second + 1;
      auto records = log_->read_stream(stream, from, ~std::size_t{0});
      if (!records.ok()) {
        violated("log_reads", fmt::format("stream {} from seq {} does not read before a power "
                                          "loss: {}",
                                          stream, from, records.error()));
      }
      auto& kept = tail.records[stream];
      for (const auto& record : *records)
        kept.push_back({record.seq(), record.position(), record.hash()});
    }
    return tail;
  }

  /// After a power loss the log is a prefix of the one before, by position, and holds at least
  /// what was synced. The acknowledged commands it no longer holds are forgotten: they were
  /// never durable, and a retry of one may be applied afresh.
  void check_lost_tail(const Tail& tail) {
    const log::Position position = log_->last_position();
    if (position < synced_position_ || position > tail.last_position) {
      violated("synced_survives_power_loss",
               fmt::format("after a power loss the log ends at position {}; it was synced up to "
                           "{} and had {} before",
                           position, synced_position_, tail.last_position));
    }
    counts_.lost_events += tail.last_position - position;
    for (const auto& [stream, records] : tail.records) {
      const auto synced = synced_heads_.find(stream);
      log::Seq expected = synced == synced_heads_.end() ? 0 : synced->second;
      const TailRecord* last = nullptr;
      for (const TailRecord& record : records) {
        if (record.position > position) break;
        expected = record.seq;
        last = &record;
      }
      const log::Seq head = log_->head(stream);
      if (head != expected) {
        violated("power_loss_keeps_a_prefix",
                 fmt::format("after a power loss the log ends at position {}, where stream {} "
                             "was at seq {}; it is at seq {}",
                             position, stream, expected, head));
      }
      if (last == nullptr) continue;
      auto now = log_->read_stream(stream, head, 1);
      if (!now.ok() || now->empty() || now->front().hash() != last->hash) {
        violated("power_loss_keeps_a_prefix",
                 fmt::format("after a power loss stream {} seq {} is not the record it was", stream,
                             head));
      }
    }
    // A refold this checker kept past the new head folded records that are gone.
    for (auto& [zone, refold] : refolds_)
      if (refold && refold->seq > log_->head(zone)) refold.reset();
    std::erase_if(unverified_, [this](const CommandKey& key) {
      const Applied& applied = applied_.at(key);
      if (applied.first_seq <= log_->head(applied.zone)) return false;
      ++counts_.lost_acknowledged;
      applied_.erase(key);
      return true;
    });
  }

  /// Everyone logs out and in again, and gets its character back.
  void finale() {
    if (disk_full_) crash_process();
    settled_check();
    for (Client& client : clients_)
      disconnect(client);
    settle_with_retries();
    std::map<EntityId, game::Player> characters;
    for (const game::State* state : zone_states()) {
      if (!state->players.empty()) {
        violated("no_ghosts", fmt::format("player {} is still online in zone {} after everyone "
                                          "disconnected",
                                          state->players.begin()->first, state->info.zone));
      }
      for (const auto& [id, player] : state->offline)
        characters.emplace(id, player);
    }
    for (Client& client : clients_) {
      connect(client);
      send(client, client.next_client_id++, game::join(client.id), false);
    }
    settle();
    const auto states = zone_states();
    for (const auto& [id, before] : characters) {
      const game::Player* now = nullptr;
      for (const game::State* state : states)
        if (const game::Player* found = state->player(id)) now = found;
      if (now == nullptr || !same_character(before, *now)) {
        violated("rejoin_keeps_character",
                 now == nullptr
                     ? fmt::format("player {} could not join again (its character rests in a "
                                   "zone with level {})",
                                   id, before.level)
                     : fmt::format("player {} joined again with level {} xp {} and {} items; "
                                   "it had logged out with level {} xp {} and {} items",
                                   id, now->level, now->xp, now->carried(), before.level, before.xp,
                                   before.carried()));
      }
    }
    settled_check();
  }

  /// Every stream's head and the log's last position, hashed: equal logs, equal hashes.
  std::string log_hash() const {
    std::string heads;
    for (const log::StreamId stream : log_->streams()) {
      auto last = log_->read_stream_backward(stream, log::end_seq, 1);
      if (!last.ok() || last->empty()) continue;
      const log::Hash hash = last->front().hash();
      heads += fmt::format("{} {} {}\n", stream, last->front().seq(), log::to_hex(hash));
    }
    heads += fmt::format("{}\n", log_->last_position());
    return log::to_hex(log::sha256(heads));
  }

  const SimOptions options_;
  const std::filesystem::path dir_;
  zone::Rng rng_;
  runtime::ManualClock clock_;
  std::shared_ptr<PowerLossFileSystem> disk_ = std::make_shared<PowerLossFileSystem>();
  std::map<log::StreamId, log::Seq> synced_heads_; ///< as of the last writeback or power loss
  log::Position synced_position_ = 0;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<game::World> world_;
  std::uint64_t generation_ = 0; ///< process incarnations
  bool crashing_ = false;
  bool disk_full_ = false; ///< writes fail until the next restart
  std::uint64_t step_ = 0;
  std::uint64_t connections_ = 0;
  std::int64_t last_zone_crash_us_ = 0;
  std::vector<Client> clients_;
  /// The server's side of each connection: commands not yet answered, and whether the client
  /// is gone (its logout waits for the answers).
  struct Session {
    EntityId player = 0;
    std::size_t unanswered = 0;
    bool closed = false;
  };
  std::map<std::uint64_t, Session> sessions_;
  std::map<CommandKey, Applied> applied_;
  std::vector<CommandKey> unverified_; ///< applied since the last restart's durability check
  std::map<ZoneId, runtime::ActorId> incarnations_; ///< the zone incarnations players follow
  std::optional<Violated> noticed_;                 ///< found inside a reply
  std::map<ZoneId, std::optional<replay::Replayed<Model>>> refolds_;
  SimCounts counts_;
};

} // namespace

Result<SimReport> simulate(const SimOptions& options) {
  constexpr std::uint32_t max_players = 100'000;
  if (options.players == 0 || options.players > max_players) {
    return make_error(Errc::invalid_argument, "a simulation needs 1 to {} players, not {}",
                      max_players, options.players);
  }
  if (options.zones == 0 || options.check_every == 0) {
    return make_error(Errc::invalid_argument, "a simulation needs at least one zone and a "
                                              "check every step or more");
  }
  const bool scratch = options.dir.empty();
  std::filesystem::path dir = options.dir;
  if (scratch) {
    auto made = make_scratch_dir(options.seed);
    if (!made.ok()) return std::move(made).error();
    dir = std::move(*made);
  }
  Result<SimReport> report = [&] {
    Simulation simulation(options, dir);
    return simulation.run();
  }();
  if (scratch) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return report;
}

} // namespace worldlog::game

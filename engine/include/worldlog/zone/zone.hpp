// The zone actor: one stream of the log, folded into a live model state, behind a mailbox.
//
// Command path:
//   decide against the in-memory state -> events, or a rejection (recorded as CommandRejected)
//   -> evolve the in-memory state at once, so the next command sees it
//   -> append to the log with the expected seq, many commands per append (one append per
//      mailbox drain), several appends in flight: the zone never waits for an fsync
//   -> once durable: reply to each sender, broadcast to nearby viewers, start handoffs.
// If an append fails, the zone fails: every command whose events were not stored gets the
// error, and the supervisor restarts the zone from its latest snapshot plus the log's tail,
// which discards the in-memory state that was never made durable. A zone that stops (or fails)
// exits only once every append it sent has completed, so that none of them can land behind the
// back of the incarnation that replaces it, which recovers from the log it finds.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <worldlog/latency_histogram.hpp>
#include <worldlog/log/event_log.hpp>
#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/interest.hpp>
#include <worldlog/zone/model.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::zone {

/// Where commands' time goes inside the zones, for benchmarks (ZoneOptions::stage_times): every
/// zone given the same one records into it, from any thread. The three add up to a command's
/// time from submit to its answer.
struct StageTimes {
  LatencyHistogram mailbox;  ///< submitted -> the zone decides it: its wait in the mailbox
  LatencyHistogram batching; ///< decided -> its append handed to the log, once the mailbox drained
  LatencyHistogram log;      ///< handed to the log -> durable, when it is answered

  void reset() noexcept {
    mailbox.reset();
    batching.reset();
    log.reset();
  }
};

struct ZoneOptions {
  std::uint64_t snapshot_every = 10'000;   ///< events between snapshots
  std::size_t keep_snapshots = 3;          ///< snapshots kept per zone
  std::int64_t view_radius_mm = 20'000;    ///< viewers farther from an event do not get it
  std::size_t recent_commands = 65'536;    ///< idempotency window: outcomes remembered
  std::size_t mailbox_capacity = 65'536;   ///< queued messages; beyond: overloaded
  std::size_t max_append_events = 4'096;   ///< an append carries at most this many events
  std::uint64_t handoff_retry_ticks = 100; ///< unfinished handoffs are re-sent this often
  /// The world's time advances a tick at a time: a zone runs the model's on_tick for every
  /// tick since the last one it ran, in order, before it decides a command or when told to
  /// tick (a late tick message catches up). A gap longer than this (a stall, a clock stepping
  /// forward) is not simulated: the zone goes on from the current tick. After a start the zone
  /// runs every tick from the one it starts in; it does not simulate the time it was down, and
  /// does not run again the tick of its log's last event (a restart within that tick).
  std::uint64_t max_catch_up_ticks = 1'200;
  /// Thinned movement (docs/protocol.md, "What a player sees"), for a model that says which of
  /// its events are movement (`M::is_movement(event)`): a viewer is shown every move of the
  /// `full_rate_movers` movers nearest to it, and of the others, beyond them, only the latest
  /// move once every `far_move_ticks` ticks. Every other event is shown to every viewer in the
  /// radius, as it happens. 0 in either: every move to every viewer in the radius.
  std::size_t full_rate_movers = 32;
  std::uint64_t far_move_ticks = 10;
  /// Where the commands' time goes, when given (null: not timed, not a clock read more).
  std::shared_ptr<StageTimes> stage_times{};
};

/// A model whose moves a zone may thin out for viewers in a crowd (ZoneOptions::
/// full_rate_movers): `M::is_movement(event)` says that an event only moves its subject, so that
/// the subject's latest move makes its earlier ones redundant to a viewer.
template <typename M>
concept ThinsMoves = requires(const typename M::Event& event) {
  { M::is_movement(event) } -> std::convertible_to<bool>;
};

/// Answers a command: its outcome once durable, or why it was lost (overloaded, closed, the
/// append's error). Runs on the thread that committed the append (the log's commit thread, or
/// a caller of the log's synchronous append) or on the zone's strand: keep it short and
/// thread-safe (post to your own executor).
using Reply = std::function<void(Result<Outcome>)>;

/// An event shown to a viewer. `event` is valid during the sink call only.
template <typename Event> struct Broadcast {
  ZoneId zone = 0;
  log::Seq seq = 0;
  log::Actor actor;
  const Event& event;
  Located where;
};

/// Where a zone sends what must reach another zone: handoffs. Implemented by ZoneSet.
template <typename Command> class Router {
public:
  virtual ~Router() = default;
  /// Drives `handoff` on: delivers `arrive` to `handoff.to`, then `complete` back. Safe from
  /// any thread; delivery may be repeated, the model makes repeats harmless.
  virtual void route(const Handoff<Command>& handoff) = 0;
};

/// Counters a zone keeps for summaries and metrics; read them with a call.
struct ZoneStats {
  std::uint64_t accepted = 0;           ///< commands accepted (durable or in flight)
  std::uint64_t rejected = 0;           ///< commands rejected (their CommandRejected recorded)
  std::uint64_t duplicates = 0;         ///< retried commands answered from the window
  std::uint64_t events = 0;             ///< events decided by this incarnation
  std::uint64_t appends = 0;            ///< appends issued
  std::uint64_t snapshots = 0;          ///< snapshots stored
  std::uint64_t snapshot_failures = 0;  ///< snapshots the log could not store
  std::uint64_t recovered_from_seq = 0; ///< the snapshot seq this incarnation started from
  std::uint64_t replayed_events = 0;    ///< events folded on start after that snapshot
  std::uint64_t skipped_snapshots = 0;  ///< snapshots not trusted on start (fold.hpp says why)
  std::string last_skipped_snapshot{};  ///< why the newest of them was skipped
  /// How far the clock was behind the stream's last wall time at worst (0: never): events got
  /// that wall time instead, since a stream's time never goes back.
  std::int64_t clock_behind_us = 0;
};

template <GameModel M> class Zone final : public runtime::Actor {
public:
  using State = typename M::State;
  using Command = typename M::Command;
  using Event = typename M::Event;
  using Sink = std::function<void(const Broadcast<Event>&)>;

  /// A zone over stream `info.zone` of `log`. REQUIRES: `log`, `clock` and `router` (may be
  /// null: no handoffs) outlive the zone. The zone recovers in on_start, when started.
  Zone(runtime::Executor executor, log::EventLog& log, const runtime::Clock& clock, ZoneInfo info,
       ZoneOptions options, Router<Command>* router)
      : Actor(std::move(executor), {.name = fmt::format("zone-{}", info.zone),
                                    .mailbox_capacity = options.mailbox_capacity}),
        log_(log), clock_(clock), info_(info), options_(options), router_(router),
        state_(M::initial_state(info)), recent_(options.recent_commands),
        viewers_(
            std::clamp<std::int64_t>(options.view_radius_mm, 1, InterestGrid::max_view_radius)),
        movers_(viewers_.view_radius()) {}

  // ---- messages (safe from any thread) -------------------------------------------------------

  /// Submits `command` from `actor` with the sender's `command_id` (0 = not idempotent).
  /// `reply` gets the outcome once durable, exactly once: also when the zone fails with the
  /// command still queued (closed). Errors (also given to `reply`): overloaded, closed.
  Status submit(log::Actor actor, std::uint64_t command_id, Command command, Reply reply) {
    const auto submitted = stage_clock();
    auto sent = cast(
        [this, actor, command_id, command = std::move(command), reply, submitted]() mutable {
          if (options_.stage_times)
            options_.stage_times->mailbox.record(SteadyClock::now() - submitted);
          handle_command(actor, command_id, command, std::move(reply));
        },
        [reply](const Error& why) {
          if (reply) reply(why);
        });
    if (!sent.ok() && reply) reply(sent.error());
    return sent;
  }

  /// Advances the zone to the clock's current tick: the model acts on its own (mob AI).
  Status tick() {
    return cast([this] { handle_tick(); });
  }

  /// Shows `viewer` (at `at`) every event within the view radius from now on, through `sink`
  /// (called on the zone's strand: keep it short). The viewer's point then follows the events
  /// the model locates on it.
  /// Errors: invalid_argument for a point beyond InterestGrid::max_coordinate.
  Status subscribe(EntityId viewer, Point at, Sink sink) {
    if (std::max(std::abs(at.x), std::abs(at.y)) > InterestGrid::max_coordinate) {
      return make_error(Errc::invalid_argument, "viewer {} at {} is off any zone", viewer, at);
    }
    return cast([this, viewer, at, sink = std::move(sink)]() mutable {
      viewers_.place(viewer, at);
      sinks_[viewer] = std::move(sink);
      if (!nearest_.contains(viewer)) insert_sorted(unranked_, viewer);
    });
  }
  /// Gives `viewer`, an entity of this zone's model, `sink` without placing it: its own next
  /// located event (a Joined, an Arrived) places it, so it sees that event and what follows.
  /// The sink is dropped when the entity departs through a handoff. Used for players whose
  /// events follow them from zone to zone (ZoneSet::follow).
  Status follow(EntityId viewer, Sink sink) {
    return cast([this, viewer, sink = std::move(sink)]() mutable {
      sinks_[viewer] = std::move(sink);
      if (!nearest_.contains(viewer)) insert_sorted(unranked_, viewer);
    });
  }
  Status unsubscribe(EntityId viewer) {
    return cast([this, viewer] {
      viewers_.remove(viewer);
      sinks_.erase(viewer);
      unrank(viewer);
    });
  }

  // ---- inspection: only on the zone's strand (inside a message or a call) ---------------------

  [[nodiscard]] const State& state() const noexcept { return state_; }
  [[nodiscard]] log::Hash state_hash() const { return M::hash(state_); }
  /// The last seq decided (durable or in flight) and the last seq known durable.
  [[nodiscard]] log::Seq decided_seq() const noexcept { return decided_seq_; }
  [[nodiscard]] log::Seq durable_seq() const noexcept { return durable_seq_; }
  [[nodiscard]] const ZoneStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const ZoneInfo& info() const noexcept { return info_; }
  /// The idempotency window: the outcomes of the zone's recent commands.
  [[nodiscard]] const RecentCommands& recent_commands() const noexcept { return recent_; }

  /// A clean shutdown step: sends what is decided, and once all of it is durable stores a
  /// snapshot and calls `done` with the outcome (the append's or the snapshot's error). Stop
  /// the zone after `done`. Errors (also given to `done`): overloaded, closed.
  Status drain(std::function<void(Status)> done) {
    auto sent = cast([this, done]() mutable {
      drained_ = std::move(done);
      flush();
      finish_drain();
    });
    if (!sent.ok() && done) done(sent.error());
    return sent;
  }

protected:
  /// Waits until every append this incarnation sent has completed (durable or failed): only
  /// then may the supervisor start a new incarnation, which recovers from the log as it is.
  boost::asio::awaitable<void> before_stop() override {
    while (appends_in_flight_ > 0) {
      landed_.expires_at(boost::asio::steady_timer::time_point::max());
      boost::system::error_code cancelled;
      co_await landed_.async_wait(
          boost::asio::redirect_error(boost::asio::use_awaitable, cancelled));
    }
  }

  /// Commands decided but not sent to the log die with this incarnation: their senders get an
  /// error (those already sent are answered by the log when their append completes).
  void on_stop() override {
    const Error lost = append_error_.value_or(make_error(
        Errc::closed, "zone {} stopped before the command's events were stored", info_.zone));
    for (auto& pending : batch_.replies) {
      if (pending.reply) pending.reply(lost);
    }
    batch_ = Batch{};
    for (auto& [seq, pending] : waiting_) {
      if (pending.reply) pending.reply(lost);
    }
    waiting_.clear();
    if (drained_) std::exchange(drained_, nullptr)(lost);
  }

  boost::asio::awaitable<void> on_start() override {
    if (auto recovered = recover(); !recovered.ok()) {
      // A genesis that cannot be appended: as for any failed append, a restart would only
      // meet the same error again.
      if (log_.write_failure()) {
        append_error_ = recovered.error();
        stop();
        co_return;
      }
      fail(recovered.error().to_string());
    }
    for (const auto& handoff : M::pending_handoffs(state_))
      start_handoff(handoff);
    co_return;
  }

private:
  using SteadyClock = std::chrono::steady_clock;
  /// The time, when the zone times its stages (ZoneOptions::stage_times); else no clock read.
  [[nodiscard]] SteadyClock::time_point stage_clock() const noexcept {
    return options_.stage_times ? SteadyClock::now() : SteadyClock::time_point{};
  }
  struct Pending {
    Reply reply;
    Outcome outcome;
    SteadyClock::time_point decided{}; ///< with ZoneOptions::stage_times only
  };
  struct Shown {
    log::Seq seq;
    log::Actor actor;
    Event event;
    Located where;
    /// For a follower that comes into the zone with this event: what it is shown of what is
    /// already there (see view_on_entry), as of this event, so as durable as the event itself.
    std::vector<std::pair<Event, Located>> view{};
  };
  /// One append: its events until it is sent (the log encodes them at once), then what to do
  /// once they are durable.
  struct Batch {
    std::vector<log::NewEvent> events;
    std::vector<Pending> replies;
    std::vector<Shown> shown;
    std::vector<Handoff<Command>> handoffs;
    log::Seq first_seq = 0;
    log::Seq last_seq = 0;
  };

  // ---- the command path -----------------------------------------------------------------------

  void handle_command(log::Actor actor, std::uint64_t command_id, const Command& command,
                      Reply reply) {
    const CommandKey key{actor, command_id};
    if (command_id != 0) {
      if (const Outcome* earlier = recent_.find(key)) {
        ++stats_.duplicates;
        Outcome outcome = *earlier;
        outcome.duplicate = true;
        outcome.zone = info_.zone;
        answer_when_durable(std::move(reply), std::move(outcome));
        return;
      }
    }
    run_ticks(now_tick());
    Context context = context_for(decided_seq_ + 1);
    Decision<Event> decision = decide_or_fail(actor, command, context, reply);
    Outcome outcome;
    if (decision.rejected()) {
      ++stats_.rejected;
      const Rejection& rejection = *decision.rejection;
      const log::Seq seq = add_event(actor, command_id, command_rejected_payload_type,
                                     encode_command_rejected({rejection.code, rejection.reason,
                                                              std::string(M::command_name(command)),
                                                              M::encode_command(command)}),
                                     context);
      outcome = Outcome{.accepted = false,
                        .first_seq = seq,
                        .last_seq = seq,
                        .code = rejection.code,
                        .reason = rejection.reason};
    } else {
      ++stats_.accepted;
      outcome.accepted = true;
      // The command is recorded with its first event: the log holds what was asked as well
      // as what was decided. (One that appends nothing, a repeated arrival, changed nothing.)
      std::string input = decision.events.empty() ? std::string() : M::encode_command(command);
      for (auto& event : decision.events) {
        const log::Seq seq =
            add_model_event(actor, command_id, std::move(event), context, std::move(input));
        input.clear();
        if (outcome.first_seq == 0) outcome.first_seq = seq;
        outcome.last_seq = seq;
      }
    }
    outcome.zone = info_.zone;
    if (command_id != 0) recent_.record(key, outcome);
    // A command that appended nothing (a repeated handoff arrival) is answered at once: there
    // is nothing to wait for, and everything it depends on is at least as durable as it will be.
    if (outcome.last_seq == 0) {
      if (reply) reply(std::move(outcome));
    } else {
      batch_.replies.push_back({std::move(reply), std::move(outcome), stage_clock()});
    }
    after_decision();
  }

  /// The model's decision; if the model throws, the zone fails (its supervisor restarts it) and
  /// the sender learns that its command was lost with it.
  Decision<Event> decide_or_fail(log::Actor actor, const Command& command, Context& context,
                                 const Reply& reply) {
    try {
      return M::decide(state_, actor, command, context);
    } catch (const std::exception& error) {
      if (reply) {
        reply(make_error(Errc::closed, "zone {} failed deciding {}: {}", info_.zone,
                         M::command_name(command), error.what()));
      }
      throw;
    }
  }

  /// The model's ticks up to now, and the zone's own work of a tick: handoffs to re-send,
  /// withheld moves to release.
  void handle_tick() {
    const std::uint64_t tick = now_tick();
    if (tick <= last_tick_message_) return;
    const std::uint64_t previous_tick = std::exchange(last_tick_message_, tick);
    run_ticks(tick);
    if (options_.handoff_retry_ticks != 0 && tick % options_.handoff_retry_ticks == 0)
      retry_handoffs();
    if (thinning()) thin_on_tick(previous_tick, tick);
    after_decision();
  }

  /// Runs on_tick for every tick after the last one run, up to `tick` (ZoneOptions::
  /// max_catch_up_ticks): so a command decided at tick T sees the world after tick T, whatever
  /// the order the mailbox got them in, and a replay can run the same ticks (replay/whatif.hpp).
  void run_ticks(std::uint64_t tick) {
    if (tick <= last_tick_) return;
    const bool gap = last_tick_ == 0 || tick - last_tick_ > options_.max_catch_up_ticks;
    for (std::uint64_t next = gap ? tick : last_tick_ + 1; next <= tick; ++next) {
      Context context = context_for(decided_seq_ + 1, next);
      for (auto& emitted : M::on_tick(state_, context)) {
        add_model_event(emitted.actor, 0, std::move(emitted.event), context);
      }
    }
    last_tick_ = tick;
  }

  /// Records a model event, with `input` (the encoded command) if it is a command's first:
  /// evolve now, append with the next batch.
  log::Seq add_model_event(log::Actor actor, std::uint64_t command_id, Event event,
                           const Context& context, std::string input = {}) {
    EncodedEvent encoded = M::encode(event);
    const log::Seq seq =
        add_event(actor, command_id, encoded.payload_type, std::move(encoded.payload), context,
                  encoded.version, std::move(input));
    M::evolve(state_, event);
    if (auto handoff = M::handoff(state_, event)) batch_.handoffs.push_back(std::move(*handoff));
    if (auto where = M::locate(state_, event)) {
      auto view = view_on_entry(where->subject, where->at);
      batch_.shown.push_back({seq, actor, std::move(event), *where, std::move(view)});
    }
    return seq;
  }

  log::Seq add_event(log::Actor actor, std::uint64_t command_id, std::uint32_t payload_type,
                     std::string payload, const Context& context, std::uint16_t payload_version = 1,
                     std::string input = {}) {
    if (batch_.events.empty()) batch_.first_seq = decided_seq_ + 1;
    // The log requires wall time to be monotone per stream; a clock stepping back must not
    // fail the zone.
    if (context.now_us < last_wall_us_) {
      stats_.clock_behind_us = std::max(stats_.clock_behind_us, last_wall_us_ - context.now_us);
    }
    last_wall_us_ = std::max({last_wall_us_, context.now_us, std::int64_t{1}});
    batch_.events.push_back(log::NewEvent{.payload_type = payload_type,
                                          .payload = std::move(payload),
                                          .actor = actor,
                                          .tick = context.tick,
                                          .wall_time_us = last_wall_us_,
                                          .command_id = command_id,
                                          .rules_version = rules_version_in<M>(state_),
                                          .epoch = epoch_,
                                          .payload_version = payload_version,
                                          .command = std::move(input)});
    ++stats_.events;
    ++events_since_snapshot_;
    return ++decided_seq_;
  }

  /// Batches: the append goes out when the mailbox has drained (a flush message queued behind
  /// the commands already waiting), or at once when the batch is full.
  void after_decision() {
    if (batch_.events.size() >= options_.max_append_events) {
      flush();
    } else if (!batch_.events.empty() && !flush_queued_) {
      flush_queued_ = true;
      resume([this] {
        flush_queued_ = false;
        flush();
      });
    }
    if (events_since_snapshot_ >= options_.snapshot_every && !pending_snapshot_) {
      // Serialised now, while the state is exactly the state after decided_seq_; stored once
      // that seq is durable, since a snapshot must never be ahead of the log.
      pending_snapshot_ = make_snapshot();
      events_since_snapshot_ = 0;
    }
  }

  void flush() {
    if (batch_.events.empty()) return;
    const std::vector<log::NewEvent> events = std::exchange(batch_.events, {});
    batch_.last_seq = decided_seq_;
    auto batch = std::make_shared<Batch>(std::exchange(batch_, Batch{}));
    ++stats_.appends;
    ++appends_in_flight_;
    const log::Seq expected = batch->first_seq - 1;
    auto self = std::static_pointer_cast<Zone>(shared_from_this());
    std::shared_ptr<StageTimes> times = options_.stage_times;
    const auto handed = stage_clock();
    if (times) {
      for (const auto& pending : batch->replies)
        times->batching.record(handed - pending.decided);
    }
    log_.append_async(
        info_.zone, expected, events,
        [self, batch, times = std::move(times), handed](Result<log::AppendResult> appended) {
          // The commit thread: answer senders right away (durability is what
          // they wait for), then let the zone broadcast on its own strand.
          if (times) {
            times->log.record(SteadyClock::now() - handed, batch->replies.size());
          }
          if (!appended.ok()) {
            for (auto& pending : batch->replies) {
              if (pending.reply) pending.reply(appended.error());
            }
            self->resume([self, error = appended.error()] { self->on_append_failed(error); });
          } else {
            for (auto& pending : batch->replies) {
              if (pending.reply) pending.reply(std::move(pending.outcome));
            }
            self->resume([self, batch] { self->on_durable(*batch); });
          }
          // Not through the mailbox, which is closed while the zone exits: before_stop waits.
          boost::asio::post(self->strand(), [self] { self->append_landed(); });
        });
  }

  void append_landed() {
    if (--appends_in_flight_ == 0) landed_.cancel();
  }

  void on_durable(const Batch& batch) {
    durable_seq_ = std::max(durable_seq_, batch.last_seq);
    for (const Shown& shown : batch.shown)
      show(shown);
    for (const auto& handoff : batch.handoffs) {
      // The entity is the destination's now, and so are its viewer's sink and place.
      viewers_.remove(handoff.entity);
      sinks_.erase(handoff.entity);
      unrank(handoff.entity);
      movers_.remove(handoff.entity);
      withheld_.erase(handoff.entity);
      start_handoff(handoff);
    }
    if (pending_snapshot_ && pending_snapshot_->seq <= durable_seq_) {
      // A snapshot that cannot be stored costs a longer recovery, nothing else: counted, and
      // the next one is tried after another snapshot_every events.
      if (!put_snapshot(*pending_snapshot_).ok()) ++stats_.snapshot_failures;
      pending_snapshot_.reset();
    }
    release_waiters();
    finish_drain();
  }

  /// on_stop then answers everyone still waiting with `error`. A log that failed to write
  /// refuses every append until it is reopened: the zone then stops instead of failing, so that
  /// its supervisor does not restart it into the same error again and again (the world answers
  /// commands with the log's error).
  void on_append_failed(const Error& error) {
    append_error_ = error;
    if (log_.write_failure()) {
      stop();
      return;
    }
    fail(fmt::format("append to zone {} failed: {}", info_.zone, error));
  }

  /// A retried command whose original is still in flight is answered when that is durable.
  void answer_when_durable(Reply reply, Outcome outcome) {
    if (outcome.last_seq <= durable_seq_) {
      if (reply) reply(std::move(outcome));
      return;
    }
    waiting_.emplace(outcome.last_seq, Pending{std::move(reply), std::move(outcome)});
  }

  void release_waiters() {
    while (!waiting_.empty() && waiting_.begin()->first <= durable_seq_) {
      auto node = waiting_.extract(waiting_.begin());
      Pending& pending = node.mapped();
      if (pending.reply) pending.reply(std::move(pending.outcome));
    }
  }

  void finish_drain() {
    if (drained_ && durable_seq_ == decided_seq_) {
      std::exchange(drained_, nullptr)(store_snapshot());
    }
  }

  // ---- broadcasts and handoffs ----------------------------------------------------------------

  void show(const Shown& shown) {
    // A point the grid cannot hold is a model bug; it must not take the zone down with it.
    const Point at = shown.where.at;
    if (std::max(std::abs(at.x), std::abs(at.y)) > InterestGrid::max_coordinate) return;
    const EntityId subject = shown.where.subject;
    if (!shown.view.empty()) entering_.erase(subject);
    const bool move = is_thinned_move(shown.event);
    if (move) {
      movers_.place(subject, at);
      last_moved_[subject] = last_tick_;
    } else if (thinning()) {
      // A viewer sees the events about an entity in their order: its withheld move first.
      release_withheld(subject);
    }
    // A follower placed for the first time has come into the zone (Zone::follow).
    const bool newcomer = sinks_.contains(subject) && !viewers_.contains(subject);
    if (sinks_.contains(subject)) viewers_.place(subject, at);
    const Broadcast<Event> broadcast{info_.zone, shown.seq, shown.actor, shown.event, shown.where};
    bool withheld = false;
    const FullRate told = full_rate(subject);
    viewers_.for_each_near(shown.where.at, [&](EntityId viewer) {
      if (move && !told(viewer)) {
        withheld = true;
        return;
      }
      const auto sink = sinks_.find(viewer);
      if (sink != sinks_.end()) sink->second(broadcast);
    });
    if (move) {
      // The latest move is all a far viewer is shown later; one that reached every viewer in
      // the radius makes an older withheld one redundant.
      if (withheld) {
        withheld_.insert_or_assign(subject,
                                   Shown{shown.seq, shown.actor, shown.event, shown.where});
      } else {
        withheld_.erase(subject);
      }
    }
    if (newcomer) {
      const auto& sink = sinks_.find(subject)->second;
      for (const auto& [event, where] : shown.view)
        sink(Broadcast<Event>{info_.zone, 0, {log::ActorKind::system, 0}, event, where});
    }
  }

  // ---- thinned movement (ZoneOptions::full_rate_movers) -------------------------------------
  //
  // In a crowd of N, every move goes to N viewers: N² deliveries, and what each costs to send
  // and to read is the limit of how many can stand together. A viewer is therefore shown every
  // move of its `full_rate_movers` nearest movers and, of the others, only the latest move
  // once every `far_move_ticks` ticks. Everything is decided on the zone's strand from what
  // the zone has shown (never from the state, never in the log): who moved last where
  // (`movers_`), each viewer's nearest movers as of its last ranking (`nearest_`), and the
  // latest move of each mover that some viewer has not been shown (`withheld_`).
  //
  // Each viewer is ranked, and each withheld move released, once every far_move_ticks ticks,
  // spread over the ticks by id so that no tick carries all of a crowd's work. A viewer that is
  // not ranked (new, or with no more movers in view than full_rate_movers) is shown every move.

  [[nodiscard]] bool thinning() const noexcept {
    if constexpr (ThinsMoves<M>) {
      return options_.full_rate_movers != 0 && options_.far_move_ticks != 0;
    } else {
      return false;
    }
  }

  [[nodiscard]] bool is_thinned_move(const Event& event) const {
    if constexpr (ThinsMoves<M>) {
      return thinning() && M::is_movement(event);
    } else {
      return false;
    }
  }

  /// Who is shown every move of `subject` now: itself, the viewers it is among the nearest
  /// movers of, and the viewers not ranked. Asked once per viewer in the radius of each move,
  /// so it searches two short sorted lists that stay in cache through a broadcast instead of
  /// looking each viewer up (that lookup was a tenth of the server's CPU with 700 in a crowd).
  struct FullRate {
    EntityId subject;
    const std::vector<EntityId>* watchers; ///< null: none
    const std::vector<EntityId>& unranked;

    [[nodiscard]] bool operator()(EntityId viewer) const {
      return viewer == subject || std::binary_search(unranked.begin(), unranked.end(), viewer) ||
             (watchers != nullptr &&
              std::binary_search(watchers->begin(), watchers->end(), viewer));
    }
  };
  [[nodiscard]] FullRate full_rate(EntityId subject) const {
    const auto found = watchers_.find(subject);
    return {subject, found == watchers_.end() ? nullptr : &found->second, unranked_};
  }

  static void insert_sorted(std::vector<EntityId>& ids, EntityId id) {
    const auto at = std::lower_bound(ids.begin(), ids.end(), id);
    if (at == ids.end() || *at != id) ids.insert(at, id);
  }
  static void erase_sorted(std::vector<EntityId>& ids, EntityId id) {
    const auto at = std::lower_bound(ids.begin(), ids.end(), id);
    if (at != ids.end() && *at == id) ids.erase(at);
  }

  /// Makes `viewer`'s nearest movers `nearest` (sorted), or, with nullopt, leaves it unranked;
  /// returns the nearest it had (empty when it was not ranked).
  std::vector<EntityId> set_nearest(EntityId viewer, std::optional<std::vector<EntityId>> nearest) {
    std::vector<EntityId> before;
    if (const auto found = nearest_.find(viewer); found != nearest_.end()) {
      before = std::move(found->second);
      nearest_.erase(found);
    }
    for (const EntityId mover : before) {
      const auto watching = watchers_.find(mover);
      if (watching == watchers_.end()) continue;
      erase_sorted(watching->second, viewer);
      if (watching->second.empty()) watchers_.erase(watching);
    }
    if (nearest) {
      erase_sorted(unranked_, viewer);
      for (const EntityId mover : *nearest)
        insert_sorted(watchers_[mover], viewer);
      nearest_.emplace(viewer, std::move(*nearest));
    } else if (sinks_.contains(viewer)) {
      insert_sorted(unranked_, viewer);
    } else {
      erase_sorted(unranked_, viewer);
    }
    return before;
  }
  /// `viewer` is gone from the zone (or stopped viewing).
  void unrank(EntityId viewer) { static_cast<void>(set_nearest(viewer, std::nullopt)); }

  /// Whether `id`'s turn, which comes once every far_move_ticks ticks, falls in (from, to].
  [[nodiscard]] bool turn_between(EntityId id, std::uint64_t from, std::uint64_t to) const {
    const std::uint64_t every = options_.far_move_ticks;
    if (to - from >= every) return true;
    const std::uint64_t turn = (every - id % every) % every; // (tick + id) % every == 0
    return (turn + every - (from + 1) % every) % every < to - from;
  }

  /// Shows `subject`'s withheld move to the viewers in the radius that were not shown it.
  void release_withheld(EntityId subject) {
    const auto found = withheld_.find(subject);
    if (found == withheld_.end()) return;
    const Shown& move = found->second;
    const Broadcast<Event> broadcast{info_.zone, move.seq, move.actor, move.event, move.where};
    const FullRate told = full_rate(subject);
    viewers_.for_each_near(move.where.at, [&](EntityId viewer) {
      if (told(viewer)) return;
      const auto sink = sinks_.find(viewer);
      if (sink != sinks_.end()) sink->second(broadcast);
    });
    withheld_.erase(found);
  }

  /// The ticks in (from, to] have passed: the withheld moves whose turn came are shown, the
  /// viewers whose turn came are ranked again, and movers that have not moved for a long time
  /// are forgotten.
  void thin_on_tick(std::uint64_t from, std::uint64_t to) {
    const std::uint64_t every = options_.far_move_ticks;
    std::vector<std::pair<log::Seq, EntityId>> due;
    for (const auto& [subject, move] : withheld_) {
      if (turn_between(subject, from, to)) due.emplace_back(move.seq, subject);
    }
    std::sort(due.begin(), due.end()); // in seq order, as the log has them
    for (const auto& [seq, subject] : due)
      release_withheld(subject);
    for (const auto& [viewer, sink] : sinks_) {
      if (turn_between(viewer, from, to)) rank(viewer);
    }
    if (to / every != from / every) {
      // A mover still for this long is ranked no more: it takes no viewer's place among the
      // nearest, and moves again at full rate to the viewers that are not ranked until then.
      const std::uint64_t still = forget_movers_after * every;
      std::vector<EntityId> gone;
      for (const auto& [mover, tick] : last_moved_) {
        if (to - std::min(tick, to) > still) gone.push_back(mover);
      }
      for (const EntityId mover : gone) {
        last_moved_.erase(mover);
        movers_.remove(mover);
      }
    }
  }

  /// Ranks the movers in `viewer`'s radius by distance (then id) and keeps the nearest
  /// full_rate_movers; a viewer with no more than that many is not ranked. A mover that it is
  /// shown every move of from now on, and whose move was withheld from it, is shown that move.
  void rank(EntityId viewer) {
    const std::optional<Point> at = viewers_.position(viewer);
    std::vector<EntityId> nearest;
    bool ranked = false;
    if (at) {
      ranking_.clear();
      movers_.for_each_near(*at, [&](EntityId mover, Point where) {
        if (mover != viewer) ranking_.emplace_back(distance_sq(*at, where), mover);
      });
      const std::size_t keep = options_.full_rate_movers;
      if (ranking_.size() > keep) {
        std::nth_element(ranking_.begin(), ranking_.begin() + static_cast<std::ptrdiff_t>(keep),
                         ranking_.end());
        nearest.reserve(keep);
        for (std::size_t i = 0; i < keep; ++i)
          nearest.push_back(ranking_[i].second);
        std::sort(nearest.begin(), nearest.end());
        ranked = true;
      }
    }
    const bool was_ranked = nearest_.contains(viewer);
    const std::vector<EntityId> before =
        set_nearest(viewer, ranked ? std::optional(std::move(nearest)) : std::nullopt);
    if (!was_ranked || withheld_.empty() || !at) return;
    const auto sink = sinks_.find(viewer);
    if (sink == sinks_.end()) return;
    std::vector<const Shown*> released;
    for (const auto& [subject, move] : withheld_) {
      if (std::binary_search(before.begin(), before.end(), subject)) continue; // was shown it
      if (!full_rate(subject)(viewer)) continue;                               // still far
      if (distance_sq(*at, move.where.at) > radius_sq()) continue;
      released.push_back(&move);
    }
    // In the log's order, as every other event reaches a viewer.
    std::sort(released.begin(), released.end(),
              [](const Shown* a, const Shown* b) { return a->seq < b->seq; });
    for (const Shown* move : released)
      sink->second(Broadcast<Event>{info_.zone, move->seq, move->actor, move->event, move->where});
  }

  [[nodiscard]] static std::uint64_t distance_sq(Point a, Point b) noexcept {
    const auto dx = static_cast<std::uint64_t>(a.x < b.x ? b.x - a.x : a.x - b.x);
    const auto dy = static_cast<std::uint64_t>(a.y < b.y ? b.y - a.y : a.y - b.y);
    return dx * dx + dy * dy;
  }
  [[nodiscard]] std::uint64_t radius_sq() const noexcept {
    const auto radius = static_cast<std::uint64_t>(viewers_.view_radius());
    return radius * radius;
  }

  /// What a follower not yet placed (Zone::follow), coming into the zone at `at` with the event
  /// just decided, is shown of what is already in view: the events of a model that can describe
  /// it (an optional `M::view(state, viewer, at, radius)`), with seq 0, since the log holds no
  /// such events. Taken from the state as of that event, so that it shows nothing that is not
  /// durable once the event is; shown right after it. Once per coming in.
  std::vector<std::pair<Event, Located>> view_on_entry(EntityId viewer, Point at) {
    std::vector<std::pair<Event, Located>> view;
    if constexpr (requires { M::view(state_, viewer, at, options_.view_radius_mm); }) {
      if (!sinks_.contains(viewer) || viewers_.contains(viewer)) return view;
      if (!entering_.insert(viewer).second) return view;
      for (Event& event : M::view(state_, viewer, at, options_.view_radius_mm)) {
        const Located where = M::locate(state_, event).value_or(Located{viewer, at});
        view.emplace_back(std::move(event), where);
      }
      if (view.empty()) entering_.erase(viewer);
    }
    return view;
  }

  /// Drives a handoff whose departure is durable (from on_durable, or found on start).
  void start_handoff(const Handoff<Command>& handoff) {
    durable_handoffs_.insert({handoff.entity, handoff.epoch});
    if (router_) router_->route(handoff);
  }

  /// Drives again the handoffs not yet completed, except those whose departure is only decided:
  /// the destination must never take an entity that this zone might still lose in a failed
  /// append (it would then be in two zones).
  void retry_handoffs() {
    std::set<std::pair<EntityId, std::uint64_t>> still_pending;
    for (const auto& handoff : M::pending_handoffs(state_)) {
      const std::pair key{handoff.entity, handoff.epoch};
      if (!durable_handoffs_.contains(key)) continue;
      still_pending.insert(key);
      if (router_) router_->route(handoff);
    }
    durable_handoffs_ = std::move(still_pending);
  }

  // ---- snapshots and recovery -----------------------------------------------------------------

  struct PendingSnapshot {
    log::Seq seq;
    std::string bytes;
  };

  PendingSnapshot make_snapshot() const {
    const auto versions = event_versions<M>();
    ZoneSnapshot snapshot{std::string(M::name), M::rules_version,
                          decided_seq_,         M::hash(state_),
                          M::snapshot(state_),  {versions.begin(), versions.end()}};
    return {decided_seq_, encode_snapshot(snapshot, recent_)};
  }

  Status put_snapshot(const PendingSnapshot& snapshot) {
    auto stored =
        log_.put_snapshot(info_.zone, snapshot.seq, snapshot.bytes, options_.keep_snapshots);
    if (stored.ok()) ++stats_.snapshots;
    return stored;
  }

  Status store_snapshot() {
    if (decided_seq_ == 0) return {};
    events_since_snapshot_ = 0;
    pending_snapshot_.reset();
    return put_snapshot(make_snapshot());
  }

  /// The tick of the clock's time now.
  std::uint64_t now_tick() const { return tick_at(info_, clock_.now_us()); }

  /// The context of a decision at the clock's time now, in `tick` (default: now's), that will
  /// get `seq`.
  Context context_for(log::Seq seq, std::optional<std::uint64_t> tick = std::nullopt) const {
    const std::int64_t now = clock_.now_us();
    return decision_context(info_, seq, tick.value_or(tick_at(info_, now)), now);
  }

  /// Rebuilds the state: the newest usable snapshot, then a fold of the log after it. A
  /// snapshot that fails verification, whose hash does not match its state, or that another
  /// model or rules version wrote is skipped (the fold starts earlier), never trusted.
  Status recover() {
    if (auto restored = restore_latest_snapshot(); !restored.ok()) return restored;
    // The fold after a snapshot does not see the genesis, so it is checked on its own.
    if (decided_seq_ > 0) {
      if (auto same = check_stored_genesis(); !same.ok()) return same;
    }
    Status failed;
    const Status scanned =
        log_.scan_stream(info_.zone, decided_seq_ + 1, std::numeric_limits<std::size_t>::max(),
                         [&](const log::EventView& event) {
                           if (auto folded = fold(event); !folded.ok()) {
                             failed = std::move(folded);
                             return false;
                           }
                           return true;
                         });
    if (!scanned.ok()) return scanned;
    if (!failed.ok()) return failed;
    durable_seq_ = decided_seq_;
    if (decided_seq_ == 0) return append_genesis();
    // Wall time never goes back in a stream, across restarts too: a snapshot at the head folds
    // no event that would say where the stream's time stands, so it is read from the head. A
    // clock behind it is clamped to it (add_event) and counted, never fatal.
    auto head = log_.read_stream_backward(info_.zone, decided_seq_, 1);
    if (!head.ok()) return std::move(head).error();
    if (!head->empty()) {
      last_wall_us_ = std::max(last_wall_us_, head->front().wall_time_us());
      // The zone runs every tick from the one it starts in. Not one before: the time it was down
      // is not simulated. Nor one its log shows it ran already: every event of tick T was
      // decided after tick T ran (run_ticks), so a zone restarted within the tick of its last
      // event does not run that tick again.
      last_tick_ = std::max(head->front().tick(), std::max<std::uint64_t>(now_tick(), 1) - 1);
      // A new owner of the stream: one term past the one that wrote its head.
      epoch_ = head->front().epoch() + 1;
    }
    return {};
  }

  Status restore_latest_snapshot() {
    auto restored = zone::restore_latest_snapshot<M>(
        log_, info_.zone, log::end_seq, options_.recent_commands, [this](const Error& why) {
          ++stats_.skipped_snapshots;
          stats_.last_skipped_snapshot = why.to_string();
        });
    if (!restored.ok()) return std::move(restored).error();
    if (!restored->has_value()) return {};
    RestoredSnapshot<M>& snapshot = **restored;
    state_ = std::move(snapshot.state);
    recent_ = std::move(snapshot.recent);
    decided_seq_ = snapshot.seq;
    stats_.recovered_from_seq = snapshot.seq;
    return {};
  }

  /// One event of the log, folded as every replay folds it (fold.hpp), plus what only the zone
  /// keeps: the idempotency window and its configuration check.
  Status fold(const log::EventView& event) {
    auto decoded = decode_stream_event<M>(event);
    if (!decoded.ok()) return std::move(decoded).error();
    if (const Genesis* genesis = std::get_if<0>(&*decoded)) {
      if (auto same = check_genesis(*genesis); !same.ok()) return same;
    }
    apply_stream_event<M>(state_, *decoded);
    const CommandKey key{event.actor(), event.command_id()};
    if (key.command_id != 0) {
      if (CommandRejected* rejected = std::get_if<1>(&*decoded)) {
        recent_.record(key, Outcome{.accepted = false,
                                    .first_seq = event.seq(),
                                    .last_seq = event.seq(),
                                    .code = rejected->code,
                                    .reason = std::move(rejected->reason)});
      } else if (decoded->index() == 2) {
        recent_.record_event(key, event.seq());
      }
    }
    decided_seq_ = event.seq();
    last_wall_us_ = event.wall_time_us();
    ++stats_.replayed_events;
    return {};
  }

  /// A zone must be run with the configuration its stream was created with: another seed or
  /// zone count would give another map, and the log would no longer replay to this world.
  /// (decode_stream_event has checked the model.)
  Status check_genesis(const Genesis& genesis) const {
    const ZoneInfo& was = genesis.info;
    if (was.zone != info_.zone || was.zone_count != info_.zone_count || was.seed != info_.seed ||
        was.tick_us != info_.tick_us || was.model_config != info_.model_config) {
      return make_error(Errc::invalid_argument,
                        "zone {} was created as zone {} of {} with seed {}, {} µs ticks and model "
                        "config '{}'; it is now started as zone {} of {} with seed {}, {} µs "
                        "ticks and model config '{}'",
                        info_.zone, was.zone, was.zone_count, was.seed, was.tick_us,
                        was.model_config, info_.zone, info_.zone_count, info_.seed, info_.tick_us,
                        info_.model_config);
    }
    return {};
  }

  /// check_genesis for a zone restored from a snapshot: the stream's first event is its
  /// genesis (a stream is never trimmed).
  Status check_stored_genesis() const {
    auto first = log_.read_stream(info_.zone, 1, 1);
    if (!first.ok()) return std::move(first).error();
    if (first->empty()) {
      return make_error(Errc::corruption, "zone {} has a snapshot but no genesis", info_.zone);
    }
    auto decoded = decode_stream_event<M>(first->front().view());
    if (!decoded.ok()) return std::move(decoded).error();
    const Genesis* genesis = std::get_if<0>(&*decoded);
    if (genesis == nullptr) {
      return make_error(Errc::corruption, "zone {}'s first event is not its genesis", info_.zone);
    }
    return check_genesis(*genesis);
  }

  Status append_genesis() {
    const log::NewEvent genesis{.payload_type = genesis_payload_type,
                                .payload =
                                    encode_genesis({std::string(M::name), M::rules_version, info_}),
                                .actor = {log::ActorKind::system, 0},
                                .wall_time_us = std::max<std::int64_t>(clock_.now_us(), 1),
                                .rules_version = M::rules_version,
                                .epoch = epoch_};
    auto appended = log_.append(info_.zone, 0, std::span(&genesis, 1));
    if (!appended.ok()) return std::move(appended).error();
    decided_seq_ = durable_seq_ = appended->last_seq;
    last_wall_us_ = genesis.wall_time_us;
    return {};
  }

  log::EventLog& log_;
  const runtime::Clock& clock_;
  const ZoneInfo info_;
  const ZoneOptions options_;
  Router<Command>* const router_;

  // Everything below is touched only on the zone's strand, except what a Batch carries to the
  // commit thread (its replies, moved out of the zone).
  State state_;                         ///< includes decided events that are not yet durable
  RecentCommands recent_;               ///< idempotency window
  log::Seq decided_seq_ = 0;            ///< seq of the last event decided
  log::Seq durable_seq_ = 0;            ///< seq of the last event known durable
  std::uint64_t last_tick_ = 0;         ///< last tick the model acted on
  std::uint64_t last_tick_message_ = 0; ///< tick of the last tick message handled
  std::int64_t last_wall_us_ = 0;       ///< wall time of the last event (kept monotone)
  /// This owner's term, recorded in each event it writes (log::NewEvent::epoch): 1 for the
  /// zone that writes the genesis, and one past its head's for each that recovers the stream.
  std::uint64_t epoch_ = 1;
  std::uint64_t events_since_snapshot_ = 0;
  std::optional<PendingSnapshot> pending_snapshot_; ///< taken, waiting for its seq to be durable
  Batch batch_;                                     ///< decided, not yet sent to the log
  bool flush_queued_ = false;                       ///< a flush message is in the mailbox
  std::optional<Error> append_error_;          ///< set once an append failed: the zone is failing
  std::multimap<log::Seq, Pending> waiting_;   ///< retried commands waiting for their original
  std::function<void(Status)> drained_;        ///< drain's callback, waiting for durability
  std::size_t appends_in_flight_ = 0;          ///< sent to the log, not yet completed
  boost::asio::steady_timer landed_{strand()}; ///< before_stop waits on it for appends_in_flight_
  InterestGrid viewers_;                       ///< where each subscribed viewer stands
  std::unordered_map<EntityId, Sink> sinks_;   ///< lookups only: the grid decides who is told
  /// Followers whose view on entry is decided and not yet shown: they get one view only.
  std::unordered_set<EntityId> entering_;
  /// Handoffs whose departure is durable, by (entity, epoch); completed ones leave at a retry.
  std::set<std::pair<EntityId, std::uint64_t>> durable_handoffs_;
  // Thinned movement: interest, like viewers_, never state.
  /// Movers still for this many far_move_ticks periods are forgotten.
  static constexpr std::uint64_t forget_movers_after = 20;
  InterestGrid movers_;                                           ///< where each mover moved last
  boost::unordered_flat_map<EntityId, std::uint64_t> last_moved_; ///< the tick of each mover's move
  /// The ranked viewers' nearest movers, sorted by id; the others are shown every move.
  boost::unordered_flat_map<EntityId, std::vector<EntityId>> nearest_;
  /// The same the other way round: the viewers each mover is among the nearest of, sorted.
  boost::unordered_flat_map<EntityId, std::vector<EntityId>> watchers_;
  std::vector<EntityId> unranked_; ///< viewers with a sink that are not ranked, sorted
  /// The latest move of each mover that some viewer in the radius was not shown.
  boost::unordered_flat_map<EntityId, Shown> withheld_;
  std::vector<std::pair<std::uint64_t, EntityId>> ranking_; ///< rank()'s scratch
  ZoneStats stats_;
};

} // namespace worldlog::zone

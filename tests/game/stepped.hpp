// Driving a world on one thread by hand, as `worldlog sim` does: an io_context that only the
// test polls and a log without a commit thread, so a test can stop between any two steps.
#pragma once

#include <cstdint>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <worldlog/game/world.hpp>

namespace worldlog::test {

/// Handlers and commits until neither has anything left. (An io_context without work stops
/// when it runs out of handlers: it is restarted, else later handlers would never run.)
inline void settle(boost::asio::io_context& io, log::EventLog& log) {
  for (;;) {
    if (io.stopped()) io.restart();
    const std::size_t handled = io.poll();
    if (handled == 0 && log.commit_queued() == 0) return;
  }
}

/// Submits `command` for `player`, settles, and returns its outcome.
inline Result<zone::Outcome> submit_settled(game::World& world, boost::asio::io_context& io,
                                            log::EventLog& log, game::EntityId player,
                                            std::uint64_t id, game::Command command) {
  std::optional<Result<zone::Outcome>> outcome;
  static_cast<void>(world.submit_for(player, id, std::move(command),
                                     [&](Result<zone::Outcome> got) { outcome = std::move(got); }));
  settle(io, log);
  REQUIRE(outcome.has_value());
  return std::move(*outcome);
}

} // namespace worldlog::test

// Channel chat: named channels that players join, across zones. An actor of its own,
// supervised apart from the zones, so that chat keeps working while a zone restarts. (Saying
// something to the players nearby is a zone command, `Say`, broadcast by interest.)
//
// Every limit is bounded — channels, members, message size, messages per player per second —
// so a hostile client cannot grow its memory. Channel chat is not recorded in the log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include <worldlog/runtime/actor.hpp>
#include <worldlog/runtime/clock.hpp>
#include <worldlog/world/players.hpp>

namespace worldlog::world {

struct ChatOptions {
  std::size_t max_channels = 1024;       ///< channels at most; joining a new one beyond fails
  std::size_t max_members = 10'000;      ///< members per channel at most
  std::size_t max_channel_name = 32;     ///< bytes
  std::size_t max_text = 256;            ///< bytes of one message
  std::uint32_t messages_per_second = 5; ///< per player; more are refused
};

struct ChatMessage {
  std::string channel;
  EntityId from = 0;
  std::string text;
  std::uint64_t number = 0; ///< 1, 2, ... per channel, in delivery order
};

/// Counters of chat volume, a signal of server health (a spike, a silence).
struct ChatStats {
  std::uint64_t delivered = 0;  ///< messages posted and fanned out
  std::uint64_t refused = 0;    ///< posts refused (not a member, too long, too many)
  std::uint64_t deliveries = 0; ///< message copies handed to listeners
};

class Chat final : public runtime::Actor {
public:
  /// Hears the messages of a channel; runs on the chat actor's strand (keep it short).
  using Listener = std::function<void(const ChatMessage&)>;
  /// Told whether a post was delivered, and why not: invalid_argument (empty or too long text,
  /// bad channel name), not_found (not a member of that channel), overloaded (rate limit).
  using Posted = std::function<void(Status)>;

  /// REQUIRES: `clock` outlives the actor.
  Chat(runtime::Executor executor, const runtime::Clock& clock, ChatOptions options = {});

  /// Adds `player` to `channel` (created on first join); `listener` hears every later message.
  Status join(std::string channel, EntityId player, Listener listener, Posted done = nullptr);
  /// Removes `player` from `channel` (a channel with no members is dropped).
  Status leave(std::string channel, EntityId player);
  /// Removes `player` from every channel (it went offline).
  Status leave_all(EntityId player);
  /// Sends `text` from `player` to every member of `channel`.
  Status post(std::string channel, EntityId player, std::string text, Posted done = nullptr);

  // On the actor's strand only (inside a call):
  [[nodiscard]] const ChatStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t members(const std::string& channel) const;

private:
  struct Channel {
    std::map<EntityId, Listener> members;
    std::uint64_t next_number = 1;
  };
  Status admit(const std::string& channel, EntityId player, const std::string& text);
  void forget_if_empty(const std::string& channel);

  const runtime::Clock& clock_;
  const ChatOptions options_;
  std::map<std::string, Channel> channels_; ///< strand only
  /// Messages each player posted in `second_`; strand only. Only this second's posters are
  /// kept (bounded by the posts a second admits), and leaving a channel does not reset them.
  std::map<EntityId, std::uint32_t> sent_;
  std::int64_t second_ = 0; ///< the clock's second `sent_` counts; strand only
  ChatStats stats_;         ///< strand only
};

} // namespace worldlog::world

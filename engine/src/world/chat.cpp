#include <worldlog/world/chat.hpp>

#include <utility>

namespace worldlog::world {
namespace {

void tell(const Chat::Posted& done, Status status) {
  if (done) done(std::move(status));
}

} // namespace

Chat::Chat(runtime::Executor executor, const runtime::Clock& clock, ChatOptions options)
    : Actor(std::move(executor), {.name = "chat", .mailbox_capacity = 65'536}), clock_(clock),
      options_(options) {}

Status Chat::join(std::string channel, EntityId player, Listener listener, Posted done) {
  return cast([this, channel = std::move(channel), player, listener = std::move(listener),
               done = std::move(done)]() mutable {
    if (channel.empty() || channel.size() > options_.max_channel_name) {
      return tell(done,
                  make_error(Errc::invalid_argument, "a channel name has 1 to {} bytes, not {}",
                             options_.max_channel_name, channel.size()));
    }
    const bool exists = channels_.contains(channel);
    if (!exists && channels_.size() >= options_.max_channels) {
      return tell(done, make_error(Errc::overloaded, "no room for channel '{}': {} channels exist",
                                   channel, channels_.size()));
    }
    Channel& joined = channels_[channel];
    if (joined.members.size() >= options_.max_members && !joined.members.contains(player)) {
      return tell(done, make_error(Errc::overloaded, "channel '{}' is full ({} members)", channel,
                                   joined.members.size()));
    }
    joined.members[player] = std::move(listener);
    tell(done, {});
  });
}

Status Chat::leave(std::string channel, EntityId player) {
  return cast([this, channel = std::move(channel), player] {
    const auto found = channels_.find(channel);
    if (found == channels_.end()) return;
    found->second.members.erase(player);
    forget_if_empty(channel);
  });
}

Status Chat::leave_all(EntityId player) {
  return cast([this, player] {
    for (auto it = channels_.begin(); it != channels_.end();) {
      it->second.members.erase(player);
      it = it->second.members.empty() ? channels_.erase(it) : std::next(it);
    }
  });
}

Status Chat::post(std::string channel, EntityId player, std::string text, Posted done) {
  return cast([this, channel = std::move(channel), player, text = std::move(text),
               done = std::move(done)]() mutable {
    if (Status admitted = admit(channel, player, text); !admitted.ok()) {
      ++stats_.refused;
      return tell(done, std::move(admitted));
    }
    Channel& target = channels_.at(channel);
    const ChatMessage message{channel, player, std::move(text), target.next_number++};
    for (const auto& [member, listener] : target.members) {
      if (listener) listener(message);
      ++stats_.deliveries;
    }
    ++stats_.delivered;
    tell(done, {});
  });
}

std::size_t Chat::members(const std::string& channel) const {
  const auto found = channels_.find(channel);
  return found == channels_.end() ? 0 : found->second.members.size();
}

Status Chat::admit(const std::string& channel, EntityId player, const std::string& text) {
  if (text.empty() || text.size() > options_.max_text) {
    return make_error(Errc::invalid_argument, "a chat message has 1 to {} bytes, not {}",
                      options_.max_text, text.size());
  }
  const auto found = channels_.find(channel);
  if (found == channels_.end() || !found->second.members.contains(player)) {
    return make_error(Errc::not_found, "player {} is not in channel '{}'", player, channel);
  }
  const std::int64_t second = clock_.now_us() / 1'000'000;
  if (second != second_) {
    sent_.clear(); // budgets of a past second are spent
    second_ = second;
  }
  std::uint32_t& sent = sent_[player];
  if (sent >= options_.messages_per_second) {
    return make_error(Errc::overloaded, "player {} sent more than {} chat messages this second",
                      player, options_.messages_per_second);
  }
  ++sent;
  return {};
}

void Chat::forget_if_empty(const std::string& channel) {
  const auto found = channels_.find(channel);
  if (found != channels_.end() && found->second.members.empty()) channels_.erase(found);
}

} // namespace worldlog::world

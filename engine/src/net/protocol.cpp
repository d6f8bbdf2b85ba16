#include <worldlog/net/protocol.hpp>

#include <iterator>
#include <type_traits>

#include <flatbuffers/flatbuffers.h>
#include <fmt/format.h>

#include <worldlog/flatbuffers.hpp>
#include <worldlog/net/frame.hpp>
#include <worldlog/schema/protocol_generated.h>

namespace worldlog::net {
namespace {

namespace fb = flatbuffers;
namespace wire = schema;

template <typename T>
fb::Offset<fb::Vector<T>> vector_of(fb::FlatBufferBuilder& builder, const std::vector<T>& values) {
  return builder.CreateVector(values);
}

fb::Offset<fb::Vector<std::uint8_t>> bytes_of(fb::FlatBufferBuilder& builder,
                                              std::string_view bytes) {
  return builder.CreateVector(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::string_view view_of(const fb::Vector<std::uint8_t>* bytes) {
  if (bytes == nullptr) return {};
  return {reinterpret_cast<const char*>(bytes->data()), bytes->size()};
}

std::string string_of(const fb::String* text) {
  return text == nullptr ? std::string() : text->str();
}

/// The Events table of `events`, whose elements are WorldEvents or pointers to them.
template <typename Range>
fb::Offset<wire::Events> events_of(fb::FlatBufferBuilder& builder, const Range& events) {
  std::vector<fb::Offset<wire::WorldEvent>> offsets;
  offsets.reserve(std::size(events));
  for (const auto& each : events) {
    const WorldEvent& event = [&each]() -> const WorldEvent& {
      if constexpr (std::is_pointer_v<std::remove_cvref_t<decltype(each)>>) {
        return *each;
      } else {
        return each;
      }
    }();
    const auto payload = bytes_of(builder, event.payload);
    offsets.push_back(wire::CreateWorldEvent(builder, event.zone, event.seq, event.actor_kind,
                                             event.actor, event.payload_type, payload));
  }
  return wire::CreateEvents(builder, builder.CreateVector(offsets));
}

struct Writer {
  fb::FlatBufferBuilder& builder;

  std::pair<wire::Body, fb::Offset<void>> operator()(const Hello& m) const {
    const auto token = vector_of(builder, m.token);
    return {wire::Body::Hello,
            wire::CreateHello(builder, m.player, token, m.protocol_version).Union()};
  }
  std::pair<wire::Body, fb::Offset<void>> operator()(const Command& m) const {
    const auto command = bytes_of(builder, m.command);
    return {wire::Body::Command, wire::CreateCommand(builder, m.client_id, command).Union()};
  }
  std::pair<wire::Body, fb::Offset<void>> operator()(const Welcome& m) const {
    return {wire::Body::Welcome,
            wire::CreateWelcome(builder, m.player, m.zone, m.protocol_version, m.max_frame,
                                m.commands_per_second, m.world_seed, m.zone_count)
                .Union()};
  }
  std::pair<wire::Body, fb::Offset<void>> operator()(const CommandResult& m) const {
    const auto seqs = vector_of(builder, m.seqs);
    const auto text = builder.CreateString(m.text);
    return {wire::Body::CommandResult,
            wire::CreateCommandResult(builder, m.client_id, m.accepted, m.zone, seqs, m.reason,
                                      text, m.duplicate)
                .Union()};
  }
  std::pair<wire::Body, fb::Offset<void>> operator()(const Events& m) const {
    return {wire::Body::Events, events_of(builder, m.events).Union()};
  }
  std::pair<wire::Body, fb::Offset<void>> operator()(const Error& m) const {
    const auto text = builder.CreateString(m.text);
    return {wire::Body::Error, wire::CreateError(builder, static_cast<wire::ErrorCode>(m.code),
                                                 text, m.fatal, m.client_id)
                                   .Union()};
  }
};

ProtocolError malformed(std::string text) {
  return ProtocolError{ErrorCode::malformed_frame, std::move(text)};
}

std::variant<Message, ProtocolError> read(const wire::Message& message) {
  // The verifier accepts a union's type without its value (fields are optional): a body type
  // says nothing about whether the body is there.
  if (message.body() == nullptr) return malformed("a message without a body");
  switch (message.body_type()) {
  case wire::Body::Hello: {
    const auto* m = message.body_as_Hello();
    Hello hello{m->player(), {}, m->protocol_version()};
    if (m->token() != nullptr) hello.token.assign(m->token()->begin(), m->token()->end());
    return Message(std::move(hello));
  }
  case wire::Body::Command: {
    const auto* m = message.body_as_Command();
    return Message(Command{m->client_id(), std::string(view_of(m->command()))});
  }
  case wire::Body::Welcome: {
    const auto* m = message.body_as_Welcome();
    return Message(Welcome{m->player(), m->zone(), m->protocol_version(), m->max_frame(),
                           m->commands_per_second(), m->world_seed(), m->zone_count()});
  }
  case wire::Body::CommandResult: {
    const auto* m = message.body_as_CommandResult();
    CommandResult result{m->client_id(), m->accepted(),        m->zone(),     {},
                         m->reason(),    string_of(m->text()), m->duplicate()};
    result.seqs = copied_elements<std::uint64_t>(m->seqs());
    return Message(std::move(result));
  }
  case wire::Body::Events: {
    const auto* m = message.body_as_Events();
    Events events;
    if (m->events() != nullptr) {
      events.events.reserve(m->events()->size());
      for (const auto* event : *m->events()) {
        events.events.push_back(WorldEvent{event->zone(), event->seq(), event->actor_kind(),
                                           event->actor(), event->payload_type(),
                                           std::string(view_of(event->payload()))});
      }
    }
    return Message(std::move(events));
  }
  case wire::Body::Error: {
    const auto* m = message.body_as_Error();
    return Message(
        Error{static_cast<ErrorCode>(m->code()), string_of(m->text()), m->fatal(), m->client_id()});
  }
  case wire::Body::NONE: return malformed("a message without a body");
  }
  return ProtocolError{
      ErrorCode::unknown_message,
      fmt::format("unknown message type {}", static_cast<unsigned>(message.body_type()))};
}

} // namespace

std::string_view error_code_name(ErrorCode code) noexcept {
  constexpr std::string_view names[] = {"none",
                                        "frame_too_large",
                                        "malformed_frame",
                                        "wrong_identifier",
                                        "unknown_message",
                                        "not_authenticated",
                                        "bad_token",
                                        "already_authenticated",
                                        "wrong_player",
                                        "rate_limited",
                                        "duplicate_client_id",
                                        "bad_command",
                                        "idle_timeout",
                                        "slow_reader",
                                        "shutting_down",
                                        "internal",
                                        "already_connected",
                                        "server_full"};
  const auto index = static_cast<std::size_t>(code);
  static_assert(std::size(names) == error_code_count, "a name for every ErrorCode");
  return index < std::size(names) ? names[index] : "unknown";
}

std::string encode(const Message& message) {
  thread_local fb::FlatBufferBuilder builder(256);
  builder.Clear();
  const auto [type, body] = std::visit(Writer{builder}, message);
  wire::FinishMessageBuffer(builder, wire::CreateMessage(builder, type, body));
  return {reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()};
}

std::string frame_events(std::span<const WorldEvent* const> events) {
  thread_local fb::FlatBufferBuilder builder(4096);
  builder.Clear();
  const auto body = events_of(builder, events);
  wire::FinishMessageBuffer(builder,
                            wire::CreateMessage(builder, wire::Body::Events, body.Union()));
  return frame({reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()});
}

std::variant<Message, ProtocolError> decode(std::string_view payload) {
  // Shorter than a root offset and an identifier: no FlatBuffer at all (a zero-length frame).
  if (payload.size() < 2 * sizeof(fb::uoffset_t)) {
    return malformed(
        fmt::format("a message of {} bytes is too short to be a FlatBuffer", payload.size()));
  }
  if (!fb::BufferHasIdentifier(payload.data(), wire::MessageIdentifier())) {
    return ProtocolError{ErrorCode::wrong_identifier,
                         fmt::format("not a worldlog message (file identifier \"{}\" expected)",
                                     wire::MessageIdentifier())};
  }
  // A frame sits at any offset in the connection's buffer. (The identifier is checked above.)
  thread_local std::string scratch;
  const auto* message = verified_root<wire::Message>(payload, scratch);
  if (message == nullptr) {
    return malformed(
        fmt::format("a message of {} bytes fails the FlatBuffers verifier", payload.size()));
  }
  return read(*message);
}

} // namespace worldlog::net

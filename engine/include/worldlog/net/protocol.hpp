// The messages of the wire protocol (schemas/protocol.fbs) as C++ values, and their encoding.
// Every decode goes through the FlatBuffers verifier and the file identifier check; a frame
// that fails either is a ProtocolError with the code the server sends back.
//
//   const std::string bytes = net::frame(net::encode(net::Hello{42, token}));
//   auto decoded = net::decode(payload);    // Message or ProtocolError
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace worldlog::net {

inline constexpr std::uint16_t protocol_version = 1;

/// Mirrors protocol.fbs ErrorCode; the numbers are the wire's.
enum class ErrorCode : std::uint16_t {
  none = 0,
  frame_too_large = 1,
  malformed_frame = 2,
  wrong_identifier = 3,
  unknown_message = 4,
  not_authenticated = 5,
  bad_token = 6,
  already_authenticated = 7,
  wrong_player = 8,
  rate_limited = 9,
  duplicate_client_id = 10,
  bad_command = 11,
  idle_timeout = 12,
  slow_reader = 13,
  shutting_down = 14,
  internal = 15,
  already_connected = 16,
  server_full = 17,
};

/// ErrorCode values run from 0 to error_code_count - 1.
inline constexpr std::size_t error_code_count =
    static_cast<std::size_t>(ErrorCode::server_full) + 1;

/// "frame_too_large", ...; "unknown" for a number this build does not know.
[[nodiscard]] std::string_view error_code_name(ErrorCode code) noexcept;

struct Hello {
  std::uint64_t player = 0;
  std::vector<std::uint8_t> token;
  std::uint16_t protocol_version = net::protocol_version;
  friend bool operator==(const Hello&, const Hello&) = default;
};

struct Command {
  std::uint64_t client_id = 0;
  std::string command; ///< the game's encoding (game.fbs Command)
  friend bool operator==(const Command&, const Command&) = default;
};

struct Welcome {
  std::uint64_t player = 0;
  std::uint64_t zone = 0;
  std::uint16_t protocol_version = net::protocol_version;
  std::uint32_t max_frame = 0;
  std::uint32_t commands_per_second = 0;
  std::uint64_t world_seed = 0;
  std::uint64_t zone_count = 0;
  friend bool operator==(const Welcome&, const Welcome&) = default;
};

struct CommandResult {
  std::uint64_t client_id = 0;
  bool accepted = false;
  std::uint64_t zone = 0;
  std::vector<std::uint64_t> seqs;
  std::uint16_t reason = 0;
  std::string text;
  bool duplicate = false; ///< the result of an earlier command with this client id
  friend bool operator==(const CommandResult&, const CommandResult&) = default;
};

struct WorldEvent {
  std::uint64_t zone = 0;
  std::uint64_t seq = 0;
  std::uint8_t actor_kind = 0; ///< log::ActorKind: 0 system, 1 player, 2 mob, 3 service
  std::uint64_t actor = 0;
  std::uint32_t payload_type = 0;
  std::string payload;
  friend bool operator==(const WorldEvent&, const WorldEvent&) = default;
};

struct Events {
  std::vector<WorldEvent> events;
  friend bool operator==(const Events&, const Events&) = default;
};

struct Error {
  ErrorCode code = ErrorCode::none;
  std::string text;
  bool fatal = false;
  std::uint64_t client_id = 0; ///< the command refused, if the error is about one
  friend bool operator==(const Error&, const Error&) = default;
};

using Message = std::variant<Hello, Command, Welcome, CommandResult, Events, Error>;

/// A frame that is not a message this build can read, and the code to answer it with.
struct ProtocolError {
  ErrorCode code = ErrorCode::malformed_frame;
  std::string text;
};

/// The FlatBuffer of `message` (without the length prefix).
[[nodiscard]] std::string encode(const Message& message);

/// One Events frame, length prefix included, of `events` in order: what
/// `frame(encode(Message{Events{...}}))` gives, without copying each event into a message first.
/// The server sends a connection's queued events with it, many to a frame.
[[nodiscard]] std::string frame_events(std::span<const WorldEvent* const> events);

/// Decodes one frame's payload (any alignment). ProtocolError: wrong_identifier,
/// malformed_frame (fails the verifier, or a required field is missing) or unknown_message.
[[nodiscard]] std::variant<Message, ProtocolError> decode(std::string_view payload);

} // namespace worldlog::net

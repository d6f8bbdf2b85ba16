// Framing of the wire protocol (schemas/protocol.fbs): a 4-byte little-endian length, then
// that many bytes of one FlatBuffer.
//
//   FrameDecoder decoder(64 * 1024);
//   decoder.feed(bytes_from_socket);
//   while (auto frame = decoder.next()) { ... }   // Result<std::optional<std::string_view>>
//
// A hostile peer cannot make the decoder hold more than one frame's worth of bytes: a length
// above the limit is refused as soon as its four bytes arrive, before anything is buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <worldlog/status.hpp>

namespace worldlog::net {

inline constexpr std::size_t length_prefix_size = 4;

/// `payload` behind its length prefix, ready to write to a socket.
[[nodiscard]] std::string frame(std::string_view payload);

/// Splits a byte stream into frames. Not thread-safe; one per connection.
class FrameDecoder {
public:
  /// Frames longer than `max_frame` bytes (not counting the prefix) are refused.
  explicit FrameDecoder(std::size_t max_frame) : max_frame_(max_frame) {}

  /// Appends bytes received from the peer.
  void feed(std::string_view bytes);

  /// The next whole frame, valid until the next feed() or next(); nullopt when more bytes are
  /// needed. The frame is not aligned: copy it before reading a FlatBuffer in place
  /// (decode_message does). Errors: invalid_argument "frame of N bytes exceeds the limit of M" (the
  /// stream cannot be resynchronised: close the connection).
  [[nodiscard]] Result<std::optional<std::string_view>> next();

  /// Bytes received and not yet returned as frames (a truncated frame at close).
  [[nodiscard]] std::size_t pending() const noexcept { return buffer_.size() - start_ - consumed_; }

private:
  std::size_t max_frame_;
  std::string buffer_;
  std::size_t start_ = 0;    // bytes of buffer_ before the frame handed out last
  std::size_t consumed_ = 0; // the bytes of the frame handed out last, prefix included
};

} // namespace worldlog::net

#include <worldlog/net/frame.hpp>

namespace worldlog::net {
namespace {

std::uint32_t read_length(const char* bytes) noexcept {
  std::uint32_t length = 0;
  for (int i = 3; i >= 0; --i)
    length = (length << 8) | static_cast<std::uint8_t>(bytes[i]);
  return length;
}

} // namespace

std::string frame(std::string_view payload) {
  std::string framed(length_prefix_size, '\0');
  auto length = static_cast<std::uint32_t>(payload.size());
  for (std::size_t i = 0; i < length_prefix_size; ++i) {
    framed[i] = static_cast<char>(length & 0xff);
    length >>= 8;
  }
  framed.append(payload);
  return framed;
}

Result<std::optional<std::string_view>> FrameDecoder::next() {
  // Compact lazily: what was handed out stays valid until the caller asks again.
  if (consumed_ != 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  if (buffer_.size() < length_prefix_size) return std::optional<std::string_view>{};
  const std::uint32_t length = read_length(buffer_.data());
  if (length > max_frame_) {
    return make_error(Errc::invalid_argument, "frame of {} bytes exceeds the limit of {}", length,
                      max_frame_);
  }
  if (buffer_.size() < length_prefix_size + length) return std::optional<std::string_view>{};
  consumed_ = length_prefix_size + length;
  return std::optional<std::string_view>(
      std::string_view(buffer_).substr(length_prefix_size, length));
}

} // namespace worldlog::net

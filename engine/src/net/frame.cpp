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

void FrameDecoder::feed(std::string_view bytes) {
  // The frames handed out are taken off the front once per feed, not once per frame: a read of
  // many small frames (a batch of events) would otherwise move the rest of it once for each,
  // which was a sixth of the bots' CPU in a crowd.
  start_ += consumed_;
  consumed_ = 0;
  buffer_.erase(0, start_);
  start_ = 0;
  buffer_.append(bytes);
}

Result<std::optional<std::string_view>> FrameDecoder::next() {
  // What was handed out stays valid until the caller asks again.
  start_ += consumed_;
  consumed_ = 0;
  const std::size_t available = buffer_.size() - start_;
  if (available < length_prefix_size) return std::optional<std::string_view>{};
  const std::uint32_t length = read_length(buffer_.data() + start_);
  if (length > max_frame_) {
    return make_error(Errc::invalid_argument, "frame of {} bytes exceeds the limit of {}", length,
                      max_frame_);
  }
  if (available < length_prefix_size + length) return std::optional<std::string_view>{};
  consumed_ = length_prefix_size + length;
  return std::optional<std::string_view>(
      std::string_view(buffer_).substr(start_ + length_prefix_size, length));
}

} // namespace worldlog::net

#include <worldlog/log/event.hpp>

#include <cstring>

#include "log/format.hpp"

namespace worldlog::log {

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<std::uint8_t>(bytes[i]);
    hex[2 * i] = digits[byte >> 4];
    hex[2 * i + 1] = digits[byte & 0xf];
  }
  return hex;
}

std::string to_hex(const Hash& hash) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

EventView::EventView(std::string_view record) noexcept
    : record_(record), fields_(format::parse(record)) {}

Event::Event(std::string record) : record_(std::move(record)), fields_(format::parse(record_)) {}

Hash EventView::prev_hash() const noexcept {
  Hash hash;
  std::memcpy(hash.data(), record_.data() + fields_.prev_hash_offset, hash.size());
  return hash;
}

Hash EventView::hash() const noexcept {
  Hash hash;
  std::memcpy(hash.data(), record_.data(), hash.size());
  return hash;
}

Status EventView::check_hash() const {
  if (format::hash_prefix_matches(record_)) return {};
  return format::hash_mismatch(record_, stream(), seq());
}

} // namespace worldlog::log

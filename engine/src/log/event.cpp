#include <worldlog/log/event.hpp>

#include <cstring>

#include <worldlog/schema/envelope_generated.h>

#include "log/format.hpp"

namespace worldlog::log {
namespace {

const schema::Event* envelope(std::string_view record) noexcept {
  return schema::GetEvent(record.data() + format::hash_size);
}

} // namespace

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

StreamId EventView::stream() const noexcept { return envelope(record_)->stream(); }
Seq EventView::seq() const noexcept { return envelope(record_)->seq(); }
Position EventView::position() const noexcept { return envelope(record_)->position(); }
std::uint64_t EventView::tick() const noexcept { return envelope(record_)->tick(); }
std::int64_t EventView::wall_time_us() const noexcept { return envelope(record_)->wall_time_us(); }
std::uint64_t EventView::command_id() const noexcept { return envelope(record_)->command_id(); }
std::uint64_t EventView::causation() const noexcept { return envelope(record_)->causation(); }
std::uint32_t EventView::payload_type() const noexcept { return envelope(record_)->payload_type(); }

std::uint32_t EventView::rules_version() const noexcept {
  return envelope(record_)->rules_version();
}

std::uint16_t EventView::schema_version() const noexcept {
  return envelope(record_)->schema_version();
}

Actor EventView::actor() const noexcept {
  const auto* actor = envelope(record_)->actor();
  return {static_cast<ActorKind>(actor->kind()), actor->id()};
}

Hash EventView::prev_hash() const noexcept {
  Hash hash;
  std::memcpy(hash.data(), envelope(record_)->prev_hash()->bytes()->data(), hash.size());
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

std::string_view EventView::payload() const noexcept {
  const auto* payload = envelope(record_)->payload();
  if (payload == nullptr) return {};
  return {reinterpret_cast<const char*>(payload->data()), payload->size()};
}

} // namespace worldlog::log

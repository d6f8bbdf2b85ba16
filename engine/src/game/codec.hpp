// FlatBuffers conversions shared by the event, command and snapshot codecs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <flatbuffers/flatbuffers.h>

#include <worldlog/flatbuffers.hpp>
#include <worldlog/game/state.hpp>
#include <worldlog/schema/game_generated.h>

namespace worldlog::game::codec {

namespace fb = flatbuffers;
namespace schema = worldlog::game::schema;

[[nodiscard]] inline schema::Point to_schema(Point p) noexcept { return {p.x, p.y}; }
[[nodiscard]] inline Point from_schema(const schema::Point* p) noexcept {
  return p == nullptr ? Point{} : Point{p->x(), p->y()};
}

/// The finished buffer of `builder` as bytes.
[[nodiscard]] inline std::string bytes_of(const fb::FlatBufferBuilder& builder) {
  return {reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()};
}

/// Reads stored values into the model's types, noting any that no version of the rules
/// writes (an unknown kind), so that decoding can refuse them as corrupt.
struct Reader {
  bool ok = true;

  [[nodiscard]] ItemKind item_kind(std::uint8_t value) noexcept {
    ok = ok && (value == 1 || value == 2);
    return static_cast<ItemKind>(value);
  }
  [[nodiscard]] MobKind mob_kind(std::uint8_t value) noexcept {
    ok = ok && (value == 1 || value == 2);
    return static_cast<MobKind>(value);
  }
  [[nodiscard]] Quest quest(std::uint8_t value) noexcept {
    ok = ok && (value == 1 || value == 2);
    return static_cast<Quest>(value);
  }
  /// A logout reason; 0 (absent) is `left`.
  [[nodiscard]] LogoutReason logout_reason(std::uint8_t value) noexcept {
    ok = ok && value <= 4;
    return value == 0 ? LogoutReason::left : static_cast<LogoutReason>(value);
  }
  [[nodiscard]] Seen::What seen_what(std::uint8_t value) noexcept {
    ok = ok && value >= 1 && value <= 5;
    return static_cast<Seen::What>(value);
  }
  /// A player table (absent = corrupt).
  [[nodiscard]] Player player(const schema::Player* table);
};

[[nodiscard]] fb::Offset<schema::Player> write_player(fb::FlatBufferBuilder& builder,
                                                      const Player& player);

} // namespace worldlog::game::codec

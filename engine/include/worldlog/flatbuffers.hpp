// Reading FlatBuffers that may sit at any address.
//
// FlatBuffers reads scalars in place, and its verifier checks alignment only relative to the start
// of the buffer: a table's 8-byte field at offset 16 passes although the buffer itself starts at
// an address ending in 4. Buffers here come from RocksDB blocks, from inside other buffers (an
// event's payload in its record, a snapshot's state, a command in a frame) and from peers, so a
// misaligned one is copied before it is read. Within a verified buffer, the verifier checks only
// that a vector's length is 4-aligned, not its elements: vectors of 8-byte values are copied out
// rather than read in place.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <flatbuffers/flatbuffers.h>

namespace worldlog {

/// The alignment every FlatBuffer here is read at: that of its widest scalar.
inline constexpr std::size_t flatbuffer_alignment = 8;

/// `bytes`, or a copy of them in `scratch` when they do not start at an 8-byte boundary (a
/// std::string's buffer does).
[[nodiscard]] inline std::string_view aligned(std::string_view bytes, std::string& scratch) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % flatbuffer_alignment == 0) return bytes;
  scratch.assign(bytes);
  return scratch;
}

/// The root `Table` of `bytes` if the verifier accepts it (with `identifier`, when given), else
/// nullptr. The table stays valid while `bytes` and `scratch` do.
template <typename Table>
[[nodiscard]] const Table* verified_root(std::string_view bytes, std::string& scratch,
                                         const char* identifier = nullptr) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(aligned(bytes, scratch).data());
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<Table>(identifier)) return nullptr;
  return flatbuffers::GetRoot<Table>(data);
}

/// The elements of a verified vector of scalars or structs, copied byte for byte (null: none).
template <typename T, typename Element>
[[nodiscard]] std::vector<T> copied_elements(const flatbuffers::Vector<Element>* vector) {
  static_assert(std::is_trivially_copyable_v<T> &&
                    sizeof(T) == flatbuffers::IndirectHelper<Element>::element_stride,
                "T must have the layout of the vector's elements");
  if (vector == nullptr || vector->size() == 0) return {};
  std::vector<T> values(vector->size());
  std::memcpy(values.data(), vector->Data(), values.size() * sizeof(T));
  if constexpr (std::is_scalar_v<T>) {
    for (auto& value : values)
      value = flatbuffers::EndianScalar(value);
  }
  return values;
}

} // namespace worldlog

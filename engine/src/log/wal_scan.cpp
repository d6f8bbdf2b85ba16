#include "log/wal_scan.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace worldlog::log {
namespace {

// RocksDB's log format (db/log_format.h): 32 KiB blocks; a record header is a masked CRC32C
// (4 bytes), the payload length (2, little-endian) and the type (1), plus the log number (4)
// for the recyclable types; a block's last bytes, too few for a header, are zeros.
constexpr std::size_t block_size = 32 * 1024;
constexpr std::size_t header_size = 7;
constexpr std::size_t recyclable_header_size = 11;
constexpr std::uint8_t first_recyclable_type = 5;
constexpr std::uint8_t last_recyclable_type = 8;
constexpr std::uint8_t last_known_type = 10;

constexpr std::array<std::uint32_t, 256> crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82f63b78U : 0);
    table[i] = crc;
  }
  return table;
}

std::uint32_t crc32c_extend(std::uint32_t crc, const unsigned char* data, std::size_t size) {
  static constexpr auto table = crc32c_table();
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i)
    crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t unmask(std::uint32_t masked) {
  const std::uint32_t rotated = masked - 0xa282ead8U;
  return (rotated >> 17) | (rotated << 15);
}

std::uint32_t fixed32(const unsigned char* bytes) {
  return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
         static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

/// The file number in a WAL's name (000012.log: 12), which recyclable records carry.
std::uint64_t log_number(const std::filesystem::path& path) {
  const std::string stem = path.stem().string();
  std::uint64_t number = 0;
  std::from_chars(stem.data(), stem.data() + stem.size(), number);
  return number;
}

bool all_zero(const std::vector<unsigned char>& bytes, std::size_t from) {
  for (std::size_t i = from; i < bytes.size(); ++i)
    if (bytes[i] != 0) return false;
  return true;
}

} // namespace

std::optional<WalDamage> find_wal_damage(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return WalDamage{0, "the file cannot be read"};
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  const std::uint64_t number = log_number(path);
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    const std::size_t left_in_block = block_size - offset % block_size;
    if (left_in_block < header_size) {
      offset += left_in_block; // the block's trailer
      continue;
    }
    if (bytes.size() - offset < header_size) return std::nullopt; // a torn last header
    const unsigned char* header = bytes.data() + offset;
    const std::size_t length = header[4] | static_cast<std::size_t>(header[5]) << 8;
    const std::uint8_t type = header[6];
    // Zeros where a header should be: preallocated space past the last record.
    if (type == 0 && length == 0 && fixed32(header) == 0) {
      if (all_zero(bytes, offset)) return std::nullopt;
      return WalDamage{offset, "a zeroed record header with records after it"};
    }
    const bool recyclable = type >= first_recyclable_type && type <= last_recyclable_type;
    const std::size_t size = recyclable ? recyclable_header_size : header_size;
    if (type == 0 || type > last_known_type) {
      return WalDamage{offset, fmt::format("a record header of unknown type {}", type)};
    }
    if (size + length > left_in_block) {
      return WalDamage{offset, fmt::format("a record of {} bytes that runs past its block's end, "
                                           "{} bytes on",
                                           length, left_in_block)};
    }
    const bool last = offset + size + length >= bytes.size();
    if (offset + size + length > bytes.size()) return std::nullopt; // a torn last record
    if (recyclable && fixed32(header + header_size) != number) {
      return std::nullopt; // a record of the file's earlier use: this log's records end here
    }
    std::uint32_t crc = crc32c_extend(0, header + 6, 1);
    if (recyclable) crc = crc32c_extend(crc, header + header_size, 4);
    crc = crc32c_extend(crc, header + size, length);
    if (crc != unmask(fixed32(header))) {
      if (last) return std::nullopt; // the last record, torn
      return WalDamage{offset, fmt::format("checksum mismatch in a record of {} bytes", length)};
    }
    offset += size + length;
  }
  return std::nullopt;
}

} // namespace worldlog::log

// Player tokens: HMAC-SHA256 of the player id under the server's secret. A client proves it
// is player P by presenting token(P); only the holder of the secret can make one. And the
// viewer's token (docs/viewer.md), which its HTTP port asks for when bound beyond loopback.
//
//   auto secret = net::read_secret("/etc/worldlog/secret");   // Result<Secret>
//   const net::Token token = net::make_token(*secret, 42);
//   CHECK(net::token_matches(*secret, 42, token));
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include <worldlog/status.hpp>

namespace worldlog::net {

using Token = std::array<std::uint8_t, 32>;

/// The server's key. At least 16 bytes.
struct Secret {
  std::string bytes;
};

/// Reads a secret file (its bytes, surrounding whitespace removed). Errors: not_found or
/// io_error naming the file; invalid_argument when fewer than 16 bytes remain.
[[nodiscard]] Result<Secret> read_secret(const std::filesystem::path& file);

/// HMAC-SHA256(secret, player id as 8 little-endian bytes).
[[nodiscard]] Token make_token(const Secret& secret, std::uint64_t player);

/// Whether `token` is player's, compared in constant time. A token of the wrong length is not.
[[nodiscard]] bool token_matches(const Secret& secret, std::uint64_t player,
                                 std::span<const std::uint8_t> token);

/// The viewer's token of a server: HMAC-SHA256 of a fixed label (longer than a player id, so
/// that no player's token is it) under the secret, in hex.
[[nodiscard]] std::string viewer_token(const Secret& secret);

/// A random viewer token (`worldlog view`, which has no secret): 16 bytes of OpenSSL's
/// generator, in hex.
[[nodiscard]] std::string random_viewer_token();

} // namespace worldlog::net

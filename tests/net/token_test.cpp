// Player tokens: the HMAC-SHA256 of the player id (the figure `openssl dgst` gives), bound to
// one player and one secret, compared in full.
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include <worldlog/log/types.hpp>
#include <worldlog/net/token.hpp>

#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

namespace worldlog::test {
namespace {

std::string hex(const net::Token& token) {
  return log::to_hex(std::string_view(reinterpret_cast<const char*>(token.data()), token.size()));
}

} // namespace

TEST_CASE("a token is the HMAC-SHA256 of the player id and matches only that player") {
  const net::Secret secret{"0123456789abcdef-not-a-real-one"};
  const net::Token token = net::make_token(secret, 42);
  // openssl: printf '\x2a\0\0\0\0\0\0\0' | openssl dgst -sha256 -hmac
  // 0123456789abcdef-not-a-real-one
  CHECK(hex(token) == "2869298f4366145ff504ef6abffc8eb7899982d1a7d5dd9985312f36c8171e96");
  CHECK(net::token_matches(secret, 42, token));
  CHECK_FALSE(net::token_matches(secret, 43, token));
  CHECK_FALSE(net::token_matches(net::Secret{"another secret of some length"}, 42, token));
  net::Token flipped = token;
  flipped[31] ^= 1;
  CHECK_FALSE(net::token_matches(secret, 42, flipped));
  CHECK_FALSE(net::token_matches(secret, 42, std::span(token).first(31)));
}

TEST_CASE("a secret file is read trimmed, and a short or missing one is refused by name") {
  TempDir dir;
  const auto path = dir / "secret";
  std::ofstream(path) << "  a-secret-of-twenty-bytes\n";
  auto secret = net::read_secret(path);
  REQUIRE_OK(secret);
  CHECK(secret->bytes == "a-secret-of-twenty-bytes");

  std::ofstream(path, std::ios::trunc) << "short\n";
  auto shorter = net::read_secret(path);
  CHECK(error_code(shorter) == Errc::invalid_argument);
  CHECK(error_message(shorter).find("at least 16") != std::string::npos);

  auto missing = net::read_secret(dir / "nope");
  CHECK(error_code(missing) == Errc::not_found);
  CHECK(error_message(missing).find("nope") != std::string::npos);
}

} // namespace worldlog::test

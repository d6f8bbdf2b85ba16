#include <worldlog/net/token.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <worldlog/log/types.hpp>

namespace worldlog::net {

Result<Secret> read_secret(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    return make_error(Errc::not_found, "secret file {} does not exist or is not a file",
                      file.string());
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(Errc::io_error, "cannot read secret file {}", file.string());
  const auto first = bytes.find_first_not_of(" \t\r\n");
  const auto last = bytes.find_last_not_of(" \t\r\n");
  bytes = first == std::string::npos ? std::string() : bytes.substr(first, last - first + 1);
  if (bytes.size() < 16) {
    return make_error(Errc::invalid_argument,
                      "secret file {} holds {} bytes; a secret needs at least 16", file.string(),
                      bytes.size());
  }
  return Secret{std::move(bytes)};
}

Token make_token(const Secret& secret, std::uint64_t player) {
  std::array<std::uint8_t, 8> message{};
  for (auto& byte : message) {
    byte = static_cast<std::uint8_t>(player & 0xff);
    player >>= 8;
  }
  Token token{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.bytes.data(), static_cast<int>(secret.bytes.size()), message.data(),
       message.size(), token.data(), &size);
  return token;
}

bool token_matches(const Secret& secret, std::uint64_t player,
                   std::span<const std::uint8_t> token) {
  if (token.size() != Token{}.size()) return false;
  const Token expected = make_token(secret, player);
  return CRYPTO_memcmp(expected.data(), token.data(), expected.size()) == 0;
}

std::string viewer_token(const Secret& secret) {
  constexpr std::string_view label = "worldlog viewer token";
  Token token{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.bytes.data(), static_cast<int>(secret.bytes.size()),
       reinterpret_cast<const unsigned char*>(label.data()), label.size(), token.data(), &size);
  return log::to_hex(std::string_view(reinterpret_cast<const char*>(token.data()), token.size()));
}

std::string random_viewer_token() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
  return log::to_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

} // namespace worldlog::net

// Framing: whole frames out of a byte stream however it is cut, and a length above the limit
// refused before its bytes are buffered.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <worldlog/net/frame.hpp>

#include "support/log_helpers.hpp"

namespace worldlog::test {
namespace {

std::vector<std::string> drain(net::FrameDecoder& decoder) {
  std::vector<std::string> frames;
  for (;;) {
    auto next = decoder.next();
    REQUIRE_OK(next);
    if (!next->has_value()) return frames;
    frames.emplace_back(**next);
  }
}

} // namespace

TEST_CASE("frames come out whole however the stream is cut") {
  const std::vector<std::string> sent = {"", "a", std::string(300, 'x'), "hello world"};
  std::string stream;
  for (const auto& payload : sent)
    stream += net::frame(payload);
  CHECK(stream.size() == 4 * 4 + 0 + 1 + 300 + 11);
  CHECK(stream.substr(0, 4) == std::string("\0\0\0\0", 4));
  CHECK(stream.substr(9, 4) == std::string("\x2c\x01\0\0", 4)); // 300, little-endian

  for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, stream.size()}) {
    CAPTURE(chunk);
    net::FrameDecoder decoder(1024);
    std::vector<std::string> received;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      decoder.feed(std::string_view(stream).substr(at, chunk));
      for (auto& frame : drain(decoder))
        received.push_back(std::move(frame));
    }
    CHECK(received == sent);
    CHECK(decoder.pending() == 0);
  }
}

TEST_CASE("a truncated frame stays pending and yields nothing") {
  net::FrameDecoder decoder(1024);
  const std::string whole = net::frame("truncated");
  decoder.feed(std::string_view(whole).substr(0, whole.size() - 1));
  CHECK(drain(decoder).empty());
  CHECK(decoder.pending() == whole.size() - 1);
}

TEST_CASE("a length above the limit is refused from its prefix alone") {
  net::FrameDecoder decoder(1024);
  decoder.feed(std::string("\x01\x04\0\0", 4)); // 1025, and not one byte of it sent
  auto next = decoder.next();
  CHECK(error_code(next) == Errc::invalid_argument);
  CHECK(error_message(next).find("1025 bytes exceeds the limit of 1024") != std::string::npos);

  net::FrameDecoder huge(1024);
  huge.feed(std::string("\xff\xff\xff\xff", 4));
  CHECK(error_code(huge.next()) == Errc::invalid_argument);

  net::FrameDecoder exact(1024);
  exact.feed(net::frame(std::string(1024, 'y')));
  auto whole = exact.next();
  REQUIRE_OK(whole);
  CHECK((*whole)->size() == 1024);
}

} // namespace worldlog::test

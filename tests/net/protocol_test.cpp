// The wire protocol's messages: every one survives encode and decode, and a frame that is not
// a message this build reads is a ProtocolError with the code the server answers it with.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include <worldlog/net/protocol.hpp>
#include <worldlog/schema/protocol_generated.h>

namespace worldlog::test {
namespace {

net::Message round_trip(const net::Message& message) {
  // Off by one byte, as a frame sits behind its length prefix in a connection's buffer.
  const std::string payload = " " + net::encode(message);
  auto decoded = net::decode(std::string_view(payload).substr(1));
  REQUIRE(std::holds_alternative<net::Message>(decoded));
  return std::get<net::Message>(std::move(decoded));
}

net::ProtocolError refused(std::string_view payload) {
  auto decoded = net::decode(payload);
  REQUIRE(std::holds_alternative<net::ProtocolError>(decoded));
  return std::get<net::ProtocolError>(std::move(decoded));
}

} // namespace

TEST_CASE("every message survives encode and decode") {
  const net::Message messages[] = {
      net::Hello{42, {1, 2, 3, 250}, 1},
      net::Command{7, std::string("\0game\xff", 6)},
      net::Welcome{42, 3, 1, 65536, 50, 7, 4},
      net::CommandResult{7, true, 3, {10, 11, 12}, 0, ""},
      net::CommandResult{8, false, 3, {}, 4, "a teleport: 9000 mm in one tick", false},
      net::CommandResult{9, true, 3, {7}, 0, "", true},
      net::Events{{{3, 10, 1, 99, 3, "abc"}, {3, 11, 2, 5, 9, std::string(1000, 'z')}}},
      net::Error{net::ErrorCode::rate_limited, "more than 50 commands/s", false, 9},
  };
  for (const auto& message : messages) {
    CAPTURE(message.index());
    CHECK(round_trip(message) == message);
  }
}

TEST_CASE("a frame that is not a worldlog message is refused with the code to answer it") {
  CHECK(refused("").code == net::ErrorCode::malformed_frame);
  CHECK(refused("1234567").code == net::ErrorCode::malformed_frame);
  CHECK(refused("garbage!").code == net::ErrorCode::wrong_identifier);

  std::string other = net::encode(net::Hello{1, {}, 1});
  other[4] = 'X'; // the file identifier sits behind the root offset
  CHECK(refused(other).code == net::ErrorCode::wrong_identifier);

  // The identifier is right but the root offset points past the end.
  std::string broken = net::encode(net::Hello{1, {}, 1});
  broken[0] = static_cast<char>(0xf0);
  const auto error = refused(broken);
  CHECK(error.code == net::ErrorCode::malformed_frame);
  CHECK(error.text.find("verifier") != std::string::npos);

  // Cut short: a prefix of a valid message is refused, or (when all it lost is the padding at
  // the end) read as the whole message; none is misread.
  const net::Message sent = net::Events{{{3, 10, 1, 99, 3, "abc"}}};
  const std::string whole = net::encode(sent);
  std::size_t refusals = 0;
  for (std::size_t size = 0; size < whole.size(); ++size) {
    CAPTURE(size);
    const auto decoded = net::decode(whole.substr(0, size));
    if (std::holds_alternative<net::ProtocolError>(decoded)) {
      ++refusals;
    } else {
      CHECK(std::get<net::Message>(decoded) == sent);
    }
  }
  CHECK(refusals + 4 >= whole.size());
}

TEST_CASE("a body type without its body is malformed (found by fuzz_frame)") {
  flatbuffers::FlatBufferBuilder builder;
  net::schema::MessageBuilder message(builder);
  message.add_body_type(net::schema::Body::Command);
  net::schema::FinishMessageBuffer(builder, message.Finish());
  const std::string payload(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                            builder.GetSize());
  const auto refusal = refused(payload);
  CHECK(refusal.code == net::ErrorCode::malformed_frame);
  CHECK(refusal.text == "a message without a body");
}

TEST_CASE("a body type this build does not know is unknown_message") {
  flatbuffers::FlatBufferBuilder builder;
  const auto error = net::schema::CreateError(builder);
  net::schema::FinishMessageBuffer(
      builder,
      net::schema::CreateMessage(builder, static_cast<net::schema::Body>(99), error.Union()));
  const std::string payload(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                            builder.GetSize());
  const auto refusal = refused(payload);
  CHECK(refusal.code == net::ErrorCode::unknown_message);
  CHECK(refusal.text.find("99") != std::string::npos);
  CHECK(net::error_code_name(net::ErrorCode::duplicate_client_id) == "duplicate_client_id");
  CHECK(net::error_code_name(static_cast<net::ErrorCode>(999)) == "unknown");
}

TEST_CASE("a vector of 8-byte values at a 4-byte boundary is read (found by fuzz_frame)") {
  // The verifier checks only that a vector's length is 4-aligned. Move the seqs of a
  // CommandResult to the end of the buffer so that its elements start at 4 mod 8: reading them
  // in place would be a misaligned load (UBSan stops the sanitizer build on it).
  std::string payload = net::encode(net::CommandResult{7, true, 1, {41}, 0, {}, false});
  REQUIRE(payload.size() % 8 == 0);
  const auto* data = reinterpret_cast<const std::uint8_t*>(payload.data());
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(
      net::schema::GetMessage(data)->body_as_CommandResult());
  const auto field =
      static_cast<std::size_t>(reinterpret_cast<const std::uint8_t*>(table) - data +
                               table->GetOptionalFieldOffset(net::schema::CommandResult::VT_SEQS));
  const auto moved = static_cast<std::uint32_t>(payload.size());
  const std::uint32_t offset = moved - static_cast<std::uint32_t>(field);
  const std::uint32_t count = 1;
  const std::uint64_t seq = 0x0102030405060708;
  payload.replace(field, sizeof offset, reinterpret_cast<const char*>(&offset), sizeof offset);
  payload.append(reinterpret_cast<const char*>(&count), sizeof count);
  payload.append(reinterpret_cast<const char*>(&seq), sizeof seq);

  const auto decoded = net::decode(payload);
  REQUIRE(std::holds_alternative<net::Message>(decoded));
  const auto& result = std::get<net::CommandResult>(std::get<net::Message>(decoded));
  CHECK(result.seqs == std::vector<std::uint64_t>{seq});
  CHECK(result.client_id == 7);
}

} // namespace worldlog::test

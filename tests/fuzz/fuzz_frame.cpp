// Everything a client's bytes go through before the server acts on them: the frame decoder,
// the protocol decoder and, inside a Command, the game's command decoder.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include <worldlog/game/model.hpp>
#include <worldlog/net/frame.hpp>
#include <worldlog/net/protocol.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  worldlog::net::FrameDecoder decoder(64 * 1024);
  // Fed in uneven pieces, as a socket would deliver them.
  for (std::size_t at = 0, piece = 1; at < bytes.size(); at += piece, piece = piece * 2 + 1) {
    decoder.feed(bytes.substr(at, piece));
    for (;;) {
      auto frame = decoder.next();
      if (!frame.ok()) return 0; // the server closes the connection here
      if (!frame->has_value()) break;
      const auto decoded = worldlog::net::decode(**frame);
      if (const auto* message = std::get_if<worldlog::net::Message>(&decoded)) {
        if (const auto* command = std::get_if<worldlog::net::Command>(message)) {
          (void)worldlog::game::Model::decode_command(command->command);
        }
      }
    }
  }
  return 0;
}

// Everything a stored record goes through when it is read back: the envelope and hash checks,
// the envelope's accessors, and the zone's decoding of its payload (genesis, rejection or the
// game's event).
#include <cstddef>
#include <cstdint>
#include <string>

#include <worldlog/game/model.hpp>
#include <worldlog/log/event.hpp>
#include <worldlog/zone/fold.hpp>

#include "log/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace log = worldlog::log;
  // The log hands out heap copies (8-byte aligned); so does this.
  const std::string record(reinterpret_cast<const char*>(data), size);
  const log::StreamId stream = 1;
  for (const log::Seq seq : {log::Seq{1}, log::Seq{2}}) {
    if (!log::format::verify_record(record, stream, seq, log::RecordCheck::envelope).ok()) continue;
    const log::EventView event(record);
    (void)event.check_hash();
    (void)event.position();
    (void)event.actor();
    (void)event.prev_hash();
    (void)worldlog::zone::decode_stream_event<worldlog::game::Model>(event);
  }
  return 0;
}

#include "log/format.hpp"

#include <memory>
#include <optional>

#include <flatbuffers/flatbuffers.h>
#include <openssl/evp.h>

#include <worldlog/schema/envelope_generated.h>

namespace worldlog::log::format {
namespace {

// OpenSSL 3 looks the algorithm up on every one-shot call; fetch it once and keep one digest
// context per thread instead.
const EVP_MD* sha256_md() noexcept {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct DigestContext {
  DigestContext() : ctx(EVP_MD_CTX_new()) {}
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
  DigestContext(const DigestContext&) = delete;
  DigestContext& operator=(const DigestContext&) = delete;
  EVP_MD_CTX* ctx;
};

const std::uint8_t* envelope_bytes(std::string_view record) noexcept {
  return reinterpret_cast<const std::uint8_t*>(record.data() + hash_size);
}

} // namespace
} // namespace worldlog::log::format

namespace worldlog::log {

Hash sha256(std::string_view bytes) noexcept {
  thread_local format::DigestContext context;
  Hash hash{};
  unsigned int size = 0;
  EVP_DigestInit_ex(context.ctx, format::sha256_md(), nullptr);
  EVP_DigestUpdate(context.ctx, bytes.data(), bytes.size());
  EVP_DigestFinal_ex(context.ctx, hash.data(), &size);
  return hash;
}

} // namespace worldlog::log

namespace worldlog::log::format {

std::string hash_prefixed(std::string_view bytes) {
  const Hash hash = sha256(bytes);
  std::string value(reinterpret_cast<const char*>(hash.data()), hash.size());
  value.append(bytes);
  return value;
}

bool hash_prefix_matches(std::string_view value) noexcept {
  if (value.size() < hash_size) return false;
  const Hash hash = sha256(value.substr(hash_size));
  return std::memcmp(hash.data(), value.data(), hash_size) == 0;
}

namespace {

// ---- envelope format 1: a FlatBuffer (schemas/envelope.fbs) ----------------------------------

const schema::Event* v1_envelope(std::string_view record) noexcept {
  return schema::GetEvent(envelope_bytes(record));
}

bool is_v1(std::string_view record) noexcept {
  return record.size() >= hash_size + 8 &&
         flatbuffers::BufferHasIdentifier(envelope_bytes(record), schema::EventIdentifier());
}

std::string encode_v1(StreamId stream, const NewEvent& event) {
  thread_local flatbuffers::FlatBufferBuilder builder(256 + event.payload.size());
  builder.Clear();
  // Seq, position and prev_hash are patched in place at commit, so they must be present.
  builder.ForceDefaults(true);
  const auto payload = builder.CreateVector(
      reinterpret_cast<const std::uint8_t*>(event.payload.data()), event.payload.size());
  const schema::Actor actor(static_cast<schema::ActorKind>(event.actor.kind), event.actor.id);
  const schema::Hash256 zero_hash;
  schema::EventBuilder envelope(builder);
  envelope.add_stream(stream);
  envelope.add_seq(0);
  envelope.add_position(0);
  envelope.add_tick(event.tick);
  envelope.add_wall_time_us(event.wall_time_us);
  envelope.add_actor(&actor);
  envelope.add_command_id(event.command_id);
  envelope.add_causation(event.causation);
  envelope.add_rules_version(event.rules_version);
  envelope.add_schema_version(envelope_v1);
  envelope.add_prev_hash(&zero_hash);
  envelope.add_payload_type(event.payload_type);
  envelope.add_payload(payload);
  schema::FinishEventBuffer(builder, envelope.Finish());

  std::string record(hash_size + builder.GetSize(), '\0');
  std::memcpy(record.data() + hash_size, builder.GetBufferPointer(), builder.GetSize());
  return record;
}

void seal_v1(std::string& record, Seq seq, Position position, std::int64_t wall_time_us,
             const Hash& prev_hash) noexcept {
  auto* envelope = schema::GetMutableEvent(record.data() + hash_size);
  envelope->mutate_seq(seq);
  envelope->mutate_position(position);
  envelope->mutate_wall_time_us(wall_time_us);
  auto* prev = envelope->mutable_prev_hash()->mutable_bytes();
  for (std::size_t i = 0; i < hash_size; ++i)
    prev->Mutate(i, prev_hash[i]);
}

Status verify_v1(std::string_view record, StreamId stream, Seq seq) {
  flatbuffers::Verifier verifier(envelope_bytes(record), record.size() - hash_size);
  if (!schema::VerifyEventBuffer(verifier)) {
    return make_error(Errc::corruption, "stream {} seq {}: envelope fails the FlatBuffers verifier",
                      stream, seq);
  }
  const auto* event = v1_envelope(record);
  if (event->prev_hash() == nullptr || event->actor() == nullptr) {
    return make_error(Errc::corruption, "stream {} seq {}: envelope lacks required fields", stream,
                      seq);
  }
  return {};
}

RecordFields parse_v1(std::string_view record) noexcept {
  const auto* event = v1_envelope(record);
  RecordFields fields;
  fields.stream = event->stream();
  fields.seq = event->seq();
  fields.position = event->position();
  fields.tick = event->tick();
  fields.wall_time_us = event->wall_time_us();
  fields.actor = {static_cast<ActorKind>(event->actor()->kind()), event->actor()->id()};
  fields.command_id = event->command_id();
  fields.causation = event->causation();
  fields.rules_version = event->rules_version();
  fields.payload_type = event->payload_type();
  fields.envelope = event->schema_version();
  const auto offset_of = [&record](const void* at) {
    return static_cast<std::uint32_t>(static_cast<const char*>(at) - record.data());
  };
  fields.prev_hash_offset = offset_of(event->prev_hash()->bytes()->data());
  if (const auto* payload = event->payload(); payload != nullptr) {
    fields.payload_offset = offset_of(payload->data());
    fields.payload_size = payload->size();
  } else {
    fields.payload_offset = static_cast<std::uint32_t>(record.size());
  }
  return fields;
}

// ---- envelope formats 2 and 3 (format.hpp) ---------------------------------------------------

constexpr std::string_view v2_magic = "WLE2";
constexpr std::string_view v3_magic = "WLE3";
constexpr std::size_t v2_payload_type_at = hash_size + 4;
constexpr std::size_t v2_prev_hash_at = hash_size + 8;
constexpr std::size_t v2_seq_at = v2_prev_hash_at + hash_size;
constexpr std::size_t v2_position_at = v2_seq_at + 8;
constexpr std::size_t v2_wall_time_at = v2_position_at + 8;
constexpr std::size_t v2_varints_at = v2_wall_time_at + 8;
/// The longest LEB128 encoding of a u64.
constexpr std::size_t max_varint = 10;

/// The envelope format of a record of format 2 or 3, else 0: the two share their fixed part.
std::uint16_t fixed_envelope(std::string_view record) noexcept {
  if (record.size() < v2_varints_at) return 0;
  const std::string_view magic = record.substr(hash_size, 4);
  if (magic == v3_magic) return envelope_v3;
  if (magic == v2_magic) return envelope_v2;
  return 0;
}

void put_le(char* out, std::uint64_t value, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i, value >>= 8)
    out[i] = static_cast<char>(value & 0xff);
}

[[nodiscard]] std::uint64_t get_le(const char* in, std::size_t bytes) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = bytes; i-- > 0;)
    value = (value << 8) | static_cast<std::uint8_t>(in[i]);
  return value;
}

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

/// Reads LEB128 varints from a record, refusing to run past its end, overlong encodings and
/// values past 64 bits: a record has one encoding of its fields, so its hash has one meaning.
class VarintReader {
public:
  VarintReader(std::string_view record, std::size_t at) noexcept : record_(record), at_(at) {}

  [[nodiscard]] bool next(std::uint64_t& value) noexcept {
    value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (at_ >= record_.size()) return false;
      const auto byte = static_cast<std::uint8_t>(record_[at_++]);
      if (shift == 63 && byte > 1) return false;
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return byte != 0 || shift == 0;
    }
    return false;
  }
  [[nodiscard]] std::size_t at() const noexcept { return at_; }

private:
  std::string_view record_;
  std::size_t at_;
};

[[nodiscard]] std::size_t align8(std::size_t offset) noexcept {
  return (offset + 7) & ~std::size_t{7};
}

/// Encodes a record of format 2 (`event.envelope` 2) or 3 (0 or 3); format 2 has neither the
/// payload version nor the command.
std::string encode_fixed(StreamId stream, const NewEvent& event) {
  const bool v3 = event.envelope != envelope_v2;
  std::string record;
  record.reserve(v2_varints_at + 9 * max_varint + 8 + event.payload.size() + event.command.size());
  record.resize(v2_varints_at, '\0');
  std::memcpy(record.data() + hash_size, (v3 ? v3_magic : v2_magic).data(), v2_magic.size());
  put_le(record.data() + v2_payload_type_at, event.payload_type, 4);
  put_le(record.data() + v2_wall_time_at, static_cast<std::uint64_t>(event.wall_time_us), 8);
  put_varint(record, stream);
  put_varint(record, event.tick);
  put_varint(record, static_cast<std::uint64_t>(event.actor.kind));
  put_varint(record, event.actor.id);
  put_varint(record, event.command_id);
  put_varint(record, event.causation);
  put_varint(record, event.rules_version);
  put_varint(record, event.epoch);
  if (v3) put_varint(record, event.payload_version);
  put_varint(record, event.payload.size());
  if (v3) put_varint(record, event.command.size());
  record.resize(align8(record.size()), '\0');
  record.append(event.payload);
  if (v3) record.append(event.command);
  return record;
}

/// The fields of a format 2 or 3 record, or nullopt if its bytes do not parse as one exactly.
std::optional<RecordFields> read_fixed(std::string_view record, std::uint16_t envelope) noexcept {
  const bool v3 = envelope == envelope_v3;
  RecordFields fields;
  fields.envelope = envelope;
  fields.payload_type = static_cast<std::uint32_t>(get_le(record.data() + v2_payload_type_at, 4));
  fields.prev_hash_offset = v2_prev_hash_at;
  fields.seq = get_le(record.data() + v2_seq_at, 8);
  fields.position = get_le(record.data() + v2_position_at, 8);
  fields.wall_time_us = static_cast<std::int64_t>(get_le(record.data() + v2_wall_time_at, 8));
  VarintReader varints(record, v2_varints_at);
  std::uint64_t kind = 0;
  std::uint64_t rules_version = 0;
  std::uint64_t payload_version = 1;
  std::uint64_t payload_size = 0;
  std::uint64_t command_size = 0;
  if (!varints.next(fields.stream) || !varints.next(fields.tick) || !varints.next(kind) ||
      !varints.next(fields.actor.id) || !varints.next(fields.command_id) ||
      !varints.next(fields.causation) || !varints.next(rules_version) ||
      !varints.next(fields.epoch) || (v3 && !varints.next(payload_version)) ||
      !varints.next(payload_size) || (v3 && !varints.next(command_size))) {
    return std::nullopt;
  }
  if (kind > 0xff || rules_version > 0xffffffff || payload_version == 0 ||
      payload_version > 0xffff) {
    return std::nullopt;
  }
  fields.actor.kind = static_cast<ActorKind>(kind);
  fields.rules_version = static_cast<std::uint32_t>(rules_version);
  fields.payload_version = static_cast<std::uint16_t>(payload_version);
  const std::size_t payload_at = align8(varints.at());
  if (payload_at > record.size() || payload_size > record.size() - payload_at ||
      record.size() - payload_at - payload_size != command_size) {
    return std::nullopt;
  }
  for (std::size_t i = varints.at(); i < payload_at; ++i) {
    if (record[i] != '\0') return std::nullopt;
  }
  fields.payload_offset = static_cast<std::uint32_t>(payload_at);
  fields.payload_size = static_cast<std::uint32_t>(payload_size);
  fields.command_size = static_cast<std::uint32_t>(command_size);
  return fields;
}

} // namespace

std::string encode(StreamId stream, const NewEvent& event) {
  return event.envelope == envelope_v1 ? encode_v1(stream, event) : encode_fixed(stream, event);
}

Hash seal(std::string& record, Seq seq, Position position, std::int64_t wall_time_us,
          const Hash& prev_hash) noexcept {
  if (fixed_envelope(record) != 0) {
    std::memcpy(record.data() + v2_prev_hash_at, prev_hash.data(), hash_size);
    put_le(record.data() + v2_seq_at, seq, 8);
    put_le(record.data() + v2_position_at, position, 8);
    put_le(record.data() + v2_wall_time_at, static_cast<std::uint64_t>(wall_time_us), 8);
  } else {
    seal_v1(record, seq, position, wall_time_us, prev_hash);
  }
  const Hash hash = sha256(std::string_view(record).substr(hash_size));
  std::memcpy(record.data(), hash.data(), hash_size);
  return hash;
}

std::int64_t wall_time_of(std::string_view record) noexcept {
  if (fixed_envelope(record) != 0) {
    return static_cast<std::int64_t>(get_le(record.data() + v2_wall_time_at, 8));
  }
  return v1_envelope(record)->wall_time_us();
}

RecordFields parse(std::string_view record) noexcept {
  if (const auto envelope = fixed_envelope(record); envelope != 0) {
    return read_fixed(record, envelope).value_or(RecordFields{});
  }
  if (is_v1(record)) return parse_v1(record);
  return {}; // not a record (an empty placeholder Event, say): every field zero, no payload
}

Result<RecordFields> check_record(std::string_view record, StreamId stream, Seq seq,
                                  RecordCheck check) {
  if (record.size() <= hash_size) {
    return make_error(Errc::corruption, "stream {} seq {}: record of {} bytes is truncated", stream,
                      seq, record.size());
  }
  RecordFields fields;
  if (const auto envelope = fixed_envelope(record); envelope != 0) {
    auto read = read_fixed(record, envelope);
    if (!read) {
      return make_error(Errc::corruption, "stream {} seq {}: malformed envelope (format {})",
                        stream, seq, envelope);
    }
    fields = *read;
  } else if (is_v1(record)) {
    if (auto valid = verify_v1(record, stream, seq); !valid.ok()) return std::move(valid).error();
    fields = parse_v1(record);
  } else {
    return make_error(Errc::corruption, "stream {} seq {}: not an envelope of format 1, 2 or 3",
                      stream, seq);
  }
  if (check == RecordCheck::hash && !hash_prefix_matches(record)) {
    return hash_mismatch(record, stream, seq);
  }
  if (fields.stream != stream || fields.seq != seq) {
    return make_error(Errc::corruption, "stream {} seq {}: record claims stream {} seq {}", stream,
                      seq, fields.stream, fields.seq);
  }
  return fields;
}

Status verify_record(std::string_view record, StreamId stream, Seq seq, RecordCheck check) {
  auto checked = check_record(record, stream, seq, check);
  if (!checked.ok()) return std::move(checked).error();
  return {};
}

Error hash_mismatch(std::string_view record, StreamId stream, Seq seq) {
  return make_error(Errc::corruption, "stream {} seq {}: hash mismatch (stored {}, computed {})",
                    stream, seq, to_hex(record.substr(0, hash_size)),
                    to_hex(sha256(record.substr(hash_size))));
}

} // namespace worldlog::log::format

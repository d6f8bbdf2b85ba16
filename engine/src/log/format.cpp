#include "log/format.hpp"

#include <memory>

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

std::string encode(StreamId stream, const NewEvent& event) {
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
  envelope.add_schema_version(schema_version);
  envelope.add_prev_hash(&zero_hash);
  envelope.add_payload_type(event.payload_type);
  envelope.add_payload(payload);
  schema::FinishEventBuffer(builder, envelope.Finish());

  std::string record(hash_size + builder.GetSize(), '\0');
  std::memcpy(record.data() + hash_size, builder.GetBufferPointer(), builder.GetSize());
  return record;
}

Hash seal(std::string& record, Seq seq, Position position, std::int64_t wall_time_us,
          const Hash& prev_hash) noexcept {
  auto* envelope = schema::GetMutableEvent(record.data() + hash_size);
  envelope->mutate_seq(seq);
  envelope->mutate_position(position);
  envelope->mutate_wall_time_us(wall_time_us);
  auto* prev = envelope->mutable_prev_hash()->mutable_bytes();
  for (std::size_t i = 0; i < hash_size; ++i)
    prev->Mutate(i, prev_hash[i]);
  const Hash hash = sha256(std::string_view(record).substr(hash_size));
  std::memcpy(record.data(), hash.data(), hash_size);
  return hash;
}

std::int64_t wall_time_of(std::string_view record) noexcept {
  return schema::GetEvent(envelope_bytes(record))->wall_time_us();
}

Status verify_record(std::string_view record, StreamId stream, Seq seq, RecordCheck check) {
  if (record.size() <= hash_size) {
    return make_error(Errc::corruption, "stream {} seq {}: record of {} bytes is truncated", stream,
                      seq, record.size());
  }
  const std::string_view envelope = record.substr(hash_size);
  flatbuffers::Verifier verifier(envelope_bytes(record), envelope.size());
  if (!schema::VerifyEventBuffer(verifier)) {
    return make_error(Errc::corruption, "stream {} seq {}: envelope fails the FlatBuffers verifier",
                      stream, seq);
  }
  if (check == RecordCheck::hash && !hash_prefix_matches(record)) {
    return hash_mismatch(record, stream, seq);
  }
  const auto* event = schema::GetEvent(envelope_bytes(record));
  if (event->stream() != stream || event->seq() != seq) {
    return make_error(Errc::corruption, "stream {} seq {}: record claims stream {} seq {}", stream,
                      seq, event->stream(), event->seq());
  }
  if (event->prev_hash() == nullptr || event->actor() == nullptr) {
    return make_error(Errc::corruption, "stream {} seq {}: envelope lacks required fields", stream,
                      seq);
  }
  return {};
}

Error hash_mismatch(std::string_view record, StreamId stream, Seq seq) {
  return make_error(Errc::corruption, "stream {} seq {}: hash mismatch (stored {}, computed {})",
                    stream, seq, to_hex(record.substr(0, hash_size)),
                    to_hex(sha256(record.substr(hash_size))));
}

} // namespace worldlog::log::format

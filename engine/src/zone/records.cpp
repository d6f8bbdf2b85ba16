#include <worldlog/zone/records.hpp>

#include <cstring>

#include <flatbuffers/flatbuffers.h>

#include <worldlog/flatbuffers.hpp>
#include <worldlog/schema/zone_generated.h>

namespace worldlog::zone {
namespace {

namespace fbs = worldlog::zone::schema;

std::string finished_bytes(const flatbuffers::FlatBufferBuilder& builder) {
  return {reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()};
}

std::string_view as_view(const flatbuffers::String* text) {
  return text ? std::string_view(text->data(), text->size()) : std::string_view();
}

std::string_view as_view(const flatbuffers::Vector<std::uint8_t>* bytes) {
  return bytes ? std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size())
               : std::string_view();
}

flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>>
bytes_of(flatbuffers::FlatBufferBuilder& builder, std::string_view bytes) {
  return builder.CreateVector(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

} // namespace

log::Hash Genesis::config_hash() const {
  // A fixed textual form: the same on every platform, readable in a debugger. The rules join it
  // only when there are any, so a genesis without them hashes as it always did.
  std::string text = fmt::format("{}|{}|{}|{}|{}|{}|{}", model, rules_version, info.zone,
                                 info.zone_count, info.seed, info.tick_us, info.model_config);
  if (!info.rules.empty()) text += fmt::format("|rules:{}", info.rules);
  return log::sha256(text);
}

std::string encode_genesis(const Genesis& genesis) {
  flatbuffers::FlatBufferBuilder builder(256);
  const auto model = builder.CreateString(genesis.model);
  const log::Hash hash = genesis.config_hash();
  const auto config_hash = builder.CreateVector(hash.data(), hash.size());
  const auto model_config = builder.CreateString(genesis.info.model_config);
  flatbuffers::Offset<flatbuffers::String> rules; // absent when empty: the genesis of old
  if (!genesis.info.rules.empty()) rules = builder.CreateString(genesis.info.rules);
  builder.Finish(fbs::CreateZoneGenesis(builder, model, genesis.rules_version, genesis.info.zone,
                                        genesis.info.zone_count, genesis.info.seed,
                                        genesis.info.tick_us, config_hash, model_config, rules));
  return finished_bytes(builder);
}

Result<Genesis> decode_genesis(std::string_view payload) {
  std::string scratch;
  const auto* table = verified_root<fbs::ZoneGenesis>(payload, scratch);
  if (!table) return make_error(Errc::corruption, "zone genesis event fails verification");
  Genesis genesis{std::string(as_view(table->model())),
                  table->rules_version(),
                  {table->zone(), table->zone_count(), table->seed(), table->tick_us(),
                   std::string(as_view(table->model_config())),
                   std::string(as_view(table->rules()))}};
  const log::Hash expected = genesis.config_hash();
  const std::string_view stored = as_view(table->config_hash());
  if (stored.size() != expected.size() ||
      std::memcmp(stored.data(), expected.data(), expected.size()) != 0) {
    return make_error(Errc::corruption, "zone genesis config hash {} does not match its fields",
                      log::to_hex(stored));
  }
  return genesis;
}

std::string encode_command_rejected(const CommandRejected& rejected) {
  flatbuffers::FlatBufferBuilder builder(128 + rejected.reason.size() + rejected.command.size());
  const auto reason = builder.CreateString(rejected.reason);
  const auto name = builder.CreateString(rejected.command_name);
  const auto command = bytes_of(builder, rejected.command);
  builder.Finish(fbs::CreateCommandRejected(builder, rejected.code, reason, name, command));
  return finished_bytes(builder);
}

Result<CommandRejected> decode_command_rejected(std::string_view payload) {
  std::string scratch;
  const auto* table = verified_root<fbs::CommandRejected>(payload, scratch);
  if (!table) return make_error(Errc::corruption, "CommandRejected event fails verification");
  return CommandRejected{table->code(), std::string(as_view(table->reason())),
                         std::string(as_view(table->command_name())),
                         std::string(as_view(table->command()))};
}

std::size_t RecentCommands::KeyHash::operator()(const CommandKey& key) const noexcept {
  std::uint64_t h = key.command_id * 0x9e3779b97f4a7c15ULL;
  h ^= key.actor.id + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
  h ^= static_cast<std::uint64_t>(key.actor.kind) << 56;
  return static_cast<std::size_t>(h);
}

const Outcome* RecentCommands::find(const CommandKey& key) const {
  const auto found = outcomes_.find(key);
  return found == outcomes_.end() ? nullptr : &found->second;
}

void RecentCommands::record(const CommandKey& key, Outcome outcome) {
  if (outcomes_.contains(key)) return;
  if (order_.size() == capacity_) {
    outcomes_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  outcomes_.emplace(key, std::move(outcome));
}

void RecentCommands::record_event(const CommandKey& key, log::Seq seq) {
  const auto found = outcomes_.find(key);
  if (found == outcomes_.end()) {
    record(key, Outcome{.accepted = true, .first_seq = seq, .last_seq = seq});
    return;
  }
  Outcome& outcome = found->second;
  if (outcome.first_seq == 0) outcome.first_seq = seq;
  outcome.last_seq = seq;
}

std::string encode_snapshot(const ZoneSnapshot& snapshot, const RecentCommands& recent) {
  flatbuffers::FlatBufferBuilder builder(1024 + snapshot.state.size() + recent.size() * 64);
  std::vector<flatbuffers::Offset<fbs::RecentCommand>> entries;
  entries.reserve(recent.size());
  recent.for_each([&](const CommandKey& key, const Outcome& outcome) {
    const auto reason = outcome.reason.empty() ? 0 : builder.CreateString(outcome.reason);
    entries.push_back(fbs::CreateRecentCommand(builder, static_cast<std::uint8_t>(key.actor.kind),
                                               key.actor.id, key.command_id, outcome.first_seq,
                                               outcome.last_seq, !outcome.accepted, outcome.code,
                                               flatbuffers::Offset<flatbuffers::String>(reason)));
  });
  const auto recent_offset = builder.CreateVector(entries);
  const auto model = builder.CreateString(snapshot.model);
  const auto hash = builder.CreateVector(snapshot.state_hash.data(), snapshot.state_hash.size());
  const auto state = bytes_of(builder, snapshot.state);
  // Left out when empty, so a model that versions nothing writes the bytes it always wrote.
  flatbuffers::Offset<flatbuffers::Vector<const fbs::EventVersion*>> versions;
  if (!snapshot.event_versions.empty()) {
    std::vector<fbs::EventVersion> declared;
    declared.reserve(snapshot.event_versions.size());
    for (const EventVersion& version : snapshot.event_versions)
      declared.emplace_back(version.payload_type, version.version);
    versions = builder.CreateVectorOfStructs(declared);
  }
  builder.Finish(fbs::CreateZoneSnapshot(builder, model, snapshot.rules_version, snapshot.seq, hash,
                                         state, recent_offset, versions),
                 fbs::ZoneSnapshotIdentifier());
  return finished_bytes(builder);
}

Result<ZoneSnapshot> decode_snapshot(std::string_view bytes, RecentCommands& recent) {
  std::string scratch;
  const auto* table =
      verified_root<fbs::ZoneSnapshot>(bytes, scratch, fbs::ZoneSnapshotIdentifier());
  if (table == nullptr) return make_error(Errc::corruption, "zone snapshot fails verification");
  ZoneSnapshot snapshot{std::string(as_view(table->model())),
                        table->rules_version(),
                        table->seq(),
                        {},
                        std::string(as_view(table->state()))};
  const std::string_view hash = as_view(table->state_hash());
  if (hash.size() != snapshot.state_hash.size()) {
    return make_error(Errc::corruption, "zone snapshot at seq {} has a {}-byte state hash",
                      snapshot.seq, hash.size());
  }
  std::memcpy(snapshot.state_hash.data(), hash.data(), hash.size());
  if (const auto* versions = table->event_versions()) {
    snapshot.event_versions.reserve(versions->size());
    for (const auto* version : *versions)
      snapshot.event_versions.push_back({version->payload_type(), version->version()});
  }
  if (const auto* entries = table->recent()) {
    for (const auto* entry : *entries) {
      recent.record(CommandKey{log::Actor{static_cast<log::ActorKind>(entry->actor_kind()),
                                          entry->actor_id()},
                               entry->command_id()},
                    Outcome{.accepted = !entry->rejected(),
                            .first_seq = entry->first_seq(),
                            .last_seq = entry->last_seq(),
                            .code = entry->code(),
                            .reason = std::string(as_view(entry->reason()))});
    }
  }
  return snapshot;
}

} // namespace worldlog::zone

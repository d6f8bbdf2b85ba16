// Model::snapshot, restore and hash: the state as one canonical FlatBuffer.
//
// Canonical means equal states give equal bytes: every container is an ordered map written in
// key order, and the builder is fed in one fixed order. The map and the respawn index are not
// stored; restore derives them again, so restore(snapshot(s)) == s holds field for field. The
// rules in force are stored (canonical text) only when they are not the built-in version 1.
//
// Only this format is read: an older one is refused (incompatible_format) rather than read with
// what it lacks as zeros, and recovery skips it and folds from an earlier snapshot.
#include <vector>

#include <worldlog/game/model.hpp>

#include "game/codec.hpp"

namespace worldlog::game {
namespace {

using namespace codec;

constexpr const char* snapshot_identifier = "WLGS";
/// Bumped when a snapshot written now could not be read back by the previous code, or the
/// previous code's snapshots would be misread by this one. 2: the item ledger (a format 1
/// snapshot has none, and zero counts would read as items appearing from nowhere). 3: offline
/// characters (format 2 is still read: the code that wrote it had none).
constexpr std::uint32_t snapshot_format = 3;
constexpr std::uint32_t oldest_snapshot_format = 2;

} // namespace

std::string Model::snapshot(const State& state) {
  fb::FlatBufferBuilder b(1024 + 128 * state.players.size());

  std::vector<fb::Offset<schema::Player>> players;
  players.reserve(state.players.size());
  for (const auto& [id, player] : state.players)
    players.push_back(write_player(b, player));
  const auto players_vector = b.CreateVector(players);

  std::vector<fb::Offset<schema::Player>> offline;
  offline.reserve(state.offline.size());
  for (const auto& [id, player] : state.offline)
    offline.push_back(write_player(b, player));
  const auto offline_vector = b.CreateVector(offline);

  std::vector<fb::Offset<schema::Mob>> mobs;
  for (const auto& [id, mob] : state.mobs) {
    const auto at = to_schema(mob.at);
    mobs.push_back(schema::CreateMob(b, mob.id, static_cast<std::uint8_t>(mob.kind), mob.spawn, &at,
                                     mob.hp, mob.dead, mob.respawn_tick, mob.next_attack_tick));
  }
  const auto mobs_vector = b.CreateVector(mobs);

  std::vector<fb::Offset<schema::GroundItem>> items;
  for (const auto& [id, item] : state.items) {
    const auto at = to_schema(item.at);
    items.push_back(schema::CreateGroundItem(b, item.id, static_cast<std::uint8_t>(item.kind), &at,
                                             item.dropped_tick));
  }
  const auto items_vector = b.CreateVector(items);

  std::vector<fb::Offset<schema::Departed>> departing;
  for (const auto& [key, departure] : state.departing)
    departing.push_back(schema::CreateDeparted(b, write_player(b, departure.player), departure.to,
                                               departure.epoch));
  const auto departing_vector = b.CreateVector(departing);

  std::vector<schema::EntityEpoch> epochs;
  epochs.reserve(state.epochs.size());
  for (const auto& [entity, epoch] : state.epochs)
    epochs.emplace_back(entity, epoch);
  const auto epochs_vector = b.CreateVectorOfStructs(epochs);

  const ItemLedger& ledger = state.item_ledger;
  const schema::ItemLedger item_ledger(ledger.created, ledger.used, ledger.expired,
                                       ledger.carried_in, ledger.carried_out);

  // The built-in rules are not written, so a state under them has the bytes (and the hash)
  // it had before rules were data.
  fb::Offset<fb::String> rules;
  if (*state.rules != default_rules) rules = b.CreateString(canonical_rules(*state.rules));

  const zone::ZoneInfo& info = state.info;
  b.Finish(schema::CreateState(b, snapshot_format, info.zone, info.zone_count, info.seed,
                               info.tick_us, state.next_item_id, players_vector, mobs_vector,
                               items_vector, departing_vector, epochs_vector, &item_ledger,
                               offline_vector, rules),
           snapshot_identifier);
  return bytes_of(b);
}

Result<State> Model::restore(std::string_view bytes) {
  std::string scratch;
  const auto* table = verified_root<schema::State>(bytes, scratch, snapshot_identifier);
  if (table == nullptr)
    return make_error(Errc::corruption, "game snapshot ({} bytes) fails verification",
                      bytes.size());
  if (table->format_version() > snapshot_format)
    return make_error(Errc::incompatible_format,
                      "game snapshot format {} is newer than this code's {}",
                      table->format_version(), snapshot_format);
  if (table->format_version() < oldest_snapshot_format)
    return make_error(Errc::incompatible_format,
                      "game snapshot format {} predates format {}: it keeps no item ledger",
                      table->format_version(), oldest_snapshot_format);
  const schema::ItemLedger* ledger = table->item_ledger();
  if (ledger == nullptr)
    return make_error(Errc::corruption, "game snapshot (format {}) has no item ledger",
                      table->format_version());

  const std::string rules_text = table->rules() == nullptr ? std::string() : table->rules()->str();
  if (!rules_text.empty() && !parse_rules(rules_text).ok())
    return make_error(Errc::corruption, "game snapshot holds rules that do not parse: {}",
                      parse_rules(rules_text).error().message());
  State state = initial_state({.zone = table->zone(),
                               .zone_count = table->zone_count(),
                               .seed = table->seed(),
                               .tick_us = table->tick_us(),
                               .rules = rules_text});
  state.next_item_id = table->next_item_id();
  state.item_ledger = {ledger->created(), ledger->used(), ledger->expired(), ledger->carried_in(),
                       ledger->carried_out()};
  Reader reader;
  if (const auto* players = table->players())
    for (const auto* stored : *players) {
      Player player = reader.player(stored);
      if (player.dead) state.respawns.insert({player.respawn_tick, player.id});
      state.players.insert_or_assign(player.id, std::move(player));
    }
  if (const auto* offline = table->offline())
    for (const auto* stored : *offline) {
      Player player = reader.player(stored);
      state.offline.insert_or_assign(player.id, std::move(player));
    }
  if (const auto* mobs = table->mobs())
    for (const auto* stored : *mobs) {
      const Mob mob{stored->id(),           reader.mob_kind(stored->kind()),
                    stored->spawn(),        from_schema(stored->at()),
                    stored->hp(),           stored->dead(),
                    stored->respawn_tick(), stored->next_attack_tick()};
      state.mobs.insert_or_assign(mob.id, mob);
    }
  if (const auto* items = table->items())
    for (const auto* stored : *items) {
      const GroundItem item{stored->id(), reader.item_kind(stored->kind()),
                            from_schema(stored->at()), stored->dropped_tick()};
      state.items.insert_or_assign(item.id, item);
    }
  if (const auto* departing = table->departing())
    for (const auto* stored : *departing) {
      Departure departure{reader.player(stored->player()), stored->to(), stored->epoch()};
      state.departing.insert_or_assign({departure.player.id, departure.epoch},
                                       std::move(departure));
    }
  for (const auto& stored : copied_elements<schema::EntityEpoch>(table->epochs()))
    state.epochs.insert_or_assign(stored.entity(), stored.epoch());
  if (!reader.ok)
    return make_error(Errc::corruption, "game snapshot holds an unknown kind or a missing player");
  return state;
}

log::Hash Model::hash(const State& state) { return log::sha256(snapshot(state)); }

} // namespace worldlog::game

// Model::encode and Model::decode: one FlatBuffers table per event type (schemas/game.fbs),
// named by the event's payload_type.
#include <algorithm>
#include <type_traits>
#include <variant>
#include <vector>

#include <worldlog/game/model.hpp>

#include "game/codec.hpp"

namespace worldlog::game {
namespace codec {

Player Reader::player(const schema::Player* table) {
  Player player;
  if (table == nullptr) {
    ok = false;
    return player;
  }
  player.id = table->id();
  player.at = from_schema(table->at());
  player.hp = table->hp();
  player.max_hp = table->max_hp();
  player.level = table->level();
  player.xp = table->xp();
  player.dead = table->dead();
  player.respawn_tick = table->respawn_tick();
  player.last_move_tick = table->last_move_tick();
  player.next_attack_tick = table->next_attack_tick();
  if (const auto* stacks = table->inventory())
    for (const auto* stack : *stacks)
      player.inventory[item_kind(stack->kind())] = stack->count();
  player.quests_done = table->quests_done();
  player.wolves_killed = table->wolves_killed();
  player.epoch = table->epoch();
  return player;
}

fb::Offset<schema::Player> write_player(fb::FlatBufferBuilder& builder, const Player& player) {
  std::vector<schema::ItemStack> stacks;
  stacks.reserve(player.inventory.size());
  for (const auto& [kind, count] : player.inventory)
    stacks.emplace_back(static_cast<std::uint8_t>(kind), count);
  const auto inventory = builder.CreateVectorOfStructs(stacks);
  const schema::Point at = to_schema(player.at);
  return schema::CreatePlayer(builder, player.id, &at, player.hp, player.max_hp, player.level,
                              player.xp, player.dead, player.respawn_tick, player.last_move_tick,
                              player.next_attack_tick, inventory, player.quests_done,
                              player.wolves_killed, player.epoch);
}

} // namespace codec

namespace {

using namespace codec;

std::uint8_t tag(ItemKind kind) { return static_cast<std::uint8_t>(kind); }
std::uint8_t tag(MobKind kind) { return static_cast<std::uint8_t>(kind); }
std::uint8_t tag(Quest quest) { return static_cast<std::uint8_t>(quest); }

// ---- writing: one overload per event, returning the root table ---------------------------------

struct Writer {
  fb::FlatBufferBuilder& b;

  fb::Offset<void> operator()(const Joined& e) const {
    const auto character = e.character ? write_player(b, *e.character) : 0;
    const auto at = to_schema(e.at);
    return schema::CreateJoined(b, e.entity, &at, e.tick, character).Union();
  }
  fb::Offset<void> operator()(const Left& e) const {
    return schema::CreateLeft(b, e.entity).Union();
  }
  fb::Offset<void> operator()(const Moved& e) const {
    const auto to = to_schema(e.to);
    return schema::CreateMoved(b, e.entity, &to, e.tick).Union();
  }
  fb::Offset<void> operator()(const Attacked& e) const {
    return schema::CreateAttacked(b, e.attacker, e.target, e.damage, e.tick).Union();
  }
  fb::Offset<void> operator()(const Died& e) const {
    return schema::CreateDied(b, e.entity, e.killer, 0, e.tick).Union();
  }
  fb::Offset<void> operator()(const Respawned& e) const {
    const auto at = to_schema(e.at);
    return schema::CreateRespawned(b, e.entity, &at, e.tick).Union();
  }
  fb::Offset<void> operator()(const LevelUp& e) const {
    return schema::CreateLevelUp(b, e.entity, e.level, e.max_hp).Union();
  }
  fb::Offset<void> operator()(const MobSpawned& e) const {
    const auto at = to_schema(e.at);
    return schema::CreateMobSpawned(b, e.mob, tag(e.kind), e.spawn, &at).Union();
  }
  fb::Offset<void> operator()(const MobMoved& e) const {
    const auto to = to_schema(e.to);
    return schema::CreateMobMoved(b, e.mob, &to).Union();
  }
  fb::Offset<void> operator()(const Dropped& e) const {
    const auto at = to_schema(e.at);
    return schema::CreateDropped(b, e.entity, e.item, tag(e.kind), &at, e.tick).Union();
  }
  fb::Offset<void> operator()(const LootDropped& e) const {
    const auto at = to_schema(e.at);
    return schema::CreateLootDropped(b, e.mob, e.item, tag(e.kind), &at, e.tick).Union();
  }
  fb::Offset<void> operator()(const PickedUp& e) const {
    return schema::CreatePickedUp(b, e.entity, e.item, tag(e.kind)).Union();
  }
  fb::Offset<void> operator()(const ItemDespawned& e) const {
    const auto at = to_schema(e.at);
    return schema::CreateItemDespawned(b, e.item, &at).Union();
  }
  fb::Offset<void> operator()(const Used& e) const {
    return schema::CreateUsed(b, e.entity, tag(e.kind), e.healed).Union();
  }
  fb::Offset<void> operator()(const Said& e) const {
    return schema::CreateSaid(b, e.entity, b.CreateString(e.text)).Union();
  }
  fb::Offset<void> operator()(const QuestCompleted& e) const {
    return schema::CreateQuestCompleted(b, e.entity, tag(e.quest), e.xp).Union();
  }
  fb::Offset<void> operator()(const Departed& e) const {
    return schema::CreateDeparted(b, write_player(b, e.player), e.to, e.epoch).Union();
  }
  fb::Offset<void> operator()(const Arrived& e) const {
    return schema::CreateArrived(b, write_player(b, e.player), e.from, e.epoch).Union();
  }
  fb::Offset<void> operator()(const HandoffCompleted& e) const {
    return schema::CreateHandoffCompleted(b, e.entity, e.epoch).Union();
  }
  fb::Offset<void> operator()(const LoggedOut& e) const {
    return schema::CreateLoggedOut(b, e.entity, static_cast<std::uint8_t>(e.reason)).Union();
  }
  fb::Offset<void> operator()(const Seen& e) const {
    const auto at = to_schema(e.at);
    return schema::CreateSeen(b, e.entity, static_cast<std::uint8_t>(e.what), &at, e.hp).Union();
  }
  fb::Offset<void> operator()(const XpGained& e) const {
    return schema::CreateXpGained(b, e.entity, e.xp, e.from).Union();
  }
  fb::Offset<void> operator()(const RulesChanged& e) const {
    return schema::CreateRulesChanged(b, e.version, b.CreateVector(e.hash.data(), e.hash.size()),
                                      b.CreateString(e.rules))
        .Union();
  }
};

// ---- reading: the table of each event type, and one overload per table ------------------------

template <typename E> struct TableOf;
#define WORLDLOG_GAME_TABLE(Name)                                                                  \
  template <> struct TableOf<Name> { using type = schema::Name; };
WORLDLOG_GAME_TABLE(Joined)
WORLDLOG_GAME_TABLE(Left)
WORLDLOG_GAME_TABLE(Moved)
WORLDLOG_GAME_TABLE(Attacked)
WORLDLOG_GAME_TABLE(Died)
WORLDLOG_GAME_TABLE(Respawned)
WORLDLOG_GAME_TABLE(LevelUp)
WORLDLOG_GAME_TABLE(MobSpawned)
WORLDLOG_GAME_TABLE(MobMoved)
WORLDLOG_GAME_TABLE(Dropped)
WORLDLOG_GAME_TABLE(LootDropped)
WORLDLOG_GAME_TABLE(PickedUp)
WORLDLOG_GAME_TABLE(ItemDespawned)
WORLDLOG_GAME_TABLE(Used)
WORLDLOG_GAME_TABLE(Said)
WORLDLOG_GAME_TABLE(QuestCompleted)
WORLDLOG_GAME_TABLE(Departed)
WORLDLOG_GAME_TABLE(Arrived)
WORLDLOG_GAME_TABLE(HandoffCompleted)
WORLDLOG_GAME_TABLE(LoggedOut)
WORLDLOG_GAME_TABLE(Seen)
WORLDLOG_GAME_TABLE(XpGained)
WORLDLOG_GAME_TABLE(RulesChanged)
#undef WORLDLOG_GAME_TABLE

struct EventReader : Reader {
  Event operator()(const schema::Joined& t) {
    std::optional<Player> character;
    if (t.character() != nullptr) character = player(t.character());
    return Joined{t.entity(), from_schema(t.at()), t.tick(), std::move(character)};
  }
  Event operator()(const schema::Left& t) { return Left{t.entity()}; }
  Event operator()(const schema::Moved& t) {
    return Moved{t.entity(), from_schema(t.to()), t.tick()};
  }
  Event operator()(const schema::Attacked& t) {
    return Attacked{t.attacker(), t.target(), t.damage(), t.tick()};
  }
  Event operator()(const schema::Died& t) { return Died{t.entity(), t.killer(), t.tick()}; }
  Event operator()(const schema::Respawned& t) {
    return Respawned{t.entity(), from_schema(t.at()), t.tick()};
  }
  Event operator()(const schema::LevelUp& t) { return LevelUp{t.entity(), t.level(), t.max_hp()}; }
  Event operator()(const schema::MobSpawned& t) {
    return MobSpawned{t.mob(), mob_kind(t.kind()), t.spawn(), from_schema(t.at())};
  }
  Event operator()(const schema::MobMoved& t) { return MobMoved{t.mob(), from_schema(t.to())}; }
  Event operator()(const schema::Dropped& t) {
    return Dropped{t.entity(), t.item(), item_kind(t.kind()), from_schema(t.at()), t.tick()};
  }
  Event operator()(const schema::LootDropped& t) {
    return LootDropped{t.mob(), t.item(), item_kind(t.kind()), from_schema(t.at()), t.tick()};
  }
  Event operator()(const schema::PickedUp& t) {
    return PickedUp{t.entity(), t.item(), item_kind(t.kind())};
  }
  Event operator()(const schema::ItemDespawned& t) {
    return ItemDespawned{t.item(), from_schema(t.at())};
  }
  Event operator()(const schema::Used& t) {
    return Used{t.entity(), item_kind(t.kind()), t.healed()};
  }
  Event operator()(const schema::Said& t) {
    return Said{t.entity(), t.text() == nullptr ? std::string() : t.text()->str()};
  }
  Event operator()(const schema::QuestCompleted& t) {
    return QuestCompleted{t.entity(), quest(t.quest()), t.xp()};
  }
  Event operator()(const schema::Departed& t) {
    return Departed{player(t.player()), t.to(), t.epoch()};
  }
  Event operator()(const schema::Arrived& t) {
    return Arrived{player(t.player()), t.from(), t.epoch()};
  }
  Event operator()(const schema::HandoffCompleted& t) {
    return HandoffCompleted{t.entity(), t.epoch()};
  }
  Event operator()(const schema::LoggedOut& t) {
    return LoggedOut{t.entity(), logout_reason(t.reason())};
  }
  Event operator()(const schema::Seen& t) {
    return Seen{t.entity(), seen_what(t.what()), from_schema(t.at()), t.hp()};
  }
  Event operator()(const schema::XpGained& t) { return XpGained{t.entity(), t.xp(), t.from()}; }
  Event operator()(const schema::RulesChanged& t) {
    RulesChanged changed{t.version(), {}, t.rules() ? t.rules()->str() : std::string()};
    if (t.hash() == nullptr || t.hash()->size() != changed.hash.size()) {
      ok = false;
    } else {
      std::copy(t.hash()->begin(), t.hash()->end(), changed.hash.begin());
    }
    return changed;
  }
};

template <std::size_t I = 0>
Result<Event> decode_as(std::uint32_t payload_type, std::string_view bytes) {
  if constexpr (I < std::variant_size_v<Event>) {
    using E = std::variant_alternative_t<I, Event>;
    if (payload_type != E::type) return decode_as<I + 1>(payload_type, bytes);
    std::string scratch;
    const auto* table = verified_root<typename TableOf<E>::type>(bytes, scratch);
    if (table == nullptr)
      return make_error(Errc::corruption, "game event {} ({} bytes) fails verification",
                        Model::event_name(Event{std::in_place_index<I>}), bytes.size());
    EventReader reader;
    Event event = reader(*table);
    if (!reader.ok)
      return make_error(Errc::corruption, "game event {} holds an unknown kind or no player",
                        Model::event_name(event));
    return event;
  } else {
    return make_error(Errc::corruption, "unknown game event type {}", payload_type);
  }
}

} // namespace

zone::EncodedEvent Model::encode(const Event& event) {
  // One builder per thread, reused: encoding is on the zone's hot path.
  thread_local fb::FlatBufferBuilder builder(256);
  builder.Clear();
  builder.Finish(std::visit(Writer{builder}, event));
  const std::uint32_t type = payload_type_of(event);
  return {type, bytes_of(builder), zone::event_version<Model>(type)};
}

Result<Event> Model::decode(std::uint32_t payload_type, std::string_view bytes) {
  return decode_as(payload_type, bytes);
}

Result<std::vector<Event>> Model::upcast(std::uint32_t payload_type, std::uint16_t stored_version,
                                         std::string_view bytes) {
  if (payload_type == Died::type && stored_version == 1) {
    // Died 1 {entity, killer, xp, tick}: evolve credited `xp` to the killer when the dead was
    // a mob and the killer a player of the zone, which is what XpGained does.
    std::string scratch;
    const auto* table = verified_root<schema::Died>(bytes, scratch);
    if (table == nullptr)
      return make_error(Errc::corruption, "game event Died version 1 ({} bytes) fails verification",
                        bytes.size());
    std::vector<Event> events{Died{table->entity(), table->killer(), table->tick()}};
    if (table->xp() != 0)
      events.emplace_back(XpGained{table->killer(), table->xp(), table->entity()});
    return events;
  }
  return make_error(Errc::corruption, "game event type {} has no schema version {} to upcast from",
                    payload_type, stored_version);
}

} // namespace worldlog::game

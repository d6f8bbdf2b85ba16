// The small parts of the model: the initial state, names, and where events are seen.
#include <algorithm>
#include <array>
#include <memory>
#include <type_traits>
#include <variant>

#include <worldlog/game/geometry.hpp>
#include <worldlog/game/model.hpp>

namespace worldlog::game {
namespace {

constexpr std::array<std::string_view, std::variant_size_v<Event>> event_names{
    "Joined",           "Left",       "Moved",    "Attacked",       "Died",        "Respawned",
    "LevelUp",          "MobSpawned", "MobMoved", "Dropped",        "LootDropped", "PickedUp",
    "ItemDespawned",    "Used",       "Said",     "QuestCompleted", "Departed",    "Arrived",
    "HandoffCompleted", "LoggedOut",  "Seen",     "XpGained",       "RulesChanged"};

constexpr std::array<std::string_view, std::variant_size_v<Command>> command_names{
    "Join", "Leave", "Move",   "Attack",          "PickUp",     "Drop",
    "Use",  "Say",   "Arrive", "CompleteHandoff", "ChangeRules"};

template <typename Names, typename Value>
std::string_view name_in(const Names& names, Value value) noexcept {
  const auto index = static_cast<std::size_t>(value);
  return index < names.size() && !names[index].empty() ? names[index] : "unknown";
}

/// Where entity `id` stands: a player (online or resting here) or mob of the zone (nullopt when
/// neither).
std::optional<Point> position_of(const State& state, EntityId id) {
  if (const Player* player = state.player(id)) return player->at;
  if (const Player* resting = state.offline_player(id)) return resting->at;
  if (const Mob* mob = state.mob(id)) return mob->at;
  return std::nullopt;
}

std::optional<zone::Located> at_entity(const State& state, EntityId id) {
  if (const auto at = position_of(state, id)) return zone::Located{id, *at};
  return std::nullopt;
}

/// The handoff of a departure recorded in `from`.
Model::Handoff handoff_of(ZoneId from, const Departure& departure) {
  const EntityId entity = departure.player.id;
  return {from,
          departure.to,
          entity,
          departure.epoch,
          Arrive{departure.player, departure.epoch, from},
          CompleteHandoff{entity, departure.epoch}};
}

} // namespace

std::string_view to_string(Reject reject) noexcept {
  constexpr std::array<std::string_view, 20> names{"",
                                                   "not_in_zone",
                                                   "already_joined",
                                                   "not_authorized",
                                                   "dead",
                                                   "teleport",
                                                   "blocked",
                                                   "out_of_bounds",
                                                   "invalid_coordinates",
                                                   "unknown_target",
                                                   "out_of_range",
                                                   "cooldown",
                                                   "no_such_item",
                                                   "inventory_full",
                                                   "bad_text",
                                                   "not_usable",
                                                   "invalid_entity",
                                                   "elsewhere",
                                                   "in_transit",
                                                   "bad_rules"};
  return name_in(names, reject);
}

std::string_view to_string(LogoutReason reason) noexcept {
  constexpr std::array<std::string_view, 5> names{"", "left", "disconnected", "session_lost",
                                                  "server_stopped"};
  return name_in(names, reason);
}

std::string_view to_string(MobKind kind) noexcept {
  constexpr std::array<std::string_view, 3> names{"", "wolf", "boar"};
  return name_in(names, kind);
}

std::string_view to_string(ItemKind kind) noexcept {
  constexpr std::array<std::string_view, 3> names{"", "potion", "pelt"};
  return name_in(names, kind);
}

std::string_view to_string(Quest quest) noexcept {
  constexpr std::array<std::string_view, 3> names{"", "reach_waypoint", "kill_wolves"};
  return name_in(names, quest);
}

EntityId entity_of(const Command& command) noexcept {
  return std::visit(
      [](const auto& c) -> EntityId {
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, Arrive>)
          return c.player.id;
        else if constexpr (std::is_same_v<std::decay_t<decltype(c)>, ChangeRules>)
          return EntityId{0};
        else
          return c.entity;
      },
      command);
}

Model::State Model::initial_state(const zone::ZoneInfo& info) {
  State state;
  state.info = info;
  if (!info.rules.empty()) {
    // The tools check a rules file before a zone records it; text that does not parse here
    // came from a damaged genesis, which plays by the defaults (and replay verify names it).
    if (auto rules = parse_rules(info.rules); rules.ok() && *rules != default_rules)
      state.rules = std::make_shared<const Rules>(std::move(rules).value());
  }
  state.map = map_for(info, *state.rules);
  return state;
}

Result<Rules> Model::parse_rules(std::string_view text) { return game::parse_rules(text); }

zone::RulesId Model::rules_id(const Rules& rules) { return {rules.version, rules_hash(rules)}; }

void Model::set_rules(State& state, const Rules& rules) {
  const bool same_map = rules.same_map(*state.rules);
  state.rules =
      rules == default_rules ? shared_default_rules() : std::make_shared<const Rules>(rules);
  if (!same_map) state.map = map_for(state.info, rules);
}

std::optional<zone::RulesId> Model::rules_changed(const Event& event) {
  const auto* changed = std::get_if<RulesChanged>(&event);
  if (changed == nullptr) return std::nullopt;
  return zone::RulesId{changed->version, changed->hash};
}

std::string_view Model::event_name(const Event& event) noexcept {
  return event_names[event.index()];
}

std::string_view Model::command_name(const Command& command) noexcept {
  return command_names[command.index()];
}

std::optional<zone::Located> Model::locate(const State& state, const Event& event) {
  struct Locate {
    const State& state;

    std::optional<zone::Located> operator()(const Joined& e) const { return at(e.entity, e.at); }
    std::optional<zone::Located> operator()(const Left& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const Moved& e) const { return at(e.entity, e.to); }
    std::optional<zone::Located> operator()(const Attacked& e) const {
      return at_entity(state, e.attacker);
    }
    std::optional<zone::Located> operator()(const Died& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const Respawned& e) const { return at(e.entity, e.at); }
    std::optional<zone::Located> operator()(const LevelUp& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const MobSpawned& e) const { return at(e.mob, e.at); }
    std::optional<zone::Located> operator()(const MobMoved& e) const { return at(e.mob, e.to); }
    std::optional<zone::Located> operator()(const Dropped& e) const { return at(e.entity, e.at); }
    std::optional<zone::Located> operator()(const LootDropped& e) const { return at(e.mob, e.at); }
    std::optional<zone::Located> operator()(const PickedUp& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const ItemDespawned& e) const {
      return at(e.item, e.at);
    }
    std::optional<zone::Located> operator()(const Used& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const Said& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const QuestCompleted& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const Departed& e) const {
      // Seen where it crossed the edge, just inside the map.
      const Map& map = state.map;
      return at(e.player.id, {std::clamp<std::int64_t>(e.player.at.x, 0, map.width_mm() - 1),
                              std::clamp<std::int64_t>(e.player.at.y, 0, map.height_mm() - 1)});
    }
    std::optional<zone::Located> operator()(const Arrived& e) const {
      return at(e.player.id, e.player.at);
    }
    std::optional<zone::Located> operator()(const HandoffCompleted&) const { return std::nullopt; }
    std::optional<zone::Located> operator()(const LoggedOut& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const Seen& e) const { return at(e.entity, e.at); }
    std::optional<zone::Located> operator()(const XpGained& e) const {
      return at_entity(state, e.entity);
    }
    std::optional<zone::Located> operator()(const RulesChanged&) const { return std::nullopt; }

    static std::optional<zone::Located> at(EntityId id, Point p) { return zone::Located{id, p}; }
  };
  return std::visit(Locate{state}, event);
}

std::optional<Model::Handoff> Model::handoff(const State& state, const Event& event) {
  const auto* departed = std::get_if<Departed>(&event);
  if (departed == nullptr) return std::nullopt;
  return handoff_of(state.info.zone, Departure{departed->player, departed->to, departed->epoch});
}

std::vector<Event> Model::view(const State& state, EntityId viewer, Point at,
                               std::int64_t radius_mm) {
  std::vector<Event> seen;
  for (const auto& [id, player] : state.players) {
    if (id != viewer && geometry::within(at, player.at, radius_mm))
      seen.push_back(Seen{id, Seen::What::player, player.at, player.hp});
  }
  for (const Mob* mob : state.mobs_near(at, radius_mm)) {
    const auto what = mob->kind == MobKind::wolf ? Seen::What::wolf : Seen::What::boar;
    seen.push_back(Seen{mob->id, what, mob->at, mob->hp});
  }
  for (const GroundItem* item : state.items_near(at, radius_mm)) {
    const auto what = item->kind == ItemKind::potion ? Seen::What::potion : Seen::What::pelt;
    seen.push_back(Seen{item->id, what, item->at, 0});
  }
  return seen;
}

std::vector<Model::Handoff> Model::pending_handoffs(const State& state) {
  std::vector<Handoff> pending;
  pending.reserve(state.departing.size());
  for (const auto& [key, departure] : state.departing)
    pending.push_back(handoff_of(state.info.zone, departure));
  return pending;
}

std::optional<world::SessionChange> Model::session_change(const Command& command) noexcept {
  if (const auto* join = std::get_if<Join>(&command))
    return world::SessionChange{join->entity, true};
  if (const auto* leave = std::get_if<Leave>(&command))
    return world::SessionChange{leave->entity, false};
  return std::nullopt;
}

void Model::stamp_join(Command& join, std::uint64_t epoch) noexcept {
  if (auto* joining = std::get_if<Join>(&join)) joining->epoch = epoch;
}

Command Model::logout(EntityId player, world::LogoutReason reason) {
  switch (reason) {
  case world::LogoutReason::disconnected: return leave(player, LogoutReason::disconnected);
  case world::LogoutReason::session_lost: return leave(player, LogoutReason::session_lost);
  case world::LogoutReason::server_stopped: return leave(player, LogoutReason::server_stopped);
  }
  return leave(player, LogoutReason::disconnected);
}

std::vector<world::Character> Model::characters(const State& state, ZoneId zone) {
  std::vector<world::Character> found;
  for (const auto& [id, player] : state.players)
    found.push_back({id, zone, player.epoch, true, false});
  for (const auto& [id, player] : state.offline)
    found.push_back({id, zone, player.epoch, false, false});
  for (const auto& [key, departure] : state.departing)
    found.push_back({key.first, departure.to, departure.epoch, true, true});
  return found;
}

} // namespace worldlog::game

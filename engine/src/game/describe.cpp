// What the reference game says about its events, commands and rejections for the tools
// (zone/describe.hpp): Model::event_json, command_json and reason_name.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <worldlog/game/model.hpp>
#include <worldlog/zone/describe.hpp>

namespace worldlog::game {
namespace {

namespace json = boost::json;

json::array point_json(Point point) { return {point.x, point.y}; }

json::object player_json(const Player& player) {
  return {{"id", player.id},         {"at", point_json(player.at)}, {"hp", player.hp},
          {"max_hp", player.max_hp}, {"level", player.level},       {"xp", player.xp},
          {"epoch", player.epoch}};
}

/// The fields of each event and command.
struct Fields {
  json::object operator()(const Joined& e) const {
    json::object fields{{"entity", e.entity}, {"at", point_json(e.at)}, {"tick", e.tick}};
    if (e.character) fields["character"] = player_json(*e.character);
    return fields;
  }
  json::object operator()(const Left& e) const { return {{"entity", e.entity}}; }
  json::object operator()(const Moved& e) const {
    return {{"entity", e.entity}, {"to", point_json(e.to)}, {"tick", e.tick}};
  }
  json::object operator()(const Attacked& e) const {
    return {{"attacker", e.attacker}, {"target", e.target}, {"damage", e.damage}, {"tick", e.tick}};
  }
  json::object operator()(const Died& e) const {
    return {{"entity", e.entity}, {"killer", e.killer}, {"tick", e.tick}};
  }
  json::object operator()(const XpGained& e) const {
    return {{"entity", e.entity}, {"xp", e.xp}, {"from", e.from}};
  }
  json::object operator()(const Respawned& e) const {
    return {{"entity", e.entity}, {"at", point_json(e.at)}, {"tick", e.tick}};
  }
  json::object operator()(const LevelUp& e) const {
    return {{"entity", e.entity}, {"level", e.level}, {"max_hp", e.max_hp}};
  }
  json::object operator()(const MobSpawned& e) const {
    return {
        {"mob", e.mob}, {"kind", to_string(e.kind)}, {"spawn", e.spawn}, {"at", point_json(e.at)}};
  }
  json::object operator()(const MobMoved& e) const {
    return {{"mob", e.mob}, {"to", point_json(e.to)}};
  }
  json::object operator()(const Dropped& e) const {
    return {{"entity", e.entity},
            {"item", e.item},
            {"kind", to_string(e.kind)},
            {"at", point_json(e.at)},
            {"tick", e.tick}};
  }
  json::object operator()(const LootDropped& e) const {
    return {{"mob", e.mob},
            {"item", e.item},
            {"kind", to_string(e.kind)},
            {"at", point_json(e.at)},
            {"tick", e.tick}};
  }
  json::object operator()(const PickedUp& e) const {
    return {{"entity", e.entity}, {"item", e.item}, {"kind", to_string(e.kind)}};
  }
  json::object operator()(const ItemDespawned& e) const {
    return {{"item", e.item}, {"at", point_json(e.at)}};
  }
  json::object operator()(const Used& e) const {
    return {{"entity", e.entity}, {"kind", to_string(e.kind)}, {"healed", e.healed}};
  }
  json::object operator()(const Said& e) const {
    return {{"entity", e.entity}, {"text", zone::utf8_text(e.text)}};
  }
  json::object operator()(const QuestCompleted& e) const {
    return {{"entity", e.entity}, {"quest", to_string(e.quest)}, {"xp", e.xp}};
  }
  json::object operator()(const Departed& e) const {
    return {{"player", player_json(e.player)}, {"to", e.to}, {"epoch", e.epoch}};
  }
  json::object operator()(const Arrived& e) const {
    return {{"player", player_json(e.player)}, {"from", e.from}, {"epoch", e.epoch}};
  }
  json::object operator()(const HandoffCompleted& e) const {
    return {{"entity", e.entity}, {"epoch", e.epoch}};
  }
  json::object operator()(const LoggedOut& e) const {
    return {{"entity", e.entity}, {"reason", to_string(e.reason)}};
  }
  json::object operator()(const Seen& e) const {
    return {{"entity", e.entity},
            {"what", static_cast<unsigned>(e.what)},
            {"at", point_json(e.at)},
            {"hp", e.hp}};
  }
  json::object operator()(const RulesChanged& e) const {
    return {
        {"version", e.version}, {"hash", log::to_hex(e.hash)}, {"rules", zone::utf8_text(e.rules)}};
  }

  json::object operator()(const Join& c) const {
    return {{"entity", c.entity}, {"epoch", c.epoch}};
  }
  json::object operator()(const Leave& c) const {
    return {{"entity", c.entity}, {"reason", to_string(c.reason)}};
  }
  json::object operator()(const Move& c) const {
    return {{"entity", c.entity}, {"to", point_json(c.to)}};
  }
  json::object operator()(const Attack& c) const {
    return {{"entity", c.entity}, {"target", c.target}};
  }
  json::object operator()(const PickUp& c) const {
    return {{"entity", c.entity}, {"item", c.item}};
  }
  json::object operator()(const Drop& c) const {
    return {{"entity", c.entity}, {"kind", to_string(c.kind)}};
  }
  json::object operator()(const Use& c) const {
    return {{"entity", c.entity}, {"kind", to_string(c.kind)}};
  }
  json::object operator()(const Say& c) const {
    return {{"entity", c.entity}, {"text", zone::utf8_text(c.text)}};
  }
  json::object operator()(const Arrive& c) const {
    return {{"player", player_json(c.player)}, {"epoch", c.epoch}, {"from", c.from}};
  }
  json::object operator()(const CompleteHandoff& c) const {
    return {{"entity", c.entity}, {"epoch", c.epoch}};
  }
  json::object operator()(const ChangeRules& c) const {
    return {{"rules", zone::utf8_text(c.rules)}};
  }
};

} // namespace

json::object Model::event_json(const Event& event) { return std::visit(Fields{}, event); }

json::object Model::command_json(const Command& command) { return std::visit(Fields{}, command); }

std::string_view Model::reason_name(std::uint32_t code) noexcept {
  return to_string(static_cast<Reject>(code));
}

} // namespace worldlog::game

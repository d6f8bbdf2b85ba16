// Model::to_json: the state for tools and tests, in the same id order as the snapshot; and
// Model::map_json: a zone's map for the viewer.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <worldlog/game/map.hpp>
#include <worldlog/game/model.hpp>

namespace worldlog::game {
namespace {

namespace json = boost::json;

json::array point_json(Point p) { return {p.x, p.y}; }

json::object player_json(const Player& player) {
  json::object inventory;
  for (const auto& [kind, count] : player.inventory)
    inventory[to_string(kind)] = count;
  json::array quests;
  for (const Quest quest : {Quest::reach_waypoint, Quest::kill_wolves})
    if (player.done(quest)) quests.emplace_back(to_string(quest));
  return {{"id", player.id},
          {"at", point_json(player.at)},
          {"hp", player.hp},
          {"max_hp", player.max_hp},
          {"level", player.level},
          {"xp", player.xp},
          {"dead", player.dead},
          {"respawn_tick", player.respawn_tick},
          {"last_move_tick", player.last_move_tick},
          {"next_attack_tick", player.next_attack_tick},
          {"inventory", std::move(inventory)},
          {"quests_done", std::move(quests)},
          {"wolves_killed", player.wolves_killed},
          {"epoch", player.epoch}};
}

} // namespace

json::value Model::to_json(const State& state) {
  json::array players;
  for (const auto& [id, player] : state.players)
    players.emplace_back(player_json(player));
  json::array offline;
  for (const auto& [id, player] : state.offline)
    offline.emplace_back(player_json(player));
  json::array mobs;
  for (const auto& [id, mob] : state.mobs)
    mobs.emplace_back(json::object{{"id", mob.id},
                                   {"kind", to_string(mob.kind)},
                                   {"spawn", mob.spawn},
                                   {"at", point_json(mob.at)},
                                   {"hp", mob.hp},
                                   {"dead", mob.dead},
                                   {"respawn_tick", mob.respawn_tick},
                                   {"next_attack_tick", mob.next_attack_tick}});
  json::array items;
  for (const auto& [id, item] : state.items)
    items.emplace_back(json::object{{"id", item.id},
                                    {"kind", to_string(item.kind)},
                                    {"at", point_json(item.at)},
                                    {"dropped_tick", item.dropped_tick}});
  json::array departing;
  for (const auto& [key, departure] : state.departing)
    departing.emplace_back(json::object{{"player", player_json(departure.player)},
                                        {"to", departure.to},
                                        {"epoch", departure.epoch}});
  json::array epochs;
  for (const auto& [entity, epoch] : state.epochs)
    epochs.emplace_back(json::object{{"entity", entity}, {"epoch", epoch}});
  const ItemLedger& ledger = state.item_ledger;
  json::object item_ledger{{"created", ledger.created},
                           {"used", ledger.used},
                           {"expired", ledger.expired},
                           {"carried_in", ledger.carried_in},
                           {"carried_out", ledger.carried_out}};
  return json::object{{"model", name},
                      {"rules_version", state.rules->version},
                      {"zone", state.info.zone},
                      {"zone_count", state.info.zone_count},
                      {"seed", state.info.seed},
                      {"next_item_id", state.next_item_id},
                      {"players", std::move(players)},
                      {"offline", std::move(offline)},
                      {"mobs", std::move(mobs)},
                      {"items", std::move(items)},
                      {"departing", std::move(departing)},
                      {"epochs", std::move(epochs)},
                      {"item_ledger", std::move(item_ledger)}};
}

json::object Model::map_json(const zone::ZoneInfo& info) {
  const Map map = map_for(info);
  json::array rocks;
  for (std::int32_t ty = 0; ty < map.height; ++ty)
    for (std::int32_t tx = 0; tx < map.width; ++tx)
      if (map.rock(tx, ty)) rocks.emplace_back(json::array{tx, ty});
  json::array exits;
  if (map.west_exit) exits.emplace_back(json::object{{"side", "west"}, {"to", *map.west_exit}});
  if (map.east_exit) exits.emplace_back(json::object{{"side", "east"}, {"to", *map.east_exit}});
  return {{"width_mm", map.width_mm()},     {"height_mm", map.height_mm()},
          {"tile_mm", map.tile_mm},         {"rocks", std::move(rocks)},
          {"spawn", point_json(map.spawn)}, {"waypoint", point_json(map.waypoint)},
          {"exits", std::move(exits)}};
}

} // namespace worldlog::game

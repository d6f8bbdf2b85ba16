// The rules as data: parse_rules, canonical_rules and rules_hash.
//
// One list of fields (for_each_field) drives all three, so the file format, the canonical text
// and the checks cannot drift apart. Each field has the range that keeps the game's arithmetic
// in bounds (no division by zero, no overflow of an int32 hit point or an int64 coordinate).
#include <worldlog/game/rules.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace worldlog::game {
namespace {

constexpr std::int64_t million = 1'000'000;

/// Calls `field(name, member, min, max)` for every integer field of a rules file, in the
/// canonical order, and `mob(name, stats)` for each kind of mob.
template <typename R, typename Field, typename MobField>
void for_each_field(R& r, Field&& field, MobField&& mob) {
  field("version", r.version, 1, std::numeric_limits<std::uint32_t>::max());
  field("tile_mm", r.tile_mm, 4, 100'000);
  field("map_width", r.map_width, 6, 1024);
  field("map_height", r.map_height, 6, 1024);
  field("boulder_percent", r.boulder_percent, 0, 100);
  field("rock_percent", r.rock_percent, 0, 100);
  field("wolf_spawns", r.wolf_spawns, 0, 1000);
  field("boar_spawns", r.boar_spawns, 0, 1000);
  field("mob_spawn_min_tiles", r.mob_spawn_min_tiles, 0, 1024);
  field("waypoint_min_tiles", r.waypoint_min_tiles, 0, 1024);
  field("player_speed_mm_per_tick", r.player_speed_mm_per_tick, 1, million);
  field("move_allowance_mm", r.move_allowance_mm, 0, million);
  field("move_bank_ticks", r.move_bank_ticks, 1, 100'000);
  field("base_max_hp", r.base_max_hp, 1, million);
  field("max_hp_per_level", r.max_hp_per_level, 0, 10'000);
  field("max_level", r.max_level, 1, 1000);
  field("xp_per_level", r.xp_per_level, 1, million);
  field("player_respawn_ticks", r.player_respawn_ticks, 1, million);
  field("attack_range_mm", r.attack_range_mm, 1, million);
  field("attack_cooldown_ticks", r.attack_cooldown_ticks, 0, million);
  field("damage_min", r.damage_min, 0, million);
  field("damage_max", r.damage_max, 0, million);
  field("damage_per_level", r.damage_per_level, 0, 10'000);
  field("mob_think_ticks", r.mob_think_ticks, 1, 100'000);
  field("wander_one_in", r.wander_one_in, 1, million);
  field("wander_step_mm", r.wander_step_mm, 2, million);
  field("aggro_radius_mm", r.aggro_radius_mm, 0, 100 * million);
  field("leash_radius_mm", r.leash_radius_mm, 0, 100 * million);
  field("mob_attack_range_mm", r.mob_attack_range_mm, 0, million);
  field("mob_attack_cooldown_ticks", r.mob_attack_cooldown_ticks, 0, million);
  field("mob_respawn_ticks", r.mob_respawn_ticks, 1, million);
  field("max_spawns_per_tick", r.max_spawns_per_tick, 1, 10'000);
  mob("wolf", r.wolf);
  mob("boar", r.boar);
  field("reach_mm", r.reach_mm, 0, million);
  field("inventory_capacity", r.inventory_capacity, 0, 10'000);
  field("potion_heal", r.potion_heal, 0, million);
  field("item_lifetime_ticks", r.item_lifetime_ticks, 1, 100 * million);
  field("max_say_bytes", r.max_say_bytes, 1, 65'536);
  field("waypoint_radius_mm", r.waypoint_radius_mm, 0, million);
  field("wolves_for_quest", r.wolves_for_quest, 1, million);
  field("quest_xp", r.quest_xp, 0, million);
}

/// The same for the integer fields of one kind of mob (`loot` is a name, handled apart).
template <typename S, typename Field> void for_each_mob_field(S& s, Field&& field) {
  field("max_hp", s.max_hp, 1, million);
  field("damage_min", s.damage_min, 0, million);
  field("damage_max", s.damage_max, 0, million);
  field("speed_mm_per_tick", s.speed_mm_per_tick, 0, million);
  field("xp", s.xp, 0, million);
  field("loot_percent", s.loot_percent, 0, 100);
  field("potion_loot_percent", s.potion_loot_percent, 0, 100);
}

/// The fields no rules file may set.
constexpr std::array<std::string_view, 3> fixed_fields{"coordinate_limit", "max_player_id",
                                                       "first_item_id"};

/// Reads the fields of one JSON object into their members; the first bad one sets `error`,
/// naming it with its `path` ("" or "wolf.").
struct Reader {
  const boost::json::object& object;
  std::string path;
  std::optional<std::string>& error;
  std::set<std::string_view> known{};

  template <typename T>
  void operator()(std::string_view name, T& member, std::int64_t min, std::int64_t max) {
    known.insert(name);
    const auto* value = object.if_contains(name);
    if (value == nullptr || error) return;
    if (!value->is_int64() && !value->is_uint64()) {
      fail(name, fmt::format("must be an integer, not {}", boost::json::serialize(*value)));
      return;
    }
    const bool in_range =
        value->is_int64() && value->get_int64() >= min && value->get_int64() <= max;
    if (!in_range) {
      fail(name,
           fmt::format("is {}: it must be {} to {}", boost::json::serialize(*value), min, max));
      return;
    }
    member = static_cast<T>(value->get_int64());
  }

  void fail(std::string_view name, std::string_view what) {
    if (!error) error = fmt::format("rules field '{}{}' {}", path, name, what);
  }

  /// Fails on the first field of the object that no member took.
  void refuse_unknown() {
    for (const auto& entry : object) {
      const std::string_view key = entry.key();
      if (known.contains(key)) continue;
      const bool fixed = path.empty() && std::find(fixed_fields.begin(), fixed_fields.end(), key) !=
                                             fixed_fields.end();
      fail(key, fixed ? "is fixed: no rules file may change it" : "is not a field of the rules");
      return;
    }
  }
};

void read_mob(Reader& outer, std::string_view name, MobStats& stats) {
  outer.known.insert(name);
  const auto* value = outer.object.if_contains(name);
  if (value == nullptr || outer.error) return;
  if (!value->is_object()) {
    outer.fail(name, fmt::format("must be an object, not {}", boost::json::serialize(*value)));
    return;
  }
  Reader reader{value->get_object(), fmt::format("{}.", name), outer.error};
  for_each_mob_field(stats, reader);
  reader.known.insert("loot");
  if (const auto* loot = reader.object.if_contains("loot")) {
    if (loot->is_string() && loot->get_string() == "pelt") {
      stats.loot = ItemKind::pelt;
    } else if (loot->is_string() && loot->get_string() == "potion") {
      stats.loot = ItemKind::potion;
    } else {
      reader.fail("loot", fmt::format("must be \"pelt\" or \"potion\", not {}",
                                      boost::json::serialize(*loot)));
    }
  }
  reader.refuse_unknown();
  if (stats.damage_min > stats.damage_max) {
    reader.fail("damage_min",
                fmt::format("is {}, above damage_max {}", stats.damage_min, stats.damage_max));
  }
}

/// Appends `"name":value` to `out`, with the separating comma.
struct Writer {
  std::string& out;

  template <typename T>
  void operator()(std::string_view name, const T& member, std::int64_t, std::int64_t) {
    key(name);
    out += fmt::format("{}", member);
  }
  void key(std::string_view name) {
    if (out.back() != '{') out += ',';
    out += fmt::format("\"{}\":", name);
  }
};

} // namespace

bool Rules::same_map(const Rules& other) const noexcept {
  return tile_mm == other.tile_mm && map_width == other.map_width &&
         map_height == other.map_height && boulder_percent == other.boulder_percent &&
         rock_percent == other.rock_percent && wolf_spawns == other.wolf_spawns &&
         boar_spawns == other.boar_spawns && mob_spawn_min_tiles == other.mob_spawn_min_tiles &&
         waypoint_min_tiles == other.waypoint_min_tiles;
}

const std::shared_ptr<const Rules>& shared_default_rules() {
  static const std::shared_ptr<const Rules> shared = std::make_shared<const Rules>();
  return shared;
}

Result<Rules> parse_rules(std::string_view text) {
  boost::system::error_code failed;
  const boost::json::value parsed = boost::json::parse(text, failed);
  if (failed)
    return make_error(Errc::invalid_argument, "the rules are not JSON: {}", failed.message());
  if (!parsed.is_object())
    return make_error(Errc::invalid_argument, "the rules must be a JSON object, not {}",
                      boost::json::serialize(parsed));
  Rules rules;
  std::optional<std::string> error;
  Reader reader{parsed.get_object(), "", error};
  for_each_field(rules, reader,
                 [&](std::string_view name, MobStats& stats) { read_mob(reader, name, stats); });
  reader.refuse_unknown();
  if (rules.damage_min > rules.damage_max) {
    reader.fail("damage_min",
                fmt::format("is {}, above damage_max {}", rules.damage_min, rules.damage_max));
  }
  if (rules.boulder_percent + rules.rock_percent > 100) {
    reader.fail("rock_percent", fmt::format("is {}: with boulder_percent {} it passes 100",
                                            rules.rock_percent, rules.boulder_percent));
  }
  if (error) return make_error(Errc::invalid_argument, "{}", *error);
  return rules;
}

std::string canonical_rules(const Rules& rules) {
  std::string out = "{";
  Writer writer{out};
  for_each_field(rules, writer, [&](std::string_view name, const MobStats& stats) {
    writer.key(name);
    out += '{';
    for_each_mob_field(stats, writer);
    writer.key("loot");
    out += fmt::format("\"{}\"}}", to_string(stats.loot));
  });
  out += '}';
  return out;
}

log::Hash rules_hash(const Rules& rules) { return log::sha256(canonical_rules(rules)); }

Result<Rules> rules_of_text(std::string_view text) {
  if (text.empty()) return default_rules;
  return parse_rules(text);
}

} // namespace worldlog::game

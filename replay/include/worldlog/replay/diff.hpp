// What changed between two states: entity by entity, field by field, through the model's
// `to_json`, so it works for any model without knowing its types.
//
//   for (const auto& change : replay::diff_states<game::Model>(before, after))
//     fmt::print("{}\n", replay::to_string(change));   // players.17.hp: 80 -> 62
#pragma once

#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <worldlog/zone/model.hpp>

namespace worldlog::replay {

/// One difference between two states, at a path of object keys and entity ids joined by dots
/// ("players.17.hp", "players.23", "next_item_id"; "" for the documents themselves).
struct Change {
  enum class Kind {
    changed, ///< the value at `path` differs
    added,   ///< only the second state has `path` (a new entity or field)
    removed, ///< only the first state has `path`
  };
  Kind kind = Kind::changed;
  std::string path{};
  boost::json::value before{}; ///< null when added
  boost::json::value after{};  ///< null when removed
};

/// The differences from `a` to `b`, in document order. Objects are compared member by member.
/// An array of entities is compared entity by entity, keyed by id: its elements are all
/// objects that carry a scalar "id" or "entity" member, or a member object that carries an
/// "id" (a departure's player), and no key repeats. Any other array (a position, a list of
/// names) is one value. A null on either side stands for an empty object, so the diff from
/// nothing lists everything as added.
[[nodiscard]] std::vector<Change> diff(const boost::json::value& a, const boost::json::value& b);

/// diff of M::to_json of two states of model M.
template <zone::GameModel M>
[[nodiscard]] std::vector<Change> diff_states(const typename M::State& a,
                                              const typename M::State& b) {
  return diff(M::to_json(a), M::to_json(b));
}

/// One line for people: "players.17.hp: 80 -> 62", "players.23: added {...}",
/// "items.2305843009213693953: removed {...}".
[[nodiscard]] std::string to_string(const Change& change);

/// {"path": "players.17.hp", "change": "changed", "before": 80, "after": 62}; an added change
/// has no "before", a removed one no "after".
[[nodiscard]] boost::json::object to_json(const Change& change);
[[nodiscard]] boost::json::array to_json(const std::vector<Change>& changes);

} // namespace worldlog::replay

#include <worldlog/replay/diff.hpp>

#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace worldlog::replay {
namespace {

namespace json = boost::json;

std::string join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string joined;
  joined.reserve(path.size() + 1 + key.size());
  joined.append(path).append(".").append(key);
  return joined;
}

/// A scalar as a path segment: a string as itself, anything else as its JSON text.
std::optional<std::string> key_text(const json::value& value) {
  if (const json::string* text = value.if_string()) return std::string(*text);
  if (value.is_number() || value.is_bool()) return json::serialize(value);
  return std::nullopt;
}

/// The entity id of an array element, if it is an entity (see diff's contract).
std::optional<std::string> entity_key(const json::value& element) {
  const json::object* object = element.if_object();
  if (object == nullptr) return std::nullopt;
  for (const std::string_view field : {"id", "entity"}) {
    if (const json::value* id = object->if_contains(field)) return key_text(*id);
  }
  for (const auto& member : *object) {
    if (const json::object* inner = member.value().if_object()) {
      if (const json::value* id = inner->if_contains("id")) return key_text(*id);
    }
  }
  return std::nullopt;
}

/// The elements of an array of entities, with their ids, in array order.
using Entities = std::vector<std::pair<std::string, const json::value*>>;

/// The elements of `array` by entity id; nullopt when it is not an array of entities with
/// distinct ids.
std::optional<Entities> entities_of(const json::array& array) {
  Entities entities;
  std::set<std::string, std::less<>> seen;
  for (const json::value& element : array) {
    auto key = entity_key(element);
    if (!key || !seen.insert(*key).second) return std::nullopt;
    entities.emplace_back(std::move(*key), &element);
  }
  return entities;
}

class Differ {
public:
  std::vector<Change> changes;

  void value(const std::string& path, const json::value& a, const json::value& b) {
    if (a == b) return;
    if (a.is_object() && b.is_object()) return objects(path, a.get_object(), b.get_object());
    if (a.is_array() && b.is_array()) {
      // An empty array is an empty list of entities, so that the first entity shows as added.
      auto left = entities_of(a.get_array());
      auto right = entities_of(b.get_array());
      if (left && right) return entities(path, *left, *right);
    }
    changes.push_back({Change::Kind::changed, path, a, b});
  }

  void objects(const std::string& path, const json::object& a, const json::object& b) {
    for (const auto& member : a) {
      const std::string at = join(path, member.key());
      if (const json::value* other = b.if_contains(member.key())) {
        value(at, member.value(), *other);
      } else {
        changes.push_back({Change::Kind::removed, at, member.value(), nullptr});
      }
    }
    for (const auto& member : b) {
      if (!a.contains(member.key())) {
        changes.push_back({Change::Kind::added, join(path, member.key()), nullptr, member.value()});
      }
    }
  }

  void entities(const std::string& path, const Entities& a, const Entities& b) {
    std::map<std::string_view, const json::value*, std::less<>> in_b;
    for (const auto& [key, element] : b)
      in_b.emplace(key, element);
    std::set<std::string_view, std::less<>> in_a;
    for (const auto& [key, element] : a) {
      in_a.insert(key);
      const std::string at = join(path, key);
      const auto other = in_b.find(key);
      if (other == in_b.end()) {
        changes.push_back({Change::Kind::removed, at, *element, nullptr});
      } else {
        value(at, *element, *other->second);
      }
    }
    for (const auto& [key, element] : b) {
      if (!in_a.contains(key)) {
        changes.push_back({Change::Kind::added, join(path, key), nullptr, *element});
      }
    }
  }
};

} // namespace

std::vector<Change> diff(const json::value& a, const json::value& b) {
  Differ differ;
  const json::value empty = json::object();
  differ.value("", a.is_null() ? empty : a, b.is_null() ? empty : b);
  return std::move(differ.changes);
}

std::string to_string(const Change& change) {
  const std::string_view path = change.path.empty() ? "(state)" : std::string_view(change.path);
  switch (change.kind) {
  case Change::Kind::added: return std::string(path) + ": added " + json::serialize(change.after);
  case Change::Kind::removed:
    return std::string(path) + ": removed " + json::serialize(change.before);
  case Change::Kind::changed: break;
  }
  return std::string(path) + ": " + json::serialize(change.before) + " -> " +
         json::serialize(change.after);
}

json::object to_json(const Change& change) {
  json::object object;
  object["path"] = change.path;
  switch (change.kind) {
  case Change::Kind::added:
    object["change"] = "added";
    object["after"] = change.after;
    break;
  case Change::Kind::removed:
    object["change"] = "removed";
    object["before"] = change.before;
    break;
  case Change::Kind::changed:
    object["change"] = "changed";
    object["before"] = change.before;
    object["after"] = change.after;
    break;
  }
  return object;
}

json::array to_json(const std::vector<Change>& changes) {
  json::array array;
  array.reserve(changes.size());
  for (const Change& change : changes)
    array.emplace_back(to_json(change));
  return array;
}

} // namespace worldlog::replay

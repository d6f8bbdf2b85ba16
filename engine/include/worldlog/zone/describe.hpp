// What the tools print about the records of a zone's stream, for any model: one describer, fed
// by what the model says about itself.
//
// A model describes itself with optional static members; the tools print what it has and leave
// out what it lacks (an event is then shown by its name only):
//
//   static boost::json::object event_json(const Event&);      // the fields of an event
//   static boost::json::object command_json(const Command&);  // the fields of a command
//   static std::string_view reason_name(std::uint32_t code);  // a rejection code, "" unknown
//   static boost::json::object map_json(const ZoneInfo&);       // a zone's map, for the viewer
//
// describe_event<M> turns a record into {"type": NAME, fields...}: the zone's genesis
// ("ZoneCreated"), a rejection ("CommandRejected", with the refused command and the reason's
// name) or one of the model's events, decoded as every reader decodes (fold.hpp, upcasting an
// older payload version): an older payload that stands for other than one event is
// {"type": "Upcast", "events": [...]}; nullopt for a payload that does not decode as M's.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <worldlog/log/event.hpp>
#include <worldlog/zone/fold.hpp>
#include <worldlog/zone/model.hpp>
#include <worldlog/zone/records.hpp>

namespace worldlog::zone {

template <typename M>
concept DescribesEvents = requires(const typename M::Event& event) {
  { M::event_json(event) } -> std::same_as<boost::json::object>;
};
template <typename M>
concept DescribesCommands = requires(const typename M::Command& command) {
  { M::command_json(command) } -> std::same_as<boost::json::object>;
};
template <typename M>
concept NamesReasons = requires(std::uint32_t code) {
  { M::reason_name(code) } -> std::convertible_to<std::string_view>;
};

template <typename M>
concept DrawsMaps = requires(const ZoneInfo& info) {
  { M::map_json(info) } -> std::same_as<boost::json::object>;
};

/// The map of a zone of M for the viewer (docs/viewer.md); {} when M draws none.
template <GameModel M> [[nodiscard]] boost::json::object map_json(const ZoneInfo& info) {
  if constexpr (DrawsMaps<M>) {
    return M::map_json(info);
  } else {
    return {};
  }
}

/// `text` as a JSON string, each byte that is not part of valid UTF-8 replaced by U+FFFD: a
/// model's strings are bytes from clients, and what the tools print must stay valid JSON.
[[nodiscard]] boost::json::string utf8_text(std::string_view text);

/// {"type": type, then `fields`}.
[[nodiscard]] boost::json::object typed(std::string_view type, boost::json::object fields);

/// The name M gives a rejection code; "" when it has none.
template <GameModel M> [[nodiscard]] std::string_view reason_name(std::uint32_t code) {
  if constexpr (NamesReasons<M>) {
    return M::reason_name(code);
  } else {
    return {};
  }
}

/// An event of M as {"type": its name, its fields (if M describes them)}.
template <GameModel M>
[[nodiscard]] boost::json::object event_json(const typename M::Event& event) {
  if constexpr (DescribesEvents<M>) {
    return typed(M::event_name(event), M::event_json(event));
  } else {
    return typed(M::event_name(event), {});
  }
}

/// A command of M as {"type": its name, its fields (if M describes them)}.
template <GameModel M>
[[nodiscard]] boost::json::object command_json(const typename M::Command& command) {
  if constexpr (DescribesCommands<M>) {
    return typed(M::command_name(command), M::command_json(command));
  } else {
    return typed(M::command_name(command), {});
  }
}

/// Any record of a zone's stream of model M, for people (see the top of this file).
template <GameModel M>
[[nodiscard]] std::optional<boost::json::value> describe_event(const log::EventView& event) {
  switch (event.payload_type()) {
  case genesis_payload_type: {
    auto genesis = decode_genesis(event.payload());
    if (!genesis.ok()) return std::nullopt;
    boost::json::object created{{"model", utf8_text(genesis->model)},
                                {"rules_version", genesis->rules_version},
                                {"zone", genesis->info.zone},
                                {"zone_count", genesis->info.zone_count},
                                {"seed", genesis->info.seed},
                                {"tick_us", genesis->info.tick_us},
                                {"model_config", utf8_text(genesis->info.model_config)}};
    if constexpr (RulesAsData<M>) {
      // The rules the zone was created with: {"version", "hash"}, or the parse error.
      if (auto rules = genesis_rules<M>(genesis->info); rules.ok()) {
        const RulesId id = M::rules_id(*rules);
        created["rules"] = {{"version", id.version}, {"hash", log::to_hex(id.hash)}};
      } else {
        created["rules"] = {{"error", rules.error().message()}};
      }
    }
    return typed("ZoneCreated", std::move(created));
  }
  case command_rejected_payload_type: {
    auto rejected = decode_command_rejected(event.payload());
    if (!rejected.ok()) return std::nullopt;
    boost::json::value command;
    if (auto decoded = M::decode_command(rejected->command); decoded.ok()) {
      command = command_json<M>(*decoded);
    }
    boost::json::object fields{{"code", rejected->code}};
    if (const std::string_view name = reason_name<M>(rejected->code); !name.empty()) {
      fields["reject"] = name;
    }
    fields["reason"] = utf8_text(rejected->reason);
    fields["command_name"] = utf8_text(rejected->command_name);
    fields["command"] = std::move(command);
    return typed("CommandRejected", std::move(fields));
  }
  default: {
    auto decoded = decode_model_event<M>(event);
    if (!decoded.ok()) return std::nullopt;
    if (decoded->size() == 1) return event_json<M>(decoded->front());
    // An older payload its upcaster turned into several events (or none): the events it
    // stands for, in order.
    boost::json::array events;
    for (const auto& model_event : *decoded)
      events.push_back(event_json<M>(model_event));
    return typed("Upcast", {{"events", std::move(events)}});
  }
  }
}

} // namespace worldlog::zone

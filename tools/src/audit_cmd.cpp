// `audit`: what a player did, accepted and refused, across every zone, each zone's records
// described by its own model; whether the log was tampered with; and anchors, the stream heads
// an operator keeps elsewhere so that a rewrite of the whole log (a recomputed hash chain) is
// detected too.
#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <worldlog/log/event_log.hpp>
#include <worldlog/replay/export.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/tools/model_tools.hpp>
#include <worldlog/zone/records.hpp>

#include "tool_commands.hpp"

namespace worldlog::tools {
namespace {

namespace json = boost::json;

// ---- audit player ------------------------------------------------------------------------------

struct PlayerCommand {
  std::string data;
  std::uint64_t player = 0;
  std::optional<std::string> from;
  std::optional<std::string> to;
  bool json = false;
};

/// A decoded value as the text line shows it: points as (x, y), strings quoted, the rest JSON.
std::string shown(const json::value& value) {
  if (value.is_array() && value.get_array().size() == 2 && value.get_array()[0].is_int64() &&
      value.get_array()[1].is_int64()) {
    return fmt::format("({}, {})", value.get_array()[0].get_int64(),
                       value.get_array()[1].get_int64());
  }
  return json::serialize(value);
}

/// "to=(1500, 2000) tick=812": the fields of a decoded event or command but its type and the
/// player's own id, which the audit names already.
std::string fields_text(const json::object& decoded, std::uint64_t player) {
  std::vector<std::string> fields;
  for (const auto& field : decoded) {
    const bool own_id = field.key() == "entity" &&
                        ((field.value().is_uint64() && field.value().get_uint64() == player) ||
                         (field.value().is_int64() && field.value().get_int64() >= 0 &&
                          static_cast<std::uint64_t>(field.value().get_int64()) == player));
    if (field.key() == "type" || own_id) continue;
    fields.push_back(fmt::format("{}={}", std::string_view(field.key()), shown(field.value())));
  }
  return fmt::format("{}", fmt::join(fields, " "));
}

std::string text_of(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

/// One action of the player: an event it caused, or its command that was refused, described by
/// `model`, the model of its zone (none: not described).
json::object action_of(const ModelTools* model, const log::EventView& event, std::uint64_t player) {
  json::object action{{"zone", event.stream()},
                      {"seq", event.seq()},
                      {"position", event.position()},
                      {"wall_time_us", event.wall_time_us()},
                      {"wall_time", replay::format_wall_time(event.wall_time_us())},
                      {"command_id", event.command_id()}};
  const auto decoded = model != nullptr ? model->describe(event) : std::nullopt;
  const json::object none;
  const json::object& fields = decoded && decoded->is_object() ? decoded->get_object() : none;
  if (event.payload_type() == zone::command_rejected_payload_type) {
    const json::value* command = fields.if_contains("command");
    action["accepted"] = false;
    action["name"] = text_of(fields, "command_name");
    action["reject"] = text_of(fields, "reject");
    action["code"] = fields.contains("code") ? fields.at("code") : json::value();
    action["reason"] = text_of(fields, "reason");
    action["description"] =
        fmt::format("{} (code {}): {}{}", text_of(fields, "reject"),
                    fields.contains("code") ? json::serialize(fields.at("code")) : "?",
                    text_of(fields, "reason"),
                    command != nullptr && command->is_object()
                        ? fmt::format("; {}", fields_text(command->get_object(), player))
                        : std::string());
  } else {
    action["accepted"] = true;
    action["name"] =
        decoded ? text_of(fields, "type") : fmt::format("payload type {}", event.payload_type());
    action["description"] = decoded ? fields_text(fields, player) : std::string();
  }
  if (decoded) action["event"] = *decoded;
  return action;
}

std::optional<std::int64_t> time_option(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto parsed = replay::parse_wall_time(*text);
  if (!parsed) fail(parsed.error().message());
  return *parsed;
}

void run_player(const Models& models, const PlayerCommand& options) {
  const auto from = time_option(options.from);
  const auto to = time_option(options.to);
  const auto log = open_existing_log(options.data);
  const log::Actor actor{log::ActorKind::player, options.player};

  // Every action first, then the model of each zone they are in: a zone of a model this binary
  // does not know is refused before anything is printed.
  std::vector<log::Event> events;
  constexpr std::size_t chunk = 4096;
  for (log::Position position = 1;;) {
    auto read = log->read_actor(actor, position, chunk);
    if (!read) fail(fmt::format("reading the actions of {}: {}", actor, read.error()));
    const std::size_t count = read->size();
    if (count > 0) position = read->back().position() + 1;
    for (auto& event : *read) {
      const std::int64_t time = event.wall_time_us();
      if ((from && time < *from) || (to && time >= *to)) continue;
      events.push_back(std::move(event));
    }
    if (count < chunk) break;
  }
  StreamModels zone_models(models, *log);
  std::set<log::StreamId> zones;
  for (const auto& event : events)
    if (zones.insert(event.stream()).second) static_cast<void>(zone_models.of(event.stream()));

  json::array actions;
  std::uint64_t refused = 0;
  for (const auto& event : events) {
    json::object action = action_of(zone_models.of(event.stream()), event.view(), options.player);
    if (!action.at("accepted").as_bool()) ++refused;
    if (!options.json) {
      const std::string name = action.at("accepted").as_bool()
                                   ? text_of(action, "name")
                                   : "REFUSED " + text_of(action, "name");
      const std::string description = text_of(action, "description");
      fmt::print("{}  zone {:<3} seq {:<8} {}\n", replay::format_wall_time(event.wall_time_us()),
                 event.stream(), event.seq(),
                 description.empty() ? name : fmt::format("{:<24} {}", name, description));
    }
    actions.emplace_back(std::move(action));
  }

  const std::uint64_t count = actions.size();
  if (options.json) {
    json::object document{{"player", options.player},
                          {"from", from ? json::value(replay::format_wall_time(*from)) : nullptr},
                          {"to", to ? json::value(replay::format_wall_time(*to)) : nullptr},
                          {"actions", std::move(actions)},
                          {"accepted", count - refused},
                          {"refused", refused}};
    fmt::print("{}\n", json::serialize(document));
    return;
  }
  const std::string window = from || to
                                 ? fmt::format(" from {} to {}", options.from.value_or("the start"),
                                               options.to.value_or("the end"))
                                 : std::string();
  if (count == 0) {
    fmt::print("player {}: no actions in {}{}\n", options.player, options.data, window);
  } else {
    fmt::print("player {}: {} action{} in zone{} {}{}: {} accepted, {} refused\n", options.player,
               count, count == 1 ? "" : "s", zones.size() == 1 ? "" : "s", fmt::join(zones, ", "),
               window, count - refused, refused);
  }
}

// ---- anchors -----------------------------------------------------------------------------------

/// A stream's head as an anchor records it.
struct Anchor {
  log::StreamId stream = 0;
  log::Seq seq = 0;
  std::string hash; ///< lower-case hex
};

std::string anchor_line(const Anchor& anchor) {
  return fmt::format("stream {} seq {} hash {}", anchor.stream, anchor.seq, anchor.hash);
}

/// The anchors in `path`: lines "stream S seq N hash H"; blank lines and lines from '#' on
/// are ignored.
std::vector<Anchor> read_anchors(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(fmt::format("cannot read the anchors file {}", path));
  std::vector<Anchor> anchors;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (const auto comment = line.find('#'); comment != std::string::npos) line.resize(comment);
    std::istringstream words(line);
    std::string stream_word;
    if (!(words >> stream_word)) continue;
    std::string seq_word;
    std::string hash_word;
    std::string rest;
    Anchor anchor;
    const bool parsed =
        stream_word == "stream" && (words >> anchor.stream >> seq_word) && seq_word == "seq" &&
        (words >> anchor.seq >> hash_word) && hash_word == "hash" && (words >> anchor.hash) &&
        !(words >> rest) && anchor.hash.size() == 64 &&
        anchor.hash.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (!parsed) {
      fail(fmt::format("{} line {}: expected 'stream S seq N hash H' (H: 64 hex digits)", path,
                       number));
    }
    for (char& c : anchor.hash)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    anchors.push_back(std::move(anchor));
  }
  return anchors;
}

/// The record of `stream` at `seq`, verified; fails the command if it cannot be read.
log::Event record_at(const log::EventLog& log, log::StreamId stream, log::Seq seq) {
  auto read = log.read_stream(stream, seq, 1);
  if (!read) fail(fmt::format("reading stream {} seq {}: {}", stream, seq, read.error()));
  if (read->empty()) fail(fmt::format("stream {} seq {}: missing", stream, seq));
  return std::move(read->front());
}

// ---- audit verify ------------------------------------------------------------------------------

struct VerifyCommand {
  std::string data;
  std::optional<std::string> anchors;
};

void run_verify(const VerifyCommand& options) {
  const std::vector<Anchor> anchors =
      options.anchors ? read_anchors(*options.anchors) : std::vector<Anchor>();
  const auto log = open_existing_log(options.data);
  std::vector<std::string> failures;
  const auto failed = [&](std::string failure) {
    fmt::print("TAMPERED  {}\n", failure);
    failures.push_back(std::move(failure));
  };

  // Each stream's chain: every record's hash, every link, seqs and positions against the keys.
  const std::vector<log::StreamId> streams = log->streams();
  std::uint64_t events = 0;
  for (const log::StreamId stream : streams) {
    const auto checked = log->verify(stream);
    if (checked) {
      fmt::print("ok        stream {}: {} events, hash chain intact\n", stream, *checked);
      events += *checked;
    } else {
      failed(checked.error().message());
    }
  }
  // The whole log's order: the positions index, gap-free, each entry the record it names.
  const log::Position last = log->last_position();
  std::uint64_t ordered = 0;
  const Status order = log->scan_all(1, last, [&](const log::EventView&) {
    ++ordered;
    return true;
  });
  if (!order) {
    failed(fmt::format("log order: {}", order.error().message()));
  } else if (ordered != last) {
    failed(fmt::format("log order: positions end at {}, and the log says {}", ordered, last));
  } else {
    fmt::print("ok        log order: positions 1 to {} each name their record\n", last);
  }

  // Anchors: a whole-log rewrite recomputes every chain, but cannot reproduce the heads an
  // operator kept elsewhere; a stream shorter than its anchor was cut.
  if (options.anchors) {
    std::set<log::StreamId> anchored;
    for (const Anchor& anchor : anchors) {
      anchored.insert(anchor.stream);
      const log::Seq head = log->head(anchor.stream);
      if (head < anchor.seq) {
        failed(fmt::format("stream {} was truncated: it ends at seq {}, and its anchor has seq {}",
                           anchor.stream, head, anchor.seq));
        continue;
      }
      auto read = log->read_stream(anchor.stream, anchor.seq, 1);
      if (!read || read->empty()) continue; // the chain check above reported it
      const std::string hash = log::to_hex(read->front().hash());
      if (hash != anchor.hash) {
        failed(fmt::format("stream {} seq {} was rewritten: its hash is {}, and the anchor says {}",
                           anchor.stream, anchor.seq, hash, anchor.hash));
      } else {
        fmt::print("ok        stream {}: seq {} matches its anchor\n", anchor.stream, anchor.seq);
      }
    }
    for (const log::StreamId stream : streams) {
      if (!anchored.contains(stream)) {
        fmt::print("note      stream {}: no anchor (newer than the anchors file)\n", stream);
      }
    }
  }

  if (!failures.empty()) {
    fail(fmt::format("audit failed ({} finding{}); first: {}", failures.size(),
                     failures.size() == 1 ? "" : "s", failures.front()));
  }
  fmt::print("audit ok: {} stream{}, {} events{}\n", streams.size(), streams.size() == 1 ? "" : "s",
             events, options.anchors ? fmt::format(", {} anchors matched", anchors.size()) : "");
}

// ---- audit anchor ------------------------------------------------------------------------------

struct AnchorCommand {
  std::string data;
};

void run_anchor(const AnchorCommand& options) {
  const auto log = open_existing_log(options.data);
  std::vector<Anchor> anchors;
  for (const log::StreamId stream : log->streams()) {
    // An anchor vouches for everything before it: a chain that is already broken is refused.
    const auto checked = log->verify(stream);
    if (!checked) fail(fmt::format("not anchoring a damaged log: {}", checked.error()));
    const log::Seq head = log->head(stream);
    anchors.push_back({stream, head, log::to_hex(record_at(*log, stream, head).hash())});
  }
  fmt::print("# worldlog anchors of {} at {}: the head of every stream.\n", options.data,
             replay::format_wall_time(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count()));
  fmt::print("# Keep them elsewhere: `worldlog audit verify --data DIR --anchors FILE` then also\n"
             "# detects a rewrite of the whole log and a stream cut short.\n");
  for (const Anchor& anchor : anchors)
    fmt::print("{}\n", anchor_line(anchor));
}

} // namespace

void add_audit_commands(CLI::App& app, const Models& models) {
  auto* audit = app.add_subcommand(
      "audit", "What players did, and whether the log was tampered with (read-only; works on a "
               "running server's log)");
  audit->require_subcommand(1);

  auto player = std::make_shared<PlayerCommand>();
  auto* player_command = audit->add_subcommand(
      "player", "Every action of a player across all zones in log order, accepted and refused");
  player_command->add_option("--data", player->data, "Directory of the log")->required();
  player_command->add_option("--player", player->player, "The player's id")->required();
  player_command->add_option(
      "--from", player->from,
      "Only actions at or after this time (ISO 8601, UTC unless a zone is given, or µs)");
  player_command->add_option("--to", player->to, "Only actions before this time");
  player_command->add_flag("--json", player->json, "One JSON document");
  player_command->callback([&models, player] { run_player(models, *player); });

  auto verify = std::make_shared<VerifyCommand>();
  auto* verify_command = audit->add_subcommand(
      "verify", "Check every stream's hash chain and the log's order; exit 1 naming the first "
                "tampered record");
  verify_command->add_option("--data", verify->data, "Directory of the log")->required();
  verify_command->add_option(
      "--anchors", verify->anchors,
      "Also compare each stream with the heads `audit anchor` printed (detects a rewrite)");
  verify_command->callback([verify] { run_verify(*verify); });

  auto anchor = std::make_shared<AnchorCommand>();
  auto* anchor_command = audit->add_subcommand(
      "anchor", "Print the head (seq and hash) of every stream, to keep elsewhere for "
                "`audit verify --anchors`");
  anchor_command->add_option("--data", anchor->data, "Directory of the log")->required();
  anchor_command->callback([anchor] { run_anchor(*anchor); });
}

} // namespace worldlog::tools

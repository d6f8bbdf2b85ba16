// `--rules FILE` of demo, serve and sim: the reference game's rules file (docs/rules.md), read
// and checked, and a running world patched to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include <worldlog/game/model.hpp>
#include <worldlog/game/world.hpp>
#include <worldlog/log/types.hpp>
#include <worldlog/tools/cli.hpp>

namespace worldlog::tools {

/// The rules in `path` as their canonical text (what a zone records), or fail() naming the file
/// and what is wrong with it.
[[nodiscard]] inline std::string read_rules_file(const std::string& path) {
  const std::string text = read_text_file(path, "--rules");
  auto rules = game::parse_rules(text);
  if (!rules.ok()) fail(fmt::format("the rules file {}: {}", path, rules.error().message()));
  return game::canonical_rules(*rules);
}

/// "version 2 (3f1a9c0d2e4b)": rules named for people.
[[nodiscard]] inline std::string rules_name(const zone::RulesId& id) {
  return fmt::format("version {} ({})", id.version, log::to_hex(id.hash).substr(0, 12));
}

/// Sends every zone of `world` (1..zones) a ChangeRules to `rules` (canonical text), as the
/// system, and waits for each outcome: a zone already under them appends nothing, one under
/// other rules appends RulesChanged, printed as "zone Z: rules changed to version V (hash) at
/// seq S". A zone that refuses them (rules that would change its map) fails the command.
inline void patch_rules(game::World& world, std::uint64_t zones, const std::string& rules) {
  auto parsed = game::parse_rules(rules);
  if (!parsed.ok()) fail(fmt::format("the rules: {}", parsed.error().message()));
  const std::string name = rules_name(game::Model::rules_id(*parsed));
  for (zone::ZoneId zone = 1; zone <= zones; ++zone) {
    auto answer = std::make_shared<std::promise<Result<zone::Outcome>>>();
    auto outcome = answer->get_future();
    const Status sent =
        world.submit(zone, {log::ActorKind::system, 0}, 0, game::ChangeRules{rules},
                     [answer](Result<zone::Outcome> got) { answer->set_value(std::move(got)); });
    if (!sent.ok()) fail(fmt::format("zone {}: cannot send the rules: {}", zone, sent.error()));
    if (outcome.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
      fail(fmt::format("zone {} did not answer the change of rules within 30 s", zone));
    const Result<zone::Outcome> got = outcome.get();
    if (!got.ok()) fail(fmt::format("zone {}: the change of rules failed: {}", zone, got.error()));
    if (!got->accepted) fail(fmt::format("zone {} refused the rules: {}", zone, got->reason));
    if (got->first_seq != 0)
      fmt::print("zone {}: rules changed to {} at seq {}\n", zone, name, got->first_seq);
  }
}

} // namespace worldlog::tools

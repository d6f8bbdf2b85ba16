// `--fault` of `worldlog serve` and `worldlog demo`: a silent fault injected into a running world
// (game::WorldOptions::drop), so that the behaviour analytics can be seen to find what no log
// reports (docs/behaviour.md, "A worked example").
#pragma once

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <worldlog/game/commands.hpp>
#include <worldlog/tools/cli.hpp>
#include <worldlog/zone/model.hpp>

namespace worldlog::tools {

/// What `--fault` says.
inline constexpr std::string_view fault_help =
    "Inject a silent fault, to see the behaviour analytics find it: "
    "drop-moves:ZONE:PERCENT:AFTER_SECONDS answers that share of the zone's moves as accepted "
    "without deciding or logging them, from that long after the start on";

/// `--fault drop-moves:ZONE:PERCENT:AFTER_SECONDS`: from AFTER_SECONDS after the call on, zone
/// ZONE answers PERCENT moves in a hundred as accepted without deciding or logging them, spread
/// evenly (docs/behaviour.md, "A worked example"). Fails naming what is wrong with `text`.
[[nodiscard]] inline std::function<bool(zone::ZoneId, const game::Command&)>
parse_fault(const std::string& text, std::uint64_t zones) {
  constexpr std::string_view kind = "drop-moves:";
  const auto refuse = [&](std::string_view why) {
    fail(fmt::format("--fault '{}': {} (expected drop-moves:ZONE:PERCENT:AFTER_SECONDS)", text,
                     why));
  };
  if (!text.starts_with(kind)) refuse("the only fault is drop-moves");
  std::vector<std::uint64_t> numbers;
  std::string_view rest = std::string_view(text).substr(kind.size());
  while (numbers.size() < 3) {
    const std::string_view field = rest.substr(0, rest.find(':'));
    std::uint64_t number = 0;
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), number);
    if (field.empty() || error != std::errc() || end != field.data() + field.size())
      refuse(fmt::format("'{}' is not a number", field));
    numbers.push_back(number);
    rest = field.size() == rest.size() ? std::string_view() : rest.substr(field.size() + 1);
    if (rest.empty() && numbers.size() < 3) refuse("it has fewer than three numbers");
  }
  if (!rest.empty()) refuse("it has more than three numbers");
  const std::uint64_t faulted = numbers[0];
  const std::uint64_t percent = numbers[1];
  if (faulted < 1 || faulted > zones) refuse(fmt::format("the world has zones 1 to {}", zones));
  if (percent > 100) refuse("PERCENT is at most 100");
  const auto onset = std::chrono::steady_clock::now() + std::chrono::seconds(numbers[2]);
  auto moves = std::make_shared<std::atomic<std::uint64_t>>(0);
  return [faulted, percent, onset, moves](zone::ZoneId to, const game::Command& command) {
    if (to != faulted || !std::holds_alternative<game::Move>(command) ||
        std::chrono::steady_clock::now() < onset) {
      return false;
    }
    // Move n is dropped when it takes the count of dropped ones to the next whole number.
    const std::uint64_t n = moves->fetch_add(1, std::memory_order_relaxed);
    return (n + 1) * percent / 100 > n * percent / 100;
  };
}

} // namespace worldlog::tools

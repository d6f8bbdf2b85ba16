// The market's invariants, for `worldlog replay bisect --invariant NAME` and the tests:
//
//   gold_conserved     gold held by the traders (online and offline) == minted - burned +
//                      carried in - carried out, and nobody's gold is negative
//   goods_conserved    for each item: goods held + goods in open listings == gathered + crafted -
//                      consumed + carried in - carried out
//   orders_backed      every open listing is of a trader of this market, with goods left to sell
//                      and a price within the rules
//   one_market         no trader is in this market and in another at the same wall time
#pragma once

#include <optional>
#include <string>

#include <worldlog/replay/bisect.hpp>

#include <market/model.hpp>

namespace worldlog::market {

/// The four invariants above, registered under their names.
[[nodiscard]] replay::Invariants<Model> invariants();

/// The checks that need nothing but the state: nullopt when it holds, else the first violation.
[[nodiscard]] std::optional<std::string> gold_violation(const State& state);
[[nodiscard]] std::optional<std::string> goods_violation(const State& state);
[[nodiscard]] std::optional<std::string> order_violation(const State& state);

} // namespace worldlog::market

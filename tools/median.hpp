// The median of a benchmark's repeated figures (rounds, runs).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace worldlog::tools {

/// The middle value of `values` (the mean of the two middle ones for an even count).
/// REQUIRES: `values` is not empty.
[[nodiscard]] inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t half = values.size() / 2;
  return values.size() % 2 == 1 ? values[half] : (values[half - 1] + values[half]) / 2;
}

} // namespace worldlog::tools

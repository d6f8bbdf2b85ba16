// The tools' latency histogram is the engine's (worldlog/latency_histogram.hpp).
#pragma once

#include <worldlog/latency_histogram.hpp>

namespace worldlog::tools {

using worldlog::LatencyHistogram;

} // namespace worldlog::tools

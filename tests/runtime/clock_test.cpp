// Clocks: the manual clock moves only when told; the system clock is the wall clock.
#include <chrono>

#include <doctest/doctest.h>

#include <worldlog/runtime/clock.hpp>

namespace worldlog::runtime::testing {
namespace {

using namespace std::chrono_literals;

TEST_CASE("a manual clock moves only when set or advanced") {
  ManualClock clock(1'000);
  CHECK(clock.now_us() == 1'000);
  clock.advance(2s);
  CHECK(clock.now_us() == 2'001'000);
  clock.set(5);
  CHECK(clock.now_us() == 5);
}

TEST_CASE("the system clock reads microseconds since the Unix epoch") {
  const SystemClock clock;
  const auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto now = clock.now_us();
  const auto after = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  CHECK(before <= now);
  CHECK(now <= after);
}

} // namespace
} // namespace worldlog::runtime::testing

#include <worldlog/runtime/clock.hpp>

namespace worldlog::runtime {

std::int64_t SystemClock::now_us() const noexcept {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace worldlog::runtime

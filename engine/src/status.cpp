#include <worldlog/status.hpp>

namespace worldlog {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
  case Errc::conflict: return "conflict";
  case Errc::corruption: return "corruption";
  case Errc::not_found: return "not_found";
  case Errc::invalid_argument: return "invalid_argument";
  case Errc::io_error: return "io_error";
  case Errc::incompatible_format: return "incompatible_format";
  case Errc::fell_behind: return "fell_behind";
  case Errc::closed: return "closed";
  case Errc::timeout: return "timeout";
  case Errc::overloaded: return "overloaded";
  case Errc::deadlock: return "deadlock";
  }
  return "unknown";
}

std::string Error::to_string() const { return fmt::format("{}", *this); }

} // namespace worldlog

// Errors as values: Error, Status (ok or an Error) and Result<T> (a T or an Error).
//
// The storage and replay paths never throw for conditions a caller must handle (a conflict, a
// corrupt record, a full buffer); they return one of these. Both are [[nodiscard]], so an
// ignored error has to be ignored explicitly.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace worldlog {

/// What went wrong, as a category callers can branch on. The message says the specifics.
enum class Errc {
  conflict,            ///< optimistic concurrency: the stream was not at the expected seq
  corruption,          ///< a stored record failed verification
  not_found,           ///< the stream, seq, position or snapshot does not exist
  invalid_argument,    ///< the caller asked for something malformed
  io_error,            ///< the storage engine failed; the log refuses appends until reopened
  incompatible_format, ///< the data was written by a newer (or foreign) format
  fell_behind,         ///< a subscriber was too slow for its bounded buffer
  closed,              ///< the object was closed or is shutting down
  timeout,             ///< no answer within the allowed time
  overloaded,          ///< a bounded queue is full
  deadlock,            ///< a synchronous call would close a cycle
};

[[nodiscard]] std::string_view to_string(Errc code) noexcept;

class [[nodiscard]] Error {
public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  [[nodiscard]] Errc code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// "conflict: stream 7 expected seq 3, actual 5"
  [[nodiscard]] std::string to_string() const;

private:
  Errc code_;
  std::string message_;
};

/// Builds an Error with an fmt-formatted message: `make_error(Errc::conflict, "stream {}", s)`.
template <typename... Args>
[[nodiscard]] Error make_error(Errc code, fmt::format_string<Args...> format, Args&&... args) {
  return Error(code, fmt::format(format, std::forward<Args>(args)...));
}

/// A T or an Error. Accessing the wrong alternative is a bug and asserts.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : value_(std::move(value)) {}     // NOLINT(google-explicit-constructor)
  Result(Error error) : value_(std::move(error)) {} // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return value_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & {
    assert(ok());
    return std::get<0>(value_);
  }
  [[nodiscard]] const T& value() const& {
    assert(ok());
    return std::get<0>(value_);
  }
  [[nodiscard]] T&& value() && {
    assert(ok());
    return std::get<0>(std::move(value_));
  }
  [[nodiscard]] const Error& error() const& {
    assert(!ok());
    return std::get<1>(value_);
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(value_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

private:
  std::variant<T, Error> value_;
};

/// Ok, or an Error.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {} // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] const Error& error() const& {
    assert(!ok());
    return *error_;
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok());
    return *std::move(error_);
  }

private:
  std::optional<Error> error_;
};

} // namespace worldlog

template <> struct fmt::formatter<worldlog::Errc> : fmt::formatter<std::string_view> {
  auto format(worldlog::Errc code, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(worldlog::to_string(code), ctx);
  }
};

template <> struct fmt::formatter<worldlog::Error> : fmt::formatter<std::string_view> {
  auto format(const worldlog::Error& error, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}: {}", error.code(), error.message());
  }
};

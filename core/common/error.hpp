// Errors inside core are values: an Errc plus a message, carried by Status and Expected<T>.
// Exceptions are kept for bugs and for failures at the edges (parsing libraries).
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vdb {

enum class Errc {
  ok = 0,
  invalid_argument, // a caller-supplied value is wrong; the message names the field
  not_found,
  already_exists,
  out_of_range,
  io_error,
  no_space,
  corrupt, // stored data failed a check
  unsupported,
  out_of_memory,
  internal,
  permission_denied, // the caller's key does not allow the request
  deadline_exceeded, // the request's timeout passed before it was served
  unavailable,       // the service is shutting down or overloaded
};

const char* to_string(Errc code) noexcept;

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

/// An invalid_argument error that names the field at fault: "field: what".
inline Error invalid(std::string_view field, std::string_view what) {
  std::string message(field);
  message += ": ";
  message += what;
  return Error{Errc::invalid_argument, std::move(message)};
}

/// Success, or an Error.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {} // NOLINT(google-explicit-constructor)
  Status(Errc code, std::string message) : error_(Error{code, std::move(message)}) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { return *error_; }
  Errc code() const noexcept { return error_ ? error_->code : Errc::ok; }
  const std::string& message() const {
    static const std::string kEmpty;
    return error_ ? error_->message : kEmpty;
  }

private:
  std::optional<Error> error_;
};

/// A value of T, or an Error.
template <class T> class [[nodiscard]] Expected {
public:
  Expected(T value) : data_(std::move(value)) {}     // NOLINT(google-explicit-constructor)
  Expected(Error error) : data_(std::move(error)) {} // NOLINT(google-explicit-constructor)
  Expected(Errc code, std::string message) : data_(Error{code, std::move(message)}) {}

  bool ok() const noexcept { return std::holds_alternative<T>(data_); }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Expected*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(data_); }
  Status status() const { return ok() ? Status() : Status(error()); }

private:
  T& checked() {
    if (!ok()) {
      // Reading the value of a failed Expected is a bug in the caller.
      std::abort();
    }
    return std::get<T>(data_);
  }
  std::variant<T, Error> data_;
};

} // namespace vdb

/// Returns the error of `expr` (a Status or Expected) from the enclosing function.
#define VDB_TRY(expr)                                                                              \
  do {                                                                                             \
    if (auto&& vdb_try_result_ = (expr); !vdb_try_result_.ok()) {                                  \
      return vdb_try_result_.error();                                                              \
    }                                                                                              \
  } while (false)

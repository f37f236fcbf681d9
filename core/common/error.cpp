#include "core/common/error.hpp"

namespace vdb {

const char* to_string(Errc code) noexcept {
  switch (code) {
  case Errc::ok:
    return "ok";
  case Errc::invalid_argument:
    return "invalid argument";
  case Errc::not_found:
    return "not found";
  case Errc::already_exists:
    return "already exists";
  case Errc::out_of_range:
    return "out of range";
  case Errc::io_error:
    return "I/O error";
  case Errc::no_space:
    return "no space";
  case Errc::corrupt:
    return "corrupt data";
  case Errc::unsupported:
    return "unsupported";
  case Errc::out_of_memory:
    return "out of memory";
  case Errc::internal:
    return "internal error";
  case Errc::permission_denied:
    return "permission denied";
  case Errc::deadline_exceeded:
    return "deadline exceeded";
  case Errc::unavailable:
    return "unavailable";
  }
  return "unknown error";
}

} // namespace vdb

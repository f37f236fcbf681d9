// RAII owner of a dlopen handle.
#pragma once

#include "core/common/error.hpp"

#include <string>

namespace vdb {

class SharedLibrary {
public:
  /// dlopen(path, RTLD_NOW | RTLD_LOCAL): every symbol is resolved now, none leaks into others.
  static Expected<SharedLibrary> open(const std::string& path);

  SharedLibrary(SharedLibrary&& other) noexcept;
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  ~SharedLibrary();

  /// The address of `name`, or nullptr when the library does not export it.
  void* symbol(const char* name) const noexcept;
  const std::string& path() const noexcept { return path_; }

private:
  SharedLibrary(void* handle, std::string path) noexcept
      : handle_(handle), path_(std::move(path)) {}
  void* handle_ = nullptr;
  std::string path_;
};

} // namespace vdb

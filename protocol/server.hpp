// The RPC server: Cap'n Proto on one dedicated thread (its own kj event loop), translating each
// call into a Service request and the answer back; no logic of its own. Answers come back from
// the actors through kj cross-thread fulfillers, so the event loop never blocks on a request.
#pragma once

#include "core/actors/service.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace vdb {

struct RpcServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;        ///< 0: any free port (see RpcServer::port)
  std::string api_key;           ///< empty: no authentication
  std::string read_only_api_key; ///< empty: none
  std::size_t max_message_bytes = 32U << 20;
};

class RpcServer {
public:
  /// Binds and starts serving `service` (which must outlive the server).
  static Expected<std::unique_ptr<RpcServer>> start(Service& service,
                                                    const RpcServerOptions& options);
  /// Stops (see stop()).
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// Stops accepting, closes the connections (calls still in flight are cancelled: their
  /// answers are dropped) and joins the server thread.
  void stop();

  class Impl;

private:
  RpcServer() = default;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

/// Whether two keys are equal, in time that depends only on their lengths, not on where they
/// differ.
bool keys_equal(const std::string& a, const std::string& b) noexcept;

} // namespace vdb

// What server.cc (listener, lifecycle) and session.cc (one connection) share. Private to src/net.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "lunal/net/server.h"

namespace lunal::net::internal {

// A live connection, as the server sees it when stopping.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Called from the thread running HttpServer::Stop: close the connection if it is between
  // requests; otherwise finish the current request (its response carries Connection: close).
  virtual void OnServerStop() = 0;
};

// State shared by the server and its sessions. Sessions hold it by shared_ptr, so it outlives the
// io_context whose destruction may destroy the last sessions.
struct ServerShared {
  ServerShared(ServerOptions opts, Router r) : options(std::move(opts)), router(std::move(r)) {}

  const ServerOptions options;
  const Router router;
  std::unique_ptr<boost::asio::ssl::context> ssl;  // set before Start when options.tls is set

  std::atomic<bool> stopping{false};
  // Set when Stop's grace period is over: responses not yet started are never written.
  std::atomic<bool> aborting{false};
  std::atomic<std::uint64_t> accepted_connections{0};
  std::atomic<std::uint64_t> requests_served{0};

  std::mutex mu;
  std::condition_variable sessions_changed;  // notified when a session leaves `sessions`
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionControl>> sessions;  // guarded by mu
  std::uint64_t next_session_id = 0;                                          // guarded by mu
};

// Takes over an accepted socket (whose executor runs one handler at a time: its strand, or the
// io_context of a one-thread server): registers the session and
// starts serving it, or closes the socket when the server is stopping.
void StartSession(const std::shared_ptr<ServerShared>& shared, boost::asio::ip::tcp::socket socket);

}  // namespace lunal::net::internal

// HttpServer: options check, listening socket, accept loop, I/O threads and graceful Stop.
// Connections themselves live in session.cc.
#include "lunal/net/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <thread>
#include <vector>

#include "server_internal.h"
#include "tls.h"

namespace lunal::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr int kMaxThreads = 256;
// After a failed accept (out of file descriptors, say), wait before trying again rather than spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

Status CheckOptions(const ServerOptions& options) {
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return InvalidArgument("net.bad_options", "threads must be 1..{}, got {}", kMaxThreads,
                           options.threads);
  }
  if (options.max_body_bytes == 0 || options.max_header_bytes < 256) {
    return InvalidArgument("net.bad_options",
                           "max_body_bytes must be > 0 and max_header_bytes >= 256");
  }
  using std::chrono::milliseconds;
  if (options.read_timeout <= milliseconds(0) || options.idle_timeout <= milliseconds(0) ||
      options.write_timeout <= milliseconds(0)) {
    return InvalidArgument("net.bad_options", "timeouts must be positive");
  }
  return Status::Ok();
}

}  // namespace

struct HttpServer::Impl {
  enum class State { kNew, kRunning, kStopped };

  Impl(ServerOptions options, Router router)
      : shared(std::make_shared<internal::ServerShared>(std::move(options), std::move(router))) {}

  Status Start();
  void Stop(std::chrono::milliseconds grace);
  void Accept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket);
  void RunThread();

  std::shared_ptr<internal::ServerShared> shared;
  State state = State::kNew;
  std::atomic<std::uint16_t> port{0};
  // Destroyed explicitly in Stop, in this order: the acceptor and timer, then the io_context
  // (whose pending handlers hold the last sessions).
  std::unique_ptr<asio::io_context> io;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> retry_timer;
  std::vector<std::thread> threads;
};

Status HttpServer::Impl::Start() {
  if (state != State::kNew) {
    return Conflict("net.server_state", "Start on a server that was already started");
  }
  const ServerOptions& options = shared->options;
  LUNAL_RETURN_IF_ERROR(CheckOptions(options));
  if (options.tls) {
    LUNAL_ASSIGN_OR_RETURN(internal::SslCtxPtr ctx, internal::MakeServerSslContext(*options.tls));
    shared->ssl = std::make_unique<asio::ssl::context>(ctx.release());  // takes ownership
  }
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(options.bind_address, ec);
  if (ec) {
    return InvalidArgument("net.bad_options", "bind_address '{}' is not an IP address",
                           options.bind_address);
  }
  io = std::make_unique<asio::io_context>(options.threads);
  acceptor.emplace(asio::make_strand(*io));
  retry_timer.emplace(acceptor->get_executor());
  tcp::endpoint endpoint(address, options.port);
  if (options.listen_fd >= 0) {
    // The inherited listening socket: its family decides the protocol; it must be listening.
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof(bound);
    int listening = 0;
    socklen_t listening_len = sizeof(listening);
    if (::getsockname(options.listen_fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0 ||
        (bound.ss_family != AF_INET && bound.ss_family != AF_INET6) ||
        ::getsockopt(options.listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &listening_len) !=
            0 ||
        listening == 0) {
      ::close(options.listen_fd);
      acceptor.reset();
      retry_timer.reset();
      io.reset();
      return InvalidArgument("net.bad_options", "listen_fd {} is not a listening TCP socket",
                             options.listen_fd);
    }
    acceptor->assign(bound.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), options.listen_fd, ec);
    if (ec) ::close(options.listen_fd);
  } else {
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) port = acceptor->local_endpoint(ec).port();
  if (ec) {
    std::string where = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    acceptor.reset();
    retry_timer.reset();
    io.reset();
    return Unavailable("net.bind_failed", "cannot listen on {}:{}: {}", where, options.port,
                       ec.message());
  }
  state = State::kRunning;
  Accept();
  threads.reserve(static_cast<std::size_t>(options.threads));
  for (int i = 0; i < options.threads; ++i) threads.emplace_back([this] { RunThread(); });
  return Status::Ok();
}

void HttpServer::Impl::RunThread() {
  while (true) {
    try {
      io->run();
      return;
    } catch (const std::exception& e) {
      // Something under a connection threw (allocation failure, say). That connection's handler
      // state is gone; the server carries on.
      if (shared->options.on_internal_error) {
        shared->options.on_internal_error(
            HttpRequest{}, Internal("internal.io_exception", "I/O thread caught: {}", e.what()));
      }
    }
  }
}

void HttpServer::Impl::Accept() {
  // A connection's handlers must not run concurrently: with several I/O threads each connection
  // gets a strand; with one, the io_context's own executor already runs one handler at a time,
  // and a strand would only add a queue and a lock to every completion.
  asio::any_io_executor executor = shared->options.threads == 1
                                       ? asio::any_io_executor(io->get_executor())
                                       : asio::any_io_executor(asio::make_strand(*io));
  acceptor->async_accept(executor, [this](boost::system::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (!acceptor->is_open() || shared->stopping.load()) return;
  if (ec) {
    retry_timer->expires_after(kAcceptRetryDelay);
    retry_timer->async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && acceptor->is_open()) Accept();
    });
    return;
  }
  shared->accepted_connections.fetch_add(1);
  internal::StartSession(shared, std::move(socket));
  Accept();
}

void HttpServer::Impl::Stop(std::chrono::milliseconds grace) {
  for (const std::thread& thread : threads) {
    if (thread.get_id() == std::this_thread::get_id()) {
      // A handler stopping its own server would join itself: our caller's bug, not input.
      std::fprintf(stderr, "lunal::net::HttpServer::Stop called from a handler\n");
      std::abort();
    }
  }
  if (state != State::kRunning) {
    state = State::kStopped;
    return;
  }
  state = State::kStopped;
  shared->stopping.store(true);
  // The acceptor belongs to its strand; close it there. New connects are refused from then on.
  asio::post(acceptor->get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor->close(ignored);
    retry_timer->cancel();
  });
  std::vector<std::shared_ptr<internal::SessionControl>> live;
  {
    std::lock_guard<std::mutex> lock(shared->mu);
    for (auto& [id, weak] : shared->sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) session->OnServerStop();
  live.clear();  // a session must not outlive the wait below because of us
  {
    std::unique_lock<std::mutex> lock(shared->mu);
    shared->sessions_changed.wait_for(lock, grace, [&] { return shared->sessions.empty(); });
  }
  shared->aborting.store(true);
  io->stop();  // threads still inside a handler finish it; its response is dropped
  for (std::thread& thread : threads) thread.join();
  threads.clear();
  retry_timer.reset();
  acceptor.reset();
  io.reset();  // destroys the handlers of connections that outlived the grace period
}

HttpServer::HttpServer(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

// Stop throws only if allocation or thread joining fails; terminating then is the right outcome.
// NOLINTNEXTLINE(bugprone-exception-escape)
HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Status HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }

std::uint16_t HttpServer::port() const { return impl_->port.load(); }

ServerStats HttpServer::stats() const {
  ServerStats stats;
  stats.accepted_connections = impl_->shared->accepted_connections.load();
  stats.requests_served = impl_->shared->requests_served.load();
  std::lock_guard<std::mutex> lock(impl_->shared->mu);
  stats.active_connections = impl_->shared->sessions.size();
  return stats;
}

}  // namespace lunal::net

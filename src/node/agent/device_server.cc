// The node's side of the simulated TDX device (device.h): one SimTdxAttester per instance,
// served on a Unix socket bound into the sandbox. The quote is signed here, outside the sandbox.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "internal.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/cds/instance.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"

namespace lunal::node::internal {
namespace {

constexpr std::size_t kMaxRequestBytes = std::size_t{1} << 20;  // device.h

Json ErrorReply(const Status& s) {
  return Json{{"ok", false}, {"reason", s.reason()}, {"message", s.message()}};
}

Json OkReply() { return Json{{"ok", true}}; }

Status BadRequest(std::string_view message) {
  return InvalidArgument("node.device.bad_request", std::string(message));
}

}  // namespace

DeviceServer::DeviceServer(std::filesystem::path socket_path, attest::sim::SimTdxAttester* attester,
                           DeviceCallbacks callbacks)
    : socket_path_(std::move(socket_path)), attester_(attester), callbacks_(std::move(callbacks)) {}

DeviceServer::~DeviceServer() { Stop(); }

Status DeviceServer::Start() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = socket_path_.string();
  // sun_path holds 108 bytes; a longer path is bound through its folder's descriptor
  // (/proc/self/fd/N/name), which names the same place.
  int dir_fd = -1;
  std::string bind_path = path;
  if (path.size() >= sizeof addr.sun_path) {
    dir_fd = ::open(socket_path_.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
      return Unavailable("node.device.bind_failed", "{}: {}", path, std::strerror(errno));
    }
    bind_path = fmt::format("/proc/self/fd/{}/{}", dir_fd, socket_path_.filename().string());
  }
  if (bind_path.size() >= sizeof addr.sun_path) {
    if (dir_fd >= 0) ::close(dir_fd);
    return Unavailable("node.device.bind_failed", "socket name {} is too long", path);
  }
  std::memcpy(addr.sun_path, bind_path.c_str(), bind_path.size() + 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    const int e = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    return Unavailable("node.device.bind_failed", "socket: {}", std::strerror(e));
  }
  ::unlink(path.c_str());
  const bool ok = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::chmod(path.c_str(), 0666) == 0 && ::listen(listen_fd_, 16) == 0;
  const int e = errno;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!ok) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Unavailable("node.device.bind_failed", "{}: {}", path, std::strerror(e));
  }
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void DeviceServer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void DeviceServer::Serve() {
  while (!stopping_) {
    pollfd p{.fd = listen_fd_, .events = POLLIN, .revents = 0};
    const int n = ::poll(&p, 1, 100);
    if (n <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ServeOne(fd);
    ::close(fd);
  }
}

void DeviceServer::ServeOne(int fd) {
  // One call per connection, bounded in time and size: the instance cannot hold the device.
  timeval tv{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string in;
  char buf[8192];
  Json reply;
  while (true) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    in.append(buf, static_cast<std::size_t>(got));
    if (in.find('\n') != std::string::npos || in.size() > kMaxRequestBytes) break;
  }
  const std::size_t nl = in.find('\n');
  if (nl == std::string::npos || nl > kMaxRequestBytes) {
    reply = ErrorReply(BadRequest("one JSON object and a newline, at most 1 MiB"));
  } else {
    auto request = ParseJson(std::string_view(in).substr(0, nl));
    reply = request.ok() && request->is_object()
                ? Handle(*request)
                : ErrorReply(BadRequest("the request is not a JSON object"));
  }
  const std::string out = DumpJson(reply) + "\n";
  std::size_t done = 0;
  while (done < out.size()) {
    // send(2) with MSG_NOSIGNAL: an instance that died mid-call must not SIGPIPE the node.
    const ssize_t put = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) break;
    done += static_cast<std::size_t>(put);
  }
}

Json DeviceServer::Handle(const Json& request) {
  auto op = JsonString(request, "op");
  if (!op.ok()) return ErrorReply(BadRequest("\"op\" must be a string"));
  if (*op == "extend") {
    auto rtmr = JsonInt(request, "rtmr");
    auto event_b64 = JsonString(request, "event");
    if (!rtmr.ok() || !event_b64.ok()) {
      return ErrorReply(BadRequest("extend needs \"rtmr\" (integer) and \"event\" (base64)"));
    }
    // RTMR0..2 hold the boot measurements the node took before the sandbox started; the agent
    // may only append Lunal's own events to RTMR3 (DESIGN.md "Binding formats").
    if (*rtmr != 3) {
      return ErrorReply(PermissionDenied("node.device.rtmr_not_allowed",
                                         "RTMR{} is measured by the node; only RTMR3 is extended",
                                         *rtmr));
    }
    auto event = Base64Decode(*event_b64);
    if (!event.ok()) return ErrorReply(BadRequest("\"event\" is not base64"));
    if (auto decoded = attest::tdx::DecodeLunalEvent(*event); !decoded.ok()) {
      return ErrorReply(InvalidArgument("node.device.not_lunal_event",
                                        "RTMR3 takes Lunal events only: {}",
                                        decoded.error().ToString()));
    }
    const auto digest = crypto::Sha384(*event);
    if (Status s = attester_->ExtendRtmr(3, digest, *event); !s.ok()) return ErrorReply(s);
    return OkReply();
  }
  if (*op == "quote") {
    auto hex = JsonString(request, "report_data");
    if (!hex.ok()) return ErrorReply(BadRequest("quote needs \"report_data\" (128 hex digits)"));
    auto bytes = HexDecode(*hex);
    if (!bytes.ok() || bytes->size() != attest::kReportDataSize) {
      return ErrorReply(BadRequest("\"report_data\" must be 128 hex digits"));
    }
    std::span<const std::uint8_t, attest::kReportDataSize> rd(bytes->data(),
                                                              attest::kReportDataSize);
    auto evidence = attester_->Attest(rd);
    if (!evidence.ok()) return ErrorReply(evidence.error());
    return Json{{"ok", true}, {"evidence", cds::EvidenceEnvelope(*evidence)}};
  }
  if (*op == "ready") {
    if (!callbacks_.on_ready) return OkReply();
    if (Status s = callbacks_.on_ready(request); !s.ok()) return ErrorReply(s);
    return OkReply();
  }
  if (*op == "cds") {
    auto path = JsonString(request, "path");
    if (!path.ok() || (*path != "/v1/cds/challenge" && *path != "/v1/cds/certificates")) {
      return ErrorReply(
          BadRequest("cds needs \"path\": /v1/cds/challenge or /v1/cds/certificates"));
    }
    if (!request.contains("body") || !request["body"].is_object()) {
      return ErrorReply(BadRequest("cds needs a JSON object \"body\""));
    }
    if (!callbacks_.on_cds_post) {
      return ErrorReply(Unavailable("node.device.no_cds", "this node relays no CDS requests"));
    }
    auto answer = callbacks_.on_cds_post(*path, request["body"]);
    if (!answer.ok()) {
      Json reply = ErrorReply(answer.error());
      reply["code"] = std::string(CodeName(answer.error().code()));
      return reply;
    }
    return Json{{"ok", true}, {"answer", std::move(*answer)}};
  }
  if (*op == "failed") {
    auto reason = JsonString(request, "reason");
    auto message = JsonString(request, "message");
    if (!reason.ok()) return ErrorReply(BadRequest("failed needs \"reason\""));
    if (callbacks_.on_failed) {
      callbacks_.on_failed(*reason, message.ok() ? *message : std::string());
    }
    return OkReply();
  }
  return ErrorReply(BadRequest("unknown op"));
}

}  // namespace lunal::node::internal

// RunInstanceAgent (instance.h): steps 1–8, in that order, as a flat pipeline in Agent::Run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "app_process.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/cds/enroll.h"
#include "lunal/common/log.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "lunal/node/device.h"
#include "lunal/node/instance.h"

extern char** environ;

namespace lunal::node {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kExitFailed = kInstanceExitFailed;
constexpr int kExitAppExited = kInstanceExitAppExited;
constexpr auto kAppStartTimeout = seconds(20);
constexpr auto kAppPollStep = milliseconds(100);

// RFC 9110 §7.6.1: connection-specific fields a proxy must not forward, plus the framing fields
// net's client and server set themselves (Host, Content-Length).
bool IsHopByHop(std::string_view name, const net::HttpHeaders& headers) {
  static constexpr std::array<std::string_view, 11> kFixed = {"connection",
                                                              "proxy-connection",
                                                              "keep-alive",
                                                              "te",
                                                              "trailer",
                                                              "transfer-encoding",
                                                              "upgrade",
                                                              "proxy-authorization",
                                                              "proxy-authenticate",
                                                              "host",
                                                              "content-length"};
  for (std::string_view h : kFixed) {
    if (net::EqualsIgnoreCase(name, h)) return true;
  }
  // Fields the sender named in Connection are hop-by-hop too.
  for (const auto& [n, value] : headers) {
    if (!net::EqualsIgnoreCase(n, "connection")) continue;
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t end = std::min(value.find(',', start), value.size());
      std::string_view token = std::string_view(value).substr(start, end - start);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      if (!token.empty() && net::EqualsIgnoreCase(name, token)) return true;
      start = end + 1;
    }
  }
  return false;
}

net::HttpHeaders EndToEnd(const net::HttpHeaders& headers) {
  net::HttpHeaders out;
  for (const auto& [name, value] : headers) {
    if (!IsHopByHop(name, headers)) out.emplace_back(name, value);
  }
  return out;
}

bool PortAccepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::map<std::string, std::string> AppEnvironment(const InstanceSpec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
  }
  for (const auto& [name, value] : spec.env) env[name] = value;
  env["PORT"] = std::to_string(spec.app_port);
  return env;
}

class Agent {
 public:
  Agent(const InstanceSpec& spec, int signal_fd)
      : spec_(spec), signal_fd_(signal_fd), device_(spec.device) {}

  ~Agent() {
    StopRenewal();
    StopHealth();
  }

  int Run() {
    if (Status s = Start(); !s.ok()) {
      log::Error("instance.failed", {{"reason", s.reason()}, {"message", s.message()}});
      if (Status r = device_.ReportFailed(s.reason(), s.message()); !r.ok()) {
        log::Error("instance.report_failed", {{"reason", r.reason()}, {"message", r.message()}});
      }
      if (server_) server_->Stop(milliseconds(0));
      if (app_) app_->Stop(milliseconds(spec_.app_grace_ms));
      return kExitFailed;
    }
    return Wait();
  }

 private:
  // Steps 1–6; the renewal thread (step 7) starts once the instance is ready.
  Status Start() {
    // 1. RTMR3: the build hash, then the instance id (DESIGN.md "Binding formats").
    LUNAL_RETURN_IF_ERROR(Extend(attest::tdx::LunalEventType::kBuildHash, spec_.build_hash));
    LUNAL_RETURN_IF_ERROR(Extend(attest::tdx::LunalEventType::kInstanceId, spec_.instance_id));
    // 2. The instance key, generated here; only its public half ever leaves the process.
    LUNAL_ASSIGN_OR_RETURN(key_, crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
    // 3. The mesh certificate (docs/protocols/cds.md §1–2).
    LUNAL_ASSIGN_OR_RETURN(cds::Enrolment enrolment, EnrollNow());
    LUNAL_ASSIGN_OR_RETURN(
        creds_, mesh::MeshCredentials::Load(enrolment.certificate_pem, enrolment.key_pem));
    log::Info("instance.enrolled",
              {{"uri", creds_->Identity().Uri()}, {"serial", creds_->Identity().serial_hex}});
    // 4. The app, and its port.
    LUNAL_ASSIGN_OR_RETURN(
        app_, internal::AppProcess::Start(spec_.command, spec_.app_dir, AppEnvironment(spec_)));
    log::Info("instance.app_started", {{"pid", app_->pid()}});
    LUNAL_RETURN_IF_ERROR(WaitForApp());
    // 5. Mesh TLS in front of it.
    LUNAL_RETURN_IF_ERROR(Serve());
    // 6. Ready.
    const std::string address = fmt::format("127.0.0.1:{}", server_->port());
    LUNAL_RETURN_IF_ERROR(device_.ReportReady(Json{{"address", address},
                                                   {"nonce", enrolment.nonce},
                                                   {"certificate_pem", enrolment.certificate_pem},
                                                   {"evidence", enrolment.evidence}}));
    log::Info("instance.ready", {{"address", address}});
    // 7. Renewal.
    renewal_ = std::thread([this] { RenewLoop(); });
    if (spec_.health_interval_ms > 0) health_ = std::thread([this] { HealthLoop(); });
    return Status();
  }

  Status Extend(attest::tdx::LunalEventType type, const std::string& value) {
    LUNAL_ASSIGN_OR_RETURN(Bytes event,
                           attest::tdx::EncodeLunalEvent({.type = type, .value = value}));
    const auto digest = crypto::Sha384(event);
    return device_.ExtendRtmr(3, digest, event);
  }

  Result<cds::Enrolment> EnrollNow() {
    cds::EnrollOptions::PostFn relay;
    if (spec_.cds_via_device) {
      relay = [this](std::string_view path, const Json& body) {
        return device_.CdsPost(path, body);
      };
    }
    return cds::Enroll({.cds_url = spec_.cds_url,
                        .post = std::move(relay),
                        .attester = &device_,
                        .key = &*key_,
                        .tenant = spec_.tenant,
                        .deployment = spec_.deployment,
                        .instance = spec_.instance_id,
                        .build_hash = spec_.build_hash});
  }

  Status WaitForApp() {
    const auto deadline = std::chrono::steady_clock::now() + kAppStartTimeout;
    while (true) {
      if (auto status = app_->Poll()) {
        return Unavailable("instance.app_exited", "the app {} before accepting connections on {}",
                           internal::DescribeWaitStatus(*status), spec_.app_port);
      }
      if (PortAccepts(spec_.app_port)) return Status();
      if (std::chrono::steady_clock::now() >= deadline) {
        return DeadlineExceeded("instance.app_timeout",
                                "the app did not accept connections on 127.0.0.1:{} within {} s",
                                spec_.app_port, kAppStartTimeout.count());
      }
      std::this_thread::sleep_for(kAppPollStep);
    }
  }

  Status Serve() {
    LUNAL_ASSIGN_OR_RETURN(mesh::MeshTrust trust,
                           mesh::MeshTrust::FromPem(spec_.cds_ca_pem, SystemClock::Instance()));
    LUNAL_ASSIGN_OR_RETURN(
        net::TlsServerOptions tls,
        mesh::MeshServerTls(
            creds_, std::move(trust),
            {.tenant = spec_.gateway_tenant,
             .deployment = spec_.gateway_deployment.empty()
                               ? std::nullopt
                               : std::optional(spec_.gateway_deployment),
             .instance = std::nullopt,
             .build_hashes = {},
             .any_build = true,
             .tee_types = {},
             .allow_simulated = spec_.allow_simulated_peers},
            [](std::string_view remote, const Status& why) {
              log::Warn("instance.peer_refused",
                        {{"remote", remote}, {"reason", why.reason()}, {"message", why.message()}});
            }));
    net::Router router;
    LUNAL_RETURN_IF_ERROR(router.Add("GET", "/.lunal/health", [this](net::HttpRequest&) {
      return net::HttpResponse::Json(200, {{"status", "ok"}, {"instance", spec_.instance_id}});
    }));
    router.SetFallback([this](net::HttpRequest& req) { return Forward(req); });
    server_ = std::make_unique<net::HttpServer>(
        net::ServerOptions{.bind_address = "127.0.0.1",
                           .port = spec_.listen_port,
                           .listen_fd = static_cast<int>(spec_.listen_fd),
                           .threads = 4,
                           .max_body_bytes = std::size_t{16} << 20,
                           .tls = std::move(tls),
                           .on_internal_error =
                               [](const net::HttpRequest& req, const Status& s) {
                                 log::Error("instance.internal_error", {{"path", req.path},
                                                                        {"reason", s.reason()},
                                                                        {"message", s.message()}});
                               }},
        std::move(router));
    return server_->Start();
  }

  // The app behind the mesh: the request as it came (less hop-by-hop fields), over loopback HTTP.
  net::HttpResponse Forward(net::HttpRequest& req) const {
    thread_local net::HttpClient client({.connect_timeout = seconds(5),
                                         .request_timeout = seconds(60),
                                         .max_response_bytes = std::size_t{64} << 20,
                                         .tls = {}});
    auto response =
        client.Send({.method = req.method,
                     .url = fmt::format("http://127.0.0.1:{}{}", spec_.app_port, req.target),
                     .headers = EndToEnd(req.headers),
                     .body = req.body});
    if (!response.ok()) {
      log::Warn("instance.app_unavailable",
                {{"path", req.path}, {"reason", response.error().reason()}});
      return net::HttpResponse::Json(502, {{"error",
                                            {{"code", "unavailable"},
                                             {"reason", "instance.app_unavailable"},
                                             {"message", "the application did not answer"}}}});
    }
    net::HttpResponse out{.status = response->status,
                          .headers = EndToEnd(response->headers),
                          .body = std::move(response->body),
                          .peer_certificate_der = {}};
    return out;
  }

  // Step 7: re-enrol (fresh nonce, fresh evidence) at two thirds of the remaining lifetime,
  // counted from when the certificate arrived; retries after failures until stopped.
  void RenewLoop() {
    auto issued = std::chrono::system_clock::now();
    auto retry = std::optional<std::chrono::system_clock::time_point>();
    while (true) {
      const auto not_after = creds_->Identity().not_after;
      const auto renew_at = retry ? *retry
                                  : issued + std::max<std::chrono::system_clock::duration>(
                                                 seconds(1), (not_after - issued) * 2 / 3);
      {
        std::unique_lock lock(mu_);
        if (cv_.wait_until(lock, renew_at, [this] { return stopping_; })) return;
      }
      auto enrolment = EnrollNow();
      Status s = enrolment.ok() ? creds_->Reload(enrolment->certificate_pem, enrolment->key_pem)
                                : enrolment.error();
      if (s.ok()) {
        issued = std::chrono::system_clock::now();
        retry.reset();
        log::Info("instance.renewed",
                  {{"serial", creds_->Identity().serial_hex},
                   {"not_after", creds_->Identity().not_after.time_since_epoch().count()}});
      } else {
        const auto now = std::chrono::system_clock::now();
        retry = now + std::clamp<std::chrono::system_clock::duration>((not_after - now) / 4,
                                                                      seconds(1), seconds(30));
        log::Warn("instance.renewal_failed", {{"reason", s.reason()}, {"message", s.message()}});
      }
    }
  }

  // Step 7's liveness check. A probe is a whole HTTP exchange with the app, bounded by the
  // timeout; any status counts as alive (the app's routes are its own business).
  void HealthLoop() {
    net::HttpClient client({.connect_timeout = milliseconds(spec_.health_timeout_ms),
                            .request_timeout = milliseconds(spec_.health_timeout_ms),
                            .max_response_bytes = std::size_t{1} << 20,
                            .tls = {}});
    const std::string url = fmt::format("http://127.0.0.1:{}{}", spec_.app_port, spec_.health_path);
    std::int64_t failures = 0;
    while (true) {
      {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, milliseconds(spec_.health_interval_ms),
                         [this] { return stopping_; })) {
          return;
        }
      }
      auto probe = client.Send({.method = "GET", .url = url, .headers = {}, .body = {}});
      if (probe.ok()) {
        failures = 0;
        continue;
      }
      ++failures;
      log::Warn("instance.health_failed", {{"failures", failures},
                                           {"reason", probe.error().reason()},
                                           {"message", probe.error().message()}});
      if (failures >= spec_.health_failures) {
        log::Error("instance.unhealthy", {{"failures", failures}, {"path", spec_.health_path}});
        unhealthy_ = true;
        return;
      }
    }
  }

  void StopRenewal() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (renewal_.joinable()) renewal_.join();
  }

  // After StopRenewal and once the app is gone (a probe in flight then fails at once).
  void StopHealth() {
    if (health_.joinable()) health_.join();
  }

  // After ready: until SIGTERM/SIGINT (step 8) or the app's exit.
  int Wait() {
    while (true) {
      pollfd p{.fd = signal_fd_, .events = POLLIN, .revents = 0};
      const int n = ::poll(&p, 1, 500);
      if (n > 0) {
        signalfd_siginfo info{};
        if (::read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info)) &&
            (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT)) {
          return Terminate(static_cast<int>(info.ssi_signo));
        }
      }
      if (auto status = app_->Poll()) {
        log::Error("instance.app_exited", {{"status", internal::DescribeWaitStatus(*status)}});
        StopRenewal();
        server_->Stop(milliseconds(0));
        app_->Stop(milliseconds(0));  // its group, if it left anything behind
        StopHealth();
        return kExitAppExited;
      }
      if (unhealthy_) {
        StopRenewal();
        server_->Stop(milliseconds(0));
        app_->Stop(milliseconds(spec_.app_grace_ms));  // a stopped app takes the SIGKILL
        StopHealth();
        log::Info("instance.stopped",
                  {{"app", internal::DescribeWaitStatus(app_->Poll().value_or(0))},
                   {"reason", "instance.unhealthy"}});
        return kInstanceExitUnhealthy;
      }
    }
  }

  int Terminate(int signo) {
    log::Info("instance.stopping", {{"signal", signo}, {"drain_ms", spec_.drain_ms}});
    StopRenewal();
    server_->Stop(milliseconds(spec_.drain_ms));
    app_->Stop(milliseconds(spec_.app_grace_ms));
    StopHealth();
    log::Info("instance.stopped",
              {{"app", internal::DescribeWaitStatus(app_->Poll().value_or(0))}});
    return 0;
  }

  const InstanceSpec& spec_;
  const int signal_fd_;
  DeviceAttester device_;
  std::optional<crypto::PrivateKey> key_;
  std::shared_ptr<mesh::MeshCredentials> creds_;
  std::unique_ptr<internal::AppProcess> app_;
  std::unique_ptr<net::HttpServer> server_;
  std::thread renewal_;
  std::thread health_;
  std::atomic<bool> unhealthy_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace

int RunInstanceAgent(const InstanceSpec& spec) {
  // Before any thread exists, so every thread inherits the mask and the signals wait for the
  // signalfd (step 8). The app gets an empty mask back (app_process.cc).
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGTERM);
  ::sigaddset(&set, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) {
    log::Error("instance.failed",
               {{"reason", "instance.signalfd"}, {"message", std::strerror(errno)}});
    return kExitFailed;
  }
  int status;
  {
    Agent agent(spec, fd);
    status = agent.Run();
  }
  ::close(fd);
  return status;
}

}  // namespace lunal::node

// The gateway: docs/protocols/gateway.md. One handler (the router's fallback) routes, ranks,
// forwards over mesh mTLS with a per-I/O-thread client per backend, and records metrics.
#include "lunal/gateway/gateway.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "http_util.h"
#include "lunal/common/log.h"
#include "lunal/mesh/identity.h"
#include "lunal/net/client.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"
#include "metrics.h"

namespace lunal::gateway {
namespace {

using internal::ConnectionOptions;
using internal::HostDeployment;
using internal::IsHopByHop;
using internal::Lower;
using internal::PathDeployment;
using internal::RemoteIp;
using internal::Trim;

constexpr std::size_t kMaxClientKey = 256;
constexpr std::string_view kMetricsPath = "/.lunal/gateway/metrics";
constexpr std::string_view kClientKeyHeader = "X-Lunal-Client-Key";
constexpr std::string_view kInstanceHeader = "X-Lunal-Instance";

// Failures that show the request never reached the instance's application: the backend is
// quarantined and the next one is tried (docs/protocols/gateway.md "Failover").
bool IsConnectOrHandshakeFailure(const Status& s) {
  const std::string& r = s.reason();
  return r == "net.connect_failed" || r == "net.tls_handshake_failed" ||
         r == "net.tls_pin_mismatch" || r.starts_with("mesh.peer.");
}

net::HttpResponse ErrorWithStatus(int http_status, const Status& status) {
  net::HttpResponse response = net::ErrorResponse(status);
  response.status = http_status;
  return response;
}

mesh::PeerExpectation ExpectationFor(const Route& route, std::string instance) {
  return mesh::PeerExpectation{.tenant = route.tenant,
                               .deployment = route.deployment,
                               .instance = std::move(instance),
                               .build_hashes = route.build_hashes,
                               .any_build = false,
                               .tee_types = {},
                               .allow_simulated = route.allow_simulated};
}

bool SameMeshExpectation(const Route& a, const Route& b) {
  return a.tenant == b.tenant && a.deployment == b.deployment && a.build_hashes == b.build_hashes &&
         a.allow_simulated == b.allow_simulated;
}

struct Quarantined {
  std::string address;
  Timestamp until;
};

struct DeploymentState {
  internal::DeploymentMetrics metrics;
  std::mutex mu;
  std::unordered_map<std::string, Quarantined> quarantine;  // by instance id; guarded by mu
  // quarantine.size(), readable without the lock: the common case (nothing quarantined) takes
  // no lock on the request path.
  std::atomic<std::size_t> quarantined{0};
};

struct RouteEntry {
  Route route;
  std::string name;  // lower-cased deployment
  Status validity;
  // Changes whenever the mesh expectation (tenant, deployment, build hashes, simulation) changes;
  // per-thread clients built for another generation are rebuilt.
  std::uint64_t tls_generation = 0;
  std::shared_ptr<DeploymentState> state;
};

// The per-I/O-thread upstream clients (HttpClient is single-threaded): one per (deployment,
// instance), keyed by "<deployment>\0<instance>", per gateway (its unique id).
struct ClientSlot {
  std::uint64_t tls_generation = 0;
  std::string address;
  std::unique_ptr<net::HttpClient> client;
};
struct ThreadClients {
  std::uint64_t routes_version = 0;  // Impl::routes_version when the slots were last pruned
  std::unordered_map<std::string, ClientSlot> slots;
};
thread_local std::unordered_map<std::uint64_t, ThreadClients> t_clients;

std::atomic<std::uint64_t> g_next_gateway_id{1};

}  // namespace

Status ValidateRoute(const Route& route) {
  if (route.deployment.empty()) {
    return InvalidArgument("gateway.bad_route", "route without a deployment name");
  }
  // Any instance id will do for the expectation check; each backend's id is checked below.
  LUNAL_RETURN_IF_ERROR(ExpectationFor(route, "instance").Validate());
  std::vector<std::string_view> ids;
  for (const Backend& b : route.backends) {
    if (!mesh::IsSafeSegment(b.instance_id)) {
      return InvalidArgument("gateway.bad_route", "{}: unsafe instance id '{}'", route.deployment,
                             b.instance_id.substr(0, 80));
    }
    if (b.address.empty() || b.address.find_first_of("/?#@ ") != std::string::npos) {
      return InvalidArgument("gateway.bad_route", "{}: instance {} has a bad address '{}'",
                             route.deployment, b.instance_id, b.address.substr(0, 80));
    }
    ids.push_back(b.instance_id);
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return InvalidArgument("gateway.bad_route", "{}: an instance id appears twice",
                           route.deployment);
  }
  return Status::Ok();
}

struct Gateway::Impl {
  GatewayOptions options;
  const Clock* clock = nullptr;
  std::optional<mesh::MeshTrust> trust;
  std::string domain;  // lower-cased
  std::uint64_t id = 0;
  std::unique_ptr<net::HttpServer> server;

  mutable std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const RouteEntry>> routes;  // guarded by mu
  std::map<std::string, std::shared_ptr<DeploymentState>> states;             // guarded by mu
  std::uint64_t next_generation = 1;                                          // guarded by mu
  // Bumped by every SetRoute / RemoveRoute: tells the I/O threads to drop clients (and their
  // kept-alive connections) for backends that left their route.
  std::atomic<std::uint64_t> routes_version{1};

  std::shared_ptr<const RouteEntry> Find(const std::string& name) const {
    std::lock_guard lock(mu);
    auto it = routes.find(name);
    return it == routes.end() ? nullptr : it->second;
  }

  static bool IsQuarantined(DeploymentState& state, const Backend& b, Timestamp now) {
    if (state.quarantined.load(std::memory_order_acquire) == 0) return false;
    std::lock_guard lock(state.mu);
    auto it = state.quarantine.find(b.instance_id);
    return it != state.quarantine.end() && it->second.address == b.address &&
           it->second.until > now;
  }

  void Quarantine(DeploymentState& state, const Backend& b, const Status& why) {
    const Timestamp until =
        clock->Now() + std::chrono::duration_cast<std::chrono::microseconds>(options.quarantine);
    {
      std::lock_guard lock(state.mu);
      state.quarantine[b.instance_id] = Quarantined{.address = b.address, .until = until};
      state.quarantined.store(state.quarantine.size(), std::memory_order_release);
    }
    log::Warn("gateway.instance_quarantined",
              {{"instance", b.instance_id}, {"address", b.address}, {"reason", why.reason()}});
  }

  // Drops this thread's clients whose backend is no longer in its route with the same address
  // and mesh expectation (closing their connections). Runs once per route change per thread.
  void Prune(ThreadClients& mine) const {
    std::lock_guard lock(mu);
    std::erase_if(mine.slots, [&](const auto& item) {
      const std::string& key = item.first;
      const std::size_t nul = key.find('\0');
      auto it = routes.find(key.substr(0, nul));
      if (it == routes.end() || it->second->tls_generation != item.second.tls_generation) {
        return true;
      }
      const std::string_view instance = std::string_view(key).substr(nul + 1);
      const auto& backends = it->second->route.backends;
      return std::none_of(backends.begin(), backends.end(), [&](const Backend& b) {
        return b.instance_id == instance && b.address == item.second.address;
      });
    });
  }

  // This thread's client for `backend` of `entry`, (re)built when the route's mesh expectation or
  // the backend's address changed.
  Result<net::HttpClient*> ClientFor(const RouteEntry& entry, const Backend& backend) {
    ThreadClients& mine = t_clients[id];
    const std::uint64_t version = routes_version.load(std::memory_order_acquire);
    if (mine.routes_version != version) {
      Prune(mine);
      mine.routes_version = version;
    }
    std::string key = entry.name;
    key.push_back('\0');
    key.append(backend.instance_id);
    ClientSlot& slot = mine.slots[key];
    if (slot.client == nullptr || slot.tls_generation != entry.tls_generation ||
        slot.address != backend.address) {
      LUNAL_ASSIGN_OR_RETURN(net::ClientTlsOptions tls,
                             mesh::MeshClientTls(options.credentials, *trust,
                                                 ExpectationFor(entry.route, backend.instance_id)));
      net::ClientOptions client_options{
          .connect_timeout = std::min(options.upstream_timeout, std::chrono::milliseconds(5'000)),
          .request_timeout = options.upstream_timeout,
          .max_response_bytes = std::size_t{64} << 20,
          .tls = std::move(tls)};
      slot.client = std::make_unique<net::HttpClient>(std::move(client_options));
      slot.tls_generation = entry.tls_generation;
      slot.address = backend.address;
    }
    return slot.client.get();
  }

  net::HttpHeaders UpstreamHeaders(const net::HttpRequest& request) const {
    const std::vector<std::string> listed = ConnectionOptions(request.headers);
    net::HttpHeaders out;
    out.reserve(request.headers.size() + 3);
    std::optional<std::string> forwarded_for;
    for (const auto& [name, value] : request.headers) {
      if (IsHopByHop(name, listed)) continue;
      if (net::EqualsIgnoreCase(name, "X-Forwarded-For")) {
        // Several fields combine into one list (RFC 9110 §5.3).
        forwarded_for = forwarded_for ? *forwarded_for + ", " + value : value;
        continue;
      }
      if (net::EqualsIgnoreCase(name, "Host") || net::EqualsIgnoreCase(name, "Content-Length") ||
          net::EqualsIgnoreCase(name, "Expect") ||
          net::EqualsIgnoreCase(name, "X-Forwarded-Proto") ||
          net::EqualsIgnoreCase(name, "X-Forwarded-Host")) {
        continue;
      }
      out.emplace_back(name, value);
    }
    const std::string ip(RemoteIp(request.remote_address));
    out.emplace_back("X-Forwarded-For", forwarded_for ? *forwarded_for + ", " + ip : ip);
    out.emplace_back("X-Forwarded-Proto", request.is_tls ? "https" : "http");
    if (auto host = request.Header("Host"))
      out.emplace_back("X-Forwarded-Host", std::string(*host));
    return out;
  }

  static net::HttpResponse DownstreamResponse(net::HttpResponse upstream,
                                              const std::string& instance) {
    const std::vector<std::string> listed = ConnectionOptions(upstream.headers);
    net::HttpResponse out{.status = upstream.status,
                          .headers = {},
                          .body = std::move(upstream.body),
                          .peer_certificate_der = {}};
    out.headers.reserve(upstream.headers.size() + 1);
    for (auto& [name, value] : upstream.headers) {
      if (IsHopByHop(name, listed) || net::EqualsIgnoreCase(name, "Content-Length") ||
          net::EqualsIgnoreCase(name, kInstanceHeader)) {
        continue;
      }
      out.headers.emplace_back(std::move(name), std::move(value));
    }
    out.headers.emplace_back(std::string(kInstanceHeader), instance);
    return out;
  }

  struct Outcome {
    net::HttpResponse response;
    std::string instance;  // who answered; empty when none did
  };

  Outcome Forward(const RouteEntry& entry, net::HttpRequest& request, std::string target) {
    const Route& route = entry.route;
    if (!entry.validity.ok()) {
      return {net::ErrorResponse(
                  Unavailable("gateway.bad_route", "{}: {}", entry.name, entry.validity.message())),
              {}};
    }
    if (route.backends.empty()) {
      return {net::ErrorResponse(
                  Unavailable("gateway.no_instances", "{} has no instances", entry.name)),
              {}};
    }
    std::string client_key;
    if (auto header = request.Header(kClientKeyHeader)) client_key = std::string(Trim(*header));
    if (client_key.size() > kMaxClientKey) {
      return {
          net::ErrorResponse(InvalidArgument("gateway.bad_client_key", "{} is longer than {} bytes",
                                             kClientKeyHeader, kMaxClientKey)),
          {}};
    }
    if (client_key.empty()) client_key = std::string(RemoteIp(request.remote_address));

    net::HttpClientRequest upstream{.method = request.method,
                                    .url = {},
                                    .headers = UpstreamHeaders(request),
                                    .body = std::move(request.body)};
    DeploymentState& state = *entry.state;
    const Timestamp now = clock->Now();
    bool tried = false;
    for (std::size_t index : RankBackends(client_key, route.backends)) {
      const Backend& backend = route.backends[index];
      if (IsQuarantined(state, backend, now)) continue;
      auto client = ClientFor(entry, backend);
      if (!client.ok()) {
        return {net::ErrorResponse(Unavailable("gateway.bad_route", "{}: {}", entry.name,
                                               client.error().message())),
                {}};
      }
      upstream.url = "https://" + backend.address + target;
      auto response = (*client)->Send(upstream);
      if (response.ok()) {
        return {DownstreamResponse(std::move(*response), backend.instance_id), backend.instance_id};
      }
      if (IsConnectOrHandshakeFailure(response.error())) {
        Quarantine(state, backend, response.error());
        tried = true;
        continue;  // the request never reached this instance's application: try the next one
      }
      // The request may have reached the application: never replayed elsewhere. The client hears
      // only that the instance failed; why goes to the log (STYLE.md: no internals to clients).
      log::Warn("gateway.upstream_failed", {{"instance", backend.instance_id},
                                            {"address", backend.address},
                                            {"status", response.error().ToString()}});
      if (response.error().code() == Code::kDeadlineExceeded) {
        return {net::ErrorResponse(DeadlineExceeded("gateway.upstream_timeout",
                                                    "instance {} of {} did not answer in time",
                                                    backend.instance_id, entry.name)),
                {}};
      }
      return {ErrorWithStatus(
                  502, Unavailable("gateway.upstream_failed", "instance {} of {} failed to answer",
                                   backend.instance_id, entry.name)),
              {}};
    }
    if (!tried) {
      return {net::ErrorResponse(Unavailable("gateway.no_instances",
                                             "every instance of {} is quarantined", entry.name)),
              {}};
    }
    return {ErrorWithStatus(502, Unavailable("gateway.upstream_failed",
                                             "no instance of {} could be reached", entry.name)),
            {}};
  }

  net::HttpResponse Handle(net::HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    std::optional<std::string> name;
    std::string target;
    if (auto host = request.Header("Host")) name = HostDeployment(*host, domain);
    if (name) {
      target = request.target;
    } else if (auto by_path = PathDeployment(request.target)) {
      name = std::move(by_path->name);
      target = std::move(by_path->target);
    }
    std::shared_ptr<const RouteEntry> entry = name ? Find(*name) : nullptr;
    if (entry == nullptr) {
      return net::ErrorResponse(NotFound("gateway.no_such_deployment", "no deployment '{}'",
                                         name ? name->substr(0, 80) : std::string()));
    }
    Outcome outcome = Forward(*entry, request, std::move(target));
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    entry->state->metrics.Record(
        outcome.instance, outcome.response.status >= 500,
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, elapsed.count())));
    return std::move(outcome.response);
  }

  Json MetricsJson() const {
    std::vector<std::pair<std::string, std::shared_ptr<DeploymentState>>> copy;
    {
      std::lock_guard lock(mu);
      copy.assign(states.begin(), states.end());
    }
    Json out = Json::object();
    for (const auto& [name, state] : copy) out[name] = state->metrics.ToJson();
    return out;
  }
};

Result<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options) {
  if (options.credentials == nullptr) {
    return InvalidArgument("gateway.bad_options", "no mesh credentials");
  }
  if (options.mesh_ca_pem.empty()) {
    return InvalidArgument("gateway.bad_options", "no mesh CA");
  }
  if (options.threads < 1 || options.threads > 256) {
    return InvalidArgument("gateway.bad_options", "threads must be 1..256, not {}",
                           options.threads);
  }
  if (options.domain.empty()) return InvalidArgument("gateway.bad_options", "empty domain");
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  LUNAL_ASSIGN_OR_RETURN(mesh::MeshTrust trust,
                         mesh::MeshTrust::FromPem(options.mesh_ca_pem, *impl->clock));
  impl->trust.emplace(std::move(trust));
  impl->domain = Lower(options.domain);
  impl->id = g_next_gateway_id.fetch_add(1);

  Impl* self = impl.get();
  net::Router router;
  LUNAL_RETURN_IF_ERROR(router.Add("GET", kMetricsPath, [self](net::HttpRequest&) {
    return net::HttpResponse::Json(200, self->MetricsJson());
  }));
  router.SetFallback([self](net::HttpRequest& request) { return self->Handle(request); });
  net::ServerOptions server_options{.bind_address = options.bind_address,
                                    .port = options.port,
                                    .threads = options.threads,
                                    .max_body_bytes = options.max_body_bytes};
  impl->options = std::move(options);
  impl->server = std::make_unique<net::HttpServer>(std::move(server_options), std::move(router));
  LUNAL_RETURN_IF_ERROR(impl->server->Start());
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() { Stop(std::chrono::milliseconds(0)); }

void Gateway::SetRoute(Route route) {
  auto entry = std::make_shared<RouteEntry>();
  entry->name = Lower(route.deployment);
  entry->validity = ValidateRoute(route);
  std::lock_guard lock(impl_->mu);
  std::shared_ptr<DeploymentState>& state = impl_->states[entry->name];
  if (state == nullptr) state = std::make_shared<DeploymentState>();
  entry->state = state;
  auto old = impl_->routes.find(entry->name);
  const bool same_mesh =
      old != impl_->routes.end() && SameMeshExpectation(old->second->route, route);
  entry->tls_generation = same_mesh ? old->second->tls_generation : impl_->next_generation++;
  {
    // Quarantine outlives the update only for a backend that is still the same peer.
    std::lock_guard state_lock(state->mu);
    std::erase_if(state->quarantine, [&](const auto& item) {
      if (!same_mesh) return true;
      return std::none_of(route.backends.begin(), route.backends.end(), [&](const Backend& b) {
        return b.instance_id == item.first && b.address == item.second.address;
      });
    });
    state->quarantined.store(state->quarantine.size(), std::memory_order_release);
  }
  entry->route = std::move(route);
  impl_->routes[entry->name] = std::move(entry);
  impl_->routes_version.fetch_add(1, std::memory_order_release);
}

void Gateway::RemoveRoute(std::string_view deployment) {
  std::lock_guard lock(impl_->mu);
  impl_->routes.erase(Lower(deployment));
  impl_->routes_version.fetch_add(1, std::memory_order_release);
}

std::vector<Route> Gateway::Routes() const {
  std::map<std::string, Route> sorted;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [name, entry] : impl_->routes) sorted.emplace(name, entry->route);
  }
  std::vector<Route> out;
  out.reserve(sorted.size());
  for (auto& [name, route] : sorted) out.push_back(std::move(route));
  return out;
}

std::uint16_t Gateway::port() const { return impl_->server->port(); }

Json Gateway::Metrics() const { return impl_->MetricsJson(); }

void Gateway::Stop(std::chrono::milliseconds grace) {
  // Stop joins the I/O threads, whose thread_local clients go with them.
  if (impl_ != nullptr && impl_->server != nullptr) impl_->server->Stop(grace);
}

}  // namespace lunal::gateway

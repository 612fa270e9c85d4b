// The gateway (DESIGN.md "Components", issue 8): the public HTTP entry to deployments. It routes
// by Host (`<deployment>.<domain>[:port]`) or by path (`/d/<deployment>/…`, the prefix removed),
// picks an instance by rendezvous hashing of the client key (the X-Lunal-Client-Key header, else
// the client's IP address) so a scale event moves only the clients of instances that came or went,
// and forwards only over mesh mTLS: it presents its own CDS certificate and accepts an instance
// only if its certificate names the route's tenant, deployment, instance and one of the route's
// build hashes (mesh::VerifyMeshPeer). An instance that fails the handshake is taken out of
// rotation for `quarantine` and the request goes to the next-ranked instance.
//
// Protocol and rationale: docs/protocols/gateway.md.
//
// Answers of its own (Lunal's JSON error body, net/errors.h):
//   404 gateway.no_such_deployment (kNotFound)      no route for the Host / path name
//   503 gateway.no_instances (kUnavailable)         the route has no backends, or every backend is
//                                                   quarantined
//   503 gateway.bad_route (kUnavailable)            the route failed ValidateRoute (its message)
//   502 gateway.upstream_failed (kUnavailable)      every backend tried failed to connect or failed
//                                                   the mesh handshake (now quarantined), or the
//                                                   one that was sent the request failed
//                                                   mid-exchange
//   504 gateway.upstream_timeout (kDeadlineExceeded) no answer within upstream_timeout
//   400 gateway.bad_client_key (kInvalidArgument)   X-Lunal-Client-Key longer than 256 bytes
// An upstream response, whatever its status, is final (never retried on another instance).
// Request and response headers pass through except hop-by-hop ones (RFC 9110 §7.6.1); the
// gateway adds X-Forwarded-For / -Proto / -Host to requests and X-Lunal-Instance to responses
// (the instance that answered). GET /.lunal/gateway/metrics is answered by the gateway itself
// (Metrics()), whatever the Host.
//
// Thread-safety: SetRoute / RemoveRoute / Routes / Metrics from any thread while requests flow.
// Start and Stop (and the destructor) from one owning thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/mesh/peer.h"
#include "lunal/mesh/tls.h"

namespace lunal::gateway {

struct Backend {
  std::string instance_id = {};
  std::string address = {};  // "127.0.0.1:<port>"
};

struct Route {
  std::string tenant = {};
  std::string deployment = {};  // also the routing name (Host label, /d/<name>/)
  std::vector<std::string> build_hashes = {};
  bool allow_simulated = false;
  std::vector<Backend> backends = {};
};

struct GatewayOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
  int threads = 4;
  std::string domain = "localhost";  // Host routing: <deployment>.<domain>
  std::shared_ptr<mesh::MeshCredentials> credentials = nullptr;  // required
  std::string mesh_ca_pem = {};                                  // required: the CDS CA
  const Clock* clock = nullptr;  // quarantine and certificate validity; null: the system clock
  std::chrono::milliseconds upstream_timeout{30'000};
  std::chrono::milliseconds quarantine{5'000};
  std::size_t max_body_bytes = std::size_t{8} << 20;  // request bodies; larger: 413
};

// The rendezvous score of one instance for one client: the first 8 bytes of
// SHA-256(client_key ‖ 0x00 ‖ instance_id), read big-endian.
std::uint64_t RendezvousScore(std::string_view client_key, std::string_view instance_id);

// The rendezvous choice, exposed for tests: indexes into `backends`, best first — highest
// RendezvousScore, ties broken by instance_id (byte order), then by index.
std::vector<std::size_t> RankBackends(std::string_view client_key,
                                      const std::vector<Backend>& backends);

// What SetRoute requires of a route: a valid mesh expectation for it (tenant, deployment and
// build hashes as mesh::PeerExpectation::Validate wants them), and backends with distinct, safe
// instance ids (mesh::IsSafeSegment) and a non-empty address. Errors: InvalidArgument
// "gateway.bad_route", or mesh.expectation.invalid.
Status ValidateRoute(const Route& route);

class Gateway {
 public:
  // Starts the gateway's HTTP server. Errors: InvalidArgument "gateway.bad_options" (no
  // credentials, no CA, threads outside 1..256, an empty domain), mesh.trust.invalid, and
  // HttpServer::Start's (net.bind_failed, …).
  static Result<std::unique_ptr<Gateway>> Start(GatewayOptions options);
  ~Gateway();  // Stop(0)

  // Replaces the deployment's route (matched case-insensitively). An invalid route (ValidateRoute)
  // is installed anyway and answers 503 gateway.bad_route, so a bad update never leaves the old
  // backends serving. Quarantine is kept for backends whose address and mesh expectation did not
  // change. Never blocks on requests in flight, which finish on the route they started with.
  void SetRoute(Route route);
  void RemoveRoute(std::string_view deployment);
  // The installed routes (valid or not), ordered by lower-cased deployment name.
  std::vector<Route> Routes() const;
  std::uint16_t port() const;
  // {"<deployment>": {"requests": n, "errors": n, "latency_ms": {"p50", "p95", "p99"},
  //  "instances": {"<id>": n}}} since start (deployments that had a route at some point; a removed
  // route keeps its counts). requests: every request routed to the deployment, answered or not;
  // errors: 5xx answers (the upstream's or the gateway's); latency_ms: from the request handed to
  // the gateway to its response ready (steady clock), upper bucket edges (≤ 1/16 above the true
  // value); instances: responses per answering instance.
  Json Metrics() const;
  // Connection draining: stops accepting, lets requests in flight finish for up to `grace`.
  // Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  struct Impl;
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::gateway

// The gateway's admin API (docs/protocols/gateway.md "Admin API"; issue 8): how a control plane in
// another process pushes routes to a gateway running as its own process (`lunald gateway`).
//
//   PUT    /v1/gateway/routes/{deployment}  body {"tenant", "build_hashes": [..],
//                                           "allow_simulated", "backends": [{"instance_id",
//                                           "address"}]} → 200 the route as installed
//   DELETE /v1/gateway/routes/{deployment}  → 200 {"deployment", "removed": bool} (idempotent)
//   GET    /v1/gateway/routes               → 200 {"routes": [route, …]} (by deployment)
//   GET    /v1/gateway/metrics              → 200 Gateway::Metrics()
//
// A route as JSON: {"tenant", "deployment", "build_hashes", "allow_simulated", "backends"}. In a
// PUT body "deployment" may be given only if it equals the path's (the path names the route);
// "allow_simulated" defaults to false; every other member is required, and unknown members are
// refused, so a misspelt field never silently loosens a route.
//
// Every request needs what the server's net::Authorizer admits: `lunald gateway` serves the API
// over mesh TLS and admits only the control plane's mesh identity (mesh::MeshPeerAuthorizer); with
// a token instead, "Authorization: Bearer <token>" (RFC 6750 §2.1), whose SHA-256 is compared with
// the configured one's in constant time.
//
// Errors (Lunal's JSON error body, net/errors.h):
//   401 gateway.admin.unauthenticated (kUnauthenticated)  missing or wrong bearer token, or a
//                                                         mesh peer that is not the control plane
//   400 gateway.admin.bad_field (kInvalidArgument)        body not a JSON object, unknown member,
//                                                         wrong type, or a route ValidateRoute
//                                                         refuses (the message says which)
// AddGatewayAdminRoutes itself: InvalidArgument gateway.admin.bad_options (empty token) and the
// router's net.route_conflict when the routes are already registered.
//
// Thread-safety: the handlers may run on any number of server threads (Gateway is thread-safe).
// AdminClient serialises its calls with a lock, so one client may be shared between threads.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/gateway/gateway.h"
#include "lunal/net/auth.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"

namespace lunal::gateway {

// Registers the admin routes above on `router`, serving `gateway` (which must outlive the server
// the router is given to) to holders of `token`.
Status AddGatewayAdminRoutes(net::Router& router, Gateway& gateway, std::string token);
// The same routes guarded by `authorize` instead of a token: `lunald gateway` serves them over
// mesh TLS with mesh::MeshPeerAuthorizer (only the control plane's mesh identity may call); its
// refusals are answered as they are. Errors: InvalidArgument gateway.admin.bad_options (an empty
// authorizer), net.route_conflict.
Status AddGatewayAdminRoutes(net::Router& router, Gateway& gateway, net::Authorizer authorize);

// The JSON form of a route (the admin API's), and its strict parse (members and types only; the
// PUT handler also applies ValidateRoute). ParseRouteJson's errors: InvalidArgument
// gateway.admin.bad_field. `deployment`: the path's; a "deployment" member must equal it.
Json RouteToJson(const Route& route);
Result<Route> ParseRouteJson(const Json& body, std::string_view deployment);

struct AdminClientOptions {
  std::string base_url = {};     // the admin server, e.g. "https://127.0.0.1:7081"
  std::string token = {};        // sent as a bearer token unless empty (mesh TLS needs none)
  net::ClientOptions http = {};  // timeouts; TLS when base_url is https (mesh::MeshClientTls)
};

// The admin API's client, for a control plane in another process. Errors: the server's (by
// net::StatusFromErrorBody: gateway.admin.*), and net::HttpClient's (net.connect_failed, …).
class AdminClient {
 public:
  explicit AdminClient(AdminClientOptions options);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  Status SetRoute(const Route& route);
  Status RemoveRoute(std::string_view deployment);
  Result<std::vector<Route>> Routes();
  Result<Json> Metrics();

 private:
  Result<Json> Call(std::string_view method, std::string_view path, const Json& body);

  AdminClientOptions options_;
  std::mutex mu_;
  std::unique_ptr<net::HttpClient> client_;  // guarded by mu_
};

}  // namespace lunal::gateway

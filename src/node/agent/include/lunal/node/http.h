// The node agent's HTTP API, for a node running as its own process (`lunald node`) and for the
// "compromised control plane" tests: whoever holds the token may only *request*; every launch
// still passes NodeAgent::Launch's checks (DESIGN.md "The orchestrator requests; the node
// decides").
//
//   POST   /v1/node/instances        LaunchRequest as JSON: {"tenant", "deployment",
//                                    "instance_id", "build_hash", "manifest_json" (the manifest's
//                                    exact text), "artifact" (a path on the node), "env"?: {…}}
//                                    → 201 ToJson(InstanceStatus), or the refusal
//   GET    /v1/node/instances        → 200 {"instances": [InstanceStatus…]}
//   DELETE /v1/node/instances/{id}   → 200 {"stopped": id}; 404 node.instance.unknown
//   GET    /v1/node/events?after=SEQ&wait=SECONDS   (with an EventFeed; event_feed.h)
//                                    → 200 {"events": [{"seq", "kind", "instance", "stream",
//                                    "line"}…], "next": SEQ, "epoch": hex, "dropped"?: n}: the
//                                    events after SEQ (default 0), long-polling up to `wait`
//                                    seconds (0..25, default 0) when there are none yet; "epoch"
//                                    names this node process's numbering; "dropped" counts the
//                                    events after SEQ the feed no longer holds. A bad number is
//                                    400 node.request.bad_field.
//
// Every route needs "Authorization: Bearer <token>", compared in constant time (SHA-256 of both
// sides), or whatever the given net::Authorizer admits (lunald node: the control plane's mesh
// certificate): 401 node.auth.unauthenticated otherwise. Errors are net::ErrorResponse bodies, so
// the HTTP status follows the code (errors.h): node.allow_list.not_listed / rollback /
// bad_signature are policy violations (403), node.launch.manifest_mismatch / artifact_mismatch
// verification failures (422), node.request.bad_field 400, node.allow_list.unavailable 503,
// node.launch.timeout 504.
//
// POST blocks until the instance is ready (up to NodeOptions::launch_timeout) and a waiting
// events poll up to its `wait`: give the server more than one thread (ServerOptions::threads) so
// that other requests are not held up.
// Thread-safety: the routes borrow `agent`, which must outlive the server.
#pragma once

#include <string>

#include "lunal/common/status.h"
#include "lunal/net/auth.h"
#include "lunal/net/server.h"
#include "lunal/node/event_feed.h"
#include "lunal/node/node.h"

namespace lunal::node {

// Errors: InvalidArgument node.config.bad_option (an empty token), net.* from Router::Add.
Status AddNodeRoutes(net::Router& router, NodeAgent& agent, std::string token);
// The same routes plus GET /v1/node/events served from `events` (borrowed: it must outlive the
// server; Close it before stopping the server so that waiting polls answer at once). Without a
// feed (nullptr) the events route is not added.
Status AddNodeRoutes(net::Router& router, NodeAgent& agent, std::string token, EventFeed* events);
// The same routes guarded by `authorize` instead of a token: `lunald node` serves them over mesh
// TLS with mesh::MeshPeerAuthorizer (only the control plane's mesh identity may call). Its
// refusals are answered as they are (Unauthenticated → 401). Errors: InvalidArgument
// node.config.bad_option (an empty authorizer), net.* from Router::Add.
Status AddNodeRoutes(net::Router& router, NodeAgent& agent, net::Authorizer authorize,
                     EventFeed* events);

// The longest long poll the events route grants (seconds).
inline constexpr int kMaxEventWaitSeconds = 25;

}  // namespace lunal::node

// NodeClient: the node agent's HTTP API (http.h) from another process — what a remote control
// plane uses to *ask* a node (`lunald node`) to run, stop and list instances and to follow its
// events. Every call carries "Authorization: Bearer <token>" when given one; `lunald control`
// instead presents its mesh certificate (tls = mesh::MeshClientTls) to a node serving over mesh
// TLS.
//
//   NodeClient node({.base_url = "http://127.0.0.1:7443", .token = token});
//   LUNAL_ASSIGN_OR_RETURN(InstanceStatus running, node.Launch(request));
//   LUNAL_ASSIGN_OR_RETURN(EventBatch batch, node.PollEvents(0, std::chrono::seconds(10)));
//
// Errors: a refusal comes back as the node's own Status (net::StatusFromErrorBody: the same code
// and reason, e.g. PolicyViolation node.allow_list.not_listed); transport failures are net.*
// (net::HttpClient::Send); an answer that does not parse is Malformed "node.json.bad_field" (or
// net.bad_json_response).
//
// Stop with an id that is not a cds::IsValidName: InvalidArgument node.request.bad_field (never
// sent).
//
// Thread-safety: every method may be called from any thread. Launch, Stop and List share one
// connection and are serialised; PollEvents has its own, so a long poll holds up none of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/net/client.h"
#include "lunal/node/event_feed.h"
#include "lunal/node/node.h"

namespace lunal::node {

struct NodeClientOptions {
  std::string base_url = {};       // "https://127.0.0.1:<port>", no trailing slash needed
  std::string token = {};          // the node's API token; none is sent when empty (mesh TLS)
  net::ClientTlsOptions tls = {};  // for https: mesh::MeshClientTls (lunald control)
  std::chrono::milliseconds connect_timeout{5'000};
  // For Stop and List; Launch allows launch_timeout plus this, PollEvents its wait plus this.
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds launch_timeout{60'000};
};

class NodeClient {
 public:
  explicit NodeClient(NodeClientOptions options);
  ~NodeClient();
  NodeClient(const NodeClient&) = delete;
  NodeClient& operator=(const NodeClient&) = delete;

  // POST /v1/node/instances: blocks until the node answers (ready or refused).
  Result<InstanceStatus> Launch(const LaunchRequest& request);
  // DELETE /v1/node/instances/{id}: NotFound node.instance.unknown from the node.
  Status Stop(std::string_view instance_id);
  // GET /v1/node/instances.
  Result<std::vector<InstanceStatus>> List();
  // GET /v1/node/events?after=…&wait=… (wait is cut to whole seconds, at most 25).
  Result<EventBatch> PollEvents(std::uint64_t after, std::chrono::seconds wait);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::node

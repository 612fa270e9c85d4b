// The control plane's collaborators in other processes (issue 8: "Roles can also run as separate
// lunald processes"; docs/protocols/dev-platform.md "Roles as separate processes"):
//
//   RemoteNode         NodeApi over node::NodeClient (`lunald node`'s HTTP API), plus an event
//                      pump: a thread long-polling GET /v1/node/events (wait 25 s) that hands
//                      each event to a callback (ControlPlane::OnNodeEvent), resuming from the
//                      batch's `next` (saved in a cursor file across restarts), backing off 1 s
//                      after an error.
//   RemoteRoutes       RouteSink over gateway::AdminClient (`lunald gateway`'s admin API).
//                      RouteSink's methods return nothing: a failure is logged
//                      (control.routes.set_failed / control.routes.remove_failed) and the next
//                      reconcile sets the route again.
//   ListedByOperator   the production AllowListAuthority. It never signs: Allow succeeds only
//                      when the CDS's active allow-list (GET {cds_url}/v1/cds/manifest, verified
//                      with cds::VerifyManifestEnvelope against the pinned operator key) already
//                      names the build hash for (tenant, deployment).
//
// Errors (ListedByOperator::Allow):
//   PolicyViolation control.allow_list.not_listed   the active list does not name the hash; the
//                                                    message says which hash to list, and where
//   Unavailable     control.allow_list.unavailable  the CDS cannot be reached or has no list yet
//   the manifest's own: cds.manifest.bad_signature (not signed by the pinned key),
//                      cds.manifest.bad_type, cds.manifest.bad_field
//   ListedByOperator::Create: InvalidArgument control.allow_list.bad_key (operator key PEM)
//
// Thread-safety: every method may be called from any thread, except that FollowEvents must not
// race the destructor or another FollowEvents. RemoteNode's destructor stops the
// pump promptly (an in-flight long poll is abandoned, not waited for) and must not run while
// another thread is still calling it; the callback runs on the pump thread.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/control/control.h"
#include "lunal/gateway/admin.h"
#include "lunal/node/client.h"
#include "lunal/node/node.h"

namespace lunal::control {

class RemoteNode final : public NodeApi {
 public:
  explicit RemoteNode(node::NodeClientOptions options);
  // Starts the event pump (once; later calls are ignored): `on_event` receives the node's events
  // (kLog lines included), in order, on the pump thread. Start it once the receiver is ready:
  // events it drops are not offered again. Without a `cursor_file` the pump starts from the
  // oldest event the node holds. With one (lunald control: state_dir/node-events.cursor) it saves
  // its place, "<epoch> <next>\n", atomically after each batch it handed over, and a restarted
  // control plane resumes after it, so log lines are not stored twice; when the node's epoch
  // differs (the node restarted too) it starts from the node's oldest event. A missing cursor
  // file means "from the oldest"; so does an unreadable one
  // (control.node_events.cursor_unreadable).
  void FollowEvents(std::function<void(const node::NodeEvent&)> on_event,
                    std::filesystem::path cursor_file = {});
  // Stops the pump: once this returns no event is delivered and the cursor no longer moves (the
  // batch in flight, if any, is neither delivered nor saved). The destructor does the same.
  void StopFollowing();
  ~RemoteNode() override;
  RemoteNode(const RemoteNode&) = delete;
  RemoteNode& operator=(const RemoteNode&) = delete;

  Result<node::InstanceStatus> Launch(const node::LaunchRequest& request) override;
  Status Stop(std::string_view instance_id) override;

 private:
  struct Pump;
  const node::NodeClientOptions options_;  // the pump's client is made from them too
  node::NodeClient client_;
  std::shared_ptr<Pump> pump_;
};

class RemoteRoutes final : public RouteSink {
 public:
  explicit RemoteRoutes(gateway::AdminClientOptions options);
  void SetRoute(gateway::Route route) override;
  void RemoveRoute(std::string_view deployment) override;

 private:
  gateway::AdminClient client_;
};

class ListedByOperator final : public AllowListAuthority {
 public:
  static Result<std::unique_ptr<ListedByOperator>> Create(std::string cds_url,
                                                          std::string_view operator_key_pem);
  ~ListedByOperator() override;

  Status Allow(std::string_view tenant, std::string_view deployment,
               std::string_view build_hash) override;

 private:
  struct Impl;
  explicit ListedByOperator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::control

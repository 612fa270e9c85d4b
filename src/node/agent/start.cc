// Starting one instance (node.h steps 4–6): its folder, root, spec, device and sandbox.
#include <chrono>

#include "lunal/common/files.h"
#include "lunal/net/client.h"
#include "lunal/node/device.h"
#include "node_impl.h"

namespace lunal::node {
namespace fs = std::filesystem;

Result<std::shared_ptr<Instance>> NodeAgent::Impl::Start(const LaunchRequest& request,
                                                         InstanceStatus status) {
  auto in = std::make_shared<Instance>();
  in->status = std::move(status);
  in->dir = options.state_dir / "instances" / request.instance_id;
  {
    std::lock_guard lock(mu);
    if (instances.contains(request.instance_id)) {
      in->dir.clear();  // not ours to remove
      return Conflict("node.instance.exists", "instance {} is already running on this node",
                      request.instance_id);
    }
    instances[request.instance_id] = in;
  }
  // Steps 4 and 5: the artifact's digest, its extraction, the start command.
  if (Status s = EnsureDirectory(in->dir, 0700); !s.ok()) {
    return Unavailable("node.state.io", "{}", s.ToString());
  }
  LUNAL_RETURN_IF_ERROR(internal::PrepareRoot(request.manifest_json, request.artifact, in->dir));
  const fs::path root = in->dir / "root";
  LUNAL_ASSIGN_OR_RETURN(internal::StartCommand command, internal::ResolveStartCommand(root));
  // The mesh port: a listening socket on the host's loopback, passed into the sandbox (which has
  // its own network namespace: nothing else of the host's network is reachable from inside).
  LUNAL_ASSIGN_OR_RETURN(internal::ListeningSocket mesh_socket, internal::ListenOnLoopback());
  const std::uint16_t listen_port = mesh_socket.port;
  // The app's port exists only inside the sandbox's namespace: any port but the mesh one.
  LUNAL_ASSIGN_OR_RETURN(std::uint16_t app_port, internal::FreeLoopbackPort());
  if (app_port == listen_port)
    app_port = static_cast<std::uint16_t>(listen_port == 8080 ? 8081 : 8080);
  in->expected_address = fmt::format("127.0.0.1:{}", listen_port);

  // The spec (instance.h InstanceSpec, member for member) and the device, in run/.
  const fs::path run = in->dir / "run";
  if (Status s = EnsureDirectory(run, 0755); !s.ok()) {
    return Unavailable("node.state.io", "{}", s.ToString());
  }
  const Json spec = {
      {"tenant", request.tenant},
      {"deployment", request.deployment},
      {"instance_id", request.instance_id},
      {"build_hash", request.build_hash},
      {"cds_url", options.cds_url},
      {"cds_ca_pem", options.cds_ca_pem},
      {"gateway_tenant", options.gateway_tenant},
      {"gateway_deployment", options.gateway_deployment},
      {"allow_simulated_peers", options.allow_simulated_peers},
      {"listen_port", listen_port},
      {"listen_fd", internal::kPassedFd},
      {"cds_via_device", true},
      {"app_port", app_port},
      {"app_dir", "/app"},
      {"command", command.argv},
      {"env", internal::AppEnvironment(command, root, app_port, request.env)},
      {"device", std::string(kDevicePath)},
      {"drain_ms", std::int64_t{2000}},
      {"health_path", options.health_path},
      {"health_interval_ms", static_cast<std::int64_t>(options.health_interval.count())},
      {"health_timeout_ms", static_cast<std::int64_t>(options.health_timeout.count())},
      {"health_failures", options.health_failures},
  };
  if (Status s = WriteFileAtomically(run / "instance.json", spec.dump(2) + "\n", 0644); !s.ok()) {
    return Unavailable("node.state.io", "{}", s.ToString());
  }
  const std::string node_event = "lunal.node-agent " + node_agent_digest;
  LUNAL_ASSIGN_OR_RETURN(
      in->attester,
      attest::sim::SimTdxAttester::Create(
          options.sim_root, {.mr_td = mr_td,
                             .boot_measurements = {{.rtmr = 0, .event = ToBytes(node_event)},
                                                   {.rtmr = 1, .event = ToBytes(policy)}}}));
  std::weak_ptr<Instance> weak = in;
  in->device = std::make_unique<internal::DeviceServer>(
      run / "tdx.sock", in->attester.get(),
      internal::DeviceCallbacks{
          .on_ready = [weak](const Json& ready) -> Status {
            auto self = weak.lock();
            if (!self) return Unavailable("node.device.gone", "the instance is gone");
            auto address = JsonString(ready, "address");
            auto nonce = JsonString(ready, "nonce");
            auto cert = JsonString(ready, "certificate_pem");
            if (!address.ok() || !nonce.ok() || !cert.ok() || !ready.contains("evidence") ||
                !ready["evidence"].is_object()) {
              return InvalidArgument("node.device.bad_request",
                                     "ready needs address, nonce, certificate_pem, evidence");
            }
            std::lock_guard lock(self->mu);
            if (*address != self->expected_address) {
              return InvalidArgument("node.device.bad_address", "ready at {}, expected {}",
                                     *address, self->expected_address);
            }
            if (self->launch_done && !self->ready) {
              return Conflict("node.device.too_late", "the launch has already failed");
            }
            // A later report (a renewed certificate) replaces the first one's values.
            self->status.address = *address;
            self->status.nonce = *nonce;
            self->status.certificate_pem = *cert;
            self->status.evidence = ready["evidence"];
            self->ready = true;
            self->cv.notify_all();
            return Status::Ok();
          },
          .on_failed =
              [weak](std::string reason, std::string message) {
                auto self = weak.lock();
                if (!self) return;
                std::lock_guard lock(self->mu);
                self->failed.emplace(std::move(reason), std::move(message));
                self->cv.notify_all();
              },
          // The instance reaches the CDS only through this relay (device.h "cds").
          .on_cds_post = [cds_url = options.cds_url](const std::string& path,
                                                     const Json& body) -> Result<Json> {
            std::string base = cds_url;
            while (!base.empty() && base.back() == '/') base.pop_back();
            if (base.empty()) {
              return Unavailable("node.device.no_cds", "this node has no CDS to relay to");
            }
            net::HttpClient client({.connect_timeout = std::chrono::seconds(5),
                                    .request_timeout = std::chrono::seconds(30),
                                    .max_response_bytes = std::size_t{1} << 20,
                                    .tls = {}});
            return client.SendJson("POST", base + path, body);
          },
      });
  LUNAL_RETURN_IF_ERROR(in->device->Start());

  // Step 6: the sandbox.
  std::error_code ec;
  internal::SandboxPaths paths{
      .bwrap = bwrap,
      .app = root / "app",
      .deps = fs::is_directory(root / "deps", ec) ? std::optional(root / "deps") : std::nullopt,
      .run = run,
      .instance_agent = options.instance_agent,
      .hostname = "lunal-" + request.instance_id,
  };
  LUNAL_ASSIGN_OR_RETURN(
      internal::Spawned child,
      internal::SpawnWithPipes(internal::BwrapArgv(paths), {}, mesh_socket.fd.get()));
  mesh_socket.fd.reset();  // the sandbox holds it now: the port closes with the instance
  {
    std::lock_guard lock(in->mu);
    in->pid = child.pid;
    in->status.pid = child.pid;
    in->status.started_at = clock->Now();
  }
  in->out_reader = std::thread([this, in, fd = child.stdout_fd] { ReadStream(in, fd, "stdout"); });
  in->err_reader = std::thread([this, in, fd = child.stderr_fd] { ReadStream(in, fd, "stderr"); });
  in->waiter = std::thread([this, in] { Wait(in); });
  return in;
}

}  // namespace lunal::node

// NodeAgent (node.h): the launch pipeline, the instances it supervises, and their events.
#include "lunal/node/node.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "lunal/attest/tdx/event_log.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/log.h"
#include "lunal/crypto/digest.h"
#include "lunal/node/device.h"
#include "node_impl.h"

namespace lunal::node {
namespace fs = std::filesystem;
using internal::AllowListHolder;
using internal::DeviceServer;

namespace {

bool IsBuildHash(std::string_view s) {
  if (s.size() != 71 || s.substr(0, 7) != "sha256:") return false;
  for (char c : s.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

Status BadField(std::string_view field, std::string_view why) {
  return InvalidArgument("node.request.bad_field", "{}: {}", field, why);
}

// Step 1 of node.h.
Status ValidateRequest(const LaunchRequest& r) {
  if (!cds::IsValidName(r.tenant)) return BadField("tenant", "not a valid name");
  if (!cds::IsValidName(r.deployment)) return BadField("deployment", "not a valid name");
  if (!cds::IsValidName(r.instance_id)) return BadField("instance_id", "not a valid name");
  if (!IsBuildHash(r.build_hash)) return BadField("build_hash", "not \"sha256:<64 hex>\"");
  if (r.manifest_json.empty()) return BadField("manifest_json", "empty");
  if (r.artifact.empty()) return BadField("artifact", "empty");
  for (const auto& [name, value] : r.env) {
    if (!IsEnvName(name)) return BadField("env", fmt::format("{:?} is not a variable name", name));
    if (name.starts_with("LUNAL_")) {
      return BadField("env", fmt::format("{} is reserved for the platform", name));
    }
    if (value.find('\0') != std::string::npos) return BadField("env", "a value holds a NUL");
  }
  return Status::Ok();
}

}  // namespace

std::string_view InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kStarting:
      return "starting";
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kExited:
      return "exited";
    case InstanceState::kStopped:
      return "stopped";
    case InstanceState::kFailed:
      return "failed";
  }
  return "unknown";
}

Json ToJson(const InstanceStatus& s) {
  Json out = {{"instance_id", s.instance_id},
              {"tenant", s.tenant},
              {"deployment", s.deployment},
              {"build_hash", s.build_hash},
              {"state", InstanceStateName(s.state)},
              {"address", s.address},
              {"pid", s.pid},
              {"evidence", s.evidence},
              {"nonce", s.nonce},
              {"certificate_pem", s.certificate_pem},
              {"started_at", FormatRfc3339(s.started_at)}};
  if (!s.reason.empty()) out["reason"] = s.reason;
  if (!s.message.empty()) out["message"] = s.message;
  return out;
}
NodeAgent::NodeAgent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NodeAgent::~NodeAgent() {
  StopAll(std::chrono::milliseconds(0));
  impl_->ReapGraveyard();
}

Result<std::unique_ptr<NodeAgent>> NodeAgent::Create(NodeOptions options) {
  auto bad = [](std::string_view what) {
    return InvalidArgument("node.config.bad_option", std::string(what));
  };
  if (options.state_dir.empty()) return bad("state_dir is required");
  if (!options.sim_root) return bad("sim_root is required");
  if (options.instance_agent.empty()) return bad("instance_agent is required");
  if (::access(options.instance_agent.c_str(), X_OK) != 0) {
    return InvalidArgument("node.config.bad_option", "instance_agent {} is not executable",
                           options.instance_agent.string());
  }
  auto key = crypto::PublicKey::FromPem(options.operator_key_pem);
  if (!key.ok()) return bad("operator_key_pem: " + key.error().ToString());

  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock ? options.clock : &SystemClock::Instance();
  LUNAL_ASSIGN_OR_RETURN(impl->bwrap, internal::FindBwrap());
  if (Status s = EnsureDirectory(options.state_dir, 0700); !s.ok()) {
    return Unavailable("node.state.io", "{}", s.ToString());
  }
  // Instances die with the node: whatever a previous run left is removed.
  internal::RemoveTree(options.state_dir / "instances");
  if (Status s = EnsureDirectory(options.state_dir / "instances", 0700); !s.ok()) {
    return Unavailable("node.state.io", "{}", s.ToString());
  }
  const fs::path version_file = options.state_dir / "allow-list.version";
  LUNAL_ASSIGN_OR_RETURN(std::int64_t highest, AllowListHolder::LoadHighestVersion(version_file));
  impl->allow_list = std::make_unique<AllowListHolder>(std::move(*key), version_file,
                                                       options.manifest_source, highest);
  LUNAL_ASSIGN_OR_RETURN(impl->node_agent_digest, internal::FileSha256("/proc/self/exe"));
  LUNAL_ASSIGN_OR_RETURN(impl->instance_agent_digest, internal::FileSha256(options.instance_agent));
  impl->policy = internal::SandboxPolicyJson();
  // MRTD: the "image" the instance runs in = the sandbox policy and the instance agent binary.
  const Json image = {
      {"instance_agent", impl->instance_agent_digest},
      {"sandbox_policy_sha256", "sha256:" + HexEncode(crypto::Sha256(AsBytes(impl->policy)))}};
  const auto mr_td = crypto::Sha384(AsBytes(CanonicalJson(image).value()));
  impl->mr_td.assign(mr_td.begin(), mr_td.end());
  impl->options = std::move(options);
  return std::unique_ptr<NodeAgent>(new NodeAgent(std::move(impl)));
}
Result<InstanceStatus> NodeAgent::Launch(const LaunchRequest& request) {
  Impl& impl = *impl_;
  impl.ReapGraveyard();
  InstanceStatus status{.instance_id = request.instance_id,
                        .tenant = request.tenant,
                        .deployment = request.deployment,
                        .build_hash = request.build_hash};
  // Steps 1–3: before anything is written or started.
  if (Status s = ValidateRequest(request); !s.ok()) return impl.Refused(status, s);
  const std::string manifest_hash =
      "sha256:" + HexEncode(crypto::Sha256(AsBytes(request.manifest_json)));
  if (manifest_hash != request.build_hash) {
    return impl.Refused(status, VerificationFailed("node.launch.manifest_mismatch",
                                                   "the manifest hashes to {}, not {}",
                                                   manifest_hash, request.build_hash));
  }
  if (Status s = impl.allow_list->Check(request.tenant, request.deployment, request.build_hash);
      !s.ok()) {
    return impl.Refused(status, s);
  }

  auto started = impl.Start(request, status);
  if (!started.ok()) {
    // Start registered the instance unless its id was taken; Cleanup undoes what it did.
    std::shared_ptr<Instance> in;
    {
      std::lock_guard lock(impl.mu);
      auto it = impl.instances.find(request.instance_id);
      if (it != impl.instances.end() && started.error().reason() != "node.instance.exists") {
        in = it->second;
      }
    }
    if (in) {
      impl.Terminate(in, std::chrono::milliseconds(0));
      impl.Cleanup(in);
    }
    return impl.Refused(status, started.error());
  }
  std::shared_ptr<Instance> in = *started;

  // Step 7: wait for the instance agent's ready report.
  const auto deadline = std::chrono::steady_clock::now() + impl.options.launch_timeout;
  std::unique_lock lock(in->mu);
  in->cv.wait_until(lock, deadline, [&] { return in->ready || in->exited || in->failed; });
  in->launch_done = true;
  if (in->ready && !in->exited && !in->stop_requested) {
    in->status.state = InstanceState::kRunning;
    InstanceStatus running = in->status;
    lock.unlock();
    log::Info("node.instance.ready",
              {{"instance", running.instance_id}, {"address", running.address}});
    impl.Emit(NodeEvent::Kind::kReady, running);
    return running;
  }
  if (in->stop_requested) {
    return Unavailable("node.instance.stopped", "instance {} was stopped while it started",
                       request.instance_id);
  }
  Status why;
  std::string tail;
  for (const std::string& line : in->stderr_tail) tail += "\n  " + line;
  if (in->failed) {
    why = Unavailable("node.instance.failed", "the instance agent reported {}: {}{}",
                      in->failed->first, in->failed->second, tail);
  } else if (in->exited) {
    why = Unavailable("node.instance.exited", "the sandbox ended before ready ({}){}",
                      DescribeExit(in->wait_status), tail);
  } else {
    why = DeadlineExceeded("node.launch.timeout", "no ready report within {} ms{}",
                           impl.options.launch_timeout.count(), tail);
  }
  lock.unlock();
  impl.Terminate(in, std::chrono::milliseconds(0));
  impl.Cleanup(in);
  return impl.Refused(status, why);
}

Status NodeAgent::Stop(std::string_view instance_id,
                       std::optional<std::chrono::milliseconds> grace) {
  Impl& impl = *impl_;
  std::shared_ptr<Instance> in;
  {
    std::lock_guard lock(impl.mu);
    auto it = impl.instances.find(std::string(instance_id));
    if (it != impl.instances.end()) in = it->second;
  }
  if (!in) return NotFound("node.instance.unknown", "no instance {} on this node", instance_id);
  {
    std::lock_guard lock(in->mu);
    if (in->waiter_cleans) return Status::Ok();  // it ended on its own; kExited was reported
    in->stop_requested = true;
  }
  impl.Terminate(in, grace.value_or(impl.options.stop_grace));
  InstanceStatus stopped;
  {
    std::lock_guard lock(in->mu);
    in->status.state = InstanceState::kStopped;
    in->status.reason.clear();
    in->status.message = in->exited ? DescribeExit(in->wait_status) : "";
    stopped = in->status;
  }
  impl.Cleanup(in);
  impl.ReapGraveyard();
  log::Info("node.instance.stopped", {{"instance", stopped.instance_id}});
  impl.Emit(NodeEvent::Kind::kStopped, std::move(stopped));
  return Status::Ok();
}

std::string NodeAgent::MrTdHex() const { return HexEncode(impl_->mr_td); }

std::vector<InstanceStatus> NodeAgent::List() const {
  std::vector<std::shared_ptr<Instance>> all;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [id, in] : impl_->instances) all.push_back(in);
  }
  std::vector<InstanceStatus> out;
  for (const auto& in : all) {
    std::lock_guard lock(in->mu);
    out.push_back(in->status);
  }
  return out;
}

void NodeAgent::StopAll(std::chrono::milliseconds grace) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [id, in] : impl_->instances) ids.push_back(id);
  }
  for (const std::string& id : ids) {
    Stop(id, grace).IgnoreError();  // an instance may end on its own meanwhile
  }
}

}  // namespace lunal::node

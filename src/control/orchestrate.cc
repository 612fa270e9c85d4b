// The orchestration: build → allow-list → launch → running, the reconciler that keeps
// instances_desired instances of the current build, node events, scale, delete and recovery.
// See control.h for the state machine; impl.h for the locking.
#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "impl.h"
#include "lunal/build/config.h"
#include "lunal/build/pipeline.h"

namespace lunal::control {

namespace fs = std::filesystem;
using internal::DeploymentRow;
using internal::InstanceRow;

namespace {

bool Active(const InstanceRow& i) { return i.state == kStarting || i.state == kRunning; }

// The build source a deployment names, as RunBuild's spec (and ref, for git).
Result<std::pair<std::string, std::string>> BuildSpec(internal::Store& store,
                                                      const DeploymentRow& d) {
  LUNAL_ASSIGN_OR_RETURN(Json source, ParseJson(d.source_json));
  std::string type = source.value("type", "");
  if (type == "upload") {
    LUNAL_ASSIGN_OR_RETURN(auto upload, store.GetUpload(source.value("upload_id", "")));
    if (!upload || upload->tenant != d.tenant) {
      return NotFound("control.upload.not_found", "no such upload");
    }
    return std::make_pair(upload->path, std::string());
  }
  if (type == "git") return std::make_pair(source.value("url", ""), source.value("ref", ""));
  return std::make_pair(source.value("path", ""), std::string());
}

}  // namespace

bool ControlPlane::Impl::NeedsAttestation(const std::string& name, const std::string& build_hash) {
  auto att = store->LatestAttestation(name);
  if (!att.ok() || !att->has_value()) return true;
  auto bundle = ParseJson((*att)->bundle_json);
  if (!bundle.ok() || !bundle->is_object() || !(*bundle)["build_hash"].is_string() ||
      (*bundle)["build_hash"].get<std::string>() != build_hash) {
    return true;
  }
  auto attested = store->GetInstance((*att)->instance_id);
  return !attested.ok() || !attested->has_value() || (*attested)->state != kRunning;
}

void ControlPlane::Impl::FailDeployment(const std::string& name, std::int64_t revision,
                                        const Status& why) {
  {
    std::lock_guard lock(orch_mu);
    auto d = store->GetDeployment(name);
    if (!d.ok() || !d->has_value()) return;
    DeploymentRow row = **d;
    if (row.revision != revision || row.state == kDeleted) return;
    row.state = std::string(kFailed);
    row.reason = why.reason();
    row.message = why.message();
    row.updated_at = Now();
    // Events of a transition go in before the state changes: a client that reads the new state
    // then reads its events finds them (api.cc, events).
    Emit(name, "failed", why.message(), {{"reason", why.reason()}});
    store->PutDeployment(row).IgnoreError();  // the event above already reports the failure
  }
}

void ControlPlane::Impl::RunDeploy(std::string name, std::int64_t revision) {
  auto snapshot = store->GetDeployment(name);
  if (!snapshot.ok() || !snapshot->has_value()) return;
  DeploymentRow d = **snapshot;
  if (d.revision != revision) return;
  Emit(name, "build.started", fmt::format("building revision {}", revision),
       {{"revision", revision}});

  auto spec = BuildSpec(*store, d);
  if (!spec.ok()) return FailDeployment(name, revision, spec.error());
  build::BuildOptions bo;
  bo.spec = spec->first;
  bo.ref = spec->second;
  bo.out_dir = options.state_dir / "builds" / name / std::to_string(revision);
  bo.work_root = options.state_dir / "work";
  bo.builder_key = options.builder_key;
  bo.clock = clock;
  bo.progress = [this, &name](std::string_view line) {
    Emit(name, "build.progress", line);
    QueueLog(name, "build", "build", line);
  };
  std::error_code ec;
  fs::remove_all(bo.out_dir, ec);  // a half-written folder of an interrupted earlier attempt
  Result<build::BuildResult> built = build::RunBuild(bo);
  if (!built.ok()) return FailDeployment(name, revision, built.error());

  std::string hash = built->build_hash;
  std::string tenant;
  {
    std::lock_guard lock(orch_mu);
    auto current = store->GetDeployment(name);
    if (!current.ok() || !current->has_value()) return;
    DeploymentRow row = **current;
    if (row.revision != revision || row.state == kDeleted) return;
    row.state = std::string(kBuilt);
    row.build_hash = hash;
    row.manifest_json = built->manifest_json;
    row.build_dir = bo.out_dir.string();
    row.config_json = build::ToJson(built->config).dump();
    if (!row.instances_explicit) {
      row.instances_desired = std::min<std::int64_t>(built->config.autoscaling.min_instances,
                                                     kMaxInstancesPerDeployment);
    }
    row.updated_at = Now();
    tenant = row.tenant;
    if (Status s = store->PutDeployment(row); !s.ok()) return FailDeployment(name, revision, s);
  }
  Emit(name, "build.finished", hash, {{"build_hash", hash}});

  // The operator's decision (in dev, the local user's): only then will a node run it.
  if (Status s = options.authority->Allow(tenant, name, hash); !s.ok()) {
    return FailDeployment(name, revision, s);
  }
  Emit(name, "allow_list", fmt::format("{} allowed", hash),
       {{"build_hash", hash}, {"version", nullptr}});
  {
    std::lock_guard lock(orch_mu);
    auto current = store->GetDeployment(name);
    if (!current.ok() || !current->has_value()) return;
    DeploymentRow row = **current;
    if (row.revision != revision || row.state != kBuilt) return;
    row.state = std::string(kLaunching);
    row.updated_at = Now();
    if (!store->PutDeployment(row).ok()) return;
  }
  Reconcile(name);
}

void ControlPlane::Impl::Reconcile(const std::string& name) {
  std::vector<std::string> to_launch;
  std::vector<std::string> to_stop;
  {
    std::lock_guard lock(orch_mu);
    auto d = store->GetDeployment(name);
    if (!d.ok() || !d->has_value()) return;
    DeploymentRow row = **d;
    if (row.state != kLaunching && row.state != kRunning) return;
    auto instances = store->Instances(name);
    if (!instances.ok()) return;
    std::vector<InstanceRow> current;
    for (const auto& i : *instances) {
      if (Active(i) && i.build_hash == row.build_hash) current.push_back(i);
    }
    std::int64_t have = static_cast<std::int64_t>(current.size());
    for (std::int64_t k = have; k < row.instances_desired; ++k) {
      InstanceRow i;
      i.id = NewId("i-", 4);
      i.deployment = name;
      i.state = std::string(kStarting);
      i.build_hash = row.build_hash;
      i.started_at = Now();
      if (!store->PutInstance(i).ok()) return;
      to_launch.push_back(i.id);
    }
    // Scale down: the youngest go first (starting before running).
    for (auto it = current.rbegin(); it != current.rend() && have > row.instances_desired; ++it) {
      InstanceRow i = *it;
      i.state = std::string(kStopped);
      i.reason = "control.scaled_down";
      if (!store->PutInstance(i).ok()) return;
      to_stop.push_back(i.id);
      --have;
    }
    // A launch with nothing to start is running at once: no instances are wanted, or the build is
    // already serving (deployed again unchanged, or relaunched by a restarted control plane before
    // this deploy). Otherwise the first new instance to become ready announces it (LaunchOne).
    const bool serving = std::any_of(current.begin(), current.end(),
                                     [](const InstanceRow& i) { return i.state == kRunning; });
    if (row.state == kLaunching && to_launch.empty() && (row.instances_desired == 0 || serving)) {
      Emit(name, "running", DeploymentUrl(name), {{"url", DeploymentUrl(name)}});
      row.state = std::string(kRunning);
      row.updated_at = Now();
      if (!store->PutDeployment(row).ok()) return;
    }
  }
  for (const std::string& id : to_launch) {
    Spawn([this, name, id] { LaunchOne(name, id); });
  }
  for (const std::string& id : to_stop) {
    options.node->Stop(id).IgnoreError();  // already gone at the node: nothing left to stop
  }
  if (!to_stop.empty()) UpdateRoute(name);
}

void ControlPlane::Impl::LaunchOne(const std::string& name, const std::string& instance_id) {
  auto snapshot = store->GetDeployment(name);
  auto planned = store->GetInstance(instance_id);
  if (!snapshot.ok() || !snapshot->has_value() || !planned.ok() || !planned->has_value()) return;
  const DeploymentRow& d = **snapshot;
  if ((*planned)->build_hash != d.build_hash) {
    // A newer build finished between the reconcile that planned this instance and now: the
    // reconciler plans its instances itself.
    std::lock_guard lock(orch_mu);
    auto row = store->GetInstance(instance_id);
    if (row.ok() && row->has_value() && (*row)->state == kStarting) {
      InstanceRow inst = **row;
      inst.state = std::string(kStopped);
      inst.reason = "control.replaced";
      store->PutInstance(inst).IgnoreError();  // a starting row is marked exited at recovery
    }
    return;
  }
  {
    std::lock_guard lock(instance_mu);
    instance_deployment[instance_id] = name;
  }
  Emit(name, "launch.started", instance_id, {{"instance_id", instance_id}});
  node::LaunchRequest request;
  request.tenant = d.tenant;
  request.deployment = name;
  request.instance_id = instance_id;
  request.build_hash = d.build_hash;
  request.manifest_json = d.manifest_json;
  request.artifact = fs::path(d.build_dir) / std::string(build::kArtifactFile);
  Result<node::InstanceStatus> launched = options.node->Launch(request);

  bool first_ready = false;
  bool stop_it = false;
  {
    std::lock_guard lock(orch_mu);
    auto row = store->GetInstance(instance_id);
    if (!row.ok() || !row->has_value()) return;
    InstanceRow inst = **row;
    if (inst.state != kStarting) {
      stop_it = launched.ok();  // stopped (scale down, delete) while it was starting
    } else if (!launched.ok()) {
      RecordLaunchFailure(inst, launched.error());
    } else {
      auto outcome = RecordReady(inst, d.tenant, *launched);
      first_ready = outcome.first_ready;
    }
  }
  if (stop_it) {
    options.node->Stop(instance_id).IgnoreError();
    return;
  }
  if (first_ready) {
    StopStale(name);
  }
  UpdateRoute(name);
}

void ControlPlane::Impl::RecordLaunchFailure(InstanceRow inst, const Status& why) {
  const std::string name = inst.deployment;
  inst.state = std::string(kFailed);
  inst.reason = why.reason();
  store->PutInstance(inst).IgnoreError();  // the event below still reports it
  Emit(name, "instance.failed", why.message(),
       {{"instance_id", inst.id}, {"reason", why.reason()}});
  auto current = store->GetDeployment(name);
  auto all = store->Instances(name);
  if (!current.ok() || !current->has_value() || !all.ok() || (*current)->state != kLaunching ||
      (*current)->build_hash != inst.build_hash) {
    return;  // a replacement for a running deployment: the others keep serving
  }
  for (const auto& i : *all) {
    if (Active(i) && i.build_hash == inst.build_hash) return;  // another may still come up
  }
  DeploymentRow dr = **current;
  dr.state = std::string(kFailed);
  dr.reason = why.reason();
  dr.message = why.message();
  dr.updated_at = Now();
  Emit(name, "failed", dr.message, {{"reason", dr.reason}});
  store->PutDeployment(dr).IgnoreError();  // the event above reports it
}

ControlPlane::Impl::ReadyOutcome ControlPlane::Impl::RecordReady(
    InstanceRow inst, const std::string& tenant, const node::InstanceStatus& launched) {
  const std::string name = inst.deployment;
  ReadyOutcome outcome;
  inst.state = std::string(kRunning);
  inst.address = launched.address;
  if (launched.started_at != Timestamp{}) inst.started_at = launched.started_at;
  store->PutInstance(inst).IgnoreError();  // the event below still reports it
  Emit(name, "instance.ready", inst.address, {{"instance_id", inst.id}, {"address", inst.address}});
  auto current = store->GetDeployment(name);
  bool launching = current.ok() && current->has_value() && (*current)->state == kLaunching &&
                   (*current)->build_hash == inst.build_hash;
  if (launching || NeedsAttestation(name, inst.build_hash)) {
    // The first ready instance of this launch, or one replacing the attested instance that went
    // away: its evidence becomes the deployment's attestation (attest::DeploymentEvidence
    // without a signature; the latest signature is joined when the bundle is served).
    internal::AttestationRow att;
    att.id = NewId("att_", 8);
    att.deployment = name;
    att.instance_id = inst.id;
    att.created_at = Now();
    Json bundle = {{"id", att.id},
                   {"tenant", tenant},
                   {"deployment_id", name},
                   {"instance_id", inst.id},
                   {"build_hash", inst.build_hash},
                   {"nonce", launched.nonce},
                   {"certificate_pem", launched.certificate_pem},
                   {"evidence", launched.evidence},
                   {"attested_at", FormatRfc3339(att.created_at)}};
    att.bundle_json = bundle.dump();
    outcome.attested = store->PutAttestation(att).ok();  // else: evidence answers not_running
    if (outcome.attested) {
      // The verdict the Deployment object shows, computed before "running" is announced so that
      // whoever waits for "running" sees it (no-op without a verifier).
      auto row = store->GetDeployment(name);
      if (row.ok() && row->has_value()) (void)VerifyLatest(**row);
    }
  }
  if (launching) {
    DeploymentRow dr = **current;
    dr.state = std::string(kRunning);
    dr.reason.clear();
    dr.message.clear();
    dr.updated_at = Now();
    Emit(name, "running", DeploymentUrl(name), {{"url", DeploymentUrl(name)}});
    store->PutDeployment(dr).IgnoreError();  // the event above reports it
    outcome.first_ready = true;
  }
  return outcome;
}

void ControlPlane::Impl::UpdateRoute(const std::string& name) {
  auto d = store->GetDeployment(name);
  if (!d.ok() || !d->has_value()) return;
  if ((*d)->state == kDeleted) {
    options.routes->RemoveRoute(name);
    return;
  }
  auto instances = store->Instances(name);
  if (!instances.ok()) return;
  gateway::Route route;
  route.tenant = (*d)->tenant;
  route.deployment = name;
  route.allow_simulated = options.sim_root != nullptr;
  std::set<std::string> hashes;
  for (const auto& i : *instances) {
    if (i.state != kRunning) continue;
    route.backends.push_back({.instance_id = i.id, .address = i.address});
    hashes.insert(i.build_hash);
  }
  if (hashes.empty() && !(*d)->build_hash.empty()) hashes.insert((*d)->build_hash);
  route.build_hashes.assign(hashes.begin(), hashes.end());
  options.routes->SetRoute(std::move(route));
}

void ControlPlane::Impl::StopStale(const std::string& name) {
  std::vector<std::string> to_stop;
  {
    std::lock_guard lock(orch_mu);
    auto d = store->GetDeployment(name);
    auto instances = store->Instances(name);
    if (!d.ok() || !d->has_value() || !instances.ok()) return;
    for (InstanceRow i : *instances) {
      if (!Active(i) || i.build_hash == (*d)->build_hash) continue;
      i.state = std::string(kStopped);
      i.reason = "control.replaced";
      if (store->PutInstance(i).ok()) to_stop.push_back(i.id);
    }
  }
  for (const auto& id : to_stop) options.node->Stop(id).IgnoreError();
}

Status ControlPlane::Impl::DeleteDeployment(const std::string& name) {
  std::vector<std::string> to_stop;
  {
    std::lock_guard lock(orch_mu);
    LUNAL_ASSIGN_OR_RETURN(auto d, store->GetDeployment(name));
    if (!d) return NotFound("control.deployment.not_found", "no deployment {}", name);
    LUNAL_ASSIGN_OR_RETURN(auto instances, store->Instances(name));
    for (InstanceRow i : instances) {
      if (!Active(i)) continue;
      i.state = std::string(kStopped);
      i.reason = "control.deleted";
      LUNAL_RETURN_IF_ERROR(store->PutInstance(i));
      to_stop.push_back(i.id);
    }
    d->state = std::string(kDeleted);
    d->updated_at = Now();
    Emit(name, "deleted", "deployment deleted");
    LUNAL_RETURN_IF_ERROR(store->PutDeployment(*d));
  }
  options.routes->RemoveRoute(name);
  for (const auto& id : to_stop) options.node->Stop(id).IgnoreError();
  return Status::Ok();
}

Status ControlPlane::Impl::ScaleDeployment(const std::string& name, std::int64_t instances) {
  {
    std::lock_guard lock(orch_mu);
    LUNAL_ASSIGN_OR_RETURN(auto d, store->GetDeployment(name));
    if (!d) return NotFound("control.deployment.not_found", "no deployment {}", name);
    if (d->state == kDeleted) {
      return Conflict("control.deployment.deleted", "deployment {} is deleted", name);
    }
    d->instances_desired = instances;
    d->instances_explicit = true;
    d->updated_at = Now();
    LUNAL_RETURN_IF_ERROR(store->PutDeployment(*d));
  }
  Emit(name, "scaled", fmt::format("{} instances", instances), {{"instances", instances}});
  Reconcile(name);
  return Status::Ok();
}

void ControlPlane::Impl::HandleNodeEvent(const node::NodeEvent& event) {
  const std::string& id = event.instance.instance_id;
  if (event.kind == node::NodeEvent::Kind::kLog) {
    std::string deployment;
    {
      std::lock_guard lock(instance_mu);
      auto it = instance_deployment.find(id);
      if (it != instance_deployment.end()) deployment = it->second;
    }
    if (deployment.empty()) {
      auto row = store->GetInstance(id);
      if (!row.ok() || !row->has_value()) return;  // not ours
      deployment = (*row)->deployment;
    }
    QueueLog(deployment, id, event.stream, event.line);
    return;
  }
  if (event.kind != node::NodeEvent::Kind::kExited) return;  // Launch's return covers the rest
  std::string name;
  std::chrono::milliseconds backoff{0};
  {
    std::lock_guard lock(orch_mu);
    auto row = store->GetInstance(id);
    if (!row.ok() || !row->has_value() || (*row)->state != kRunning) return;
    InstanceRow inst = **row;
    // A crash loop (an app that dies at once) must not relaunch as fast as the node can start
    // it: after the second quick exit in a row, wait 1 s, 2 s, 4 s, … up to 30 s.
    int& quick = quick_exits[inst.deployment];
    quick = Now() - inst.started_at < kQuickExit ? quick + 1 : 0;
    if (quick >= 2) {
      backoff = std::min<std::chrono::milliseconds>(
          std::chrono::seconds(std::int64_t{1} << std::min(quick - 2, 5)),
          std::chrono::seconds(30));
    }
    inst.state = std::string(kExited);
    inst.reason = event.instance.reason.empty() ? "node.instance.exited" : event.instance.reason;
    if (!store->PutInstance(inst).ok()) return;
    name = inst.deployment;
    Emit(name, "instance.exited",
         event.instance.message.empty() ? inst.reason : event.instance.message,
         {{"instance_id", id}, {"reason", inst.reason}});
  }
  UpdateRoute(name);
  Spawn([this, name] { Reconcile(name); }, backoff);
}

Status ControlPlane::Impl::RecoverAll() {
  LUNAL_ASSIGN_OR_RETURN(auto all, store->ListDeployments(std::nullopt));
  // Per deployment to relaunch, the instances the previous run had at the node. A node in another
  // process (lunald node) may still run them: they are stopped before the relaunch, so a restart
  // never leaves orphans serving beside the new instances. (A node that restarted with us just
  // answers node.instance.unknown.)
  std::vector<std::pair<std::string, std::vector<std::string>>> relaunch;
  for (const auto& listed : all) {
    std::lock_guard lock(orch_mu);
    LUNAL_ASSIGN_OR_RETURN(auto d, store->GetDeployment(listed.name));
    if (!d) continue;
    if (d->state == kBuilding || d->state == kBuilt) {
      // The build died with the previous process; a new deploy starts a new one.
      d->state = std::string(kFailed);
      d->reason = "control.build.interrupted";
      d->message = "the control plane restarted during the build";
      d->updated_at = Now();
      LUNAL_RETURN_IF_ERROR(store->PutDeployment(*d));
      continue;
    }
    if (d->state != kLaunching && d->state != kRunning) continue;
    LUNAL_ASSIGN_OR_RETURN(auto instances, store->Instances(d->name));
    std::vector<std::string> stale;
    for (InstanceRow i : instances) {
      if (!Active(i)) continue;
      stale.push_back(i.id);
      i.state = std::string(kExited);
      i.reason = "control.restarted";
      LUNAL_RETURN_IF_ERROR(store->PutInstance(i));
    }
    // Launching again: the first instance ready stores a fresh attestation.
    d->state = std::string(kLaunching);
    d->updated_at = Now();
    LUNAL_RETURN_IF_ERROR(store->PutDeployment(*d));
    relaunch.emplace_back(d->name, std::move(stale));
  }
  for (auto& [name, stale] : relaunch) {
    Emit(name, "recovered", "relaunching after a control-plane restart");
    Spawn([this, name = name, stale = std::move(stale)] {
      for (const auto& id : stale) options.node->Stop(id).IgnoreError();
      Reconcile(name);
    });
  }
  return Status::Ok();
}

}  // namespace lunal::control

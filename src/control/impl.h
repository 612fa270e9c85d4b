// ControlPlane::Impl (private): state shared by the API handlers (api.cc), the orchestration
// (orchestrate.cc) and the lifecycle (control.cc).
//
// Locking: `orch_mu` serialises every read-modify-write of deployment and instance rows (the
// reconciler counts rows and inserts "starting" ones under it, so two reconcilers never launch
// the same missing instance twice); node calls (Launch, Stop), builds and route updates run
// outside it. The store has its own mutex beneath. `notify_mu`/`notify_cv` wake long polls
// whenever an event or a batch of log lines is committed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lunal/attest/engine/verifier.h"
#include "lunal/control/control.h"
#include "store.h"

namespace lunal::control {

// Deployment and instance states (control.h).
inline constexpr std::string_view kBuilding = "building";
inline constexpr std::string_view kBuilt = "built";
inline constexpr std::string_view kLaunching = "launching";
inline constexpr std::string_view kRunning = "running";
inline constexpr std::string_view kFailed = "failed";
inline constexpr std::string_view kDeleted = "deleted";
inline constexpr std::string_view kStarting = "starting";
inline constexpr std::string_view kExited = "exited";
inline constexpr std::string_view kStopped = "stopped";

inline constexpr int kMaxInstancesPerDeployment = 20;

struct ControlPlane::Impl {
  ControlOptions options;
  const Clock* clock = nullptr;
  std::unique_ptr<internal::Store> store;
  std::unique_ptr<attest::engine::EvidenceVerifier> verifier;  // null without a sim root

  std::mutex orch_mu;

  std::mutex notify_mu;
  std::condition_variable notify_cv;
  std::uint64_t generation = 0;

  // Log lines wait here for the writer thread, which commits them in one transaction every
  // 100 ms (instances can print faster than one transaction per line allows).
  std::mutex log_mu;
  std::condition_variable log_cv;
  std::vector<internal::LogRow> log_queue;
  bool log_stop = false;
  std::thread log_writer;

  // Background work (builds, launches, reconciles) on a fixed pool of long-lived threads, never
  // a thread per task: the node may start sandboxes with bwrap --die-with-parent, whose
  // PR_SET_PDEATHSIG fires when the *thread* that called Launch exits, so a launching thread
  // must outlive its instance. Tasks may be delayed (the crash-loop back-off).
  static constexpr int kPoolThreads = 16;
  std::mutex pool_mu;
  std::condition_variable pool_cv;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> tasks;
  std::vector<std::thread> pool;
  bool pool_stop = false;
  // Per deployment: instances in a row that exited within kQuickExit of starting.
  static constexpr std::chrono::seconds kQuickExit{10};
  std::map<std::string, int, std::less<>> quick_exits;  // under orch_mu
  std::atomic<bool> stopping{false};

  // instance id → deployment, for log lines (filled as instances launch).
  std::mutex instance_mu;
  std::map<std::string, std::string, std::less<>> instance_deployment;

  // The last server-side verification of each deployment's latest attestation.
  struct Verdict {
    std::string attestation_id;
    std::string status;  // verified | rejected | failed
    Timestamp at;
  };
  std::mutex verdict_mu;
  std::map<std::string, Verdict, std::less<>> verdicts;

  // --- control.cc
  Timestamp Now() const { return clock->Now(); }
  void Notify();
  // Appends an event (and wakes long polls). Errors are swallowed: an event that cannot be
  // written must not stop the orchestration; they are rare (disk full) and the state row says it.
  void Emit(std::string_view deployment, std::string_view kind, std::string_view message,
            const Json& data = Json::object());
  void QueueLog(std::string_view deployment, std::string_view instance_id, std::string_view stream,
                std::string_view line);
  void LogWriterLoop();
  void Spawn(std::function<void()> work,
             std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  void PoolLoop();
  std::string DeploymentUrl(std::string_view name) const;
  std::string DeploymentPathUrl(std::string_view name) const;
  Json VerdictJson(std::string_view deployment);
  // Runs VerifyDeploymentRecord over the deployment's latest attestation (and signature); the
  // record, with "last_verified". Unavailable control.attestation.unavailable when this build has
  // no deployment-record library or no verifier (no simulation root and no vendor collateral).
  Result<Json> VerifyLatest(const internal::DeploymentRow& d);
  // The bundle (attest::DeploymentEvidence's JSON members) plus the latest signature for the
  // deployment's build, or NotFound control.deployment.not_running without an attestation.
  Result<Json> EvidenceBundle(const internal::DeploymentRow& d);

  // --- orchestrate.cc
  void RunDeploy(std::string name, std::int64_t revision);
  void Reconcile(const std::string& name);
  void LaunchOne(const std::string& name, const std::string& instance_id);
  // LaunchOne's outcomes, under orch_mu.
  void RecordLaunchFailure(internal::InstanceRow inst, const Status& why);
  struct ReadyOutcome {
    bool attested = false;     // a new attestation was stored
    bool first_ready = false;  // the deployment went launching → running
  };
  ReadyOutcome RecordReady(internal::InstanceRow inst, const std::string& tenant,
                           const node::InstanceStatus& launched);
  void UpdateRoute(const std::string& name);
  // True when the deployment's latest attestation is missing, of another build, or of an
  // instance that is no longer running (called under orch_mu).
  bool NeedsAttestation(const std::string& name, const std::string& build_hash);
  void StopStale(const std::string& name);
  // Marks the deployment failed (if `revision` is still current and it is not deleted).
  void FailDeployment(const std::string& name, std::int64_t revision, const Status& why);
  Status DeleteDeployment(const std::string& name);
  Status ScaleDeployment(const std::string& name, std::int64_t instances);
  void HandleNodeEvent(const node::NodeEvent& event);
  Status RecoverAll();

  // --- api.cc
  Status AddRoutes(net::Router& router);
  Result<internal::TenantRow> Authenticate(const net::HttpRequest& req);
  Result<internal::DeploymentRow> Owned(const internal::TenantRow& tenant, std::string_view name);
  Result<Json> DeploymentToJson(const internal::DeploymentRow& d);
  template <typename F>
  auto LongPoll(std::int64_t wait, F query) -> decltype(query());  // api.cc only
  Result<net::HttpResponse> HandleUpload(net::HttpRequest& req);
  Result<net::HttpResponse> HandleDeploy(net::HttpRequest& req);
  Result<net::HttpResponse> HandleSignature(net::HttpRequest& req);
};

std::string NewId(std::string_view prefix, std::size_t random_bytes);
std::string Sha256Hex(std::string_view data);
std::string TokenHash(std::string_view token);

}  // namespace lunal::control

// The node agent's private parts (node.h is the public face): the allow-list it holds, the
// preparation of an instance's root from its artifact, the bubblewrap sandbox and the process
// supervising it, and the simulated TDX device server. Private to src/node/agent.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/common/unique_fd.h"
#include "lunal/crypto/keys.h"

namespace lunal::node::internal {

// ---- allow_list.cc ----

// The allow-list the node holds (node.h step 3). Thread-safe.
class AllowListHolder {
 public:
  AllowListHolder(crypto::PublicKey operator_key, std::filesystem::path version_file,
                  std::function<Result<std::string>()> source, std::int64_t highest_seen);
  // Reads state_dir/allow-list.version (0 when absent). Errors: node.state.io,
  // node.state.bad_version (kMalformed).
  static Result<std::int64_t> LoadHighestVersion(const std::filesystem::path& version_file);

  // OK when the held list (refreshed at most once from the source when it does not name the
  // hash) names `build_hash` for (tenant, deployment).
  Status Check(std::string_view tenant, std::string_view deployment, std::string_view build_hash);

 private:
  Status RefreshLocked();
  bool ListedLocked(std::string_view tenant, std::string_view deployment,
                    std::string_view build_hash) const;

  const crypto::PublicKey operator_key_;
  const std::filesystem::path version_file_;
  const std::function<Result<std::string>()> source_;
  std::mutex mu_;
  std::optional<cds::AllowList> held_;  // guarded by mu_
  std::int64_t highest_seen_ = 0;       // guarded by mu_
};

// ---- prepare.cc ----

// "sha256:" + hex of the SHA-256 of a file's bytes, read in pieces. Errors: node.launch.io.
Result<std::string> FileSha256(const std::filesystem::path& path);

// Step 4 and 5 of node.h: copies `artifact` into `instance_dir`/app.tar (so that the bytes
// checked are the bytes extracted), checks its digest against the manifest's app.tar entry,
// extracts it into `instance_dir`/root and makes the tree read-only.
// Errors: node.launch.bad_manifest (kMalformed), node.launch.artifact_mismatch
// (kVerificationFailed), node.launch.bad_artifact (kInvalidArgument: the archive's own refusal,
// its intake.* reason in the message), node.launch.io (kUnavailable).
Status PrepareRoot(std::string_view manifest_json, const std::filesystem::path& artifact,
                   const std::filesystem::path& instance_dir);

struct StartCommand {
  std::vector<std::string> argv;
  std::string language;  // python | node | go
};
// The app's start command from root/app/lunal.config.yaml (else DetectProject on root/app).
// Errors: node.launch.bad_config (kInvalidArgument), node.launch.no_command (kUnsupported).
Result<StartCommand> ResolveStartCommand(const std::filesystem::path& root);

// The app's environment (node.h; PYTHONPATH only for python with a deps folder).
std::map<std::string, std::string> AppEnvironment(const StartCommand& command,
                                                  const std::filesystem::path& root,
                                                  std::uint16_t app_port,
                                                  const std::map<std::string, std::string>& extra);

// A free TCP port on 127.0.0.1 (bound to port 0, read, closed). Errors: node.launch.no_port.
Result<std::uint16_t> FreeLoopbackPort();

// Makes every file and folder under `dir` (and `dir`) read-only, or writable again by the owner
// (before removal). Best effort: errors are ignored.
void SetTreeWritable(const std::filesystem::path& dir, bool writable);
// Removes `dir` and everything below, read-only folders included. Best effort.
void RemoveTree(const std::filesystem::path& dir);

// ---- sandbox.cc ----

struct SandboxPaths {
  std::filesystem::path bwrap;                // the bwrap binary
  std::filesystem::path app;                  // root/app
  std::optional<std::filesystem::path> deps;  // root/deps when present
  std::filesystem::path run;                  // instance_dir/run (→ /run/lunal)
  std::filesystem::path instance_agent;       // the lunald-instance binary
  std::string hostname;                       // the UTS name inside
};

// The sandbox policy: what the instance may see, independent of the instance (no host paths of
// the instance folder, no ports), as canonical JSON. RTMR1 measures it; MRTD covers it.
std::string SandboxPolicyJson();
// The bwrap command line for `paths` (the policy above made concrete).
std::vector<std::string> BwrapArgv(const SandboxPaths& paths);
// bwrap on PATH (then /usr/bin, /bin). Errors: node.sandbox.unavailable (kUnavailable).
Result<std::filesystem::path> FindBwrap();

// A child process with its stdout and stderr on pipes, leading its own process group.
struct Spawned {
  pid_t pid = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};
// fork + execve of argv (argv[0] absolute) with exactly `env` and stdin /dev/null; `pass_fd`
// (>= 0) becomes the child's fd 3 (kPassedFd), every other fd above 2 is closed. Errors:
// node.sandbox.spawn_failed (kUnavailable).
inline constexpr int kPassedFd = 3;
Result<Spawned> SpawnWithPipes(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env, int pass_fd = -1);

// A TCP socket bound to 127.0.0.1:<ephemeral> and listening, in the node's (the host's) network
// namespace: the instance's mesh port, handed to the sandbox as fd kPassedFd. Errors:
// node.launch.no_port (kUnavailable).
struct ListeningSocket {
  UniqueFd fd;
  std::uint16_t port = 0;
};
Result<ListeningSocket> ListenOnLoopback();

// The host pid of the first descendant of `root_pid` whose argv[0] (or argv[1], the script of an
// interpreter) is `argv0` (the parent links of /proc/<pid>/stat), or -1.
pid_t FindDescendant(pid_t root_pid, std::string_view argv0);

// ---- device_server.cc ----

// What the device server reports to the node (device.h "ready" / "failed").
struct DeviceCallbacks {
  // The instance agent's ready report; a non-OK status is returned to the agent.
  std::function<Status(const Json& ready)> on_ready;
  std::function<void(std::string reason, std::string message)> on_failed;
  // The "cds" relay (device.h): POST `body` to the node's CDS at `path` (already one of the two
  // allowed); the CDS's answer, or its refusal.
  std::function<Result<Json>(const std::string& path, const Json& body)> on_cds_post;
};

// Serves device.h's protocol for one instance's SimTdxAttester on a Unix socket, one connection
// at a time on its own thread. Thread-safety: Start/Stop from the owner; callbacks run on the
// server thread.
class DeviceServer {
 public:
  DeviceServer(std::filesystem::path socket_path, attest::sim::SimTdxAttester* attester,
               DeviceCallbacks callbacks);
  ~DeviceServer();  // Stop()
  DeviceServer(const DeviceServer&) = delete;
  DeviceServer& operator=(const DeviceServer&) = delete;

  // Binds (mode 0666 socket: the sandbox's uid may differ) and starts the thread. Errors:
  // node.device.bind_failed (kUnavailable).
  Status Start();
  void Stop();

  // One request → one response object (exposed for the tests).
  Json Handle(const Json& request);

 private:
  void Serve();
  void ServeOne(int fd);

  const std::filesystem::path socket_path_;
  attest::sim::SimTdxAttester* const attester_;
  const DeviceCallbacks callbacks_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lunal::node::internal

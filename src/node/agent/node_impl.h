// NodeAgent's private state (node.h): one Instance per sandbox, and NodeAgent::Impl. Shared by
// node.cc (the launch pipeline), start.cc (an instance's start) and supervise.cc (its threads).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "internal.h"
#include "lunal/common/log.h"
#include "lunal/node/node.h"

namespace lunal::node {

inline constexpr std::string_view kAgentInSandbox = "/run/lunal-bin/lunald-instance";

// "exit status N" / "killed by signal N", from a waitpid status.
std::string DescribeExit(int wstatus);

// One instance: its sandbox process, threads and device. `mu` guards the flags and `status`.
struct Instance {
  std::mutex mu;
  std::condition_variable cv;
  InstanceStatus status;
  std::string expected_address;
  std::filesystem::path dir;
  std::unique_ptr<attest::sim::SimTdxAttester> attester;
  std::unique_ptr<internal::DeviceServer> device;
  pid_t pid = -1;
  bool ready = false;
  bool exited = false;
  bool stop_requested = false;
  bool launch_done = false;    // Launch has returned: a late ready report is refused
  bool waiter_cleans = false;  // ended on its own after ready: the waiter cleans up
  int wait_status = 0;
  std::optional<std::pair<std::string, std::string>> failed;  // the agent's failed report
  std::deque<std::string> stderr_tail;
  std::thread out_reader, err_reader, waiter;
  std::mutex cleanup_mu;
  bool cleaned = false;  // guarded by cleanup_mu
};

struct NodeAgent::Impl {
  NodeOptions options;
  const Clock* clock = nullptr;
  std::unique_ptr<internal::AllowListHolder> allow_list;
  std::filesystem::path bwrap;
  std::string node_agent_digest;      // sha256 of /proc/self/exe (RTMR0)
  std::string instance_agent_digest;  // sha256 of lunald-instance (MRTD)
  std::string policy;                 // the sandbox policy (RTMR1)
  Bytes mr_td;

  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Instance>> instances;  // guarded by mu
  std::vector<std::shared_ptr<Instance>> graveyard;            // threads to join; guarded by mu

  void Emit(NodeEvent::Kind kind, InstanceStatus status) const {
    if (options.on_event) options.on_event(NodeEvent{.kind = kind, .instance = std::move(status)});
  }
  Status Refused(InstanceStatus status, Status why) const {
    status.state = InstanceState::kFailed;
    status.reason = why.reason();
    status.message = why.message();
    log::Warn("node.launch.refused", {{"instance", status.instance_id},
                                      {"tenant", status.tenant},
                                      {"deployment", status.deployment},
                                      {"reason", why.reason()}});
    Emit(NodeEvent::Kind::kLaunchRefused, std::move(status));
    return why;
  }

  Result<std::shared_ptr<Instance>> Start(const LaunchRequest& request, InstanceStatus status);
  void ReadStream(const std::shared_ptr<Instance>& in, int fd, std::string stream);
  void Wait(const std::shared_ptr<Instance>& in);
  void Terminate(const std::shared_ptr<Instance>& in, std::chrono::milliseconds grace);
  void Cleanup(const std::shared_ptr<Instance>& in);
  void ReapGraveyard();
};

}  // namespace lunal::node

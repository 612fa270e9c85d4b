// The app as a child of the instance agent (instance.h step 4): started in its own process group
// so that signals reach whatever it spawned, killed with SIGKILL if the agent itself dies
// (PR_SET_PDEATHSIG), its stdout and stderr the agent's.
//
// Errors: instance.app_spawn_failed (kUnavailable: the program was not found, not executable, or
// app_dir could not be entered; the message names which).
//
// Thread-safety: none; owned and used by the agent's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/common/result.h"

namespace lunal::node::internal {

class AppProcess {
 public:
  // argv[0] with a '/' is used as given (relative to app_dir); otherwise it is looked up in the
  // PATH of `env` (the app's environment, complete).
  static Result<std::unique_ptr<AppProcess>> Start(const std::vector<std::string>& argv,
                                                   const std::string& app_dir,
                                                   const std::map<std::string, std::string>& env);
  ~AppProcess();  // Stop(0) if still running
  AppProcess(const AppProcess&) = delete;
  AppProcess& operator=(const AppProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Reaps the app if it has exited (never blocks). Returns its wait status once it has.
  std::optional<int> Poll();

  // SIGTERM to the app's process group, SIGKILL to it after `grace`; reaps the app.
  void Stop(std::chrono::milliseconds grace);

 private:
  explicit AppProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> wait_status_;
};

// "exited with status 3", "killed by signal 9".
std::string DescribeWaitStatus(int wait_status);

}  // namespace lunal::node::internal

// Running one program (bwrap) with a deadline, without a shell: fork, then in the child only
// async-signal-safe calls (setpgid, umask, dup2, close_range, execve). Private to build_sandbox.
//
// The child leads its own process group, so a timeout kills everything it started that stayed in
// the group (kill(-pgid, SIGKILL)); bwrap's --die-with-parent and PID namespace take care of the
// processes inside the sandbox (they are in another session). stdin is /dev/null; stdout and
// stderr go to one pipe, captured up to a bound.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"

namespace lunal::build::internal {

// Keeps the first and the last half of what it is given, and counts what it dropped between.
class BoundedLog {
 public:
  explicit BoundedLog(std::size_t max_bytes);
  void Append(std::string_view data);
  // head + "\n[lunal: N bytes omitted]\n" + tail when anything was dropped.
  std::string Take();

 private:
  std::size_t head_max_;
  std::size_t tail_max_;
  std::string head_;
  std::string tail_;
  std::uint64_t dropped_ = 0;
};

struct SpawnOptions {
  std::vector<std::string> argv = {};  // argv[0] is an absolute path (no PATH search)
  std::vector<std::string> env = {};   // "NAME=value": the child's whole environment
  mode_t umask = 022;
  std::chrono::milliseconds timeout{0};
  std::size_t max_output_bytes = 1 << 20;
};

struct SpawnOutput {
  int exit_code = -1;  // 128+signal when killed by a signal; -1 on timeout
  bool timed_out = false;
  std::string output = {};
  std::chrono::milliseconds duration{0};
};

// Errors: build.sandbox.io (kInternal) when a pipe, fork or poll fails;
// build.sandbox.unavailable (kUnavailable) when argv[0] cannot be executed.
Result<SpawnOutput> Spawn(const SpawnOptions& options);

}  // namespace lunal::build::internal

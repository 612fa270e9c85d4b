// Running git without a shell (private to intake): posix_spawnp with an argv vector and an
// explicit environment (nothing inherited but what the caller passes), stdin from /dev/null,
// stdout and stderr captured, a deadline. The same shape as src/sign/process.h, which is private
// to lunal::sign and inherits the environment, so it does not fit here.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lunal/common/result.h"

namespace lunal::build::internal {

struct GitOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out = {};
  std::string err = {};
};

// Errors: intake.git.failed (kUnavailable when git cannot be started, kDeadlineExceeded after
// the timeout: the child is killed). Thread-safe.
Result<GitOutput> RunGit(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout);

}  // namespace lunal::build::internal

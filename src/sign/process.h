// Running a helper program (ssh-keygen) without a shell: posix_spawnp with an argv vector, our
// stdin inherited (a passphrase may be typed there), stdout and stderr captured, a deadline.
// Private to lunal::sign (the test helper lunal::testing::RunProcess must not be linked into
// shipped binaries).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lunal/common/result.h"

namespace lunal::sign::internal {

struct ProcessOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Errors: sign.process.spawn_failed (kUnavailable: not installed or not executable),
// sign.process.timeout (kDeadlineExceeded; the child is killed), sign.process.io (kInternal).
// The child inherits the environment (SSH_AUTH_SOCK for agents) and has no
// controlling-terminal changes, so ssh-keygen can still ask for a passphrase on /dev/tty.
// Thread-safe (no process-wide state is changed).
Result<ProcessOutput> RunProgram(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout);

}  // namespace lunal::sign::internal

// Running one program without a shell: an argv vector, fork() then only async-signal-safe calls in
// the child (setpgid, umask, sigprocmask, dup2, close_range, execve), stdout and stderr captured
// (separately, or merged into one stream) up to a bound, and an optional deadline.
//
// The one process runner of the tree: signing (ssh-keygen, our environment and stdin inherited for
// SSH_AUTH_SOCK and passphrases), intake (git with an explicit environment) and the build sandbox
// (bwrap with an empty environment, a umask, its own process group) all go through it. Callers
// that publish their own reasons map these at the call site (e.g. subprocess.spawn_failed ->
// build.sandbox.unavailable).
//
// Behaviour:
//   - argv[0] is an absolute path, or, with search_path, a name looked up on *our* PATH (as
//     posix_spawnp does) before fork; a relative path without search_path is refused.
//   - No descriptor of ours but 0, 1 and 2 reaches the child (close-on-exec pipes, plus
//     close_range(3, ~0) in the child). stdin is /dev/null or ours.
//   - With own_process_group the child leads a new process group and a timeout kills the whole
//     group (kill(-pgid, SIGKILL)); without it (needed when the child may read the controlling
//     terminal: a background group would be stopped by SIGTTIN) only the child is killed.
//   - The parent's umask, signal mask and environment are never changed.
//   - After the child exits, output is read until EOF or 500 ms of grace, so a process it left
//     behind holding the pipe cannot hold us.
//
// Errors (stable reasons):
//   kInvalidArgument subprocess.bad_argv     argv empty, or argv[0] relative without search_path
//   kUnavailable     subprocess.spawn_failed argv[0] not found on PATH or execve failed (the
//                                            message names the program and strerror)
//   kInternal        subprocess.io           pipe, fork or poll failed
// A timeout is not an error: the result says timed_out (exit_code -1).
//
// Thread-safety: RunSubprocess may be called from several threads at once (it changes no
// process-wide state; descriptors are created close-on-exec). BoundedLog is a value type.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"

namespace lunal {

// Keeps the first and the last half of what it is given (max_bytes in all) and counts what it
// dropped between. kNoOutputLimit keeps everything.
class BoundedLog {
 public:
  explicit BoundedLog(std::size_t max_bytes);
  void Append(std::string_view data);
  // head + "\n[lunal: N bytes omitted]\n" + tail when anything was dropped; resets the log.
  std::string Take();

 private:
  std::size_t head_max_;
  std::size_t tail_max_;
  std::string head_;
  std::string tail_;
  std::uint64_t dropped_ = 0;
};

inline constexpr std::size_t kNoOutputLimit = std::numeric_limits<std::size_t>::max();

struct SubprocessOptions {
  enum class Stdin { kNull, kInherit };

  std::vector<std::string> argv = {};  // argv[0]: absolute path, or a name when search_path
  bool search_path = false;
  // nullopt: the child inherits our environment; else its whole environment ("NAME=value").
  std::optional<std::vector<std::string>> env = std::nullopt;
  Stdin stdin_mode = Stdin::kNull;
  bool merge_stderr = false;                   // true: stderr goes to `out` too, `err` stays empty
  std::optional<mode_t> umask = std::nullopt;  // set in the child only
  bool own_process_group = true;
  std::chrono::milliseconds timeout{0};    // 0: none
  std::size_t max_output_bytes = 1 << 20;  // per stream (BoundedLog); kNoOutputLimit: unbounded
};

struct SubprocessResult {
  // The exit status; 128+signal when killed by a signal; -1 on timeout.
  int exit_code = -1;
  int term_signal = 0;  // the signal that ended the child, 0 when it exited (or timed out)
  bool timed_out = false;
  std::string out = {};
  std::string err = {};
  std::chrono::milliseconds duration{0};
};

Result<SubprocessResult> RunSubprocess(const SubprocessOptions& options);

}  // namespace lunal

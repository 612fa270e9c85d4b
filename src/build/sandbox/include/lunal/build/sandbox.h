// The hermetic build sandbox (issue 6, "Hermetic build"): one phase of a build run in bubblewrap
// (bwrap 0.8) with nothing of the host but a read-only /usr, a minimal read-only /etc and the
// mounts the caller names. Format and rationale: docs/formats/hermetic-build.md.
//
// Contract:
//   - RunInSandbox runs spec.argv (argv[0] is looked up on the fixed PATH *inside* the sandbox;
//     no shell is involved, so argument bytes are never interpreted) as
//       bwrap --unshare-all [--share-net only for Phase::kFetch] --die-with-parent --new-session
//             --cap-drop ALL --clearenv --hostname lunal-build
//             --ro-bind /usr /usr, the merged-usr symlinks /bin /lib /lib64 /sbin,
//             read-only /etc/{passwd,group,nsswitch.conf,ssl,ca-certificates,alternatives,
//             ld.so.cache} (+ resolv.conf, hosts, gai.conf when fetching),
//             --proc /proc --dev /dev --tmpfs /tmp, the spec's mounts, --remount-ro /
//     with exactly FixedEnvironment(epoch) plus spec.env as its environment and umask 022, where
//     epoch is spec.env's SOURCE_DATE_EPOCH (a non-negative decimal; 0 when absent): the one
//     fixed variable a caller sets, as the fixed environment's parameter. stdout and
//     stderr are captured together into SandboxResult::log, bounded by max_log_bytes (the first
//     and the last half are kept, with a "[lunal: N bytes omitted]" line between).
//   - A non-zero exit is NOT an error: the caller reads SandboxResult::exit_code (128+signal when
//     the sandboxed process was killed by a signal). A timeout is not an error either: the whole
//     process group (bwrap, and through --die-with-parent and the PID namespace everything inside)
//     is killed with SIGKILL and reaped, timed_out is true and exit_code is -1.
//   - FixedEnvironment is the whole environment of every sandboxed process; the pipeline records
//     it in the build manifest's "environment". LUNAL_UMASK records the umask; nothing reads it.
//   - IdentifyTool resolves a tool as the sandbox would (the fixed PATH; /usr is the host's /usr
//     mounted read-only, so the host path is the sandbox path), and asks it its version inside a
//     build-phase sandbox.
//
// Errors (stable reasons):
//   kUnavailable       build.sandbox.unavailable   no usable bwrap (not installed, cannot spawn)
//   kInvalidArgument   build.sandbox.bad_spec      empty argv, relative cwd, bad env name,
//                                                  zero timeout or log bound
//                      build.sandbox.bad_mount     mount target not absolute/normal, reserved
//                                                  (/, /usr, /etc, /proc, /dev, /tmp, /bin, ...),
//                                                  duplicated, or host path missing
//                      build.sandbox.env_override  spec.env names a FixedEnvironment variable
//   kInternal          build.sandbox.io            pipe/fork/poll failed
//   kNotFound          build.tool_not_found        IdentifyTool: not on the fixed PATH
//   kUnavailable       build.tool_version_failed   IdentifyTool: `--version` failed or was empty
//                      build.tool_unreadable       IdentifyTool: the binary could not be read
//
// Thread-safety: all functions are thread-safe (no process-wide state is changed: the umask is set
// in the forked child only). Each call blocks until the sandboxed process ends or times out.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"

namespace lunal::build {

enum class Phase {
  kFetch,  // network allowed (the host's), resolv.conf and hosts visible
  kBuild,  // no network at all: a fresh network namespace with only a loopback device
};

struct Mount {
  std::filesystem::path host = {};  // an existing file or directory on the host
  std::string at = {};              // absolute, normal path inside the sandbox
  bool writable = false;
};

struct SandboxSpec {
  Phase phase = Phase::kBuild;
  std::vector<std::string> argv = {};
  // e.g. {src,"/src",false}, {deps,"/deps",phase==kFetch}, {out,"/out",true}
  std::vector<Mount> mounts = {};
  std::string cwd = "/src";  // must exist inside the sandbox (a mount, or /tmp)
  // On top of FixedEnvironment; may not override it (build.sandbox.env_override).
  std::map<std::string, std::string> env = {};
  std::chrono::seconds timeout{900};
  std::size_t max_log_bytes = 1 << 20;
};

struct SandboxResult {
  int exit_code = -1;
  bool timed_out = false;
  std::string log = {};  // stdout and stderr interleaved, bounded
  std::chrono::milliseconds duration{0};
};

Result<SandboxResult> RunInSandbox(const SandboxSpec& spec);

// SOURCE_DATE_EPOCH, TZ=UTC, LC_ALL=C, LANG=C, PATH=/usr/local/bin:/usr/bin:/bin, HOME=/tmp,
// PYTHONHASHSEED=0, PYTHONDONTWRITEBYTECODE=1, LUNAL_UMASK=0022.
std::map<std::string, std::string> FixedEnvironment(std::int64_t source_date_epoch);

// The fixed PATH, in order.
inline constexpr std::string_view kSandboxPath = "/usr/local/bin:/usr/bin:/bin";
inline constexpr unsigned kSandboxUmask = 022;

struct ToolIdentity {
  std::string name = {};     // as asked ("python3")
  std::string version = {};  // first non-empty line of `--version` ("Python 3.11.2")
  std::string path = {};     // realpath ("/usr/bin/python3.11")
  std::string digest = {};   // "sha256:<hex>" of the file at `path`
  bool operator==(const ToolIdentity&) const = default;
};

// `name` is a bare program name (no '/'). `go` is asked `go version` (it has no --version).
Result<ToolIdentity> IdentifyTool(std::string_view name);

}  // namespace lunal::build

// RunInSandbox, FixedEnvironment, IdentifyTool (sandbox.h). The bwrap command line is built in
// one place (BwrapArgs) so that it reads as the list in docs/formats/hermetic-build.md.
#include "lunal/build/sandbox.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>

#include "lunal/common/encoding.h"
#include "lunal/common/subprocess.h"
#include "lunal/crypto/digest.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;

// Where nothing may be mounted over: the sandbox's own skeleton.
constexpr std::array<std::string_view, 9> kReservedTargets = {
    "/usr", "/etc", "/proc", "/dev", "/tmp", "/bin", "/lib", "/lib64", "/sbin"};

// Read-only pieces of the host's /etc every phase gets: users and groups (tools look the uid up),
// name-service switch, CA certificates (TLS in the fetch phase; Debian's /usr/lib/ssl/certs
// points here), Debian's alternatives (/usr/bin/* symlinks resolve through /etc/alternatives) and
// the dynamic loader's cache.
constexpr std::array<std::string_view, 7> kEtcAlways = {
    "/etc/passwd",          "/etc/group",        "/etc/nsswitch.conf", "/etc/ssl",
    "/etc/ca-certificates", "/etc/alternatives", "/etc/ld.so.cache"};
// Name resolution, fetch phase only.
constexpr std::array<std::string_view, 3> kEtcFetch = {"/etc/resolv.conf", "/etc/hosts",
                                                       "/etc/gai.conf"};

bool IsUnder(std::string_view path, std::string_view dir) {
  return path == dir ||
         (path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/');
}

bool IsNormalAbsolute(std::string_view path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  fs::path p{std::string(path)};
  if (p.lexically_normal().generic_string() != path) return false;
  for (const auto& part : p) {
    if (part == "..") return false;
  }
  return true;
}

bool ValidEnvName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return !(name[0] >= '0' && name[0] <= '9');
}

Status CheckSpec(const SandboxSpec& spec, const std::map<std::string, std::string>& fixed) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return InvalidArgument("build.sandbox.bad_spec", "sandbox argv is empty");
  }
  for (const std::string& a : spec.argv) {
    if (a.find('\0') != std::string::npos) {
      return InvalidArgument("build.sandbox.bad_spec", "sandbox argument contains a NUL byte");
    }
  }
  if (spec.cwd != "/" && !IsNormalAbsolute(spec.cwd)) {
    return InvalidArgument("build.sandbox.bad_spec", "sandbox cwd {:?} is not an absolute path",
                           spec.cwd);
  }
  if (spec.timeout.count() <= 0 || spec.max_log_bytes == 0) {
    return InvalidArgument("build.sandbox.bad_spec", "sandbox timeout and log bound must be > 0");
  }
  for (const auto& [name, value] : spec.env) {
    if (!ValidEnvName(name) || value.find('\0') != std::string::npos) {
      return InvalidArgument("build.sandbox.bad_spec", "bad environment variable name {:?}", name);
    }
    if (fixed.contains(name)) {
      return InvalidArgument("build.sandbox.env_override",
                             "{} is fixed by the sandbox and may not be overridden", name);
    }
  }
  std::vector<std::string_view> seen;
  for (const Mount& m : spec.mounts) {
    if (!IsNormalAbsolute(m.at)) {
      return InvalidArgument("build.sandbox.bad_mount",
                             "mount target {:?} is not a normal absolute path", m.at);
    }
    for (std::string_view reserved : kReservedTargets) {
      if (IsUnder(m.at, reserved)) {
        return InvalidArgument("build.sandbox.bad_mount", "mount target {} is reserved ({})", m.at,
                               reserved);
      }
    }
    for (std::string_view other : seen) {
      if (IsUnder(m.at, other) || IsUnder(other, m.at)) {
        return InvalidArgument("build.sandbox.bad_mount", "mount targets {} and {} overlap", other,
                               m.at);
      }
    }
    seen.push_back(m.at);
    std::error_code ec;
    if (m.host.empty() || !fs::exists(m.host, ec)) {
      return InvalidArgument("build.sandbox.bad_mount", "mount source {} does not exist",
                             m.host.string());
    }
  }
  return Status::Ok();
}

// bwrap from the host's PATH (the sandbox's PATH does not matter: bwrap runs outside).
Result<std::string> FindBwrap() {
  std::string path_var;
  if (const char* p = std::getenv("PATH")) path_var = p;
  path_var += ":/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (!dir.empty() && dir[0] == '/') {
      std::string candidate = dir + "/bwrap";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return Unavailable("build.sandbox.unavailable",
                     "bubblewrap (bwrap) is not installed; the hermetic build needs it");
}

std::vector<std::string> BwrapArgs(const std::string& bwrap, const SandboxSpec& spec,
                                   const std::map<std::string, std::string>& env) {
  std::vector<std::string> a = {bwrap, "--unshare-all"};
  if (spec.phase == Phase::kFetch) a.push_back("--share-net");
  for (const char* s : {"--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
                        "--hostname", "lunal-build", "--ro-bind", "/usr", "/usr"}) {
    a.emplace_back(s);
  }
  // Debian 12's merged /usr: /bin, /lib, /lib64 and /sbin are symlinks into it.
  for (const char* d : {"bin", "lib", "lib64", "sbin"}) {
    std::error_code ec;
    if (fs::exists(fs::path("/usr") / d, ec)) {
      a.insert(a.end(), {"--symlink", std::string("usr/") + d, std::string("/") + d});
    }
  }
  auto add_etc = [&](std::string_view p) {
    a.insert(a.end(), {"--ro-bind-try", std::string(p), std::string(p)});
  };
  for (std::string_view p : kEtcAlways) add_etc(p);
  if (spec.phase == Phase::kFetch) {
    for (std::string_view p : kEtcFetch) add_etc(p);
  }
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"});
  for (const Mount& m : spec.mounts) {
    a.insert(a.end(), {m.writable ? "--bind" : "--ro-bind", fs::absolute(m.host).string(), m.at});
  }
  // Last, after every mount point has been created on the root tmpfs.
  a.insert(a.end(), {"--remount-ro", "/"});
  for (const auto& [k, v] : env) a.insert(a.end(), {"--setenv", k, v});
  a.insert(a.end(), {"--chdir", spec.cwd, "--"});
  // bwrap sets PWD after --clearenv; `env -u PWD` takes it out again so that the environment is
  // exactly FixedEnvironment + spec.env. env also searches argv[0] on the sandbox's PATH.
  a.insert(a.end(), {"/usr/bin/env", "-u", "PWD", "--"});
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

Result<std::string> FileDigest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("build.tool_unreadable", "cannot read {}", path.string());
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize got = in.gcount();
    if (got > 0) {
      hasher.Update(ByteSpan(reinterpret_cast<const std::uint8_t*>(buf.data()),
                             static_cast<std::size_t>(got)));
    }
  }
  if (in.bad()) return Unavailable("build.tool_unreadable", "error reading {}", path.string());
  return "sha256:" + HexEncode(hasher.Finish());
}

std::string FirstLine(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty()) return std::string(line);
    pos = end + 1;
  }
  return {};
}

}  // namespace

std::map<std::string, std::string> FixedEnvironment(std::int64_t source_date_epoch) {
  return {
      {"HOME", "/tmp"},
      {"LANG", "C"},
      {"LC_ALL", "C"},
      {"LUNAL_UMASK", "0022"},
      {"PATH", std::string(kSandboxPath)},
      {"PYTHONDONTWRITEBYTECODE", "1"},
      {"PYTHONHASHSEED", "0"},
      {"SOURCE_DATE_EPOCH", std::to_string(source_date_epoch)},
      {"TZ", "UTC"},
  };
}

Result<SandboxResult> RunInSandbox(const SandboxSpec& spec) {
  // SOURCE_DATE_EPOCH is the one parameter of the fixed environment: spec.env may give it (a
  // non-negative decimal integer; default 0), nothing else fixed.
  std::int64_t epoch = 0;
  std::map<std::string, std::string> extra = spec.env;
  if (auto it = extra.find("SOURCE_DATE_EPOCH"); it != extra.end()) {
    const std::string& v = it->second;
    bool digits = !v.empty() && v.size() <= 18 &&
                  std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      return InvalidArgument("build.sandbox.bad_spec",
                             "SOURCE_DATE_EPOCH {:?} is not a non-negative integer", v);
    }
    epoch = std::stoll(v);
    extra.erase(it);
  }
  std::map<std::string, std::string> env = FixedEnvironment(epoch);
  SandboxSpec checked = spec;
  checked.env = extra;
  LUNAL_RETURN_IF_ERROR(CheckSpec(checked, env));
  LUNAL_ASSIGN_OR_RETURN(std::string bwrap, FindBwrap());
  env.insert(extra.begin(), extra.end());

  // bwrap leads its own process group (a timeout kills the group; --die-with-parent and the PID
  // namespace end the rest), stdin is /dev/null, stdout and stderr are one bounded log. bwrap
  // gets an empty environment: --setenv gives the sandbox its own.
  auto run = RunSubprocess({
      .argv = BwrapArgs(bwrap, spec, env),
      .env = std::vector<std::string>{},
      .merge_stderr = true,
      .umask = kSandboxUmask,
      .own_process_group = true,
      .timeout = std::chrono::duration_cast<std::chrono::milliseconds>(spec.timeout),
      .max_output_bytes = spec.max_log_bytes,
  });
  if (!run.ok()) {
    if (run.error().reason() == "subprocess.spawn_failed") {
      return Unavailable("build.sandbox.unavailable", "{}", run.error().message());
    }
    return Internal("build.sandbox.io", "{}", run.error().message());
  }
  SubprocessResult& out = *run;
  SandboxResult result;
  result.exit_code = out.exit_code;
  result.timed_out = out.timed_out;
  result.log = std::move(out.out);
  result.duration = out.duration;
  return result;
}

Result<ToolIdentity> IdentifyTool(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..") {
    return NotFound("build.tool_not_found", "{:?} is not a program name", name);
  }
  // The fixed PATH, resolved on the host: the sandbox's /usr is the host's, and /bin is usr/bin.
  fs::path found;
  std::string_view path_var = kSandboxPath;
  while (!path_var.empty() && found.empty()) {
    std::size_t colon = path_var.find(':');
    std::string_view dir = path_var.substr(0, colon);
    path_var = colon == std::string_view::npos ? std::string_view() : path_var.substr(colon + 1);
    fs::path candidate = fs::path(std::string(dir)) / std::string(name);
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      found = candidate;
    }
  }
  if (found.empty()) {
    return NotFound("build.tool_not_found", "{} is not installed (searched {})", name,
                    kSandboxPath);
  }
  std::error_code ec;
  fs::path real = fs::canonical(found, ec);
  if (ec) {
    return Unavailable("build.tool_unreadable", "cannot resolve {}: {}", found.string(),
                       ec.message());
  }
  ToolIdentity id;
  id.name = std::string(name);
  id.path = real.string();
  LUNAL_ASSIGN_OR_RETURN(id.digest, FileDigest(real));

  SandboxSpec spec;
  spec.phase = Phase::kBuild;
  // Asked by the name found on the PATH (not the realpath): tools such as npm locate themselves
  // from argv[0]'s symlink.
  spec.argv = {found.string(), name == "go" ? "version" : "--version"};
  spec.cwd = "/tmp";
  spec.timeout = std::chrono::seconds(60);
  spec.max_log_bytes = 64 * 1024;
  LUNAL_ASSIGN_OR_RETURN(SandboxResult run, RunInSandbox(spec));
  id.version = FirstLine(run.log);
  if (run.timed_out || run.exit_code != 0 || id.version.empty()) {
    return Unavailable("build.tool_version_failed", "{} {} failed (exit {}): {}", found.string(),
                       spec.argv[1], run.exit_code, FirstLine(run.log));
  }
  return id;
}

}  // namespace lunal::build

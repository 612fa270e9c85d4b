// The instance sandbox (node.h step 6): the bubblewrap policy, its command line, and the process
// that runs it with its output on pipes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "internal.h"
#include "lunal/node/device.h"

namespace lunal::node::internal {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kAgentInSandbox = "/run/lunal-bin/lunald-instance";
constexpr std::string_view kRunInSandbox = "/run/lunal";

// Debian 12's merged /usr: /bin, /lib, /lib64 and /sbin are symlinks into it (as the build
// sandbox, src/build/sandbox, makes them).
std::vector<std::string> UsrSymlinks() {
  std::vector<std::string> out;
  for (const char* d : {"bin", "lib", "lib64", "sbin"}) {
    std::error_code ec;
    if (fs::exists(fs::path("/usr") / d, ec)) out.emplace_back(d);
  }
  return out;
}

// The environment of the instance agent itself (the app's is in instance.json).
const std::map<std::string, std::string>& AgentEnvironment() {
  static const std::map<std::string, std::string> env = {
      {"HOME", "/tmp"}, {"LANG", "C.UTF-8"}, {"PATH", "/usr/bin:/bin"}};
  return env;
}

std::vector<std::string> AgentCommand() {
  return {std::string(kAgentInSandbox), "--spec", std::string(kSpecPath)};
}

}  // namespace

std::string SandboxPolicyJson() {
  Json mounts = Json::array();
  mounts.push_back({{"kind", "ro-bind"}, {"from", "/usr"}, {"at", "/usr"}});
  for (const std::string& d : UsrSymlinks()) {
    mounts.push_back({{"kind", "symlink"}, {"to", "usr/" + d}, {"at", "/" + d}});
  }
  mounts.push_back({{"kind", "proc"}, {"at", "/proc"}});
  mounts.push_back({{"kind", "dev"}, {"at", "/dev"}});
  mounts.push_back({{"kind", "tmpfs"}, {"at", "/tmp"}});
  mounts.push_back({{"kind", "ro-bind"}, {"from", "artifact:app/"}, {"at", "/app"}});
  mounts.push_back(
      {{"kind", "ro-bind"}, {"from", "artifact:deps/ (when present)"}, {"at", "/deps"}});
  mounts.push_back(
      {{"kind", "bind"}, {"from", "node:instance run folder"}, {"at", std::string(kRunInSandbox)}});
  mounts.push_back({{"kind", "ro-bind"},
                    {"from", "node:instance agent binary"},
                    {"at", std::string(kAgentInSandbox)}});
  mounts.push_back({{"kind", "remount-ro"}, {"at", "/"}});
  Json policy = {
      {"version", 1},
      {"runtime", "bubblewrap"},
      {"unshare", Json::array({"pid", "ipc", "uts", "cgroup", "net"})},
      // Its own network namespace (loopback only); the mesh port is a listening socket of the
      // host's loopback the node passes in as fd 3.
      {"network", "none; mesh port passed as fd 3"},
      {"die_with_parent", true},
      {"new_session", true},
      {"capabilities", Json::array()},
      {"mounts", std::move(mounts)},
      {"environment", AgentEnvironment()},
      {"chdir", "/app"},
      {"command", AgentCommand()},
  };
  return CanonicalJson(policy).value();  // integers and strings only: cannot fail
}

std::vector<std::string> BwrapArgv(const SandboxPaths& p) {
  std::vector<std::string> a = {p.bwrap.string(),
                                "--die-with-parent",
                                "--unshare-pid",
                                "--unshare-ipc",
                                "--unshare-uts",
                                "--unshare-cgroup-try",
                                "--unshare-net",
                                "--new-session",
                                "--cap-drop",
                                "ALL",
                                "--hostname",
                                p.hostname,
                                "--ro-bind",
                                "/usr",
                                "/usr"};
  for (const std::string& d : UsrSymlinks()) a.insert(a.end(), {"--symlink", "usr/" + d, "/" + d});
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"});
  a.insert(a.end(), {"--ro-bind", fs::absolute(p.app).string(), "/app"});
  if (p.deps) a.insert(a.end(), {"--ro-bind", fs::absolute(*p.deps).string(), "/deps"});
  a.insert(a.end(), {"--bind", fs::absolute(p.run).string(), std::string(kRunInSandbox)});
  a.insert(a.end(),
           {"--ro-bind", fs::absolute(p.instance_agent).string(), std::string(kAgentInSandbox)});
  a.insert(a.end(), {"--remount-ro", "/", "--clearenv"});
  for (const auto& [k, v] : AgentEnvironment()) a.insert(a.end(), {"--setenv", k, v});
  a.insert(a.end(), {"--chdir", "/app", "--"});
  for (std::string& arg : AgentCommand()) a.push_back(std::move(arg));
  return a;
}

Result<fs::path> FindBwrap() {
  std::string path_var;
  if (const char* p = std::getenv("PATH")) path_var = p;
  path_var += ":/usr/bin:/bin";
  std::istringstream dirs(path_var);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty() || dir[0] != '/') continue;
    const fs::path candidate = fs::path(dir) / "bwrap";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Unavailable("node.sandbox.unavailable",
                     "bubblewrap (bwrap) is not installed; the node needs it to run instances");
}

namespace {

// bwrap's --die-with-parent is PR_SET_PDEATHSIG, which fires when the *thread* that forked it
// exits (prctl(2)), not the process. Launches come from short-lived threads (a control-plane
// worker, an HTTP handler), so every fork happens on this one thread, which lives as long as the
// process: sandboxes then die with the node and with nothing else.
class SpawnerThread {
 public:
  static SpawnerThread& Instance() {
    static auto* spawner = new SpawnerThread();  // never destroyed: it must outlive every caller
    return *spawner;
  }

  Result<Spawned> Run(const std::function<Result<Spawned>()>& spawn) {
    std::packaged_task<Result<Spawned>()> task(spawn);
    auto result = task.get_future();
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  SpawnerThread() {
    std::thread([this] {
      while (true) {
        std::packaged_task<Result<Spawned>()> task;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [&] { return !queue_.empty(); });
          task = std::move(queue_.front());
          queue_.pop_front();
        }
        task();
      }
    }).detach();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<Result<Spawned>()>> queue_;
};

Result<Spawned> ForkExecWithPipes(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, int pass_fd);

}  // namespace

Result<Spawned> SpawnWithPipes(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env, int pass_fd) {
  return SpawnerThread::Instance().Run([&] { return ForkExecWithPipes(argv, env, pass_fd); });
}

namespace {

Result<Spawned> ForkExecWithPipes(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, int pass_fd) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Unavailable("node.sandbox.spawn_failed", "argv[0] must be an absolute path");
  }
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> cargv, cenv;
  for (const std::string& s : argv) cargv.push_back(const_cast<char*>(s.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& s : env) cenv.push_back(const_cast<char*>(s.c_str()));
  cenv.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return Unavailable("node.sandbox.spawn_failed", "pipe: {}", std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return Unavailable("node.sandbox.spawn_failed", "pipe: {}", std::strerror(e));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // its own process group: Stop signals the group
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    // The passed fd first goes above everything the stdio setup touches, then to kPassedFd
    // (dup2 clears close-on-exec on the copy).
    const int parked = pass_fd >= 0 ? ::fcntl(pass_fd, F_DUPFD_CLOEXEC, 64) : -1;
    if (pass_fd >= 0 && parked < 0) ::_exit(127);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0) {
      ::_exit(127);
    }
    if (parked >= 0 && ::dup2(parked, kPassedFd) < 0) ::_exit(127);
    ::close_range(parked >= 0 ? kPassedFd + 1 : 3, ~0U, 0);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  const int fork_errno = errno;
  if (null_fd >= 0) ::close(null_fd);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    return Unavailable("node.sandbox.spawn_failed", "fork: {}", std::strerror(fork_errno));
  }
  return Spawned{.pid = pid, .stdout_fd = out[0], .stderr_fd = err[0]};
}

}  // namespace

namespace {

// Parent → children of every process, from /proc/<pid>/stat (field 4, after the command name in
// parentheses, which may itself hold ") "). /proc/<pid>/task/<tid>/children would be cheaper
// but needs CONFIG_PROC_CHILDREN, which not every kernel has.
std::multimap<pid_t, pid_t> ProcessTree() {
  std::multimap<pid_t, pid_t> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(it->path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid) out.emplace(static_cast<pid_t>(ppid), std::stoi(name));
  }
  return out;
}

// argv[0] and argv[1] (an interpreter's script) of a process.
std::pair<std::string, std::string> Argv01(pid_t pid) {
  std::ifstream in(fs::path("/proc") / std::to_string(pid) / "cmdline", std::ios::binary);
  std::string first, second;
  std::getline(in, first, '\0');
  std::getline(in, second, '\0');
  return {first, second};
}

}  // namespace

pid_t FindDescendant(pid_t root_pid, std::string_view argv0) {
  const std::multimap<pid_t, pid_t> tree = ProcessTree();
  std::deque<pid_t> queue = {root_pid};
  std::set<pid_t> seen;
  while (!queue.empty() && seen.size() < 4096) {
    const pid_t pid = queue.front();
    queue.pop_front();
    if (!seen.insert(pid).second) continue;
    for (auto [it, end] = tree.equal_range(pid); it != end; ++it) {
      const auto [arg0, arg1] = Argv01(it->second);
      if (arg0 == argv0 || arg1 == argv0) return it->second;
      queue.push_back(it->second);
    }
  }
  return -1;
}

}  // namespace lunal::node::internal

// AppProcess (app_process.h): fork, then only async-signal-safe calls in the child.
#include "app_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "fmt/format.h"
#include "lunal/common/status.h"

namespace lunal::node::internal {
namespace {

// Resolved before fork: the child must not allocate.
Result<std::string> ResolveProgram(const std::string& program,
                                   const std::map<std::string, std::string>& env,
                                   const std::string& app_dir) {
  if (program.find('/') != std::string::npos) return program;
  const auto it = env.find("PATH");
  const std::string path = it != env.end() ? it->second : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    const std::string_view dir = std::string_view(path).substr(start, end - start);
    // fmt rather than operator+: GCC 12 at -O2 misreads the concatenation (-Werror=restrict).
    const std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, program);
    const std::string checked =
        candidate.front() == '/' ? candidate : fmt::format("{}/{}", app_dir, candidate);
    if (::access(checked.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return Unavailable("instance.app_spawn_failed", "'{}' not found in PATH {}", program, path);
}

}  // namespace

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return fmt::format("exited with status {}", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return fmt::format("killed by signal {}", WTERMSIG(wait_status));
  return fmt::format("wait status {}", wait_status);
}

Result<std::unique_ptr<AppProcess>> AppProcess::Start(
    const std::vector<std::string>& argv, const std::string& app_dir,
    const std::map<std::string, std::string>& env) {
  if (argv.empty()) return InvalidArgument("instance.app_spawn_failed", "empty command");
  LUNAL_ASSIGN_OR_RETURN(std::string program, ResolveProgram(argv[0], env, app_dir));

  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (auto& e : env_strings) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  // The child reports a failed chdir/execve through this close-on-exec pipe.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return Unavailable("instance.app_spawn_failed", "pipe: {}", std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Unavailable("instance.app_spawn_failed", "fork: {}", std::strerror(err));
  }
  if (pid == 0) {
    ::close(report[0]);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int err = 0;
    if (::chdir(app_dir.c_str()) != 0) {
      err = errno;
    } else {
      ::execve(program.c_str(), c_argv.data(), c_env.data());
      err = errno;
    }
    [[maybe_unused]] const ssize_t ignored = ::write(report[1], &err, sizeof(err));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so a signal sent right after Start reaches the group
  ::close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return Unavailable("instance.app_spawn_failed", "{} (in {}): {}", program, app_dir,
                       std::strerror(child_errno));
  }
  return std::unique_ptr<AppProcess>(new AppProcess(pid));
}

AppProcess::~AppProcess() { Stop(std::chrono::milliseconds(0)); }

std::optional<int> AppProcess::Poll() {
  if (wait_status_) return wait_status_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) wait_status_ = status;
  return wait_status_;
}

void AppProcess::Stop(std::chrono::milliseconds grace) {
  if (Poll()) {
    ::kill(-pid_, SIGKILL);  // whatever the app left behind in its group
    return;
  }
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!Poll() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
  if (!wait_status_) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    wait_status_ = status;
  }
}

}  // namespace lunal::node::internal

#include "spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace lunal::build::internal {
namespace {

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

using SteadyClock = std::chrono::steady_clock;

std::chrono::milliseconds Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
}

int DecodeWaitStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

// The child side of fork(): async-signal-safe calls only. Reports an exec failure's errno on
// `err_fd` (close-on-exec, so a successful exec closes it and the parent reads EOF).
[[noreturn]] void ChildExec(char* const* argv, char* const* envp, int null_fd, int out_fd,
                            int err_fd, mode_t mask) {
  ::setpgid(0, 0);
  ::umask(mask);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) {
    int e = errno;
    [[maybe_unused]] ssize_t w = ::write(err_fd, &e, sizeof e);
    ::_exit(127);
  }
  // Everything above 2 is close-on-exec except what the caller's own code leaked; close the
  // rest too (except err_fd, which exec closes) so no host descriptor reaches the sandbox.
#ifdef SYS_close_range
  if (err_fd > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(err_fd - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(err_fd + 1), ~0u, 0u);
#endif
  ::execve(argv[0], argv, envp);
  int e = errno;
  [[maybe_unused]] ssize_t w = ::write(err_fd, &e, sizeof e);
  ::_exit(127);
}

}  // namespace

BoundedLog::BoundedLog(std::size_t max_bytes)
    : head_max_(max_bytes / 2), tail_max_(max_bytes - max_bytes / 2) {}

void BoundedLog::Append(std::string_view data) {
  if (head_.size() < head_max_) {
    std::size_t n = std::min(head_max_ - head_.size(), data.size());
    head_.append(data.substr(0, n));
    data.remove_prefix(n);
  }
  tail_.append(data);
  // Trim lazily (amortised linear): keep at most twice the bound between trims.
  if (tail_.size() > 2 * tail_max_ + 4096) {
    std::size_t cut = tail_.size() - tail_max_;
    dropped_ += cut;
    tail_.erase(0, cut);
  }
}

std::string BoundedLog::Take() {
  if (tail_.size() > tail_max_) {
    std::size_t cut = tail_.size() - tail_max_;
    dropped_ += cut;
    tail_.erase(0, cut);
  }
  std::string out = std::move(head_);
  if (dropped_ > 0) {
    out += "\n[lunal: " + std::to_string(dropped_) + " bytes omitted]\n";
  }
  out += tail_;
  head_.clear();
  tail_.clear();
  dropped_ = 0;
  return out;
}

Result<SpawnOutput> Spawn(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty() || options.argv[0][0] != '/') {
    return Internal("build.sandbox.io", "spawn needs an absolute program path");
  }
  // Everything the child needs is prepared before fork: it may not allocate.
  std::vector<std::string> args = options.argv;
  std::vector<std::string> envs = options.env;
  std::vector<char*> c_argv, c_envp;
  for (std::string& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  for (std::string& e : envs) c_envp.push_back(e.data());
  c_envp.push_back(nullptr);

  Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd.fd < 0)
    return Internal("build.sandbox.io", "open /dev/null: {}", std::strerror(errno));
  int p[2], q[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    return Internal("build.sandbox.io", "pipe: {}", std::strerror(errno));
  }
  Fd out_r(p[0]), out_w(p[1]);
  if (::pipe2(q, O_CLOEXEC) != 0) {
    return Internal("build.sandbox.io", "pipe: {}", std::strerror(errno));
  }
  Fd exec_r(q[0]), exec_w(q[1]);

  auto start = SteadyClock::now();
  pid_t pid = ::fork();
  if (pid < 0) return Internal("build.sandbox.io", "fork: {}", std::strerror(errno));
  if (pid == 0) {
    ChildExec(c_argv.data(), c_envp.data(), null_fd.fd, out_w.fd, exec_w.fd, options.umask);
  }
  // Also from the parent, so kill(-pid) is right even before the child ran setpgid.
  ::setpgid(pid, pid);
  out_w.Close();
  exec_w.Close();
  null_fd.Close();

  int exec_errno = 0;
  ssize_t got_errno = 0;
  do {
    got_errno = ::read(exec_r.fd, &exec_errno, sizeof exec_errno);
  } while (got_errno < 0 && errno == EINTR);
  if (got_errno == static_cast<ssize_t>(sizeof exec_errno)) {
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    return Unavailable("build.sandbox.unavailable", "cannot run {}: {}", options.argv[0],
                       std::strerror(exec_errno));
  }

  SpawnOutput result;
  BoundedLog log(options.max_output_bytes);
  auto deadline = start + options.timeout;
  bool reaped = false;
  int wstatus = 0;
  // After the child has exited, keep reading until EOF or a short silence: a process it left
  // behind might hold the pipe open.
  SteadyClock::time_point drain_until{};
  while (out_r.fd >= 0 || !reaped) {
    auto now = SteadyClock::now();
    if (!reaped && now >= deadline) {
      result.timed_out = true;
      break;
    }
    if (reaped && now >= drain_until) break;
    auto limit = reaped ? drain_until : deadline;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(limit - now).count();
    int wait_ms = static_cast<int>(std::min<long long>(std::max<long long>(left, 1), 50));
    if (out_r.fd >= 0) {
      pollfd pfd{out_r.fd, POLLIN, 0};
      int ready = ::poll(&pfd, 1, wait_ms);
      if (ready < 0 && errno != EINTR) {
        int e = errno;
        if (!reaped) {
          ::kill(-pid, SIGKILL);
          while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
          }
        }
        return Internal("build.sandbox.io", "poll: {}", std::strerror(e));
      }
      if (ready > 0) {
        char buf[16384];
        ssize_t got = ::read(out_r.fd, buf, sizeof buf);
        if (got > 0) {
          log.Append(std::string_view(buf, static_cast<std::size_t>(got)));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          out_r.Close();
        }
      }
    } else {
      ::usleep(static_cast<useconds_t>(wait_ms) * 1000);
    }
    if (!reaped) {
      pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
      if (r == pid) {
        reaped = true;
        drain_until = SteadyClock::now() + std::chrono::milliseconds(500);
      }
    }
  }
  if (!reaped) {
    // Timed out: the group is still ours (its leader is not reaped), so its id cannot have been
    // reused. SIGKILL to bwrap makes the kernel kill the sandbox (--die-with-parent, PID ns).
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }
  result.duration = Since(start);
  result.output = log.Take();
  result.exit_code = result.timed_out ? -1 : DecodeWaitStatus(wstatus);
  return result;
}

}  // namespace lunal::build::internal

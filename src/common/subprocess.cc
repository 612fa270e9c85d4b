#include "lunal/common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lunal/common/unique_fd.h"

extern char** environ;

namespace lunal {
namespace {

// Moves the descriptor above 2 (it may be 0..2 when our own stdio is closed), so the child's
// dup2 onto 0..2 cannot overwrite another of its sources.
bool RaiseAboveStdio(UniqueFd& fd) {
  if (fd.get() > 2) return true;
  int raised = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (raised < 0) return false;
  fd.reset(raised);
  return true;
}

using SteadyClock = std::chrono::steady_clock;

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The program execve gets. A name without '/' is searched on our PATH (glibc's posix_spawnp and
// execvp do the same; the default when PATH is unset is confstr(_CS_PATH), "/bin:/usr/bin").
// Empty PATH entries (the current folder) are skipped.
Result<std::string> ResolveProgram(const SubprocessOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return InvalidArgument("subprocess.bad_argv", "empty argv");
  }
  const std::string& name = options.argv[0];
  if (name.front() == '/') return name;
  if (!options.search_path) {
    return InvalidArgument("subprocess.bad_argv", "{:?} is not an absolute program path", name);
  }
  if (name.find('/') != std::string::npos) return name;
  const char* env_path = std::getenv("PATH");
  std::string_view path = env_path != nullptr ? env_path : "/bin:/usr/bin";
  while (!path.empty()) {
    std::size_t colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
  }
  return Unavailable("subprocess.spawn_failed", "cannot run {}: not found on PATH", name);
}

struct ChildPlan {
  const char* program = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int stdin_fd = -1;  // -1: keep ours
  int out_fd = -1;
  int err_fd = -1;
  int exec_fd = -1;  // close-on-exec; receives errno when exec fails
  bool own_process_group = false;
  bool set_umask = false;
  mode_t umask = 0;
};

[[noreturn]] void ReportAndExit(int exec_fd) {
  int e = errno;
  [[maybe_unused]] ssize_t w = ::write(exec_fd, &e, sizeof e);
  ::_exit(127);
}

// The child side of fork(): async-signal-safe calls only (POSIX.1-2017 XSH 2.4.3; close_range is
// a raw system call). No allocation: everything was prepared before fork.
[[noreturn]] void ChildExec(const ChildPlan& plan) {
  if (plan.own_process_group) ::setpgid(0, 0);
  if (plan.set_umask) ::umask(plan.umask);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (plan.stdin_fd >= 0 && ::dup2(plan.stdin_fd, 0) < 0) ReportAndExit(plan.exec_fd);
  if (::dup2(plan.out_fd, 1) < 0 || ::dup2(plan.err_fd, 2) < 0) ReportAndExit(plan.exec_fd);
    // The sources are close-on-exec; close whatever else the process leaked too (all but exec_fd,
    // which exec closes), so no descriptor of ours reaches the child.
#ifdef SYS_close_range
  if (plan.exec_fd > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(plan.exec_fd - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(plan.exec_fd + 1), ~0u, 0u);
#endif
  ::execve(plan.program, plan.argv, plan.envp);
  ReportAndExit(plan.exec_fd);
}

void KillChild(pid_t pid, bool group) {
  // The group is still ours while its leader is not reaped, so its id cannot have been reused.
  if (group) ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
}

void Reap(pid_t pid, int* wstatus) {
  while (::waitpid(pid, wstatus, 0) < 0 && errno == EINTR) {
  }
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
  // Trim lazily (amortised linear): keep at most about twice the bound between trims. Written
  // so that a bound near SIZE_MAX (kNoOutputLimit) cannot overflow.
  if (tail_.size() > tail_max_ && tail_.size() - tail_max_ > tail_max_ + 4096) {
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

Result<SubprocessResult> RunSubprocess(const SubprocessOptions& options) {
  LUNAL_ASSIGN_OR_RETURN(std::string program, ResolveProgram(options));
  // Everything the child needs is prepared before fork: it may not allocate.
  std::vector<std::string> args = options.argv;
  std::vector<char*> c_argv = CStrings(args);
  std::vector<std::string> envs = options.env.value_or(std::vector<std::string>{});
  std::vector<char*> c_envp = CStrings(envs);
  char* const* envp = options.env.has_value() ? c_envp.data() : environ;

  UniqueFd null_fd;
  if (options.stdin_mode == SubprocessOptions::Stdin::kNull) {
    null_fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (null_fd.get() < 0)
      return Internal("subprocess.io", "open /dev/null: {}", std::strerror(errno));
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    return Internal("subprocess.io", "pipe: {}", std::strerror(errno));
  UniqueFd out_r(p[0]), out_w(p[1]);
  UniqueFd err_r, err_w;
  if (!options.merge_stderr) {
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return Internal("subprocess.io", "pipe: {}", std::strerror(errno));
    }
    err_r.reset(p[0]);
    err_w.reset(p[1]);
  }
  if (::pipe2(p, O_CLOEXEC) != 0)
    return Internal("subprocess.io", "pipe: {}", std::strerror(errno));
  UniqueFd exec_r(p[0]), exec_w(p[1]);
  for (UniqueFd* fd : {&null_fd, &out_w, &err_w, &exec_w}) {
    if (fd->valid() && !RaiseAboveStdio(*fd)) {
      return Internal("subprocess.io", "fcntl: {}", std::strerror(errno));
    }
  }

  ChildPlan plan;
  plan.program = program.c_str();
  plan.argv = c_argv.data();
  plan.envp = envp;
  plan.stdin_fd = null_fd.get();
  plan.out_fd = out_w.get();
  plan.err_fd = options.merge_stderr ? out_w.get() : err_w.get();
  plan.exec_fd = exec_w.get();
  plan.own_process_group = options.own_process_group;
  plan.set_umask = options.umask.has_value();
  plan.umask = options.umask.value_or(0);

  auto start = SteadyClock::now();
  pid_t pid = ::fork();
  if (pid < 0) return Internal("subprocess.io", "fork: {}", std::strerror(errno));
  if (pid == 0) ChildExec(plan);
  // Also from the parent, so kill(-pid) is right even before the child ran setpgid.
  if (options.own_process_group) ::setpgid(pid, pid);
  out_w.reset();
  err_w.reset();
  exec_w.reset();
  null_fd.reset();

  int exec_errno = 0;
  ssize_t got_errno = 0;
  do {
    got_errno = ::read(exec_r.get(), &exec_errno, sizeof exec_errno);
  } while (got_errno < 0 && errno == EINTR);
  if (got_errno == static_cast<ssize_t>(sizeof exec_errno)) {
    int wstatus = 0;
    Reap(pid, &wstatus);
    return Unavailable("subprocess.spawn_failed", "cannot run {}: {}", program,
                       std::strerror(exec_errno));
  }
  exec_r.reset();

  SubprocessResult result;
  BoundedLog out_log(options.max_output_bytes);
  BoundedLog err_log(options.max_output_bytes);
  const bool has_deadline = options.timeout.count() > 0;
  const auto deadline = start + options.timeout;
  bool reaped = false;
  int wstatus = 0;
  // After the child has exited, keep reading until EOF or a short silence: a process it left
  // behind might hold a pipe open.
  SteadyClock::time_point drain_until{};
  while (out_r.get() >= 0 || err_r.get() >= 0 || !reaped) {
    auto now = SteadyClock::now();
    if (!reaped && has_deadline && now >= deadline) {
      result.timed_out = true;
      break;
    }
    if (reaped && now >= drain_until) break;
    if (out_r.get() < 0 && err_r.get() < 0 && !has_deadline) {
      Reap(pid, &wstatus);  // nothing left to read and no deadline: just wait
      reaped = true;
      break;
    }
    long long left = 50;
    if (reaped || has_deadline) {
      auto limit = reaped ? drain_until : deadline;
      left = std::chrono::duration_cast<std::chrono::milliseconds>(limit - now).count();
    }
    if (out_r.get() >= 0 || err_r.get() >= 0) {
      int wait_ms = static_cast<int>(std::clamp<long long>(left, 1, 50));
      pollfd pfds[2];
      nfds_t n = 0;
      if (out_r.get() >= 0) pfds[n++] = {out_r.get(), POLLIN, 0};
      if (err_r.get() >= 0) pfds[n++] = {err_r.get(), POLLIN, 0};
      int ready = ::poll(pfds, n, wait_ms);
      if (ready < 0 && errno != EINTR) {
        int e = errno;
        if (!reaped) {
          KillChild(pid, options.own_process_group);
          Reap(pid, &wstatus);
        }
        return Internal("subprocess.io", "poll: {}", std::strerror(e));
      }
      for (nfds_t i = 0; ready > 0 && i < n; ++i) {
        if (pfds[i].revents == 0) continue;
        bool is_out = pfds[i].fd == out_r.get();
        UniqueFd& src = is_out ? out_r : err_r;
        BoundedLog& sink = is_out ? out_log : err_log;
        char buf[16384];
        ssize_t got = ::read(src.get(), buf, sizeof buf);
        if (got > 0) {
          sink.Append(std::string_view(buf, static_cast<std::size_t>(got)));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          src.reset();
        }
      }
    } else {
      // Pipes closed, child not reaped yet, deadline pending: check again shortly.
      ::usleep(static_cast<useconds_t>(std::clamp<long long>(left, 1, 5)) * 1000);
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
    KillChild(pid, options.own_process_group);
    Reap(pid, &wstatus);
  }
  result.duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
  result.out = out_log.Take();
  result.err = err_log.Take();
  if (result.timed_out) {
    result.exit_code = -1;
  } else if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.term_signal = WTERMSIG(wstatus);
    result.exit_code = 128 + result.term_signal;
  }
  return result;
}

}  // namespace lunal

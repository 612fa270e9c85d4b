#include "git_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lunal::build::internal {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<GitOutput> RunGit(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout) {
  if (argv.empty()) return Internal("intake.git.failed", "empty argv");
  int p[4];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    return Unavailable("intake.git.failed", "pipe: {}", std::strerror(errno));
  }
  if (::pipe2(p + 2, O_CLOEXEC) != 0) {
    ::close(p[0]);
    ::close(p[1]);
    return Unavailable("intake.git.failed", "pipe: {}", std::strerror(errno));
  }
  Fd out_r{p[0]}, out_w{p[1]}, err_r{p[2]}, err_w{p[3]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = env;
  std::vector<char*> c_argv = CStrings(args);
  std::vector<char*> c_env = CStrings(envs);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  out_w.Close();
  err_w.Close();
  if (rc != 0) {
    return Unavailable("intake.git.failed", "cannot run {}: {}", argv[0], std::strerror(rc));
  }
  // Drain both pipes together, so a child with one full pipe never blocks.
  GitOutput result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd pfds[2];
    nfds_t n = 0;
    if (out_r.fd >= 0) pfds[n++] = {out_r.fd, POLLIN, 0};
    if (err_r.fd >= 0) pfds[n++] = {err_r.fd, POLLIN, 0};
    if (::poll(pfds, n, static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (pfds[i].revents == 0) continue;
      bool is_out = pfds[i].fd == out_r.fd;
      Fd& src = is_out ? out_r : err_r;
      std::string& sink = is_out ? result.out : result.err;
      char buf[8192];
      ssize_t got = ::read(src.fd, buf, sizeof buf);
      if (got > 0) {
        sink.append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        src.Close();
      }
    }
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return DeadlineExceeded("intake.git.failed", "git did not finish within {} s",
                            timeout.count() / 1000);
  }
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return result;
}

}  // namespace lunal::build::internal

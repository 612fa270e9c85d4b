#include "lunal/testing/testing.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

extern char** environ;

namespace lunal::testing {
namespace fs = std::filesystem;

namespace {
fs::path EnvPath(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? fs::path(v) : fs::path();
}
}  // namespace

fs::path SourceDir() {
  fs::path p = EnvPath("LUNAL_SOURCE_DIR");
  return p.empty() ? fs::path(LUNAL_DEFAULT_SOURCE_DIR) : p;
}

fs::path BinaryDir() {
  fs::path p = EnvPath("LUNAL_BINARY_DIR");
  return p.empty() ? fs::path(LUNAL_DEFAULT_BINARY_DIR) : p;
}

fs::path SharedDir() {
  fs::path p = EnvPath("LUNAL_SHARED_DIR");
  return p.empty() ? fs::path(LUNAL_DEFAULT_SHARED_DIR) : p;
}

Bytes ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string ReadFileText(const fs::path& path) { return ToString(ReadFileBytes(path)); }

void WriteFile(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

TempDir::TempDir() {
  std::random_device rd;
  fs::path base = ::testing::TempDir();
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = base / ("lunal-test-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(candidate, ec)) {
      path_ = candidate;
      return;
    }
  }
  ADD_FAILURE() << "cannot create a temporary directory under " << base;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

bool HaveProgram(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult result;
  if (argv.empty()) return result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC)) {
    ADD_FAILURE() << "pipe failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (options.cwd) posix_spawn_file_actions_addchdir_np(&actions, options.cwd->c_str());

  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    env[kv.substr(0, eq)] = kv;
  }
  for (const auto& kv : options.env) env[kv.substr(0, kv.find('='))] = kv;
  std::vector<char*> envp;
  for (auto& [k, kv] : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (auto& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = std::string("spawn failed: ") + std::strerror(rc);
    return result;
  }

  // Feed stdin and drain both outputs together, so a chatty child never blocks on a full pipe.
  std::size_t written = 0;
  int in_fd = in_pipe[1];
  if (options.stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  ::signal(SIGPIPE, SIG_IGN);
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  int open_outputs = 2;
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* sinks[2] = {&result.out, &result.err};
  while (open_outputs > 0 || in_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd pfds[3];
    int n = 0;
    for (int fd : fds) {
      if (fd >= 0) pfds[n++] = {fd, POLLIN, 0};
    }
    if (in_fd >= 0) pfds[n++] = {in_fd, POLLOUT, 0};
    if (::poll(pfds, static_cast<nfds_t>(n), static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (pfds[i].revents == 0) continue;
      if (pfds[i].fd == in_fd) {
        ssize_t w = ::write(in_fd, options.stdin_data.data() + written,
                            options.stdin_data.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == options.stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      for (int k = 0; k < 2; ++k) {
        if (pfds[i].fd != fds[k]) continue;
        char buf[65536];
        ssize_t r = ::read(fds[k], buf, sizeof buf);
        if (r > 0) {
          sinks[k]->append(buf, static_cast<std::size_t>(r));
        } else {
          ::close(fds[k]);
          fds[k] = -1;
          --open_outputs;
        }
      }
    }
  }
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  if (in_fd >= 0) ::close(in_fd);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (!result.timed_out && WIFEXITED(wstatus)) result.exit_code = WEXITSTATUS(wstatus);
  return result;
}

}  // namespace lunal::testing

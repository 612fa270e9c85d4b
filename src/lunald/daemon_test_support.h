// Test support for the role tests: the built lunald as a child process, the way an operator runs
// it (stdout read up to the first line a role prints once it serves; stderr to a file).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "lunal/cds/manifest.h"
#include "lunal/common/json.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"
#include "lunal/testing/testing.h"

extern char** environ;

namespace lunal::lunald_testing {

inline std::string LunaldPath() { return (testing::BinaryDir() / "src/lunald/lunald").string(); }

class Daemon {
 public:
  Daemon(std::vector<std::string> args, const std::filesystem::path& stderr_file) {
    args.insert(args.begin(), LunaldPath());
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
  }
  ~Daemon() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // The first stdout line (what arrived when `timeout` passes or stdout closes).
  std::string FirstLine(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{.fd = out_, .events = POLLIN, .revents = 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char c = 0;
      if (read(out_, &c, 1) != 1) break;
      if (c == '\n') break;
      line += c;
    }
    return line;
  }
  // The first stdout line as JSON (null when it is not JSON).
  Json FirstJson(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return ParseJson(FirstLine(timeout)).value_or(Json());
  }

  // Sends `signal` and returns the exit status (-1 if it does not exit within `timeout`).
  int StopWith(int signal, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
};

// The operator's signed allow-list (docs/formats/allow-list.md: a DSSE envelope of payloadType
// cds::kAllowListPayloadType), and one entry of it allowing simulated evidence.
inline std::string SignAllowList(const crypto::PrivateKey& key, int version, const Json& entries) {
  const Json payload = {
      {"version", version}, {"issued_at", "2026-11-21T12:00:00Z"}, {"entries", entries}};
  crypto::DsseEnvelope env{.payload_type = std::string(cds::kAllowListPayloadType),
                           .payload = ToBytes(payload.dump()),
                           .signatures = {}};
  env.signatures.push_back(*crypto::SignDsse(env, key, "operator"));
  return crypto::SerializeDsse(env);
}

inline Json AllowEntry(const std::string& tenant, const std::string& deployment,
                       const std::string& build_hash) {
  return {{"tenant", tenant},
          {"deployment", deployment},
          {"build_hashes", {build_hash}},
          {"allow_simulated", true}};
}

}  // namespace lunal::lunald_testing

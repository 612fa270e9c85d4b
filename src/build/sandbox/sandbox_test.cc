// RunInSandbox with the real bwrap: no network in the build phase (a loopback server outside the
// sandbox's namespace, and name resolution), the network in the fetch phase, read-only inputs,
// the exact environment and umask, timeouts without orphans, and a host that stays invisible.
#include "lunal/build/sandbox.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;
using lunal::testing::TempDir;

// A TCP server on 127.0.0.1, port 0, in the test's (the host's) network namespace: it greets
// every connection with "hello-lunal\n" until destroyed.
class LoopbackServer {
 public:
  LoopbackServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        accepted_++;
        [[maybe_unused]] ssize_t w = ::write(c, "hello-lunal\n", 12);
        ::close(c);
      }
    });
  }
  ~LoopbackServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Connects to (host, port) and prints what the server said, or the error's type and exits 3.
std::string ConnectScript(const std::string& host, int port) {
  return "import socket, sys\n"
         "try:\n"
         "    s = socket.create_connection(('" +
         host + "', " + std::to_string(port) +
         "), timeout=5)\n"
         "    print('GOT', s.recv(100).decode().strip())\n"
         "except Exception as e:\n"
         "    print('FAILED', type(e).__name__, e)\n"
         "    sys.exit(3)\n";
}

SandboxSpec Spec(std::vector<std::string> argv, Phase phase = Phase::kBuild) {
  SandboxSpec spec;
  spec.phase = phase;
  spec.argv = std::move(argv);
  spec.cwd = "/tmp";
  spec.timeout = std::chrono::seconds(60);
  return spec;
}

SandboxResult RunOk(const SandboxSpec& spec) {
  auto r = RunInSandbox(spec);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : SandboxResult{};
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
  }
};

TEST_F(SandboxTest, BuildPhaseCannotReachALoopbackServerOutside) {
  LoopbackServer server;
  auto run = RunOk(Spec({"python3", "-c", ConnectScript("127.0.0.1", server.port())}));
  EXPECT_EQ(run.exit_code, 3) << run.log;
  EXPECT_NE(run.log.find("FAILED ConnectionRefusedError"), std::string::npos) << run.log;
  EXPECT_EQ(server.accepted(), 0);
}

TEST_F(SandboxTest, BuildPhaseCannotResolveNames) {
  LoopbackServer server;
  auto local = RunOk(Spec({"python3", "-c", ConnectScript("localhost", server.port())}));
  EXPECT_EQ(local.exit_code, 3) << local.log;
  EXPECT_NE(local.log.find("FAILED gaierror"), std::string::npos) << local.log;
  auto remote = RunOk(Spec({"python3", "-c", ConnectScript("deb.debian.org", 80)}));
  EXPECT_EQ(remote.exit_code, 3) << remote.log;
  EXPECT_NE(remote.log.find("FAILED gaierror"), std::string::npos) << remote.log;
  EXPECT_EQ(server.accepted(), 0);
}

TEST_F(SandboxTest, FetchPhaseReachesTheLoopbackServerByAddressAndName) {
  LoopbackServer server;
  auto by_ip =
      RunOk(Spec({"python3", "-c", ConnectScript("127.0.0.1", server.port())}, Phase::kFetch));
  EXPECT_EQ(by_ip.exit_code, 0) << by_ip.log;
  EXPECT_NE(by_ip.log.find("GOT hello-lunal"), std::string::npos) << by_ip.log;
  // "localhost" through the host's /etc/hosts, visible in the fetch phase only.
  auto by_name =
      RunOk(Spec({"python3", "-c", ConnectScript("localhost", server.port())}, Phase::kFetch));
  EXPECT_EQ(by_name.exit_code, 0) << by_name.log;
  EXPECT_NE(by_name.log.find("GOT hello-lunal"), std::string::npos) << by_name.log;
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(SandboxTest, OnlyWritableMountsCanBeWritten) {
  TempDir src, out;
  lunal::testing::WriteFile(src / "input.txt", "source\n");
  auto spec_for = [&](const std::string& script) {
    SandboxSpec spec = Spec({"/bin/sh", "-c", script});
    spec.mounts = {{src.path(), "/src", false}, {out.path(), "/out", true}};
    spec.cwd = "/src";
    return spec;
  };
  for (const char* target : {"/src/new.txt", "/src/input.txt", "/new.txt", "/etc/new.txt",
                             "/usr/new.txt", "/usr/bin/new.txt", "/proc/new.txt"}) {
    auto run = RunOk(spec_for(std::string("echo x > ") + target));
    EXPECT_NE(run.exit_code, 0) << target << " was writable: " << run.log;
  }
  EXPECT_FALSE(fs::exists(src / "new.txt"));
  EXPECT_EQ(lunal::testing::ReadFileText(src / "input.txt"), "source\n");
  // /out is, /tmp is (a private tmpfs), and the input is readable.
  auto ok = RunOk(spec_for("cat input.txt > /out/copy.txt && echo t > /tmp/t && cat /tmp/t"));
  EXPECT_EQ(ok.exit_code, 0) << ok.log;
  EXPECT_EQ(lunal::testing::ReadFileText(out / "copy.txt"), "source\n");
  // A file created inside has mode 0644: the sandbox's umask 022, whatever ours is.
  struct stat st {};
  ASSERT_EQ(::stat((out / "copy.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(SandboxTest, EnvironmentIsExactlyTheFixedOnePlusTheSpecs) {
  SandboxSpec spec = Spec({"env"});
  spec.env = {{"SOURCE_DATE_EPOCH", "1700000000"}, {"LUNAL_RECIPE", "test"}};
  auto run = RunOk(spec);
  ASSERT_EQ(run.exit_code, 0) << run.log;
  std::map<std::string, std::string> inside;
  std::istringstream lines(run.log);
  for (std::string line; std::getline(lines, line);) {
    auto eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << line;
    inside[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto want = FixedEnvironment(1700000000);
  want["LUNAL_RECIPE"] = "test";
  EXPECT_EQ(inside, want);
  EXPECT_EQ(inside["SOURCE_DATE_EPOCH"], "1700000000");
  EXPECT_EQ(inside["TZ"], "UTC");
  EXPECT_EQ(inside["LC_ALL"], "C");
}

TEST_F(SandboxTest, FixedVariablesCannotBeOverridden) {
  for (const char* name : {"PATH", "HOME", "TZ", "LC_ALL", "PYTHONHASHSEED", "LUNAL_UMASK"}) {
    SandboxSpec spec = Spec({"env"});
    spec.env = {{name, "x"}};
    auto r = RunInSandbox(spec);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().reason(), "build.sandbox.env_override") << name;
  }
  SandboxSpec bad_epoch = Spec({"env"});
  bad_epoch.env = {{"SOURCE_DATE_EPOCH", "yesterday"}};
  auto r = RunInSandbox(bad_epoch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "build.sandbox.bad_spec");
}

TEST_F(SandboxTest, UmaskIs022InsideWhateverTheCallersIs) {
  mode_t before = ::umask(077);
  auto run = RunOk(Spec({"/bin/sh", "-c", "umask"}));
  ::umask(before);
  EXPECT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(run.log, "0022\n");
}

TEST_F(SandboxTest, ArgumentsAreNotInterpretedByAShell) {
  auto run = RunOk(Spec({"printf", "%s|%s\n", "$(id) `id` ; rm -rf /tmp", "*"}));
  EXPECT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(run.log, "$(id) `id` ; rm -rf /tmp|*\n");
}

TEST_F(SandboxTest, ExitCodeIsPassedThrough) {
  EXPECT_EQ(RunOk(Spec({"/bin/sh", "-c", "exit 42"})).exit_code, 42);
  EXPECT_EQ(RunOk(Spec({"no-such-program-lunal"})).exit_code, 127);
}

bool ProcessWithArgExists(const std::string& token) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(token) != std::string::npos) return true;
  }
  return false;
}

TEST_F(SandboxTest, TimeoutKillsEverythingInside) {
  const std::string token = "1000." + std::to_string(::getpid()) + "77";
  // A daemonised grandchild (its own session) as well as the direct child.
  SandboxSpec spec = Spec(
      {"/bin/sh", "-c", "setsid sleep " + token + "1 </dev/null >/dev/null 2>&1 & sleep " + token});
  spec.timeout = std::chrono::seconds(1);
  auto start = std::chrono::steady_clock::now();
  auto run = RunOk(spec);
  EXPECT_TRUE(run.timed_out);
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  for (int i = 0; i < 100 && ProcessWithArgExists(token); ++i) ::usleep(20000);
  EXPECT_FALSE(ProcessWithArgExists(token)) << "a process outlived the sandbox";
}

TEST_F(SandboxTest, HostFilesOutsideTheMountsAreInvisible) {
  ASSERT_TRUE(fs::exists("/work") || fs::exists("/root"));
  auto run = RunOk(Spec({"/bin/sh", "-c",
                         "for p in /root /work /home /var /run /srv /opt /mnt /etc/shadow "
                         "/etc/hostname /etc/resolv.conf /etc/hosts " +
                             lunal::testing::SourceDir().string() +
                             "; do [ -e \"$p\" ] && echo \"VISIBLE $p\"; done; "
                             "[ -r /etc/passwd ] && [ -x /usr/bin/python3 ] && echo CONTROL-OK; "
                             "hostname; ls /"}));
  EXPECT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(run.log.find("VISIBLE"), std::string::npos) << run.log;
  EXPECT_NE(run.log.find("CONTROL-OK"), std::string::npos) << run.log;
  EXPECT_NE(run.log.find("lunal-build\n"), std::string::npos) << run.log;
  // The root holds only the skeleton.
  EXPECT_NE(run.log.find("bin\ndev\netc\nlib\nlib64\nproc\nsbin\ntmp\nusr\n"), std::string::npos)
      << run.log;
}

TEST_F(SandboxTest, BadMountsAreRefused) {
  TempDir dir;
  struct Case {
    Mount mount;
    const char* why;
  };
  const Case cases[] = {
      {{dir.path(), "relative", false}, "relative target"},
      {{dir.path(), "/src/../usr", false}, "not normal"},
      {{dir.path(), "/usr/local", true}, "reserved"},
      {{dir.path(), "/etc", false}, "reserved"},
      {{dir.path(), "/tmp/x", false}, "reserved"},
      {{dir.path(), "/", true}, "root"},
      {{dir / "missing", "/src", false}, "missing host path"},
  };
  for (const Case& c : cases) {
    SandboxSpec spec = Spec({"true"});
    spec.mounts = {c.mount};
    auto r = RunInSandbox(spec);
    ASSERT_FALSE(r.ok()) << c.why;
    EXPECT_EQ(r.error().reason(), "build.sandbox.bad_mount") << c.why;
  }
  SandboxSpec overlap = Spec({"true"});
  overlap.mounts = {{dir.path(), "/src", false}, {dir.path(), "/src/sub", true}};
  auto r = RunInSandbox(overlap);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "build.sandbox.bad_mount");
  SandboxSpec empty = Spec({});
  auto e = RunInSandbox(empty);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason(), "build.sandbox.bad_spec");
}

TEST_F(SandboxTest, IdentifyToolRecordsRealpathDigestAndVersion) {
  auto id = IdentifyTool("python3");
  ASSERT_TRUE(id.ok()) << id.error();
  EXPECT_EQ(id->name, "python3");
  EXPECT_EQ(id->path, fs::canonical("/usr/bin/python3").string());
  auto sum = lunal::testing::RunProcess({"sha256sum", id->path});
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  EXPECT_EQ(id->digest, "sha256:" + sum.out.substr(0, 64));
  auto version = lunal::testing::RunProcess({"/usr/bin/python3", "--version"});
  EXPECT_EQ(id->version + "\n", version.out);
  // Coreutils as well (the recipes' cp).
  auto cp = IdentifyTool("cp");
  ASSERT_TRUE(cp.ok()) << cp.error();
  EXPECT_EQ(cp->path, "/usr/bin/cp");
  EXPECT_NE(cp->version.find("GNU coreutils"), std::string::npos) << cp->version;
  // dash has no --version: identifying it fails rather than recording a made-up version.
  auto sh = IdentifyTool("sh");
  ASSERT_FALSE(sh.ok());
  EXPECT_EQ(sh.error().reason(), "build.tool_version_failed");

  auto missing = IdentifyTool("no-such-tool-lunal");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason(), "build.tool_not_found");
  auto path = IdentifyTool("../bin/sh");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().reason(), "build.tool_not_found");
}

}  // namespace
}  // namespace lunal::build

// The process runner under the sandbox: bounded logs, exit codes, the umask and environment it
// gives the child, exec failures, and a timeout that kills the whole process group.
#include "spawn.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lunal::build::internal {
namespace {

bool ProcessWithArgExists(const std::string& token) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(token) != std::string::npos) return true;
  }
  return false;
}

TEST(BoundedLogTest, KeepsEverythingUnderTheBound) {
  BoundedLog log(100);
  log.Append("hello ");
  log.Append("world");
  EXPECT_EQ(log.Take(), "hello world");
}

TEST(BoundedLogTest, KeepsHeadAndTailAndCountsTheRest) {
  BoundedLog log(10);
  std::string all;
  for (int i = 0; i < 2000; ++i) {
    std::string piece = std::to_string(i) + ",";
    all += piece;
    log.Append(piece);
  }
  std::string got = log.Take();
  std::size_t dropped = all.size() - 10;
  EXPECT_EQ(got, all.substr(0, 5) + "\n[lunal: " + std::to_string(dropped) + " bytes omitted]\n" +
                     all.substr(all.size() - 5));
}

TEST(SpawnTest, CapturesStdoutAndStderrAndExitCode) {
  auto r = Spawn({.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7"},
                  .timeout = std::chrono::seconds(10)});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_FALSE(r->timed_out);
  EXPECT_NE(r->output.find("out\n"), std::string::npos);
  EXPECT_NE(r->output.find("err\n"), std::string::npos);
}

TEST(SpawnTest, SignalIsReportedAs128PlusSignal) {
  auto r = Spawn({.argv = {"/bin/sh", "-c", "kill -TERM $$"}, .timeout = std::chrono::seconds(10)});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
}

TEST(SpawnTest, SetsTheUmaskAndExactEnvironmentInTheChildOnly) {
  mode_t before = ::umask(077);
  auto r = Spawn({.argv = {"/usr/bin/env"},
                  .env = {"A=1", "B=two words"},
                  .umask = 022,
                  .timeout = std::chrono::seconds(10)});
  auto u = Spawn(
      {.argv = {"/bin/sh", "-c", "umask"}, .umask = 022, .timeout = std::chrono::seconds(10)});
  mode_t ours = ::umask(before);
  EXPECT_EQ(ours, 077u) << "Spawn must not change the parent's umask";
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->output, "A=1\nB=two words\n");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->output, "0022\n");
}

TEST(SpawnTest, UnrunnableProgramIsUnavailable) {
  auto r = Spawn({.argv = {"/nonexistent/bwrap"}, .timeout = std::chrono::seconds(10)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "build.sandbox.unavailable");
  auto rel = Spawn({.argv = {"sh"}, .timeout = std::chrono::seconds(10)});
  ASSERT_FALSE(rel.ok());
  EXPECT_EQ(rel.error().reason(), "build.sandbox.io");
}

TEST(SpawnTest, TimeoutKillsTheWholeProcessGroup) {
  // A background grandchild in the same group, which holds the output pipe too.
  const std::string token = "1000.4242" + std::to_string(::getpid());
  auto start = std::chrono::steady_clock::now();
  auto r = Spawn({.argv = {"/bin/sh", "-c", "sleep " + token + " & sleep " + token + "1"},
                  .timeout = std::chrono::seconds(1)});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_LT(took, std::chrono::seconds(5));
  // SIGKILL is asynchronous for processes we did not reap; give the kernel a moment.
  for (int i = 0; i < 50 && ProcessWithArgExists(token); ++i) ::usleep(20000);
  EXPECT_FALSE(ProcessWithArgExists(token)) << "a sleep survived the timeout";
}

TEST(SpawnTest, OutputIsBounded) {
  auto r = Spawn({.argv = {"/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo END"},
                  .timeout = std::chrono::seconds(10),
                  .max_output_bytes = 1000});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(r->output.size(), 1100u);
  EXPECT_NE(r->output.find("bytes omitted]"), std::string::npos);
  EXPECT_EQ(r->output.substr(r->output.size() - 4), "END\n");
}

}  // namespace
}  // namespace lunal::build::internal

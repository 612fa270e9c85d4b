// The process runner: bounded logs, exit codes and signals, separate and merged streams, the
// umask and environment it gives the child (ours untouched), PATH search, stdin, descriptor
// hygiene, exec failures, and timeouts that kill the child or its whole process group.
#include "lunal/common/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace lunal {
namespace {

using std::chrono::seconds;

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
  EXPECT_EQ(log.Take(), "") << "Take resets the log";
}

TEST(BoundedLogTest, NoLimitKeepsEverything) {
  BoundedLog log(kNoOutputLimit);
  std::string all;
  for (int i = 0; i < 20000; ++i) {
    std::string piece = std::to_string(i) + ",";
    all += piece;
    log.Append(piece);
  }
  EXPECT_EQ(log.Take(), all);
}

TEST(SubprocessTest, SeparatesStdoutAndStderrAndReportsTheExitCode) {
  auto r = RunSubprocess(
      {.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}, .timeout = seconds(10)});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(SubprocessTest, MergedStreamsGoToOut) {
  auto r = RunSubprocess({.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7"},
                          .merge_stderr = true,
                          .timeout = seconds(10)});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_NE(r->out.find("out\n"), std::string::npos);
  EXPECT_NE(r->out.find("err\n"), std::string::npos);
  EXPECT_EQ(r->out.size(), 8u);
  EXPECT_EQ(r->err, "");
}

TEST(SubprocessTest, NoTimeoutWaitsForTheChild) {
  auto r = RunSubprocess({.argv = {"/bin/sh", "-c", "sleep 0.2; echo done"}});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "done\n");
  EXPECT_GE(r->duration, std::chrono::milliseconds(150));
}

TEST(SubprocessTest, SignalIsReportedAs128PlusSignal) {
  auto r = RunSubprocess({.argv = {"/bin/sh", "-c", "kill -TERM $$"}, .timeout = seconds(10)});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
  EXPECT_EQ(r->term_signal, SIGTERM);
}

TEST(SubprocessTest, SetsTheUmaskAndExactEnvironmentInTheChildOnly) {
  mode_t before = ::umask(077);
  auto r = RunSubprocess({.argv = {"/usr/bin/env"},
                          .env = std::vector<std::string>{"A=1", "B=two words"},
                          .umask = 022,
                          .timeout = seconds(10)});
  auto u =
      RunSubprocess({.argv = {"/bin/sh", "-c", "umask"}, .umask = 022, .timeout = seconds(10)});
  auto kept = RunSubprocess({.argv = {"/bin/sh", "-c", "umask"}, .timeout = seconds(10)});
  mode_t ours = ::umask(before);
  EXPECT_EQ(ours, 077u) << "RunSubprocess must not change the parent's umask";
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->out, "A=1\nB=two words\n");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->out, "0022\n");
  ASSERT_TRUE(kept.ok()) << kept.error();
  EXPECT_EQ(kept->out, "0077\n") << "without an umask option the child keeps ours";
}

TEST(SubprocessTest, InheritsOurEnvironmentByDefault) {
  const std::string value = "inherited-" + std::to_string(::getpid());
  ASSERT_EQ(::setenv("LUNAL_SUBPROCESS_TEST", value.c_str(), 1), 0);
  auto r = RunSubprocess({.argv = {"/usr/bin/env"}, .timeout = seconds(10)});
  ::unsetenv("LUNAL_SUBPROCESS_TEST");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_NE(r->out.find("LUNAL_SUBPROCESS_TEST=" + value + "\n"), std::string::npos);
  auto empty = RunSubprocess(
      {.argv = {"/usr/bin/env"}, .env = std::vector<std::string>{}, .timeout = seconds(10)});
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_EQ(empty->out, "") << "an explicit empty environment is empty";
}

TEST(SubprocessTest, SearchesOurPathOnlyWhenAsked) {
  // Our PATH is searched, not the child's environment (which has no PATH here).
  auto r = RunSubprocess({.argv = {"sh", "-c", "echo $0"},
                          .search_path = true,
                          .env = std::vector<std::string>{},
                          .timeout = seconds(10)});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->out, "sh\n");
  auto rel = RunSubprocess({.argv = {"sh"}, .timeout = seconds(10)});
  ASSERT_FALSE(rel.ok());
  EXPECT_EQ(rel.error().reason(), "subprocess.bad_argv");
  EXPECT_EQ(rel.error().code(), Code::kInvalidArgument);
  auto missing = RunSubprocess(
      {.argv = {"lunal-no-such-program-xyz"}, .search_path = true, .timeout = seconds(10)});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason(), "subprocess.spawn_failed");
  EXPECT_EQ(missing.error().code(), Code::kUnavailable);
  auto empty = RunSubprocess({.argv = {}});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().reason(), "subprocess.bad_argv");
}

TEST(SubprocessTest, UnrunnableProgramIsUnavailable) {
  auto r = RunSubprocess({.argv = {"/nonexistent/bwrap"}, .timeout = seconds(10)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "subprocess.spawn_failed");
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("/nonexistent/bwrap"), std::string::npos);
  // A file that exists but is not executable: execve fails with EACCES.
  auto notexec = RunSubprocess({.argv = {"/etc/hostname"}, .timeout = seconds(10)});
  ASSERT_FALSE(notexec.ok());
  EXPECT_EQ(notexec.error().reason(), "subprocess.spawn_failed");
}

TEST(SubprocessTest, StdinIsNullOrOurs) {
  auto null_in = RunSubprocess({.argv = {"/bin/cat"}, .timeout = seconds(10)});
  ASSERT_TRUE(null_in.ok()) << null_in.error();
  EXPECT_EQ(null_in->exit_code, 0);
  EXPECT_EQ(null_in->out, "");
  // Make our stdin a pipe with known content, then let the child inherit it.
  int saved = ::dup(0);
  ASSERT_GE(saved, 0);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "typed\n", 6), 6);
  ::close(p[1]);
  ASSERT_EQ(::dup2(p[0], 0), 0);
  ::close(p[0]);
  auto inherited = RunSubprocess({.argv = {"/bin/cat"},
                                  .stdin_mode = SubprocessOptions::Stdin::kInherit,
                                  .timeout = seconds(10)});
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_TRUE(inherited.ok()) << inherited.error();
  EXPECT_EQ(inherited->out, "typed\n");
}

TEST(SubprocessTest, NoDescriptorOfOursReachesTheChild) {
  // A descriptor without close-on-exec (as leaked by careless code) must not be inherited.
  int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 3);
  auto r = RunSubprocess({.argv = {"/bin/ls", "/proc/self/fd"}, .timeout = seconds(10)});
  ::close(leaked);
  ASSERT_TRUE(r.ok()) << r.error();
  // 0, 1, 2 and the one ls opens to read the folder: nothing else was inherited.
  const std::string& fds = r->out;
  std::size_t lines = static_cast<std::size_t>(std::count(fds.begin(), fds.end(), '\n'));
  EXPECT_EQ(lines, 4u) << fds;
}

TEST(SubprocessTest, TimeoutKillsTheWholeProcessGroup) {
  // A background grandchild in the same group, which holds the output pipe too.
  const std::string token = "1000.4242" + std::to_string(::getpid());
  auto start = std::chrono::steady_clock::now();
  auto r = RunSubprocess({.argv = {"/bin/sh", "-c", "sleep " + token + " & sleep " + token + "1"},
                          .merge_stderr = true,
                          .umask = 022,
                          .timeout = seconds(1)});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_LT(took, seconds(5));
  // SIGKILL is asynchronous for processes we did not reap; give the kernel a moment.
  for (int i = 0; i < 50 && ProcessWithArgExists(token); ++i) ::usleep(20000);
  EXPECT_FALSE(ProcessWithArgExists(token)) << "a sleep survived the timeout";
}

TEST(SubprocessTest, WithoutOwnGroupTheChildStaysInOursAndIsKilledOnTimeout) {
  auto same = RunSubprocess({.argv = {"/bin/sh", "-c", "cut -d' ' -f5 /proc/$$/stat"},
                             .own_process_group = false,
                             .timeout = seconds(10)});
  auto own = RunSubprocess(
      {.argv = {"/bin/sh", "-c", "cut -d' ' -f5 /proc/$$/stat; echo $$"}, .timeout = seconds(10)});
  ASSERT_TRUE(same.ok()) << same.error();
  ASSERT_TRUE(own.ok()) << own.error();
  EXPECT_EQ(std::stol(same->out), static_cast<long>(::getpgrp()));
  // With its own group, the child (the shell, $$) leads it.
  std::size_t nl = own->out.find('\n');
  ASSERT_NE(nl, std::string::npos) << own->out;
  EXPECT_EQ(std::stol(own->out.substr(0, nl)), std::stol(own->out.substr(nl + 1)));

  auto start = std::chrono::steady_clock::now();
  auto slow = RunSubprocess({.argv = {"/bin/sleep", "30"},
                             .own_process_group = false,
                             .timeout = std::chrono::milliseconds(300)});
  ASSERT_TRUE(slow.ok()) << slow.error();
  EXPECT_TRUE(slow->timed_out);
  EXPECT_EQ(slow->exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

TEST(SubprocessTest, OutputIsBoundedPerStream) {
  auto r = RunSubprocess(
      {.argv = {"/bin/sh", "-c",
                "head -c 300000 /dev/zero | tr '\\0' x; echo END; head -c 5000 /dev/zero >&2"},
       .timeout = seconds(10),
       .max_output_bytes = 1000});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(r->out.size(), 1100u);
  EXPECT_NE(r->out.find("bytes omitted]"), std::string::npos);
  EXPECT_EQ(r->out.substr(r->out.size() - 4), "END\n");
  EXPECT_NE(r->err.find("[lunal: 4000 bytes omitted]"), std::string::npos);
}

TEST(SubprocessTest, UnboundedOutputIsKeptWhole) {
  auto r = RunSubprocess({.argv = {"/bin/sh", "-c", "head -c 3000000 /dev/zero"},
                          .timeout = seconds(20),
                          .max_output_bytes = kNoOutputLimit});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->out, std::string(3000000, '\0'));
}

}  // namespace
}  // namespace lunal

// IntakeGit on real repositories made with `git init` in a temporary folder and cloned by
// file:// URL at a branch, an annotated tag and a commit; Intake's dispatch on its SPEC.
#include <gtest/gtest.h>

#include "internal.h"
#include "lunal/build/intake.h"
#include "test_util.h"

namespace lunal::build {
namespace {
namespace fs = std::filesystem;
using test::GitOk;
using test::Put;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class IntakeGitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveProgram("git")) GTEST_SKIP() << "git not installed";
    repo_ = t_ / "repo";
    fs::create_directories(repo_);
    fs::create_directories(t_ / "work");
    GitOk({"init", "-q", "-b", "main", "."}, repo_);
    Put(repo_, "README.md", "v1\n");
    Put(repo_, "run.sh", "#!/bin/sh\n", /*executable=*/true);
    Put(repo_, ".gitignore", "*.log\n");
    Put(repo_, "keep.log", "tracked although ignored\n");
    Put(repo_, "secret/key.txt", "left out by .lunalignore\n");
    Put(repo_, ".lunalignore", "secret/\n");
    test::Link(repo_, "docs/readme", "../README.md");
    GitOk({"add", "."}, repo_);
    GitOk({"add", "-f", "keep.log"}, repo_);
    GitOk({"commit", "-q", "-m", "one"}, repo_);
    first_ = Trim(GitOk({"rev-parse", "HEAD"}, repo_));
    GitOk({"tag", "-a", "-m", "release", "v1"}, repo_);
    Put(repo_, "README.md", "v2 on main\n");
    GitOk({"commit", "-q", "-am", "two"}, repo_);
    second_ = Trim(GitOk({"rev-parse", "HEAD"}, repo_));
    GitOk({"checkout", "-q", "-b", "feature", first_}, repo_);
    Put(repo_, "feature.txt", "f\n");
    GitOk({"add", "feature.txt"}, repo_);
    GitOk({"commit", "-q", "-m", "three"}, repo_);
    third_ = Trim(GitOk({"rev-parse", "HEAD"}, repo_));
    GitOk({"checkout", "-q", "main"}, repo_);
    Put(repo_, "untracked.txt", "never part of a git intake");
    url_ = "file://" + repo_.string();
  }

  Result<IntakeResult> Run(std::string_view ref) {
    fs::remove_all(t_ / "work/source");
    return IntakeGit(url_, ref, t_ / "work");
  }

  testing::TempDir t_;
  fs::path repo_;
  std::string url_, first_, second_, third_;
};

TEST_F(IntakeGitTest, DefaultBranch) {
  auto r = Run("");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(test::Describe(r->tree), (std::vector<std::string>{
                                         ".gitignore file - 6 ",
                                         ".lunalignore file - 8 ",
                                         "README.md file - 11 ",
                                         "docs/readme link - 12 ../README.md",
                                         "keep.log file - 25 ",
                                         "run.sh file x 10 ",
                                     }));
  EXPECT_EQ(r->ignored, 1u);  // secret/key.txt
  EXPECT_EQ(r->origin.kind, "git");
  EXPECT_EQ(r->origin.uri, url_);
  EXPECT_EQ(r->origin.digest, "gitCommit:" + second_);
  EXPECT_EQ(r->origin.ref, "");
  EXPECT_EQ(r->tree.root, t_ / "work/source");
  EXPECT_EQ(testing::ReadFileText(t_ / "work/source/README.md"), "v2 on main\n");
  // The clone's HOME is gone; only source/ is left in the work folder.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(t_ / "work")) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"source"});
}

TEST_F(IntakeGitTest, BranchTagAndCommit) {
  struct Want {
    std::string ref, commit, readme;
    bool feature;
  };
  for (const Want& w : std::vector<Want>{{"main", second_, "v2 on main\n", false},
                                         {"refs/heads/main", second_, "v2 on main\n", false},
                                         {"v1", first_, "v1\n", false},
                                         {"refs/tags/v1", first_, "v1\n", false},
                                         {first_, first_, "v1\n", false},
                                         {"feature", third_, "v1\n", true}}) {
    auto r = Run(w.ref);
    ASSERT_TRUE(r.ok()) << w.ref << ": " << r.status();
    EXPECT_EQ(r->origin.digest, "gitCommit:" + w.commit) << w.ref;
    EXPECT_EQ(r->origin.ref, w.ref);
    EXPECT_EQ(testing::ReadFileText(t_ / "work/source/README.md"), w.readme) << w.ref;
    bool has_feature = false;
    for (const TreeEntry& e : r->tree.entries) has_feature |= e.path == "feature.txt";
    EXPECT_EQ(has_feature, w.feature) << w.ref;
  }
}

TEST_F(IntakeGitTest, BadRefs) {
  for (std::string ref : {"nope", "0123456789012345678901234567890123456789"}) {
    auto r = Run(ref);
    ASSERT_FALSE(r.ok()) << ref;
    EXPECT_EQ(r.error().reason(), "intake.git.bad_ref") << r.error();
    EXPECT_FALSE(fs::exists(t_ / "work/source")) << ref;
  }
  for (std::string ref : {"-x", "a..b", "a b", "x^{tree}", "@{-1}"}) {
    auto r = Run(ref);
    ASSERT_FALSE(r.ok()) << ref;
    EXPECT_EQ(r.error().reason(), "intake.git.bad_ref") << ref;
  }
}

TEST_F(IntakeGitTest, RefusesRemoteHelpersAndOptions) {
  fs::path marker = t_ / "pwned";
  for (std::string url : std::vector<std::string>{"ext::sh -c touch% " + marker.string(), "ext::sh",
                                                  "fd::3", "--upload-pack=touch " + marker.string(),
                                                  repo_.string(), "", "https://", "host:path"}) {
    auto r = IntakeGit(url, "", t_ / "work");
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().reason(), "intake.git.bad_url") << url;
  }
  auto spec = Intake("ext::sh -c touch% " + marker.string() + "#main", t_ / "work");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().reason(), "intake.spec.not_found");
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_FALSE(fs::exists(t_ / "work/source"));
}

TEST_F(IntakeGitTest, CloneFailureCarriesGitsMessage) {
  auto r = IntakeGit("file://" + (t_ / "no-such-repo").string(), "", t_ / "work");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "intake.git.failed");
  EXPECT_NE(r.error().message().find("does not appear to be a git repository"), std::string::npos)
      << r.error();
  EXPECT_FALSE(fs::exists(t_ / "work/source"));
}

TEST_F(IntakeGitTest, EscapingSymlinkInHistoryIsRefused) {
  test::Link(repo_, "etc", "/etc");
  GitOk({"add", "etc"}, repo_);
  GitOk({"commit", "-q", "-m", "evil"}, repo_);
  auto r = Run("main");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "intake.tree.link_escapes");
  EXPECT_FALSE(fs::exists(t_ / "work/source"));
}

TEST_F(IntakeGitTest, WorkDirSourceMustNotExist) {
  fs::create_directories(t_ / "work/source");
  auto r = IntakeGit(url_, "", t_ / "work");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "intake.work_dir.source_exists");
  EXPECT_TRUE(fs::exists(t_ / "work/source"));
}

TEST_F(IntakeGitTest, IntakeDispatchesOnSpec) {
  auto git = Intake(url_ + "#v1", t_ / "work");
  ASSERT_TRUE(git.ok()) << git.status();
  EXPECT_EQ(git->origin.kind, "git");
  EXPECT_EQ(git->origin.ref, "v1");
  EXPECT_EQ(git->origin.digest, "gitCommit:" + first_);

  auto folder = Intake(repo_.string(), t_ / "work2");
  ASSERT_TRUE(folder.ok()) << folder.status();
  EXPECT_EQ(folder->origin.kind, "folder");
  bool untracked = false, secret = false;
  for (const TreeEntry& e : folder->tree.entries) {
    untracked |= e.path == "untracked.txt";
    secret |= e.path == "secret/key.txt";
    EXPECT_NE(e.path.substr(0, 5), ".git/");
  }
  EXPECT_TRUE(untracked);
  EXPECT_FALSE(secret);

  fs::create_directories(t_ / "work3");
  testing::ProcessResult tar =
      testing::RunProcess({"tar", "-czf", (t_ / "up.tgz").string(), "-C", repo_.string(), "."});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  auto archive = Intake((t_ / "up.tgz").string(), t_ / "work3");
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(archive->origin.kind, "archive");
  EXPECT_EQ(test::Describe(archive->tree), test::Describe(folder->tree));

  EXPECT_EQ(Intake((t_ / "nothing-here").string(), t_ / "work4").error().reason(),
            "intake.spec.not_found");
}

TEST(RedactUrl, DropsHttpUserinfo) {
  using internal::RedactUrl;
  EXPECT_EQ(RedactUrl("https://user:ghp_secret@github.com/o/r.git"), "https://github.com/o/r.git");
  EXPECT_EQ(RedactUrl("http://token@host:8080/r"), "http://host:8080/r");
  EXPECT_EQ(RedactUrl("https://github.com/o/r@v1"), "https://github.com/o/r@v1");
  EXPECT_EQ(RedactUrl("ssh://git@host/r"), "ssh://git@host/r");
  EXPECT_EQ(RedactUrl("git@github.com:o/r.git"), "git@github.com:o/r.git");
}

}  // namespace
}  // namespace lunal::build

// IntakeFolder and MaterializeTree on real folders: ignore files at every level, the folders
// always left out, links, special files and limits; the kept paths are checked against
// `git ls-files --others --exclude-standard`, git's own view of what a commit would take.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "lunal/build/intake.h"
#include "test_util.h"

namespace lunal::build {
namespace {
namespace fs = std::filesystem;
using test::Link;
using test::Put;

void MakeSample(const fs::path& root) {
  Put(root, "README.md", "hello\n");
  Put(root, "run.sh", "#!/bin/sh\necho hi\n", /*executable=*/true);
  Put(root, "src/main.c", "int main(void) { return 0; }\n");
  Put(root, "src/main.o", "object");
  Put(root, "src/gen/out.txt", "generated");
  Put(root, "src/.gitignore", "gen/\n!keep.o\n");
  Put(root, "src/keep.o", "kept by a negation in src/.gitignore");
  Put(root, ".gitignore", "*.o\n*.log\n/build/\n");
  Put(root, "build/artifact", "x");
  Put(root, "logs/a.log", "x");
  Put(root, "docs/build/page.md", "not the top-level build/");
  Link(root, "docs/readme-link", "../README.md");
  Link(root, "self", ".");
  fs::create_directories(root / "empty/inner");
}

TEST(IntakeFolder, SampleTree) {
  testing::TempDir t;
  MakeSample(t.path());
  Put(t.path(), ".git/config", "[core]\n");
  Put(t.path(), ".lunal/state.db", "x");
  Put(t.path(), "sub/.git", "gitdir: elsewhere\n");
  Put(t.path(), ".lunalignore", "docs/build/\n!logs/\n");

  auto r = IntakeFolder(t.path());
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> want = {
      ".gitignore file - 18 ",     ".lunalignore file - 19 ",
      "README.md file - 6 ",       "docs/readme-link link - 12 ../README.md",
      "run.sh file x 18 ",         "self link - 1 .",
      "src/.gitignore file - 13 ", "src/keep.o file - 36 ",
      "src/main.c file - 29 ",
  };
  // .lunalignore's "!logs/" keeps the folder, but logs/a.log is then judged on its own:
  // .lunalignore has no pattern for it, so .gitignore's "*.log" leaves it out.
  EXPECT_EQ(test::Describe(r->tree), want);
  EXPECT_EQ(r->tree.root, t.path());
  EXPECT_EQ(r->origin.kind, "folder");
  EXPECT_EQ(r->origin.uri, t.path().string());
  EXPECT_EQ(r->origin.digest, "");
  // main.o, gen/, build/, logs/a.log, docs/build/.
  EXPECT_EQ(r->ignored, 5u);
}

TEST(IntakeFolder, KeepsWhatGitWouldAdd) {
  if (!testing::HaveProgram("git")) GTEST_SKIP() << "git not installed";
  testing::TempDir t;
  MakeSample(t.path());
  Put(t.path(), "a/b/c/.gitignore", "*\n!*.keep\n!.gitignore\n");
  Put(t.path(), "a/b/c/x.keep", "k");
  Put(t.path(), "a/b/c/y.drop", "d");
  Put(t.path(), "a/b/.gitignore", "/c/z\n");
  Put(t.path(), "a/b/c/z", "z");
  Put(t.path(), "weird name #1 !", "w");
  auto r = IntakeFolder(t.path());
  ASSERT_TRUE(r.ok()) << r.status();
  test::GitOk({"init", "-q", "."}, t.path());
  std::string out = test::GitOk({"ls-files", "-z", "--others", "--exclude-standard"}, t.path());
  std::vector<std::string> git_paths;
  std::istringstream in(out);
  for (std::string p; std::getline(in, p, '\0');) git_paths.push_back(p);
  std::sort(git_paths.begin(), git_paths.end());
  std::vector<std::string> ours;
  for (const TreeEntry& e : r->tree.entries) ours.push_back(e.path);
  EXPECT_EQ(ours, git_paths);
}

TEST(IntakeFolder, WithoutIgnoreFiles) {
  testing::TempDir t;
  Put(t.path(), ".gitignore", "*\n");
  Put(t.path(), "a.txt", "a");
  Put(t.path(), ".git/HEAD", "ref");
  auto r = IntakeFolder(t.path(), {.limits = {}, .apply_ignore_files = false});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(test::Describe(r->tree),
            (std::vector<std::string>{".gitignore file - 2 ", "a.txt file - 1 "}));
  EXPECT_EQ(r->ignored, 0u);
}

TEST(IntakeFolder, SortedByteWise) {
  testing::TempDir t;
  for (const char* p : {"a0", "a/x", "a.b", "B", "a-", "a/y/z"}) Put(t.path(), p, "");
  auto r = IntakeFolder(t.path());
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> paths;
  for (const TreeEntry& e : r->tree.entries) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"B", "a-", "a.b", "a/x", "a/y/z", "a0"}));
}

struct Refusal {
  std::string name;
  std::function<void(const fs::path&)> make;
  IntakeLimits limits;
  std::string reason;
};

std::vector<Refusal> Refusals() {
  return {
      {"absolute_link",
       [](const fs::path& r) { Link(r, "l", "/etc/passwd"); },
       {},
       "intake.tree.link_escapes"},
      {"link_up",
       [](const fs::path& r) { Link(r, "d/l", "../../outside"); },
       {},
       "intake.tree.link_escapes"},
      {"link_up_after_name",
       [](const fs::path& r) { Link(r, "l", "self/.."); },
       {},
       "intake.tree.link_escapes"},
      {"empty_link_is_impossible_but_dotdot",
       [](const fs::path& r) { Link(r, "l", ".."); },
       {},
       "intake.tree.link_escapes"},
      {"fifo",
       [](const fs::path& r) { ASSERT_EQ(::mkfifo((r / "f").c_str(), 0644), 0); },
       {},
       "intake.tree.special_file"},
      {"socket",
       [](const fs::path& r) {
         int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
         sockaddr_un addr = {};
         addr.sun_family = AF_UNIX;
         std::string p = (r / "s").string();
         ASSERT_LT(p.size(), sizeof addr.sun_path);
         std::copy(p.begin(), p.end(), addr.sun_path);
         ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
         ::close(s);
       },
       {},
       "intake.tree.special_file"},
      {"newline_name", [](const fs::path& r) { Put(r, "a\nb", "x"); }, {}, "intake.tree.bad_name"},
      {"too_many_files",
       [](const fs::path& r) {
         for (int i = 0; i < 4; ++i) Put(r, "f" + std::to_string(i), "x");
       },
       {.max_files = 3},
       "intake.tree.too_many_files"},
      {"file_too_large",
       [](const fs::path& r) { Put(r, "big", std::string(101, 'x')); },
       {.max_file_bytes = 100},
       "intake.tree.file_too_large"},
      {"too_large",
       [](const fs::path& r) {
         Put(r, "a", std::string(60, 'x'));
         Put(r, "b", std::string(60, 'x'));
       },
       {.max_total_bytes = 100},
       "intake.tree.too_large"},
      {"too_deep",
       [](const fs::path& r) { Put(r, "a/b/c/d", "x"); },
       {.max_depth = 3},
       "intake.tree.too_deep"},
      {"path_too_long",
       [](const fs::path& r) { Put(r, std::string(40, 'n'), "x"); },
       {.max_path_bytes = 39},
       "intake.tree.path_too_long"},
  };
}

class FolderRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(FolderRefusal, Refused) {
  testing::TempDir t;
  fs::create_directories(t / "root");
  GetParam().make(t / "root");
  auto r = IntakeFolder(t / "root", {.limits = GetParam().limits, .apply_ignore_files = true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), GetParam().reason) << r.error();
}

INSTANTIATE_TEST_SUITE_P(Table, FolderRefusal, ::testing::ValuesIn(Refusals()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(IntakeFolder, IgnoredSpecialFilesAndLinksAreNotJudged) {
  testing::TempDir t;
  ASSERT_EQ(::mkfifo((t / "pipe").c_str(), 0644), 0);
  Link(t.path(), "out", "/etc");
  Put(t.path(), ".gitignore", "pipe\nout\n");
  auto r = IntakeFolder(t.path());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ignored, 2u);
}

TEST(IntakeFolder, MissingOrNotAFolder) {
  testing::TempDir t;
  EXPECT_EQ(IntakeFolder(t / "nope").error().reason(), "intake.tree.not_found");
  Put(t.path(), "file", "x");
  EXPECT_EQ(IntakeFolder(t / "file").error().reason(), "intake.tree.not_directory");
}

TEST(MaterializeTree, CopiesOnlyTheTree) {
  testing::TempDir t;
  MakeSample(t / "src");
  auto r = IntakeFolder(t / "src");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(MaterializeTree(r->tree, t / "out").ok());
  EXPECT_FALSE(fs::exists(t / "out/src/main.o"));
  EXPECT_FALSE(fs::exists(t / "out/build"));
  EXPECT_FALSE(fs::exists(t / "out/empty"));
  EXPECT_EQ(testing::ReadFileText(t / "out/src/main.c"), "int main(void) { return 0; }\n");
  struct stat st = {};
  ASSERT_EQ(::stat((t / "out/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((t / "out/README.md").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(fs::read_symlink(t / "out/docs/readme-link"), "../README.md");
  // The copy is the same tree.
  auto again = IntakeFolder(t / "out");
  ASSERT_TRUE(again.ok()) << again.status();
  std::vector<std::string> want = test::Describe(r->tree);
  EXPECT_EQ(test::Describe(again->tree), want);

  EXPECT_EQ(MaterializeTree(r->tree, t / "out").reason(), "intake.materialize.dest_exists");
  Put(t / "src", "README.md", "changed!\n");
  EXPECT_EQ(MaterializeTree(r->tree, t / "out2").reason(), "intake.materialize.changed");
}

TEST(MaterializeTree, RefusesHostileTrees) {
  testing::TempDir t;
  SourceTree bad{.root = t.path(),
                 .entries = {{.path = "../x",
                              .type = EntryType::kFile,
                              .executable = false,
                              .size = 0,
                              .link_target = {}}}};
  EXPECT_EQ(MaterializeTree(bad, t / "o1").reason(), "intake.materialize.bad_entry");
  SourceTree link{.root = t.path(),
                  .entries = {{.path = "l",
                               .type = EntryType::kSymlink,
                               .executable = false,
                               .size = 4,
                               .link_target = "/etc"}}};
  EXPECT_EQ(MaterializeTree(link, t / "o2").reason(), "intake.materialize.bad_entry");
}

}  // namespace
}  // namespace lunal::build

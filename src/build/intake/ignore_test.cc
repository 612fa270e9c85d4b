// The gitignore matcher against its peer, real `git check-ignore --no-index`, over a table of
// ignore files and paths created on disk (git decides "folder or not" with lstat).
#include "lunal/build/ignore.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "test_util.h"

namespace lunal::build {
namespace {
namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::map<std::string, std::string> ignore_files;  // folder ("" = root) -> .gitignore text
  std::vector<std::string> paths;                   // a trailing '/' makes a folder
};

std::vector<Case> Cases() {
  return {
      {"basename_glob", {{"", "*.o\n"}}, {"a.o", "src/b.o", "src/c.c", "o", "src/x.o/"}},
      {"dir_only",
       {{"", "build/\n"}},
       {"build/", "src/build/", "build.txt", "x/build", "build/inner.c"}},
      {"anchored",
       {{"", "/root.txt\nsub/x\n"}},
       {"root.txt", "sub/root.txt", "sub/x", "a/sub/x", "sub/x.y"}},
      {"negation", {{"", "*.log\n!keep.log\n"}}, {"a.log", "keep.log", "sub/keep.log", "b.txt"}},
      {"parent_excluded_cannot_reinclude",
       {{"", "logs/\n!logs/important.log\n"}},
       {"logs/", "logs/important.log", "logs/other.log"}},
      {"reinclude_under_star",
       {{"", "logs/*\n!logs/important.log\n"}},
       {"logs/", "logs/important.log", "logs/other.log"}},
      {"leading_double_star", {{"", "**/foo\n"}}, {"foo", "a/foo", "a/b/foo", "a/foox"}},
      {"middle_double_star",
       {{"", "a/**/b\n"}},
       {"a/b", "a/x/b", "a/x/y/b", "ab", "a/xb", "c/a/b"}},
      {"trailing_double_star", {{"", "abc/**\n"}}, {"abc/", "abc/x", "abc/y/z", "abcd"}},
      {"double_star_inside_name", {{"", "a**b\n"}}, {"ab", "axxb", "ax/b", "d/azb"}},
      {"star_does_not_cross_slash",
       {{"", "doc/*.txt\n"}},
       {"doc/a.txt", "doc/x/b.txt", "other/doc/a.txt"}},
      {"middle_slash_anchors", {{"", "doc/frotz\n"}}, {"doc/frotz", "a/doc/frotz"}},
      {"question_mark", {{"", "?.c\n"}}, {"a.c", "ab.c", "d/a.c"}},
      {"brackets",
       {{"", "[abc].txt\n[!a]x\n[a-c]y\n[[:digit:]]z\nx[]]\n"}},
       {"a.txt", "d.txt", "ax", "bx", "by", "dy", "1z", "qz", "x]"}},
      {"escapes", {{"", "\\#hash\n\\!bang\n"}}, {"#hash", "!bang", "hash", "bang"}},
      {"trailing_spaces", {{"", "trail  \nsp\\ \n"}}, {"trail", "trail  ", "sp ", "sp"}},
      {"comments_blank_crlf",
       {{"", "# a comment\n\n*.tmp\r\n   \n#x.c\n"}},
       {"a.tmp", "#x.c", "x.c", "# a comment"}},
      {"nested_files_override",
       {{"", "*.gen\nonly\n"}, {"sub", "!keep.gen\n/only\n"}},
       {"a.gen", "sub/keep.gen", "sub/x.gen", "sub/only", "only", "sub/deeper/only",
        "sub/deeper/keep.gen"}},
      {"negated_dir_then_file",
       {{"", "data/\n!data/\n*.bin\n"}},
       {"data/", "data/a.bin", "data/a.txt"}},
      {"dir_only_glob", {{"", "tmp*/\n"}}, {"tmpx/", "tmpy", "tmpx/f"}},
      {"slash_only_and_bang_only", {{"", "/\n!\n*.q\n"}}, {"a.q", "b"}},
      {"unterminated_bracket", {{"", "[ab\nz\n"}}, {"[ab", "a", "z"}},
      {"double_star_alone", {{"", "**\n!*.c\n"}}, {"a.c", "b.h", "d/", "d/b.c"}},
      {"anchored_double_star", {{"", "/**/x\n"}}, {"x", "a/x", "a/b/x", "a/xx"}},
      {"nested_anchored_double_star",
       {{"s", "**/gen/\nlib/**/*.tmp\n"}},
       {"gen/", "s/gen/", "s/a/gen/", "s/lib/a.tmp", "s/lib/q/r/b.tmp", "lib/c.tmp"}},
      {"escaped_star_and_question", {{"", "a\\*b\nc\\?d\n"}}, {"a*b", "axb", "c?d", "cxd"}},
      {"last_match_wins",
       {{"", "!a.txt\na.txt\n*.md\n!README.md\n"}},
       {"a.txt", "README.md", "x.md"}},
  };
}

class IgnoreVsGit : public ::testing::TestWithParam<Case> {};

TEST_P(IgnoreVsGit, SameVerdictAsGitCheckIgnore) {
  if (!testing::HaveProgram("git")) GTEST_SKIP() << "git not installed";
  const Case& c = GetParam();
  testing::TempDir dir;
  test::GitOk({"init", "-q", "."}, dir.path());
  IgnoreMatcher matcher;
  for (const auto& [base, text] : c.ignore_files) {
    test::Put(dir.path(), base.empty() ? ".gitignore" : base + "/.gitignore", text);
    matcher.AddIgnoreFile(IgnoreFile::Parse(text, base));
  }
  std::string stdin_paths;
  for (const std::string& p : c.paths) {
    if (p.back() == '/') {
      fs::create_directories(dir / p);
    } else {
      test::Put(dir.path(), p, "x");
    }
    stdin_paths += (p.back() == '/' ? p.substr(0, p.size() - 1) : p) + '\n';
  }
  testing::ProcessOptions options;
  options.stdin_data = stdin_paths;
  options.cwd = dir.path();
  options.env = {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
                 "HOME=" + dir.path().string(), "XDG_CONFIG_HOME=" + dir.path().string()};
  testing::ProcessResult r =
      testing::RunProcess({"git", "check-ignore", "--no-index", "--stdin"}, options);
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  std::set<std::string> git_ignored;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) git_ignored.insert(line);

  for (const std::string& p : c.paths) {
    bool is_dir = p.back() == '/';
    std::string path = is_dir ? p.substr(0, p.size() - 1) : p;
    EXPECT_EQ(matcher.IsIgnored(path, is_dir), git_ignored.count(path) == 1)
        << c.name << ": \"" << path << "\" (git says "
        << (git_ignored.count(path) ? "ignored" : "not ignored") << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, IgnoreVsGit, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(GlobMatch, Basics) {
  EXPECT_TRUE(GlobMatch("*.c", "a.c"));
  EXPECT_FALSE(GlobMatch("*.c", "d/a.c"));
  EXPECT_TRUE(GlobMatch("**/a.c", "d/e/a.c"));
  EXPECT_TRUE(GlobMatch("**/a.c", "a.c"));
  EXPECT_TRUE(GlobMatch("a/**", "a/b/c"));
  EXPECT_FALSE(GlobMatch("a/**", "a"));
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  EXPECT_FALSE(GlobMatch("\\*", "x"));
  EXPECT_FALSE(GlobMatch("a\\", "a"));
  EXPECT_FALSE(GlobMatch("[a/]b", "/b"));
}

// A hostile .gitignore cannot make matching exponential: with the memo this is quadratic.
TEST(GlobMatch, ManyStarsStayFast) {
  std::string text(3000, 'a');
  std::string pattern;
  for (int i = 0; i < 40; ++i) pattern += "*a";
  pattern += "*b";
  EXPECT_FALSE(GlobMatch(pattern, text));
  EXPECT_TRUE(GlobMatch(pattern.substr(0, pattern.size() - 1), text));
}

TEST(IgnoreMatcher, OverrideDecidesFirst) {
  IgnoreMatcher m;
  m.AddIgnoreFile(IgnoreFile::Parse("*.gen\n", ""));
  m.SetOverride(IgnoreFile::Parse("!needed.gen\nsecret/\n", ""));
  EXPECT_TRUE(m.IsIgnored("a.gen", false));
  EXPECT_FALSE(m.IsIgnored("needed.gen", false));
  EXPECT_TRUE(m.IsIgnored("secret/key.txt", false));
  EXPECT_FALSE(m.IsIgnored("public/key.txt", false));
}

TEST(IgnoreFile, ParseCountsPatterns) {
  IgnoreFile f = IgnoreFile::Parse("\xEF\xBB\xBF# c\n\na\r\n!b/\n  \n", "x");
  EXPECT_EQ(f.pattern_count(), 2u);
  EXPECT_EQ(f.base(), "x");
  EXPECT_EQ(f.Match("x/a", false), IgnoreFile::Verdict::kIgnored);
  EXPECT_EQ(f.Match("a", false), IgnoreFile::Verdict::kNoMatch);  // outside its folder
  EXPECT_EQ(f.Match("x/b", true), IgnoreFile::Verdict::kIncluded);
  EXPECT_EQ(f.Match("x/b", false), IgnoreFile::Verdict::kNoMatch);
}

}  // namespace
}  // namespace lunal::build

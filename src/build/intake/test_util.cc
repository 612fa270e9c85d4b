#include "test_util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace lunal::build::test {
namespace fs = std::filesystem;

void Put(const fs::path& root, const std::string& rel, std::string_view contents, bool executable) {
  fs::path p = root / rel;
  fs::create_directories(p.parent_path());
  testing::WriteFile(p, contents);
  fs::permissions(p, executable ? fs::perms(0755) : fs::perms(0644));
}

void Link(const fs::path& root, const std::string& rel, const std::string& target) {
  fs::path p = root / rel;
  fs::create_directories(p.parent_path());
  fs::create_symlink(target, p);
}

std::set<std::string> Snapshot(const fs::path& dir) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    fs::file_status st = it->symlink_status();
    std::string rel = fs::relative(it->path(), dir).string();
    std::uintmax_t size = fs::is_regular_file(st) ? fs::file_size(it->path()) : 0;
    out.insert(fmt::format("{} {} {}", rel, static_cast<int>(st.type()), size));
  }
  return out;
}

void Python(const std::string& code, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", code};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ProcessOptions options;
  options.timeout = std::chrono::seconds(120);
  testing::ProcessResult r = testing::RunProcess(argv, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

testing::ProcessResult Git(const std::vector<std::string>& args, const fs::path& cwd) {
  static testing::TempDir* home = new testing::TempDir();  // one per test binary
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ProcessOptions options;
  options.env = {"HOME=" + home->path().string(),
                 "GIT_CONFIG_NOSYSTEM=1",
                 "GIT_CONFIG_GLOBAL=/dev/null",
                 "XDG_CONFIG_HOME=" + home->path().string(),
                 "GIT_AUTHOR_NAME=t",
                 "GIT_AUTHOR_EMAIL=t@example.com",
                 "GIT_COMMITTER_NAME=t",
                 "GIT_COMMITTER_EMAIL=t@example.com"};
  options.cwd = cwd;
  return testing::RunProcess(argv, options);
}

std::string GitOk(const std::vector<std::string>& args, const fs::path& cwd) {
  testing::ProcessResult r = Git(args, cwd);
  EXPECT_EQ(r.exit_code, 0) << "git " << fmt::format("{}", fmt::join(args, " ")) << ": " << r.err;
  return r.out;
}

std::vector<std::string> Describe(const SourceTree& tree) {
  std::vector<std::string> out;
  for (const TreeEntry& e : tree.entries) {
    out.push_back(fmt::format("{} {} {} {} {}", e.path,
                              e.type == EntryType::kFile ? "file" : "link",
                              e.executable ? "x" : "-", e.size, e.link_target));
  }
  return out;
}

}  // namespace lunal::build::test

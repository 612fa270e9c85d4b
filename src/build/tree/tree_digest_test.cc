#include "lunal/build/tree_digest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;
using lunal::testing::ReadFileText;
using lunal::testing::RunProcess;
using lunal::testing::TempDir;
using lunal::testing::WriteFile;

std::string Sha256Hex(std::string_view data) { return HexEncode(crypto::Sha256(AsBytes(data))); }

void MakeFile(const fs::path& path, std::string_view content, bool executable = false) {
  fs::create_directories(path.parent_path());
  WriteFile(path, content);
  fs::permissions(path, executable ? fs::perms(0755) : fs::perms(0644));
}

// A tree with every kind of entry and names whose byte order differs from a directory walk's.
void MakeSampleTree(const fs::path& root) {
  MakeFile(root / "README.md", "hello\n");
  MakeFile(root / "bin/run.sh", "#!/bin/sh\necho hi\n", /*executable=*/true);
  MakeFile(root / "a-b", "dash");
  MakeFile(root / "a/b", "slash");
  MakeFile(root / "a0", "zero");
  MakeFile(root / "dir with space/file name.txt", "spaces");
  MakeFile(root / "caf\xc3\xa9/men\xc3\xba", "utf-8 names");
  MakeFile(root / "empty", "");
  fs::create_directories(root / "empty-folder/inner");
  fs::create_symlink("README.md", root / "link");
  fs::create_symlink("../README.md", root / "bin/readme");
  fs::create_symlink("missing/target", root / "dangling");
  // Owner-only execute bit still counts as executable.
  MakeFile(root / "owner-exec", "x");
  fs::permissions(root / "owner-exec", fs::perms(0700));
}

// The shell recipe of docs/formats/tree-digest.md, extracted from the document itself.
std::string RecipeFromDoc() {
  const std::string doc = ReadFileText(lunal::testing::SourceDir() / "docs/formats/tree-digest.md");
  const std::size_t marker = doc.find("<!-- tree-digest-recipe -->");
  EXPECT_NE(marker, std::string::npos);
  const std::size_t start = doc.find("```sh\n", marker);
  const std::size_t end = doc.find("\n```", start + 6);
  EXPECT_NE(start, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  return doc.substr(start + 6, end - start - 6 + 1);
}

std::string ShellDigest(const fs::path& root) {
  auto r = RunProcess({"bash", "-c", RecipeFromDoc(), "tree-digest", root.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::string Digest(const fs::path& root, unsigned threads = 0) {
  auto tree = ScanDirectory(root);
  EXPECT_TRUE(tree.ok()) << tree.status();
  if (!tree.ok()) return "";
  auto d = DigestTree(*tree, {.threads = threads});
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? d->digest : "";
}

TEST(ScanDirectory, ListsFilesAndLinksSortedAsBytes) {
  TempDir dir;
  MakeSampleTree(dir.path());
  auto tree = ScanDirectory(dir.path());
  ASSERT_TRUE(tree.ok()) << tree.status();
  std::vector<std::string> paths;
  for (const TreeEntry& e : tree->entries) paths.push_back(e.path);
  EXPECT_THAT(
      paths, ::testing::ElementsAre("README.md", "a-b", "a/b", "a0", "bin/readme", "bin/run.sh",
                                    "caf\xc3\xa9/men\xc3\xba", "dangling",
                                    "dir with space/file name.txt", "empty", "link", "owner-exec"));
  const TreeEntry& run = tree->entries[5];
  EXPECT_EQ(run.type, EntryType::kFile);
  EXPECT_TRUE(run.executable);
  EXPECT_EQ(run.size, 18u);
  const TreeEntry& readme_link = tree->entries[4];
  EXPECT_EQ(readme_link.type, EntryType::kSymlink);
  EXPECT_EQ(readme_link.link_target, "../README.md");
  EXPECT_EQ(readme_link.size, 12u);
  EXPECT_FALSE(tree->entries[0].executable);
  EXPECT_TRUE(tree->entries[11].executable);
  EXPECT_TRUE(ValidateTree(*tree).ok());
}

TEST(DigestTree, EqualsTheShellRecipeOfTheFormatDocument) {
  TempDir dir;
  MakeSampleTree(dir.path());
  const std::string ours = Digest(dir.path());
  EXPECT_THAT(ours, ::testing::MatchesRegex("sha256:[0-9a-f]{64}"));
  EXPECT_EQ(ours, ShellDigest(dir.path()));
}

TEST(DigestTree, EmptyTreeIsTheDomainStringsHash) {
  TempDir dir;
  EXPECT_EQ(Digest(dir.path()), "sha256:" + Sha256Hex("lunal-tree-v1\n"));
  EXPECT_EQ(Digest(dir.path()), ShellDigest(dir.path()));
}

TEST(DigestTree, ListingByHand) {
  TempDir dir;
  MakeFile(dir / "x", "abc");
  MakeFile(dir / "y", "def", true);
  fs::create_symlink("x", dir / "z");
  auto tree = ScanDirectory(dir.path());
  ASSERT_TRUE(tree.ok());
  auto d = DigestTree(*tree);
  ASSERT_TRUE(d.ok()) << d.status();
  const std::string listing = "lunal-tree-v1\n100644 " + Sha256Hex("abc") + " x\n100755 " +
                              Sha256Hex("def") + " y\n120000 " + Sha256Hex("x") + " z\n";
  EXPECT_EQ(d->digest, "sha256:" + Sha256Hex(listing));
  EXPECT_THAT(d->entry_digests,
              ::testing::ElementsAre("sha256:" + Sha256Hex("abc"), "sha256:" + Sha256Hex("def"),
                                     "sha256:" + Sha256Hex("x")));
  EXPECT_EQ(d->files, 3u);
  EXPECT_EQ(d->bytes, 7u);
}

TEST(DigestTree, EveryKindOfChangeChangesTheDigest) {
  TempDir dir;
  MakeSampleTree(dir.path());
  const std::string base = Digest(dir.path());
  struct Change {
    const char* name;
    std::function<void(const fs::path&)> apply, undo;
  };
  const std::vector<Change> changes = {
      {"one byte", [](const fs::path& r) { WriteFile(r / "a/b", "slasH"); },
       [](const fs::path& r) { WriteFile(r / "a/b", "slash"); }},
      {"exec bit", [](const fs::path& r) { fs::permissions(r / "a0", fs::perms(0744)); },
       [](const fs::path& r) { fs::permissions(r / "a0", fs::perms(0644)); }},
      {"symlink target",
       [](const fs::path& r) {
         fs::remove(r / "link");
         fs::create_symlink("a0", r / "link");
       },
       [](const fs::path& r) {
         fs::remove(r / "link");
         fs::create_symlink("README.md", r / "link");
       }},
      {"path", [](const fs::path& r) { fs::rename(r / "a0", r / "a1"); },
       [](const fs::path& r) { fs::rename(r / "a1", r / "a0"); }},
      {"file becomes symlink with the same bytes",
       [](const fs::path& r) {
         fs::remove(r / "a0");
         fs::create_symlink("zero", r / "a0");
       },
       [](const fs::path& r) {
         fs::remove(r / "a0");
         MakeFile(r / "a0", "zero");
       }},
      {"new empty file", [](const fs::path& r) { WriteFile(r / "new", ""); },
       [](const fs::path& r) { fs::remove(r / "new"); }},
  };
  for (const Change& c : changes) {
    c.apply(dir.path());
    EXPECT_NE(Digest(dir.path()), base) << c.name;
    c.undo(dir.path());
    EXPECT_EQ(Digest(dir.path()), base) << c.name << " (undone)";
  }
  // What the digest leaves out: empty folders, timestamps, read/write permission bits.
  fs::create_directories(dir / "another/empty");
  fs::last_write_time(dir / "README.md", fs::file_time_type{});
  fs::permissions(dir / "README.md", fs::perms(0600));
  EXPECT_EQ(Digest(dir.path()), base);
}

TEST(DigestTree, ThreadCountDoesNotChangeTheResult) {
  TempDir dir;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) {
    // Mostly small files, a few larger than the 1 MiB read buffer.
    const std::size_t size = i % 50 == 0 ? (std::size_t{1} << 20) * 3 + rng() % 1000 : rng() % 9000;
    std::string content(size, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    MakeFile(dir / ("d" + std::to_string(i % 7)) / ("f" + std::to_string(i)), content, i % 3 == 0);
  }
  auto tree = ScanDirectory(dir.path());
  ASSERT_TRUE(tree.ok());
  auto one = DigestTree(*tree, {.threads = 1});
  ASSERT_TRUE(one.ok()) << one.status();
  for (unsigned threads : {2u, 3u, 8u, 0u}) {
    auto many = DigestTree(*tree, {.threads = threads});
    ASSERT_TRUE(many.ok()) << many.status();
    EXPECT_EQ(many->digest, one->digest) << threads;
    EXPECT_EQ(many->entry_digests, one->entry_digests) << threads;
  }
  EXPECT_EQ(one->digest, ShellDigest(dir.path()));
  // A large file's digest, read in several chunks, is the one-shot SHA-256 of its bytes.
  const std::string big = ReadFileText(dir / "d0/f0");
  ASSERT_GT(big.size(), std::size_t{1} << 21);
  for (std::size_t i = 0; i < tree->entries.size(); ++i) {
    if (tree->entries[i].path == "d0/f0") {
      EXPECT_EQ(one->entry_digests[i], "sha256:" + Sha256Hex(big));
    }
  }
}

SourceTree Tree(std::vector<TreeEntry> entries) {
  return {.root = "/nonexistent", .entries = entries};
}
TreeEntry File(std::string path) { return {.path = std::move(path)}; }
TreeEntry Link(std::string path, std::string target) {
  return {.path = std::move(path),
          .type = EntryType::kSymlink,
          .size = target.size(),
          .link_target = target};
}

TEST(ValidateTree, RefusesWhatTheContractForbids) {
  struct Case {
    const char* name;
    SourceTree tree;
    const char* reason;
  };
  TreeEntry file_with_target = File("f");
  file_with_target.link_target = "x";
  TreeEntry link_bad_size = Link("l", "target");
  link_bad_size.size = 3;
  const std::vector<Case> cases = {
      {"empty path", Tree({File("")}), "build.tree.bad_path"},
      {"absolute", Tree({File("/etc/passwd")}), "build.tree.bad_path"},
      {"dot dot", Tree({File("a/../b")}), "build.tree.bad_path"},
      {"dot", Tree({File("./a")}), "build.tree.bad_path"},
      {"empty component", Tree({File("a//b")}), "build.tree.bad_path"},
      {"trailing slash", Tree({File("a/")}), "build.tree.bad_path"},
      {"newline", Tree({File("a\nb")}), "build.tree.bad_path"},
      {"nul", Tree({File(std::string("a\0b", 3))}), "build.tree.bad_path"},
      {"unsorted", Tree({File("b"), File("a")}), "build.tree.unsorted"},
      {"duplicate", Tree({File("a"), File("a")}), "build.tree.unsorted"},
      {"walk order, not byte order", Tree({File("a/b"), File("a-b")}), "build.tree.unsorted"},
      {"file is a folder too", Tree({File("a"), File("a/b")}), "build.tree.path_conflict"},
      {"link is a folder too", Tree({Link("a", "x"), File("a-b"), File("a/b")}),
       "build.tree.path_conflict"},
      {"file with a target", Tree({file_with_target}), "build.tree.bad_entry"},
      {"link size", Tree({link_bad_size}), "build.tree.bad_entry"},
      {"absolute target", Tree({Link("l", "/etc")}), "build.tree.link_escapes"},
      {"empty target", Tree({Link("l", "")}), "build.tree.link_escapes"},
      {"dot dot target", Tree({Link("l", "../x")}), "build.tree.link_escapes"},
      {"deep dot dot target", Tree({Link("a/b/l", "../../../x")}), "build.tree.link_escapes"},
      {"escape through another link", Tree({Link("s/d", ".."), Link("x", "s/d/../..")}),
       "build.tree.link_escapes"},
      {"link loop", Tree({Link("p", "q"), Link("q", "p")}), "build.tree.link_escapes"},
  };
  for (const Case& c : cases) {
    const Status s = ValidateTree(c.tree);
    EXPECT_EQ(s.reason(), c.reason) << c.name << ": " << s;
    EXPECT_EQ(s.code(), Code::kMalformed) << c.name;
    auto d = DigestTree(c.tree);
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_EQ(d.error().reason(), c.reason) << c.name;
  }
  EXPECT_TRUE(ValidateTree(Tree({Link("a/b/l", "../../x"), Link("s/d", ".."), Link("x", "s/d/y"),
                                 File("y")}))
                  .ok());
}

TEST(ScanDirectory, RefusesSpecialFilesAndEscapingLinks) {
  {
    TempDir dir;
    MakeFile(dir / "ok", "x");
    fs::create_directories(dir / "sub");
    ASSERT_EQ(mkfifo((dir / "sub/fifo").c_str(), 0644), 0);
    auto r = ScanDirectory(dir.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), "build.tree.special_file") << r.error();
    EXPECT_THAT(r.error().message(), ::testing::HasSubstr("sub/fifo"));
  }
  for (const char* target : {"/etc/passwd", "../outside", "sub/../../x"}) {
    TempDir dir;
    fs::create_directories(dir / "sub");
    fs::create_symlink(target, dir / "link");
    auto r = ScanDirectory(dir.path());
    ASSERT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.error().reason(), "build.tree.link_escapes") << target;
  }
  {
    TempDir dir;
    auto r = ScanDirectory(dir / "missing");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), "build.tree.not_found");
    MakeFile(dir / "file", "x");
    r = ScanDirectory(dir / "file");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), "build.tree.not_directory");
  }
  {
    TempDir dir;
    MakeFile(dir / "a\nb", "x");
    auto r = ScanDirectory(dir.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), "build.tree.bad_path");
  }
}

TEST(DigestTree, RefusesADiskThatNoLongerMatchesTheTree) {
  TempDir dir;
  TempDir outside;
  MakeFile(outside / "secret", "zero");
  struct Case {
    const char* name;
    std::function<void(const fs::path&)> apply;
  };
  const std::vector<Case> cases = {
      {"size", [](const fs::path& r) { WriteFile(r / "a0", "zero!"); }},
      {"exec bit", [](const fs::path& r) { fs::permissions(r / "a0", fs::perms(0755)); }},
      {"removed", [](const fs::path& r) { fs::remove(r / "a0"); }},
      {"file replaced by a symlink to a same-size file outside",
       [&](const fs::path& r) {
         fs::remove(r / "a0");
         fs::create_symlink(outside / "secret", r / "a0");
       }},
      {"folder replaced by a symlink",
       [&](const fs::path& r) {
         fs::rename(r / "a", r / "a.moved");
         fs::create_symlink("a.moved", r / "a");
       }},
      {"symlink target",
       [](const fs::path& r) {
         fs::remove(r / "link");
         fs::create_symlink("README.mD", r / "link");
       }},
      {"symlink replaced by a file", [](const fs::path& r) {
         fs::remove(r / "link");
         MakeFile(r / "link", "README.md");
       }}};
  for (const Case& c : cases) {
    TempDir root;
    MakeSampleTree(root.path());
    auto tree = ScanDirectory(root.path());
    ASSERT_TRUE(tree.ok());
    c.apply(root.path());
    auto d = DigestTree(*tree, {.threads = 2});
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_EQ(d.error().reason(), "build.tree.changed") << c.name << ": " << d.error();
    EXPECT_EQ(d.error().code(), Code::kConflict) << c.name;
  }
  auto missing = DigestTree({.root = dir / "missing", .entries = {}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason(), "build.tree.not_found");
}

}  // namespace
}  // namespace lunal::build

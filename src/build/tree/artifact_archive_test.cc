#include "lunal/build/artifact_archive.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "lunal/build/tree_digest.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;
using lunal::testing::ReadFileText;
using lunal::testing::RunProcess;
using lunal::testing::TempDir;
using lunal::testing::WriteFile;

constexpr std::int64_t kEpoch = 1700000000;  // 2023-11-14 22:13:20 UTC

struct Item {
  const char* path;
  const char* content;  // nullptr: a folder; "->x": a symlink to x
  bool executable;
};
const Item kItems[] = {
    {"bin", nullptr, false},
    {"bin/server", "#!/bin/sh\nexec true\n", true},
    {"lib", nullptr, false},
    {"lib/a-b.txt", "dash", false},
    {"lib/a", nullptr, false},
    {"lib/a/b.txt", "slash", false},
    {"lib/current", "->a/b.txt", false},
    {"empty", nullptr, false},
    {"README", "read me\n", false},
    {"zero", "", false},
    // Over ustar's 100-byte name field: stored with a pax extended header.
    {"lib/"
     "long-name-long-name-long-name-long-name-long-name-long-name-long-name-long-name-long-name-"
     "long-name-long-name-long-name-end.txt",
     "long", false},
};

// Creates kItems under `root` in the given order with the given umask, then scatters owners and
// mtimes, so that nothing but the content is shared between two calls.
void MakeTree(const fs::path& root, bool reverse, mode_t mask, int seed) {
  const mode_t old = ::umask(mask);
  std::vector<Item> items(std::begin(kItems), std::end(kItems));
  if (reverse) std::reverse(items.begin(), items.end());
  for (const Item& it : items) {
    const fs::path p = root / it.path;
    fs::create_directories(p.parent_path());
    if (it.content == nullptr) {
      fs::create_directories(p);
    } else if (std::string_view(it.content).starts_with("->")) {
      fs::create_symlink(it.content + 2, p);
    } else {
      WriteFile(p, it.content);
      if (it.executable) ::chmod(p.c_str(), 0777 & ~mask);
    }
  }
  ::umask(old);
  for (const Item& it : items) {
    const fs::path p = root / it.path;
    const timespec times[2] = {{.tv_sec = 1000000 * seed, .tv_nsec = 5},
                               {.tv_sec = 2000000 * seed + 17, .tv_nsec = 123456}};
    ::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
    if (::geteuid() == 0) ::lchown(p.c_str(), 1000 + static_cast<uid_t>(seed), 2000);
  }
}

TEST(ArtifactArchive, SameTreeSameBytesWhateverOwnersTimesUmaskAndOrder) {
  TempDir a, b, out;
  MakeTree(a.path(), /*reverse=*/false, 022, 1);
  MakeTree(b.path(), /*reverse=*/true, 077, 2);
  for (bool gzip : {false, true}) {
    const fs::path fa = out / (gzip ? "a.tar.gz" : "a.tar");
    const fs::path fb = out / (gzip ? "b.tar.gz" : "b.tar");
    ASSERT_TRUE(WriteDeterministicArchive(a.path(), fa, {.mtime = kEpoch, .gzip = gzip}).ok());
    ASSERT_TRUE(WriteDeterministicArchive(b.path(), fb, {.mtime = kEpoch, .gzip = gzip}).ok());
    const std::string ba = ReadFileText(fa), bb = ReadFileText(fb);
    ASSERT_FALSE(ba.empty());
    EXPECT_TRUE(ba == bb) << "archives differ, gzip=" << gzip;
    if (gzip) {
      // RFC 1952 §2.3: ID1 ID2 CM FLG MTIME(4) XFL OS: no FNAME flag, MTIME 0.
      ASSERT_GT(ba.size(), 10u);
      EXPECT_EQ(static_cast<unsigned char>(ba[0]), 0x1f);
      EXPECT_EQ(static_cast<unsigned char>(ba[1]), 0x8b);
      EXPECT_EQ(ba[3] & 0x08, 0) << "FNAME set";
      EXPECT_EQ(ba.substr(4, 4), std::string(4, '\0')) << "MTIME set";
    } else {
      EXPECT_EQ(ba.size() % 10240, 0u);
    }
  }
  // Another mtime gives other bytes.
  ASSERT_TRUE(WriteDeterministicArchive(a.path(), out / "c.tar", {.mtime = kEpoch + 1}).ok());
  EXPECT_NE(ReadFileText(out / "c.tar"), ReadFileText(out / "a.tar"));
}

TEST(ArtifactArchive, GnuTarListsAndExtractsIt) {
  if (!lunal::testing::HaveProgram("tar")) GTEST_SKIP() << "no tar";
  TempDir src, out, extracted;
  MakeTree(src.path(), false, 027, 3);
  const fs::path file = out / "a.tar.gz";
  ASSERT_TRUE(WriteDeterministicArchive(src.path(), file, {.mtime = kEpoch, .gzip = true}).ok());
  lunal::testing::ProcessOptions utc;
  utc.env = {"TZ=UTC", "LC_ALL=C"};
  auto list = RunProcess({"tar", "-tvzf", file.string(), "--numeric-owner", "--full-time"}, utc);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  // GNU tar's verbose listing: mode owner/group size date time name [-> target].
  std::vector<std::string> lines;
  std::istringstream in(list.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string mode, owner, size, date, time, name, arrow, target;
    fields >> mode >> owner >> size >> date >> time >> name >> arrow >> target;
    EXPECT_EQ(owner, "0/0") << line;
    EXPECT_EQ(date + " " + time, "2023-11-14 22:13:20") << line;
    lines.push_back(mode + " " + name + (target.empty() ? "" : " -> " + target));
  }
  EXPECT_THAT(lines, ::testing::ElementsAre(
                         "-rw-r--r-- README", "drwxr-xr-x bin/", "-rwxr-xr-x bin/server",
                         "drwxr-xr-x empty/", "drwxr-xr-x lib/", "drwxr-xr-x lib/a/",
                         "-rw-r--r-- lib/a-b.txt", "-rw-r--r-- lib/a/b.txt",
                         "lrwxrwxrwx lib/current -> a/b.txt",
                         "-rw-r--r-- "
                         "lib/"
                         "long-name-long-name-long-name-long-name-long-name-long-name-long-name-"
                         "long-name-long-name-long-name-long-name-long-name-end.txt",
                         "-rw-r--r-- zero"));
  // Note the order: "lib/a" < "lib/a-b.txt" < "lib/a/b.txt" as bytes; GNU tar shows folders
  // with a trailing slash, which libarchive writes.
  auto x = RunProcess({"tar", "-xzf", file.string(), "-C", extracted.path().string()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  auto t1 = ScanDirectory(src.path());
  auto t2 = ScanDirectory(extracted.path());
  ASSERT_TRUE(t1.ok() && t2.ok());
  auto d1 = DigestTree(*t1);
  auto d2 = DigestTree(*t2);
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(d1->digest, d2->digest);
  EXPECT_TRUE(fs::is_directory(extracted / "empty"));
  EXPECT_EQ(ReadFileText(extracted / "bin/server"), "#!/bin/sh\nexec true\n");
}

TEST(ArtifactArchive, Refusals) {
  TempDir dir, out;
  WriteFile(dir / "f", "x");
  // The output inside the folder archived.
  Status s = WriteDeterministicArchive(dir.path(), dir / "self.tar");
  EXPECT_EQ(s.reason(), "build.archive.output_inside") << s;
  EXPECT_FALSE(fs::exists(dir / "self.tar"));
  // A FIFO.
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0644), 0);
  s = WriteDeterministicArchive(dir.path(), out / "a.tar");
  EXPECT_EQ(s.reason(), "build.archive.special_file") << s;
  EXPECT_FALSE(fs::exists(out / "a.tar"));
  fs::remove(dir / "pipe");
  // A link leaving the folder.
  fs::create_symlink("../../etc/passwd", dir / "escape");
  s = WriteDeterministicArchive(dir.path(), out / "a.tar");
  EXPECT_EQ(s.reason(), "build.tree.link_escapes") << s;
  fs::remove(dir / "escape");
  EXPECT_TRUE(WriteDeterministicArchive(dir.path(), out / "a.tar").ok());
  // A missing folder.
  s = WriteDeterministicArchive(dir / "missing", out / "b.tar");
  EXPECT_EQ(s.reason(), "build.tree.not_found") << s;
}

}  // namespace
}  // namespace lunal::build

// IntakeArchive against hostile archives built at test time by Python's tarfile/zipfile (so each
// attack is made by an independent, ordinary tool), and against good archives made by GNU tar
// and zipfile that must round-trip to IntakeFolder's tree of the original folder. Every refusal
// asserts the reason, that work_dir/source is gone, and that nothing else appeared on disk.
#include <gtest/gtest.h>

#include "lunal/build/intake.h"
#include "test_util.h"

namespace lunal::build {
namespace {
namespace fs = std::filesystem;
using test::Put;

// python3 -c kMake CASE OUT: writes the archive named CASE to OUT.
constexpr const char* kMake = R"PY(
import gzip, io, os, sys, tarfile, zipfile
case, out = sys.argv[1], sys.argv[2]

def tar(entries, mode="w"):
    with tarfile.open(out, mode, format=tarfile.GNU_FORMAT) as t:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)

def reg(name, data=b"x", mode=0o644):
    i = tarfile.TarInfo(name); i.mode = mode; return (i, data)

def special(name, kind, linkname=""):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE): i.devmajor, i.devminor = 1, 3
    return (i, None)

def zipped(names):
    with zipfile.ZipFile(out, "w") as z:
        for n in names:
            z.writestr(zipfile.ZipInfo(n), b"x")

if case == "traversal": tar([reg("ok.txt"), reg("../escape.txt")])
elif case == "traversal_inside": tar([reg("a/../../escape.txt")])
elif case == "absolute": tar([reg("/tmp/lunal-intake-absolute-test.txt")])
elif case == "symlink_out_then_file":
    tar([special("evil", tarfile.SYMTYPE, "../../.."), reg("evil/pwned.txt")])
elif case == "symlink_absolute": tar([special("etc", tarfile.SYMTYPE, "/etc")])
elif case == "symlink_inside_then_file":
    tar([reg("d/x"), special("l", tarfile.SYMTYPE, "d"), reg("l/y")])
elif case == "hardlink_out": tar([special("hl", tarfile.LNKTYPE, "/etc/passwd")])
elif case == "hardlink_up": tar([special("hl", tarfile.LNKTYPE, "../outside.txt")])
elif case == "hardlink_later": tar([special("hl", tarfile.LNKTYPE, "later.txt"), reg("later.txt")])
elif case == "char_device": tar([special("null", tarfile.CHRTYPE)])
elif case == "block_device": tar([special("sda", tarfile.BLKTYPE)])
elif case == "fifo": tar([special("pipe", tarfile.FIFOTYPE)])
elif case == "duplicate": tar([reg("a.txt", b"one"), reg("a.txt", b"two")])
elif case == "file_over_folder": tar([reg("a"), reg("a/b")])
elif case == "many_files": tar([reg("f%03d" % i) for i in range(50)])
elif case == "big_file": tar([reg("big", b"x" * 5000)])
elif case == "two_files": tar([reg("a", b"x" * 600), reg("b", b"x" * 600)])
elif case == "long_path": tar([reg("d/" + "n" * 200)])
elif case == "deep": tar([reg("/".join(["d"] * 20) + "/f")])
elif case == "bomb":
    # 200 MiB of zeros in a tar.gz: about 200 KiB, a 1000:1 ratio.
    with tarfile.open(out, "w:gz", compresslevel=9) as t:
        i = tarfile.TarInfo("zeros"); i.size = 200 << 20
        class Zeros(io.RawIOBase):
            left = 200 << 20
            def readable(self): return True
            def readinto(self, b):
                n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
        t.addfile(i, io.BufferedReader(Zeros(), 1 << 20))
elif case == "zip_bomb":
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("zeros")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            for _ in range(200):
                f.write(bytes(1 << 20))
elif case == "zip_traversal": zipped(["ok.txt", "../evil.txt"])
elif case == "zip_traversal_deep": zipped(["a/b/../../../evil.txt"])
elif case == "zip_absolute": zipped(["/abs.txt"])
elif case == "xz": tar([reg("a.txt")], "w:xz")
elif case == "text":
    open(out, "w").write("just some text, not an archive\n" * 20)
elif case == "gzip_text":
    open(out, "wb").write(gzip.compress(b"just some text, not an archive\n" * 20))
elif case == "truncated_gz":
    tar([reg("a%d" % i, os.urandom(4000)) for i in range(20)], "w:gz")
    data = open(out, "rb").read(); open(out, "wb").write(data[: len(data) // 2])
elif case == "hardlink_ok": tar([reg("a.txt", b"hello", 0o755), special("b.txt", tarfile.LNKTYPE, "a.txt")])
elif case == "empty_tar": tar([])
else: sys.exit("unknown case " + case)
)PY";

struct Hostile {
  std::string name;
  std::string reason;
  IntakeLimits limits = {};
};

std::vector<Hostile> HostileCases() {
  return {
      {"traversal", "intake.archive.path_traversal"},
      {"traversal_inside", "intake.archive.path_traversal"},
      {"absolute", "intake.archive.absolute_path"},
      {"symlink_out_then_file", "intake.archive.link_escapes"},
      {"symlink_absolute", "intake.archive.link_escapes"},
      {"symlink_inside_then_file", "intake.archive.through_link"},
      {"hardlink_out", "intake.archive.link_escapes"},
      {"hardlink_up", "intake.archive.link_escapes"},
      {"hardlink_later", "intake.archive.link_escapes"},
      {"char_device", "intake.archive.special_file"},
      {"block_device", "intake.archive.special_file"},
      {"fifo", "intake.archive.special_file"},
      {"duplicate", "intake.archive.duplicate_entry"},
      {"file_over_folder", "intake.archive.duplicate_entry"},
      {"many_files", "intake.archive.too_many_files", {.max_files = 10}},
      {"big_file", "intake.archive.file_too_large", {.max_file_bytes = 4096}},
      {"two_files", "intake.archive.too_large", {.max_total_bytes = 1000}},
      {"long_path", "intake.archive.path_too_long", {.max_path_bytes = 100}},
      {"deep", "intake.archive.too_deep", {.max_depth = 10}},
      {"bomb", "intake.archive.compression_ratio"},
      {"zip_bomb", "intake.archive.compression_ratio"},
      {"zip_traversal", "intake.archive.path_traversal"},
      {"zip_traversal_deep", "intake.archive.path_traversal"},
      {"zip_absolute", "intake.archive.absolute_path"},
      {"xz", "intake.archive.unsupported_format"},
      {"text", "intake.archive.unsupported_format"},
      {"gzip_text", "intake.archive.unsupported_format"},
      {"truncated_gz", "intake.archive.corrupt"},
  };
}

class ArchiveRefusal : public ::testing::TestWithParam<Hostile> {};

TEST_P(ArchiveRefusal, RefusedAndNothingWritten) {
  const Hostile& c = GetParam();
  testing::TempDir t;
  fs::create_directories(t / "work");
  fs::create_directories(t / "in");
  fs::path archive = t / "in/upload";
  ASSERT_NO_FATAL_FAILURE(test::Python(kMake, {c.name, archive.string()}));
  if (c.name == "bomb" || c.name == "zip_bomb") {
    std::uintmax_t size = fs::file_size(archive);
    EXPECT_LT(size, (200u << 20) / 900) << "the bomb should be about 1000:1";
  }
  std::set<std::string> before = test::Snapshot(t.path());
  bool tmp_absolute_before = fs::exists("/tmp/lunal-intake-absolute-test.txt");

  auto r = IntakeArchive(archive, t / "work", {.limits = c.limits, .apply_ignore_files = true});
  ASSERT_FALSE(r.ok()) << c.name << " was accepted";
  EXPECT_EQ(r.error().reason(), c.reason) << r.error();
  EXPECT_FALSE(fs::exists(fs::symlink_status(t / "work/source")));
  EXPECT_EQ(test::Snapshot(t.path()), before);
  EXPECT_EQ(fs::exists("/tmp/lunal-intake-absolute-test.txt"), tmp_absolute_before);
}

INSTANTIATE_TEST_SUITE_P(Table, ArchiveRefusal, ::testing::ValuesIn(HostileCases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(IntakeArchive, RefusalNamesTheEntry) {
  testing::TempDir t;
  fs::create_directories(t / "work");
  ASSERT_NO_FATAL_FAILURE(test::Python(kMake, {"traversal", (t / "a.tar").string()}));
  auto r = IntakeArchive(t / "a.tar", t / "work");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("../escape.txt"), std::string::npos) << r.error();
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(IntakeArchive, HardlinkToEarlierFileBecomesACopy) {
  testing::TempDir t;
  fs::create_directories(t / "work");
  ASSERT_NO_FATAL_FAILURE(test::Python(kMake, {"hardlink_ok", (t / "a.tar").string()}));
  auto r = IntakeArchive(t / "a.tar", t / "work");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(test::Describe(r->tree),
            (std::vector<std::string>{"a.txt file x 5 ", "b.txt file x 5 "}));
  EXPECT_EQ(fs::hard_link_count(t / "work/source/b.txt"), 1u);
  EXPECT_EQ(testing::ReadFileText(t / "work/source/b.txt"), "hello");
}

TEST(IntakeArchive, EmptyTarIsAnEmptyTree) {
  testing::TempDir t;
  fs::create_directories(t / "work");
  ASSERT_NO_FATAL_FAILURE(test::Python(kMake, {"empty_tar", (t / "a.tar").string()}));
  auto r = IntakeArchive(t / "a.tar", t / "work");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->tree.entries.empty());
}

TEST(IntakeArchive, WorkDirRules) {
  testing::TempDir t;
  ASSERT_NO_FATAL_FAILURE(test::Python(kMake, {"empty_tar", (t / "a.tar").string()}));
  EXPECT_EQ(IntakeArchive(t / "a.tar", t / "missing").error().reason(),
            "intake.work_dir.not_directory");
  fs::create_directories(t / "work/source");
  Put(t / "work/source", "mine", "the caller's file");
  EXPECT_EQ(IntakeArchive(t / "a.tar", t / "work").error().reason(),
            "intake.work_dir.source_exists");
  EXPECT_TRUE(fs::exists(t / "work/source/mine"));  // never removed what it did not create
  EXPECT_EQ(IntakeArchive(t / "nope.tar", t / "work").error().reason(), "intake.archive.not_found");
}

// A folder with what archives must carry over: exec bits, symlinks, nesting, an ignore file.
void MakeSource(const fs::path& root) {
  Put(root, "README.md", "hello\n");
  Put(root, "bin/run", "#!/bin/sh\n", /*executable=*/true);
  Put(root, "src/a/b/deep.c", std::string(3000, 'c'));
  Put(root, "src/x.o", "ignored");
  Put(root, ".gitignore", "*.o\n");
  test::Link(root, "docs/readme", "../README.md");
  test::Link(root, "bin/run-link", "run");
}

// Python zipfile, storing symlinks as Info-ZIP does (S_IFLNK in the high external attributes,
// the target as the data) and the mode of every file.
constexpr const char* kZipFolder = R"PY(
import os, stat, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, src)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                info = zipfile.ZipInfo(rel)
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, os.readlink(path))
            else:
                z.write(path, rel)
)PY";

class GoodArchive : public ::testing::TestWithParam<std::string> {};

TEST_P(GoodArchive, RoundTripsToTheFolderTree) {
  testing::TempDir t;
  MakeSource(t / "src");
  fs::create_directories(t / "work");
  fs::path archive = t / "upload.bin";  // the name says nothing: detection is by content
  const std::string& kind = GetParam();
  if (kind == "zip") {
    ASSERT_NO_FATAL_FAILURE(test::Python(kZipFolder, {(t / "src").string(), archive.string()}));
  } else {
    if (!testing::HaveProgram("tar")) GTEST_SKIP() << "GNU tar not installed";
    std::vector<std::string> argv = {
        "tar", kind == "tar.gz" ? "-czf" : "-cf", archive.string(), "-C", (t / "src").string(),
        "."};
    testing::ProcessResult p = testing::RunProcess(argv);
    ASSERT_EQ(p.exit_code, 0) << p.err;
  }
  auto folder = IntakeFolder(t / "src");
  ASSERT_TRUE(folder.ok()) << folder.status();
  auto r = IntakeArchive(archive, t / "work");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(test::Describe(r->tree), test::Describe(folder->tree));
  EXPECT_EQ(r->ignored, 1u);
  EXPECT_EQ(r->tree.root, t / "work/source");
  EXPECT_EQ(r->origin.kind, "archive");
  EXPECT_EQ(r->origin.uri, archive.string());
  // The digest is of the archive file, as sha256sum computes it.
  testing::ProcessResult sum = testing::RunProcess({"sha256sum", archive.string()});
  ASSERT_EQ(sum.exit_code, 0);
  EXPECT_EQ(r->origin.digest, "sha256:" + sum.out.substr(0, 64));
}

INSTANTIATE_TEST_SUITE_P(Formats, GoodArchive, ::testing::Values("tar", "tar.gz", "zip"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

}  // namespace
}  // namespace lunal::build

#include "lunal/common/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lunal {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh folder under the test temp dir (lunal::testing is not a dependency of common).
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "lunal-files-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? fs::path(pattern) : fs::path();
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(std::string_view name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void Put(const fs::path& path, std::string_view text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(WriteFileAtomically, WritesWithExactlyTheModeAndReplacesWhole) {
  TempFolder tmp;
  const fs::path file = tmp / "state.json";
  const mode_t old_umask = ::umask(077);
  ASSERT_TRUE(WriteFileAtomically(file, "first version, longer", 0644).ok());
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(file), 0644u);  // the umask did not apply
  ASSERT_TRUE(WriteFileAtomically(file, "second").ok());
  EXPECT_EQ(ModeOf(file), 0600u);
  EXPECT_EQ(ReadFile(file).value(), "second");
  // No temporary file is left behind.
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(tmp.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(WriteFileAtomically, MissingFolderIsAnIoErrorNamingThePath) {
  TempFolder tmp;
  const fs::path file = tmp / "no-such-dir" / "x";
  Status s = WriteFileAtomically(file, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.reason(), "file.io");
  EXPECT_THAT(s.message(), HasSubstr(file.string()));
  EXPECT_FALSE(fs::exists(file));
}

TEST(ReadFile, MissingIsNulloptOrNotFound) {
  TempFolder tmp;
  auto maybe = ReadFileIfExists(tmp / "absent");
  ASSERT_TRUE(maybe.ok());
  EXPECT_FALSE(maybe->has_value());
  auto r = ReadFile(tmp / "absent");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_EQ(r.error().reason(), "file.not_found");
  EXPECT_THAT(r.error().message(), HasSubstr("absent"));
}

TEST(ReadFile, RefusesWhatIsNotARegularFile) {
  TempFolder tmp;
  fs::create_directory(tmp / "dir");
  auto r = ReadFile(tmp / "dir");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "file.not_regular");
  EXPECT_THAT(r.error().message(), HasSubstr("dir"));

  ASSERT_EQ(::mkfifo((tmp / "fifo").c_str(), 0600), 0);
  r = ReadFile(tmp / "fifo");  // must not block waiting for a writer
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "file.not_regular");
}

TEST(ReadFile, BoundsTheSize) {
  TempFolder tmp;
  Put(tmp / "big", std::string(101, 'x'), 0600);
  auto r = ReadFile(tmp / "big", {.max_bytes = 100});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(r.error().reason(), "file.too_large");
  EXPECT_EQ(ReadFile(tmp / "big", {.max_bytes = 101}).value().size(), 101u);
}

TEST(ReadPrivateFile, RefusesGroupOrOtherBitsAndSymlinks) {
  TempFolder tmp;
  const fs::path key = tmp / "key.pem";
  Put(key, "secret", 0600);
  EXPECT_EQ(ReadPrivateFile(key).value(), "secret");
  for (mode_t mode : {0640u, 0604u, 0620u, 0602u, 0610u}) {
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    auto r = ReadPrivateFile(key);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
    EXPECT_EQ(r.error().reason(), "file.insecure_permissions");
    EXPECT_THAT(r.error().message(), HasSubstr(key.string()));
  }
  // Not private, but a plain read does not care.
  EXPECT_TRUE(ReadFile(key).ok());

  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  fs::create_symlink(key, tmp / "link.pem");
  auto r = ReadPrivateFile(tmp / "link.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "file.not_regular");
  EXPECT_THAT(r.error().message(), HasSubstr("symbolic link"));
  EXPECT_EQ(ReadFile(tmp / "link.pem").value(), "secret");  // a plain read follows it
  EXPECT_FALSE(ReadFile(tmp / "link.pem", {.no_follow = true}).ok());
}

TEST(EnsureDirectory, CreatesParentsAndTheLeafWithItsMode) {
  TempFolder tmp;
  const fs::path dir = tmp / "a" / "b" / "c";
  ASSERT_TRUE(EnsureDirectory(dir, 0700).ok());
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(ModeOf(dir) & 077, 0u);
  EXPECT_TRUE(EnsureDirectory(dir, 0700).ok());  // existing: fine

  Put(tmp / "file", "x", 0600);
  Status s = EnsureDirectory(tmp / "file");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.reason(), "file.not_directory");
  EXPECT_THAT(s.message(), HasSubstr((tmp / "file").string()));
}

TEST(RemoveFile, MissingIsFine) {
  TempFolder tmp;
  Put(tmp / "x", "x", 0600);
  EXPECT_TRUE(RemoveFile(tmp / "x").ok());
  EXPECT_FALSE(fs::exists(tmp / "x"));
  EXPECT_TRUE(RemoveFile(tmp / "x").ok());
}

TEST(FileLock, ExcludesAnotherHolderUntilReleased) {
  TempFolder tmp;
  const fs::path lock_path = tmp / "lock";
  {
    auto first = FileLock::Acquire(lock_path);
    ASSERT_TRUE(first.ok()) << first.error();
    EXPECT_EQ(ModeOf(lock_path), 0600u);
    auto second = FileLock::TryAcquire(lock_path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), Code::kConflict);
    EXPECT_EQ(second.error().reason(), "file.locked");
    // A moved-from lock does not release it.
    FileLock moved(std::move(first).value());
    EXPECT_FALSE(FileLock::TryAcquire(lock_path).ok());
  }
  EXPECT_TRUE(FileLock::TryAcquire(lock_path).ok());
}

}  // namespace
}  // namespace lunal

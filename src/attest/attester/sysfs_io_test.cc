#include "sysfs_io.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "lunal/testing/testing.h"

namespace lunal::attest::internal {
namespace {

namespace fs = std::filesystem;

// Permission errors cannot be provoked here (the tests may run as root), so the mapping itself
// is checked.
TEST(ErrnoStatusTest, MapsErrnoToCodeAndReasonAndNamesTheFile) {
  struct Row {
    int err;
    Code code;
    const char* reason;
  };
  for (const Row& row : {Row{EACCES, Code::kPermissionDenied, "attest.configfs.permission_denied"},
                         Row{EPERM, Code::kPermissionDenied, "attest.configfs.permission_denied"},
                         Row{ENXIO, Code::kUnavailable, "attest.configfs.no_provider"},
                         Row{EFBIG, Code::kResourceExhausted, "attest.configfs.outblob_too_large"},
                         Row{EIO, Code::kUnavailable, "attest.configfs.io"},
                         Row{EBUSY, Code::kUnavailable, "attest.configfs.io"}}) {
    Status status = ErrnoStatus(row.err, "attest.configfs", "outblob", "read",
                                "/sys/kernel/config/tsm/report/x/outblob");
    EXPECT_EQ(status.code(), row.code) << row.err;
    EXPECT_EQ(status.reason(), row.reason) << row.err;
    EXPECT_NE(status.message().find("read /sys/kernel/config/tsm/report/x/outblob: "),
              std::string::npos)
        << status;
  }
}

TEST(ReadBoundedTest, ReadsUpToTheBoundAndNoFurther) {
  lunal::testing::TempDir dir;
  lunal::testing::WriteFile(dir / "blob", std::string(100, 'x'));
  auto exact = ReadBounded(dir / "blob", 100, "p", "blob");
  ASSERT_TRUE(exact.ok()) << exact.error();
  EXPECT_EQ(exact->size(), 100u);
  auto over = ReadBounded(dir / "blob", 99, "p", "blob");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(over.error().reason(), "p.blob_too_large");
  // Larger than one read chunk.
  lunal::testing::WriteFile(dir / "big", std::string(40000, 'y'));
  auto big = ReadBounded(dir / "big", 40000, "p", "big");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 40000u);
}

TEST(ReadBoundedTest, MissingFiles) {
  lunal::testing::TempDir dir;
  auto maybe = ReadBoundedIfExists(dir / "none", 10, "p", "aux");
  ASSERT_TRUE(maybe.ok());
  EXPECT_FALSE(maybe->has_value());
  auto missing = ReadBounded(dir / "none", 10, "p", "aux");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason(), "p.io");
  EXPECT_NE(missing.error().message().find((dir / "none").string()), std::string::npos);
}

TEST(ReadAttributeTest, DropsOneTrailingNewline) {
  lunal::testing::TempDir dir;
  lunal::testing::WriteFile(dir / "provider", "tdx_guest\n");
  EXPECT_EQ(ReadAttribute(dir / "provider", "p", "provider").value(), "tdx_guest");
  lunal::testing::WriteFile(dir / "provider", "sev_guest");
  EXPECT_EQ(ReadAttribute(dir / "provider", "p", "provider").value(), "sev_guest");
}

TEST(WriteExistingTest, WritesButNeverCreates) {
  lunal::testing::TempDir dir;
  Bytes data = {1, 2, 3};
  Status missing = WriteExisting(dir / "inblob", data, "p", "inblob");
  EXPECT_EQ(missing.reason(), "p.io");
  EXPECT_FALSE(fs::exists(dir / "inblob"));
  lunal::testing::WriteFile(dir / "inblob", "");
  ASSERT_TRUE(WriteExisting(dir / "inblob", data, "p", "inblob").ok());
  EXPECT_EQ(lunal::testing::ReadFileBytes(dir / "inblob"), data);
}

}  // namespace
}  // namespace lunal::attest::internal
